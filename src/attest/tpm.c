/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ESAPI session of the gate: EK, AK, PCRs, quote, credential activation and the import of the
 * verifier's sealed token. The device TCTI is linked in directly (no dlopen in a static
 * binary), and /dev/tpmrm0 is preferred so the kernel's resource manager flushes our handles. */
#include <endian.h>
#include <signal.h>
#include <stdio.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tcti_device.h>

#include "attest/tpm.h"
#include "util.h"

/* Sits between ESAPI and the device TCTI: counts the commands, and remembers where the last
 * response landed, so that a secret the TPM returned can be wiped there too. */
struct counting_tcti {
        TSS2_TCTI_CONTEXT_COMMON_V1 common;
        TSS2_TCTI_CONTEXT *inner;
        uint64_t commands;
        uint8_t *last_response;
        size_t last_response_size;
};

struct tpm {
        TSS2_TCTI_CONTEXT *device;
        struct counting_tcti tcti;
        ESYS_CONTEXT *esys;
        ESYS_TR ek, ak;
        bool ak_persistent; /* the platform's AK (Azure's HCL AK): closed, never flushed */
        enum tpm_ek_type ek_type;
        char device_path[64];
};

/* A transient object or session, flushed from the TPM when it goes out of scope. */
struct handle {
        ESYS_CONTEXT *esys;
        ESYS_TR tr;
};

static void handle_flush(struct handle *h)
{
        if (h->tr != ESYS_TR_NONE)
                (void) Esys_FlushContext(h->esys, h->tr);
        h->tr = ESYS_TR_NONE;
}
#define _cleanup_flush_ _cleanup_(handle_flush)

/* Hands the handle out of a _cleanup_flush_ variable. */
static ESYS_TR take_tr(struct handle *h)
{
        ESYS_TR tr = h->tr;

        h->tr = ESYS_TR_NONE;
        return tr;
}

/* A session for one command: the TPM flushes it when that command succeeds, which saves a
 * TPM2_FlushContext; session_consumed() then drops ESAPI's record of it. On failure the session
 * stays loaded, and the cleanup flushes it. */
static TSS2_RC single_use(ESYS_CONTEXT *esys, ESYS_TR session)
{
        return Esys_TRSess_SetAttributes(esys, session, 0, TPMA_SESSION_CONTINUESESSION);
}

static void session_consumed(struct handle *h)
{
        if (h->tr != ESYS_TR_NONE)
                (void) Esys_TR_Close(h->esys, &h->tr);
        h->tr = ESYS_TR_NONE;
}

/* An ESYS_TR for an NV index or persistent handle: closed in ESAPI, never flushed. */
static void handle_closep(struct handle *h)
{
        if (h->tr != ESYS_TR_NONE)
                (void) Esys_TR_Close(h->esys, &h->tr);
}

static void esys_freep(void *p)
{
        Esys_Free(*(void **) p);
}
#define _cleanup_esys_ _cleanup_(esys_freep)

static void erase_digestp(TPM2B_DIGEST **p)
{
        if (*p) {
                explicit_bzero(*p, sizeof(**p));
                Esys_Free(*p);
        }
}

static void erase_sensitive_datap(TPM2B_SENSITIVE_DATA **p)
{
        if (*p) {
                explicit_bzero(*p, sizeof(**p));
                Esys_Free(*p);
        }
}

/* TPM response codes: format 1 carries the handle, session or parameter number in its upper
 * bits, which say where, not what. */
static TSS2_RC tpm_rc_code(TSS2_RC rc)
{
        if (rc & TPM2_RC_FMT1)
                return rc & (TPM2_RC_FMT1 | 0x3f);
        return rc & 0xfff;
}

/* The boundary where TPM and TSS response codes become errno values. */
static int tss_to_errno(TSS2_RC rc)
{
        TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;

        if (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER) {
                switch (tpm_rc_code(rc)) {
                case TPM2_RC_POLICY_FAIL:
                case TPM2_RC_POLICY:
                case TPM2_RC_PCR_CHANGED:
                case TPM2_RC_AUTH_FAIL:
                case TPM2_RC_BAD_AUTH:
                case TPM2_RC_LOCKOUT:
                case TPM2_RC_NV_AUTHORIZATION:
                        return -EACCES;
                case TPM2_RC_HANDLE:
                        return -ENOENT;
                case TPM2_RC_INTEGRITY:
                case TPM2_RC_VALUE:
                case TPM2_RC_SIZE:
                case TPM2_RC_KEY:
                case TPM2_RC_KEY_SIZE:
                case TPM2_RC_ECC_POINT:
                case TPM2_RC_ASYMMETRIC:
                case TPM2_RC_SYMMETRIC:
                case TPM2_RC_SCHEME:
                case TPM2_RC_ATTRIBUTES:
                case TPM2_RC_TYPE:
                case TPM2_RC_HASH:
                case TPM2_RC_INSUFFICIENT:
                case TPM2_RC_BINDING:
                case TPM2_RC_SENSITIVE:
                        return -EBADMSG;
                case TPM2_RC_RETRY:
                case TPM2_RC_YIELDED:
                case TPM2_RC_TESTING:
                case TPM2_RC_NV_RATE:
                case TPM2_RC_NV_UNAVAILABLE:
                        return -EAGAIN;
                case TPM2_RC_OBJECT_MEMORY:
                case TPM2_RC_SESSION_MEMORY:
                case TPM2_RC_MEMORY:
                case TPM2_RC_SESSION_HANDLES:
                        return -ENOSPC;
                case TPM2_RC_INITIALIZE:
                        return -EIO;
                }
                return -EPROTO;
        }
        switch (rc & ~TSS2_RC_LAYER_MASK) {
        case TSS2_BASE_RC_NO_CONNECTION:
        case TSS2_BASE_RC_IO_ERROR:
                return -EIO;
        case TSS2_BASE_RC_MEMORY:
                return -ENOMEM;
        case TSS2_BASE_RC_TRY_AGAIN:
        case TSS2_BASE_RC_NOT_PERMITTED:
                return -EAGAIN;
        case TSS2_BASE_RC_BAD_VALUE:
        case TSS2_BASE_RC_BAD_REFERENCE:
                return -EINVAL;
        case TSS2_BASE_RC_MALFORMED_RESPONSE:
        case TSS2_BASE_RC_INSUFFICIENT_BUFFER:
        case TSS2_BASE_RC_BAD_SIZE:
                return -EBADMSG;
        }
        return -EIO;
}

static int tss_error(TSS2_RC rc, char *errbuf, size_t errlen, const char *what)
{
        snprintf(errbuf, errlen, "%s: %s", what, Tss2_RC_Decode(rc));
        return tss_to_errno(rc);
}

static int tpm_error(int r, char *errbuf, size_t errlen, const char *fmt, ...) _printf_(4, 5);
static int tpm_error(int r, char *errbuf, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
        return r;
}

/* Set from a command's transmit until its response arrived, for the watchdog's signal handler:
 * a TPM that stops answering holds the gate in Tss2_Tcti_Receive()'s read(2). */
