# SPDX-License-Identifier: GPL-2.0-or-later
"""Synthetic but well-formed SEV-SNP and TDX evidence for the tests (issue 13): an AMD-shaped chain
made with OpenSSL — an RSA-PSS ARK-Milan and SEV-Milan (SHA-384, salt 48), an EC P-384 SEV-VCEK
with AMD's extensions (product, TCB SPLs, a raw 64-byte hwID) — version-3 SNP reports signed by
that VCEK, and Azure HCL blobs around them; an Intel-shaped chain (P-256: "Intel SGX Root CA" ->
"Intel SGX PCK Platform CA" -> PCK), DCAP v4 TD quotes signed under it, TDREPORTs and Azure TDX
HCL blobs. No real AMD or Intel key ever signs these: the verifier trusts the chains only when
they are given as --platform-roots. Shared by tests/integration/test-platform-attest.py
(make check-cvm-attest), tests/integration/test-gate-azure-tdx.py, tests/tools/azure-paravisor.py
(the emulated paravisor) and tests/tools/fake-imds.py, plus the swtpm socket helper the tools
need to set a vTPM up with tpm2-tools.
"""
import base64
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

AMD_DN = "/OU=Engineering/C=US/L=Santa Clara/ST=CA/O=Advanced Micro Devices/CN="
PSS = ["-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:48",
       "-sigopt", "rsa_mgf1_md:sha384"]
MEASUREMENT = bytes(range(48))
CHIP_ID = hashlib.sha512(b"nodegate test chip").digest()
# Milan TCB_VERSION: bl byte 0, tee 1, snp 6, ucode 7.
TCB = {"bl": 3, "tee": 0, "snp": 8, "ucode": 115}
TCB_U64 = int.from_bytes(bytes([TCB["bl"], TCB["tee"], 0, 0, 0, 0, TCB["snp"], TCB["ucode"]]),
                         "little")
# The HCL blob: 32-byte header, the SNP report, the 20-byte IGVM request header, the claims.
HCL_CLAIMS_OFFSET = 0x20 + 1184 + 20


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=120)


def make_chain(d, name, days=3):
    """ARK-Milan (self-signed) -> SEV-Milan -> SEV-VCEK in d/name-*; returns the file paths,
    the VCEK (DER) and its private key."""
    p = lambda n: os.path.join(d, name + "-" + n)  # noqa: E731
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", p("ark.key"))
    openssl("req", "-x509", "-new", "-key", p("ark.key"), "-subj", AMD_DN + "ARK-Milan",
            "-days", str(days), "-out", p("ark.pem"), *PSS)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", p("ask.key"))
    openssl("req", "-new", "-key", p("ask.key"), "-subj", AMD_DN + "SEV-Milan", "-out", p("ask.csr"))
    openssl("x509", "-req", "-in", p("ask.csr"), "-CA", p("ark.pem"), "-CAkey", p("ark.key"),
            "-set_serial", "1", "-days", str(days), "-out", p("ask.pem"), *PSS)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", p("vcek.key"))
    openssl("req", "-new", "-key", p("vcek.key"), "-subj", AMD_DN + "SEV-VCEK", "-out", p("vcek.csr"))
    with open(p("vcek.ext"), "w") as f:
        f.write("1.3.6.1.4.1.3704.1.1=ASN1:INTEGER:0\n"
                "1.3.6.1.4.1.3704.1.2=ASN1:IA5STRING:Milan-B0\n"
                "1.3.6.1.4.1.3704.1.3.1=ASN1:INTEGER:%d\n"
                "1.3.6.1.4.1.3704.1.3.2=ASN1:INTEGER:%d\n"
                "1.3.6.1.4.1.3704.1.3.3=ASN1:INTEGER:%d\n"
                "1.3.6.1.4.1.3704.1.3.8=ASN1:INTEGER:%d\n"
                "1.3.6.1.4.1.3704.1.4=DER:%s\n"
                % (TCB["bl"], TCB["tee"], TCB["snp"], TCB["ucode"],
                   ":".join("%02x" % c for c in CHIP_ID)))
    openssl("x509", "-req", "-in", p("vcek.csr"), "-CA", p("ask.pem"), "-CAkey", p("ask.key"),
            "-set_serial", "0", "-days", str(days), "-extfile", p("vcek.ext"), "-outform", "DER",
            "-out", p("vcek.der"), *PSS)
    with open(p("vcek.der"), "rb") as f:
        vcek = f.read()
    return {"ark": p("ark.pem"), "ask": p("ask.pem"), "vcek": vcek, "key": load_key(p("vcek.key")),
            "key_path": p("vcek.key"), "vcek_path": p("vcek.der")}


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def vcek_cache_name(chip_id=CHIP_ID, tcb=TCB_U64):
    """The file name the verifier's --vcek-cache looks up (docs/cvm.md)."""
    return "%s-%016x.der" % (chip_id.hex(), tcb)


