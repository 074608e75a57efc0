#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The kubernetes token source end to end (issue 15 §1): software nodes (loadgen attest) against
the ASan verifier over HTTPS on 127.0.0.1, whose `--token-source kubernetes:KUBECONFIG` (and
in-cluster) talks to a STAND-IN API server (kube_standin.py: HTTPS, bearer tokens, the Secret
schema of Kubernetes' published OpenAPI document; not a kube-apiserver, of which Debian 12 has
none). Each row asserts what the node got (its token id, or the refusal reason and no sealed
token), what the stand-in holds, and the audit line. Refusal rows also check that the
token-secret the verifier sent appears in no log."""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kube_standin  # noqa: E402
import softworld  # noqa: E402


def kubeconfig(path, server, ca_pem, token=None, token_file=None, extra_cluster="",
               client=None):
    with open(ca_pem, "rb") as f:
        ca_b64 = base64.b64encode(f.read()).decode()
    if client:  # (certificate file, key file): the certificate by path, the key as data
        with open(client[1], "rb") as f:
            key_b64 = base64.b64encode(f.read()).decode()
        user = ("    client-certificate: %s\n    client-key-data: %s\n" %
                (os.path.basename(client[0]), key_b64))
    elif token:
        user = "    token: %s\n" % token
    else:
        user = "    tokenFile: %s\n" % token_file
    with open(path, "w") as f:
        f.write("apiVersion: v1\nkind: Config\n"
                "clusters:\n- name: stand-in\n  cluster:\n    server: %s\n"
                "    certificate-authority-data: %s\n%s"
                "users:\n- name: verifier\n  user:\n%s"
                "contexts:\n- name: ctx\n  context:\n    cluster: stand-in\n    user: verifier\n"
                "current-context: ctx\n" % (server, ca_b64, extra_cluster, user))
    os.chmod(path, 0o600)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    f = softworld.Failures()
    work = tempfile.mkdtemp(prefix="nodegate-kube-")
    started = time.monotonic()
    world = standin = None
    try:
        world = softworld.World(work, os.path.abspath(args.verifier),
                                os.path.abspath(args.loadgen), nodes=10)
        api_ca, api_cert, api_key = softworld.make_ca(work, "cluster")
        good_token = "sa-token-" + os.urandom(8).hex()
        forbidden_token = "sa-token-forbidden"
        # Client certificates for the verifier, from a CA of their own (kube-apiserver's
        # --client-ca-file).
        client_ca, client_cert, client_key = softworld.make_ca(
            work, "client", sans=("DNS:nodegate-verifier",))
        softworld.must(["openssl", "req", "-new", "-key", client_key, "-subj",
                        "/O=nodegate/CN=nodegate-verifier-cert", "-out",
                        os.path.join(work, "client.csr")])
        with open(os.path.join(work, "client.ext"), "w") as out:
            out.write("extendedKeyUsage=clientAuth\n")
        softworld.must(["openssl", "x509", "-req", "-in", os.path.join(work, "client.csr"),
                        "-CA", client_ca, "-CAkey", client_ca.replace("ca.pem", "ca.key"),
                        "-CAcreateserial", "-days", "2", "-extfile",
                        os.path.join(work, "client.ext"), "-out", client_cert])
        standin = kube_standin.StandIn(api_cert, api_key, {
            good_token: {"create", "get"}, forbidden_token: {"get"}}, client_ca=client_ca,
            cert_users={"nodegate-verifier-cert": {"create", "get"}})
        standin.client = (client_cert, client_key)
        url = standin.start()
        rows(f, work, world, standin, url, api_ca, good_token, forbidden_token)
    finally:
        if world:
            world.stop_all(f)
        if standin:
            standin.stop()
        if args.keep:
            print("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        print("%d checks passed, %d failed, %.0f s" % (f.passed, len(f.failed),
                                                     time.monotonic() - started))
        for what in f.failed:
            print("FAILED: " + what)
    return 1 if f.failed else 0


def rows(f, work, world, standin, url, api_ca, good_token, forbidden_token):
    kc = kubeconfig(os.path.join(work, "kubeconfig"), url, api_ca, token=good_token)
    audit = os.path.join(work, "audit.jsonl")

    def last_audit(node):
        lines = [a for a in softworld.audit_lines(audit) if a.get("endpoint") == "attest" and
                 a.get("node", {}).get("hostname") == "soft-node-%d" % node]
        return lines[-1] if lines else {}

    def leaked():
        """Any token-secret the verifier sent, in an audit line or a verifier's stderr."""
        sent = set()
        for raw in standin.bodies:
            try:
                b64 = json.loads(raw)["data"]["token-secret"]
                sent.add(base64.b64decode(b64).decode())
            except (ValueError, KeyError):
                pass
        text = open(audit).read() if os.path.exists(audit) else ""
        for v in world.verifiers:
            text += v.stderr()
        return [s for s in sent if s in text]

    # ---- startup refusals ----
    bad = kubeconfig(os.path.join(work, "kc-insecure"), url, api_ca, token=good_token,
                     extra_cluster="    insecure-skip-tls-verify: true\n")
    r = subprocess.run([world.verifier, "serve", "--listen", "127.0.0.1:0"] +
                       world.serve_args("kubernetes:" + bad, audit), capture_output=True,
                       text=True, timeout=60)
    f.check(r.returncode == 1 and "insecure-skip-tls-verify" in r.stderr,
            "startup: a kubeconfig with insecure-skip-tls-verify is refused", r.stderr)
    r = subprocess.run([world.verifier, "serve", "--listen", "127.0.0.1:0"] +
                       world.serve_args("kubernetes:" + kc, audit,
                                        ["--token-groups", "system:nodes"]),
                       capture_output=True, text=True, timeout=60)
    f.check(r.returncode == 1 and "system:bootstrappers:" in r.stderr,
            "startup: --token-groups outside system:bootstrappers:… is refused (kubeadm's rule)",
            r.stderr)
    env = dict(os.environ)
    for k in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        env.pop(k, None)
    r = subprocess.run([world.verifier, "serve", "--listen", "127.0.0.1:0"] +
                       world.serve_args("kubernetes", audit), capture_output=True, text=True,
                       timeout=60, env=env)
    f.check(r.returncode == 1 and "KUBERNETES_SERVICE_HOST" in r.stderr,
            "startup: in-cluster outside a pod is refused, naming KUBERNETES_SERVICE_HOST",
            r.stderr)

    v1 = world.start("v1", "kubernetes:" + kc, audit, ["--token-timeout", "4"])

    # ---- success ----
    res, run = world.attest(v1.url, first=0)
    got = res[0] if res else {}
    tid = got.get("token_ids", "")
    data = standin.secret_data("bootstrap-token-" + tid) if tid else None
    f.check(got.get("result") == "issued" and data is not None,
            "success: the node gets its token and bootstrap-token-<id> exists", run.stdout +
            run.stderr + v1.stderr())
    if data:
        exp = time.mktime(time.strptime(data.get("expiration", "1970-01-01T00:00:00Z"),
                                        "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        f.check(data.get("token-id") == tid and len(data.get("token-secret", "")) == 16 and
                data.get("usage-bootstrap-authentication") == "true" and
                data.get("auth-extra-groups") == "system:bootstrappers:nodegate" and
                "soft-node-0" in data.get("description", "") and
                850 <= exp - time.time() <= 905,
                "success: token-id, token-secret, usage, default group, description naming the "
                "node claim, expiration now + 15 min", json.dumps(data))
        obj = standin.store[("kube-system", "bootstrap-token-" + tid)]
        f.check(obj["type"] == "bootstrap.kubernetes.io/token",
                "success: type bootstrap.kubernetes.io/token", obj["type"])
    f.check(not standin.violations, "success: the Secret meets the OpenAPI schema and the "
            "cluster-bootstrap conventions", "\n".join(standin.violations))
    a = last_audit(0)
    f.check(a.get("decision") == "issued" and a.get("token_id") == tid,
            "success: audit line issued with the token id", a)

    # ---- replay: the same boot at another replica (no memory of it) -> 409 -> same Secret ----
    v2 = world.start("v2", "kubernetes:" + kc, audit, ["--token-timeout", "4"])
    n_log = len(standin.log)
    res, run = world.attest(v2.url, first=0)
    got = res[0] if res else {}
    calls = [(m, s) for _, m, _, s in standin.log[n_log:]]
    f.check(got.get("result") == "issued" and got.get("token_ids") == tid and
            calls == [("POST", 409), ("GET", 200)] and len(standin.store) == 1,
            "replay at another replica: POST 409, GET the Secret, same token -> the same token",
            "%s %s\n%s" % (got, calls, v2.stderr()))

    # ---- a conflicting Secret of that name: an error, and no token for the node ----
    standin.plant_conflict = True
    res, run = world.attest(v1.url, first=1)
    got = res[0] if res else {}
    a = last_audit(1)
    f.check(got.get("result") == "refused" and got.get("status") == "503" and
            got.get("error") == "token-unavailable" and got.get("sealed") == "no",
            "conflict: refused 503 token-unavailable, no sealed token", run.stdout + run.stderr)
    f.check(a.get("decision") == "rejected" and a.get("reason") == "token-unavailable" and
            "different token" in a.get("message", "") and "token_id" not in a,
            "conflict: audit line rejected, token-unavailable, naming the different token", a)

    # ---- this boot's own Secret, expired and not yet cleaned up: no token that cannot work ----
    standin.plant_expired = True
    res, run = world.attest(v1.url, first=9)
    got = res[0] if res else {}
    a = last_audit(9)
    f.check(got.get("result") == "refused" and got.get("error") == "token-unavailable" and
            got.get("sealed") == "no" and "expired" in a.get("message", ""),
            "expired Secret of this very token: refused token-unavailable naming the expiry, "
            "no token", "%s\n%s" % (run.stdout, a))

    # ---- 403: the ServiceAccount may not create secrets ----
    kc403 = kubeconfig(os.path.join(work, "kc-403"), url, api_ca, token=forbidden_token)
    v3 = world.start("v3", "kubernetes:" + kc403, audit, ["--token-timeout", "4"])
    n_store = len(standin.store)
    res, run = world.attest(v3.url, first=2)
    got = res[0] if res else {}
    a = last_audit(2)
    f.check(got.get("result") == "refused" and got.get("error") == "token-unavailable" and
            got.get("sealed") == "no" and len(standin.store) == n_store,
            "403: refused token-unavailable, no token, no Secret created", run.stdout)
    f.check(a.get("reason") == "token-unavailable" and "403" in a.get("message", "") and
            "forbidden" in a.get("message", ""),
            "403: the audit line carries the API server's 403 and its message", a)

    # ---- 429 with Retry-After, then 201 ----
    standin.script = [(429, 1)]
    n_log = len(standin.log)
    res, run = world.attest(v1.url, first=3)
    got = res[0] if res else {}
    posts = [(t, s) for t, m, _, s in standin.log[n_log:] if m == "POST"]
    f.check(got.get("result") == "issued" and [s for _, s in posts] == [429, 201] and
            posts[1][0] - posts[0][0] >= 0.95,
            "429 with Retry-After 1, then 201: issued, the retry after >= 1 s",
            "%s %s" % (got, posts))

    # ---- 500 forever: refused within the deadline, with backoff between attempts ----
    standin.forever = 500
    n_log = len(standin.log)
    t0 = time.monotonic()
    res, run = world.attest(v1.url, first=4, timeout_ms=15000)
    took = time.monotonic() - t0
    standin.forever = None
    got = res[0] if res else {}
    posts = [t for t, m, _, s in standin.log[n_log:] if m == "POST"]
    gaps = [b - a for a, b in zip(posts, posts[1:])]
    a = last_audit(4)
    f.check(got.get("result") == "refused" and got.get("error") == "token-unavailable" and
            got.get("sealed") == "no" and took < 4 + 3,
            "500 forever: refused token-unavailable within the 4 s deadline (%.1f s)" % took,
            run.stdout)
    f.check(len(posts) >= 3 and all(g2 > g1 for g1, g2 in zip(gaps, gaps[1:])) and
            "500" in a.get("message", ""),
            "500 forever: %d attempts, growing backoff %s, the audit names the 500" %
            (len(posts), ["%.2f" % g for g in gaps]), a)

    # ---- the wrong CA: the API server's certificate does not verify ----
    other_ca, _, _ = softworld.make_ca(work, "other")
    kcca = kubeconfig(os.path.join(work, "kc-wrong-ca"), url, other_ca, token=good_token)
    v4 = world.start("v4", "kubernetes:" + kcca, audit, ["--token-timeout", "4"])
    n_log = len(standin.log)
    res, run = world.attest(v4.url, first=5)
    got = res[0] if res else {}
    a = last_audit(5)
    f.check(got.get("result") == "refused" and got.get("error") == "token-unavailable" and
            got.get("sealed") == "no" and len(standin.log) == n_log,
            "wrong CA: refused token-unavailable, no token, no HTTP request reached the server",
            run.stdout)
    f.check("certificate" in a.get("message", "").lower() or
            "ssl" in a.get("message", "").lower(),
            "wrong CA: the audit line names the certificate failure", a)
    # The system's CA bundle is not consulted either: pinned means pinned.

    # ---- in-cluster: ServiceAccount token and CA from the directory, the token re-read ----
    sa = os.path.join(work, "serviceaccount")
    os.makedirs(sa)
    shutil.copy(api_ca, os.path.join(sa, "ca.crt"))
    with open(os.path.join(sa, "token"), "w") as out:
        out.write("rotated-token-1\n")
    standin.tokens["rotated-token-1"] = {"create", "get"}
    env = dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1",
               KUBERNETES_SERVICE_PORT=str(standin.port), NODEGATE_KUBE_SERVICEACCOUNT_DIR=sa)
    v5 = world.start("v5", "kubernetes", audit, ["--token-timeout", "4"], env=env)
    res, _ = world.attest(v5.url, first=6)
    first_ok = res and res[0].get("result") == "issued"
    # kubelet rotates the projected token: the old one stops working, the file changes.
    del standin.tokens["rotated-token-1"]
    standin.tokens["rotated-token-2"] = {"create", "get"}
    with open(os.path.join(sa, "token"), "w") as out:
        out.write("rotated-token-2\n")
    res2, run = world.attest(v5.url, first=7)
    f.check(first_ok and res2 and res2[0].get("result") == "issued",
            "in-cluster: KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount CA, and the token "
            "file re-read after it rotated", run.stdout + v5.stderr())

    # ---- a kubeconfig with a client certificate (file, relative) and key (data) ----
    kdir = os.path.join(work, "kc-cert")
    os.makedirs(kdir)
    shutil.copy(standin.client[0], os.path.join(kdir, os.path.basename(standin.client[0])))
    kccert = kubeconfig(os.path.join(kdir, "kubeconfig"), url, api_ca,
                        client=(os.path.join(kdir, os.path.basename(standin.client[0])),
                                standin.client[1]))
    v6 = world.start("v6", "kubernetes:" + kccert, audit, ["--token-timeout", "4"])
    res, run = world.attest(v6.url, first=8)
    got = res[0] if res else {}
    f.check(got.get("result") == "issued" and
            standin.secret_data("bootstrap-token-" + got.get("token_ids", "")) is not None,
            "kubeconfig with client-certificate (a relative path) and client-key-data: issued",
            run.stdout + v6.stderr())

    f.check(not standin.violations, "every Secret sent met the schema and the conventions",
            "\n".join(standin.violations))
    f.check(not leaked(), "no token-secret in the audit log or any verifier's stderr")


if __name__ == "__main__":
    sys.exit(main())