static volatile sig_atomic_t waiting_for_tpm;

bool tpm_waiting(void)
{
        return waiting_for_tpm != 0;
}

static TSS2_RC counting_transmit(TSS2_TCTI_CONTEXT *ctx, size_t size, const uint8_t *command)
{
        struct counting_tcti *c = (struct counting_tcti *) ctx;

        c->commands++;
        waiting_for_tpm = 1;
        return Tss2_Tcti_Transmit(c->inner, size, command);
}

static TSS2_RC counting_receive(TSS2_TCTI_CONTEXT *ctx, size_t *size, uint8_t *response,
                                int32_t timeout)
{
        struct counting_tcti *c = (struct counting_tcti *) ctx;
        TSS2_RC rc;

        rc = Tss2_Tcti_Receive(c->inner, size, response, timeout);
        /* ESAPI first asks for the size with a NULL buffer; the wait ends with the data. */
        if (response || rc != TSS2_RC_SUCCESS)
                waiting_for_tpm = 0;
        if (rc == TSS2_RC_SUCCESS && response) {
                c->last_response = response;
                c->last_response_size = *size;
        }
        return rc;
}

static void counting_finalize(TSS2_TCTI_CONTEXT *ctx)
{
        (void) ctx; /* the device TCTI is finalized by tpm_close() */
}

static TSS2_RC counting_cancel(TSS2_TCTI_CONTEXT *ctx)
{
        return Tss2_Tcti_Cancel(((struct counting_tcti *) ctx)->inner);
}

static TSS2_RC counting_get_poll_handles(TSS2_TCTI_CONTEXT *ctx, TSS2_TCTI_POLL_HANDLE *handles,
                                         size_t *n)
{
        return Tss2_Tcti_GetPollHandles(((struct counting_tcti *) ctx)->inner, handles, n);
}

static TSS2_RC counting_set_locality(TSS2_TCTI_CONTEXT *ctx, uint8_t locality)
{
        return Tss2_Tcti_SetLocality(((struct counting_tcti *) ctx)->inner, locality);
}

/* The response buffer is the TSS's own, reused for the next command: a secret that arrived
 * in it would otherwise stay there until a longer response overwrites it. */
static void wipe_last_response(struct tpm *t)
{
        if (t->tcti.last_response)
                explicit_bzero(t->tcti.last_response, t->tcti.last_response_size);
}

uint64_t tpm_command_count(const struct tpm *t)
{
        return t->tcti.commands;
}

static void flush_tr(struct tpm *t, ESYS_TR *tr)
{
        struct handle h = {t->esys, *tr};

        handle_flush(&h);
        *tr = ESYS_TR_NONE;
}

/* The AK in use: a transient primary is flushed, a persistent key only forgotten. */
static void drop_ak(struct tpm *t)
{
        if (t->ak_persistent && t->ak != ESYS_TR_NONE)
                (void) Esys_TR_Close(t->esys, &t->ak);
        else
                flush_tr(t, &t->ak);
        t->ak = ESYS_TR_NONE;
        t->ak_persistent = false;
}

void tpm_close(struct tpm *t)
{
        if (!t)
                return;
        if (t->esys) {
                drop_ak(t);
                flush_tr(t, &t->ek);
                Esys_Finalize(&t->esys);
        }
        if (t->device) {
                Tss2_Tcti_Finalize(t->device);
                free(t->device);
        }
        free(t);
}

static int open_device(struct tpm *t, const char *device, char *errbuf, size_t errlen)
{
        size_t size = 0;
        TSS2_RC rc;

        if (access(device, F_OK) < 0)
                return negative_errno();
        rc = Tss2_Tcti_Device_Init(NULL, &size, device);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, device);
        t->device = calloc(1, size);
        if (!t->device)
                return -ENOMEM;
        rc = Tss2_Tcti_Device_Init(t->device, &size, device);
        if (rc != TSS2_RC_SUCCESS) {
                free(t->device);
                t->device = NULL;
                return tss_error(rc, errbuf, errlen, device);
        }
        snprintf(t->device_path, sizeof(t->device_path), "%s", device);
        return 0;
}

int tpm_open(const char *device, struct tpm **ret, char *errbuf, size_t errlen)
{
        static const char *const defaults[] = {"/dev/tpmrm0", "/dev/tpm0"};
        struct tpm *t;
        TSS2_RC rc;
        int r = -ENOENT;

        /* The TSS's own log lines would repeat on the console what errbuf says already; a
         * TSS2_LOG set by whoever debugs this still wins. */
        (void) setenv("TSS2_LOG", "all+none", 0);
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->ek = t->ak = ESYS_TR_NONE;
        snprintf(errbuf, errlen, "no TPM device (%s)", device ? device : "/dev/tpmrm0, /dev/tpm0");
        if (device)
                r = open_device(t, device, errbuf, errlen);
        else
                for (size_t i = 0; i < ELEMENTSOF(defaults) && r == -ENOENT; i++)
                        r = open_device(t, defaults[i], errbuf, errlen);
        if (r < 0) {
                tpm_close(t);
                return r;
        }

        t->tcti.common = (TSS2_TCTI_CONTEXT_COMMON_V1){
            .magic = TSS2_TCTI_MAGIC(t->device),
            .version = 1,
            .transmit = counting_transmit,
            .receive = counting_receive,
            .finalize = counting_finalize,
            .cancel = counting_cancel,
            .getPollHandles = counting_get_poll_handles,
            .setLocality = counting_set_locality,
        };
        t->tcti.inner = t->device;
        rc = Esys_Initialize(&t->esys, (TSS2_TCTI_CONTEXT *) &t->tcti, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                r = tss_error(rc, errbuf, errlen, "Esys_Initialize");
                tpm_close(t);
                return r;
        }
        *ret = t;
        return 0;
}

static int get_property(struct tpm *t, TPM2_PT property, uint32_t *ret, char *errbuf, size_t errlen)
{
        _cleanup_esys_ TPMS_CAPABILITY_DATA *data = NULL;
        TPMI_YES_NO more;
        TSS2_RC rc;

        rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                TPM2_CAP_TPM_PROPERTIES, property, 1, &more, &data);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_GetCapability");
        if (data->data.tpmProperties.count == 0 ||
            data->data.tpmProperties.tpmProperty[0].property != property)
                return -ENODATA;
        *ret = data->data.tpmProperties.tpmProperty[0].value;
        return 0;
}

static void property_chars(uint32_t v, char *out)
{
        for (int i = 0; i < 4; i++) {
                char c = (char) (v >> (24 - 8 * i));
                out[i] = c >= 0x20 && c < 0x7f ? c : ' ';
        }
}

static const char *bank_name(TPMI_ALG_HASH alg)
{
        switch (alg) {
        case TPM2_ALG_SHA1:
                return "sha1";
        case TPM2_ALG_SHA256:
                return "sha256";
        case TPM2_ALG_SHA384:
                return "sha384";
        case TPM2_ALG_SHA512:
                return "sha512";
        case TPM2_ALG_SM3_256:
                return "sm3_256";
        }
        return "unknown";
}

