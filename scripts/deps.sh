#!/usr/bin/env bash
# Installs what cdrift needs to build and test, from Debian packages only.
# Idempotent and quiet when everything is already there.
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh --runtime  also docker.io, podman, containerd and runc (integration tests)
#   scripts/deps.sh --format   also clang-format (the format check)
set -euo pipefail

packages=(
  g++ cmake make pkg-config git
  libarchive-dev libssl-dev nlohmann-json3-dev libcli11-dev doctest-dev
  libisal-dev libzstd-dev
  python3 python3-jsonschema python3-yaml zstd libarchive-tools umoci groff-base man-db zsh
)
for arg in "$@"; do
  case "$arg" in
    --runtime) packages+=(docker.io podman containerd runc uidmap iproute2 debootstrap) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev ninja-build) ;;
    --node) packages+=(nodejs npm) ;;
    --format) packages+=(clang-format) ;;
    *) echo "deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A node/npm that did not come from Debian (e.g. preinstalled in /usr/local) is fine.
if [[ " ${missing[*]} " == *" nodejs "* ]] && command -v node >/dev/null; then
  missing=("${missing[@]/nodejs}")
fi
if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null; then
  missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
  exit 2
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
