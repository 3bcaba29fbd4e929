#!/usr/bin/env bash
# Benchmark of a cold and a cached audit of the shared corpus against the
# machine's limit and the best pipeline of existing tools, interleaved in one run
# (these machines drift 30-60 % over minutes, so only same-run ratios count).
#   bench/run.sh [ROUNDS]        default 5 rounds; CDRIFT_BENCH_DIR as make-corpus.sh
# Prints medians, ratios, peak RSS, and checks that the planted changes are found.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
W=${CDRIFT_BENCH_DIR:-/tmp/cdrift-bench}
shared=${CDRIFT_SHARED_BENCH:-$root/../shared/bench}
[ -d "$shared" ] || { echo "bench: $shared not found (set CDRIFT_SHARED_BENCH)" >&2; exit 2; }
export CDRIFT_BENCH_DIR=$W

if [ ! -f "$W/export.tar" ] || [ ! -d "$W/oci" ]; then
  echo "== building the corpus (one time, a few minutes)"
  bash "$shared/make-corpus.sh" >"${TMPDIR:-/tmp}/cdrift-corpus.log" 2>&1
fi
command -v igzip >/dev/null && command -v bsdtar >/dev/null && [ -x /usr/bin/time ] ||
  { "$root/scripts/deps.sh"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq isal libarchive-tools time >/dev/null; }
export CDRIFT_BUILD_DIR=${CDRIFT_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cdrift=$CDRIFT_BUILD_DIR/cdrift

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache
image=$W/oci
export_tar=$W/export.tar

# "Cached": the image's manifest saved once (what a CI fleet stores beside each
# image; runtime images use the digest-keyed cache the same way).
saved=$tmp/image.jsonl
cold() { "$cdrift" audit --no-cache --image "$image" --container "$export_tar" --format json --fail-on never >"$tmp/cold.json"; }
# The same cold audit with every digest through OpenSSL alone: what pairing each
# layer's diff_id with its files' digests (docs/performance.md) is worth, same run.
cold_openssl() { CDRIFT_SHA256=openssl "$cdrift" audit --no-cache --image "$image" --container "$export_tar" --format json --fail-on never >"$tmp/cold-openssl.json"; }
cached() { "$cdrift" audit --image "$saved" --container "$export_tar" --format json --fail-on never >"$tmp/cached.json"; }
limit() { bash "$shared/limit.sh"; }
peer() { bash "$shared/peer-pipeline.sh" >"$tmp/peer.txt" 2>/dev/null; }
hash_export() { openssl dgst -sha256 "$export_tar" >/dev/null; }

# Save the image manifest and warm the page cache once; nothing here is timed.
"$cdrift" manifest "$image" -o "$saved"
cached; limit; hash_export

names=(limit peer cold cached hash_export cold_openssl)
declare -A times
for ((r = 1; r <= rounds; r++)); do
  for n in "${names[@]}"; do
    s=$(date +%s.%N); $n; e=$(date +%s.%N)
    times[$n]+="$(echo "$e - $s" | bc) "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A med
for n in "${names[@]}"; do med[$n]=$(echo "${times[$n]}" | median); done

rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }
rss_cold=$(rss "$cdrift" audit --no-cache --image "$image" --container "$export_tar" --format json --fail-on never)
rss_cached=$(rss "$cdrift" audit --image "$saved" --container "$export_tar" --format json --fail-on never)

entries=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["summary"]["entries_image"], r["summary"]["entries_container"])' "$tmp/cold.json")

ratio() { echo "scale=2; $1 / $2" | bc; }
# Round by round, peer over cold: how much the headline ratio moves within the run.
read -r -a peer_t <<<"${times[peer]}"
read -r -a cold_t <<<"${times[cold]}"
spread=$(for ((i = 0; i < ${#cold_t[@]}; i++)); do ratio "${peer_t[i]}" "${cold_t[i]}"; done | sort -g |
  awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s to %s", lo, hi}')
cat <<OUT
== cdrift benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $rounds rounds, medians
corpus: $W (image and export entries: $entries)
limit.sh (igzip + sha256 of layers, sha256 of export):  ${med[limit]} s
peer-pipeline.sh (bsdtar mtree x3 + diff):               ${med[peer]} s
cdrift audit, cold (--no-cache):                        ${med[cold]} s   = $(ratio "${med[cold]}" "${med[limit]}") x limit, $(ratio "${med[peer]}" "${med[cold]}") x faster than peer
  peer / cold, round by round:                          $spread
  cold, all hashing in OpenSSL (CDRIFT_SHA256=openssl): ${med[cold_openssl]} s   = $(ratio "${med[peer]}" "${med[cold_openssl]}") x faster than peer
cdrift audit, image manifest cached:                    ${med[cached]} s   = $(ratio "${med[cached]}" "${med[hash_export]}") x openssl sha256 of the export (${med[hash_export]} s)
peak RSS: cold $((rss_cold / 1024)) MB, cached $((rss_cached / 1024)) MB
goals: cold <= 1.25 x limit, >= 2 x faster than peer; cached <= 1.25 x sha256 of export; RSS < 100 MB
OUT

"$CDRIFT_BUILD_DIR/cdrift_sha_bench" 256
cmp -s "$tmp/cold.json" "$tmp/cold-openssl.json" || { echo "bench: reports differ between hashing engines" >&2; exit 1; }

# The audit must still find what make-corpus.sh planted.
python3 - "$tmp/cold.json" "$tmp/cached.json" <<'PY'
import json, sys
planted = ["/etc/passwd", "/etc/shadow", "/etc/group", "/usr/local/bin/kworkerd", "/usr/local/lib/libhook.so",
           "/etc/ld.so.preload", "/usr/bin/find", "/usr/bin/python3.11", "/usr/lib/python3.11/os.py",
           "/usr/bin/ls", "/usr/bin/python3", "/etc/issue.net", "/usr/lib/python3.11/ssl.py", "/etc/profile",
           "/etc/profile.d", "/etc/cron.d/persist", "/usr/local/bin/sh2", "/var/log/app.log",
           "/root/.bash_history", "/tmp/x.sh"]
ok = True
for f in sys.argv[1:]:
    r = json.load(open(f))
    found = {x["path"] for x in r["findings"]}
    missing = [p for p in planted if p not in found]
    libz = [p for p in found if p.startswith("/usr/lib/x86_64-linux-gnu/libz.so.1.")]
    print(f"{f.rsplit('/',1)[1]}: {len(r['findings'])} findings, planted changes found: "
          f"{len(planted) - len(missing) + (1 if libz else 0)}/{len(planted) + 1}"
          + (f", MISSING {missing}" if missing else "") + ("" if libz else ", MISSING libz"))
    ok = ok and not missing and bool(libz)
sys.exit(0 if ok else 1)
PY
