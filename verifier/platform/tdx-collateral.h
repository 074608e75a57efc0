/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Intel's PCS collateral for TDX quotes, authenticated before any of it is believed: the TCB
 * info and the QE identity signed by the "Intel SGX TCB Signing" key under the pinned Intel
 * SGX Root CA, the root CA's CRL (the PCK CA and the TCB signing certificate not revoked) and
 * the PCK CA's CRL (the quote's PCK not revoked), each current at the verification time.
 *
 * The operator keeps it in one directory, each file as Intel's PCS serves it, so a daily job of
 * a few curl calls refreshes it (docs/cvm.md, "TDX collateral"); the verifier never fetches:
 *   tcb-signing-chain.pem  the TCB-Info-Issuer-Chain response header, URL-decoded (PEM: the
 *                          TCB signing certificate, then the root)
 *   tcbinfo-FMSPC.json     GET /tdx/certification/v4/tcb?fmspc=FMSPC (lower-case hex)
 *   qe-identity.json       GET /tdx/certification/v4/qe/identity
 *   pck-crl-platform.der   GET /sgx/certification/v4/pckcrl?ca=platform&encoding=der
 *   pck-crl-processor.der  GET /sgx/certification/v4/pckcrl?ca=processor&encoding=der
 *   root-ca-crl.der        the Intel SGX Root CA's CRL (DER, or PEM in the same name)
 * The files are read at each attestation that gets this far (a few KiB), so a refreshed file
 * takes effect at once and nothing is cached that could outlive its window. */
#pragma once

#include "appraisal/verdict.h"
#include "platform/tdx-quote.h"

#include <json-c/json.h>
#include <stdint.h>

#define TDX_COLLATERAL_FILE_MAX (1024 * 1024)

struct tdx_collateral {
        char fmspc[13];           /* lower-case hex of the PCK certificate's FMSPC */
        json_object *tcb_info;    /* "tcbInfo": parsed from exactly the bytes Intel signed */
        json_object *qe_identity; /* "enclaveIdentity", likewise */
};

void tdx_collateral_done(struct tdx_collateral *c);

/* The authenticated collateral for the platform of a quote whose PCK chain (pck, issued by
 * pck_ca) tdx_pck_chain_verify accepted; dir NULL: none configured. root_pin: the pinned Intel SGX
 * Root CA (SHA-256 of its DER); t the verification time. Reasons, in check order:
 * tdx-pck-extension-missing, tdx-collateral-missing (a file, or no directory),
 * tdx-collateral-chain-invalid, tdx-collateral-chain-expired, tdx-tcbinfo-signature-invalid,
 * tdx-qe-identity-signature-invalid, tdx-crl-invalid, tdx-crl-expired, tdx-ca-revoked,
 * tdx-pck-revoked. On REASON_OK the caller owns ret (tdx_collateral_done). */
enum reason tdx_collateral_load(const char *dir, X509 *pck, X509 *pck_ca,
                                const uint8_t root_pin[32], int64_t t, struct tdx_collateral *ret,
                                struct verdict *v);

/* Called once per file (or the chain) checked by tdx_collateral_audit: its name, the outcome,
 * one line, and until when it is valid (-1: not applicable). */
typedef void (*tdx_collateral_line_fn)(const char *name, enum reason r, const char *detail,
                                       int64_t valid_until);

/* The directory on its own, as the operator's refresh job checks it before it moves the files
 * into place: the TCB signing chain; every tcbinfo-*.json and qe-identity.json, signed and
 * current at t; the root CA's CRL, signed and current, not revoking the TCB signing
 * certificate; the PCK CRLs, at least one, parsed and current (their signatures need the
 * quote's PCK CA and are checked at attestation). *ret_valid_until: when the first of them expires.
 * @return REASON_OK or the first failure (every file is still reported) */
enum reason tdx_collateral_audit(const char *dir, const uint8_t root_pin[32], int64_t t,
                                 tdx_collateral_line_fn line, int64_t *ret_valid_until,
                                 struct verdict *v);

/* The raw bytes of the top-level member key of the JSON text s (n bytes): what a signature over
 * "the tcbInfo field" covers. The member must occur once. Safe on any bytes (the result lies
 * inside s and is not empty); meaningful on text a strict JSON parser accepted as a whole.
 * @return 0, -ENOENT, -EINVAL (not an object, malformed, or a duplicate key) */
int json_raw_member(const char *s, size_t n, const char *key, const char **ret, size_t *ret_len);
