/* SPDX-License-Identifier: GPL-2.0-or-later */
/* EK trust: an X509_STORE of CA roots and intermediates, a sorted allowlist of SPKI hashes,
 * and a bounded cache of certificates that verified, since every challenge checks one. */
#include "tpm/ekcheck.h"

#include "tpm/ek-negcache.h"
#include "common/openssl-util.h"
#include "tpm/tpmcrypto.h"
#include "common/util-verifier.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

/* Direct-mapped: a colliding certificate evicts the old one, which then costs one verification
 * more. A verified chain is trusted again for an hour, so a CA file replaced at runtime... is
 * not reread anyway; the limit bounds how long an expired certificate keeps passing. */
#define CACHE_SLOTS 4096
#define CACHE_TTL   3600

struct cache_slot {
        uint8_t hash[32]; /* SHA-256 of the certificate bytes as sent */
        EVP_PKEY *key;    /* its public key; NULL: empty slot */
        time_t at;
};

struct ek_trust {
        X509_STORE *store;
        size_t n_ca;
        uint8_t (*allowed)[32]; /* sorted, unique */
        size_t n_allowed;
        bool ca_only;
        pthread_mutex_t lock; /* the caches */
        struct cache_slot cache[CACHE_SLOTS];
        struct ek_negcache refused;
};

int ek_trust_new(struct ek_trust **ret)
{
        struct ek_trust *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        t->store = X509_STORE_new();
        if (!t->store || pthread_mutex_init(&t->lock, NULL) != 0) {
                X509_STORE_free(t->store);
                free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

void ek_trust_free(struct ek_trust *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < CACHE_SLOTS; i++)
                EVP_PKEY_free(t->cache[i].key);
        pthread_mutex_destroy(&t->lock);
        X509_STORE_free(t->store);
        free(t->allowed);
        free(t);
}

void ek_trust_set_time(struct ek_trust *t, time_t at)
{
        X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(t->store), at);
}

size_t ek_trust_n_ca(const struct ek_trust *t)
{
        return t->n_ca;
}

size_t ek_trust_n_allowed(const struct ek_trust *t)
{
        return t->n_allowed;
}

bool ek_certificate_is_ca(X509 *cert, const char **ret_kind)
{
        /* 1: CA by basicConstraints; 3, 4, 5: v1 self-signed, keyUsage or Netscape type only,
         * which a configured trust anchor should not get away with. */
        if (X509_check_ca(cert) != 1)
                return false;
        if (ret_kind)
                *ret_kind = (X509_get_extension_flags(cert) & EXFLAG_SS) ? "root" : "intermediate";
        return true;
}

int ek_read_certificates(const char *path, STACK_OF(X509) * *ret, char *err, size_t errlen)
{
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *certs = sk_X509_new_null();
        _cleanup_(BIO_freep) BIO *bio = NULL;
        X509 *x;

        if (!certs)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        bio = BIO_new_file(path, "rb");
        if (!bio) {
                ERR_clear_error();
                return set_error(err, errlen, errno > 0 ? -errno : -EIO, "cannot open %s: %m",
                                 path);
        }
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
                if (!sk_X509_push(certs, x)) {
                        X509_free(x);
                        return set_error(err, errlen, -ENOMEM, "out of memory");
                }
        ERR_clear_error(); /* the end of the file shows as "no start line" */
        if (sk_X509_num(certs) == 0) {
                if (BIO_reset(bio) == 0 && (x = d2i_X509_bio(bio, NULL)))
                        (void) sk_X509_push(certs, x);
                ERR_clear_error();
        }
        if (sk_X509_num(certs) == 0)
                return set_error(err, errlen, -EBADMSG, "%s holds no PEM or DER certificate", path);
        *ret = TAKE_PTR(certs);
        return 0;
}

static int add_ca_file(struct ek_trust *t, const char *path, char *err, size_t errlen)
{
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *certs = NULL;
        int r;

        r = ek_read_certificates(path, &certs, err, errlen);
        if (r < 0)
                return r;
        for (int i = 0; i < sk_X509_num(certs); i++) {
                X509 *x = sk_X509_value(certs, i);
                char subject[256];

                if (!ek_certificate_is_ca(x, NULL)) {
                        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
                        return set_error(err, errlen, -EINVAL,
                                         "%s: certificate %d (%s) is not a CA certificate", path,
                                         i + 1, subject);
                }
                /* A certificate already in the store is not an error (OpenSSL ≥ 1.1.1). */
                if (X509_STORE_add_cert(t->store, x) != 1) {
                        ERR_clear_error();
                        return set_error(err, errlen, -ENOMEM, "%s: cannot add certificate %d",
                                         path, i + 1);
                }
                t->n_ca++;
        }
        ek_negcache_clear(&t->refused, &t->lock);
        return 0;
}

static int strcmpp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool is_certificate_name(const char *name)
{
        return name[0] != '.' && (endswith(name, ".pem") || endswith(name, ".crt") ||
                                  endswith(name, ".cer") || endswith(name, ".der"));
}

