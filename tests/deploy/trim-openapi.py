#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Trims Kubernetes' OpenAPI v2 document (api/openapi-spec/swagger.json, 4 MB) to what
nodegate's manifests and the kubernetes token source use: the definitions reachable from
the kinds below, and the paths of Secrets in a namespace. Descriptions are dropped (they
are most of the bytes and no check reads them); everything else is kept byte for byte
as parsed, so the trimmed file validates exactly what the full one would.

    tests/deploy/trim-openapi.py swagger.json > tests/fixtures/kubernetes-openapi/swagger-trimmed.json
"""
import json
import sys

# The root definitions: every kind deploy/kubernetes renders, plus Status (the API's error
# answers) and the Secret paths' parameters for the token source's stand-in API server.
ROOTS = [
    "io.k8s.api.core.v1.Namespace",
    "io.k8s.api.core.v1.ServiceAccount",
    "io.k8s.api.core.v1.Secret",
    "io.k8s.api.core.v1.ConfigMap",
    "io.k8s.api.core.v1.Service",
    "io.k8s.api.rbac.v1.Role",
    "io.k8s.api.rbac.v1.RoleBinding",
    "io.k8s.api.apps.v1.Deployment",
    "io.k8s.api.policy.v1.PodDisruptionBudget",
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    "io.k8s.api.networking.v1.NetworkPolicy",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
]
PATHS = [
    "/api/v1/namespaces/{namespace}/secrets",
    "/api/v1/namespaces/{namespace}/secrets/{name}",
]


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node, out):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            out.add(ref[len("#/definitions/"):])
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def main():
    doc = json.load(open(sys.argv[1]))
    paths = {p: strip(doc["paths"][p]) for p in PATHS}
    params = set()
    for item in paths.values():
        for op in item.values():
            for prm in op.get("parameters", []) if isinstance(op, dict) else op:
                if "$ref" in prm:
                    params.add(prm["$ref"].rsplit("/", 1)[1])
    from_paths = set()
    refs(paths, from_paths)
    wanted, todo = set(), ROOTS + sorted(from_paths)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        found = set()
        refs(doc["definitions"][name], found)
        todo += sorted(found - wanted)
    out = {
        "swagger": doc["swagger"],
        "info": doc["info"],
        "paths": paths,
        "parameters": {p: strip(doc["parameters"][p]) for p in sorted(params)},
        "definitions": {k: strip(doc["definitions"][k]) for k in sorted(wanted)},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
