#!/usr/bin/env bash
# Validates SARIF files the way code-scanning services will read them:
#  1. against the SARIF 2.1.0 JSON schema (python3-jsonschema), because the
#     multitool silently skips a log it cannot deserialize (a bad enum value, a
#     missing "message") and still reports success;
#  2. with `sarif-multitool validate` (@microsoft/sarif-multitool from npm,
#     installed once into a cache dir), failing on any error-level result.
# Usage: scripts/validate-sarif.sh [--strict] FILE.sarif...   (--strict: warnings fail too)
# Exit: 0 valid, 1 invalid, 2 usage or tool installation problem.
set -euo pipefail

strict=0
if [[ "${1:-}" == "--strict" ]]; then strict=1; shift; fi
if [[ $# -eq 0 ]]; then
  echo "usage: $0 [--strict] FILE.sarif..." >&2
  exit 2
fi

version="${SARIF_MULTITOOL_VERSION:-5.7.0}"
tools="${CDRIFT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cdrift-tools}"
pkg="$tools/node_modules/@microsoft/sarif-multitool-linux"
case "$(uname -s)" in
  Darwin) pkg="$tools/node_modules/@microsoft/sarif-multitool-darwin" ;;
esac
tool="$pkg/Sarif.Multitool"
schema="$pkg/sarif-2.1.0.json"

if [[ ! -f "$tool" || ! -f "$schema" ]]; then
  command -v npm >/dev/null || { echo "validate-sarif: npm is required to install the SARIF multitool" >&2; exit 2; }
  mkdir -p "$tools"
  echo "validate-sarif: installing @microsoft/sarif-multitool@$version into $tools" >&2
  # Serialise concurrent installs (tests run in parallel).
  (
    flock 9
    if [[ ! -f "$tool" ]]; then
      npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
        "@microsoft/sarif-multitool@$version" >&2
    fi
  ) 9>"$tools/.install.lock"
fi
# npm may skip the package's postinstall (chmod u+x) under install-script policies.
[[ -x "$tool" ]] || chmod u+x "$tool"
[[ -f "$tool" && -f "$schema" ]] || { echo "validate-sarif: multitool not found under $pkg" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

status=0
for file in "$@"; do
  if ! python3 - "$schema" "$file" <<'PY'
import json, sys
import jsonschema
schema_path, path = sys.argv[1], sys.argv[2]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
try:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
except (OSError, ValueError) as e:
    print(f"{path}: not readable JSON: {e}", file=sys.stderr)
    sys.exit(1)
cls = jsonschema.validators.validator_for(schema)
errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors[:20]:
    where = "/".join(str(p) for p in e.absolute_path) or "(root)"
    print(f"{path}: schema: {where}: {e.message[:300]}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
  then
    status=1
    continue
  fi

  out="$work/$(basename "$file").validation.sarif"
  # Exit status of the multitool is 0 even when it finds errors: read its log.
  if ! "$tool" validate "$file" -o "$out" --log ForceOverwrite >"$work/stdout" 2>&1; then
    cat "$work/stdout" >&2
    echo "$file: sarif-multitool failed to run" >&2
    status=1
    continue
  fi
  if ! python3 - "$out" "$file" "$strict" <<'PY'
import json, sys
out, path, strict = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
with open(out, encoding="utf-8-sig") as f:
    log = json.load(f)
bad = 0
for run in log.get("runs", []):
    rules = run.get("tool", {}).get("driver", {}).get("rules", [])
    for r in run.get("results", []):
        rule = rules[r["ruleIndex"]] if "ruleIndex" in r and r["ruleIndex"] < len(rules) else {}
        level = r.get("level") or rule.get("defaultConfiguration", {}).get("level", "warning")
        msg = r.get("message", {})
        text = msg.get("text") or " ".join(str(a) for a in msg.get("arguments", []))
        line = f"{path}: {level} {r.get('ruleId')}: {text[:300]}"
        if level == "error" or (strict and level == "warning"):
            bad += 1
            print(line, file=sys.stderr)
        else:
            print(line)
    for inv in run.get("invocations", []):
        for n in inv.get("toolExecutionNotifications", []) + inv.get("toolConfigurationNotifications", []):
            if n.get("level", "warning") == "error":
                bad += 1
                print(f"{path}: multitool: {n.get('message', {}).get('text', '')}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
  then
    status=1
  fi
done
exit $status
