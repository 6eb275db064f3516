#!/usr/bin/env python3
"""Extracts the operations callflow's Twilio simulator serves from Twilio's OpenAPI
description of the 2010-04-01 REST API (twilio/twilio-oai, spec/json/twilio_api_v2010.json)
into the small JSON file the simulator validates requests against
(src/sim/twilio_openapi_subset.json).

For each operation it keeps the path, method, operationId, path and query parameters,
the application/x-www-form-urlencoded request body schema and the success response
schema, plus every components.schemas entry those reference (transitively). Prose
(description, examples, summary) and PII annotations are dropped; what validation
needs (type, format, enum, pattern, lengths, bounds, required, $ref) is kept verbatim.

usage: extract-openapi-subset.py SPEC.json OUT.json [--commit SHA] [--repository OWNER/NAME]
                                 [--file PATH]

The output is pretty-printed with sorted keys, so regenerating it from the same spec
gives a byte-identical file.
"""
import argparse
import json
import sys

OPERATIONS = ["CreateCall", "UpdateCall", "FetchCall", "ListCall", "CreateMessage"]
FORM = "application/x-www-form-urlencoded"
# Not referenced by CreateCall (its StatusCallbackEvent is a plain array of strings whose
# allowed values are only given in prose), but it is the spec's own enum of call progress
# events; the simulator checks StatusCallbackEvent values against it.
EXTRA_SCHEMAS = ["call_enum_event"]
# Keys that are prose or examples wherever they appear as schema keywords.
PROSE = {"description", "summary", "example", "examples", "externalDocs", "tags"}
SCHEMA_PREFIX = "#/components/schemas/"


def strip(node, in_properties=False):
    """Drops prose; keeps every validation keyword. Keys of a `properties` map are
    parameter names, not keywords, so they are never dropped."""
    if isinstance(node, list):
        return [strip(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if in_properties:
            out[key] = strip(value)
        elif key in PROSE:
            continue
        elif key == "x-twilio":
            # Only the validation hint survives (MediaUrl items: ignoreFormat).
            if isinstance(value, dict) and "ignoreFormat" in value:
                out[key] = {"ignoreFormat": value["ignoreFormat"]}
        else:
            out[key] = strip(value, in_properties=(key == "properties"))
    return out


def refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX):
            found.add(ref[len(SCHEMA_PREFIX):])
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def extract(spec, wanted):
    operations = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or op.get("operationId") not in wanted:
                continue
            entry = {
                "operationId": op["operationId"],
                "path": path,
                "method": method.upper(),
                "parameters": strip(op.get("parameters", [])),
            }
            body = op.get("requestBody", {}).get("content", {}).get(FORM)
            if body is not None:
                entry["requestBody"] = {"contentType": FORM, "schema": strip(body["schema"])}
            responses = {}
            for status, response in op.get("responses", {}).items():
                if not str(status).startswith("2"):
                    continue
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                responses[str(status)] = {"schema": strip(schema)} if schema else {}
            entry["responses"] = responses
            operations[op["operationId"]] = entry
    missing = sorted(set(wanted) - set(operations))
    if missing:
        sys.exit(f"operations not found in the spec: {', '.join(missing)}")

    all_schemas = spec.get("components", {}).get("schemas", {})
    needed = set(EXTRA_SCHEMAS)
    refs(operations, needed)
    schemas = {}
    # Follow references inside referenced schemas too.
    while needed - set(schemas):
        for name in sorted(needed - set(schemas)):
            if name not in all_schemas:
                sys.exit(f"referenced schema not in the spec: {name}")
            schemas[name] = strip(all_schemas[name])
            refs(schemas[name], needed)
    return operations, schemas


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", help="twilio_api_v2010.json from twilio/twilio-oai")
    parser.add_argument("out", help="where to write the subset")
    parser.add_argument("--commit", default="d50069b4", help="twilio-oai commit the spec is from")
    parser.add_argument("--repository", default="twilio/twilio-oai")
    parser.add_argument("--file", default="spec/json/twilio_api_v2010.json")
    args = parser.parse_args()

    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    operations, schemas = extract(spec, OPERATIONS)
    out = {
        "_source": {
            "repository": args.repository,
            "file": args.file,
            "commit": args.commit,
            "openapi": spec.get("openapi"),
            "license": spec.get("info", {}).get("license", {}).get("name"),
            "generated_by": "scripts/extract-openapi-subset.py",
            "operations": OPERATIONS,
        },
        "operations": operations,
        "components": {"schemas": schemas},
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
