/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starts N sessions salted to an ECC primary key (as the gate's unseal session is salted to the
 * EK) and authorizes one command in each, with the gate's static tpm2-tss (mbedTLS backend).
 * One in 256 ECDH shared secrets starts with a zero byte; a backend that drops it derives
 * another salt than the TPM and the command fails with TPM_RC_BAD_AUTH.
 * Usage: salted-sessions TPM-DEVICE N p256|p384   Prints the failures; exit 1 if any. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tcti_device.h>

static TSS2_TCTI_CONTEXT *open_tcti(const char *device)
{
        TSS2_TCTI_CONTEXT *tcti;
        size_t size = 0;

        if (Tss2_Tcti_Device_Init(NULL, &size, device) != TSS2_RC_SUCCESS)
                return NULL;
        tcti = calloc(1, size);
        if (tcti && Tss2_Tcti_Device_Init(tcti, &size, device) != TSS2_RC_SUCCESS) {
                free(tcti);
                return NULL;
        }
        return tcti;
}

int main(int argc, char **argv)
{
        TPM2B_PUBLIC template = {
            .publicArea =
                {
                    .type = TPM2_ALG_ECC,
                    .nameAlg = TPM2_ALG_SHA256,
                    .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                        TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                        TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
                    .parameters.eccDetail =
                        {
                            .symmetric = {.algorithm = TPM2_ALG_AES,
                                          .keyBits.aes = 128,
                                          .mode.aes = TPM2_ALG_CFB},
                            .scheme.scheme = TPM2_ALG_NULL,
                            .kdf.scheme = TPM2_ALG_NULL,
                        },
                },
        };
        const TPMT_SYM_DEF cfb = {
            .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB};
        const TPM2B_SENSITIVE_CREATE no_sensitive = {};
        const TPM2B_DATA no_data = {};
        const TPML_PCR_SELECTION no_pcrs = {};
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys = NULL;
        ESYS_TR key = ESYS_TR_NONE;
        TPM2B_PUBLIC *out_public = NULL;
        unsigned n, failures = 0;
        TSS2_RC rc;

        if (argc != 4 || (n = (unsigned) strtoul(argv[2], NULL, 10)) == 0 ||
            (strcmp(argv[3], "p256") != 0 && strcmp(argv[3], "p384") != 0)) {
                fprintf(stderr, "usage: salted-sessions TPM-DEVICE N p256|p384\n");
                return 2;
        }
        template.publicArea.parameters.eccDetail.curveID =
            strcmp(argv[3], "p256") == 0 ? TPM2_ECC_NIST_P256 : TPM2_ECC_NIST_P384;
        tcti = open_tcti(argv[1]);
        if (!tcti || Esys_Initialize(&esys, tcti, NULL) != TSS2_RC_SUCCESS) {
                fprintf(stderr, "cannot open %s\n", argv[1]);
                return 2;
        }
        rc = Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &no_sensitive, &template, &no_data, &no_pcrs, &key,
                                &out_public, NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                fprintf(stderr, "CreatePrimary: %s\n", Tss2_RC_Decode(rc));
                return 2;
        }
        for (unsigned i = 0; i < n; i++) {
                ESYS_TR session = ESYS_TR_NONE;
                TPM2B_DIGEST *random = NULL;

                rc = Esys_StartAuthSession(esys, key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, NULL, TPM2_SE_HMAC, &cfb, TPM2_ALG_SHA256,
                                           &session);
                if (rc == TSS2_RC_SUCCESS) {
                        /* An audit session: the TPM checks the HMAC, keyed by the salt. */
                        Esys_TRSess_SetAttributes(
                            esys, session, TPMA_SESSION_AUDIT | TPMA_SESSION_CONTINUESESSION, 0xff);
                        rc = Esys_GetRandom(esys, session, ESYS_TR_NONE, ESYS_TR_NONE, 8, &random);
                        Esys_Free(random);
                }
                if (rc != TSS2_RC_SUCCESS) {
                        printf("session %u: %s\n", i, Tss2_RC_Decode(rc));
                        failures++;
                }
                if (session != ESYS_TR_NONE)
                        Esys_FlushContext(esys, session);
        }
        printf("%u of %u sessions salted to a %s key failed\n", failures, n, argv[3]);
        Esys_Free(out_public);
        Esys_FlushContext(esys, key);
        Esys_Finalize(&esys);
        free(tcti);
        return failures ? 1 : 0;
}
