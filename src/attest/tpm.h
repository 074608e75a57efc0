/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TPM through tpm2-tss ESAPI over the kernel's device TCTI. Every TSS2_RC becomes a
 * negative errno here, with the library's decoded text kept for the caller's message. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TPM_ERROR_MAX 256
#define TPM_BANKS_MAX 8
#define TPM_PCRS      24

/* Marshalled structures (TPM2B_PUBLIC, TPM2B_ATTEST, TPMT_SIGNATURE) fit the protocol's
 * 1024-byte field limit (docs/PROTOCOL.md). */
#define TPM_BLOB_MAX     1024
#define TPM_EK_CERT_MAX  4096 /* the protocol's limit for ek_certificate */
#define TPM_SECRET_MAX   64   /* TPM2B_DIGEST: the credential secret */
#define TPM_UNSEALED_MAX 128  /* MAX_SYM_DATA: a sealed data object's payload */

/* NV indices of the EK certificates (TCG EK Credential Profile, "low range" for RSA 2048 and
 * ECC P-256, "high range" for ECC P-384, where swtpm_setup --create-ek-cert puts it). */
#define TPM_NV_EK_CERT_RSA2048 0x01c00002u
#define TPM_NV_EK_CERT_P256    0x01c0000au
#define TPM_NV_EK_CERT_P384    0x01c00016u

struct tpm;

struct tpm_info {
        char manufacturer[5];   /* four ASCII characters, e.g. "IBM " for swtpm */
        char vendor[17];        /* TPM2_PT_VENDOR_STRING_1..4 */
        uint32_t firmware;      /* TPM2_PT_FIRMWARE_VERSION_1: vendor-defined, shown in hex */
        uint32_t spec_revision; /* TPM2_PT_REVISION: 138 means 1.38 */
        unsigned n_banks;       /* PCR banks with at least one PCR allocated */
        const char *banks[TPM_BANKS_MAX];
};

enum tpm_ek_type {
        TPM_EK_AUTO,     /* by the certificate present: P-256, else P-384, else RSA, else P-256 */
        TPM_EK_ECC_P256, /* template L-2, the default */
        TPM_EK_ECC_P384, /* template H-3, as swtpm creates and certifies it */
        TPM_EK_RSA_2048, /* template L-1: RSA key generation, seconds on some TPMs */
        _TPM_EK_TYPE_MAX,
};

struct tpm_blob {
        uint8_t data[TPM_BLOB_MAX];
        size_t size;
};

struct tpm_ek {
        enum tpm_ek_type type;  /* never TPM_EK_AUTO */
        struct tpm_blob public; /* marshalled TPM2B_PUBLIC */
        uint8_t *certificate;   /* DER from NV, malloc'ed; NULL when the TPM holds none */
        size_t certificate_size;
};

/* What the verifier's answer carries for TPM2_Import (docs/PROTOCOL.md, "sealed"): the
 * marshalled TPM2B_PUBLIC, TPM2B_PRIVATE and TPM2B_ENCRYPTED_SECRET, and the policy's
 * operands. The pointers are the caller's. */
struct tpm_sealed {
        const uint8_t *public;
        size_t public_size;
        const uint8_t *duplicate;
        size_t duplicate_size;
        const uint8_t *encrypted_seed;
        size_t encrypted_seed_size;
        uint32_t pcr_mask; /* SHA-256 bank, bit n = PCR n */
        uint32_t reset_count;
        uint32_t restart_count;
};

/* Error contract of every call below that talks to the TPM: 0 on success, or
 *   -EACCES   the TPM refused an authorization or a policy (PCRs or resetCount are not what the
 *             object was sealed to, a wrong credential, DA lockout);
 *   -EBADMSG  the TPM (or the unmarshaller) refused the input: malformed or foreign blob,
 *             failed integrity check;
 *   -ENOENT   an NV index or handle that is not there;
 *   -EAGAIN   the TPM asks to retry (self test, yield, NV rate);
 *   -EIO/-EPROTO/-ENOMEM other TSS or TPM failures;
 * with a one-line message naming the TPM command and Tss2_RC_Decode()'s text in errbuf. */

