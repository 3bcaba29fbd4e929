#!/bin/sh
# Records every report cdrift writes over the fixtures (and the bench corpus when
# present) into a directory, or checks a build against such a recording byte for
# byte: for refactorings that must not change behaviour.
#
#   scripts/compare-reports.sh record CDRIFT FIXTURES OUTDIR
#   scripts/compare-reports.sh check  CDRIFT FIXTURES REFDIR
#
# FIXTURES is a directory written by fixtures/gen.py. BENCH (default
# /tmp/cdrift-bench) is used when it holds oci/ and export.tar.
set -eu
mode=$1 cdrift=$(realpath "$2") fx=$(realpath "$3") dir=$4
bench=${BENCH:-/tmp/cdrift-bench}
case $mode in
record) out=$dir ;;
check) out=$(mktemp -d) ;;
*) echo "usage: $0 record|check CDRIFT FIXTURES DIR" >&2; exit 2 ;;
esac
mkdir -p "$out"
cd "$fx"

# One run: stdout, stderr and exit status, each in its own file.
run() {
  out_name=$1; shift
  set +e
  "$cdrift" "$@" >"$out/$out_name.out" 2>"$out/$out_name.err"
  echo $? >"$out/$out_name.rc"
  set -e
}

python3 - "$fx/cases.json" >"$out/.audits" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for a in d["audits"]:
    print(a["name"], a["image"], a["container"])
for b in d["broken"]:
    print("broken:" + b["name"], b["path"], "-")
for i in d["images"]:
    print("image:" + i["name"], i["path"], i["platform"] or "-")
PY
while read -r name img ctr; do
  case $name in
  broken:*)
    run "${name#broken:}.manifest" manifest "$img" ;;
  image:*)
    n=${name#image:}
    if [ "$ctr" = - ]; then set --; else set -- --platform "$ctr"; fi
    run "$n.manifest" manifest "$img" "$@"
    run "$n.mtree" manifest "$img" --format mtree "$@" ;;
  *)
    run "$name.json" audit --image "$img" --container "$ctr" --format json
    run "$name.sarif" audit --image "$img" --container "$ctr" --format sarif
    run "$name.text" audit --image "$img" --container "$ctr" --color never ;;
  esac
done <"$out/.audits"
rm "$out/.audits"

# Sources read from stdin: a regular file (read in place) and a pipe (spooled).
set +e
"$cdrift" manifest - <oci-archive.tar >"$out/stdin-file.out" 2>"$out/stdin-file.err"
echo $? >"$out/stdin-file.rc"
cat docker-archive.tar | "$cdrift" manifest - >"$out/stdin-pipe.out" 2>"$out/stdin-pipe.err"
echo $? >"$out/stdin-pipe.rc"
set -e
run diff-oci-docker diff oci docker-archive.tar
run diff-oci-rootfs diff --format json oci rootfs.tar.gz
run diff-oci-tampered diff oci containers/export-tampered.tar --show-touched
run diff-oci-hostile diff --format json hostile-oci containers/hostile-export.tar
run diff-oci-hostile-text diff --color never hostile-oci containers/hostile-export.tar

if [ -d "$bench/oci" ] && [ -f "$bench/export.tar" ]; then
  run bench.json audit --image "$bench/oci" --container "$bench/export.tar" --format json
  run bench.text audit --image "$bench/oci" --container "$bench/export.tar" --color never
fi

[ "$mode" = record ] && { echo "recorded $(ls "$out" | wc -l) files in $out"; exit 0; }
bad=0
for f in "$dir"/*; do
  b=$(basename "$f")
  if ! cmp -s "$f" "$out/$b"; then echo "DIFFERS: $b"; bad=$((bad + 1)); fi
done
n=$(ls "$dir" | wc -l)
[ "$(ls "$out" | wc -l)" = "$n" ] || { echo "file count differs"; bad=$((bad + 1)); }
rm -rf "$out"
echo "$n files compared, $bad differ"
[ "$bad" = 0 ]
