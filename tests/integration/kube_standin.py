# SPDX-License-Identifier: GPL-2.0-or-later
"""A STAND-IN for kube-apiserver, not Kubernetes: no kube-apiserver is packaged for Debian 12, so
the kubernetes token source is tested against this HTTPS endpoint on 127.0.0.1, which enforces
the real API's contract for the two calls the source makes, and nothing more:

- POST /api/v1/namespaces/{ns}/secrets and GET /api/v1/namespaces/{ns}/secrets/{name}; other
  paths 404, other methods 405, as metav1.Status JSON;
- bearer-token authentication (401 Unauthorized without a known token), a per-token verb list
  (403 Forbidden with the RBAC message shape);
- a POST body must be Content-Type application/json (415 otherwise) and validate against the
  OpenAPI v2 definition io.k8s.api.core.v1.Secret of Kubernetes' published swagger.json
  (tests/fixtures/kubernetes/openapi-secret.json; unknown fields refused as with
  fieldValidation=Strict); the object's kind/apiVersion, namespace and name are checked as the
  API server does (400, 422); every answer it sends is validated against the same schema;
- 201 Created with the stored object, 409 AlreadyExists for a name that exists, 404 NotFound;
- scripted failures for the tests: answers to send before the real one (429 with Retry-After,
  500), 500 forever, a conflicting Secret planted before a POST.

What kube-apiserver does not check but the bootstrap token authenticator and kubeadm need
(k8s.io/cluster-bootstrap/token/api: the Secret's name and type, token-id/token-secret patterns,
usage-bootstrap-authentication "true", auth-extra-groups each matching
system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9], expiration RFC 3339) is recorded in
`violations` for the test to assert empty, while the answer is what the real server would send.
"""

import base64
import datetime
import http.server
import json
import os
import re
import secrets
import ssl
import threading
import time

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "kubernetes",
                       "openapi-secret.json")