/* Opens device (NULL: /dev/tpmrm0, then /dev/tpm0).
 * @return 0 on success, -ENOENT when there is no TPM device, other negative errno; a message
 *         naming the device and the TSS error goes to errbuf */
int tpm_open(const char *device, struct tpm **ret, char *errbuf, size_t errlen);
/* Flushes the EK and the AK if created, then closes the device. Accepts NULL. */
void tpm_close(struct tpm *t);

/* TPM commands sent since tpm_open(), counted at the TCTI, so those ESAPI sends on its own
 * (e.g. TPM2_ReadPublic) are included. */
uint64_t tpm_command_count(const struct tpm *t);

/* True from sending a TPM command until its response arrived (or the TCTI gave up): the TPM
 * owes an answer. Async-signal-safe: the watchdog's handler asks it. */
bool tpm_waiting(void);

/* @return 0 on success or negative errno (message in errbuf) */
int tpm_get_info(struct tpm *t, struct tpm_info *ret, char *errbuf, size_t errlen);

/* TPM2_Startup(CLEAR), for a TPM that was just powered on (tests; firmware does it on a node).
 * @return 0, or negative errno (-EIO with "already initialized" is TPM_RC_INITIALIZE) */
int tpm_startup_clear(struct tpm *t, char *errbuf, size_t errlen);

/* TPM2_ReadClock's clockInfo.resetCount: grows with every TPM Reset, i.e. every boot. */
int tpm_read_reset_count(struct tpm *t, uint32_t *ret, char *errbuf, size_t errlen);

const char *tpm_ek_type_to_string(enum tpm_ek_type type);
/* "auto", "ecc256", "ecc384", "rsa2048". @return 0 or -EINVAL */
int tpm_ek_type_from_string(const char *s, enum tpm_ek_type *ret);

/* Reads the DER certificate in NV index (read in chunks of TPM2_PT_NV_BUFFER_MAX).
 * @return 0 with a malloc'ed *ret, -ENOENT when the index is not defined, -EFBIG above
 *         TPM_EK_CERT_MAX, other negative errno */
int tpm_read_ek_certificate(struct tpm *t, uint32_t nv_index, uint8_t **ret, size_t *ret_size,
                            char *errbuf, size_t errlen);

/* The size of NV index nv_index (TPM2_NV_ReadPublic).
 * @return 0, -ENOENT when it is not defined, other negative errno */
int tpm_nv_size(struct tpm *t, uint32_t nv_index, size_t *ret_size, char *errbuf, size_t errlen);

/* Reads all of NV index nv_index, its size from TPM2_NV_ReadPublic, in chunks of the TPM's
 * TPM2_PT_NV_BUFFER_MAX (512 when it does not say). Authorized by the owner (empty auth) when
 * owner_first and the index allows it, else by the index's own (empty) auth, else the owner.
 * @return 0 with a malloc'ed *ret of *ret_size bytes and the chunk size in *ret_chunk (may be
 *         NULL), -ENOENT when the index is not defined, -ENODATA when it is empty, -EFBIG
 *         above max, -EACCES when neither auth may read it, other negative errno */
int tpm_nv_read(struct tpm *t, uint32_t nv_index, size_t max, bool owner_first, uint8_t **ret,
                size_t *ret_size, size_t *ret_chunk, char *errbuf, size_t errlen);

/* Writes data (1 to 1024 bytes) at offset 0 of nv_index with the owner's (empty) auth,
 * defining the index first when it is absent, or again when it has another size: owner
 * authorization, OWNERWRITE | OWNERREAD | AUTHWRITE | AUTHREAD, nameAlg SHA-256 (what
 * PROTOCOL.md asks for Azure's NV 0x01400002). @return 0 or negative errno */
int tpm_nv_write_owner(struct tpm *t, uint32_t nv_index, const uint8_t *data, size_t size,
                       char *errbuf, size_t errlen);

/* Creates the EK of type (TPM_EK_AUTO: chosen by the certificates in NV) from its TCG
 * template as a transient primary in the endorsement hierarchy, and reads its certificate.
 * The key stays loaded for tpm_activate_credential() and tpm_unseal_imported() until
 * tpm_close(); a second call replaces it. Free *ret with tpm_ek_done().
 * @return 0 or negative errno */
