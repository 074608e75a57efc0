/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is this EK one we trust (docs/PROTOCOL.md, "POST /v3/challenge")? Its certificate chains to a
 * configured CA, or its SPKI hash is on the allowlist. Also the EK's and AK's attribute checks. */
#pragma once

#include "appraisal/challenge.h"
#include "tpm/tpm2b.h"
#include "appraisal/verdict.h"

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* CA roots and intermediates, the allowlist and a cache of verified certificates. Built once
 * by `serve`; ek_trust_check() may then be called from any number of threads. */
struct ek_trust;

/* An empty trust: no CA, empty allowlist, so every EK is unknown. @return 0 or -ENOMEM */
int ek_trust_new(struct ek_trust **ret);
void ek_trust_free(struct ek_trust *t);

/* Adds every certificate of a PEM (one or more) or DER file, or of each *.pem, *.crt, *.cer,
 * *.der file of a directory. Each must be a CA certificate (basicConstraints CA:TRUE); only a
 * chain ending at a self-signed one is trusted, so intermediates may be added beside roots.
 * @return 0, or negative errno with a one-line reason in err */
int ek_trust_add_ca(struct ek_trust *t, const char *path, char *err, size_t errlen);

/* Adds the entries of an allowlist file: one SHA-256 hex a line (64 digits, either case),
 * blank lines and `#` comments ignored. @return 0, or negative errno with the line in err */
int ek_trust_load_allowlist(struct ek_trust *t, const char *path, char *err, size_t errlen);

/* Verifies certificates as of at instead of now (tests with real certificates that have
 * expired since). Call before any ek_trust_check(). */
void ek_trust_set_time(struct ek_trust *t, time_t at);
/* CA trust alone (`serve --ek-trust ca-only`): a certificate that chains to a configured CA
 * admits its EK without enrollment — every TPM the CA ever certified. Off by default: then the
 * allowlist is the inventory, and a certified EK that is not on it is ek-unknown. */
void ek_trust_set_ca_only(struct ek_trust *t, bool ca_only);
bool ek_trust_ca_only(const struct ek_trust *t);

/* Counts, for the startup log. */
size_t ek_trust_n_ca(const struct ek_trust *t);
size_t ek_trust_n_allowed(const struct ek_trust *t);

/* Decides round 1's EK trust: ek_check_storage_key() first; then ek's SPKI hash must be on the
 * allowlist, or — only with ek_trust_set_ca_only() — the certificate (cert, cert_size; NULL/0
 * when the node sent none) must chain to a CA and carry ek's public key. spki_sha256 is that hash
 * when the caller has it already (tpm_public_spki_sha256()), NULL to compute it here.
 * @return REASON_OK and the kind in *ret_kind, or REASON_EK_NOT_STORAGE_KEY, _EK_WEAK_KEY,
 * _EK_UNKNOWN,
 * _EK_CERTIFICATE_UNTRUSTED (message with OpenSSL's reason) or _EK_CERTIFICATE_MISMATCH */
enum reason ek_trust_check(struct ek_trust *t, const struct tpm_public *ek, const uint8_t *cert,
                           size_t cert_size, const uint8_t *spki_sha256,
                           enum ek_trust_kind *ret_kind, struct verdict *v);

/* The TCG EK Credential Profile's storage key: fixedTPM, fixedParent, sensitiveDataOrigin,
 * adminWithPolicy, restricted, decrypt, not sign; AES-128/256-CFB; RSA 2048 (65537) or ECC
 * P-256/P-384; nameAlg SHA-256/384; an RSA modulus without the ROCA fingerprint.
 * @return REASON_OK, REASON_EK_NOT_STORAGE_KEY or REASON_EK_WEAK_KEY (ROCA) */
enum reason ek_check_storage_key(const struct tpm_public *ek, struct verdict *v);

/* True when an RSA modulus (big-endian, size bytes) has the fingerprint of the keys of
 * Infineon's RSA library before 2017 (ROCA, CVE-2017-15361), whose private key can be computed
 * from the public one: for every small prime r dividing its M, N mod r lies in the subgroup
 * that 65537 generates mod r. */
bool ek_rsa_modulus_has_roca_fingerprint(const uint8_t *n, size_t size);

/* An AK as docs/PROTOCOL.md wants it: fixedTPM, fixedParent, sensitiveDataOrigin,
 * userWithAuth, restricted, sign, not decrypt, nameAlg SHA-256, ECC P-256 ECDSA/SHA-256 or RSA
 * 2048 RSASSA/SHA-256 without the ROCA fingerprint. @return REASON_OK or
 * REASON_AK_NOT_SIGNING_KEY */
enum reason ak_check_signing_key(const struct tpm_public *ak, struct verdict *v);

/* One allowlist line: @return 1 and the hash in ret, 0 for a blank or comment line, -EINVAL */
int ek_allowlist_parse_line(const char *line, uint8_t ret[32]);

/* The allowlist identifier of an RSA or ECC (P-256/P-384) key: SHA-256 of its DER
 * SubjectPublicKeyInfo, written here byte by byte — the same bytes as
 * tpm_public_spki_sha256() (i2d_PUBKEY), without OpenSSL's encoder lookup, which costs ~80 µs
 * and would run twice per attestation. The key is not validated (a point off the curve hashes
 * to an entry no real EK has). @return 0 or -EOPNOTSUPP */
int ek_spki_sha256(const struct tpm_public *pub, uint8_t ret[32]);

/* The certificate's public key, new reference: X509_get_pubkey(), or for an id-RSAES-OAEP
 * key (which OpenSSL 3 cannot load) the RSA key its RSAPublicKey holds. NULL when neither. */
EVP_PKEY *ek_certificate_get_pubkey(X509 *x);

/* SHA-256 of the DER SubjectPublicKeyInfo of cert's key, encoded as tpm_public_spki_sha256()
 * encodes an EK (EC points uncompressed), so both give the same allowlist entry.
 * @return 0 or negative errno */
int ek_certificate_spki_sha256(X509 *cert, uint8_t ret[32]);

/* Reads every certificate of a PEM or DER file. @return 0, or negative errno with reason */
int ek_read_certificates(const char *path, STACK_OF(X509) * *ret, char *err, size_t errlen);

/* True when cert is a CA certificate; its description ("root"/"intermediate") in *ret_kind. */
bool ek_certificate_is_ca(X509 *cert, const char **ret_kind);

/* The certificate files of a CA directory (*.pem, *.crt, *.cer, *.der, not hidden), sorted.
 * @return 0 or negative errno; free with ek_free_names() */
int ek_list_ca_files(const char *dir, char ***ret_names, size_t *ret_n);
void ek_free_names(char **names, size_t n);