void ek_free_names(char **names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

int ek_list_ca_files(const char *dir, char ***ret_names, size_t *ret_n)
{
        _cleanup_(closedirp) DIR *d = NULL;
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        d = opendir(dir);
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                if (!is_certificate_name(de->d_name))
                        continue;
                if (n == cap) {
                        size_t nc = cap ? 2 * cap : 16;
                        char **nn = realloc(names, nc * sizeof(*names));

                        if (!nn) {
                                ek_free_names(names, n);
                                return -ENOMEM;
                        }
                        names = nn;
                        cap = nc;
                }
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        ek_free_names(names, n);
                        return -ENOMEM;
                }
                n++;
        }
        /* In name order, so a broken file is reported the same way on every replica. */
        if (n > 0)
                qsort(names, n, sizeof(*names), strcmpp);
        *ret_names = names;
        *ret_n = n;
        return 0;
}

int ek_trust_add_ca(struct ek_trust *t, const char *path, char *err, size_t errlen)
{
        char **names = NULL;
        size_t n = 0;
        struct stat st;
        int r;

        if (stat(path, &st) < 0)
                return set_error(err, errlen, negative_errno(), "cannot access %s: %m", path);
        if (!S_ISDIR(st.st_mode))
                return add_ca_file(t, path, err, errlen);

        r = ek_list_ca_files(path, &names, &n);
        if (r < 0)
                return set_error(err, errlen, r, "cannot list %s: %s", path, strerror(-r));
        for (size_t i = 0; i < n && r == 0; i++) {
                char file[4096];

                r = pathf(file, sizeof(file), "%s/%s", path, names[i]);
                if (r < 0)
                        r = set_error(err, errlen, r, "%s/%s: path too long", path, names[i]);
                else
                        r = add_ca_file(t, file, err, errlen);
        }
        ek_free_names(names, n);
        return r;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int ek_allowlist_parse_line(const char *line, uint8_t ret[32])
{
        const char *p = line;
        uint8_t h[32];

        while (is_blank(*p))
                p++;
        if (*p == '\0' || *p == '#')
                return 0;
        for (size_t i = 0; i < 32; i++) {
                int hi = hex_value(p[2 * i]), lo;

                if (hi < 0)
                        return -EINVAL;
                lo = hex_value(p[2 * i + 1]);
                if (lo < 0)
                        return -EINVAL;
                h[i] = (uint8_t) (hi << 4 | lo);
        }
        /* After the hash: only blanks, then perhaps a comment. */
        for (p += 64; is_blank(*p); p++)
                ;
        if (*p != '\0' && *p != '#')
                return -EINVAL;
        memcpy(ret, h, 32);
        return 1;
}

static int cmp_hash(const void *a, const void *b)
{
        return memcmp(a, b, 32);
}

int ek_trust_load_allowlist(struct ek_trust *t, const char *path, char *err, size_t errlen)
{
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t n = t->n_allowed, cap = t->n_allowed, linecap = 0;
        uint8_t(*all)[32] = t->allowed;
        unsigned lineno = 0;
        ssize_t len;

        f = fopen(path, "re");
        if (!f)
                return set_error(err, errlen, negative_errno(), "cannot open %s: %m", path);
        while ((len = getline(&line, &linecap, f)) >= 0) {
                uint8_t h[32];
                int k;

                lineno++;
                if ((size_t) len != strlen(line))
                        k = -EINVAL; /* a NUL inside the line */
                else
                        k = ek_allowlist_parse_line(line, h);
                if (k < 0) {
                        t->allowed = all; /* keep what was there, even if moved */
                        return set_error(err, errlen, -EINVAL,
                                         "%s:%u: expected 64 hex digits (SHA-256 of an EK's "
                                         "SubjectPublicKeyInfo) and at most a # comment",
                                         path, lineno);
                }
                if (k == 0)
                        continue;
                if (n == cap) {
                        size_t nc = cap ? 2 * cap : 64;
                        uint8_t(*na)[32] = realloc(all, nc * sizeof(*all));

                        if (!na) {
                                t->allowed = all;
                                return set_error(err, errlen, -ENOMEM, "out of memory");
                        }
                        all = na;
                        cap = nc;
                }
                memcpy(all[n++], h, 32);
        }
        if (ferror(f)) {
                t->allowed = all;
                return set_error(err, errlen, -EIO, "cannot read %s", path);
        }

        if (n > 0) /* qsort's pointer must be valid even for zero elements */
                qsort(all, n, sizeof(*all), cmp_hash);
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
                if (u == 0 || memcmp(all[u - 1], all[i], 32) != 0)
                        memmove(all[u++], all[i], 32);
        t->allowed = all;
        t->n_allowed = u;
        return 0;
}

static void attributes_missing(uint32_t have, uint32_t need, uint32_t forbidden, char *buf,
                               size_t size)
{
        static const struct {
                uint32_t bit;
                const char *name;
        } names[] = {
            {TPMW_OA_FIXED_TPM, "fixedTPM"},
            {TPMW_OA_FIXED_PARENT, "fixedParent"},
            {TPMW_OA_SENSITIVE_DATA_ORIGIN, "sensitiveDataOrigin"},
            {TPMW_OA_USER_WITH_AUTH, "userWithAuth"},
            {TPMW_OA_ADMIN_WITH_POLICY, "adminWithPolicy"},
            {TPMW_OA_RESTRICTED, "restricted"},
            {TPMW_OA_DECRYPT, "decrypt"},
            {TPMW_OA_SIGN, "sign"},
        };
        size_t o = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *what = NULL;

                if ((need & names[i].bit) && !(have & names[i].bit))
                        what = "without";
                else if ((forbidden & names[i].bit) && (have & names[i].bit))
                        what = "with";
                if (what && o < size)
                        o += (size_t) snprintf(buf + o, size - o, "%s%s %s", o ? ", " : "", what,
                                               names[i].name);
        }
}

