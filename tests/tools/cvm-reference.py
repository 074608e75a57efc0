#!/usr/bin/env python3
# Reference oracle for the CVM fixtures (tests/fixtures/cvm): a small, independent parser and
# verifier of SEV-SNP reports, Azure HCL reports, vTPM quotes and TDX quotes. Layouts follow the
# AMD SEV-SNP Firmware ABI "ATTESTATION_REPORT" table (offsets checked against go-sev-guest's
# abi.ReportToProto), Intel's DCAP quote format v4/v5 (checked against go-tdx-guest), the Azure
# paravisor's HCL header and IGVM_REQUEST_DATA (checked against kinvolk/azure-cvm-tooling), and
# the TDX TCB-status algorithm as go-tdx-guest's verify.go implements it. It is a test oracle
# only: never shipped, never trusted by the verifier; the C implementation must reach the same
# verdict and first reason for every line (make check-cvm-fixtures diffs it against EXPECTED).
#
# Usage: cvm-reference.py [--write-negatives DIR] [NAME...]
#   NAME is a fixture path relative to tests/fixtures/cvm (e.g. snp/trustee-report.bin) or a
#   derived negative (NAME!recipe, e.g. snp/trustee-report.bin!flip-signature-r), or QUOTE+TCBINFO for a
#   TDX TCB evaluation. Without NAME it
#   prints every case of CASES in order; EXPECTED is exactly that output.
#   --write-negatives DIR writes every derived negative whose bytes differ from its base as a
#   file DIR/<name with / and ! as _>, so a C test can feed it to the offline CLI.
#   --cli-args DIR (after --write-negatives DIR, same DIR) prints, for every SNP-family and TDX
#   case (snp-report, az-snp-hcl, vcek, vlek, vcek-chain, tdx-quote, az-tdx-hcl, tdx-tcb),
#   `name<TAB>arguments` for `nodegate-verifier platform verify`: the case's inputs as this
#   script uses them (VEK, a chain a recipe substitutes, written as DIR/chain-ASK_ARK.pem, the
#   TD quote of an Azure TDREPORT, the expected binding, the time). The verdicts stay
#   EXPECTED's; make check-cvm-verifier compares them.
# Output: one line per case, `name key=value ...`; the keys are described in EXPECTED's header.
#
# Needs python3-cryptography (ECDSA P-384/P-256 and RSA-PSS verification).

import base64
import datetime
import hashlib
import json
import os
import re
import struct
import sys
import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

# AMD's VCEKs and VLEKs have serial number 0, which RFC 5280 forbids and cryptography warns about.
warnings.filterwarnings("ignore", message="Parsed a serial number")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures", "cvm"))

# 2025-06-01T00:00:00Z: inside the validity of every certificate used below (the trustee VLEK
# expires 2025-12-10); certificates expire, so every case pins its verification time.
T_2025_06 = 1748736000
# 2026-01-01T00:00:00Z: after the trustee VLEK's notAfter.
T_2026_01 = 1767225600
# 2026-03-01T00:00:00Z: after go-tdx-guest's v5 sample PCK certificate was issued.
T_2026_03 = 1772323200


