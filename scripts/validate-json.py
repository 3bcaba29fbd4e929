#!/usr/bin/env python3
"""Validates cdrift JSON reports against docs/report.schema.json.

Usage: scripts/validate-json.py [--schema SCHEMA] FILE...
Exit: 0 all valid, 1 a file is invalid, 2 usage or schema problem.
Needs python3-jsonschema (Debian) or `pip install jsonschema`.
"""
import argparse
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("validate-json: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(2)


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default=os.path.join(here, "..", "docs", "report.schema.json"))
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    try:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print(f"validate-json: bad schema {args.schema}: {e}", file=sys.stderr)
        return 2
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)

    status = 0
    for path in args.files:
        try:
            # The report must be strict UTF-8 JSON: a lossy reader would hide bad bytes.
            with open(path, "rb") as f:
                doc = json.loads(f.read().decode("utf-8"))
        except (OSError, ValueError) as e:
            print(f"{path}: not valid UTF-8 JSON: {e}", file=sys.stderr)
            status = 1
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:20]:
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            print(f"{path}: {where}: {e.message[:300]}", file=sys.stderr)
        if errors:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