/* The small primes every M of the vulnerable library is a multiple of (2 tells nothing: any
 * modulus is odd), as the ROCA paper's detection uses them. A random modulus passes the test
 * for all 38 with a probability far below 2^-100; a generated one always does. */
static const uint8_t roca_primes[] = {
    3,  5,  7,  11, 13, 17,  19,  23,  29,  31,  37,  41,  43,  47,  53,  59,  61,  67,  71,
    73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167};

bool ek_rsa_modulus_has_roca_fingerprint(const uint8_t *n, size_t size)
{
        if (size == 0)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(roca_primes); i++) {
                unsigned r = roca_primes[i], rem = 0, g = 65537 % r, x = 1;
                bool in_subgroup = false;

                for (size_t j = 0; j < size; j++)
                        rem = (rem * 256 + n[j]) % r;
                /* Walk the powers of 65537 mod r until they come back to 1. */
                do {
                        if (x == rem)
                                in_subgroup = true;
                        x = x * g % r;
                } while (x != 1 && !in_subgroup);
                if (!in_subgroup)
                        return false;
        }
        return true;
}

enum reason ek_check_storage_key(const struct tpm_public *ek, struct verdict *v)
{
        const uint32_t need = TPMW_OA_FIXED_TPM | TPMW_OA_FIXED_PARENT |
                              TPMW_OA_SENSITIVE_DATA_ORIGIN | TPMW_OA_ADMIN_WITH_POLICY |
                              TPMW_OA_RESTRICTED | TPMW_OA_DECRYPT;
        char what[200];

        attributes_missing(ek->attributes, need, TPMW_OA_SIGN, what, sizeof(what));
        if (what[0])
                return verdict_set(v, REASON_EK_NOT_STORAGE_KEY,
                                   "the EK is not a storage key: attributes 0x%08x (%s)",
                                   ek->attributes, what);
        if (ek->name_alg != TPMW_ALG_SHA256 && ek->name_alg != TPMW_ALG_SHA384)
                return verdict_set(v, REASON_EK_NOT_STORAGE_KEY,
                                   "the EK's nameAlg 0x%04x is not SHA-256 or SHA-384",
                                   ek->name_alg);
        if (ek->sym_alg != TPMW_ALG_AES || (ek->sym_bits != 128 && ek->sym_bits != 256) ||
            ek->sym_mode != TPMW_ALG_CFB)
                return verdict_set(v, REASON_EK_NOT_STORAGE_KEY,
                                   "the EK's symmetric algorithm 0x%04x/%u/0x%04x is not AES-128 "
                                   "or AES-256 in CFB mode",
                                   ek->sym_alg, ek->sym_bits, ek->sym_mode);
        /* A restricted decryption key has no scheme of its own (TPM 2.0 Part 2 §12.2.3.6). */
        if (ek->scheme != TPMW_ALG_NULL)
                return verdict_set(v, REASON_EK_NOT_STORAGE_KEY, "the EK has scheme 0x%04x",
                                   ek->scheme);
        switch (ek->type) {
        case TPMW_ALG_RSA:
                if (ek->rsa_bits != 2048 || ek->rsa_exponent != 65537)
                        return verdict_set(v, REASON_EK_NOT_STORAGE_KEY,
                                           "the EK is RSA %u with exponent %u, not RSA 2048 with "
                                           "65537",
                                           ek->rsa_bits, ek->rsa_exponent);
                /* Its private key can be computed from ek_public: whoever does so decrypts
                 * the credential and the sealed token, whatever the PCRs say. */
                if (ek_rsa_modulus_has_roca_fingerprint(ek->rsa_n, ek->rsa_n_size))
                        return verdict_set(v, REASON_EK_WEAK_KEY,
                                           "the EK's RSA modulus has the ROCA fingerprint "
                                           "(Infineon RSA library, CVE-2017-15361): its private "
                                           "key can be computed from it; update the TPM's "
                                           "firmware and enrol the new EK");
                return REASON_OK;
        case TPMW_ALG_ECC:
                if (ek->curve != TPMW_ECC_NIST_P256 && ek->curve != TPMW_ECC_NIST_P384)
                        return verdict_set(v, REASON_EK_NOT_STORAGE_KEY,
                                           "the EK's curve 0x%04x is not NIST P-256 or P-384",
                                           ek->curve);
                if (ek->ecc_kdf != TPMW_ALG_NULL)
                        return verdict_set(v, REASON_EK_NOT_STORAGE_KEY, "the EK has KDF 0x%04x",
                                           ek->ecc_kdf);
                return REASON_OK;
        default:
                return verdict_set(v, REASON_EK_NOT_STORAGE_KEY,
                                   "the EK's type 0x%04x is not RSA or ECC", ek->type);
        }
}