class Refused(Exception):
    """A verification step failed: reason is the verdict's machine-readable reason."""

    def __init__(self, reason, detail=""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def rd(path):
    with open(os.path.join(FIXTURES, path), "rb") as f:
        return f.read()


def base_bytes(name):
    """The evidence file of case name (a quote+collateral case names its quote)."""
    return rd(CASES[name].get("quote_file", name))


def u16(b, o):
    return struct.unpack_from("<H", b, o)[0]


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def u64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


def pem_certs(data):
    """Every certificate of a PEM bundle, in file order, as DER."""
    return [
        base64.b64decode(m.group(1))
        for m in re.finditer(
            rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", data, re.S
        )
    ]


def load_cert(data):
    if data.startswith(b"-----BEGIN"):
        return x509.load_der_x509_certificate(pem_certs(data)[0])
    return x509.load_der_x509_certificate(data)


def cn(name):
    v = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return v[0].value if v else ""


def fp(cert):
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


# ---------------------------------------------------------------------------------------------
# Pinned roots: every AMD certificate below is byte-identical in go-sev-guest verify/trust and
# trustee deps/verifier/src/snp (see roots/PROVENANCE); the oracle pins the SHA-256 of each DER.
PINNED = {
    "ARK-Milan": "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    "SEV-Milan": "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
    "SEV-VLEK-Milan": "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5",
    "ARK-Genoa": "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    "SEV-Genoa": "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
    "SEV-VLEK-Genoa": "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372",
    "ARK-Turin": "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
    "SEV-Turin": "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
    "SEV-VLEK-Turin": "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c",
    "Intel SGX Root CA": "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3",
}


def roots():
    """The pinned certificates by common name, read from the trustee bundles, checked."""
    out = {}
    for p in ("milan", "genoa", "turin"):
        for der in pem_certs(rd("roots/trustee-%s-ask-ark-asvk.pem" % p)):
            c = x509.load_der_x509_certificate(der)
            out[cn(c.subject)] = c
    out["Intel SGX Root CA"] = load_cert(rd("roots/gtg-intel-sgx-root-ca.pem"))
    for name, want in PINNED.items():
        if fp(out[name]) != want:
            raise SystemExit("pinned root %s differs from its fingerprint" % name)
    return out


ROOTS = None


def not_before(cert):
    # not_valid_*_utc appeared in cryptography 42; Debian 12 has 38 (naive datetimes in UTC).
    return getattr(cert, "not_valid_before_utc", None) or \
        cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(cert):
    return getattr(cert, "not_valid_after_utc", None) or \
        cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def check_time(cert, t, what):
    when = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    if not (not_before(cert) <= when <= not_after(cert)):
        raise Refused(what + "-expired", cn(cert.subject))


def verify_signed_by(cert, issuer, what):
    """cert's signature by issuer's key: RSA-PSS (AMD: SHA-384, salt 48) or ECDSA (Intel)."""
    if cert.issuer != issuer.subject:
        raise Refused(what + "-issuer-mismatch", cn(cert.issuer))
    pub = issuer.public_key()
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            # AMD signs with RSASSA-PSS only (OID 1.2.840.113549.1.1.10, SHA-384, salt 48).
            if cert.signature_algorithm_oid.dotted_string != "1.2.840.113549.1.1.10":
                raise Refused(what + "-signature-algorithm", cert.signature_algorithm_oid.dotted_string)
            pub.verify(
                cert.signature,
                cert.tbs_certificate_bytes,
                padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
                hashes.SHA384(),
            )
        else:
            pub.verify(
                cert.signature,
                cert.tbs_certificate_bytes,
                ec.ECDSA(cert.signature_hash_algorithm),
            )
    except InvalidSignature:
        raise Refused(what + "-signature-invalid", cn(cert.subject))


# ---------------------------------------------------------------------------------------------
# SEV-SNP ATTESTATION_REPORT (1184 = 0x4A0 bytes, little-endian). Offsets from the SNP ABI spec,
# equal to go-sev-guest abi.ReportToProto; the signed region is [0x000, 0x2A0).
SNP_REPORT_SIZE = 0x4A0
SNP_SIGNED = 0x2A0

POLICY_SMT, POLICY_RESERVED1, POLICY_MIGRATE_MA, POLICY_DEBUG, POLICY_SINGLE_SOCKET = 16, 17, 18, 19, 20


def snp_product(r):
    """Product from CPUID_FAM_ID/CPUID_MOD_ID (0x188, 0x189; report version >= 3)."""
    if r["version"] < 3:
        return None
    fam, mod = r["cpuid_fam"], r["cpuid_mod"]
    if fam == 0x19 and mod <= 0x0F:
        return "Milan"
    if fam == 0x19 and (0x10 <= mod <= 0x1F or 0xA0 <= mod <= 0xAF):
        return "Genoa"
    if fam == 0x1A and mod <= 0x11:
        return "Turin"
    return "unknown"


def tcb_parts(tcb, product):
    """TCB_VERSION: Milan/Genoa bl[0] tee[1] snp[6] ucode[7]; Turin fmc[0] bl[1] tee[2] snp[3] ucode[7]."""
    b = struct.pack("<Q", tcb)
    if product == "Turin":
        return {"fmc": b[0], "bl": b[1], "tee": b[2], "snp": b[3], "ucode": b[7]}
    return {"bl": b[0], "tee": b[1], "snp": b[6], "ucode": b[7]}


def tcb_str(tcb, product):
    p = tcb_parts(tcb, product)
    return ",".join("%s:%d" % (k, p[k]) for k in ("fmc", "bl", "tee", "snp", "ucode") if k in p)


def snp_parse(b):
    if len(b) != SNP_REPORT_SIZE:
        raise Refused("snp-report-size", str(len(b)))
    r = {
        "version": u32(b, 0x00),
        "guest_svn": u32(b, 0x04),
        "policy": u64(b, 0x08),
        "family_id": b[0x10:0x20],
        "image_id": b[0x20:0x30],
        "vmpl": u32(b, 0x30),
        "sig_algo": u32(b, 0x34),
        "current_tcb": u64(b, 0x38),
        "platform_info": u64(b, 0x40),
        "signer_info": u32(b, 0x48),  # bit 0 author_key_en, bit 1 mask_chip_key, bits 2-4 signing_key
        "report_data": b[0x50:0x90],
        "measurement": b[0x90:0xC0],
        "host_data": b[0xC0:0xE0],
        "id_key_digest": b[0xE0:0x110],
        "author_key_digest": b[0x110:0x140],
        "report_id": b[0x140:0x160],
        "report_id_ma": b[0x160:0x180],
        "reported_tcb": u64(b, 0x180),
        "cpuid_fam": b[0x188],  # version >= 3 only, zero (MBZ) in version 2
        "cpuid_mod": b[0x189],
        "cpuid_step": b[0x18A],
        "chip_id": b[0x1A0:0x1E0],
        "committed_tcb": u64(b, 0x1E0),
        "current_version": "%d.%d.%d" % (b[0x1EA], b[0x1E9], b[0x1E8]),
        "committed_version": "%d.%d.%d" % (b[0x1EE], b[0x1ED], b[0x1EC]),
        "launch_tcb": u64(b, 0x1F0),
        "launch_mit_vector": u64(b, 0x1F8),  # version >= 5
        "current_mit_vector": u64(b, 0x200),
        "sig_r": int.from_bytes(b[0x2A0:0x2A0 + 72], "little"),
        "sig_s": int.from_bytes(b[0x2A0 + 72:0x2A0 + 144], "little"),
    }
    if not 2 <= r["version"] <= 5:
        raise Refused("snp-report-version", str(r["version"]))
    if r["sig_algo"] != 1:
        raise Refused("snp-signature-algorithm", str(r["sig_algo"]))
    if not r["policy"] & (1 << POLICY_RESERVED1) or r["policy"] >> 26:
        raise Refused("snp-policy-reserved", hex(r["policy"]))
    # Reserved ranges must be zero (go-sev-guest abi.ReportToProto checks the same ranges).
    mbz = [(0x4C, 0x50), (0x18B if r["version"] >= 3 else 0x188, 0x1A0), (0x1EB, 0x1EC),
           (0x1EF, 0x1F0), (0x1F8 if r["version"] < 5 else 0x208, 0x2A0), (0x2A0 + 144, 0x4A0)]
    for lo, hi in mbz:
        if any(b[lo:hi]):
            raise Refused("snp-reserved-nonzero", "0x%x-0x%x" % (lo, hi))
    r["product"] = snp_product(r)
    r["signing_key"] = {0: "vcek", 1: "vlek", 7: "none"}.get((r["signer_info"] >> 2) & 7, "reserved")
    return r


AMD_OID = "1.3.6.1.4.1.3704.1."


def amd_ext(cert):
    """The AMD KDS extensions of a VCEK/VLEK: SPLs (INTEGER), hwID (OCTET STRING), product."""
    out = {}
    for e in cert.extensions:
        oid = e.oid.dotted_string
        if not oid.startswith(AMD_OID):
            continue
        raw = e.value.value
        key = oid[len(AMD_OID):]
        if key == "4":
            # Every real VCEK here (2022-2025, Milan, Genoa, Turin) stores hwID raw: the
            # extension value is the bytes themselves (64, or 8 on Turin), not DER. Only
            # trustee's synthetic test-vcek-invalid-new.der wraps it in an OCTET STRING.
            if len(raw) == 66 and raw[0] == 0x04 and raw[1] == 0x40:
                raw = raw[2:]
            out["hwid"] = raw
        elif key in ("2", "5"):
            out[key] = raw[2:].decode() if raw[0] in (0x16, 0x0C, 0x13) else raw.decode()
        elif key.startswith("3.") or key == "1":
            if raw[0] != 0x02 or raw[1] != len(raw) - 2:
                raise Refused("vek-extension-malformed", key)
            out[key] = int.from_bytes(raw[2:], "big")
    return out


def snp_verify(b, vek, chain_roots, t, expected_report_data=None, vek_kind=None, check_chain=True):
    """Returns (report, facts) or raises Refused. chain_roots: names of (ask, ark) to use."""
    r = snp_parse(b)
    facts = {}
    if vek is None:
        raise Refused("vek-missing")
    kind = "vlek" if cn(vek.subject) == "SEV-VLEK" else "vcek" if cn(vek.subject) == "SEV-VCEK" else "?"
    facts["vek"] = kind
    if r["signing_key"] != kind:
        raise Refused("snp-signer-mismatch", "%s vs %s" % (r["signing_key"], kind))
    if check_chain:
        ask, ark = ROOTS[chain_roots[0]], ROOTS[chain_roots[1]]
        if fp(ark) != PINNED[cn(ark.subject)]:
            raise Refused("ark-not-pinned")
        check_time(ark, t, "ark")
        check_time(ask, t, "ask")
        check_time(vek, t, kind)
        verify_signed_by(ark, ark, "ark")
        verify_signed_by(ask, ark, "ask")
        verify_signed_by(vek, ask, kind)
        facts["chain"] = "%s>%s>%s" % (kind, cn(ask.subject), cn(ark.subject))
    ext = amd_ext(vek)
    product = r["product"] or (ext.get("2", "").split("-")[0] or None)
    facts["product"] = product or "?"
    # The VCEK is issued for one chip (hwID) at one TCB: both must equal the report's.
    if kind == "vcek":
        # Turin VCEKs carry an 8-byte hwID: the first 8 bytes of CHIP_ID.
        want_id = r["chip_id"][:8] if product == "Turin" else r["chip_id"]
        if ext.get("hwid") != want_id:
            raise Refused("vcek-chip-id-mismatch")
    want = tcb_parts(r["reported_tcb"], product)
    names = {"bl": "3.1", "tee": "3.2", "snp": "3.3", "ucode": "3.8", "fmc": "3.9"}
    for k, v in want.items():
        if ext.get(names[k]) != v:
            raise Refused("vek-tcb-mismatch", "%s cert=%s report=%s" % (k, ext.get(names[k]), v))
    pub = vek.public_key()
    if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != "secp384r1":
        raise Refused("vek-key-type")
    try:
        pub.verify(encode_dss_signature(r["sig_r"], r["sig_s"]), b[:SNP_SIGNED], ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise Refused("snp-signature-invalid")
    # Guest policy checks every sane policy wants.
    if r["policy"] & (1 << POLICY_DEBUG):
        raise Refused("snp-policy-debug")
    if r["vmpl"] != 0:
        raise Refused("snp-vmpl", str(r["vmpl"]))
    if expected_report_data is not None and r["report_data"] != expected_report_data:
        raise Refused("snp-report-data-mismatch")
    return r, facts


def snp_fields(r):
    pol = r["policy"]
    prod = r["product"] or "Milan"
    return [
        ("version", r["version"]),
        ("vmpl", r["vmpl"]),
        ("policy", "0x%x" % pol),
        ("debug", (pol >> POLICY_DEBUG) & 1),
        ("migrate_ma", (pol >> POLICY_MIGRATE_MA) & 1),
        ("smt", (pol >> POLICY_SMT) & 1),
        ("abi", "%d.%d" % ((pol >> 8) & 0xFF, pol & 0xFF)),
        ("guest_svn", r["guest_svn"]),
        ("signing_key", r["signing_key"]),
        ("mask_chip_id", (r["signer_info"] >> 1) & 1),
        ("cpuid", "%02x/%02x/%02x" % (r["cpuid_fam"], r["cpuid_mod"], r["cpuid_step"])
         if r["version"] >= 3 else "-"),
        ("reported_tcb", "0x%016x(%s)" % (r["reported_tcb"], tcb_str(r["reported_tcb"], prod))),
        ("launch_tcb", "0x%016x" % r["launch_tcb"]),
        ("committed_tcb", "0x%016x" % r["committed_tcb"]),
        ("current_tcb", "0x%016x" % r["current_tcb"]),
        ("platform_info", "0x%x" % r["platform_info"]),
        ("report_data", r["report_data"].hex()),
        ("measurement", r["measurement"].hex()),
        ("host_data", r["host_data"].hex()),
        ("id_key_digest", r["id_key_digest"].hex() if any(r["id_key_digest"]) else "0"),
        ("author_key_digest", r["author_key_digest"].hex() if any(r["author_key_digest"]) else "0"),
        ("family_id", r["family_id"].hex()),
        ("image_id", r["image_id"].hex()),
        ("firmware", r["current_version"]),
        ("chip_id", r["chip_id"].hex()),
    ]


# ---------------------------------------------------------------------------------------------
# Azure HCL report ("HCLA"), as the paravisor writes it to TPM NV 0x01400001:
#   0x000 ATTESTATION_HEADER (32): signature "HCLA", version, report_size, request_type,
#         status, reserved[3]
#   0x020 hardware report (1184 bytes reserved; SNP report 1184, or TDREPORT 1024 + zero pad)
#   0x4C0 IGVM_REQUEST_DATA (20): data_size, version, report_type (2 SNP, 4 TDX),
#         report_data_hash_type (1 SHA-256, 2 SHA-384, 3 SHA-512), variable_data_size
#   0x4D4 variable data: the runtime-claims JSON, variable_data_size bytes; the rest of the NV
#         index is padding (zeros) up to its size (2600 on current hosts, 2048 on older ones).
HCL_HW = 0x20
HCL_REQ = 0x20 + 1184
HCL_VAR = HCL_REQ + 20


def hcl_parse(b):
    if len(b) < HCL_VAR or b[:4] != b"HCLA":
        raise Refused("hcl-header")
    h = {
        "hdr_version": u32(b, 4),
        "report_size": u32(b, 8),
        "request_type": u32(b, 12),
        "status": u32(b, 16),
        "data_size": u32(b, HCL_REQ),
        "req_version": u32(b, HCL_REQ + 4),
        "report_type": u32(b, HCL_REQ + 8),
        "hash_type": u32(b, HCL_REQ + 12),
        "var_size": u32(b, HCL_REQ + 16),
    }
    if HCL_VAR + h["var_size"] > len(b):
        raise Refused("hcl-claims-size")
    h["claims"] = b[HCL_VAR:HCL_VAR + h["var_size"]]
    if h["report_type"] == 2:
        h["hw"] = b[HCL_HW:HCL_HW + SNP_REPORT_SIZE]
    elif h["report_type"] == 4:
        h["hw"] = b[HCL_HW:HCL_HW + 1024]
        if any(b[HCL_HW + 1024:HCL_REQ]):
            raise Refused("hcl-padding-nonzero")
    else:
        raise Refused("hcl-report-type", str(h["report_type"]))
    return h


def claims_facts(claims):
    """What the verifier binds to: user-data and the HCL AK/EK, from the raw claims JSON."""
    try:
        j = json.loads(claims)
    except ValueError:
        return [("claims_sha256", hashlib.sha256(claims).hexdigest()), ("claims", "invalid-json")]
    kids = [k.get("kid") for k in j.get("keys", [])]
    out = [
        ("claims_sha256", hashlib.sha256(claims).hexdigest()),
        ("hclakpub", int("HCLAkPub" in kids)),
        ("hclekpub", int("HCLEkPub" in kids)),
        ("user_data", j.get("user-data", "-").lower() or "-"),
        ("vm_id", j.get("vm-configuration", {}).get("vmUniqueId", "-")),
    ]
    vc = j.get("vm-configuration", {})
    out.append(("vm_cfg", "secure-boot:%d,tpm:%d,console:%d" % (
        int(bool(vc.get("secure-boot"))), int(bool(vc.get("tpm-enabled"))),
        int(bool(vc.get("console-enabled"))))))
    return out


def hcl_binding(h):
    hashes_ = {1: hashlib.sha256, 2: hashlib.sha384, 3: hashlib.sha512}
    if h["hash_type"] not in hashes_:
        raise Refused("hcl-hash-type")
    return hashes_[h["hash_type"]](h["claims"]).digest()


# ---------------------------------------------------------------------------------------------
# TDX: TDREPORT (1024, Intel TDX Module ABI) and quotes v4/v5 (Intel DCAP "Quote Format").
def tdreport_parse(b):
    # REPORTMACSTRUCT (256): type(8) rsvd(12) cpusvn(16) tee_tcb_info_hash(48) tee_info_hash(48)
    # report_data(64) rsvd(32) mac(32); TEE_TCB_INFO (239) + rsvd (17); TDINFO (512) at 512:
    # attributes(8) xfam(8) mrtd(48) mrconfigid(48) mrowner(48) mrownerconfig(48) rtmr0-3(4x48)
    if len(b) != 1024 or b[0] != 0x81:
        raise Refused("tdreport-type", "%02x" % b[0])
    ti = 512
    return {
        "report_data": b[128:192],
        "td_attributes": b[ti:ti + 8],
        "xfam": b[ti + 8:ti + 16],
        "mrtd": b[ti + 16:ti + 64],
        "mrconfigid": b[ti + 64:ti + 112],
        "mrowner": b[ti + 112:ti + 160],
        "mrownerconfig": b[ti + 160:ti + 208],
        "rtmr": [b[ti + 208 + 48 * i:ti + 256 + 48 * i] for i in range(4)],
        "tee_tcb_svn": b[256 + 8:256 + 24],
        "mrseam": b[256 + 24:256 + 72],
    }


def quote_parse(q):
    if len(q) < 48:
        raise Refused("tdx-quote-size")
    ver, akt, tee = u16(q, 0), u16(q, 2), u32(q, 4)
    if ver not in (4, 5):
        raise Refused("tdx-quote-version", str(ver))
    if tee != 0x81:
        raise Refused("tdx-quote-tee-type", hex(tee))
    if akt != 2:
        raise Refused("tdx-quote-key-type", str(akt))
    off = 48
    body_type = 2
    if ver == 5:
        body_type, body_size = u16(q, 48), u32(q, 50)
        off = 54
        if (body_type, body_size) not in ((2, 584), (3, 648)):
            raise Refused("tdx-quote-body", "%d/%d" % (body_type, body_size))
    size = 584 if body_type == 2 else 648
    body = q[off:off + size]
    if len(body) != size:
        raise Refused("tdx-quote-size")
    t = {
        "version": ver,
        "body_type": body_type,
        "qe_vendor": q[12:28],
        "signed": q[:off + size],
        "tee_tcb_svn": body[0:16],
        "mrseam": body[16:64],
        "mrsignerseam": body[64:112],
        "seam_attributes": body[112:120],
        "td_attributes": body[120:128],
        "xfam": body[128:136],
        "mrtd": body[136:184],
        "mrconfigid": body[184:232],
        "mrowner": body[232:280],
        "mrownerconfig": body[280:328],
        "rtmr": [body[328 + 48 * i:376 + 48 * i] for i in range(4)],
        "report_data": body[520:584],
    }
    if body_type == 3:
        t["tee_tcb_svn2"] = body[584:600]
        t["mrservicetd"] = body[600:648]
    o = off + size
    sig_len = u32(q, o)
    sd = q[o + 4:o + 4 + sig_len]
    if len(sd) != sig_len or sig_len < 128 + 6:
        raise Refused("tdx-quote-size")
    t["sig"] = sd[0:64]
    t["attest_key"] = sd[64:128]
    ctype, csize = u16(sd, 128), u32(sd, 130)
    cdata = sd[134:134 + csize]
    if ctype != 6 or len(cdata) != csize:
        raise Refused("tdx-quote-cert-data", str(ctype))
    # QE report certification data: QE report (384), its signature (64), QE auth data, then
    # the nested certification data (type 5: the PCK chain as PEM).
    t["qe_report"] = cdata[0:384]
    t["qe_sig"] = cdata[384:448]
    alen = u16(cdata, 448)
    t["qe_auth"] = cdata[450:450 + alen]
    p = 450 + alen
    t["pck_type"], psize = u16(cdata, p), u32(cdata, p + 2)
    t["pck_chain"] = cdata[p + 6:p + 6 + psize]
    if t["pck_type"] != 5 or len(t["pck_chain"]) != psize:
        raise Refused("tdx-quote-pck-missing", str(t["pck_type"]))
    t["trailing"] = len(q) - (o + 4 + sig_len)
    return t


def ecdsa_raw_verify(pub_raw, sig_raw, data):
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + pub_raw)
    sig = encode_dss_signature(int.from_bytes(sig_raw[:32], "big"), int.from_bytes(sig_raw[32:], "big"))
    pub.verify(sig, data, ec.ECDSA(hashes.SHA256()))


def quote_verify(t, time_):
    """Signatures and chain; TCB status needs the collateral (not evaluated here)."""
    certs = [x509.load_der_x509_certificate(d) for d in pem_certs(t["pck_chain"])]
    if len(certs) != 3:
        raise Refused("tdx-pck-chain-length", str(len(certs)))
    pck, inter, root = certs
    if fp(root) != PINNED["Intel SGX Root CA"]:
        raise Refused("tdx-root-not-pinned")
    for c in certs:
        check_time(c, time_, "tdx-pck-chain")
    verify_signed_by(root, root, "tdx-root")
    verify_signed_by(inter, root, "tdx-pck-ca")
    verify_signed_by(pck, inter, "tdx-pck")
    try:
        pck.public_key().verify(
            encode_dss_signature(int.from_bytes(t["qe_sig"][:32], "big"), int.from_bytes(t["qe_sig"][32:], "big")),
            t["qe_report"], ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Refused("tdx-qe-report-signature-invalid")
    # QE REPORT.report_data[0:32] = SHA-256(attestation key || QE auth data), rest zero.
    want = hashlib.sha256(t["attest_key"] + t["qe_auth"]).digest() + bytes(32)
    if t["qe_report"][320:384] != want:
        raise Refused("tdx-qe-report-data-mismatch")
    try:
        ecdsa_raw_verify(t["attest_key"], t["sig"], t["signed"])
    except InvalidSignature:
        raise Refused("tdx-quote-signature-invalid")
    return {"pck_ca": cn(inter.subject).replace(" ", "_"), "pck_issuer": cn(pck.issuer).replace(" ", "_")}


# Intel SGX/TDX PCK certificate extensions (OID 1.2.840.113741.1.13.1): FMSPC, PCE-ID, the 16
# SGX TCB component SVNs and the PCESVN. Found by their DER-encoded OIDs, each followed by its
# value's TLV; enough for a test oracle.
SGX_OID = bytes.fromhex("2a864886f84d010d01")


def pck_ext(der):
    def grab(suffix):
        oid = b"\x06" + bytes([len(SGX_OID) + len(suffix)]) + SGX_OID + suffix
        i = der.find(oid)
        if i < 0:
            raise Refused("tdx-pck-extension-missing", suffix.hex())
        j = i + len(oid)
        return der[j + 2:j + 2 + der[j + 1]]
    return {
        "fmspc": grab(b"\x04").hex(),
        "pceid": grab(b"\x03").hex(),
        "comp": [int.from_bytes(grab(b"\x02" + bytes([i])), "big") for i in range(1, 17)],
        "pcesvn": int.from_bytes(grab(b"\x02\x11"), "big"),
    }


def iso(ts):
    return int(datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp())


def raw_member(body, key):
    """The raw bytes of the top-level member key of the JSON text body (exactly what Intel's
    signature covers); a duplicate of the key is refused, as the verifier does."""
    s = body.decode("utf-8")
    dec = json.JSONDecoder()
    ws = re.compile(r"[ \t\n\r]*")
    i = ws.match(s, 0).end()
    if s[i:i + 1] != "{":
        raise ValueError("not an object")
    i = ws.match(s, i + 1).end()
    found = None
    while s[i:i + 1] != "}":
        _, kend = json.decoder.scanstring(s, i + 1)
        raw_key = s[i + 1:kend - 1]
        i = ws.match(s, kend).end()
        if s[i] != ":":
            raise ValueError("no colon")
        v = ws.match(s, i + 1).end()
        _, vend = dec.raw_decode(s, v)
        if raw_key == key:
            if found is not None:
                raise ValueError("duplicate " + key)
            found = s[v:vend]
        i = ws.match(s, vend).end()
        if s[i] == ",":
            i = ws.match(s, i + 1).end()
    if found is None:
        raise ValueError("no " + key)
    return found.encode("utf-8")


def load_crl(data):
    try:
        return x509.load_der_x509_crl(data)
    except ValueError:
        return x509.load_pem_x509_crl(data)


def tdx_collateral(t, files, time_, fields):
    """Intel's PCS collateral (files: name -> bytes, the operator's directory) authenticated in
    the verifier's order: the TCB signing chain to the pinned root, the signed TCB info and QE
    identity, the root CA's CRL, the PCK CA's CRL. Returns (tcbInfo, enclaveIdentity)."""
    chain = [x509.load_der_x509_certificate(d) for d in pem_certs(t["pck_chain"])]
    pck, pck_ca = chain[0], chain[1]
    ext = pck_ext(pem_certs(t["pck_chain"])[0])
    fields += [("fmspc", ext["fmspc"]), ("pck_tcb", ",".join(map(str, ext["comp"][:8]))),
               ("pcesvn", ext["pcesvn"])]

    def get(name):
        if name not in files:
            raise Refused("tdx-collateral-missing", name)
        return files[name]
    certs = [x509.load_der_x509_certificate(d) for d in pem_certs(get("tcb-signing-chain.pem"))]
    if len(certs) != 2 or fp(certs[1]) != PINNED["Intel SGX Root CA"]:
        raise Refused("tdx-collateral-chain-invalid")
    signer, root = certs
    try:
        if cn(signer.subject) != "Intel SGX TCB Signing" or signer.issuer != root.subject:
            raise InvalidSignature()
        root.public_key().verify(signer.signature, signer.tbs_certificate_bytes,
                                 ec.ECDSA(signer.signature_hash_algorithm))
    except InvalidSignature:
        raise Refused("tdx-collateral-chain-invalid")
    when = datetime.datetime.fromtimestamp(time_, datetime.timezone.utc)
    for c in certs:
        if not not_before(c) <= when <= not_after(c):
            raise Refused("tdx-collateral-chain-expired")
    out = []
    for name, member, bad in (("tcbinfo-%s.json" % ext["fmspc"], "tcbInfo", "tdx-tcbinfo-signature-invalid"),
                              ("qe-identity.json", "enclaveIdentity", "tdx-qe-identity-signature-invalid")):
        body = get(name)
        try:
            sig = bytes.fromhex(json.loads(body)["signature"])
            raw = raw_member(body, member)
            if len(sig) != 64:
                raise ValueError("signature length")
            signer.public_key().verify(
                encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
                raw, ec.ECDSA(hashes.SHA256()))
        except (ValueError, KeyError, InvalidSignature):
            raise Refused(bad)
        out.append(json.loads(raw))
    fields += [("tcbinfo_window", "%s..%s" % (out[0]["issueDate"], out[0]["nextUpdate"])),
               ("qeid_window", "%s..%s" % (out[1]["issueDate"], out[1]["nextUpdate"]))]
    pck_crl = "pck-crl-processor.der" if cn(pck_ca.subject) == "Intel SGX PCK Processor CA" \
        else "pck-crl-platform.der"
    for name, issuer, revocable, revoked in (("root-ca-crl.der", root, (pck_ca, signer), "tdx-ca-revoked"),
                                             (pck_crl, pck_ca, (pck,), "tdx-pck-revoked")):
        try:
            crl = load_crl(get(name))
        except ValueError:
            raise Refused("tdx-crl-invalid", name)
        if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
            raise Refused("tdx-crl-invalid", name)
        # last_update_utc appeared in cryptography 42; Debian 12 has 38 (naive, in UTC).
        last = getattr(crl, "last_update_utc", None) or \
            crl.last_update.replace(tzinfo=datetime.timezone.utc)
        nxt = getattr(crl, "next_update_utc", None) or \
            (crl.next_update and crl.next_update.replace(tzinfo=datetime.timezone.utc))
        if nxt is None or not last <= when <= nxt:
            raise Refused("tdx-crl-expired", name)
        fields.append(("%s_window" % name.split(".")[0].replace("-", "_"), "%s..%s" % (
            last.strftime("%Y-%m-%d"), nxt.strftime("%Y-%m-%d"))))
        for c in revocable:
            if crl.get_revoked_certificate_by_serial_number(c.serial_number) is not None:
                raise Refused(revoked, cn(c.subject))
    return out[0], out[1]


def tdx_tcb_status(t, ti, qi, time_, fields):
    """TCB status from PCS collateral (already authenticated: tdx_collateral), the algorithm of
    Intel's QVL as go-tdx-guest's verify.go implements it (getMatchingTcbLevel,
    getMatchingTdxModuleTcbLevel, verifyQeReport). Appends to fields; raises Refused on the
    first failing check."""
    pck = pck_ext(pem_certs(t["pck_chain"])[0])
    if ti["id"] != "TDX" or qi["id"] != "TD_QE":
        raise Refused("tdx-collateral-kind")
    if not iso(ti["issueDate"]) <= time_ <= iso(ti["nextUpdate"]):
        raise Refused("tdx-tcbinfo-expired")
    if ti["fmspc"].lower() != pck["fmspc"] or ti["pceId"].lower() != pck["pceid"]:
        raise Refused("tdx-tcbinfo-fmspc-mismatch", ti["fmspc"])
    mod = ti["tdxModule"]
    if bytes.fromhex(mod["mrsigner"]) != t["mrsignerseam"]:
        raise Refused("tdx-module-mrsigner-mismatch")
    mask = bytes.fromhex(mod["attributesMask"])
    if bytes(a & b for a, b in zip(mask, t["seam_attributes"])) != bytes.fromhex(mod["attributes"]):
        raise Refused("tdx-module-attributes-mismatch")
    svn = t["tee_tcb_svn"]
    level = None
    for lv in ti["tcbLevels"]:
        tcb = lv["tcb"]
        sgx = [c["svn"] for c in tcb["sgxtcbcomponents"]]
        tdx = [c["svn"] for c in tcb["tdxtcbcomponents"]]
        start = 2 if svn[1] > 0 else 0  # with a TDX module major version, 0-1 are the module's
        if all(p >= q for p, q in zip(pck["comp"], sgx)) and pck["pcesvn"] >= tcb["pcesvn"] and \
                all(svn[i] >= tdx[i] for i in range(start, 16)):
            level = lv
            break
    if level is None:
        raise Refused("tdx-tcb-level-unsupported")
    status = level["tcbStatus"]
    fields.append(("platform_tcb", "%s@%s" % (status, level["tcbDate"][:10])))
    if svn[1] > 0:
        mid = "TDX_%02x" % svn[1]  # go-tdx-guest: "TDX_" + hex.EncodeToString
        ids = [m for m in ti.get("tdxModuleIdentities", []) if m["id"] == mid]
        if not ids:
            raise Refused("tdx-module-identity-missing", mid)
        ml = [lv for lv in ids[0]["tcbLevels"] if svn[0] >= lv["tcb"]["isvsvn"]]
        if not ml:
            raise Refused("tdx-module-tcb-unsupported")
        status = ml[0]["tcbStatus"]
        fields.append(("module_tcb", "%s:%s" % (mid, status)))
    fields.append(("tcb_status", status))
    # The QE: its REPORT (SGX report body) against the QE identity.
    qe = t["qe_report"]
    if not iso(qi["issueDate"]) <= time_ <= iso(qi["nextUpdate"]):
        raise Refused("tdx-qe-identity-expired")
    misc = u32(qe, 16) & struct.unpack("<I", bytes.fromhex(qi["miscselectMask"]))[0]
    if misc != struct.unpack("<I", bytes.fromhex(qi["miscselect"]))[0]:
        raise Refused("tdx-qe-identity-mismatch", "miscselect")
    amask = bytes.fromhex(qi["attributesMask"])
    if bytes(a & b for a, b in zip(amask, qe[48:64])) != bytes.fromhex(qi["attributes"]):
        raise Refused("tdx-qe-identity-mismatch", "attributes")
    if qe[128:160] != bytes.fromhex(qi["mrsigner"]) or u16(qe, 256) != qi["isvprodid"]:
        raise Refused("tdx-qe-identity-mismatch", "mrsigner/isvprodid")
    ql = [lv for lv in qi["tcbLevels"] if lv["tcb"]["isvsvn"] <= u16(qe, 258)]
    if not ql:
        raise Refused("tdx-qe-tcb-unsupported")
    fields.append(("qe_tcb_status", ql[0]["tcbStatus"]))
    if status != "UpToDate":
        raise Refused("tdx-tcb-status", status)
    if ql[0]["tcbStatus"] != "UpToDate":
        raise Refused("tdx-qe-tcb-status", ql[0]["tcbStatus"])


def tdx_fields(t):
    out = [("version", t.get("version", "-")), ("td_attributes", t["td_attributes"].hex()),
           ("debug", t["td_attributes"][0] & 1), ("xfam", t["xfam"].hex()),
           ("tee_tcb_svn", t["tee_tcb_svn"].hex()), ("mrseam", t["mrseam"].hex()),
           ("mrtd", t["mrtd"].hex())]
    for i in range(4):
        out.append(("rtmr%d" % i, t["rtmr"][i].hex()))
    out += [("mrconfigid", t["mrconfigid"].hex() if any(t["mrconfigid"]) else "0"),
            ("mrowner", t["mrowner"].hex() if any(t["mrowner"]) else "0"),
            ("report_data", t["report_data"].hex())]
    return out


# ---------------------------------------------------------------------------------------------
# vTPM quotes (TPM2_Quote: TPMS_ATTEST, big-endian) signed by the HCL's AK (RSASSA-PKCS1-v1_5,
# SHA-256): the link from the TEE report's claims to the TPM the node seals to.
def b64u(s_):
    return base64.urlsafe_b64decode(s_ + "=" * (-len(s_) % 4))


def hcl_key(path, kid):
    h = hcl_parse(rd(path))
    for k in json.loads(h["claims"]).get("keys", []):
        if k.get("kid") == kid:
            if k.get("kty") != "RSA":
                raise Refused("hcl-key-type")
            return rsa.RSAPublicNumbers(int.from_bytes(b64u(k["e"]), "big"),
                                        int.from_bytes(b64u(k["n"]), "big")).public_key()
    raise Refused("hcl-akpub-missing")


def tpm_quote_load(path):
    """(message, signature, pcrs or None) from trustee's hex JSON, kinvolk's bincode
    (u64 LE length-prefixed signature, message, then PCR count and 32-byte PCRs) or a .msg."""
    data = rd(path)
    if path.endswith(".json"):
        d = json.loads(data)
        return bytes.fromhex(d["message"]), bytes.fromhex(d["signature"]), [bytes.fromhex(x) for x in d["pcrs"]]
    if path.endswith(".msg"):
        return data, rd(path[:-4] + ".sig"), None
    o, out = 0, []
    for _ in range(2):
        n = u64(data, o)
        out.append(data[o + 8:o + 8 + n])
        o += 8 + n
    n = u64(data, o)
    pcrs = [data[o + 8 + 32 * i:o + 40 + 32 * i] for i in range(n)]
    return out[1], out[0], pcrs


def tpms_attest(m):
    be16 = lambda o: struct.unpack_from(">H", m, o)[0]
    if struct.unpack_from(">I", m, 0)[0] != 0xFF544347 or be16(4) != 0x8018:
        raise Refused("tpm-quote-format")
    o = 6
    o += 2 + be16(o)  # qualifiedSigner
    n = be16(o)
    extra = m[o + 2:o + 2 + n]
    o += 2 + n + 17 + 8  # clockInfo, firmwareVersion
    count = struct.unpack_from(">I", m, o)[0]
    o += 4
    sel = []
    for _ in range(count):
        alg, size = be16(o), m[o + 2]
        bits = m[o + 3:o + 3 + size]
        sel.append((alg, [i for i in range(8 * size) if bits[i // 8] >> (i % 8) & 1]))
        o += 3 + size
    n = be16(o)
    return {"nonce": extra, "sel": sel, "pcr_digest": m[o + 2:o + 2 + n]}


# ---------------------------------------------------------------------------------------------
# The cases. Order of checks (the C verifier must refuse with the same first reason):
#   SNP:   parse (size, version 2-5, signature algorithm, policy reserved bit, MBZ ranges)
#          -> chain VEK->ASK|ASVK->ARK at the pinned time against the pinned ARK
#          -> the VEK matches the report (signing_key kind, VCEK hwID = chip_id, TCB SPLs =
#             reported_tcb) -> the report signature -> policy (DEBUG=0, VMPL 0) -> REPORT_DATA
#   Azure: HCL parse -> the SNP steps above (binding excepted) -> report_data[0:32] =
#          hash(claims) (report_data[32:64] zero) -> claims JSON -> user-data = expected
#   TDX:   quote parse -> PCK chain to the pinned Intel root -> QE report signature -> QE
#          report binds the attestation key -> quote signature -> TD attributes DEBUG=0 ->
#          REPORTDATA; TCB status from collateral is NOT evaluated here (see docs/cvm.md).
def with_flip(b, off, mask=0x01):
    b = bytearray(b)
    b[off] ^= mask
    return bytes(b)


def hcl_flip_claims(b, needle, repl):
    """Change the claims JSON inside an HCL blob, keeping its length (report_data unchanged)."""
    h = hcl_parse(b)
    c = h["claims"]
    i = c.index(needle)
    assert len(needle) == len(repl)
    return b[:HCL_VAR + i] + repl + b[HCL_VAR + i + len(needle):]


# name -> dict(kind, data (bytes-producing callable), and per kind: vek, chain, time, ...)
CASES = {}


def case(name, **kw):
    CASES[name] = kw


SNP_MILAN = ("SEV-Milan", "ARK-Milan")
SNP_GENOA = ("SEV-Genoa", "ARK-Genoa")
SNP_TURIN = ("SEV-Turin", "ARK-Turin")
VLEK_MILAN = ("SEV-VLEK-Milan", "ARK-Milan")

# --- bare SNP reports
case("snp/trustee-report.bin", kind="snp-report", vek="snp/trustee-vcek.der", chain=SNP_MILAN,
     time=T_2025_06)
case("snp/trustee-vlek-report.bin", kind="snp-report", vek="snp/trustee-vlek.der",
     chain=VLEK_MILAN, time=T_2025_06, note="VMPL 1: requested from VMPL 1 (e.g. a guest below an SVSM), not VMPL 0")
case("snp/gsg-attestation.bin", kind="snp-report", vek="snp/gsg-vcek.der", chain=SNP_MILAN,
     time=T_2025_06, note="policy DEBUG=1")
case("snp/virtee-report-milan.bin", kind="snp-report", vek="snp/virtee-vcek-milan.der", chain=SNP_MILAN,
     time=T_2025_06)
# --- the certificates on their own (chain only)
for v, ch in (("snp/trustee-vcek.der", SNP_MILAN), ("snp/trustee-vcek-invalid-legacy.der", SNP_MILAN),
              ("snp/trustee-vcek-invalid-new.der", SNP_MILAN), ("snp/gsg-vcek.der", SNP_MILAN),
              ("snp/virtee-vcek-milan.der", SNP_MILAN), ("snp/virtee-vcek-turin.der", SNP_TURIN),
              ("azure-snp/trustee-vcek-genoa.pem", SNP_GENOA), ("azure-snp/trustee-ev-v0-vcek.pem", SNP_MILAN),
              ("azure-snp/trustee-ev-v1-vcek.der", SNP_MILAN), ("azure-snp/trustee-ev-v2-vcek.der", SNP_MILAN)):
    case(v, kind="vcek", chain=ch, time=T_2025_06)
case("snp/trustee-vlek.der", kind="vlek", chain=VLEK_MILAN, time=T_2025_06)
case("azure-snp/trustee-vcek-chain.pem", kind="vcek-chain", chain=SNP_MILAN, time=T_2025_06)
case("azure-snp/kinvolk-certs.pem", kind="vcek-chain", chain=SNP_MILAN, time=T_2025_06)

# --- Azure SNP HCL reports (expected user-data: what the claims carry; 64 zero bytes when the
# paravisor's NV 0x01400002 was never written)
case("azure-snp/trustee-hcl-report.bin", kind="az-snp-hcl", vek="azure-snp/trustee-vcek-chain.pem",
     chain=SNP_MILAN, time=T_2025_06)
case("azure-snp/trustee-ev-v0-hcl.bin", kind="az-snp-hcl", vek="azure-snp/trustee-ev-v0-vcek.pem",
     chain=SNP_MILAN, time=T_2025_06)
case("azure-snp/trustee-ev-v1-hcl.bin", kind="az-snp-hcl", vek="azure-snp/trustee-ev-v1-vcek.der",
     chain=SNP_MILAN, time=T_2025_06)
case("azure-snp/trustee-ev-v2-hcl.bin", kind="az-snp-hcl", vek="azure-snp/trustee-ev-v2-vcek.der",
     chain=SNP_MILAN, time=T_2025_06)
case("azure-snp/trustee-ev-genoa-hcl.bin", kind="az-snp-hcl", vek="azure-snp/trustee-vcek-genoa.pem",
     chain=SNP_GENOA, time=T_2025_06)
# kinvolk's certs.pem is the VCEK of another chip (its tests never pair the two): no VCEK of
# this report is public, so it is refused for want of one; its claims binding still holds.
case("azure-snp/kinvolk-hcl-report-snp.bin", kind="az-snp-hcl", vek=None, chain=SNP_MILAN,
     time=T_2025_06)
case("azure-snp/kinvolk-var-data.bin", kind="az-claims", time=T_2025_06)

# vTPM quotes: signed by the HCLAkPub of the HCL report beside them, nonce "challenge".
AZ_SNP_AK = ("azure-snp/trustee-hcl-report.bin", "HCLAkPub")
AZ_TDX_AK = ("azure-tdx/trustee-hcl-report.bin", "HCLAkPub")
case("azure-snp/trustee-tpm-quote-v1.json", kind="tpm-quote", ak=AZ_SNP_AK, time=T_2025_06)
case("azure-snp/trustee-tpm-quote.bin", kind="tpm-quote", ak=AZ_SNP_AK, time=T_2025_06)
case("azure-snp/kinvolk-tpm-quote.bin", kind="tpm-quote", ak="azure-snp/kinvolk-akpub.pem", time=T_2025_06)
# Signed by an AK that is in none of the published files.
case("azure-snp/trustee-tpm-quote.msg", kind="tpm-quote", ak=None, time=T_2025_06)
case("azure-tdx/trustee-tpm-quote-v1.json", kind="tpm-quote", ak=AZ_TDX_AK, time=T_2025_06)
case("azure-tdx/trustee-tpm-quote.bin", kind="tpm-quote", ak=AZ_TDX_AK, time=T_2025_06)

# --- Azure TDX
case("azure-tdx/trustee-hcl-report.bin", kind="az-tdx-hcl", quote="azure-tdx/trustee-td-quote.bin",
     time=T_2025_06)
case("azure-tdx/kinvolk-hcl-report-tdx.bin", kind="az-tdx-hcl", quote=None, time=T_2025_06)
case("azure-tdx/trustee-td-quote.bin", kind="tdx-quote", time=T_2025_06)

# --- TDX quotes
for q in ("tdx/gtg-quote-v4-spr-e4.dat", "tdx/gtg-quote-v5-sample.dat", "tdx/gtg-cos-113-quote.dat",
          "tdx/trustee-quote-4.dat", "tdx/trustee-quote-5.dat", "tdx/trustee-quote-6.dat"):
    case(q, kind="tdx-quote", time=T_2025_06)
# Its PCK certificate was issued 2026-01-27.
CASES["tdx/gtg-quote-v5-sample.dat"]["time"] = T_2026_03
CASES["tdx/gtg-cos-113-quote.dat"]["report_data"] = rd("tdx/gtg-cos-113-nonce.dat")

# --- TDX TCB status against go-tdx-guest's PCS collateral, kept as an operator keeps it
# (tdx/pcs: the TCB infos of two FMSPCs, the QE identity, the TCB signing chain of the PCS
# response headers, the CRLs), at a time inside the TCB info's window. The 2026 TCB info is
# signed by the same key, but its chain's certificate expired 2025-05-21.
T_2023_07 = 1688169600  # 2023-07-01
T_2026_02 = 1771113600  # 2026-02-15
for q, tm in (("tdx/gtg-quote-v4-spr-e4.dat", T_2023_07), ("tdx/trustee-quote-4.dat", T_2023_07),
              ("tdx/gtg-quote-v5-sample.dat", T_2026_02), ("tdx/trustee-quote-5.dat", T_2026_02)):
    case(q + "+pcs", kind="tdx-tcb", quote_file=q, collateral="tdx/pcs", time=tm)

# --- derived negatives (recipes; --write-negatives materialises them)
NEG = []


def neg(base, recipe, mutate, **over):
    kw = dict(CASES[base])
    kw.update(over)
    kw["over"] = sorted(over)
    kw["derive"] = (base, mutate)
    CASES[base + "!" + recipe] = kw
    NEG.append(base + "!" + recipe)


neg("snp/trustee-report.bin", "flip-measurement", lambda b: with_flip(b, 0x90))
neg("snp/trustee-report.bin", "flip-report-data", lambda b: with_flip(b, 0x50))
neg("snp/trustee-report.bin", "flip-signature-r", lambda b: with_flip(b, 0x2A0))
neg("snp/trustee-report.bin", "flip-chip-id", lambda b: with_flip(b, 0x1A0))
neg("snp/trustee-report.bin", "flip-reported-tcb-snp", lambda b: with_flip(b, 0x186))
neg("snp/trustee-report.bin", "set-debug", lambda b: with_flip(b, 0x0A, 0x08))
neg("snp/trustee-report.bin", "version-1", lambda b: b"\x01" + b[1:])
neg("snp/trustee-report.bin", "version-6", lambda b: b"\x06" + b[1:])
neg("snp/trustee-report.bin", "truncated", lambda b: b[:-1])
neg("snp/trustee-report.bin", "reserved-nonzero", lambda b: with_flip(b, 0x4C))
neg("snp/trustee-report.bin", "vcek-other-chip", lambda b: b, vek="snp/trustee-vcek-invalid-new.der")
neg("snp/trustee-report.bin", "vcek-other-chip-legacy", lambda b: b,
    vek="snp/trustee-vcek-invalid-legacy.der")
neg("snp/trustee-report.bin", "vlek-for-vcek-report", lambda b: b, vek="snp/trustee-vlek.der",
    chain=VLEK_MILAN)
neg("snp/trustee-report.bin", "swapped-ark-genoa", lambda b: b, chain=("SEV-Milan", "ARK-Genoa"))
neg("snp/trustee-report.bin", "ask-for-asvk", lambda b: b, chain=VLEK_MILAN)
neg("snp/trustee-report.bin", "stale-challenge", lambda b: b, report_data=b"\xff" * 64)
neg("snp/trustee-vlek-report.bin", "expired-vlek", lambda b: b, time=T_2026_01)
neg("snp/virtee-vcek-turin.der", "milan-chain", lambda b: b, chain=SNP_MILAN)
neg("snp/gsg-attestation.bin", "vcek-of-trustee", lambda b: b, vek="snp/trustee-vcek.der")
neg("azure-snp/trustee-hcl-report.bin", "flip-claims", lambda b: hcl_flip_claims(
    b, b'"vmUniqueId":"9', b'"vmUniqueId":"8'))
neg("azure-snp/kinvolk-hcl-report-snp.bin", "vcek-of-another-chip", lambda b: b,
    vek="azure-snp/kinvolk-certs.pem")
neg("azure-snp/trustee-hcl-report.bin", "flip-akpub", lambda b: with_flip(b, 0x540))
neg("azure-snp/trustee-hcl-report.bin", "flip-report", lambda b: with_flip(b, 0x20 + 0x90))
neg("azure-snp/trustee-hcl-report.bin", "flip-signature", lambda b: with_flip(b, 0x20 + 0x2A0 + 5))
neg("azure-snp/trustee-hcl-report.bin", "claims-size-overflow",
    lambda b: b[:HCL_REQ + 16] + struct.pack("<I", 2600) + b[HCL_REQ + 20:])
neg("azure-snp/trustee-hcl-report.bin", "vcek-of-kinvolk", lambda b: b, vek="azure-snp/kinvolk-certs.pem")
neg("azure-snp/trustee-hcl-report.bin", "report-type-tdx",
    lambda b: b[:HCL_REQ + 8] + struct.pack("<I", 4) + b[HCL_REQ + 12:])
neg("azure-snp/trustee-ev-v2-hcl.bin", "stale-user-data", lambda b: b, user_data=bytes(64))
neg("azure-snp/trustee-ev-genoa-hcl.bin", "milan-chain", lambda b: b, chain=SNP_MILAN)
neg("azure-tdx/trustee-hcl-report.bin", "flip-claims", lambda b: hcl_flip_claims(
    b, b'"vmUniqueId":"6', b'"vmUniqueId":"7'))
neg("azure-tdx/trustee-hcl-report.bin", "quote-of-another-td", lambda b: b,
    quote="tdx/gtg-quote-v4-spr-e4.dat")
neg("azure-tdx/trustee-hcl-report.bin", "flip-padding", lambda b: with_flip(b, HCL_HW + 1100))
neg("azure-snp/trustee-tpm-quote-v1.json", "ak-of-another-vm", lambda b: b, ak=AZ_TDX_AK,
    quote_file="azure-snp/trustee-tpm-quote-v1.json")
neg("azure-snp/trustee-tpm-quote-v1.json", "stale-nonce", lambda b: b, nonce=b"challengf",
    quote_file="azure-snp/trustee-tpm-quote-v1.json")
def tdx_rebuild(q, chain=None, qe_sig=None):
    """The quote with another PCK chain (PEM) and/or QE report signature: header, body and the
    attestation key's signature unchanged, every length recomputed, the trailing bytes kept."""
    t = quote_parse(q)
    off = len(t["signed"])
    sig_len = u32(q, off)
    cdata = t["qe_report"] + (qe_sig or t["qe_sig"]) + struct.pack("<H", len(t["qe_auth"])) + \
        t["qe_auth"] + struct.pack("<HI", 5, len(chain if chain is not None else t["pck_chain"])) + \
        (chain if chain is not None else t["pck_chain"])
    sd = t["sig"] + t["attest_key"] + struct.pack("<HI", 6, len(cdata)) + cdata
    return q[:off] + struct.pack("<I", len(sd)) + sd + q[off + 4 + sig_len:]


def tdx_lookalike_chain(q):
    """A chain with Intel's names and an attacker's keys (fixed, so the bytes are the same on
    every run): the QE report re-signed by the fake PCK key, everything else the real quote's.
    Only the pinned root tells it from Intel's."""
    t = quote_parse(q)
    keys = [ec.derive_private_key(k, ec.SECP256R1()) for k in (0x1D7E1, 0x1D7E2, 0x1D7E3)]

    def name(cn_):
        return x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn_),
                          x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Intel Corporation"),
                          x509.NameAttribute(x509.NameOID.LOCALITY_NAME, "Santa Clara"),
                          x509.NameAttribute(x509.NameOID.STATE_OR_PROVINCE_NAME, "CA"),
                          x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "US")])
    names = [name("Intel SGX Root CA"), name("Intel SGX PCK Platform CA"), name("Intel SGX PCK Certificate")]
    certs = []
    for i in range(3):
        b = x509.CertificateBuilder().subject_name(names[i]).issuer_name(names[max(i - 1, 0)]) \
            .public_key(keys[i].public_key()).serial_number(i + 1) \
            .not_valid_before(datetime.datetime(2018, 1, 1)).not_valid_after(datetime.datetime(2049, 1, 1)) \
            .add_extension(x509.BasicConstraints(ca=i < 2, path_length=None), critical=True)
        certs.append(b.sign(keys[max(i - 1, 0)], hashes.SHA256()))
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in reversed(certs))
    r, s_ = decode_dss_signature(keys[2].sign(t["qe_report"], ec.ECDSA(hashes.SHA256())))
    return tdx_rebuild(q, chain=pem, qe_sig=r.to_bytes(32, "big") + s_.to_bytes(32, "big"))


neg("azure-tdx/trustee-td-quote.bin", "flip-body", lambda b: with_flip(b, 48 + 136))
neg("azure-tdx/trustee-td-quote.bin", "flip-signature", lambda b: with_flip(b, 48 + 584 + 4 + 3))
neg("tdx/gtg-quote-v4-spr-e4.dat", "flip-report-data", lambda b: with_flip(b, 48 + 520))
neg("tdx/gtg-quote-v4-spr-e4.dat", "flip-qe-report", lambda b: with_flip(b, 48 + 584 + 4 + 134 + 10))
neg("tdx/gtg-cos-113-quote.dat", "stale-nonce", lambda b: b, report_data=b"\xff" * 64)
# Another platform's genuine PCK chain under this quote: the chain verifies, the QE report's
# signature does not.
neg("azure-tdx/trustee-td-quote.bin", "swapped-pck-chain",
    lambda b: tdx_rebuild(b, chain=quote_parse(rd("tdx/gtg-cos-113-quote.dat"))["pck_chain"]))
neg("azure-tdx/trustee-td-quote.bin", "lookalike-chain", tdx_lookalike_chain)
neg("tdx/trustee-quote-5.dat", "version-3", lambda b: b"\x03" + b[1:])
neg("tdx/trustee-quote-5.dat", "body-type-2-in-648", lambda b: b[:48] + b"\x02" + b[49:])
neg("tdx/trustee-quote-6.dat", "truncated-signature-data", lambda b: b[:48 + 584 + 4 + 1000])
# The nested certification data's type (at body + signature length + 134 + 450 + 32-byte QE
# auth data) set to 3 (PCK certificate as DER, not a chain).
TDX_PCK_TYPE_V4 = 48 + 584 + 4 + 134 + 450 + 32
neg("tdx/trustee-quote-6.dat", "pck-type-3",
    lambda b: b[:TDX_PCK_TYPE_V4] + b"\x03" + b[TDX_PCK_TYPE_V4 + 1:])


def json_flip(old, new):
    """A collateral file with one byte of its signed member changed (still valid JSON)."""
    def f(b):
        assert b.count(old) == 1
        return b.replace(old, new)
    return f


def lookalike_tcb_signing_chain(_):
    """Intel's names, an attacker's keys: only the pinned root tells them apart."""
    keys = [ec.derive_private_key(k, ec.SECP256R1()) for k in (0x7C81, 0x7C82)]

    def name(cn_):
        return x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn_),
                          x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Intel Corporation")])
    certs = []
    for i, n in enumerate(("Intel SGX Root CA", "Intel SGX TCB Signing")):
        certs.append(x509.CertificateBuilder().subject_name(name(n)).issuer_name(name("Intel SGX Root CA"))
                     .public_key(keys[i].public_key()).serial_number(i + 1)
                     .not_valid_before(datetime.datetime(2018, 1, 1))
                     .not_valid_after(datetime.datetime(2049, 1, 1)).sign(keys[0], hashes.SHA256()))
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in reversed(certs))


