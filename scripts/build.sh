#!/usr/bin/env bash
# Configures and builds cdrift and its tests into build/ (or $CDRIFT_BUILD_DIR).
#   scripts/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CDRIFT_BUILD_DIR:-$root/build}
mkdir -p "$build"
log=$build/build.log
if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "$@" &&
       cmake --build "$build" -j"$(nproc)"; } >"$log" 2>&1; then
  grep -E 'error|Error|warning' "$log" | head -50 >&2 || tail -50 "$log" >&2
  echo "build.sh: build failed (full log: $log)" >&2
  exit 1
fi
grep -E 'warning:' "$log" | head -20 >&2 || true