enum reason ak_check_signing_key(const struct tpm_public *ak, struct verdict *v)
{
        const uint32_t need = TPMW_OA_FIXED_TPM | TPMW_OA_FIXED_PARENT |
                              TPMW_OA_SENSITIVE_DATA_ORIGIN | TPMW_OA_USER_WITH_AUTH |
                              TPMW_OA_RESTRICTED | TPMW_OA_SIGN;
        char what[200];

        attributes_missing(ak->attributes, need, TPMW_OA_DECRYPT, what, sizeof(what));
        if (what[0])
                return verdict_set(v, REASON_AK_NOT_SIGNING_KEY,
                                   "the AK is not a restricted signing key: attributes 0x%08x (%s)",
                                   ak->attributes, what);
        if (ak->name_alg != TPMW_ALG_SHA256)
                return verdict_set(v, REASON_AK_NOT_SIGNING_KEY,
                                   "the AK's nameAlg 0x%04x is not SHA-256", ak->name_alg);
        if (ak->type == TPMW_ALG_ECC && ak->curve == TPMW_ECC_NIST_P256 &&
            ak->scheme == TPMW_ALG_ECDSA && ak->scheme_hash == TPMW_ALG_SHA256)
                return REASON_OK;
        if (ak->type == TPMW_ALG_RSA && ak->rsa_bits == 2048 && ak->scheme == TPMW_ALG_RSASSA &&
            ak->scheme_hash == TPMW_ALG_SHA256) {
                /* Its private key can be computed from ak_public: quotes would be forgeable. */
                if (ek_rsa_modulus_has_roca_fingerprint(ak->rsa_n, ak->rsa_n_size))
                        return verdict_set(v, REASON_AK_NOT_SIGNING_KEY,
                                           "the AK's RSA modulus has the ROCA fingerprint "
                                           "(Infineon RSA library, CVE-2017-15361): its private "
                                           "key can be computed from it; use an ECC AK or update "
                                           "the TPM's firmware");
                return REASON_OK;
        }
        return verdict_set(v, REASON_AK_NOT_SIGNING_KEY,
                           "the AK is type 0x%04x with scheme 0x%04x/0x%04x: it must be ECC P-256 "
                           "with ECDSA/SHA-256 or RSA 2048 with RSASSA/SHA-256",
                           ak->type, ak->scheme, ak->scheme_hash);
}

/* The SubjectPublicKeyInfo writer below: sizes computed first, then written forward into a
 * buffer checked against the total, so no input can write past it (issue 12 §1: the old
 * writer wrapped inside-out in a buffer sized for the modulus alone and overflowed it by up to
 * 4 bytes with an RSA 4096 key). */
#define SPKI_MAX 1024 /* an RSA 4096 SPKI: 550 bytes at most; P-384: 120 */

static size_t der_length_size(size_t n)
{
        return n < 0x80 ? 1 : n < 0x100 ? 2 : 3;
}

/* DER: a length in its shortest form, at most 65535 (SPKI_MAX is far below). */
static size_t der_length(uint8_t *p, size_t n)
{
        if (n < 0x80) {
                p[0] = (uint8_t) n;
                return 1;
        }
        if (n < 0x100) {
                p[0] = 0x81;
                p[1] = (uint8_t) n;
                return 2;
        }
        p[0] = 0x82;
        p[1] = (uint8_t) (n >> 8);
        p[2] = (uint8_t) n;
        return 3;
}

/* A positive INTEGER from big-endian bytes: no leading zeros but one before a high bit. */
struct der_int {
        const uint8_t *v;
        size_t n;
        bool pad;
};

static struct der_int der_int_of(const uint8_t *v, size_t n)
{
        while (n > 1 && v[0] == 0)
                v++, n--;
        return (struct der_int){v, n, v[0] & 0x80};
}

static size_t der_int_size(const struct der_int *i)
{
        return 1 + der_length_size(i->n + i->pad) + i->n + i->pad;
}