PCS = "tdx/trustee-quote-4.dat+pcs"
TI_V4 = "tcbinfo-50806f000000.json"
neg(PCS, "flip-tcbinfo", lambda b: b, collateral_mutations=(
    (TI_V4, json_flip(b'"tcbEvaluationDataNumber":15', b'"tcbEvaluationDataNumber":16')),))
neg(PCS, "second-tcbinfo", lambda b: b, collateral_mutations=(
    (TI_V4, lambda b: b.rstrip()[:-1] + b',"tcbInfo":{}}\n'),))
neg(PCS, "trailing-object", lambda b: b, collateral_mutations=(
    (TI_V4, lambda b: b + b'{"tcbInfo":{}}\n'),))
neg(PCS, "flip-qe-identity", lambda b: b, collateral_mutations=(
    ("qe-identity.json", json_flip(b'"isvprodid":2', b'"isvprodid":3')),))
neg(PCS, "lookalike-tcb-signing-chain", lambda b: b, collateral_mutations=(
    ("tcb-signing-chain.pem", lookalike_tcb_signing_chain),))
neg(PCS, "root-crl-as-pck-crl", lambda b: b, collateral_mutations=(
    ("pck-crl-platform.der", lambda b: rd("tdx/pcs/root-ca-crl.der")),))