def snp_report(key, report_data, debug=False, measurement=MEASUREMENT, chip_id=CHIP_ID):
    """A version-3 ATTESTATION_REPORT from a Milan guest at VMPL 0, signed with key."""
    b = bytearray(1184)
    policy = (1 << 17) | (1 << 16) | ((1 << 19) if debug else 0)
    struct.pack_into("<IIQ", b, 0, 3, 1, policy)
    struct.pack_into("<II", b, 0x30, 0, 1)  # VMPL 0, ECDSA P-384 with SHA-384
    struct.pack_into("<QQI", b, 0x38, TCB_U64, 1, 0)  # current TCB, platform info, VCEK
    b[0x50:0x90] = report_data
    b[0x90:0xC0] = measurement
    struct.pack_into("<Q", b, 0x180, TCB_U64)  # reported TCB
    b[0x188:0x18B] = bytes([0x19, 0x01, 0x01])  # Milan
    b[0x1A0:0x1E0] = chip_id
    struct.pack_into("<Q", b, 0x1E0, TCB_U64)
    b[0x1E8:0x1EB] = bytes([4, 55, 1])
    struct.pack_into("<Q", b, 0x1F0, TCB_U64)
    r, s = decode_dss_signature(key.sign(bytes(b[:0x2A0]), ec.ECDSA(hashes.SHA384())))
    b[0x2A0:0x2A0 + 72] = r.to_bytes(72, "little")
    b[0x2A0 + 72:0x2A0 + 144] = s.to_bytes(72, "little")
    return bytes(b)


