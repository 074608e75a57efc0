#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A fake Azure instance metadata service (IMDS) for the gate's Azure TDX path (issue 13):
POST /acc/tdquote with {"report": base64url TDREPORT} answers {"quote": base64url} with a DCAP
v4 TD quote of that TDREPORT (tests/tools/cvm_synth.py: its body copied field by field from the
TDREPORT, signed under a test Intel-shaped chain that the verifier pins with --platform-roots),
as the real service answers Microsoft's client (kinvolk/azure-cvm-tooling
az-cvm-vtpm/az-tdx-vtpm/src/imds.rs). Every request is recorded (headers, body, the TDREPORT
decoded, the quote sent), and a mode makes it misbehave:
  good      the quote, base64url without padding
  padded    the quote, base64url with padding
  other-td  a genuine-looking quote of another TD (another MRTD), as a host in the middle could
  500       HTTP 500 with an error object
  garbage   HTTP 200 with an HTML page
  no-quote  HTTP 200 with {"error": ...}
  huge      HTTP 200 with a 20 KiB object (more than the gate reads)
  hang      reads the request and never answers (the gate's deadline must end it)

The real service listens on 169.254.169.254:80, which the tests make a local address of their
own network namespace (unshare -n), so the gate runs unchanged.

As a program (TEST-33's Azure TDX boot: QEMU's user networking connects the guest's
169.254.169.254:80 to the same address in the test's namespace): fake-imds.py --listen
HOST:PORT --root-out FILE [--collateral-out DIR] [--mode MODE] [--log FILE] writes the test
Intel root for the verifier's --platform-roots (and PCS collateral for its --tdx-collateral)
and serves until killed, one JSON line per request in the log.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvm_synth  # noqa: E402

MODES = ("good", "padded", "other-td", "500", "garbage", "no-quote", "huge", "hang")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class FakeImds:
    def __init__(self, host, port, pck_key, chain, mode="good", log=None):
        self.pck_key, self.chain, self.mode, self.log = pck_key, chain, mode, log
        self.requests = []
        self.release = threading.Event()  # ends the "hang" mode's waits at stop()
        imds = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                rec = {"time": time.time(), "method": "POST", "path": self.path,
                       "headers": {k.lower(): v for k, v in self.headers.items()},
                       "body": body.decode(errors="replace"), "report": None, "quote": None,
                       "mode": imds.mode}
                imds.requests.append(rec)
                try:
                    report = b64url_decode(json.loads(body)["report"])
                    rec["report"] = report.hex()
                except (ValueError, KeyError, TypeError):
                    report = None
                if imds.mode == "hang":
                    imds.record(rec)
                    imds.release.wait(120)
                    return
                if self.path != "/acc/tdquote" or report is None:
                    imds.record(rec)
                    return self.reply(400, b'{"error": "bad request"}')
                if imds.mode == "500":
                    imds.record(rec)
                    return self.reply(500, b'{"error": "internal error"}')
                if imds.mode == "garbage":
                    imds.record(rec)
                    return self.reply(200, b"<html>IMDS is having a bad day</html>", "text/html")
                if imds.mode == "huge":
                    imds.record(rec)
                    return self.reply(200, json.dumps({"quote": "A" * 20480}).encode())
                if imds.mode == "no-quote":
                    imds.record(rec)
                    return self.reply(200, b'{"error": "no quote for you"}')
                try:
                    body = cvm_synth.td_body_of(report)
                    if imds.mode == "other-td":
                        body = body[:136] + hashlib.sha384(b"another TD").digest() + body[184:]
                    quote = cvm_synth.tdx_quote(imds.pck_key, imds.chain, body=body)
                except ValueError as e:
                    imds.record(rec)
                    return self.reply(400, json.dumps({"error": str(e)}).encode())
                rec["quote"] = quote.hex()
                imds.record(rec)
                enc = base64.urlsafe_b64encode(quote).decode()
                if imds.mode != "padded":
                    enc = enc.rstrip("=")
                self.reply(200, json.dumps({"quote": enc}).encode())

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # A client that hangs up on an answer it will not read (the "huge" mode's
                # point) is expected; anything else is reported.
                if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
                    super().handle_error(request, client_address)

        self.server = Server((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, rec):
        if self.log:
            with open(self.log, "a") as f:
                f.write(json.dumps(rec) + "\n")

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", default="169.254.169.254:80")
    ap.add_argument("--root-out", required=True, help="the test Intel root, PEM")
    ap.add_argument("--mode", choices=MODES, default="good")
    ap.add_argument("--log")
    ap.add_argument("--collateral-out", help="a directory: Intel PCS collateral for the test "
                    "chain, current and UpToDate, as the verifier's --tdx-collateral reads it")
    a = ap.parse_args()
    root, chain, pck_key, parts = cvm_synth.intel_chain()
    with open(a.root_out, "wb") as f:
        f.write(root)
    if a.collateral_out:
        cvm_synth.write_collateral(a.collateral_out, parts)
    host, port = a.listen.rsplit(":", 1)
    FakeImds(host, int(port), pck_key, chain, a.mode, a.log)
    print("fake IMDS on %s (%s), Intel root in %s" % (a.listen, a.mode, a.root_out), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
