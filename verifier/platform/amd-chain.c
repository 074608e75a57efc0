/* SPDX-License-Identifier: GPL-2.0-or-later */
/* AMD SEV-SNP certificate chains (amd-chain.h). */
#include "platform/amd-chain.h"

#include "common/fileutil.h"
#include "common/openssl-util.h"
#include "common/util-verifier.h"

#include <dirent.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <string.h>

#define AMD_OID_PREFIX "1.3.6.1.4.1.3704.1."
#define CERT_FILE_MAX  (64 * 1024)

void amd_cert_cn(X509 *c, char *buf, size_t size)
{
        buf[0] = '\0';
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, buf, (int) size) <
            0)
                buf[0] = '\0';
}

STACK_OF(X509) * amd_certs_load(const uint8_t *data, size_t size)
{
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *out = sk_X509_new_null();
        _cleanup_(BIO_freep) BIO *bio = NULL;
        X509 *c;

        if (!out || size > INT32_MAX)
                return NULL;
        if (size >= 10 && memcmp(data, "-----BEGIN", 10) == 0) {
                bio = BIO_new_mem_buf(data, (int) size);
                if (!bio)
                        return NULL;
                while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
                        if (!sk_X509_push(out, c)) {
                                X509_free(c);
                                return NULL;
                        }
                ERR_clear_error(); /* the end of the bundle */
        } else {
                const uint8_t *p = data;

                c = d2i_X509(NULL, &p, (long) size);
                /* Exactly one certificate, nothing after it. */
                if (!c || p != data + size) {
                        X509_free(c);
                        ERR_clear_error();
                        return NULL;
                }
                if (!sk_X509_push(out, c)) {
                        X509_free(c);
                        return NULL;
                }
        }
        if (sk_X509_num(out) == 0)
                return NULL;
        return TAKE_PTR(out);
}

X509 *amd_cert_load(const uint8_t *data, size_t size)
{
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *all = amd_certs_load(data, size);

        return all ? sk_X509_shift(all) : NULL;
}

void amd_roots_free(struct amd_roots *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < ELEMENTSOF(r->product); i++) {
                X509_free(r->product[i].ark);
                X509_free(r->product[i].ask);
                X509_free(r->product[i].asvk);
        }
        pthread_mutex_destroy(&r->lock);
        free(r);
}

/* ARK-<P>, SEV-<P>, SEV-VLEK-<P>: AMD's names; the slot for c, or NULL if it is none. */
static X509 **root_slot(struct amd_roots *r, X509 *c)
{
        char cn[64];
        enum snp_product p;

        amd_cert_cn(c, cn, sizeof(cn));
        if (strncmp(cn, "ARK-", 4) == 0) {
                p = snp_product_from_name(cn + 4);
                return p < SNP_PRODUCT_UNKNOWN && p != SNP_PRODUCT_NONE ? &r->product[p].ark : NULL;
        }
        if (strncmp(cn, "SEV-VLEK-", 9) == 0) {
                p = snp_product_from_name(cn + 9);
                return p < SNP_PRODUCT_UNKNOWN && p != SNP_PRODUCT_NONE ? &r->product[p].asvk
                                                                        : NULL;
        }
        if (strncmp(cn, "SEV-", 4) == 0) {
                p = snp_product_from_name(cn + 4);
                return p < SNP_PRODUCT_UNKNOWN && p != SNP_PRODUCT_NONE ? &r->product[p].ask : NULL;
        }
        return NULL;
}

