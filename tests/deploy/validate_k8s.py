#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Validates Kubernetes manifests offline against the API's published OpenAPI v2 document
(tests/fixtures/kubernetes-openapi, Kubernetes 1.36), the way the API server would decode
them, only stricter about names:

- the kind and apiVersion must be one the document defines (x-kubernetes-group-version-kind);
- every object of the schema rejects a field it does not define (the API server drops unknown
  fields with a warning, or refuses them with fieldValidation=Strict, kubectl's default since
  1.27: a typo such as `readOnlyRootFileSystem` would silently not harden anything);
- types are checked as the API decodes them: int32/int64 ranges, IntOrString (an integer or a
  string), Quantity (a number or a string of Kubernetes' quantity grammar), `byte` (base64);
- `required` members must be present; a namespaced kind must name its namespace (the base
  sets no kustomize `namespace:`, so a missing one would land in `default`).

    validate_k8s.py FILE...     every YAML document in every file; exit 1 on any error
"""
import base64
import binascii
import copy
import json
import os
import re
import sys

import jsonschema
import yaml

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                      "kubernetes-openapi", "swagger-trimmed.json")
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume",
                  "StorageClass", "CustomResourceDefinition", "Node", "PriorityClass"}
# k8s.io/apimachinery/pkg/api/resource: the serialized form of a Quantity.
QUANTITY = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$"


def strict(defs):
    out = copy.deepcopy(defs)
    for name, d in out.items():
        if d.get("type") == "object" and "properties" in d and "additionalProperties" not in d:
            d["additionalProperties"] = False
    out["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["integer", "string"]}
    out["io.k8s.apimachinery.pkg.api.resource.Quantity"] = {
        "anyOf": [{"type": "number"}, {"type": "string", "pattern": QUANTITY}]}
    return out


def format_checker():
    checker = jsonschema.FormatChecker()

    @checker.checks("int32")
    def int32(value):
        return not isinstance(value, int) or -2**31 <= value < 2**31

    @checker.checks("int64")
    def int64(value):
        return not isinstance(value, int) or -2**63 <= value < 2**63

    @checker.checks("byte", raises=(binascii.Error, ValueError))
    def byte(value):
        if isinstance(value, str):
            # The API server's decoder skips newlines (kustomize wraps long values).
            base64.b64decode(value.replace("\n", ""), validate=True)
        return True

    return checker


class Validator:
    def __init__(self, schema_path=SCHEMA):
        with open(schema_path) as f:
            doc = json.load(f)
        self.defs = strict(doc["definitions"])
        self.kinds = {}
        for name, d in doc["definitions"].items():
            for gvk in d.get("x-kubernetes-group-version-kind", []):
                api = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
                self.kinds[(api, gvk["kind"])] = name
        self.checker = format_checker()

    def errors(self, obj):
        """The errors of one document, as 'path: message' strings; [] when valid."""
        if not isinstance(obj, dict):
            return ["<document>: not a mapping"]
        key = (obj.get("apiVersion"), obj.get("kind"))
        name = self.kinds.get(key)
        if name is None:
            return [f"<document>: unknown apiVersion/kind {key[0]}/{key[1]}"]
        schema = {"definitions": self.defs, "$ref": f"#/definitions/{name}"}
        validator = jsonschema.Draft7Validator(schema, format_checker=self.checker)
        out = []
        for e in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
            path = ".".join(str(p) for p in e.absolute_path) or "<root>"
            out.append(f"{path}: {e.message}")
        meta = obj.get("metadata") or {}
        if not meta.get("name"):
            out.append("metadata.name: missing")
        if key[1] not in CLUSTER_SCOPED and not meta.get("namespace"):
            out.append(f"metadata.namespace: missing for the namespaced kind {key[1]}")
        return out


def describe(obj):
    if isinstance(obj, dict):
        return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
    return "<document>"


def validate_files(paths, validator=None):
    """Returns the list of error lines over all documents of all files."""
    validator = validator or Validator()
    out = []
    for path in paths:
        with (sys.stdin if path == "-" else open(path)) as f:
            try:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                out.append(f"{path}: not YAML: {e}")
                continue
        for d in docs:
            out += [f"{path}: {describe(d)}: {e}" for e in validator.errors(d)]
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: validate_k8s.py FILE...")
    errors = validate_files(sys.argv[1:])
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
