#!/usr/bin/env bash
# Scaling: synthetic images and exports of small files at 1x, 10x and 100x the
# corpus's entry count; time and peak RSS of a cold audit, per entry.
#   bench/scale.sh [BASE]     BASE entries at 1x (default 19000, the corpus's size)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-19000}
export CDRIFT_BUILD_DIR=${CDRIFT_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cdrift=$CDRIFT_BUILD_DIR/cdrift
work=${CDRIFT_SCALE_DIR:-${TMPDIR:-/tmp}/cdrift-scale}
mkdir -p "$work"
printf '%-6s %10s %9s %9s %12s %14s\n' scale entries seconds "RSS MB" "us/entry" "RSS bytes/entry"
ns=(); rss=(); times=()
for mult in 1 10 100; do
  n=$((base * mult))
  dir=$work/$n
  [ -f "$dir/export.tar" ] || python3 "$root/bench/gen_synthetic.py" "$dir" "$n"
  cat "$dir/export.tar" "$dir"/oci/blobs/sha256/* >/dev/null   # warm the page cache
  out=$( { /usr/bin/time -f '%e %M' "$cdrift" audit --no-cache --image "$dir/oci" \
             --container "$dir/export.tar" --quiet --fail-on never >/dev/null; } 2>&1 | tail -1)
  read -r secs rss_kb <<<"$out"
  printf '%-6s %10d %9.2f %9d %12.2f %14d\n' "${mult}x" "$n" "$secs" $((rss_kb / 1024)) \
    "$(echo "$secs * 1000000 / $n" | bc -l)" $((rss_kb * 1024 / n))
  ns+=("$n"); rss+=("$rss_kb"); times+=("$secs")
done
echo "marginal from 10x to 100x: $(echo "(${times[2]} - ${times[1]}) * 1000000 / (${ns[2]} - ${ns[1]})" | bc -l | cut -c1-5) us and $(( (rss[2] - rss[1]) * 1024 / (ns[2] - ns[1]) )) bytes of RSS per entry"
echo "(image and export each hold the entries; per-entry figures cover both sides)"