static int add_roots(struct amd_roots *r, const uint8_t *data, size_t size, const char *what,
                     char *err, size_t errlen)
{
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *certs = amd_certs_load(data, size);
        X509 *c;

        if (!certs)
                return set_error(err, errlen, -EINVAL, "%s: no certificate", what);
        while ((c = sk_X509_shift(certs))) {
                X509 **slot = root_slot(r, c);
                unsigned len = 0;
                char cn[64];

                amd_cert_cn(c, cn, sizeof(cn));
                if (streq(cn, "Intel SGX Root CA")) {
                        int ok = X509_digest(c, EVP_sha256(), r->intel_pin, &len) == 1 &&
                                 len == 32 && !r->has_intel_pin;

                        X509_free(c);
                        ERR_clear_error();
                        if (!ok)
                                return set_error(err, errlen, -EINVAL,
                                                 "%s: a second or unreadable Intel SGX Root CA",
                                                 what);
                        r->has_intel_pin = true;
                        continue;
                }
                if (!slot) {
                        X509_free(c);
                        return set_error(err, errlen, -EINVAL,
                                         "%s: \"%s\" is not an AMD ARK, ASK or ASVK name", what,
                                         cn);
                }
                if (*slot) {
                        X509_free(c);
                        return set_error(err, errlen, -EEXIST, "%s: \"%s\" is there twice", what,
                                         cn);
                }
                *slot = c;
        }
        return 0;
}

static int load_dir(struct amd_roots *r, const char *dir, char *err, size_t errlen)
{
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        if (!d)
                return set_error(err, errlen, -errno, "%s: %s", dir, strerror(errno));
        while ((e = readdir(d))) {
                size_t len = strlen(e->d_name), size;
                _cleanup_free_ char *data = NULL;
                char path[4096];
                int k;

                if (e->d_name[0] == '.' || !(len > 4 && (streq(e->d_name + len - 4, ".pem") ||
                                                         streq(e->d_name + len - 4, ".crt") ||
                                                         streq(e->d_name + len - 4, ".der"))))
                        continue;
                if (pathf(path, sizeof(path), "%s/%s", dir, e->d_name) < 0)
                        return set_error(err, errlen, -ENAMETOOLONG, "%s: name too long", dir);
                k = read_file_all(path, CERT_FILE_MAX, &data, &size);
                if (k < 0)
                        return set_error(err, errlen, k, "%s: %s", path, strerror(-k));
                k = add_roots(r, (const uint8_t *) data, size, path, err, errlen);
                if (k < 0)
                        return k;
                n++;
        }
        if (n == 0)
                return set_error(err, errlen, -ENOENT, "%s: no certificate files", dir);
        return 0;
}

int amd_roots_load(const char *dir, struct amd_roots **ret, char *err, size_t errlen)
{
        struct amd_roots *r = calloc(1, sizeof(*r));
        int k;

        if (!r)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        pthread_mutex_init(&r->lock, NULL);
        if (dir)
                k = load_dir(r, dir, err, errlen);
        else
                k = add_roots(r, (const uint8_t *) amd_builtin_roots_pem,
                              strlen(amd_builtin_roots_pem), "compiled-in AMD roots", err, errlen);
        for (size_t i = 0; k == 0 && i < ELEMENTSOF(r->product); i++) {
                X509 *ark = r->product[i].ark;
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;

                if (!ark)
                        continue;
                key = X509_get_pubkey(ark);
                if (!key || X509_verify(ark, key) != 1) {
                        ERR_clear_error();
                        k = set_error(err, errlen, -EINVAL, "ARK-%s is not self-signed",
                                      snp_product_name((enum snp_product) i));
                }
        }
        if (k < 0) {
                amd_roots_free(r);
                return k;
        }
        *ret = r;
        return 0;
}

enum amd_vek_kind amd_vek_kind_of(X509 *vek)
{
        char cn[64];

        amd_cert_cn(vek, cn, sizeof(cn));
        if (streq(cn, "SEV-VCEK"))
                return AMD_VEK_VCEK;
        if (streq(cn, "SEV-VLEK"))
                return AMD_VEK_VLEK;
        return AMD_VEK_UNKNOWN;
}

const char *amd_vek_kind_name(enum amd_vek_kind k)
{
        return k == AMD_VEK_VCEK ? "vcek" : k == AMD_VEK_VLEK ? "vlek" : "?";
}