static size_t der_write_int(uint8_t *p, const struct der_int *i)
{
        size_t o = 0;

        p[o++] = 0x02;
        o += der_length(p + o, i->n + i->pad);
        if (i->pad)
                p[o++] = 0;
        memcpy(p + o, i->v, i->n);
        return o + i->n;
}

static size_t der_header(uint8_t *p, uint8_t tag, size_t n)
{
        p[0] = tag;
        return 1 + der_length(p + 1, n);
}

int ek_spki_sha256(const struct tpm_public *pub, uint8_t ret[32])
{
        /* AlgorithmIdentifier and the BIT STRING header, as OpenSSL writes them */
        static const uint8_t p256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                       0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                       0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
        static const uint8_t p384[] = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                       0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                       0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04};
        static const uint8_t rsa_alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                          0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
        uint8_t der[SPKI_MAX];
        size_t o = 0, c;

        if (pub->type == TPMW_ALG_ECC) {
                const uint8_t *prefix = pub->curve == TPMW_ECC_NIST_P256   ? p256
                                        : pub->curve == TPMW_ECC_NIST_P384 ? p384
                                                                           : NULL;
                size_t prefix_size = pub->curve == TPMW_ECC_NIST_P256 ? sizeof(p256) : sizeof(p384);

                c = pub->curve == TPMW_ECC_NIST_P256 ? 32 : 48;
                if (!prefix || pub->ecc_x_size != c || pub->ecc_y_size != c)
                        return -EOPNOTSUPP;
                memcpy(der, prefix, prefix_size);
                o = prefix_size;
                memcpy(der + o, pub->ecc_x, c);
                memcpy(der + o + c, pub->ecc_y, c);
                SHA256(der, o + 2 * c, ret);
                return 0;
        }
        if (pub->type != TPMW_ALG_RSA || pub->rsa_n_size == 0 ||
            pub->rsa_n_size > sizeof(pub->rsa_n))
                return -EOPNOTSUPP;

        /* SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING {0 unused bits,
         * RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } } } */
        const uint8_t e[4] = {(uint8_t) (pub->rsa_exponent >> 24),
                              (uint8_t) (pub->rsa_exponent >> 16),
                              (uint8_t) (pub->rsa_exponent >> 8), (uint8_t) pub->rsa_exponent};
        struct der_int n_int = der_int_of(pub->rsa_n, pub->rsa_n_size), e_int = der_int_of(e, 4);
        size_t key = der_int_size(&n_int) + der_int_size(&e_int);
        size_t bits = 1 + 1 + der_length_size(key) + key;
        size_t spki = sizeof(rsa_alg) + 1 + der_length_size(bits) + bits;
        size_t total = 1 + der_length_size(spki) + spki;

        if (total > sizeof(der))
                return -EOPNOTSUPP; /* unreachable with TPMW_RSA_MAX, kept as the guard */
        o = der_header(der, 0x30, spki);
        memcpy(der + o, rsa_alg, sizeof(rsa_alg));
        o += sizeof(rsa_alg);
        o += der_header(der + o, 0x03, bits);
        der[o++] = 0; /* no unused bits */
        o += der_header(der + o, 0x30, key);
        o += der_write_int(der + o, &n_int);
        o += der_write_int(der + o, &e_int);
        SHA256(der, o, ret);
        return 0;
}

/* Whether the certificate's SubjectPublicKeyInfo names id-RSAES-OAEP: TPM 1.2-era EK
 * certificates (STMicro 2014, Nuvoton 2016) say so, as the TCG EK Credential Profile 1.x
 * suggested, to restrict the key to OAEP. OpenSSL 3 has no decoder for it. */
static bool key_is_oaep(X509 *x)
{
        ASN1_OBJECT *alg = NULL;

        if (X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, X509_get_X509_PUBKEY(x)) != 1) {
                ERR_clear_error();
                return false;
        }
        return OBJ_obj2nid(alg) == NID_rsaesOaep;
}

EVP_PKEY *ek_certificate_get_pubkey(X509 *x)
{
        const unsigned char *p = NULL, *end;
        ASN1_OBJECT *alg = NULL;
        EVP_PKEY *key;
        int len = 0;

        key = X509_get_pubkey(x);
        if (key)
                return key;
        ERR_clear_error();
        if (!key_is_oaep(x) ||
            X509_PUBKEY_get0_param(&alg, &p, &len, NULL, X509_get_X509_PUBKEY(x)) != 1 || len <= 0)
                goto fail;
        /* The BIT STRING holds a PKCS#1 RSAPublicKey, as for rsaEncryption; the OAEP
         * parameters only restrict its use. All of it, nothing after it. */
        end = p + len;
        key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
        if (key && p == end)
                return key;
        EVP_PKEY_free(key);
fail:
        ERR_clear_error();
        return NULL;
}

