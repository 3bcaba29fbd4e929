#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/*_fuzz.cpp) with clang, ASan and UBSan,
# seeds their corpora from the generated fixtures and runs each in turn.
#   scripts/fuzz.sh [SECONDS]       SECONDS in total, split evenly (default 60: a CI smoke)
#   FUZZERS="layer_fuzz rules_fuzz" scripts/fuzz.sh 600   only these
#   FUZZ_JOBS_NICE=19               niceness of the fuzzing processes (default 10)
#   FUZZ_KEEP_GOING=1               keep fuzzing past a crash (libFuzzer -fork=1
#                                   -ignore_crashes=1: still one fuzzing process at a time)
# Exits non-zero when a fuzzer finds a crash, leak, hang or UB; the reproducer's
# path is printed (build-fuzz/artifacts/<fuzzer>/crash-*). Reproduce with
#   build-fuzz/<fuzzer> build-fuzz/artifacts/<fuzzer>/crash-...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
total=${1:-60}
if ! [[ "$total" =~ ^[0-9]+$ ]] || [ "$total" -lt 1 ]; then
  echo "fuzz.sh: SECONDS must be a positive integer" >&2
  exit 2
fi

scripts/deps.sh --fuzz
build=${CDRIFT_FUZZ_BUILD_DIR:-$root/build-fuzz}
nice_level=${FUZZ_JOBS_NICE:-10}

# CDRIFT_FUZZ instruments the library for coverage too (-fsanitize=fuzzer-no-link).
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCDRIFT_FUZZ=ON -DCDRIFT_SANITIZE=ON -DCDRIFT_TESTS=OFF >/dev/null
nice -n "$nice_level" cmake --build "$build" -j2 >/dev/null