/* A short DER INTEGER (what AMD's SPL extensions hold): its value, or -1. */
static int64_t der_small_int(const uint8_t *p, size_t n)
{
        int64_t v = 0;

        if (n < 3 || p[0] != 0x02 || p[1] != n - 2 || n - 2 > 7)
                return -1;
        for (size_t i = 2; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

void amd_vek_ext_parse(X509 *vek, struct amd_vek_ext *ret)
{
        int n = X509_get_ext_count(vek);

        *ret = (struct amd_vek_ext){.bl = -1, .tee = -1, .snp = -1, .ucode = -1, .fmc = -1};
        for (int i = 0; i < n; i++) {
                X509_EXTENSION *e = X509_get_ext(vek, i);
                ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(e);
                const uint8_t *p = ASN1_STRING_get0_data(os);
                size_t len = (size_t) ASN1_STRING_length(os);
                const char *key;
                char oid[80];
                int64_t *slot = NULL;

                if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(e), 1) <= 0 ||
                    strncmp(oid, AMD_OID_PREFIX, strlen(AMD_OID_PREFIX)) != 0)
                        continue;
                key = oid + strlen(AMD_OID_PREFIX);
                if (streq(key, "4")) {
                        /* Every real VCEK stores hwID raw (64 bytes; 8 on Turin); one synthetic
                         * test certificate wraps it in an OCTET STRING. */
                        if (len == 66 && p[0] == 0x04 && p[1] == 0x40) {
                                p += 2;
                                len -= 2;
                        }
                        if (len > sizeof(ret->hwid))
                                len = 0;
                        memcpy(ret->hwid, p, len);
                        ret->hwid_len = len;
                        continue;
                }
                if (streq(key, "2")) {
                        if (len >= 2 && (p[0] == 0x16 || p[0] == 0x0C || p[0] == 0x13)) {
                                p += 2;
                                len -= 2;
                        }
                        if (len >= sizeof(ret->product))
                                len = sizeof(ret->product) - 1;
                        memcpy(ret->product, p, len);
                        ret->product[len] = '\0';
                        continue;
                }
                if (streq(key, "3.1"))
                        slot = &ret->bl;
                else if (streq(key, "3.2"))
                        slot = &ret->tee;
                else if (streq(key, "3.3"))
                        slot = &ret->snp;
                else if (streq(key, "3.8"))
                        slot = &ret->ucode;
                else if (streq(key, "3.9"))
                        slot = &ret->fmc;
                if (slot || streq(key, "1") || strncmp(key, "3.", 2) == 0) {
                        int64_t val = der_small_int(p, len);

                        if (val < 0 && !ret->malformed) {
                                ret->malformed = true;
                                snprintf(ret->malformed_oid, sizeof(ret->malformed_oid), "%.16s",
                                         key);
                        }
                        if (slot)
                                *slot = val;
                }
        }
}

static enum reason reason_for(const char *what, const char *suffix)
{
        static const struct {
                const char *what;
                enum reason expired, issuer, algorithm, invalid;
        } table[] = {
            {"ark", REASON_ARK_EXPIRED, REASON_ARK_ISSUER_MISMATCH, REASON_ARK_SIGNATURE_ALGORITHM,
             REASON_ARK_SIGNATURE_INVALID},
            {"ask", REASON_ASK_EXPIRED, REASON_ASK_ISSUER_MISMATCH, REASON_ASK_SIGNATURE_ALGORITHM,
             REASON_ASK_SIGNATURE_INVALID},
            {"vcek", REASON_VCEK_EXPIRED, REASON_VCEK_ISSUER_MISMATCH,
             REASON_VCEK_SIGNATURE_ALGORITHM, REASON_VCEK_SIGNATURE_INVALID},
            {"vlek", REASON_VLEK_EXPIRED, REASON_VLEK_ISSUER_MISMATCH,
             REASON_VLEK_SIGNATURE_ALGORITHM, REASON_VLEK_SIGNATURE_INVALID},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].what, what)) {
                        if (streq(suffix, "expired"))
                                return table[i].expired;
                        if (streq(suffix, "issuer"))
                                return table[i].issuer;
                        if (streq(suffix, "algorithm"))
                                return table[i].algorithm;
                        return table[i].invalid;
                }
        return REASON_INTERNAL;
}