int tpm_get_info(struct tpm *t, struct tpm_info *ret, char *errbuf, size_t errlen)
{
        struct tpm_info info = {};
        _cleanup_esys_ TPMS_CAPABILITY_DATA *data = NULL;
        TPMI_YES_NO more;
        uint32_t v;
        TSS2_RC rc;
        int r;

        r = get_property(t, TPM2_PT_MANUFACTURER, &v, errbuf, errlen);
        if (r < 0)
                return r;
        property_chars(v, info.manufacturer);
        for (unsigned i = 0; i < 4; i++)
                if (get_property(t, TPM2_PT_VENDOR_STRING_1 + i, &v, errbuf, errlen) == 0)
                        property_chars(v, info.vendor + 4 * i);
        (void) get_property(t, TPM2_PT_FIRMWARE_VERSION_1, &info.firmware, errbuf, errlen);
        (void) get_property(t, TPM2_PT_REVISION, &info.spec_revision, errbuf, errlen);

        rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0,
                                1, &more, &data);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_GetCapability(PCRS)");
        for (uint32_t i = 0; i < data->data.assignedPCR.count && info.n_banks < TPM_BANKS_MAX;
             i++) {
                const TPMS_PCR_SELECTION *sel = &data->data.assignedPCR.pcrSelections[i];
                bool any = false;

                for (unsigned b = 0; b < sel->sizeofSelect; b++)
                        any = any || sel->pcrSelect[b] != 0;
                if (any)
                        info.banks[info.n_banks++] = bank_name(sel->hash);
        }
        *ret = info;
        return 0;
}

int tpm_startup_clear(struct tpm *t, char *errbuf, size_t errlen)
{
        TSS2_RC rc;

        rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_Startup(CLEAR)");
        return 0;
}

int tpm_read_reset_count(struct tpm *t, uint32_t *ret, char *errbuf, size_t errlen)
{
        _cleanup_esys_ TPMS_TIME_INFO *time = NULL;
        TSS2_RC rc;

        rc = Esys_ReadClock(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &time);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_ReadClock");
        *ret = time->clockInfo.resetCount;
        return 0;
}

/* ---- EK and AK ---------------------------------------------------------------------------- */

static const char *const ek_type_names[_TPM_EK_TYPE_MAX] = {
    [TPM_EK_AUTO] = "auto",
    [TPM_EK_ECC_P256] = "ecc256",
    [TPM_EK_ECC_P384] = "ecc384",
    [TPM_EK_RSA_2048] = "rsa2048",
};

const char *tpm_ek_type_to_string(enum tpm_ek_type type)
{
        return type < _TPM_EK_TYPE_MAX ? ek_type_names[type] : "unknown";
}

int tpm_ek_type_from_string(const char *s, enum tpm_ek_type *ret)
{
        for (unsigned i = 0; i < _TPM_EK_TYPE_MAX; i++)
                if (streq(s, ek_type_names[i])) {
                        *ret = (enum tpm_ek_type) i;
                        return 0;
                }
        return -EINVAL;
}

static uint32_t ek_cert_index(enum tpm_ek_type type)
{
        switch (type) {
        case TPM_EK_ECC_P256:
                return TPM_NV_EK_CERT_P256;
        case TPM_EK_ECC_P384:
                return TPM_NV_EK_CERT_P384;
        case TPM_EK_RSA_2048:
                return TPM_NV_EK_CERT_RSA2048;
        default:
                return 0;
        }
}

/* EK Credential Profile "PolicyA": TPM2_PolicySecret(TPM_RH_ENDORSEMENT), per name algorithm;
 * "PolicyC": TPM2_PolicyAuthorizeNV(0x01c07f01); "PolicyB" = PolicyOR(PolicyA, PolicyC) is the
 * authPolicy of the high-range templates. PolicyB-SHA384 recomputed from these two gives
 * b26e7d28…0e12, the value in the H-3 template. */
static const uint8_t policy_a_sha256[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};
static const uint8_t policy_a_sha384[48] = {
    0x8b, 0xbf, 0x22, 0x66, 0x53, 0x7c, 0x17, 0x1c, 0xb5, 0x6e, 0x40, 0x3c, 0x4d, 0xc1, 0xd4, 0xb6,
    0x4f, 0x43, 0x26, 0x11, 0xdc, 0x38, 0x6e, 0x6f, 0x53, 0x20, 0x50, 0xc3, 0x27, 0x8c, 0x93, 0x0e,
    0x14, 0x3e, 0x8b, 0xb1, 0x13, 0x38, 0x24, 0xcc, 0xb4, 0x31, 0x05, 0x38, 0x71, 0xc6, 0xdb, 0x53,
};
static const uint8_t policy_c_sha384[48] = {
    0xd6, 0x03, 0x2c, 0xe6, 0x1f, 0x2f, 0xb3, 0xc2, 0x40, 0xeb, 0x3c, 0xf6, 0xa3, 0x32, 0x37, 0xef,
    0x2b, 0x6a, 0x16, 0xf4, 0x29, 0x3c, 0x22, 0xb4, 0x55, 0xe2, 0x61, 0xcf, 0xfd, 0x21, 0x7a, 0xd5,
    0xb4, 0x94, 0x7c, 0x2d, 0x73, 0xe6, 0x30, 0x05, 0xee, 0xd2, 0xdc, 0x2b, 0x35, 0x93, 0xd1, 0x65,
};
static const uint8_t policy_b_sha384[48] = {
    0xb2, 0x6e, 0x7d, 0x28, 0xd1, 0x1a, 0x50, 0xbc, 0x53, 0xd8, 0x82, 0xbc, 0xf5, 0xfd, 0x3a, 0x1a,
    0x07, 0x41, 0x48, 0xbb, 0x35, 0xd3, 0xb4, 0xe4, 0xcb, 0x1c, 0x0a, 0xd9, 0xbd, 0xe4, 0x19, 0xca,
    0xcb, 0x47, 0xba, 0x09, 0x69, 0x96, 0x46, 0x15, 0x0f, 0x9f, 0xc0, 0x00, 0xf3, 0xf8, 0x0e, 0x12,
};

#define EK_ATTRIBUTES                                                                              \
        (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |        \
         TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)

/* The templates of the TCG EK Credential Profile. The low-range ones (L-1, L-2) fill unique
 * with zeros of the key's size; H-3 leaves it empty and sets userWithAuth. swtpm 0.7.1
 * certifies exactly H-3 (and L-1): the keys they give equal the certificates' keys. */