SECRET_DEF = "io.k8s.api.core.v1.Secret"
STATUS_DEF = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
TOKEN_ID = re.compile(r"\A[a-z0-9]{6}\Z")
TOKEN_SECRET = re.compile(r"\A[a-z0-9]{16}\Z")
GROUP = re.compile(r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\Z")
B64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class Schema:
    """Validates JSON against the definitions of a Swagger 2.0 document (the subset
    Kubernetes' definitions use: object/string/integer/boolean/array, properties,
    additionalProperties, required, $ref, formats byte, date-time, int32, int64)."""

    def __init__(self, path=FIXTURE):
        with open(path) as f:
            self.doc = json.load(f)

    def errors(self, value, ref, where="$"):
        return self._check(value, {"$ref": "#/definitions/" + ref}, where)

    def _check(self, v, s, where):
        if "$ref" in s:
            s = self.doc["definitions"][s["$ref"].split("/")[-1]]
        t = s.get("type")
        errs = []
        if t == "object":
            if not isinstance(v, dict):
                return ["%s: expected an object" % where]
            props = s.get("properties")
            for key, val in v.items():
                if props is not None and key in props:
                    errs += self._check(val, props[key], "%s.%s" % (where, key))
                elif "additionalProperties" in s:
                    errs += self._check(val, s["additionalProperties"], "%s.%s" % (where, key))
                elif props is not None:
                    errs.append("%s: unknown field %r" % (where, key))
            for key in s.get("required", []):
                if key not in v:
                    errs.append("%s: missing required field %r" % (where, key))
        elif t == "string":
            if not isinstance(v, str):
                return ["%s: expected a string" % where]
            fmt = s.get("format")
            if fmt == "byte" and not B64.match(v):
                errs.append("%s: not base64 (format byte)" % where)
            if fmt == "date-time" and not RFC3339.match(v):
                errs.append("%s: not RFC 3339 (format date-time)" % where)
        elif t == "integer":
            if not isinstance(v, int) or isinstance(v, bool):
                return ["%s: expected an integer" % where]
            if s.get("format") == "int32" and not -2**31 <= v < 2**31:
                errs.append("%s: outside int32" % where)
        elif t == "boolean":
            if not isinstance(v, bool):
                errs.append("%s: expected a boolean" % where)
        elif t == "array":
            if not isinstance(v, list):
                return ["%s: expected an array" % where]
            for i, item in enumerate(v):
                errs += self._check(item, s["items"], "%s[%d]" % (where, i))
        return errs


def status(code, reason, message, details=None):
    o = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if details:
        o["details"] = details
    return o


class StandIn:
    """The server; start() returns its https://127.0.0.1:PORT."""

    def __init__(self, cert, key, tokens, client_ca=None, cert_users=None):
        """tokens: {bearer token: set of verbs ("create", "get")}; client_ca and cert_users
        ({certificate CN: verbs}): client certificate authentication, as kube-apiserver's
        --client-ca-file (the CN is the user name)."""
        self.schema = Schema()
        self.tokens = dict(tokens)
        self.cert_users = dict(cert_users or {})
        self.store = {}  # (namespace, name) -> Secret as served
        self.log = []  # (monotonic time, method, path, status)
        self.bodies = []  # raw POST bodies, for the test to look for leaks
        self.violations = []
        self.script = []  # (status, retry_after) answered to POSTs before the real answer
        self.forever = None  # status answered to every POST
        self.plant_conflict = False  # next POST: someone else's Secret of that name first
        self.plant_expired = False  # next POST: this very Secret, but expired, exists first
        self.lock = threading.RLock()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        if client_ca:
            ctx.verify_mode = ssl.CERT_OPTIONAL
            ctx.load_verify_locations(client_ca)
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send(self, code, obj, headers=()):
                ref = STATUS_DEF if obj.get("kind") == "Status" else SECRET_DEF
                errs = standin.schema.errors(obj, ref)
                if errs:  # the stand-in itself must speak the schema
                    standin.violations.append("stand-in answer: " + "; ".join(errs))
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
                with standin.lock:
                    standin.log.append((time.monotonic(), self.command, self.path, code))

            def auth(self, verb):
                h = self.headers.get("Authorization", "")
                tok = h[len("Bearer "):] if h.startswith("Bearer ") else None
                verbs = standin.tokens.get(tok) if tok is not None else None
                if verbs is None and tok is None:
                    # A verified client certificate: its CN is the user.
                    peer = self.connection.getpeercert() or {}
                    cn = [v for rdn in peer.get("subject", ()) for k, v in rdn
                          if k == "commonName"]
                    verbs = standin.cert_users.get(cn[0]) if cn else None
                if verbs is None:
                    self.send(401, status(401, "Unauthorized", "Unauthorized"))
                    return False
                if verb not in verbs:
                    self.send(403, status(403, "Forbidden",
                                          'secrets is forbidden: User "system:serviceaccount:'
                                          'nodegate:nodegate-verifier" cannot %s resource '
                                          '"secrets" in API group "" in the namespace '
                                          '"kube-system"' % verb,
                                          {"kind": "secrets"}))
                    return False
                return True

            def route(self):
                m = re.match(r"^/api/v1/namespaces/([a-z0-9-]+)/secrets(?:/([^/?]+))?$",
                             self.path.split("?")[0])
                return (m.group(1), m.group(2)) if m else (None, None)

            def do_GET(self):
                ns, name = self.route()
                if ns is None:
                    return self.send(404, status(404, "NotFound", "the server could not find "
                                                 "the requested resource"))
                if name is None:
                    return self.send(405, status(405, "MethodNotAllowed", "list is not part "
                                                 "of this stand-in"))
                if not self.auth("get"):
                    return
                with standin.lock:
                    obj = standin.store.get((ns, name))
                if obj is None:
                    return self.send(404, status(404, "NotFound", 'secrets "%s" not found' % name,
                                                 {"name": name, "kind": "secrets"}))
                self.send(200, obj)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                standin.bodies.append(raw)
                ns, name = self.route()
                if ns is None or name is not None:
                    return self.send(404 if ns is None else 405,
                                     status(404 if ns is None else 405, "NotFound",
                                            "not a route of this stand-in"))
                if not self.auth("create"):
                    return
                with standin.lock:
                    if standin.forever is not None:
                        code = standin.forever
                        return self.send(code, status(code, "InternalError",
                                                      "Internal error occurred: etcdserver: "
                                                      "request timed out"))
                    if standin.script:
                        code, retry_after = standin.script.pop(0)
                        hdr = [("Retry-After", str(retry_after))] if retry_after else []
                        reason = "TooManyRequests" if code == 429 else "InternalError"
                        return self.send(code, status(code, reason, "scripted %d" % code), hdr)
                ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
                if ctype != "application/json":
                    return self.send(415, status(415, "UnsupportedMediaType",
                                                 'the body of the request was in an unknown '
                                                 'format - accepted media types include: '
                                                 'application/json'))
                try:
                    obj = json.loads(raw)
                except ValueError as e:
                    return self.send(400, status(400, "BadRequest", "invalid JSON: %s" % e))
                errs = standin.schema.errors(obj, SECRET_DEF)
                if errs:
                    return self.send(400, status(400, "BadRequest", "; ".join(errs)))
                if obj.get("kind") != "Secret" or obj.get("apiVersion") != "v1":
                    return self.send(400, status(400, "BadRequest", "kind/apiVersion must be "
                                                 "Secret/v1"))
                meta = obj.get("metadata", {})
                if meta.get("namespace", ns) != ns:
                    return self.send(400, status(400, "BadRequest", "the namespace of the "
                                                 "provided object does not match the namespace "
                                                 "sent on the request"))
                name = meta.get("name", "")
                bad = []
                if not name or len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
                    bad.append("metadata.name: Invalid value: %r" % name)
                for key in list(obj.get("data", {})) + list(obj.get("stringData", {})):
                    if not DATA_KEY.match(key):
                        bad.append("data[%s]: Invalid value" % key)
                if bad:
                    return self.send(422, status(422, "Invalid", 'Secret "%s" is invalid: %s'
                                                 % (name, "; ".join(bad))))
                standin.check_bootstrap(ns, obj)
                with standin.lock:
                    if standin.plant_conflict:
                        standin.plant_conflict = False
                        standin.plant(ns, name, obj)
                    if standin.plant_expired:
                        standin.plant_expired = False
                        standin.plant(ns, name, obj, expired=True)
                    if (ns, name) in standin.store:
                        return self.send(409, status(409, "AlreadyExists",
                                                     'secrets "%s" already exists' % name,
                                                     {"name": name, "kind": "secrets"}))
                    stored = dict(obj)
                    stored["metadata"] = dict(meta, namespace=ns, uid=secrets.token_hex(16),
                                              resourceVersion=str(len(standin.store) + 1),
                                              creationTimestamp=now_rfc3339())
                    if "stringData" in stored:  # write-only: merged into data
                        data = dict(stored.get("data", {}))
                        for k, v in stored.pop("stringData").items():
                            data[k] = base64.b64encode(v.encode()).decode()
                        stored["data"] = data
                    standin.store[(ns, name)] = stored
                self.send(201, stored)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.thread = None

    def plant(self, ns, name, like, expired=False):
        """Someone else's Secret of that name: the same shape, another token-secret; or
        (expired) this very token, expired an hour ago and not yet deleted by the token
        cleaner."""
        obj = json.loads(json.dumps(like))
        if expired:
            obj["data"]["expiration"] = base64.b64encode(
                (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))
                .strftime("%Y-%m-%dT%H:%M:%SZ").encode()).decode()
        else:
            obj["data"]["token-secret"] = base64.b64encode(
                "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                        for _ in range(16)).encode()).decode()
        obj["metadata"] = dict(obj["metadata"], namespace=ns, uid=secrets.token_hex(16),
                               resourceVersion="1", creationTimestamp=now_rfc3339())
        self.store[(ns, name)] = obj

    def check_bootstrap(self, ns, obj):
        """The cluster-bootstrap conventions (recorded, not answered: the API server itself
        takes any Secret)."""
        v = self.violations
        name = obj["metadata"].get("name", "")
        data = {}
        for k, b in obj.get("data", {}).items():
            data[k] = base64.b64decode(b).decode("utf-8", "replace")
        if ns != "kube-system":
            v.append("namespace %s, not kube-system" % ns)
        if obj.get("type") != "bootstrap.kubernetes.io/token":
            v.append("type %r" % obj.get("type"))
        if not TOKEN_ID.match(data.get("token-id", "")):
            v.append("token-id does not match [a-z0-9]{6}")
        if name != "bootstrap-token-" + data.get("token-id", ""):
            v.append("name %s is not bootstrap-token-<token-id>" % name)
        if not TOKEN_SECRET.match(data.get("token-secret", "")):
            v.append("token-secret does not match [a-z0-9]{16}")
        if data.get("usage-bootstrap-authentication") != "true":
            v.append("usage-bootstrap-authentication is not \"true\"")
        for g in data.get("auth-extra-groups", "").split(","):
            if not GROUP.match(g):
                v.append("auth-extra-groups: %r does not match kubeadm's pattern" % g)
        exp = data.get("expiration")
        if exp is None or not RFC3339.match(exp):
            v.append("expiration %r is not RFC 3339" % exp)
        if not data.get("description"):
            v.append("no description")
        for k in data:
            if k not in ("token-id", "token-secret", "expiration", "description",
                         "auth-extra-groups") and not k.startswith("usage-bootstrap-"):
                v.append("unknown bootstrap token key %s" % k)

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self.url

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def secret_data(self, name, ns="kube-system"):
        obj = self.store.get((ns, name))
        if obj is None:
            return None
        return {k: base64.b64decode(b).decode() for k, b in obj["data"].items()}

    def posts(self):
        return [e for e in self.log if e[1] == "POST"]


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