def hcl_blob(key, claims, size=2600):
    """The paravisor's NV 0x01400001: HCLA header, SNP report signed over SHA-256(claims),
    IGVM request data (SNP, SHA-256), the claims, zero padding to size bytes (2600 on current
    Azure hosts, 2048 on older ones and at most that in swtpm)."""
    report = snp_report(key, hashlib.sha256(claims).digest() + bytes(32))
    head = b"HCLA" + struct.pack("<IIII", 2, 1184, 2, 0) + bytes(12)
    req = struct.pack("<IIIII", 20 + len(claims), 1, 2, 1, len(claims))
    blob = head + report + req + claims
    if len(blob) > size:
        raise ValueError("HCL blob of %d bytes does not fit %d" % (len(blob), size))
    return blob + bytes(size - len(blob))


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def rsa_jwk(kid, n, e=65537, key_ops=("sign",)):
    """An RSA public key as the HCL claims carry it; n as an int or big-endian bytes."""
    if isinstance(n, int):
        n = n.to_bytes((n.bit_length() + 7) // 8, "big")
    k = {"kid": kid}
    if key_ops:
        k["key_ops"] = list(key_ops)
    k.update({"kty": "RSA", "e": b64u(e.to_bytes((e.bit_length() + 7) // 8, "big")),
              "n": b64u(n)})
    return k


def claims_json(keys, user_data, vm_configuration=None):
    """The runtime claims, compact; user_data (bytes) in upper-case hex as the paravisor writes
    it, or None for the older hosts' claims without it."""
    c = {"keys": list(keys)}
    if vm_configuration is not None:
        c["vm-configuration"] = vm_configuration
    if user_data is not None:
        c["user-data"] = user_data.hex().upper()
    return json.dumps(c, separators=(",", ":")).encode()


# --- TDX: an Intel-shaped chain, DCAP v4 quotes, TDREPORTs, Azure TDX HCL blobs ----------------

MRTD = hashlib.sha384(b"nodegate test TD").digest()
TDREPORT_SIZE = 1024


# The PCK certificate's SGX extension (1.2.840.113741.1.13.1), DER built by hand: PPID, the TCB
# (16 SGX component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type — what Intel's PCK carries.
SGX_OID = bytes.fromhex("2a864886f84d010d01")
FMSPC = bytes.fromhex("00a06f000000")


def der(tag, body):
    n = len(body)
    return bytes([tag]) + (bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256
                           else bytes([0x82, n >> 8, n & 255])) + body


def sgx_extension(fmspc=FMSPC, svn=2, pcesvn=11):
    def member(suffix, value):
        return der(0x30, der(0x06, SGX_OID + bytes(suffix)) + value)
    tcb = b"".join(member([2, i], der(0x02, bytes([svn]))) for i in range(1, 17)) + \
        member([2, 17], der(0x02, bytes([pcesvn]))) + member([2, 18], der(0x04, bytes(16)))
    return der(0x30, member([1], der(0x04, bytes(16))) + member([2], der(0x30, tcb)) +
               member([3], der(0x04, b"\0\0")) + member([4], der(0x04, fmspc)) +
               member([5], der(0x0a, b"\0")))


def intel_name(cn_):
    from cryptography import x509
    return x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn_),
                      x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Intel Corporation")])


def intel_chain():
    """(root PEM, chain PEM: PCK, CA, root; the PCK key; the keys and certificates by name,
    for the collateral)."""
    import datetime
    from cryptography import x509
    now = datetime.datetime.now(datetime.timezone.utc)
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    names = [intel_name(n) for n in ("Intel SGX Root CA", "Intel SGX PCK Platform CA",
                                     "Intel SGX PCK Certificate")]
    certs = []
    for i in range(3):
        b = (x509.CertificateBuilder().subject_name(names[i]).issuer_name(names[max(i - 1, 0)])
             .public_key(keys[i].public_key()).serial_number(i + 1)
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=365))
             .add_extension(x509.BasicConstraints(ca=i < 2, path_length=None), critical=True))
        if i == 2:
            b = b.add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.2.840.113741.1.13.1"), sgx_extension()), critical=False)
        certs.append(b.sign(keys[max(i - 1, 0)], hashes.SHA256()))
    pem = [c.public_bytes(serialization.Encoding.PEM) for c in certs]
    parts = {"root_key": keys[0], "root": certs[0], "ca_key": keys[1], "ca": certs[1],
             "pck": certs[2]}
    return pem[0], pem[2] + pem[1] + pem[0] + b"\0", keys[2], parts