static void ek_template(enum tpm_ek_type type, TPM2B_PUBLIC *ret)
{
        TPMT_PUBLIC *p = &ret->publicArea;

        *ret = (TPM2B_PUBLIC){};
        switch (type) {
        case TPM_EK_RSA_2048:
                p->type = TPM2_ALG_RSA;
                p->nameAlg = TPM2_ALG_SHA256;
                p->objectAttributes = EK_ATTRIBUTES;
                p->authPolicy.size = sizeof(policy_a_sha256);
                memcpy(p->authPolicy.buffer, policy_a_sha256, sizeof(policy_a_sha256));
                p->parameters.rsaDetail = (TPMS_RSA_PARMS){
                    .symmetric = {.algorithm = TPM2_ALG_AES,
                                  .keyBits.aes = 128,
                                  .mode.aes = TPM2_ALG_CFB},
                    .scheme = {.scheme = TPM2_ALG_NULL},
                    .keyBits = 2048,
                    .exponent = 0,
                };
                p->unique.rsa.size = 256;
                break;
        case TPM_EK_ECC_P384:
                p->type = TPM2_ALG_ECC;
                p->nameAlg = TPM2_ALG_SHA384;
                p->objectAttributes = EK_ATTRIBUTES | TPMA_OBJECT_USERWITHAUTH;
                p->authPolicy.size = sizeof(policy_b_sha384);
                memcpy(p->authPolicy.buffer, policy_b_sha384, sizeof(policy_b_sha384));
                p->parameters.eccDetail = (TPMS_ECC_PARMS){
                    .symmetric = {.algorithm = TPM2_ALG_AES,
                                  .keyBits.aes = 256,
                                  .mode.aes = TPM2_ALG_CFB},
                    .scheme = {.scheme = TPM2_ALG_NULL},
                    .curveID = TPM2_ECC_NIST_P384,
                    .kdf = {.scheme = TPM2_ALG_NULL},
                };
                break;
        default: /* TPM_EK_ECC_P256 */
                p->type = TPM2_ALG_ECC;
                p->nameAlg = TPM2_ALG_SHA256;
                p->objectAttributes = EK_ATTRIBUTES;
                p->authPolicy.size = sizeof(policy_a_sha256);
                memcpy(p->authPolicy.buffer, policy_a_sha256, sizeof(policy_a_sha256));
                p->parameters.eccDetail = (TPMS_ECC_PARMS){
                    .symmetric = {.algorithm = TPM2_ALG_AES,
                                  .keyBits.aes = 128,
                                  .mode.aes = TPM2_ALG_CFB},
                    .scheme = {.scheme = TPM2_ALG_NULL},
                    .curveID = TPM2_ECC_NIST_P256,
                    .kdf = {.scheme = TPM2_ALG_NULL},
                };
                p->unique.ecc.x.size = 32;
                p->unique.ecc.y.size = 32;
                break;
        }
}

static const TPM2B_PUBLIC ak_template = {
    .publicArea =
        {
            .type = TPM2_ALG_ECC,
            .nameAlg = TPM2_ALG_SHA256,
            .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
                                TPMA_OBJECT_NODA,
            .parameters.eccDetail =
                {
                    .symmetric = {.algorithm = TPM2_ALG_NULL},
                    .scheme = {.scheme = TPM2_ALG_ECDSA, .details.ecdsa.hashAlg = TPM2_ALG_SHA256},
                    .curveID = TPM2_ECC_NIST_P256,
                    .kdf = {.scheme = TPM2_ALG_NULL},
                },
        },
};

static int marshal_public(const TPM2B_PUBLIC *pub, struct tpm_blob *ret)
{
        size_t offset = 0;

        if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, ret->data, sizeof(ret->data), &offset) !=
            TSS2_RC_SUCCESS)
                return -EOVERFLOW;
        ret->size = offset;
        return 0;
}

/* A primary in the endorsement hierarchy, whose auth is empty as on every TPM nobody took. */
static int create_primary(struct tpm *t, const TPM2B_PUBLIC *template, const char *what,
                          ESYS_TR *ret_handle, struct tpm_blob *ret_public, char *errbuf,
                          size_t errlen)
{
        const TPM2B_SENSITIVE_CREATE sensitive = {};
        const TPM2B_DATA outside = {};
        const TPML_PCR_SELECTION creation_pcrs = {};
        _cleanup_esys_ TPM2B_PUBLIC *pub = NULL;
        _cleanup_flush_ struct handle h = {t->esys, ESYS_TR_NONE};
        struct tpm_blob blob;
        TSS2_RC rc;
        int r;

        rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &sensitive, template, &outside, &creation_pcrs, &h.tr,
                                &pub, NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, what);
        r = marshal_public(pub, &blob);
        if (r < 0)
                return tpm_error(r, errbuf, errlen, "%s: public area too large", what);
        *ret_handle = take_tr(&h);
        *ret_public = blob;
        return 0;
}

/* A DER SEQUENCE's own length: NV indices may be defined larger than the certificate they
 * hold, and the rest is padding that is not part of it. */
static size_t der_length(const uint8_t *p, size_t size)
{
        size_t len;

        if (size < 2 || p[0] != 0x30)
                return size;
        if (p[1] < 0x80)
                len = 2 + (size_t) p[1];
        else if (p[1] == 0x81 && size >= 3)
                len = 3 + (size_t) p[2];
        else if (p[1] == 0x82 && size >= 4)
                len = 4 + ((size_t) p[2] << 8 | p[3]);
        else
                return size;
        return len <= size ? len : size;
}

/* An ESYS_TR for nv_index and its public area. */
static int nv_public(struct tpm *t, uint32_t nv_index, struct handle *ret_nv,
                     TPM2B_NV_PUBLIC **ret_pub, char *errbuf, size_t errlen)
{
        char what[64];
        TSS2_RC rc;

        snprintf(what, sizeof(what), "TPM2_NV_ReadPublic(0x%08x)", nv_index);
        rc = Esys_TR_FromTPMPublic(t->esys, nv_index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &ret_nv->tr);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, what);
        rc = Esys_NV_ReadPublic(t->esys, ret_nv->tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                ret_pub, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, what);
        return 0;
}

int tpm_nv_size(struct tpm *t, uint32_t nv_index, size_t *ret_size, char *errbuf, size_t errlen)
{
        _cleanup_(handle_closep) struct handle nv = {t->esys, ESYS_TR_NONE};
        _cleanup_esys_ TPM2B_NV_PUBLIC *pub = NULL;
        int r;

        r = nv_public(t, nv_index, &nv, &pub, errbuf, errlen);
        if (r < 0)
                return r;
        *ret_size = pub->nvPublic.dataSize;
        return 0;
}