neg(PCS, "no-qe-identity", lambda b: b, collateral_mutations=(("qe-identity.json", None),))
# The PCK CRL's window ends 2023-07-08, the TCB info's 2023-07-18.
neg(PCS, "pck-crl-expired", lambda b: b, time=1688947200)  # 2023-07-10


def collateral_files(c):
    """The collateral directory of case c as name -> bytes, its mutations applied."""
    d = os.path.join(FIXTURES, c["collateral"])
    files = {f: rd(os.path.join(c["collateral"], f)) for f in sorted(os.listdir(d))}
    for name, f in c.get("collateral_mutations", ()):
        if f is None:
            del files[name]
        else:
            files[name] = f(files.get(name))
    return files


def load_vek(path):
    return load_cert(rd(path))


def evaluate(name):
    """(verdict, reason, fields) for one case."""
    c = CASES[name]
    if "derive" in c:
        base, mutate = c["derive"]
        data = mutate(base_bytes(base))
    else:
        data = rd(c.get("quote_file", name))
    kind, t = c["kind"], c["time"]
    fields = []
    try:
        if kind in ("vcek", "vlek", "vcek-chain"):
            vek = load_cert(data)
            ask, ark = ROOTS[c["chain"][0]], ROOTS[c["chain"][1]]
            if kind == "vcek-chain":
                # The bundled ASK/ARK must be the pinned ones, byte for byte.
                got = [x509.load_der_x509_certificate(d) for d in pem_certs(data)[1:]]
                fields.append(("bundled", "+".join("%s=%s" % (cn(g.subject), "pinned" if fp(g) == PINNED.get(cn(g.subject)) else "NOT-PINNED") for g in got)))
            ext = amd_ext(vek)
            fields += [("cn", cn(vek.subject)), ("product", ext.get("2", "-")),
                       ("tcb", ("fmc:%s," % ext["3.9"] if "3.9" in ext else "") + "bl:%s,tee:%s,snp:%s,ucode:%s" % (
                           ext.get("3.1"), ext.get("3.2"), ext.get("3.3"), ext.get("3.8"))),
                       ("hwid", ext["hwid"].hex() if "hwid" in ext else "-"),
                       ("hwid_encoding", "-" if "hwid" not in ext else "raw" if [e for e in vek.extensions if e.oid.dotted_string == AMD_OID + "4"][0].value.value[:2] != b"\x04\x40" else "octet-string"),
                       ("not_after", not_after(vek).strftime("%Y-%m-%d"))]
            check_time(ark, t, "ark")
            check_time(ask, t, "ask")
            check_time(vek, t, kind.split("-")[0])
            verify_signed_by(ark, ark, "ark")
            verify_signed_by(ask, ark, "ask")
            verify_signed_by(vek, ask, kind.split("-")[0])
        elif kind == "snp-report":
            vek = load_vek(c["vek"])
            r = snp_parse(data)
            fields = snp_fields(r)
            rdata = c.get("report_data", r["report_data"])
            r, facts = snp_verify(data, vek, c["chain"], t, expected_report_data=rdata)
            fields += sorted(facts.items())
        elif kind == "az-snp-hcl":
            h = hcl_parse(data)
            fields = [("hcl_version", h["hdr_version"]), ("report_type", h["report_type"]),
                      ("hash_type", h["hash_type"]), ("claims_size", h["var_size"]),
                      ("nv_size", len(data))]
            if h["report_type"] != 2:
                raise Refused("hcl-report-type")
            r = snp_parse(h["hw"])
            fields += snp_fields(r)
            fields += claims_facts(h["claims"])
            bind = hcl_binding(h)
            bound = r["report_data"][:32] == bind and not any(r["report_data"][32:])
            fields.append(("claims_bound", int(bound)))
            vek = load_vek(c["vek"]) if c.get("vek") else None
            r, facts = snp_verify(h["hw"], vek, c["chain"], t)
            fields += sorted(facts.items())
            if not bound:
                raise Refused("hcl-claims-hash-mismatch")
            try:
                j = json.loads(h["claims"])
            except ValueError:
                raise Refused("hcl-claims-json")
            if "HCLAkPub" not in [k.get("kid") for k in j.get("keys", [])]:
                raise Refused("hcl-akpub-missing")
            want = c.get("user_data", bytes.fromhex(j.get("user-data", "00" * 64)))
            if bytes.fromhex(j.get("user-data", "")) != want:
                raise Refused("hcl-user-data-mismatch")
        elif kind == "tpm-quote":
            m, sig, pcrs = tpm_quote_load(c.get("quote_file", name))
            a = tpms_attest(m)
            fields = [("nonce", a["nonce"].hex()),
                      ("pcr_select", "+".join("%04x:%s" % (alg, ",".join(map(str, ix))) for alg, ix in a["sel"])),
                      ("pcr_digest", a["pcr_digest"].hex())]
            if pcrs is not None:
                sha256_sel = [ix for alg, ix in a["sel"] if alg == 0x000B]
                got = hashlib.sha256(b"".join(pcrs[i] for i in (sha256_sel[0] if sha256_sel else []))).digest()
                fields.append(("pcrs_match_digest", int(got == a["pcr_digest"])))
            if not c.get("ak"):
                raise Refused("tpm-quote-ak-missing")
            ak = hcl_key(*c["ak"]) if isinstance(c["ak"], tuple) else \
                serialization.load_pem_public_key(rd(c["ak"]))
            fields.append(("ak", c["ak"][0] + ":" + c["ak"][1] if isinstance(c["ak"], tuple) else c["ak"]))
            try:
                ak.verify(sig, m, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                raise Refused("tpm-quote-signature-invalid")
            if a["nonce"] != c.get("nonce", b"challenge"):
                raise Refused("tpm-quote-nonce-mismatch")
            if pcrs is not None and not dict(fields)["pcrs_match_digest"]:
                raise Refused("tpm-quote-pcr-digest-mismatch")
        elif kind == "az-claims":
            fields = claims_facts(data)
        elif kind == "az-tdx-hcl":
            h = hcl_parse(data)
            if h["report_type"] != 4:
                raise Refused("hcl-report-type")
            fields = [("hcl_version", h["hdr_version"]), ("report_type", h["report_type"]),
                      ("hash_type", h["hash_type"]), ("claims_size", h["var_size"]), ("nv_size", len(data))]
            td = tdreport_parse(h["hw"])
            fields += [(k, v) for k, v in tdx_fields(dict(td, version="tdreport"))]
            fields += claims_facts(h["claims"])
            if td["report_data"][:32] != hcl_binding(h) or any(td["report_data"][32:]):
                raise Refused("hcl-claims-hash-mismatch")
            if not c.get("quote"):
                raise Refused("tdx-quote-missing", "a TDREPORT is MAC'd for this CPU only")
            t_ = quote_parse(rd(c["quote"]))
            for k in ("mrtd", "td_attributes", "xfam", "report_data", "mrseam", "tee_tcb_svn"):
                if t_[k] != td[k]:
                    raise Refused("tdx-quote-tdreport-mismatch", k)
            if t_["rtmr"] != td["rtmr"]:
                raise Refused("tdx-quote-tdreport-mismatch", "rtmr")
            fields += sorted(quote_verify(t_, t).items())
        elif kind == "tdx-tcb":
            t_ = quote_parse(data)
            fields = [("version", t_["version"]), ("tee_tcb_svn", t_["tee_tcb_svn"].hex())]
            fields += sorted(quote_verify(t_, t).items())
            ti, qi = tdx_collateral(t_, collateral_files(c), t, fields)
            tdx_tcb_status(t_, ti, qi, t, fields)
        elif kind == "tdx-quote":
            t_ = quote_parse(data)
            fields = tdx_fields(t_) + [("body_type", t_["body_type"]),
                                       ("qe_vendor", t_["qe_vendor"].hex()), ("trailing", t_["trailing"])]
            fields += sorted(quote_verify(t_, t).items())
            if t_["td_attributes"][0] & 1:
                raise Refused("tdx-td-debug")
            if "report_data" in c and t_["report_data"] != c["report_data"]:
                raise Refused("tdx-report-data-mismatch")
        verdict, reason = "accepted", "ok"
    except Refused as e:
        verdict, reason = "refused", e.reason
    return verdict, reason, fields


def line(name):
    verdict, reason, fields = evaluate(name)
    c = CASES[name]
    head = [("kind", c["kind"]), ("verdict", verdict), ("reason", reason), ("time", c["time"])]
    return name + " " + " ".join("%s=%s" % (k, v) for k, v in head + fields)


CLI_KINDS = {"snp-report": "snp-report", "az-snp-hcl": "azure-snp-hcl", "vcek": "vcek",
             "vlek": "vlek", "vcek-chain": "vcek-chain", "tdx-quote": "tdx-quote",
             "az-tdx-hcl": "azure-tdx-hcl", "tdx-tcb": "tdx-tcb"}


def cli_args(outdir):
    """The offline CLI's arguments per SNP-family case (see --cli-args in the header)."""
    for name, c in CASES.items():
        if c["kind"] not in CLI_KINDS:
            continue
        path = os.path.join(FIXTURES, c.get("quote_file", name.split("!")[0]))
        if "derive" in c:
            base, mutate = c["derive"]
            if mutate(base_bytes(base)) != base_bytes(base):
                path = os.path.join(outdir, name.replace("/", "_").replace("!", "_"))
        a = ["--kind", CLI_KINDS[c["kind"]], "--report", path, "--time", str(c["time"])]
        if c.get("vek"):
            a += ["--vcek", os.path.join(FIXTURES, c["vek"])]
        if c.get("quote"):
            a += ["--quote", os.path.join(FIXTURES, c["quote"])]
        if c["kind"] == "tdx-tcb":
            d = os.path.join(FIXTURES, c["collateral"])
            if c.get("collateral_mutations"):
                d = os.path.join(outdir, name.replace("/", "_").replace("!", "_") + ".pcs")
            a += ["--tdx-collateral", d]
        if "chain" in c.get("over", []):
            ask, ark = ROOTS[c["chain"][0]], ROOTS[c["chain"][1]]
            chain = os.path.join(outdir, "chain-%s_%s.pem" % c["chain"])
            with open(chain, "wb") as f:
                for cert in (ask, ark):
                    f.write(cert.public_bytes(serialization.Encoding.PEM))
            a += ["--chain", chain]
        for key in ("report_data", "user_data"):
            if key in c:
                a += ["--binding", c[key].hex()]
        print(name + "\t" + " ".join(a))
    return 0


def main(argv):
    global ROOTS
    ROOTS = roots()
    args = argv[1:]
    outdir = None
    if args[:1] == ["--write-negatives"]:
        outdir, args = args[1], args[2:]
        os.makedirs(outdir, exist_ok=True)
        for n in NEG:
            if CASES[n].get("collateral_mutations"):
                d = os.path.join(outdir, n.replace("/", "_").replace("!", "_") + ".pcs")
                os.makedirs(d, exist_ok=True)
                for f, data in collateral_files(CASES[n]).items():
                    with open(os.path.join(d, f), "wb") as out:
                        out.write(data)
            base, mutate = CASES[n]["derive"]
            data = mutate(base_bytes(base))
            if data == base_bytes(base):
                continue  # the recipe changes the inputs (VCEK, chain, time), not the bytes
            with open(os.path.join(outdir, n.replace("/", "_").replace("!", "_")), "wb") as f:
                f.write(data)
        if not args:
            return 0
    if args[:1] == ["--cli-args"]:
        return cli_args(args[1])
    names = []
    for a in args or list(CASES):
        n = os.path.relpath(os.path.abspath(a), FIXTURES) if os.path.exists(a) else a
        if n not in CASES:
            print("%s: not a case (see CASES in %s)" % (a, argv[0]), file=sys.stderr)
            return 2
        names.append(n)
    for n in names:
        print(line(n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
