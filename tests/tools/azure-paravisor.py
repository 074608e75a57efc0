#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""An emulated Azure paravisor for the QEMU boots (issue 13, tests/e2e/TEST-33-CVM-AZURE-SNP) and
for the gate on the host (tests/integration/test-gate-azure-tdx.py, which imports it).

On Azure the vTPM runs in the paravisor inside the SEV-SNP guest; NV 0x01400001 holds its HCL
report (docs/cvm.md), and a write of 64 bytes to NV 0x01400002 makes the paravisor regenerate
that report with "user-data" = those bytes. swtpm has no paravisor, so this tool plays its part
without any change to the gate, whose production path (detection by itself, the HCL AK, the
binding written, the report read back) runs as on Azure:

  chain --out DIR
      a test AMD chain (tests/tools/cvm_synth.py): DIR/roots/ for the verifier's
      --platform-roots, DIR/vcek-cache/ for --vcek-cache, DIR/test-vcek.key that signs reports.
  provision --state DIR (--chain DIR | --tdx)
      a manufactured swtpm state set up as the paravisor leaves it (tpm2-tools against swtpm's
      socket): NV 0x01400001 (2048 bytes, swtpm's limit) holding a first HCL report, NV
      0x01400002 (64 bytes), the HCL AK (RSA 2048 restricted signing key, persistent 0x81000003).
      --tdx: an Azure TDX paravisor's, whose HCL report holds a TDREPORT (REPORTDATA =
      SHA-256(claims) || 0^32, MRTD = cvm_synth.MRTD) in place of a signed SNP report.
  proxy --listen SOCK --swtpm SOCK (--chain DIR | --tdx) --log FILE
      sits between QEMU's tpm-emulator and swtpm. It relays the control channel byte for byte,
      except that CMD_SET_DATAFD carries its own socketpair end instead of QEMU's (SCM_RIGHTS),
      then relays TPM commands on the data channel, framed by their header size. After a
      successful TPM2_NV_Write to 0x01400002, before the guest sees the answer, it reads
      0x01400002 back (TPM2_NV_Read, password session: it does not parse the guest's write,
      which may be in an encrypted session), builds a new HCL report (claims with HCLAkPub = the
      AK at 0x81000003 and "user-data" = those 64 bytes in upper-case hex, REPORT_DATA =
      SHA-256(claims), signed by the test VCEK; with --tdx a TDREPORT) and writes it to
      0x01400001 in NV-buffer chunks.
      One line per regeneration in the log ("regenerated: user-data=HEX ...").