int tpm_nv_read(struct tpm *t, uint32_t nv_index, size_t max, bool owner_first, uint8_t **ret,
                size_t *ret_size, size_t *ret_chunk, char *errbuf, size_t errlen)
{
        _cleanup_(handle_closep) struct handle nv = {t->esys, ESYS_TR_NONE};
        _cleanup_esys_ TPM2B_NV_PUBLIC *pub = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        uint32_t chunk_max = 0;
        ESYS_TR auth;
        size_t size;
        TSS2_RC rc;
        char what[64];
        int r;

        r = nv_public(t, nv_index, &nv, &pub, errbuf, errlen);
        if (r < 0)
                return r;
        size = pub->nvPublic.dataSize;
        if (size == 0)
                return tpm_error(-ENODATA, errbuf, errlen, "NV index 0x%08x is empty", nv_index);
        if (size > max)
                return tpm_error(-EFBIG, errbuf, errlen,
                                 "NV index 0x%08x holds %zu bytes, more than the %zu allowed",
                                 nv_index, size, max);
        /* TCG EK indices are readable with their own (empty) auth or the owner's; Azure's report
         * index is read with the owner's, as Microsoft's tools do. */
        if ((pub->nvPublic.attributes & TPMA_NV_OWNERREAD) &&
            (owner_first || !(pub->nvPublic.attributes & TPMA_NV_AUTHREAD)))
                auth = ESYS_TR_RH_OWNER;
        else if (pub->nvPublic.attributes & TPMA_NV_AUTHREAD)
                auth = nv.tr;
        else
                return tpm_error(-EACCES, errbuf, errlen,
                                 "NV index 0x%08x is readable by neither its auth nor the owner",
                                 nv_index);

        if (get_property(t, TPM2_PT_NV_BUFFER_MAX, &chunk_max, errbuf, errlen) < 0 ||
            chunk_max == 0)
                chunk_max = 512; /* what every TPM 2.0 supports */
        if (chunk_max > sizeof(((TPM2B_MAX_NV_BUFFER *) NULL)->buffer))
                chunk_max = sizeof(((TPM2B_MAX_NV_BUFFER *) NULL)->buffer);

        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        /* Bounded: at most max rounds, as every round reads at least a byte. */
        for (size_t offset = 0; offset < size;) {
                _cleanup_esys_ TPM2B_MAX_NV_BUFFER *data = NULL;
                uint16_t n = (uint16_t) (size - offset < chunk_max ? size - offset : chunk_max);

                rc = Esys_NV_Read(t->esys, auth, nv.tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, n, (uint16_t) offset, &data);
                if (rc != TSS2_RC_SUCCESS) {
                        snprintf(what, sizeof(what), "TPM2_NV_Read(0x%08x)", nv_index);
                        return tss_error(rc, errbuf, errlen, what);
                }
                if (data->size != n)
                        return tpm_error(-EIO, errbuf, errlen,
                                         "TPM2_NV_Read(0x%08x): %u bytes instead of %u", nv_index,
                                         data->size, n);
                memcpy(buf + offset, data->buffer, n);
                offset += n;
        }
        *ret_size = size;
        if (ret_chunk)
                *ret_chunk = chunk_max;
        *ret = TAKE_PTR(buf);
        return 0;
}

int tpm_read_ek_certificate(struct tpm *t, uint32_t nv_index, uint8_t **ret, size_t *ret_size,
                            char *errbuf, size_t errlen)
{
        uint8_t *buf = NULL;
        size_t size = 0;
        int r;

        r = tpm_nv_read(t, nv_index, TPM_EK_CERT_MAX, false, &buf, &size, NULL, errbuf, errlen);
        if (r < 0)
                return r;
        *ret_size = der_length(buf, size);
        *ret = buf;
        return 0;
}

static int nv_define(struct tpm *t, uint32_t nv_index, size_t size, struct handle *ret,
                     char *errbuf, size_t errlen)
{
        const TPM2B_AUTH empty = {};
        TPM2B_NV_PUBLIC pub = {
            .nvPublic =
                {
                    .nvIndex = nv_index,
                    .nameAlg = TPM2_ALG_SHA256,
                    .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHWRITE |
                                  TPMA_NV_AUTHREAD,
                    .dataSize = (uint16_t) size,
                },
        };
        char what[64];
        TSS2_RC rc;

        snprintf(what, sizeof(what), "TPM2_NV_DefineSpace(0x%08x)", nv_index);
        rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                 ESYS_TR_NONE, &empty, &pub, &ret->tr);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, what);
        return 0;
}

int tpm_nv_write_owner(struct tpm *t, uint32_t nv_index, const uint8_t *data, size_t size,
                       char *errbuf, size_t errlen)
{
        _cleanup_(handle_closep) struct handle nv = {t->esys, ESYS_TR_NONE};
        _cleanup_esys_ TPM2B_NV_PUBLIC *pub = NULL;
        TPM2B_MAX_NV_BUFFER buffer = {};
        char what[64];
        TSS2_RC rc;
        int r;

        if (size == 0 || size > sizeof(buffer.buffer))
                return -EINVAL;
        r = nv_public(t, nv_index, &nv, &pub, errbuf, errlen);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0 && pub->nvPublic.dataSize != size) {
                /* Another size (an older tool's): defined again, as Azure's samples do. */
                snprintf(what, sizeof(what), "TPM2_NV_UndefineSpace(0x%08x)", nv_index);
                rc = Esys_NV_UndefineSpace(t->esys, ESYS_TR_RH_OWNER, nv.tr, ESYS_TR_PASSWORD,
                                           ESYS_TR_NONE, ESYS_TR_NONE);
                if (rc != TSS2_RC_SUCCESS)
                        return tss_error(rc, errbuf, errlen, what);
                nv.tr = ESYS_TR_NONE; /* ESAPI dropped it with the index */
                r = -ENOENT;
        }
        if (r == -ENOENT) {
                if (nv.tr != ESYS_TR_NONE)
                        (void) Esys_TR_Close(t->esys, &nv.tr);
                nv.tr = ESYS_TR_NONE;
                r = nv_define(t, nv_index, size, &nv, errbuf, errlen);
                if (r < 0)
                        return r;
        }
        buffer.size = (uint16_t) size;
        memcpy(buffer.buffer, data, size);
        snprintf(what, sizeof(what), "TPM2_NV_Write(0x%08x)", nv_index);
        rc = Esys_NV_Write(t->esys, ESYS_TR_RH_OWNER, nv.tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, &buffer, 0);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, what);
        return 0;
}

/* Which EK certificates NV holds, in one TPM2_GetCapability. Bit per enum tpm_ek_type. */
static int ek_certs_present(struct tpm *t, unsigned *ret, char *errbuf, size_t errlen)
{
        _cleanup_esys_ TPMS_CAPABILITY_DATA *data = NULL;
        TPMI_YES_NO more;
        unsigned present = 0;
        TSS2_RC rc;

        rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                TPM_NV_EK_CERT_RSA2048, TPM2_MAX_CAP_HANDLES, &more, &data);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_GetCapability(HANDLES)");
        for (uint32_t i = 0; i < data->data.handles.count && i < TPM2_MAX_CAP_HANDLES; i++)
                for (unsigned type = TPM_EK_ECC_P256; type < _TPM_EK_TYPE_MAX; type++)
                        if (data->data.handles.handle[i] == ek_cert_index(type))
                                present |= 1u << type;
        *ret = present;
        return 0;
}

void tpm_ek_done(struct tpm_ek *ek)
{
        if (!ek)
                return;
        free(ek->certificate);
        ek->certificate = NULL;
        ek->certificate_size = 0;
}