int ek_certificate_spki_sha256(X509 *cert, uint8_t ret[32])
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *cert_key = NULL;
        unsigned char *der = NULL;
        int n;

        /* The same key as rsaEncryption when the certificate says id-RSAES-OAEP: the TPM's
         * public area knows no such distinction, and the entry must match it. */
        cert_key = ek_certificate_get_pubkey(cert);
        if (!cert_key)
                return -EBADMSG;
        key = EVP_PKEY_dup(cert_key);
        if (!key)
                return -ENOMEM;
        /* A certificate may carry a compressed point; the TPM's key is always written out
         * uncompressed, and the allowlist entry must not depend on where it came from. */
        if (EVP_PKEY_is_a(key, "EC") &&
            EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                           "uncompressed") != 1) {
                ERR_clear_error();
                return -EIO;
        }
        n = i2d_PUBKEY(key, &der);
        if (n <= 0) {
                ERR_clear_error();
                return -EIO;
        }
        SHA256(der, (size_t) n, ret);
        OPENSSL_free(der);
        return 0;
}

/* EK certificates carry critical extensions OpenSSL does not implement (TCG EK Credential
 * Profile: subjectDirectoryAttributes with the TPM's specification; some vendors mark TCG
 * extensions critical). These say what the certificate is, they restrict nothing a chain
 * check would have to enforce, so the leaf may carry them; any other unknown critical
 * extension still fails the verification. */
static bool only_tcg_critical(X509 *x)
{
        for (int i = 0; i < X509_get_ext_count(x); i++) {
                X509_EXTENSION *ext = X509_get_ext(x, i);
                char oid[80];

                if (!X509_EXTENSION_get_critical(ext) || X509_supported_extension(ext))
                        continue;
                if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1) <= 0)
                        return false;
                if (!streq(oid, "2.5.29.9") && !startswith(oid, "2.23.133."))
                        return false;
        }
        return true;
}

static int verify_callback(int ok, X509_STORE_CTX *ctx)
{
        if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION &&
            X509_STORE_CTX_get_error_depth(ctx) == 0 &&
            only_tcg_critical(X509_STORE_CTX_get_current_cert(ctx))) {
                X509_STORE_CTX_set_error(ctx, X509_V_OK);
                return 1;
        }
        return ok;
}

/* The TCG EK Credential Profile's extended key usage, tcg-kp-EKCertificate: required, not
 * just tolerated. The chain says which CA vouches for the key; the EKU says that the CA made
 * the certificate as an EK certificate rather than for some other key of its TPMs or
 * platforms. swtpm's, STMicro's (2014) and Nuvoton's (2023) EK certificates carry it; an EK
 * whose certificate lacks it can still be enrolled on the allowlist. anyExtendedKeyUsage does
 * not count: it names no purpose. */
static bool has_ek_eku(X509 *x)
{
        _cleanup_(ASN1_OBJECT_freep) ASN1_OBJECT *want = OBJ_txt2obj("2.23.133.8.1", 1);
        EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
        bool found = false;

        for (int i = 0; want && eku && i < sk_ASN1_OBJECT_num(eku); i++)
                if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0)
                        found = true;
        EXTENDED_KEY_USAGE_free(eku);
        ERR_clear_error();
        return found;
}

/* The cached public key of a certificate that verified, up-ref'ed; NULL when not cached. */
static EVP_PKEY *cache_get(struct ek_trust *t, const uint8_t hash[32], time_t now)
{
        struct cache_slot *s = &t->cache[(hash[0] | hash[1] << 8) % CACHE_SLOTS];
        EVP_PKEY *key = NULL;

        pthread_mutex_lock(&t->lock);
        if (s->key && memcmp(s->hash, hash, 32) == 0 && now - s->at < CACHE_TTL && now >= s->at &&
            EVP_PKEY_up_ref(s->key) == 1)
                key = s->key;
        pthread_mutex_unlock(&t->lock);
        return key;
}

static void cache_put(struct ek_trust *t, const uint8_t hash[32], EVP_PKEY *key, time_t now)
{
        struct cache_slot *s = &t->cache[(hash[0] | hash[1] << 8) % CACHE_SLOTS];
        EVP_PKEY *old;

        if (EVP_PKEY_up_ref(key) != 1)
                return;
        pthread_mutex_lock(&t->lock);
        old = s->key;
        memcpy(s->hash, hash, 32);
        s->key = key;
        s->at = now;
        pthread_mutex_unlock(&t->lock);
        EVP_PKEY_free(old);
}

/* The time certificates are checked at: the store's (ek_trust_set_time()) or now. */
static time_t check_time(struct ek_trust *t)
{
        const X509_VERIFY_PARAM *param = X509_STORE_get0_param(t->store);

        if (X509_VERIFY_PARAM_get_flags((X509_VERIFY_PARAM *) param) & X509_V_FLAG_USE_CHECK_TIME)
                return X509_VERIFY_PARAM_get_time(param);
        return time(NULL);
}

