#!/usr/bin/env bash
# The two-minute tour: installs what is missing, builds, generates the bundled demo
# image and a tampered container export (no daemon needed), and audits one against
# the other.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/deps.sh
export CDRIFT_BUILD_DIR=${CDRIFT_BUILD_DIR:-$root/build}
scripts/build.sh
cdrift=$CDRIFT_BUILD_DIR/cdrift
demo=$CDRIFT_BUILD_DIR/demo
mkdir -p "$demo"
python3 fixtures/gen.py "$demo/fixtures" >/dev/null

image=$demo/fixtures/oci-archive.tar
container=$demo/fixtures/containers/export-tampered.tar
color=never
[ -t 1 ] && color=always

cat <<MSG

== The demo image (an OCI archive) and a container made from it, after someone
== copied a binary in, edited /etc/passwd in a shell, set a setuid bit, planted an
== SSH key, a private key and an ld.so.preload, and deleted a log.

\$ cdrift audit --image ${image#$root/} --container ${container#$root/}
MSG
rc=0
"$cdrift" audit --image "$image" --container "$container" --color "$color" \
  --output-json "$demo/report.json" --output-sarif "$demo/report.sarif" || rc=$?
echo
echo "(exit status $rc: 1 means drift at or above --fail-on high)"

cat <<MSG

== The same audit as JSON for a security team (summary of $demo/report.json):
MSG
python3 - "$demo/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"schema_version": r["schema_version"], "summary": r["summary"],
                  "first_finding": {k: r["findings"][0][k] for k in
                                    ("path", "change", "severity", "rule", "origin")}},
                 indent=2))
PY
cat <<MSG

== SARIF 2.1.0 for code scanning was written to ${demo#$root/}/report.sarif
== (upload it with github/codeql-action/upload-sarif; see docs/ci.md).
== An untouched container, for contrast:

\$ cdrift audit --image ${image#$root/} --container .../export-docker-clean.tar --quiet
MSG
"$cdrift" audit --image "$image" --container "$demo/fixtures/containers/export-docker-clean.tar" --quiet --color "$color"