What this proves and what not: docs/cvm.md, "The emulated paravisor".
"""
import argparse
import array
import os
import shutil
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvm_synth  # noqa: E402

NV_REPORT, NV_USER_DATA, HCL_AK = 0x01400001, 0x01400002, 0x81000003
REPORT_SIZE = 2048  # swtpm's largest NV index
USER_DATA_SIZE = 64
NV_ATTRS = "ownerread|ownerwrite|authread|authwrite"
AK_ATTRS = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign"
VM_CONFIGURATION = {"console-enabled": True, "secure-boot": False, "tpm-enabled": True,
                    "vmUniqueId": "00000000-0000-4000-8000-0000000000e2"}

# swtpm's control protocol (swtpm's tpm_ioctl.h): the command that hands over the data channel.
CMD_SET_DATAFD = 16
TPM_CC_NV_WRITE, TPM_CC_NV_READ = 0x137, 0x14E
TPM_CC_NV_READPUBLIC, TPM_CC_READPUBLIC = 0x169, 0x173
TPM_RH_OWNER, TPM_RS_PW = 0x40000001, 0x40000009
TPM_ST_NO_SESSIONS, TPM_ST_SESSIONS = 0x8001, 0x8002
# libtpms's MAX_NV_BUFFER_SIZE (TPM2_PT_NV_BUFFER_MAX); the gate reads in chunks of it too.
NV_CHUNK = 1024
MAX_TPM_MESSAGE = 64 * 1024


def report_for(key, ak_n, user_data, size=REPORT_SIZE, tdx=False):
    """The HCL blob the paravisor would write: HCLAkPub = the AK, user-data, vm-configuration,
    padded to the index's size; an SNP report signed by key, or with tdx a TDREPORT (whose MAC
    only the CPU checks: the TD quote comes from the metadata service, tests/tools/fake-imds.py).
    (HCLEkPub does not fit a 2048-byte index beside them: the two JWKs alone are about 800 of
    the 812 bytes the claims may take.)"""
    claims = cvm_synth.claims_json([cvm_synth.rsa_jwk("HCLAkPub", ak_n)], user_data,
                                   VM_CONFIGURATION)
    if tdx:
        return cvm_synth.tdx_hcl_blob(claims, size=size), claims
    return cvm_synth.hcl_blob(key, claims, size), claims


def rsa_modulus(tpmt):
    """The modulus of an RSA TPMT_PUBLIC (TPM 2.0 Part 2, 12.2.4 and 12.2.3.5)."""
    typ, _name_alg, _attrs, policy = struct.unpack(">HHIH", tpmt[:10])
    if typ != 0x0001:
        raise ValueError("not an RSA key (type 0x%04x)" % typ)
    o = 10 + policy
    sym = struct.unpack(">H", tpmt[o:o + 2])[0]
    o += 2 + (4 if sym != 0x0010 else 0)
    scheme = struct.unpack(">H", tpmt[o:o + 2])[0]
    o += 2 + (2 if scheme != 0x0010 else 0)
    o += 2 + 4  # keyBits, exponent
    n_size = struct.unpack(">H", tpmt[o:o + 2])[0]
    return tpmt[o + 2:o + 2 + n_size]


# --- chain, provision ---------------------------------------------------------------------------

def cmd_chain(a):
    os.makedirs(a.out, exist_ok=True)
    chain = cvm_synth.make_chain(a.out, "test")
    for sub in ("roots", "vcek-cache"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    shutil.copy(chain["ark"], os.path.join(a.out, "roots", "ark.pem"))
    shutil.copy(chain["ask"], os.path.join(a.out, "roots", "ask.pem"))
    with open(os.path.join(a.out, "vcek-cache", cvm_synth.vcek_cache_name()), "wb") as f:
        f.write(chain["vcek"])
    print("test AMD chain in %s: roots/ (ARK-Milan, SEV-Milan), vcek-cache/%s" % (
        a.out, cvm_synth.vcek_cache_name()))
    return 0


def cmd_provision(a):
    key = None if a.tdx else cvm_synth.load_key(os.path.join(a.chain, "test-vcek.key"))
    with cvm_synth.SwtpmTools(a.state) as t:
        t.run("tpm2_nvdefine", "0x%08x" % NV_REPORT, "-C", "o", "-s", str(REPORT_SIZE), "-a",
              NV_ATTRS)
        t.run("tpm2_nvdefine", "0x%08x" % NV_USER_DATA, "-C", "o", "-s", str(USER_DATA_SIZE),
              "-a", NV_ATTRS)
        ctx = os.path.join(a.state, "hcl-ak.ctx")
        pub = os.path.join(a.state, "hcl-ak.tpmt")
        t.run("tpm2_createprimary", "-C", "e", "-G", "rsa2048:rsassa-sha256:null", "-a", AK_ATTRS,
              "-c", ctx)
        t.run("tpm2_evictcontrol", "-C", "o", "-c", ctx, "0x%08x" % HCL_AK)
        t.run("tpm2_readpublic", "-c", "0x%08x" % HCL_AK, "-f", "tpmt", "-o", pub)
        with open(pub, "rb") as f:
            ak_n = rsa_modulus(f.read())
        # The paravisor's report at boot: user-data of nobody's challenge yet.
        blob, claims = report_for(key, ak_n, bytes(USER_DATA_SIZE), tdx=a.tdx)
        path = os.path.join(a.state, "hcl-report.bin")
        with open(path, "wb") as f:
            f.write(blob)
        t.run("tpm2_nvwrite", "0x%08x" % NV_REPORT, "-C", "o", "-i", path)
        os.unlink(ctx)
    print("provisioned %s: NV 0x%08x (%d bytes, claims %d of %d), NV 0x%08x (%d bytes), HCL AK "
          "0x%08x (RSA %d)" % (a.state, NV_REPORT, len(blob), len(claims),
                               REPORT_SIZE - cvm_synth.HCL_CLAIMS_OFFSET, NV_USER_DATA,
                               USER_DATA_SIZE, HCL_AK, len(ak_n) * 8))
    return 0


# --- proxy --------------------------------------------------------------------------------------

def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_message(s):
    """One TPM command or response: the 10-byte header says the size."""
    head = recv_exact(s, 10)
    if head is None:
        return None
    size = struct.unpack(">I", head[2:6])[0]
    if size < 10 or size > MAX_TPM_MESSAGE:
        raise ValueError("TPM message of %d bytes" % size)
    rest = recv_exact(s, size - 10)
    if rest is None:
        return None
    return head + rest


def command(tag, cc, handles, params, auth=True):
    """A TPM command; with auth, one password session with the empty password per handle
    that needs it (here always one: the owner)."""
    body = b"".join(struct.pack(">I", h) for h in handles)
    if auth:
        pw = struct.pack(">IHBH", TPM_RS_PW, 0, 0, 0)
        body += struct.pack(">I", len(pw)) + pw
    body += params
    return struct.pack(">HII", tag, 10 + len(body), cc) + body


class Paravisor:
    def __init__(self, key, log, tdx=False):
        self.key = key
        self.log = log
        self.tdx = tdx
        self.regenerations = 0
        self.last_report = None  # the last HCL blob written to NV 0x01400001

    def say(self, msg):
        self.log.write("%.3f %s\n" % (time.monotonic(), msg))
        self.log.flush()

    def tpm(self, s, cmd, what):
        s.sendall(cmd)
        r = read_message(s)
        if r is None:
            raise ConnectionError("swtpm closed the data channel during " + what)
        rc = struct.unpack(">I", r[6:10])[0]
        if rc != 0:
            raise RuntimeError("%s: TPM rc 0x%03x" % (what, rc))
        return r

    def nv_size(self, s, index):
        r = self.tpm(s, command(TPM_ST_NO_SESSIONS, TPM_CC_NV_READPUBLIC, [index], b"", False),
                     "TPM2_NV_ReadPublic(0x%08x)" % index)
        # TPM2B_NV_PUBLIC: size, nvIndex, nameAlg, attributes, authPolicy, dataSize
        policy = struct.unpack(">H", r[10 + 2 + 4 + 2 + 4:10 + 2 + 4 + 2 + 4 + 2])[0]
        o = 10 + 2 + 4 + 2 + 4 + 2 + policy
        return struct.unpack(">H", r[o:o + 2])[0]

    def nv_read(self, s, index, size):
        r = self.tpm(s, command(TPM_ST_SESSIONS, TPM_CC_NV_READ, [TPM_RH_OWNER, index],
                                struct.pack(">HH", size, 0)), "TPM2_NV_Read(0x%08x)" % index)
        n = struct.unpack(">H", r[14:16])[0]  # after parameterSize
        return r[16:16 + n]

    def nv_write(self, s, index, data):
        for off in range(0, len(data), NV_CHUNK):
            chunk = data[off:off + NV_CHUNK]
            self.tpm(s, command(TPM_ST_SESSIONS, TPM_CC_NV_WRITE, [TPM_RH_OWNER, index],
                                struct.pack(">H", len(chunk)) + chunk + struct.pack(">H", off)),
                     "TPM2_NV_Write(0x%08x, offset %d)" % (index, off))

    def read_public(self, s, handle):
        r = self.tpm(s, command(TPM_ST_NO_SESSIONS, TPM_CC_READPUBLIC, [handle], b"", False),
                     "TPM2_ReadPublic(0x%08x)" % handle)
        size = struct.unpack(">H", r[10:12])[0]
        return r[12:12 + size]

    def regenerate(self, s):
        start = time.monotonic()
        user_data = self.nv_read(s, NV_USER_DATA, USER_DATA_SIZE)
        ak_n = rsa_modulus(self.read_public(s, HCL_AK))
        size = self.nv_size(s, NV_REPORT)
        blob, claims = report_for(self.key, ak_n, user_data, size, self.tdx)
        self.nv_write(s, NV_REPORT, blob)
        self.last_report = blob
        self.regenerations += 1
        self.say("regenerated: user-data=%s claims=%d report=%d in %.0f ms (#%d)" % (
            user_data.hex().upper(), len(claims), len(blob), (time.monotonic() - start) * 1000,
            self.regenerations))

    def data_relay(self, guest, swtpm):
        """Commands from QEMU to swtpm and answers back, one at a time as QEMU sends them."""
        n = 0
        try:
            while True:
                cmd = read_message(guest)
                if cmd is None:
                    break
                n += 1
                swtpm.sendall(cmd)
                resp = read_message(swtpm)
                if resp is None:
                    break
                cc = struct.unpack(">I", cmd[6:10])[0]
                rc = struct.unpack(">I", resp[6:10])[0]
                if cc == TPM_CC_NV_WRITE and len(cmd) >= 18:
                    index = struct.unpack(">I", cmd[14:18])[0]
                    self.say("guest TPM2_NV_Write(0x%08x): rc 0x%03x" % (index, rc))
                    if index == NV_USER_DATA and rc == 0:
                        try:
                            self.regenerate(swtpm)
                        except (RuntimeError, ValueError) as e:
                            # The guest then reads the old report; the verifier refuses it.
                            self.say("regeneration FAILED: %s" % e)
                guest.sendall(resp)
        except (OSError, ValueError) as e:
            self.say("data channel: %s" % e)
        self.say("data channel closed after %d commands, %d regeneration(s)" % (
            n, self.regenerations))

    def ctrl_relay(self, qemu, swtpm):
        """The control channel, byte for byte; CMD_SET_DATAFD gets our own socketpair end."""
        import select
        while True:
            ready, _, _ = select.select([qemu, swtpm], [], [])
            if qemu in ready:
                data, anc, _flags, _ = qemu.recvmsg(4096, socket.CMSG_SPACE(4 * 4))
                if not data:
                    return
                fds = []
                for level, typ, payload in anc:
                    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                        a = array.array("i")
                        a.frombytes(payload[:len(payload) - len(payload) % a.itemsize])
                        fds.extend(a)
                if fds:
                    if len(data) < 4 or struct.unpack(">I", data[:4])[0] != CMD_SET_DATAFD:
                        raise RuntimeError("a file descriptor with another command than "
                                           "CMD_SET_DATAFD")
                    guest = socket.socket(fileno=fds[0])
                    for fd in fds[1:]:
                        os.close(fd)
                    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                    swtpm.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                            array.array("i", [theirs.fileno()]))])
                    theirs.close()
                    self.say("CMD_SET_DATAFD: data channel relayed")
                    threading.Thread(target=self.data_relay, args=(guest, ours),
                                     daemon=True).start()
                else:
                    swtpm.sendall(data)
            if swtpm in ready:
                data = swtpm.recv(4096)
                if not data:
                    return
                qemu.sendall(data)


class FdChannel:
    """A file descriptor (a pty's master: the gate opens its slave as if it were /dev/tpm0)
    with the two socket calls data_relay() uses."""

    def __init__(self, fd):
        self.fd = fd

    def recv(self, n):
        try:
            return os.read(self.fd, n)
        except OSError:  # EIO: the slave side is gone
            return b""

    def sendall(self, data):
        while data:
            data = data[os.write(self.fd, data):]


def relay_pty(paravisor, master_fd, swtpm_sock):
    """The data channel between a pty (the gate's TPM device) and swtpm's data socket, with the
    paravisor's regeneration, in a daemon thread; for the gate run on the host."""
    t = threading.Thread(target=paravisor.data_relay, args=(FdChannel(master_fd), swtpm_sock),
                         daemon=True)
    t.start()
    return t


def cmd_proxy(a):
    key = None if a.tdx else cvm_synth.load_key(os.path.join(a.chain, "test-vcek.key"))
    log = open(a.log, "a")
    p = Paravisor(key, log, tdx=a.tdx)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(a.listen)
    listener.listen(1)
    p.say("listening on %s for QEMU, swtpm's control channel at %s" % (a.listen, a.swtpm))
    # QEMU connects once, at startup; the proxy ends when it goes away.
    qemu, _ = listener.accept()
    listener.close()
    swtpm = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    swtpm.connect(a.swtpm)
    try:
        p.ctrl_relay(qemu, swtpm)
    except (OSError, RuntimeError) as e:
        p.say("control channel: %s" % e)
        return 1
    p.say("control channel closed; %d regeneration(s)" % p.regenerations)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("chain")
    c.add_argument("--out", required=True)
    c = sub.add_parser("provision")
    c.add_argument("--state", required=True)
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--chain")
    g.add_argument("--tdx", action="store_true")
    c = sub.add_parser("proxy")
    c.add_argument("--listen", required=True)
    c.add_argument("--swtpm", required=True)
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--chain")
    g.add_argument("--tdx", action="store_true")
    c.add_argument("--log", required=True)
    a = ap.parse_args()
    return {"chain": cmd_chain, "provision": cmd_provision, "proxy": cmd_proxy}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