static int tbs_bytes(X509 *cert, uint8_t **ret_der, const uint8_t **ret_tbs, size_t *ret_size);

static enum reason check_time(X509 *c, int64_t t, const char *what, struct verdict *v)
{
        char cn[64];

        if (ASN1_TIME_cmp_time_t(X509_get0_notBefore(c), (time_t) t) <= 0 &&
            ASN1_TIME_cmp_time_t(X509_get0_notAfter(c), (time_t) t) >= 0)
                return REASON_OK;
        ERR_clear_error();
        amd_cert_cn(c, cn, sizeof(cn));
        return verdict_set(v, reason_for(what, "expired"), "%s is not valid at %lld (Unix time)",
                           cn, (long long) t);
}

/* cert signed by issuer: by name, then RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte
 * salt over the TBS bytes as received — AMD signs with nothing else, so the parameters are
 * ours, not the certificate's. */
static enum reason verify_signed_by(X509 *cert, X509 *issuer, const char *what, struct verdict *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = X509_get_pubkey(issuer);
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        _cleanup_(OPENSSL_freep) uint8_t *der = NULL;
        const uint8_t *tbs = NULL;
        size_t tbs_len = 0;
        const ASN1_BIT_STRING *sig = NULL;
        const X509_ALGOR *alg = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        char cn[64], issuer_cn[64];
        int ok;

        amd_cert_cn(cert, cn, sizeof(cn));
        amd_cert_cn(issuer, issuer_cn, sizeof(issuer_cn));
        if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) != 0)
                return verdict_set(v, reason_for(what, "issuer"), "%s is not issued by %s", cn,
                                   issuer_cn);
        X509_get0_signature(&sig, &alg, cert);
        if (!key || !ctx || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
            OBJ_obj2nid(alg->algorithm) != NID_rsassaPss) {
                ERR_clear_error();
                return verdict_set(v, reason_for(what, "algorithm"),
                                   "%s is not signed with RSASSA-PSS by an RSA key", cn);
        }
        if (tbs_bytes(cert, &der, &tbs, &tbs_len) < 0) {
                ERR_clear_error();
                return verdict_set(v, REASON_INTERNAL, "cannot encode %s", cn);
        }
        ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha384(), NULL, key) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1 &&
             EVP_DigestVerify(ctx, ASN1_STRING_get0_data(sig), (size_t) ASN1_STRING_length(sig),
                              tbs, tbs_len) == 1;
        ERR_clear_error();
        if (!ok)
                return verdict_set(v, reason_for(what, "invalid"),
                                   "the signature of %s by %s does not verify", cn, issuer_cn);
        return REASON_OK;
}

/* The length of the DER element at p (tag, length, content) within n bytes, or 0. */
static size_t der_element_size(const uint8_t *p, size_t n)
{
        size_t len, hdr;

        if (n < 2)
                return 0;
        if (p[1] < 0x80) {
                len = p[1];
                hdr = 2;
        } else {
                size_t k = p[1] & 0x7f;

                if (k == 0 || k > 3 || n < 2 + k)
                        return 0;
                len = 0;
                for (size_t i = 0; i < k; i++)
                        len = len << 8 | p[2 + i];
                hdr = 2 + k;
        }
        return hdr + len <= n ? hdr + len : 0;
}

/* The TBSCertificate bytes as received: the first element inside the certificate's
 * SEQUENCE (i2d_X509 gives back the encoding the certificate was parsed from). */