int tpm_create_ek(struct tpm *t, enum tpm_ek_type type, struct tpm_ek *ret, char *errbuf,
                  size_t errlen)
{
        static const enum tpm_ek_type preference[] = {TPM_EK_ECC_P256, TPM_EK_ECC_P384,
                                                      TPM_EK_RSA_2048};
        _cleanup_flush_ struct handle ek = {t->esys, ESYS_TR_NONE};
        _cleanup_free_ uint8_t *cert = NULL;
        struct tpm_blob public;
        TPM2B_PUBLIC template;
        size_t cert_size = 0;
        unsigned present = 0;
        char what[64];
        int r;

        if (type >= _TPM_EK_TYPE_MAX)
                return -EINVAL;
        r = ek_certs_present(t, &present, errbuf, errlen);
        if (r < 0)
                return r;
        if (type == TPM_EK_AUTO) {
                /* No certificate at all: the cheapest key, for an EK on the allowlist. */
                type = TPM_EK_ECC_P256;
                for (size_t i = 0; i < ELEMENTSOF(preference); i++)
                        if (present & (1u << preference[i])) {
                                type = preference[i];
                                break;
                        }
        }

        ek_template(type, &template);
        snprintf(what, sizeof(what), "TPM2_CreatePrimary(EK %s)", tpm_ek_type_to_string(type));
        r = create_primary(t, &template, what, &ek.tr, &public, errbuf, errlen);
        if (r < 0)
                return r;

        /* Only an index that is there is read: a TPM without certificates is no error. */
        if (present & (1u << type)) {
                r = tpm_read_ek_certificate(t, ek_cert_index(type), &cert, &cert_size, errbuf,
                                            errlen);
                if (r < 0)
                        return r;
        }

        flush_tr(t, &t->ek);
        t->ek = take_tr(&ek);
        t->ek_type = type;
        *ret = (struct tpm_ek){
            .type = type,
            .public = public,
            .certificate = TAKE_PTR(cert),
            .certificate_size = cert_size,
        };
        return 0;
}

int tpm_create_ak(struct tpm *t, struct tpm_blob *ret_public, char *errbuf, size_t errlen)
{
        _cleanup_flush_ struct handle ak = {t->esys, ESYS_TR_NONE};
        int r;

        r = create_primary(t, &ak_template, "TPM2_CreatePrimary(AK)", &ak.tr, ret_public, errbuf,
                           errlen);
        if (r < 0)
                return r;
        drop_ak(t);
        t->ak = take_tr(&ak);
        return 0;
}

int tpm_use_persistent_ak(struct tpm *t, uint32_t handle, struct tpm_blob *ret_public, char *errbuf,
                          size_t errlen)
{
        _cleanup_(handle_closep) struct handle ak = {t->esys, ESYS_TR_NONE};
        _cleanup_esys_ TPM2B_PUBLIC *pub = NULL;
        struct tpm_blob blob;
        char what[64];
        TSS2_RC rc;
        int r;

        snprintf(what, sizeof(what), "TPM2_ReadPublic(0x%08x)", handle);
        rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &ak.tr);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, what);
        rc = Esys_ReadPublic(t->esys, ak.tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL,
                             NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, what);
        /* The verifier judges the key (PROTOCOL.md, round 1); here only what the gate needs to
         * quote and activate with it. */
        if (!(pub->publicArea.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) ||
            !(pub->publicArea.objectAttributes & TPMA_OBJECT_RESTRICTED))
                return tpm_error(-EBADMSG, errbuf, errlen, "0x%08x is not a restricted signing key",
                                 handle);
        r = marshal_public(pub, &blob);
        if (r < 0)
                return tpm_error(r, errbuf, errlen, "%s: public area too large", what);
        drop_ak(t);
        t->ak = ak.tr;
        ak.tr = ESYS_TR_NONE;
        t->ak_persistent = true;
        *ret_public = blob;
        return 0;
}

/* ---- PCRs and quote ------------------------------------------------------------------------ */

static void sha256_selection(uint32_t mask, TPML_PCR_SELECTION *ret)
{
        *ret = (TPML_PCR_SELECTION){
            .count = 1,
            .pcrSelections[0] =
                {
                    .hash = TPM2_ALG_SHA256,
                    .sizeofSelect = 3,
                    .pcrSelect = {mask & 0xff, (mask >> 8) & 0xff, (mask >> 16) & 0xff},
                },
        };
}

static bool pcr_mask_valid(uint32_t mask)
{
        return mask != 0 && (mask >> TPM_PCRS) == 0;
}

int tpm_pcr_read(struct tpm *t, uint32_t mask, uint8_t ret[TPM_PCRS][32], char *errbuf,
                 size_t errlen)
{
        uint8_t values[TPM_PCRS][32];
        uint32_t left = mask, first_counter = 0;

        if (!pcr_mask_valid(mask))
                return -EINVAL;
        /* TPM2_PCR_Read returns at most 8 digests a call; every round takes at least one PCR
         * off left, or fails. */
        for (unsigned round = 0; left != 0 && round < TPM_PCRS; round++) {
                _cleanup_esys_ TPML_PCR_SELECTION *got_sel = NULL;
                _cleanup_esys_ TPML_DIGEST *digests = NULL;
                TPML_PCR_SELECTION sel;
                uint32_t counter, got = 0;
                unsigned k = 0;
                TSS2_RC rc;

                sha256_selection(left, &sel);
                rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
                                   &counter, &got_sel, &digests);
                if (rc != TSS2_RC_SUCCESS)
                        return tss_error(rc, errbuf, errlen, "TPM2_PCR_Read");
                /* One snapshot: a PCR extended between two rounds would mix two states. */
                if (round == 0)
                        first_counter = counter;
                else if (counter != first_counter)
                        return tpm_error(-EAGAIN, errbuf, errlen,
                                         "TPM2_PCR_Read: PCRs changed while being read");
                for (uint32_t i = 0; i < got_sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
                        const TPMS_PCR_SELECTION *s = &got_sel->pcrSelections[i];

                        if (s->hash != TPM2_ALG_SHA256)
                                continue;
                        for (unsigned b = 0; b < s->sizeofSelect && b < 3; b++)
                                got |= (uint32_t) s->pcrSelect[b] << (8 * b);
                }
                if (got == 0) {
                        unsigned pcr = (unsigned) __builtin_ctz(left);
                        return tpm_error(-ENOENT, errbuf, errlen,
                                         "TPM2_PCR_Read: PCR %u is not allocated in the SHA-256 "
                                         "bank",
                                         pcr);
                }
                if ((got & ~left) != 0 || digests->count != (uint32_t) __builtin_popcount(got))
                        return tpm_error(-EIO, errbuf, errlen,
                                         "TPM2_PCR_Read: answer does not match the selection");
                for (unsigned pcr = 0; pcr < TPM_PCRS; pcr++) {
                        if (!(got & (1u << pcr)))
                                continue;
                        if (digests->digests[k].size != 32)
                                return tpm_error(-EIO, errbuf, errlen,
                                                 "TPM2_PCR_Read: PCR %u digest of %u bytes", pcr,
                                                 digests->digests[k].size);
                        memcpy(values[pcr], digests->digests[k].buffer, 32);
                        k++;
                }
                left &= ~got;
        }
        if (left != 0)
                return tpm_error(-EIO, errbuf, errlen, "TPM2_PCR_Read: PCRs missing");
        for (unsigned pcr = 0; pcr < TPM_PCRS; pcr++)
                if (mask & (1u << pcr))
                        memcpy(ret[pcr], values[pcr], 32);
        return 0;
}

