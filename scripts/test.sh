#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit tests, end-to-end tests
# on generated fixtures, cross-checks against bsdtar and umoci, the rule pack's
# examples, report validation, and (with a runtime) docker/podman integration.
#   scripts/test.sh               everything that this machine supports
#   scripts/test.sh --sanitize    the same under AddressSanitizer + UBSan
#   scripts/test.sh --quick       unit + e2e only (no runtimes, no fuzz smoke)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=normal
for arg in "$@"; do
  case "$arg" in
    --sanitize) mode=sanitize ;;
    --quick) mode=quick ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

scripts/deps.sh --node
if [ "$mode" = sanitize ]; then
  export CDRIFT_BUILD_DIR=${CDRIFT_BUILD_DIR:-$root/build-sanitize}
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  CMAKE_BUILD_TYPE=Debug scripts/build.sh -DCDRIFT_SANITIZE=ON -DCDRIFT_WERROR=ON
else
  export CDRIFT_BUILD_DIR=${CDRIFT_BUILD_DIR:-$root/build}
  scripts/build.sh -DCDRIFT_WERROR=ON
fi
build=$CDRIFT_BUILD_DIR

echo "== rule pack: cdrift rules lint / test"
"$build/cdrift" rules lint
"$build/cdrift" rules test

echo "== unit and end-to-end tests (ctest)"
cd "$build"
ctest --output-on-failure -j2 --timeout 900