/* An EK certificate whose key OpenSSL cannot load (id-RSAES-OAEP) fails X509_verify_cert()
 * before it looks at the chain ("unspecified certificate verification error"). What that
 * would check, checked here: the issuer is a configured CA that itself verifies to a root;
 * its signature over the TBS verifies (X509_verify() hashes the TBS bytes as received, and
 * refuses a signature algorithm differing from the TBS's); the leaf is within its validity,
 * within every CA's path length, carries no unknown critical extension but TCG's, and has the
 * EK EKU; its key is a well-formed RSAPublicKey. */
static enum reason verify_oaep_certificate(struct ek_trust *t, X509 *x, EVP_PKEY **ret_key,
                                           struct verdict *v)
{
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = NULL, *ictx = NULL;
        _cleanup_(X509_freep) X509 *issuer = NULL;
        STACK_OF(X509) * chain;
        time_t at = check_time(t);
        char name[128];
        EVP_PKEY *key;
        int e;

        X509_NAME_oneline(X509_get_issuer_name(x), name, sizeof(name));
        ctx = X509_STORE_CTX_new();
        ictx = X509_STORE_CTX_new();
        if (!ctx || !ictx || X509_STORE_CTX_init(ctx, t->store, x, NULL) != 1) {
                ERR_clear_error();
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        }
        if (X509_STORE_CTX_get1_issuer(&issuer, ctx, x) != 1 || !issuer) {
                ERR_clear_error();
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate (key id-RSAES-OAEP, checked without "
                                   "OpenSSL's chain builder) has issuer %s, which is not a "
                                   "configured CA",
                                   name);
        }
        if (X509_check_ca(issuer) != 1 || !X509_get0_pubkey(issuer)) {
                ERR_clear_error();
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate's issuer %s is not a CA with a usable key",
                                   name);
        }
        if (X509_verify(x, X509_get0_pubkey(issuer)) != 1) {
                ERR_clear_error();
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate (key id-RSAES-OAEP): the signature of %s "
                                   "over it does not verify",
                                   name);
        }
        if (X509_cmp_time(X509_get0_notBefore(x), &at) >= 0)
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate (issuer %s) is not yet valid", name);
        if (X509_cmp_time(X509_get0_notAfter(x), &at) <= 0)
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate (issuer %s) has expired", name);
        if (!only_tcg_critical(x)) {
                ERR_clear_error();
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate (issuer %s) has an unknown critical "
                                   "extension",
                                   name);
        }

        /* The issuer's own chain, by OpenSSL, with no TCG leniency: it is a CA certificate. */
        if (X509_STORE_CTX_init(ictx, t->store, issuer, NULL) != 1) {
                ERR_clear_error();
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        }
        if (X509_verify_cert(ictx) != 1) {
                e = X509_STORE_CTX_get_error(ictx);
                ERR_clear_error();
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate's issuer %s does not chain to a configured "
                                   "root: %s",
                                   name, X509_verify_cert_error_string(e));
        }
        /* Verified with the issuer at depth 0, every CA above sits one lower than it would
         * above the leaf: a pathLenConstraint of n allows n CAs below it, the issuer included. */
        chain = X509_STORE_CTX_get0_chain(ictx);
        for (int j = 1; chain && j < sk_X509_num(chain); j++) {
                long pathlen = X509_get_pathlen(sk_X509_value(chain, j));
                if (pathlen >= 0 && pathlen < j)
                        return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                           "the EK certificate's chain exceeds the path length "
                                           "constraint of a CA above %s",
                                           name);
        }
        if (!has_ek_eku(x))
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate has no extended key usage "
                                   "tcg-kp-EKCertificate (2.23.133.8.1): the CA did not issue "
                                   "it as an EK certificate");
        key = ek_certificate_get_pubkey(x);
        if (!key)
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate's id-RSAES-OAEP key is not an "
                                   "RSAPublicKey");
        *ret_key = key;
        return REASON_OK;
}

