/* SPDX-License-Identifier: GPL-2.0-or-later */
/* AMD's certificate chain for SEV-SNP (docs/cvm.md): the pinned ARK, ASK and ASVK of each
 * product, the VCEK/VLEK that signs a report, its AMD extensions (hwID, TCB SPLs, product),
 * and the chain walk VEK -> ASK|ASVK -> ARK with RSASSA-PSS (SHA-384, salt 48) at a given
 * time. The roots are compiled in (amd-roots.c) unless a directory replaces them (tests). */
#pragma once

#include "appraisal/verdict.h"
#include "platform/snp-report.h"

#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

extern const char amd_builtin_roots_pem[];

enum amd_vek_kind {
        AMD_VEK_UNKNOWN = 0,
        AMD_VEK_VCEK,
        AMD_VEK_VLEK,
};

/* One product's pinned certificates (NULL where not configured). */
struct amd_product_roots {
        X509 *ark;
        X509 *ask;  /* signs VCEKs */
        X509 *asvk; /* signs VLEKs */
};

#define AMD_CHAIN_CACHE 256

/* Indexed by enum snp_product (MILAN, GENOA, TURIN). The certificates are read-only once
 * loaded, shared by every worker thread; the cache of verified chains is behind its lock. */
struct amd_roots {
        struct amd_product_roots product[SNP_PRODUCT_UNKNOWN];
        /* SHA-256 of (VEK DER, ASK DER, ARK DER) whose three signatures verified: a node's
         * VEK is the same at every boot, and the signatures never change (the validity times
         * are checked on every use). Round robin. */
        /* A directory's "Intel SGX Root CA" replaces the compiled-in Intel pin (tests). */
        bool has_intel_pin;
        uint8_t intel_pin[32];
        /* Intel's PCS collateral for TDX quotes (tdx-collateral.h; --tdx-collateral), or NULL:
         * the platform trust configuration lives here, whatever the vendor. */
        const char *tdx_collateral;
        pthread_mutex_t lock;
        uint8_t verified[AMD_CHAIN_CACHE][32];
        size_t n_verified, next;
};

/* The compiled-in roots, or (dir non-NULL) every .pem, .crt and .der certificate in dir, sorted
 * into products by their common names (ARK-<Product>, SEV-<Product>, SEV-VLEK-<Product>): a
 * test's own chain, or an operator's after AMD rotates a root before a release. An ARK must be
 * self-signed. A certificate named "Intel SGX Root CA" there becomes the pinned TDX root
 * instead of intel-roots.c's. @return 0 or negative errno, err says why */
int amd_roots_load(const char *dir, struct amd_roots **ret, char *err, size_t errlen);
void amd_roots_free(struct amd_roots *r);

/* The AMD KDS extensions of a VEK (OID 1.3.6.1.4.1.3704.1.*). */
struct amd_vek_ext {
        uint8_t
            hwid[64];    /* raw: 64 bytes (Milan, Genoa), 8 (Turin); a DER OCTET STRING unwrapped */
        size_t hwid_len; /* 0: absent */
        char product[32]; /* "Milan-B0", "" when absent */
        /* SPLs: bl 3.1, tee 3.2, snp 3.3, ucode 3.8, fmc 3.9; -1 when absent */
        int64_t bl, tee, snp, ucode, fmc;
        bool malformed; /* an SPL that is not a short DER INTEGER */
        char malformed_oid[32];
};

enum amd_vek_kind amd_vek_kind_of(X509 *vek);
const char *amd_vek_kind_name(enum amd_vek_kind k);
void amd_vek_ext_parse(X509 *vek, struct amd_vek_ext *ret);

/* The chain at time t: ask_override/ark_override (both or neither) replace the pinned ASK|ASVK
 * and ARK of product (the offline check's --chain); the ARK must still be a pinned one. On
 * REASON_OK chain_desc (if given) is "vcek>SEV-Milan>ARK-Milan". Reasons, in this order:
 * snp-product-unknown, ark-not-pinned, {ark,ask,vcek,vlek}-expired, then for the ARK, the ASK
 * and the VEK -issuer-mismatch, -signature-algorithm, -signature-invalid. */
enum reason amd_chain_verify(const struct amd_roots *roots, enum snp_product product, X509 *vek,
                             enum amd_vek_kind kind, X509 *ask_override, X509 *ark_override,
                             int64_t t, char *chain_desc, size_t desc_size, struct verdict *v);

/* The VEK is for the report's chip and TCB: a VCEK's hwID is CHIP_ID (Turin: its first 8
 * bytes), its SPLs are REPORTED_TCB's; vek-extension-malformed, vcek-chip-id-mismatch,
 * vek-tcb-mismatch, vek-key-type (not P-384). */
enum reason amd_vek_match(const struct snp_report *r, enum snp_product product, X509 *vek,
                          enum amd_vek_kind kind, const struct amd_vek_ext *ext, struct verdict *v);

/* One certificate from DER, or the first of a PEM bundle. @return NULL if none */
X509 *amd_cert_load(const uint8_t *data, size_t size);
/* Every certificate of a PEM bundle or a single DER, in order. @return NULL if none */
STACK_OF(X509) * amd_certs_load(const uint8_t *data, size_t size);
/* The certificate's subject CN into buf ("" if none). */
void amd_cert_cn(X509 *c, char *buf, size_t size);