def write_collateral(d, parts, status="UpToDate", revoke_pck=False, expired=False,
                     tamper=False, module=None):
    """Intel PCS collateral for our chain, laid out as docs/cvm.md says (tdx-collateral.h):
    TCB info (this FMSPC; one level our PCK and quote reach, of status) and QE identity signed
    by a TCB signing key under our root, the root CA's CRL, the PCK CA's CRL. expired: a TCB
    info whose window has passed; tamper: its status changed after signing; module: (isvsvn,
    status) of a TDX module identity TDX_01, for quotes whose TEE_TCB_SVN[1] (the module's
    major version) is 1: the module's level then decides the TCB status."""
    import datetime
    from cryptography import x509
    now = datetime.datetime.now(datetime.timezone.utc)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (x509.CertificateBuilder().subject_name(intel_name("Intel SGX TCB Signing"))
              .issuer_name(parts["root"].subject).public_key(signer_key.public_key())
              .serial_number(7).not_valid_before(now - datetime.timedelta(days=1))
              .not_valid_after(now + datetime.timedelta(days=365))
              .sign(parts["root_key"], hashes.SHA256()))
    issued = now - datetime.timedelta(days=40 if expired else 1)
    window = {"issueDate": issued.strftime(iso),
              "nextUpdate": (issued + datetime.timedelta(days=30)).strftime(iso)}
    svns = [{"svn": 2}] * 16
    tcb_info = {"id": "TDX", "version": 3, **window, "fmspc": FMSPC.hex(), "pceId": "0000",
                "tcbType": 0, "tcbEvaluationDataNumber": 17,
                "tdxModule": {"mrsigner": "00" * 48, "attributes": "00" * 8,
                              "attributesMask": "ff" * 8},
                "tcbLevels": [{"tcb": {"sgxtcbcomponents": svns, "pcesvn": 11,
                                       "tdxtcbcomponents": [{"svn": 0}] * 16},
                               "tcbDate": "2026-01-01T00:00:00Z", "tcbStatus": status}]}
    if module:
        tcb_info["tdxModuleIdentities"] = [{
            "id": "TDX_01", "mrsigner": "00" * 48, "attributes": "00" * 8,
            "attributesMask": "ff" * 8,
            "tcbLevels": [{"tcb": {"isvsvn": module[0]}, "tcbDate": "2026-01-01T00:00:00Z",
                           "tcbStatus": module[1]}]}]
    qe_identity = {"id": "TD_QE", "version": 2, **window, "tcbEvaluationDataNumber": 17,
                   "miscselect": "00000000", "miscselectMask": "ffffffff",
                   "attributes": "00" * 16, "attributesMask": "ff" * 16,
                   "mrsigner": "00" * 32, "isvprodid": 0,
                   "tcbLevels": [{"tcb": {"isvsvn": 0}, "tcbDate": "2026-01-01T00:00:00Z",
                                  "tcbStatus": "UpToDate"}]}
    if not expired:  # an expired TCB info must still be current as a QE identity
        qe_identity.update(issueDate=(now - datetime.timedelta(days=1)).strftime(iso),
                           nextUpdate=(now + datetime.timedelta(days=29)).strftime(iso))

    def signed(member, obj, after=None):
        raw = json.dumps(obj, separators=(",", ":")).encode()
        sig = raw_sig(signer_key, raw)
        if after:
            raw = raw.replace(*after)
        return b'{"%s":' % member.encode() + raw + b',"signature":"' + sig.hex().encode() + b'"}'
    files = {
        "tcb-signing-chain.pem": signer.public_bytes(serialization.Encoding.PEM) +
        parts["root"].public_bytes(serialization.Encoding.PEM),
        "tcbinfo-%s.json" % FMSPC.hex(): signed(
            "tcbInfo", tcb_info, (b'"OutOfDate"', b'"UpToDate"') if tamper else None),
        "qe-identity.json": signed("enclaveIdentity", qe_identity),
    }
    for name, issuer, key, revoked in (("root-ca-crl.der", parts["root"], parts["root_key"], None),
                                       ("pck-crl-platform.der", parts["ca"], parts["ca_key"],
                                        parts["pck"] if revoke_pck else None)):
        b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
             .last_update(now - datetime.timedelta(days=1))
             .next_update(now + datetime.timedelta(days=30)))
        if revoked is not None:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(revoked.serial_number)
                .revocation_date(now - datetime.timedelta(hours=1)).build())
        files[name] = b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def raw_sig(key, data):
    r, s_ = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s_.to_bytes(32, "big")


def td_body(report_data, debug=False, mrtd=MRTD, tee_tcb_svn=bytes(16)):
    """A TD quote body (v4, 584 bytes): TEE_TCB_SVN, TD_ATTRIBUTES.DEBUG, MRTD and REPORTDATA
    set."""
    body = bytearray(584)
    body[0:16] = tee_tcb_svn
    body[120] = 1 if debug else 0  # TD_ATTRIBUTES.DEBUG
    body[136:184] = mrtd
    body[520:584] = report_data
    return bytes(body)


def td_body_of(tdreport):
    """The quote body of a TDREPORT (Intel TDX module ABI: REPORTMACSTRUCT at 0, TEE_TCB_INFO at
    256, TDINFO at 512), field by field as a quoting enclave copies them."""
    if len(tdreport) != TDREPORT_SIZE or tdreport[0] != 0x81:
        raise ValueError("not a TDREPORT (%d bytes, type 0x%02x)" % (
            len(tdreport), tdreport[0] if tdreport else 0))
    ti = tdreport[512:]
    body = bytearray(584)
    body[0:16] = tdreport[256 + 8:256 + 24]    # TEE_TCB_SVN
    body[16:64] = tdreport[256 + 24:256 + 72]  # MRSEAM
    body[120:136] = ti[0:16]                   # TD_ATTRIBUTES, XFAM
    body[136:328] = ti[16:208]                 # MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG
    body[328:520] = ti[208:400]                # RTMR0-3
    body[520:584] = tdreport[128:192]          # REPORTDATA
    return bytes(body)