static int tbs_bytes(X509 *cert, uint8_t **ret_der, const uint8_t **ret_tbs, size_t *ret_size)
{
        uint8_t *der = NULL;
        int n = i2d_X509(cert, &der);
        size_t outer, hdr, tbs;

        if (n <= 0)
                return -EINVAL;
        outer = der_element_size(der, (size_t) n);
        if (outer != (size_t) n || der[0] != 0x30) {
                OPENSSL_free(der);
                return -EINVAL;
        }
        hdr = der[1] < 0x80 ? 2 : 2 + (size_t) (der[1] & 0x7f);
        tbs = der_element_size(der + hdr, (size_t) n - hdr);
        if (tbs == 0 || der[hdr] != 0x30) {
                OPENSSL_free(der);
                return -EINVAL;
        }
        *ret_der = der;
        *ret_tbs = der + hdr;
        *ret_size = tbs;
        return 0;
}

/* The cache key of a chain: SHA-256 over the three DER encodings' SHA-256. @return 0 or -EIO */
static int chain_key(X509 *vek, X509 *ask, X509 *ark, uint8_t ret[32])
{
        uint8_t cat[3 * 32];
        unsigned len;

        if (X509_digest(vek, EVP_sha256(), cat, &len) != 1 ||
            X509_digest(ask, EVP_sha256(), cat + 32, &len) != 1 ||
            X509_digest(ark, EVP_sha256(), cat + 64, &len) != 1) {
                ERR_clear_error();
                return -EIO;
        }
        SHA256(cat, sizeof(cat), ret);
        return 0;
}

static bool cache_has(struct amd_roots *roots, const uint8_t key[32])
{
        bool found = false;

        pthread_mutex_lock(&roots->lock);
        for (size_t i = 0; i < roots->n_verified && !found; i++)
                found = memcmp(roots->verified[i], key, 32) == 0;
        pthread_mutex_unlock(&roots->lock);
        return found;
}

static void cache_add(struct amd_roots *roots, const uint8_t key[32])
{
        pthread_mutex_lock(&roots->lock);
        memcpy(roots->verified[roots->next], key, 32);
        roots->next = (roots->next + 1) % AMD_CHAIN_CACHE;
        if (roots->n_verified < AMD_CHAIN_CACHE)
                roots->n_verified++;
        pthread_mutex_unlock(&roots->lock);
}

static bool same_cert(X509 *a, X509 *b)
{
        return a && b && X509_cmp(a, b) == 0;
}

