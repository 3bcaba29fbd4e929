#!/usr/bin/env bash
# A cold audit of a containerd container (image read in place from the content store)
# against the docker path (docker save + docker export) on the shared bench image,
# interleaved in one run (these machines drift 30-60 % over minutes).
#   bench/containerd.sh [ROUNDS]        default 5; CDRIFT_BENCH_DIR as make-corpus.sh
# Starts a private containerd and dockerd (scripts/runtime-env.sh, state in
# $CDRIFT_RT_DIR, default /tmp/cdrift-bench-rt), loads the image into both, runs one
# container of it in each, and times `cdrift audit --no-cache` on each, plus the same
# with the image manifest cached. Prints medians, peak RSS and the findings count.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
W=${CDRIFT_BENCH_DIR:-/tmp/cdrift-bench}
shared=${CDRIFT_SHARED_BENCH:-$root/../shared/bench}
export CDRIFT_RT_DIR=${CDRIFT_RT_DIR:-/tmp/cdrift-bench-rt}
[ -f "$W/oci-archive.tar" ] || CDRIFT_BENCH_DIR=$W bash "$shared/make-corpus.sh" >"${TMPDIR:-/tmp}/cdrift-corpus.log" 2>&1
cdrift=${CDRIFT_BIN:-$root/build/cdrift}
tmp=$(mktemp -d)
cleanup() { "$root/scripts/runtime-env.sh" stop >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
eval "$("$root/scripts/runtime-env.sh" start docker)"
eval "$("$root/scripts/runtime-env.sh" start containerd)"
export DOCKER_HOST CONTAINERD_ADDRESS XDG_CACHE_HOME=$tmp/cache

# docker 20.10 loads docker-archive only: the same image, its layers uncompressed.
python3 - "$W/oci" "$tmp/docker-archive.tar" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
oci, out = sys.argv[1], sys.argv[2]
blob = lambda d: os.path.join(oci, "blobs", "sha256", d.split(":")[1])
index = json.load(open(os.path.join(oci, "index.json")))
man = json.load(open(blob(index["manifests"][0]["digest"])))
cfg_digest = man["config"]["digest"]
with tarfile.open(out, "w") as t:
    def put(name, data):
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    layers = []
    for l in man["layers"]:
        data = open(blob(l["digest"]), "rb").read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        name = hashlib.sha256(data).hexdigest() + "/layer.tar"
        put(name, data); layers.append(name)
    put(cfg_digest.split(":")[1] + ".json", open(blob(cfg_digest), "rb").read())
    put("manifest.json", json.dumps([{"Config": cfg_digest.split(":")[1] + ".json",
                                      "RepoTags": ["bench:1"], "Layers": layers}]).encode())
PY
docker load -i "$tmp/docker-archive.tar" >/dev/null
docker rm -f bench >/dev/null 2>&1 || true
docker run -d --name bench --network none bench:1 sleep 100000 >/dev/null
ctr -n k8s.io images import --base-name docker.io/library/bench "$W/oci-archive.tar" >/dev/null
ref=$(ctr -n k8s.io images ls -q | grep '^docker.io/library/bench' | head -1)
ctr -n k8s.io run -d --runc-root "$CDRIFT_RT_DIR/containerd/state/runc" \
  --label io.kubernetes.pod.name=bench-0 --label io.kubernetes.pod.namespace=bench \
  --label io.kubernetes.container.name=app "$ref" bench sleep 100000

cold_ctd() { "$cdrift" audit --no-cache --container containerd:k8s.io/bench --format json --fail-on never >"$tmp/ctd.json"; }
cold_docker() { "$cdrift" audit --no-cache --container docker:bench --format json --fail-on never >"$tmp/docker.json"; }
cached_ctd() { "$cdrift" audit --container containerd:k8s.io/bench --format json --fail-on never >/dev/null; }
cached_docker() { "$cdrift" audit --container docker:bench --format json --fail-on never >/dev/null; }
cached_ctd; cached_docker # fill the cache, warm the page cache

names=(cold_ctd cold_docker cached_ctd cached_docker)
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
rss_ctd=$(rss "$cdrift" audit --no-cache --container containerd:k8s.io/bench --format json --fail-on never)
rss_docker=$(rss "$cdrift" audit --no-cache --container docker:bench --format json --fail-on never)
facts() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%d findings, entries %d/%d, layers verified %s" % (r["summary"]["findings"], r["summary"]["entries_image"], r["summary"]["entries_container"], all(l["verified"] for l in r["image"]["layers"])))' "$1"; }
ratio() { echo "scale=2; $1 / $2" | bc; }
cat <<OUT
== cdrift containerd benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $rounds rounds, medians
cold, containerd (content store in place + task rootfs):  ${med[cold_ctd]} s   ($(facts "$tmp/ctd.json"))
cold, docker (docker save + docker export):               ${med[cold_docker]} s   ($(facts "$tmp/docker.json"))
  docker / containerd:                                    $(ratio "${med[cold_docker]}" "${med[cold_ctd]}") x
cached image manifest, containerd:                        ${med[cached_ctd]} s
cached image manifest, docker:                            ${med[cached_docker]} s
peak RSS, cold: containerd $((rss_ctd / 1024)) MB, docker $((rss_docker / 1024)) MB
OUT
