#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Renders a kustomization the way `kubectl kustomize` does, for the subset deploy/kubernetes
uses, so `make check-deploy` needs no kustomize binary: Debian 12 packages none (its
kubernetes-client is kubectl 1.20, whose kustomize v2 predates `labels`, `replicas` and
inline `patches`). What it implements:

- resources: files (multi-document YAML) and directories holding a kustomization.yaml;
- labels (pairs; includeSelectors/includeTemplates are refused, unused here);
- images (newName, newTag, digest) on containers and initContainers;
- replicas (Deployment, StatefulSet, ReplicaSet);
- configMapGenerator / secretGenerator (files, literals, type, namespace, options
  disableNameSuffixHash) with kustomize's content hash in the name (api/hasher: sha256 of
  the JSON of kind, data and type, first 10 hex digits with 0,1,3,a,e mapped to
  g,h,k,m,t), and the references of workloads to them renamed;
- patches: inline JSON 6902 operations (add, replace, remove) on a target.

Anything else in a kustomization is an error, never silently ignored. When `kubectl
kustomize` is installed, tests/deploy/check-deploy.py compares both renders.

    kustomize-lite.py DIR      prints the rendered documents, YAML, separated by ---
"""
import base64
import hashlib
import json
import os
import sys

import yaml

KNOWN = {"apiVersion", "kind", "resources", "labels", "images", "replicas",
         "configMapGenerator", "secretGenerator", "patches", "generatorOptions"}


class RenderError(Exception):
    pass


def kustomize_hash(obj):
    """kustomize's api/hasher.Hash for a ConfigMap or a Secret. Its "name" is always empty:
    the hasher looks the name up as yaml.Lookup("metadata/name"), one field of that literal
    name, which no object has (so two generators differing only by name hash alike)."""
    m = {"kind": obj["kind"], "name": "", "data": obj.get("data", "")}
    if obj["kind"] == "Secret":
        m["type"] = obj.get("type", "Opaque")
    elif obj.get("binaryData"):
        m["binaryData"] = obj["binaryData"]
    text = json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # Go's encoding/json escapes these three.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def secret_value(raw):
    """kustomize's encodeBase64: lines of 70 characters, each ending in a newline, once the
    value is 70 characters or more (the API server's decoder skips the newlines)."""
    enc = base64.b64encode(raw).decode()
    if len(enc) < 70:
        return enc
    return "".join(enc[i:i + 70] + "\n" for i in range(0, len(enc), 70))


def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def generate(entry, kind, base_dir, options):
    name = entry["name"]
    data, binary = {}, {}
    for spec in entry.get("files", []):
        key, _, rel = spec.partition("=") if "=" in spec else (os.path.basename(spec), "", spec)
        with open(os.path.join(base_dir, rel), "rb") as f:
            raw = f.read()
        if kind == "Secret":
            data[key] = secret_value(raw)
        else:
            try:
                data[key] = raw.decode("utf-8")
            except UnicodeDecodeError:
                binary[key] = base64.b64encode(raw).decode()
    for lit in entry.get("literals", []):
        key, _, value = lit.partition("=")
        data[key] = secret_value(value.encode()) if kind == "Secret" else value
    for k in entry:
        if k not in ("name", "namespace", "files", "literals", "type", "options"):
            raise RenderError(f"{kind} generator {name}: unsupported field {k}")
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    if entry.get("namespace"):
        obj["metadata"]["namespace"] = entry["namespace"]
    if data:
        obj["data"] = data
    if binary:
        obj["binaryData"] = binary
    if kind == "Secret":
        obj["type"] = entry.get("type", "Opaque")
    opts = dict(options or {})
    opts.update(entry.get("options") or {})
    if not opts.get("disableNameSuffixHash"):
        obj["metadata"]["name"] = f"{name}-{kustomize_hash(obj)}"
    return obj


def pointer_parts(path):
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def json_patch(obj, ops):
    for op in ops:
        parts = pointer_parts(op["path"])
        parent = obj
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        kind = op["op"]
        if isinstance(parent, list):
            idx = len(parent) if last == "-" else int(last)
            if kind == "add":
                parent.insert(idx, op["value"])
            elif kind == "replace":
                parent[idx] = op["value"]
            elif kind == "remove":
                del parent[idx]
            else:
                raise RenderError(f"patch op {kind} not supported")
        else:
            if kind in ("replace", "remove") and last not in parent:
                raise RenderError(f"patch {kind} {op['path']}: no such member")
            if kind in ("add", "replace"):
                parent[last] = op["value"]
            elif kind == "remove":
                del parent[last]
            else:
                raise RenderError(f"patch op {kind} not supported")


def matches(obj, target):
    api = obj.get("apiVersion", "")
    group, _, version = api.rpartition("/")
    checks = {"kind": obj.get("kind"), "name": obj["metadata"].get("name"),
              "namespace": obj["metadata"].get("namespace"), "group": group, "version": version}
    for k, v in target.items():
        if k not in checks:
            raise RenderError(f"patch target field {k} not supported")
        if checks[k] != v:
            return False
    return True


def pod_specs(obj):
    spec = obj.get("spec", {})
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        yield spec.get("template", {}).get("spec", {})
    elif obj["kind"] == "CronJob":
        yield spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
    elif obj["kind"] == "Pod":
        yield spec


def rename_refs(objs, renames):
    """renames: {(kind, namespace, old): new}, as kustomize's nameReference does for
    generated ConfigMaps and Secrets referenced by workloads in the same namespace."""
    for obj in objs:
        ns = obj["metadata"].get("namespace")
        for ps in pod_specs(obj):
            def ren(kind, holder, field):
                key = (kind, ns, holder.get(field))
                if holder.get(field) is not None and key in renames:
                    holder[field] = renames[key]
            for vol in ps.get("volumes", []):
                if "configMap" in vol:
                    ren("ConfigMap", vol["configMap"], "name")
                if "secret" in vol:
                    ren("Secret", vol["secret"], "secretName")
                for src in vol.get("projected", {}).get("sources", []):
                    if "configMap" in src:
                        ren("ConfigMap", src["configMap"], "name")
                    if "secret" in src:
                        ren("Secret", src["secret"], "name")
            for c in ps.get("containers", []) + ps.get("initContainers", []):
                for env in c.get("env", []):
                    vf = env.get("valueFrom", {})
                    if "configMapKeyRef" in vf:
                        ren("ConfigMap", vf["configMapKeyRef"], "name")
                    if "secretKeyRef" in vf:
                        ren("Secret", vf["secretKeyRef"], "name")
                for ef in c.get("envFrom", []):
                    if "configMapRef" in ef:
                        ren("ConfigMap", ef["configMapRef"], "name")
                    if "secretRef" in ef:
                        ren("Secret", ef["secretRef"], "name")
            for ips in ps.get("imagePullSecrets", []):
                ren("Secret", ips, "name")


def set_image(container, images):
    image = container.get("image", "")
    if "@" in image:
        name = image.split("@", 1)[0]
    else:
        slash = image.rfind("/")
        colon = image.rfind(":")
        name = image[:colon] if colon > slash else image
    for img in images:
        if img["name"] != name:
            continue
        new = img.get("newName", name)
        if "digest" in img:
            container["image"] = f"{new}@{img['digest']}"
        elif "newTag" in img:
            container["image"] = f"{new}:{img['newTag']}"
        else:
            container["image"] = new + image[len(name):]


def render(directory):
    path = os.path.join(directory, "kustomization.yaml")
    with open(path) as f:
        k = yaml.safe_load(f)
    unknown = set(k) - KNOWN
    if unknown:
        raise RenderError(f"{path}: unsupported fields {sorted(unknown)}")
    objs = []
    for res in k.get("resources", []):
        full = os.path.join(directory, res)
        objs += render(full) if os.path.isdir(full) else load_docs(full)

    for entry in k.get("labels", []):
        if entry.get("includeSelectors") or entry.get("includeTemplates"):
            raise RenderError(f"{path}: labels with selectors or templates not supported")
        for obj in objs:
            obj["metadata"].setdefault("labels", {}).update(entry["pairs"])

    renames = {}
    options = k.get("generatorOptions")
    for field, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
        for entry in k.get(field, []):
            obj = generate(entry, kind, directory, options)
            renames[(kind, entry.get("namespace"), entry["name"])] = obj["metadata"]["name"]
            objs.append(obj)
    rename_refs(objs, renames)

    for img_obj in objs:
        for ps in pod_specs(img_obj):
            for c in ps.get("containers", []) + ps.get("initContainers", []):
                set_image(c, k.get("images", []))

    for rep in k.get("replicas", []):
        hit = [o for o in objs if o["metadata"]["name"] == rep["name"]
               and o["kind"] in ("Deployment", "StatefulSet", "ReplicaSet")]
        if not hit:
            raise RenderError(f"{path}: replicas for {rep['name']}: no such workload")
        for o in hit:
            o["spec"]["replicas"] = rep["count"]

    for p in k.get("patches", []):
        if set(p) - {"target", "patch"}:
            raise RenderError(f"{path}: only inline JSON 6902 patches with a target are supported")
        ops = yaml.safe_load(p["patch"])
        if not isinstance(ops, list):
            raise RenderError(f"{path}: only JSON 6902 patches (a list of operations) are supported")
        hit = [o for o in objs if matches(o, p["target"])]
        if not hit:
            raise RenderError(f"{path}: patch target {p['target']} matches nothing")
        for o in hit:
            json_patch(o, ops)
    return objs


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: kustomize-lite.py DIR")
    try:
        objs = render(sys.argv[1])
    except (RenderError, OSError, KeyError, yaml.YAMLError) as e:
        sys.exit(f"kustomize-lite: {e}")
    yaml.safe_dump_all(objs, sys.stdout, sort_keys=True, default_flow_style=False)


if __name__ == "__main__":
    main()