int tpm_pcr_extend_text(struct tpm *t, unsigned pcr, const char *text, char *errbuf, size_t errlen)
{
        _cleanup_esys_ TPML_DIGEST_VALUES *digests = NULL;
        TPM2B_EVENT event = {};
        size_t len = strlen(text);
        char what[48];
        TSS2_RC rc;

        if (pcr >= TPM_PCRS || len > sizeof(event.buffer))
                return -EINVAL;
        event.size = (uint16_t) len;
        memcpy(event.buffer, text, len);
        rc = Esys_PCR_Event(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &event, &digests);
        if (rc != TSS2_RC_SUCCESS) {
                snprintf(what, sizeof(what), "TPM2_PCR_Event(PCR %u)", pcr);
                return tss_error(rc, errbuf, errlen, what);
        }
        return 0;
}

int tpm_pcr_extend_sha256(struct tpm *t, unsigned pcr, const uint8_t digest[32], char *errbuf,
                          size_t errlen)
{
        TPML_DIGEST_VALUES digests = {
            .count = 1,
            .digests[0] = {.hashAlg = TPM2_ALG_SHA256},
        };
        char what[48];
        TSS2_RC rc;

        if (pcr >= TPM_PCRS)
                return -EINVAL;
        memcpy(digests.digests[0].digest.sha256, digest, 32);
        rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE, &digests);
        if (rc != TSS2_RC_SUCCESS) {
                snprintf(what, sizeof(what), "TPM2_PCR_Extend(PCR %u)", pcr);
                return tss_error(rc, errbuf, errlen, what);
        }
        return 0;
}

int tpm_quote(struct tpm *t, const uint8_t *qualifying_data, size_t qualifying_size, uint32_t mask,
              struct tpm_blob *ret_attest, struct tpm_blob *ret_signature, char *errbuf,
              size_t errlen)
{
        const TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL}; /* the AK's own */
        _cleanup_esys_ TPM2B_ATTEST *attest = NULL;
        _cleanup_esys_ TPMT_SIGNATURE *signature = NULL;
        struct tpm_blob a, s;
        TPM2B_DATA extra = {};
        TPML_PCR_SELECTION sel;
        size_t offset;
        TSS2_RC rc;

        if (t->ak == ESYS_TR_NONE)
                return tpm_error(-EBADF, errbuf, errlen, "TPM2_Quote: no AK");
        if (!pcr_mask_valid(mask) || qualifying_size > sizeof(extra.buffer))
                return -EINVAL;
        extra.size = (uint16_t) qualifying_size;
        memcpy(extra.buffer, qualifying_data, qualifying_size);
        sha256_selection(mask, &sel);
        rc = Esys_Quote(t->esys, t->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &extra,
                        &scheme, &sel, &attest, &signature);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_Quote");

        offset = 0;
        if (Tss2_MU_TPM2B_ATTEST_Marshal(attest, a.data, sizeof(a.data), &offset) !=
            TSS2_RC_SUCCESS)
                return tpm_error(-EOVERFLOW, errbuf, errlen, "TPM2_Quote: attest too large");
        a.size = offset;
        offset = 0;
        if (Tss2_MU_TPMT_SIGNATURE_Marshal(signature, s.data, sizeof(s.data), &offset) !=
            TSS2_RC_SUCCESS)
                return tpm_error(-EOVERFLOW, errbuf, errlen, "TPM2_Quote: signature too large");
        s.size = offset;
        *ret_attest = a;
        *ret_signature = s;
        return 0;
}

/* ---- The EK's policy, credential activation, import and unseal ---------------------------- */

/* A policy session that satisfies the EK's authPolicy: PolicySecret(TPM_RH_ENDORSEMENT) is
 * PolicyA, the low-range templates' policy; the high-range P-384 template has PolicyB, which
 * PolicyOR(PolicyA, PolicyC) reaches from PolicyA. */
static int ek_policy_session(struct tpm *t, struct handle *ret, char *errbuf, size_t errlen)
{
        const TPMT_SYM_DEF no_symmetric = {.algorithm = TPM2_ALG_NULL};
        _cleanup_flush_ struct handle s = {t->esys, ESYS_TR_NONE};
        bool high = t->ek_type == TPM_EK_ECC_P384;
        TSS2_RC rc;

        if (t->ek == ESYS_TR_NONE)
                return tpm_error(-EBADF, errbuf, errlen, "no EK");
        rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &no_symmetric,
                                   high ? TPM2_ALG_SHA384 : TPM2_ALG_SHA256, &s.tr);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_StartAuthSession(EK policy)");
        rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, s.tr, ESYS_TR_PASSWORD,
                               ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_PolicySecret(TPM_RH_ENDORSEMENT)");
        if (high) {
                TPML_DIGEST branches = {.count = 2};

                branches.digests[0].size = sizeof(policy_a_sha384);
                memcpy(branches.digests[0].buffer, policy_a_sha384, sizeof(policy_a_sha384));
                branches.digests[1].size = sizeof(policy_c_sha384);
                memcpy(branches.digests[1].buffer, policy_c_sha384, sizeof(policy_c_sha384));
                rc = Esys_PolicyOR(t->esys, s.tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &branches);
                if (rc != TSS2_RC_SUCCESS)
                        return tss_error(rc, errbuf, errlen, "TPM2_PolicyOR(EK PolicyB)");
        }
        rc = single_use(t->esys, s.tr);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "Esys_TRSess_SetAttributes");
        ret->tr = take_tr(&s);
        return 0;
}

int tpm_activate_credential(struct tpm *t, const uint8_t *credential_blob, size_t blob_size,
                            const uint8_t *encrypted_secret, size_t secret_size,
                            uint8_t ret[TPM_SECRET_MAX], size_t *ret_size, char *errbuf,
                            size_t errlen)
{
        _cleanup_flush_ struct handle session = {t->esys, ESYS_TR_NONE};
        _cleanup_(erase_digestp) TPM2B_DIGEST *cert_info = NULL;
        TPM2B_ID_OBJECT blob = {};
        TPM2B_ENCRYPTED_SECRET secret = {};
        size_t offset;
        TSS2_RC rc;
        int r;

        if (t->ak == ESYS_TR_NONE)
                return tpm_error(-EBADF, errbuf, errlen, "TPM2_ActivateCredential: no AK");
        offset = 0;
        if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(credential_blob, blob_size, &offset, &blob) !=
                TSS2_RC_SUCCESS ||
            offset != blob_size)
                return tpm_error(-EBADMSG, errbuf, errlen,
                                 "credential_blob is not a TPM2B_ID_OBJECT");
        offset = 0;
        if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(encrypted_secret, secret_size, &offset,
                                                     &secret) != TSS2_RC_SUCCESS ||
            offset != secret_size)
                return tpm_error(-EBADMSG, errbuf, errlen,
                                 "encrypted_secret is not a TPM2B_ENCRYPTED_SECRET");

        r = ek_policy_session(t, &session, errbuf, errlen);
        if (r < 0)
                return r;
        rc = Esys_ActivateCredential(t->esys, t->ak, t->ek, ESYS_TR_PASSWORD, session.tr,
                                     ESYS_TR_NONE, &blob, &secret, &cert_info);
        wipe_last_response(t);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_ActivateCredential");
        session_consumed(&session);
        if (cert_info->size > TPM_SECRET_MAX)
                return -EIO;
        memcpy(ret, cert_info->buffer, cert_info->size);
        *ret_size = cert_info->size;
        return 0;
}

