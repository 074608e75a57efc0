/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ESAPI session of the gate. The device TCTI is linked in directly (no dlopen in a static
 * binary), and /dev/tpmrm0 is preferred so the kernel's resource manager flushes our handles. */
#include <stdio.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tcti_device.h>

#include "tpm.h"
#include "util.h"

struct tpm {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
        char device[64];
};

/* The boundary where TPM and TSS response codes become errno values. */
static int tss_to_errno(TSS2_RC rc)
{
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
        }
        return (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER ? -EPROTO : -EIO;
}

static int tss_error(TSS2_RC rc, char *errbuf, size_t errlen, const char *what)
{
        snprintf(errbuf, errlen, "%s: %s", what, Tss2_RC_Decode(rc));
        return tss_to_errno(rc);
}

void tpm_close(struct tpm *t)
{
        if (!t)
                return;
        if (t->esys)
                Esys_Finalize(&t->esys);
        if (t->tcti) {
                Tss2_Tcti_Finalize(t->tcti);
                free(t->tcti);
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
        t->tcti = calloc(1, size);
        if (!t->tcti)
                return -ENOMEM;
        rc = Tss2_Tcti_Device_Init(t->tcti, &size, device);
        if (rc != TSS2_RC_SUCCESS) {
                free(t->tcti);
                t->tcti = NULL;
                return tss_error(rc, errbuf, errlen, device);
        }
        snprintf(t->device, sizeof(t->device), "%s", device);
        return 0;
}

int tpm_open(const char *device, struct tpm **ret, char *errbuf, size_t errlen)
{
        static const char *const defaults[] = {"/dev/tpmrm0", "/dev/tpm0"};
        struct tpm *t;
        TSS2_RC rc;
        int r = -ENOENT;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
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

        rc = Esys_Initialize(&t->esys, t->tcti, NULL);
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
        TPMS_CAPABILITY_DATA *data = NULL;
        TPMI_YES_NO more;
        TSS2_RC rc;
        int r = -ENODATA;

        rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                TPM2_CAP_TPM_PROPERTIES, property, 1, &more, &data);
        if (rc != TSS2_RC_SUCCESS)
                return tss_error(rc, errbuf, errlen, "TPM2_GetCapability");
        if (data->data.tpmProperties.count > 0 &&
            data->data.tpmProperties.tpmProperty[0].property == property) {
                *ret = data->data.tpmProperties.tpmProperty[0].value;
                r = 0;
        }
        Esys_Free(data);
        return r;
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
        TPMS_CAPABILITY_DATA *data = NULL;
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
        Esys_Free(data);
        *ret = info;
        return 0;
}