all=()
for f in fuzz/*_fuzz.cpp; do all+=("$(basename "$f" .cpp)"); done
read -r -a fuzzers <<<"${FUZZERS:-${all[*]}}"
per=$((total / ${#fuzzers[@]}))
[ "$per" -ge 1 ] || per=1

# --- Seed corpora from the fixtures (regenerated each run; deterministic).
fx="$build/fuzz-fixtures"
python3 fixtures/gen.py "$fx" >/dev/null
corpus="$build/corpus"
seed() { # seed NAME FILE...: copies files under a content-addressed name (no duplicates)
  local name=$1
  shift
  mkdir -p "$corpus/$name"
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le "$max_len" ] || continue
    cp "$f" "$corpus/$name/seed-$(sha256sum "$f" | cut -c1-16)"
  done
}
max_len=262144
# Layers: every image blob that is a tar stream (plain, gzip, zstd), plus rootfs tars
# and exports; small ones only.
mapfile -t layer_blobs < <(find "$fx"/oci "$fx"/oci-zstd "$fx"/oci-plain "$fx"/hostile-oci "$fx"/broken/dotdot \
  "$fx"/broken/dangling-hardlink -path '*/blobs/sha256/*' -type f -size +1k 2>/dev/null | sort)
seed layer_fuzz "${layer_blobs[@]}" "$fx"/rootfs.tar* "$fx"/containers/*.tar "$fx"/containers/*.tar.gz
# Saved manifests: written by cdrift when a plain build exists, else converted by python.
mkdir -p "$build/seeds"
cdrift_bin=""
for b in "$root/build/cdrift" "$root/build-sanitize/cdrift"; do [ -x "$b" ] && cdrift_bin=$b && break; done
saved=()
for src in rootfs.tar hostile-oci containers/hostile-export.tar containers/export-tampered.tar; do
  out="$build/seeds/$(echo "$src" | tr '/' '_').jsonl"
  if [ -n "$cdrift_bin" ] && "$cdrift_bin" manifest "$fx/$src" -o "$out" 2>/dev/null; then
    saved+=("$out")
  fi
done
if [ ${#saved[@]} -eq 0 ]; then
  out="$build/seeds/expected-demo.jsonl"
  python3 - "$fx/expected/demo.jsonl" "$out" <<'EOF'
import json, sys
lines = open(sys.argv[1], "rb").read().splitlines()
hdr = {"cdrift_manifest": "1", "source": "rootfs.tar", "kind": "rootfs_tar"}
open(sys.argv[2], "wb").write(json.dumps(hdr).encode() + b"\n" + b"\n".join(lines) + b"\n")
EOF
  saved+=("$out")
fi
seed saved_manifest_fuzz "${saved[@]}" "$fx"/expected/*.jsonl
# Image documents: one selector byte (the role, see image_json_fuzz.cpp) + the document.
# The harness writes its own consistent documents; the fixtures add real-world shapes.
mkdir -p "$corpus/image_json_fuzz"
CDRIFT_FUZZ_WRITE_SEEDS="$corpus/image_json_fuzz" "$build/image_json_fuzz" -runs=0 \
  "$corpus/image_json_fuzz" >/dev/null 2>&1 || true
role_seed() { # role_seed ROLE FILE
  [ -f "$2" ] || return 0
  local out
  out="$build/seeds/role$1-$(sha256sum "$2" | cut -c1-16)"
  { printf "\\x$(printf %02x "$1")"; cat "$2"; } >"$out"
  seed image_json_fuzz "$out"
}
for layout in oci oci-multi oci-multi-nested oci-zstd; do
  role_seed 0 "$fx/$layout/index.json"
  for blob in "$fx/$layout"/blobs/sha256/*; do
    [ "$(stat -c %s "$blob")" -le 65536 ] || continue
    head -c1 "$blob" | grep -q '{' || continue
    if grep -q '"manifests"' "$blob"; then role_seed 1 "$blob"
    elif grep -q '"layers"' "$blob"; then role_seed 2 "$blob"
    elif grep -q '"rootfs"' "$blob"; then role_seed 3 "$blob"; role_seed 5 "$blob"
    fi
  done
done
for archive in docker-archive.tar podman-docker-archive.tar; do
  tar -xOf "$fx/$archive" manifest.json >"$build/seeds/$archive.manifest.json" 2>/dev/null &&
    role_seed 4 "$build/seeds/$archive.manifest.json"
done
seed rules_fuzz rules/*.json
# Whole audit: 4-byte little-endian length of the image layer, the layer, the export.
pair() { # pair NAME IMAGE_LAYER EXPORT
  local out="$build/seeds/pair-$1"
  python3 - "$2" "$3" "$out" <<'EOF'
import gzip, struct, sys
# Compressed parts keep the pair under -max_len; the harness detects gzip itself.
a, b = (gzip.compress(open(p, "rb").read(), mtime=0) for p in sys.argv[1:3])
open(sys.argv[3], "wb").write(struct.pack("<I", len(a)) + a + b)
EOF
  seed audit_fuzz "$out"
}
hostile_layer=$(find "$fx/hostile-oci/blobs/sha256" -type f -size +1k | head -1)
pair hostile "$hostile_layer" "$fx/containers/hostile-export.tar"
pair rootfs-tampered "$fx/rootfs.tar" "$fx/containers/export-tampered.tar"
pair rootfs-clean "$fx/rootfs.tar" "$fx/containers/export-docker-clean.tar"
pair rootfs-setuid "$fx/rootfs.tar" "$fx/containers/export-setuid.tar"

# --- Run each fuzzer in turn (one process at a time: the machine is shared).

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary=()
for name in "${fuzzers[@]}"; do
  bin="$build/$name"
  art="$build/artifacts/$name"
  mkdir -p "$art" "$corpus/$name"
  len=65536
  case "$name" in
    layer_fuzz | audit_fuzz) len=262144 ;;
    rules_fuzz | image_json_fuzz) len=65536 ;;
  esac
  log="$build/fuzz-$name.log"
  echo "== $name: ${per}s, corpus $(find "$corpus/$name" -type f | wc -l) files"
  mode=()
  [ "${FUZZ_KEEP_GOING:-0}" = 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  before=$(find "$art" -type f | wc -l)
  set +e
  nice -n "$nice_level" "$bin" "${mode[@]}" -max_total_time="$per" -max_len="$len" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$art/" "$corpus/$name" >"$log" 2>&1
  rc=$?
  set -e
  # Fork mode exits 0 after ignored crashes: new artifacts are what count.
  [ "$(find "$art" -type f | wc -l)" -gt "$before" ] && [ "$rc" -eq 0 ] && rc=1
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\)[^0-9].*/\1/p' "$log" | tail -1)
  secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  [ -n "$secs" ] || { [ -n "$execs" ] && secs=$((execs / per)); }
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  line="$name: ${execs:-?} execs in ${per}s (${secs:-?}/s), ${cov:-cov: ?}"
  if [ "$rc" -ne 0 ]; then
    status=1
    found=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | sort -u | tr '\n' ' ')
    line="$line - FAILED (exit $rc): ${found:-see $log}"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 || true
  fi
  summary+=("$line")
  echo "$line"
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