static int unmarshal_sealed(const struct tpm_sealed *s, TPM2B_PUBLIC *pub, TPM2B_PRIVATE *dup,
                            TPM2B_ENCRYPTED_SECRET *seed, char *errbuf, size_t errlen)
{
        size_t offset;

        offset = 0;
        if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(s->public, s->public_size, &offset, pub) !=
                TSS2_RC_SUCCESS ||
            offset != s->public_size)
                return tpm_error(-EBADMSG, errbuf, errlen, "sealed.public is not a TPM2B_PUBLIC");
        offset = 0;
        if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(s->duplicate, s->duplicate_size, &offset, dup) !=
                TSS2_RC_SUCCESS ||
            offset != s->duplicate_size)
                return tpm_error(-EBADMSG, errbuf, errlen,
                                 "sealed.duplicate is not a TPM2B_PRIVATE");
        offset = 0;
        if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(s->encrypted_seed, s->encrypted_seed_size,
                                                     &offset, seed) != TSS2_RC_SUCCESS ||
            offset != s->encrypted_seed_size)
                return tpm_error(-EBADMSG, errbuf, errlen,
                                 "sealed.encrypted_seed is not a TPM2B_ENCRYPTED_SECRET");
        return 0;
}

/* The sealed object's policy, replayed in a session salted to the EK with AES-128-CFB, so that
 * TPM2_Unseal's answer crosses the bus encrypted. */
static int unseal_policy_session(struct tpm *t, const struct tpm_sealed *s, struct handle *ret,
                                 char *errbuf, size_t errlen)
{
        const TPMT_SYM_DEF aes = {
            .algorithm = TPM2_ALG_AES,
            .keyBits.aes = 128,
            .mode.aes = TPM2_ALG_CFB,
        };
        _cleanup_flush_ struct handle session = {t->esys, ESYS_TR_NONE};
        const TPM2B_DIGEST current = {}; /* empty: the TPM takes its live PCR values */
        TPM2B_OPERAND reset_count = {.size = 4}, restart_count = {.size = 4};
        TPML_PCR_SELECTION sel;
        uint32_t be = htobe32(s->reset_count), restart_be = htobe32(s->restart_count);
        TSS2_RC rc;

        rc = Esys_StartAuthSession(t->esys, t->ek, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &aes, TPM2_ALG_SHA256,
                                   &session.tr);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_StartAuthSession(salted to the EK)");
        rc = Esys_TRSess_SetAttributes(t->esys, session.tr, TPMA_SESSION_ENCRYPT,
                                       TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "Esys_TRSess_SetAttributes");

        sha256_selection(s->pcr_mask, &sel);
        rc = Esys_PolicyPCR(t->esys, session.tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &current,
                            &sel);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_PolicyPCR");
        /* resetCount sits at offset 16 of TPMS_TIME_INFO (time, then clock, then it). */
        memcpy(reset_count.buffer, &be, sizeof(be));
        rc = Esys_PolicyCounterTimer(t->esys, session.tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     &reset_count, 16, TPM2_EO_EQ);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_PolicyCounterTimer(resetCount)");
        /* restartCount follows it at offset 20: a TPM Restart resets the PCRs (root could extend
         * the logged digests again) but not resetCount. */
        memcpy(restart_count.buffer, &restart_be, sizeof(restart_be));
        rc = Esys_PolicyCounterTimer(t->esys, session.tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     &restart_count, 20, TPM2_EO_EQ);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_PolicyCounterTimer(restartCount)");
        ret->tr = take_tr(&session);
        return 0;
}

int tpm_unseal_imported(struct tpm *t, const struct tpm_sealed *s, uint8_t ret[TPM_UNSEALED_MAX],
                        size_t *ret_size, char *errbuf, size_t errlen)
{
        const TPMT_SYM_DEF_OBJECT no_inner = {.algorithm = TPM2_ALG_NULL};
        const TPM2B_DATA no_key = {};
        _cleanup_flush_ struct handle import_session = {t->esys, ESYS_TR_NONE};
        _cleanup_flush_ struct handle load_session = {t->esys, ESYS_TR_NONE};
        _cleanup_flush_ struct handle unseal_session = {t->esys, ESYS_TR_NONE};
        _cleanup_flush_ struct handle object = {t->esys, ESYS_TR_NONE};
        _cleanup_esys_ TPM2B_PRIVATE *private = NULL;
        _cleanup_(erase_sensitive_datap) TPM2B_SENSITIVE_DATA *data = NULL;
        TPM2B_PUBLIC pub = {};
        TPM2B_PRIVATE dup = {};
        TPM2B_ENCRYPTED_SECRET seed = {};
        TSS2_RC rc;
        int r;

        if (!pcr_mask_valid(s->pcr_mask))
                return -EINVAL;
        r = unmarshal_sealed(s, &pub, &dup, &seed, errbuf, errlen);
        if (r < 0)
                return r;

        r = ek_policy_session(t, &import_session, errbuf, errlen);
        if (r < 0)
                return r;
        rc = Esys_Import(t->esys, t->ek, import_session.tr, ESYS_TR_NONE, ESYS_TR_NONE, &no_key,
                         &pub, &dup, &seed, &no_inner, &private);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_Import");
        session_consumed(&import_session);

        r = ek_policy_session(t, &load_session, errbuf, errlen);
        if (r < 0)
                return r;
        rc = Esys_Load(t->esys, t->ek, load_session.tr, ESYS_TR_NONE, ESYS_TR_NONE, private, &pub,
                       &object.tr);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_Load");
        session_consumed(&load_session);

        r = unseal_policy_session(t, s, &unseal_session, errbuf, errlen);
        if (r < 0)
                return r;
        rc = Esys_Unseal(t->esys, object.tr, unseal_session.tr, ESYS_TR_NONE, ESYS_TR_NONE, &data);
        wipe_last_response(t);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_Unseal");
        session_consumed(&unseal_session);
        if (data->size > TPM_UNSEALED_MAX)
                return -EIO;
        memcpy(ret, data->buffer, data->size);
        *ret_size = data->size;
        return 0;
}
