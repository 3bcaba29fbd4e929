#!/usr/bin/env python3
"""Writes docs/report-jsonl.schema.json from docs/report.schema.json: one JSON Lines
record (finding, summary, skipped, error) reuses the report's own definitions, so the
two formats cannot drift apart (tests/jsonl_test.cpp checks the file is current).

Usage: scripts/gen-jsonl-schema.py [--check]"""
import copy
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
docs = os.path.join(here, "..", "docs")
with open(os.path.join(docs, "report.schema.json"), encoding="utf-8") as f:
    r = json.load(f)
P = r["properties"]
# Everything but the --all envelope (its "$ref": "#" means the report document).
defs = {k: copy.deepcopy(v) for k, v in r["$defs"].items() if k not in ("audit_all",)}
for part in ("tool", "rules", "image", "container", "summary"):
    defs[part] = copy.deepcopy(P[part])
defs["image_identity"] = {
    "description": "The image's source and digests, on every line (the layer list is on the summary line).",
    "type": "object", "additionalProperties": False, "required": ["source"],
    "properties": {k: P["image"]["properties"][k]
                   for k in ("source", "source_b64", "reference", "manifest_digest", "config_digest")}}
head = {"schema_version": {"const": "1"}, "tool": {"$ref": "#/$defs/tool"}, "timestamp": P["timestamp"]}
bare_container = {"type": "object", "additionalProperties": False, "required": ["source"],
                  "properties": {"source": {"type": "string"}, "source_b64": {"$ref": "#/$defs/base64"}}}


def record(kind, description, required, **props):
    p = dict(head, record={"const": kind})
    p.update(props)
    return {"description": description, "type": "object", "additionalProperties": False,
            "required": ["schema_version", "record", "tool"] + required, "properties": p}


finding = r["$defs"]["finding"]
fr = record("finding", "One unsuppressed finding, with the identity of its container (and pod) and image.",
            ["container", "image"] + finding["required"],
            container={"$ref": "#/$defs/container"}, image={"$ref": "#/$defs/image_identity"})
fr["properties"].update(finding["properties"])
defs["finding_record"] = fr
defs["summary_record"] = record(
    "summary", "One per audited container, after its findings: the verified layers, the counts, the warnings.",
    ["container", "image", "rules", "summary", "warnings"],
    container={"$ref": "#/$defs/container"}, image={"$ref": "#/$defs/image"}, rules={"$ref": "#/$defs/rules"},
    summary={"$ref": "#/$defs/summary"}, warnings={"type": "array", "items": {"type": "string"}})
defs["skipped_record"] = record(
    "skipped", "A listed container that --all did not audit: a pod sandbox (pause container), or one that "
    "went away between the listing and its audit.", ["container", "reason"],
    container=bare_container, reason={"type": "string"})
defs["error_record"] = record(
    "error", "An audit that failed (with --all: the whole run).", ["container", "error", "exit_status"],
    container=bare_container, error={"type": "string"}, exit_status={"type": "integer", "minimum": 2, "maximum": 4})
out = {"$schema": r["$schema"], "$id": "https://github.com/cdrift/cdrift/docs/report-jsonl.schema.json",
       "title": "cdrift audit --format jsonl: one record per line",
       "description": "Each line of `cdrift audit --format jsonl` is one JSON object valid against this schema: "
       "'finding' records, then one 'summary' record per container; with --all, a 'skipped' record for each "
       "container left out, and an 'error' record for an audit that failed. Generated from report.schema.json "
       "by scripts/gen-jsonl-schema.py.",
       "oneOf": [{"$ref": "#/$defs/%s_record" % k} for k in ("finding", "summary", "skipped", "error")],
       "$defs": defs}
text = json.dumps(out, indent=2) + "\n"
path = os.path.join(docs, "report-jsonl.schema.json")
if "--check" in sys.argv:
    with open(path, encoding="utf-8") as f:
        sys.exit(0 if f.read() == text else 1)
with open(path, "w", encoding="utf-8") as f:
    f.write(text)