enum reason amd_chain_verify(const struct amd_roots *roots, enum snp_product product, X509 *vek,
                             enum amd_vek_kind kind, X509 *ask_override, X509 *ark_override,
                             int64_t t, char *chain_desc, size_t desc_size, struct verdict *v)
{
        const char *vek_what = kind == AMD_VEK_VLEK ? "vlek" : "vcek";
        X509 *ask, *ark;
        uint8_t key[32];
        bool pinned = false, cached;
        char ask_cn[64], ark_cn[64];
        enum reason r;

        if (ask_override && ark_override) {
                ask = ask_override;
                ark = ark_override;
        } else {
                if (product == SNP_PRODUCT_NONE || product >= SNP_PRODUCT_UNKNOWN ||
                    !roots->product[product].ark)
                        return verdict_set(v, REASON_SNP_PRODUCT_UNKNOWN,
                                           "no pinned AMD root for the report's product (%s)",
                                           snp_product_name(product));
                ark = roots->product[product].ark;
                ask = kind == AMD_VEK_VLEK ? roots->product[product].asvk
                                           : roots->product[product].ask;
                if (!ask)
                        return verdict_set(v, REASON_SNP_PRODUCT_UNKNOWN, "no pinned %s for %s",
                                           kind == AMD_VEK_VLEK ? "ASVK" : "ASK",
                                           snp_product_name(product));
        }
        /* The ARK is the trust anchor: byte for byte one of the pinned ones. */
        for (size_t i = 0; i < ELEMENTSOF(roots->product) && !pinned; i++)
                pinned = same_cert(roots->product[i].ark, ark);
        if (!pinned)
                return verdict_set(v, REASON_ARK_NOT_PINNED, "the ARK is not a pinned AMD root");
        if ((r = check_time(ark, t, "ark", v)) != REASON_OK ||
            (r = check_time(ask, t, "ask", v)) != REASON_OK ||
            (r = check_time(vek, t, vek_what, v)) != REASON_OK)
                return r;
        /* The names are compared every time (they decide the reason); the signatures of a
         * chain verified before are not recomputed. */
        cached = chain_key(vek, ask, ark, key) == 0 &&
                 X509_NAME_cmp(X509_get_issuer_name(ask), X509_get_subject_name(ark)) == 0 &&
                 X509_NAME_cmp(X509_get_issuer_name(vek), X509_get_subject_name(ask)) == 0 &&
                 cache_has((struct amd_roots *) roots, key);
        if (!cached) {
                if ((r = verify_signed_by(ark, ark, "ark", v)) != REASON_OK ||
                    (r = verify_signed_by(ask, ark, "ask", v)) != REASON_OK ||
                    (r = verify_signed_by(vek, ask, vek_what, v)) != REASON_OK)
                        return r;
                if (chain_key(vek, ask, ark, key) == 0)
                        cache_add((struct amd_roots *) roots, key);
        }
        if (chain_desc) {
                amd_cert_cn(ask, ask_cn, sizeof(ask_cn));
                amd_cert_cn(ark, ark_cn, sizeof(ark_cn));
                snprintf(chain_desc, desc_size, "%s>%s>%s", vek_what, ask_cn, ark_cn);
        }
        return REASON_OK;
}

enum reason amd_vek_match(const struct snp_report *r, enum snp_product product, X509 *vek,
                          enum amd_vek_kind kind, const struct amd_vek_ext *ext, struct verdict *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        struct snp_tcb want;
        struct spl {
                const char *name;
                int64_t cert;
                unsigned report;
        } spl[5];
        size_t n = 0;
        char curve[32] = "";

        if (ext->malformed)
                return verdict_set(v, REASON_VEK_EXTENSION_MALFORMED,
                                   "the VEK's extension %s%s is not a small DER INTEGER",
                                   AMD_OID_PREFIX, ext->malformed_oid);
        if (kind == AMD_VEK_VCEK) {
                /* Turin VCEKs carry the first 8 bytes of CHIP_ID. */
                size_t want_len = product == SNP_PRODUCT_TURIN ? 8 : 64;

                if (ext->hwid_len != want_len || memcmp(ext->hwid, r->chip_id, want_len) != 0)
                        return verdict_set(v, REASON_VCEK_CHIP_ID_MISMATCH,
                                           "the VCEK is for another chip than the report's "
                                           "CHIP_ID");
        }
        snp_tcb_decode(r->reported_tcb, product, &want);
        if (want.has_fmc)
                spl[n++] = (struct spl){"fmc", ext->fmc, want.fmc};
        spl[n++] = (struct spl){"bl", ext->bl, want.bl};
        spl[n++] = (struct spl){"tee", ext->tee, want.tee};
        spl[n++] = (struct spl){"snp", ext->snp, want.snp};
        spl[n++] = (struct spl){"ucode", ext->ucode, want.ucode};
        for (size_t i = 0; i < n; i++)
                if (spl[i].cert != (int64_t) spl[i].report)
                        return verdict_set(v, REASON_VEK_TCB_MISMATCH,
                                           "the VEK's %s SPL is %lld, the report's REPORTED_TCB "
                                           "has %u",
                                           spl[i].name, (long long) spl[i].cert, spl[i].report);
        key = X509_get_pubkey(vek);
        if (key && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC)
                EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve), NULL);
        ERR_clear_error();
        if (!streq(curve, "secp384r1"))
                return verdict_set(v, REASON_VEK_KEY_TYPE, "the VEK's key is not ECDSA P-384");
        return REASON_OK;
}