int tpm_create_ek(struct tpm *t, enum tpm_ek_type type, struct tpm_ek *ret, char *errbuf,
                  size_t errlen);
void tpm_ek_done(struct tpm_ek *ek);

/* Creates the AK: an ECC P-256 ECDSA/SHA-256 restricted signing primary in the endorsement
 * hierarchy (fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, noDA), empty auth.
 * Stays loaded until tpm_close(); a second call replaces it.
 * @return 0 with its marshalled TPM2B_PUBLIC, or negative errno */
int tpm_create_ak(struct tpm *t, struct tpm_blob *ret_public, char *errbuf, size_t errlen);

/* Makes the persistent restricted signing key at handle the AK (Azure's HCL AK at
 * 0x81000003, docs/PROTOCOL.md "Which AK on Azure"), in place of tpm_create_ak()'s: quotes and
 * credential activation use it with its empty auth; tpm_close() only forgets it.
 * @return 0 with its marshalled TPM2B_PUBLIC, -ENOENT when there is no such handle, -EBADMSG
 *         when it is not a restricted signing key, other negative errno */
int tpm_use_persistent_ak(struct tpm *t, uint32_t handle, struct tpm_blob *ret_public, char *errbuf,
                          size_t errlen);

/* Reads the SHA-256 bank's PCRs in mask (bit n = PCR n); ret[n] is written for those only.
 * @return 0, -ENOENT when a PCR of mask is not allocated, other negative errno */
int tpm_pcr_read(struct tpm *t, uint32_t mask, uint8_t ret[TPM_PCRS][32], char *errbuf,
                 size_t errlen);

/* Extends pcr in every allocated bank with that bank's digest of text (TPM2_PCR_Event: the TPM
 * hashes, so every bank gets its own algorithm's digest). text ≤ 1024 bytes, no NUL added.
 * @return 0 or negative errno */
int tpm_pcr_extend_text(struct tpm *t, unsigned pcr, const char *text, char *errbuf, size_t errlen);

/* Extends pcr's SHA-256 bank only with digest, as firmware does for a logged event. */
int tpm_pcr_extend_sha256(struct tpm *t, unsigned pcr, const uint8_t digest[32], char *errbuf,
                          size_t errlen);

/* TPM2_Quote with the AK over the SHA-256 PCRs of mask, with qualifying_data (≤ 64 bytes) as
 * extraData. @return 0 with the marshalled TPM2B_ATTEST and TPMT_SIGNATURE, or negative errno */
int tpm_quote(struct tpm *t, const uint8_t *qualifying_data, size_t qualifying_size, uint32_t mask,
              struct tpm_blob *ret_attest, struct tpm_blob *ret_signature, char *errbuf,
              size_t errlen);

/* TPM2_ActivateCredential(AK, EK) of a marshalled TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET.
 * ret receives the secret (≤ TPM_SECRET_MAX bytes); the caller wipes it.
 * @return 0, -EBADMSG for blobs that do not unmarshal or that the TPM refuses (made for
 *         another EK or AK), other negative errno */
int tpm_activate_credential(struct tpm *t, const uint8_t *credential_blob, size_t blob_size,
                            const uint8_t *encrypted_secret, size_t secret_size,
                            uint8_t ret[TPM_SECRET_MAX], size_t *ret_size, char *errbuf,
                            size_t errlen);

/* TPM2_Import and TPM2_Load of s under the EK, then TPM2_Unseal in a policy session of
 * PolicyPCR(SHA-256, s->pcr_mask), PolicyCounterTimer(resetCount == s->reset_count) and
 * PolicyCounterTimer(restartCount == s->restart_count), salted
 * to the EK so the data crosses the bus encrypted. ret receives the data (≤ TPM_UNSEALED_MAX);
 * the caller wipes it. Every copy this layer or the TSS made is wiped.
 * @return 0, -EACCES when the TPM refuses the policy (PCR state or boot differ), -EBADMSG
 *         for a blob the TPM cannot import, other negative errno */
int tpm_unseal_imported(struct tpm *t, const struct tpm_sealed *s, uint8_t ret[TPM_UNSEALED_MAX],
                        size_t *ret_size, char *errbuf, size_t errlen);