def tdx_quote(pck_key, chain, report_data=None, debug=False, mrtd=MRTD, body=None):
    """A DCAP v4 quote: header, TD body (td_body() or the one given), signature data with the
    QE report binding a fresh attestation key and signed by the PCK key, the PCK chain; 70 zero
    bytes after it."""
    att = ec.generate_private_key(ec.SECP256R1())
    nums = att.public_key().public_numbers()
    att_raw = nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big")
    signed = struct.pack("<HHIHH", 4, 2, 0x81, 0, 0) + bytes(16 + 20) + \
        (body if body is not None else td_body(report_data, debug, mrtd))
    auth = bytes(range(32))
    qe = bytearray(384)
    qe[320:352] = hashlib.sha256(att_raw + auth).digest()
    cdata = bytes(qe) + raw_sig(pck_key, bytes(qe)) + struct.pack("<H", len(auth)) + auth + \
        struct.pack("<HI", 5, len(chain)) + chain
    sd = raw_sig(att, signed) + att_raw + struct.pack("<HI", 6, len(cdata)) + cdata
    return signed + struct.pack("<I", len(sd)) + sd + bytes(70)


def tdreport(report_data, mrtd=MRTD):
    """A TDREPORT (type 0x81) with REPORTDATA and MRTD; the MAC is the CPU's business."""
    td = bytearray(TDREPORT_SIZE)
    td[0] = 0x81
    td[128:192] = report_data
    td[528:576] = mrtd
    return bytes(td)


def tdx_hcl_blob(claims, mrtd=MRTD, size=2600):
    """NV 0x01400001 on Azure TDX: HCLA header, TDREPORT (type 0x81, REPORTDATA =
    SHA-256(claims) || 0^32, MRTD), zero padding to 1184, IGVM request data (TDX, SHA-256),
    the claims, zero padding to size bytes (2600 on current hosts, at most 2048 in swtpm)."""
    td = tdreport(hashlib.sha256(claims).digest() + bytes(32), mrtd)
    head = b"HCLA" + struct.pack("<IIII", 2, 1184, 2, 0) + bytes(12)
    req = struct.pack("<IIIII", 20 + len(claims), 1, 4, 1, len(claims))
    blob = head + td + bytes(160) + req + claims
    if len(blob) > size:
        raise ValueError("HCL blob of %d bytes does not fit %d" % (len(blob), size))
    return blob + bytes(size - len(blob))


# --- a swtpm with a socket interface, for tpm2-tools ---------------------------------------------

def free_pair():
    """A port whose successor is free too (the swtpm TCTI's control channel)."""
    while True:
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port >= 65535:
                continue
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port


class SwtpmTools:
    """tpm2-tools against swtpm's socket interface on a state directory, for what a paravisor
    would have set up (the tss2 of Debian 12 has a TCP-only swtpm TCTI)."""

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        # The swtpm TCTI wants the control channel on port + 1: both must be free, and another
        # test may take one between our check and swtpm's bind, so try again on a new pair.
        for _ in range(10):
            self.port = free_pair()
            self.ctrl = self.port + 1
            self.swtpm = subprocess.Popen(
                ["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + self.state,
                 "--server", "type=tcp,port=%d" % self.port,
                 "--ctrl", "type=tcp,port=%d" % self.ctrl,
                 "--flags", "not-need-init,startup-clear"])
            for _ in range(100):  # until swtpm listens on both, or gave up
                if self.swtpm.poll() is not None:
                    break
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    socket.create_connection(("127.0.0.1", self.ctrl), timeout=1).close()
                    return self
                except OSError:
                    time.sleep(0.05)
            if self.swtpm.poll() is None:
                self.swtpm.kill()
            self.swtpm.wait(timeout=10)
        sys.exit("swtpm socket did not start on any port pair")

    def run(self, *args):
        r = subprocess.run(list(args) + ["-T", "swtpm:host=127.0.0.1,port=%d" % self.port],
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            sys.exit("%s failed: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
        return r

    def __exit__(self, *exc):
        # TPM2_Shutdown first, so the next TPM2_Startup is an orderly one.
        subprocess.run(["tpm2_shutdown", "-T", "swtpm:host=127.0.0.1,port=%d" % self.port],
                       capture_output=True, timeout=30)
        subprocess.run(["swtpm_ioctl", "--tcp", "127.0.0.1:%d" % self.ctrl, "-s"],
                       capture_output=True, timeout=30)
        self.swtpm.wait(timeout=10)