/* Verifies the chain of the DER certificate. @return REASON_OK and its public key */
static enum reason verify_certificate(struct ek_trust *t, const uint8_t *cert, size_t size,
                                      EVP_PKEY **ret_key, struct verdict *v)
{
        _cleanup_(X509_freep) X509 *x = NULL;
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = NULL;
        const unsigned char *p = cert;
        EVP_PKEY *key;
        char issuer[128];
        int e, depth;

        /* Bytes after the certificate are NV padding some TPMs keep: d2i stops at its end. */
        x = d2i_X509(NULL, &p, (long) size);
        if (!x) {
                ERR_clear_error();
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate is not a DER X.509 certificate");
        }
        if (!X509_get0_pubkey(x)) {
                ERR_clear_error();
                if (key_is_oaep(x))
                        return verify_oaep_certificate(t, x, ret_key, v);
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate's public key cannot be loaded (neither "
                                   "a key type OpenSSL knows nor id-RSAES-OAEP)");
        }
        ctx = X509_STORE_CTX_new();
        if (!ctx || X509_STORE_CTX_init(ctx, t->store, x, NULL) != 1) {
                ERR_clear_error();
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        }
        /* No purpose: EK certificates have TCG's EKU (2.23.133.8.1), none for TLS, which
         * has_ek_eku() checks on the leaf afterwards. */
        X509_STORE_CTX_set_verify_cb(ctx, verify_callback);
        if (X509_verify_cert(ctx) != 1) {
                e = X509_STORE_CTX_get_error(ctx);
                depth = X509_STORE_CTX_get_error_depth(ctx);
                ERR_clear_error();
                X509_NAME_oneline(X509_get_issuer_name(x), issuer, sizeof(issuer));
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate (issuer %s) does not chain to a configured "
                                   "CA: %s (depth %d)",
                                   issuer, X509_verify_cert_error_string(e), depth);
        }
        if (!has_ek_eku(x))
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate has no extended key usage "
                                   "tcg-kp-EKCertificate (2.23.133.8.1): the CA did not issue "
                                   "it as an EK certificate");
        key = X509_get_pubkey(x);
        if (!key) {
                ERR_clear_error();
                return verdict_set(v, REASON_EK_CERTIFICATE_UNTRUSTED,
                                   "the EK certificate's public key does not parse");
        }
        *ret_key = key;
        return REASON_OK;
}

static enum reason check_certificate(struct ek_trust *t, const struct tpm_public *ek,
                                     const uint8_t *cert, size_t size, struct verdict *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *ekkey = NULL;
        time_t now = time(NULL);
        uint8_t hash[32];
        enum reason r;

        SHA256(cert, size, hash);
        key = cache_get(t, hash, now);
        if (!key) {
                /* Refusals are remembered too: an unauthenticated client must not buy one
                 * signature verification per request with the same certificate. */
                r = ek_negcache_get(&t->refused, &t->lock, hash, now, v);
                if (r != REASON_OK)
                        return r;
                r = verify_certificate(t, cert, size, &key, v);
                ek_negcache_put(&t->refused, &t->lock, hash, now, r, v);
                if (r != REASON_OK)
                        return r;
                cache_put(t, hash, key, now);
        }
        ekkey = tpm_public_to_pkey(ek);
        if (!ekkey) {
                ERR_clear_error();
                return verdict_set(v, REASON_EK_NOT_STORAGE_KEY,
                                   "the EK's public key is not a valid key");
        }
        if (EVP_PKEY_eq(key, ekkey) != 1) {
                ERR_clear_error();
                return verdict_set(v, REASON_EK_CERTIFICATE_MISMATCH,
                                   "the EK certificate is for another key than ek_public");
        }
        return REASON_OK;
}

static bool allowlisted(const struct ek_trust *t, const uint8_t spki[32])
{
        return t->n_allowed > 0 && bsearch(spki, t->allowed, t->n_allowed, 32, cmp_hash);
}

void ek_trust_set_ca_only(struct ek_trust *t, bool ca_only)
{
        t->ca_only = ca_only;
}

bool ek_trust_ca_only(const struct ek_trust *t)
{
        return t->ca_only;
}

enum reason ek_trust_check(struct ek_trust *t, const struct tpm_public *ek, const uint8_t *cert,
                           size_t cert_size, const uint8_t *spki_sha256,
                           enum ek_trust_kind *ret_kind, struct verdict *v)
{
        struct verdict cert_verdict;
        uint8_t spki[32];
        enum reason r;

        r = ek_check_storage_key(ek, v);
        if (r != REASON_OK)
                return r;
        if (cert) {
                r = check_certificate(t, ek, cert, cert_size, &cert_verdict);
                if (r == REASON_OK && t->ca_only) {
                        *ret_kind = EK_TRUST_CHAIN;
                        return REASON_OK;
                }
                if (r == REASON_INTERNAL || r == REASON_EK_NOT_STORAGE_KEY) {
                        *v = cert_verdict;
                        return r;
                }
        }
        /* Either suffices (docs/PROTOCOL.md): an enrolled EK passes whatever its certificate. */
        if (spki_sha256)
                memcpy(spki, spki_sha256, sizeof(spki));
        else if (ek_spki_sha256(ek, spki) < 0)
                return verdict_set(v, REASON_INTERNAL, "cannot hash the EK's public key");
        if (allowlisted(t, spki)) {
                *ret_kind = EK_TRUST_ALLOWLIST;
                return REASON_OK;
        }
        if (cert && r == REASON_OK)
                /* A vendor's or a cloud's CA certified it: so it did every TPM of theirs. */
                return verdict_set(v, REASON_EK_UNKNOWN,
                                   "the EK's certificate chains to a configured CA, but the EK is "
                                   "not enrolled (the allowlist is the inventory; the verifier "
                                   "does not run with --ek-trust ca-only)");
        if (cert) {
                *v = cert_verdict;
                return r;
        }
        return verdict_set(v, REASON_EK_UNKNOWN,
                           "the EK has no certificate and is not on the allowlist");
}
