/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The software node's keys and TPM operations (see softnode.h). Marshalling follows TPM 2.0
 * Part 2 byte for byte, so the verifier parses exactly what a real TPM would send. */
#include "softnode.h"

#include "util.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

/* TCG EK Credential Profile, template L-2: PolicySecret(TPM_RH_ENDORSEMENT). */
static const uint8_t ek_auth_policy[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

#define EK_ATTRIBUTES                                                                              \
        0x000300b2u /* fixedTPM fixedParent sensitiveDataOrigin adminWithPolicy                    \
                       restricted decrypt */
#define AK_ATTRIBUTES                                                                              \
        0x00050072u /* fixedTPM fixedParent sensitiveDataOrigin userWithAuth                       \
                       restricted sign */

/* An append-only writer that remembers overflow instead of checking every call. */
struct wr {
        uint8_t *buf;
        size_t size, len;
        bool overflow;
};

static void wr_bytes(struct wr *w, const void *p, size_t n)
{
        if (n == 0)
                return; /* p may be NULL then, which memcpy() does not allow */
        if (w->overflow || n > w->size - w->len) {
                w->overflow = true;
                return;
        }
        memcpy(w->buf + w->len, p, n);
        w->len += n;
}

static void wr_u8(struct wr *w, uint8_t v)
{
        wr_bytes(w, &v, 1);
}

static void wr_u16(struct wr *w, uint16_t v)
{
        uint8_t b[2] = {v >> 8, v & 0xff};
        wr_bytes(w, b, 2);
}

static void wr_u32(struct wr *w, uint32_t v)
{
        uint8_t b[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};
        wr_bytes(w, b, 4);
}

static void wr_u64(struct wr *w, uint64_t v)
{
        wr_u32(w, v >> 32);
        wr_u32(w, v & 0xffffffffu);
}

static void wr_tpm2b(struct wr *w, const void *p, size_t n)
{
        wr_u16(w, n);
        wr_bytes(w, p, n);
}

/* A bounded reader; every read fails once the input is exhausted. */
struct rd {
        const uint8_t *buf;
        size_t size, pos;
};

static int rd_u16(struct rd *r, uint16_t *ret)
{
        if (r->size - r->pos < 2)
                return -EBADMSG;
        *ret = (uint16_t) (r->buf[r->pos] << 8 | r->buf[r->pos + 1]);
        r->pos += 2;
        return 0;
}

static int rd_tpm2b(struct rd *r, size_t max, const uint8_t **ret, size_t *ret_size)
{
        uint16_t n;

        if (rd_u16(r, &n) < 0 || n > max || n > r->size - r->pos)
                return -EBADMSG;
        *ret = r->buf + r->pos;
        *ret_size = n;
        r->pos += n;
        return 0;
}

static void evp_pkey_freep(EVP_PKEY **p)
{
        EVP_PKEY_free(*p);
}

static void evp_pkey_ctx_freep(EVP_PKEY_CTX **p)
{
        EVP_PKEY_CTX_free(*p);
}

static void bn_freep(BIGNUM **p)
{
        BN_free(*p);
}

static int ec_xy(EVP_PKEY *key, uint8_t x[32], uint8_t y[32])
{
        _cleanup_(bn_freep) BIGNUM *bx = NULL;
        _cleanup_(bn_freep) BIGNUM *by = NULL;

        if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) ||
            !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by))
                return -EIO;
        if (BN_bn2binpad(bx, x, 32) != 32 || BN_bn2binpad(by, y, 32) != 32)
                return -EIO;
        return 0;
}

/* TPM2B_PUBLIC of an ECC P-256 key, and its name (SHA-256 || H(TPMT_PUBLIC)). */
static int marshal_public(EVP_PKEY *key, bool ek, uint8_t *buf, size_t size, size_t *ret_size,
                          uint8_t name[SOFTNODE_NAME_SIZE], uint8_t ret_x[32])
{
        uint8_t x[32], y[32];
        struct wr w = {.buf = buf, .size = size};
        int r;

        r = ec_xy(key, x, y);
        if (r < 0)
                return r;

        wr_u16(&w, 0); /* size, patched below */
        wr_u16(&w, 0x0023);
        wr_u16(&w, 0x000b);
        if (ek) {
                wr_u32(&w, EK_ATTRIBUTES);
                wr_tpm2b(&w, ek_auth_policy, sizeof(ek_auth_policy));
                wr_u16(&w, 0x0006); /* AES */
                wr_u16(&w, 128);
                wr_u16(&w, 0x0043); /* CFB */
                wr_u16(&w, 0x0010); /* scheme NULL */
        } else {
                wr_u32(&w, AK_ATTRIBUTES);
                wr_tpm2b(&w, NULL, 0);
                wr_u16(&w, 0x0010); /* no symmetric algorithm: a signing key */
                wr_u16(&w, 0x0018); /* ECDSA */
                wr_u16(&w, 0x000b); /* SHA-256 */
        }
        wr_u16(&w, 0x0003); /* NIST P-256 */
        wr_u16(&w, 0x0010); /* KDF NULL */
        wr_tpm2b(&w, x, 32);
        wr_tpm2b(&w, y, 32);
        if (w.overflow)
                return -ENOBUFS;
        buf[0] = (w.len - 2) >> 8;
        buf[1] = (w.len - 2) & 0xff;

        name[0] = 0x00;
        name[1] = 0x0b;
        SHA256(buf + 2, w.len - 2, name + 2);
        if (ret_x)
                memcpy(ret_x, x, 32);
        *ret_size = w.len;
        return 0;
}

static int softnode_init(EVP_PKEY *ek, EVP_PKEY *ak, struct softnode *ret)
{
        struct softnode n = {.ek = ek, .ak = ak};
        _cleanup_free_ uint8_t *spki = NULL;
        int r, len;

        r = marshal_public(ek, true, n.ek_public, sizeof(n.ek_public), &n.ek_public_size, n.ek_name,
                           n.ek_x);
        if (r < 0)
                return r;
        r = marshal_public(ak, false, n.ak_public, sizeof(n.ak_public), &n.ak_public_size,
                           n.ak_name, NULL);
        if (r < 0)
                return r;

        len = i2d_PUBKEY(ek, &spki);
        if (len <= 0)
                return -EIO;
        SHA256(spki, len, n.ek_spki_sha256);

        *ret = n;
        return 0;
}

int softnode_generate(struct softnode *ret)
{
        _cleanup_(evp_pkey_freep) EVP_PKEY *ek = NULL;
        _cleanup_(evp_pkey_freep) EVP_PKEY *ak = NULL;
        int r;

        ek = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        ak = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (!ek || !ak)
                return -EIO;
        r = softnode_init(ek, ak, ret);
        if (r < 0)
                return r;
        ek = ak = NULL;
        return 0;
}

int softnode_save(const struct softnode *n, FILE *f)
{
        if (!PEM_write_PrivateKey(f, n->ek, NULL, NULL, 0, NULL, NULL) ||
            !PEM_write_PrivateKey(f, n->ak, NULL, NULL, 0, NULL, NULL))
                return -EIO;
        return 0;
}

int softnode_load(FILE *f, struct softnode *ret)
{
        _cleanup_(evp_pkey_freep) EVP_PKEY *ek = NULL;
        _cleanup_(evp_pkey_freep) EVP_PKEY *ak = NULL;
        int r;

        ek = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        if (!ek)
                return -ENODATA;
        ak = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        if (!ak)
                return -EBADMSG;
        r = softnode_init(ek, ak, ret);
        if (r < 0)
                return r;
        ek = ak = NULL;
        return 0;
}

void softnode_done(struct softnode *n)
{
        EVP_PKEY_free(n->ek);
        EVP_PKEY_free(n->ak);
        n->ek = n->ak = NULL;
}

int softnode_kdfa(const uint8_t *key, size_t key_size, const char *label, const uint8_t *u,
                  size_t u_size, const uint8_t *v, size_t v_size, unsigned bits, uint8_t *ret)
{
        uint8_t in[4 + 32 + 2 * SOFTNODE_NAME_SIZE + 4 + 64], block[32];
        size_t out = 0, want = (bits + 7) / 8, label_size = strlen(label) + 1;

        if (bits == 0 || bits > 512 || label_size > 32 || u_size > 64 || v_size > 64)
                return -EINVAL;
        for (uint32_t i = 1; out < want; i++) {
                struct wr w = {.buf = in, .size = sizeof(in)};
                unsigned len = sizeof(block);

                wr_u32(&w, i);
                wr_bytes(&w, label, label_size); /* the label's NUL is part of the input */
                wr_bytes(&w, u, u_size);
                wr_bytes(&w, v, v_size);
                wr_u32(&w, bits);
                if (w.overflow)
                        return -EINVAL;
                if (!HMAC(EVP_sha256(), key, key_size, in, w.len, block, &len))
                        return -EIO;
                memcpy(ret + out, block, want - out < len ? want - out : len);
                out += len;
        }
        OPENSSL_cleanse(block, sizeof(block));
        return 0;
}

/* Z = x-coordinate of (EK private key × the ephemeral point). */
static int ecdh(EVP_PKEY *ek, const uint8_t *x, size_t x_size, const uint8_t *y, size_t y_size,
                uint8_t z[32])
{
        _cleanup_(evp_pkey_freep) EVP_PKEY *peer = NULL;
        _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *dctx = NULL;
        uint8_t point[65] = {0x04};
        size_t z_size = 32;

        if (x_size > 32 || y_size > 32)
                return -EBADMSG;
        memcpy(point + 1 + 32 - x_size, x, x_size);
        memcpy(point + 33 + 32 - y_size, y, y_size);
        /* The EK's curve copied, not looked up by name: building a group from its name costs a
         * quarter of the scalar multiplication. Setting the point refuses one off the curve. */
        peer = EVP_PKEY_new();
        if (!peer || EVP_PKEY_copy_parameters(peer, ek) != 1)
                return -EIO;
        if (EVP_PKEY_set1_encoded_public_key(peer, point, sizeof(point)) != 1)
                return -EBADMSG;
        dctx = EVP_PKEY_CTX_new(ek, NULL);
        if (!dctx || EVP_PKEY_derive_init(dctx) <= 0)
                return -EIO;
        /* The full public-key check derive_set_peer adds costs a second scalar multiplication. */
        if (EVP_PKEY_derive_set_peer_ex(dctx, peer, 0) <= 0)
                return -EBADMSG;
        if (EVP_PKEY_derive(dctx, z, &z_size) <= 0 || z_size != 32)
                return -EIO;
        return 0;
}

int softnode_activate_credential(const struct softnode *n, const uint8_t *id_object,
                                 size_t id_object_size, const uint8_t *encrypted_secret,
                                 size_t encrypted_secret_size, uint8_t ret_secret[64],
                                 size_t *ret_secret_size)
{
        struct rd es = {.buf = encrypted_secret, .size = encrypted_secret_size};
        struct rd id = {.buf = id_object, .size = id_object_size};
        const uint8_t *point, *x, *y, *blob, *integrity;
        size_t point_size, x_size, y_size, blob_size, integrity_size, enc_size;
        uint8_t z[32], kdfe_in[4 + 32 + 9 + 64], seed[32], sym_key[16], hmac_key[32], mac[32];
        uint8_t hmac_in[1024 + SOFTNODE_NAME_SIZE], plain[1024], iv[16] = {0};
        unsigned mac_size = sizeof(mac);
        struct wr w = {.buf = kdfe_in, .size = sizeof(kdfe_in)};
        EVP_CIPHER_CTX *c = NULL;
        int r = -EBADMSG, len = 0, len2 = 0;
        uint16_t secret_size;

        /* TPM2B_ENCRYPTED_SECRET holding a TPMS_ECC_POINT: the ephemeral key. */
        if (rd_tpm2b(&es, 1024, &point, &point_size) < 0 || es.pos != es.size)
                return -EBADMSG;
        es = (struct rd){.buf = point, .size = point_size};
        if (rd_tpm2b(&es, 32, &x, &x_size) < 0 || rd_tpm2b(&es, 32, &y, &y_size) < 0 ||
            es.pos != es.size)
                return -EBADMSG;
        /* TPM2B_ID_OBJECT: TPM2B_DIGEST integrity || encIdentity. */
        if (rd_tpm2b(&id, 1024, &blob, &blob_size) < 0 || id.pos != id.size)
                return -EBADMSG;
        id = (struct rd){.buf = blob, .size = blob_size};
        if (rd_tpm2b(&id, 32, &integrity, &integrity_size) < 0 || integrity_size != 32)
                return -EBADMSG;
        enc_size = id.size - id.pos;
        if (enc_size < 2 || enc_size > sizeof(plain))
                return -EBADMSG;

        r = ecdh(n->ek, x, x_size, y, y_size, z);
        if (r < 0)
                goto out;

        /* KDFe (Part 1, 11.4.10.3): one SHA-256 block is the whole 256-bit seed. */
        wr_u32(&w, 1);
        wr_bytes(&w, z, 32);
        wr_bytes(&w, "IDENTITY", 9);
        wr_bytes(&w, x, x_size);
        wr_bytes(&w, n->ek_x, 32);
        if (w.overflow) {
                r = -EBADMSG;
                goto out;
        }
        SHA256(kdfe_in, w.len, seed);

        r = softnode_kdfa(seed, 32, "INTEGRITY", NULL, 0, NULL, 0, 256, hmac_key);
        if (r < 0)
                goto out;
        memcpy(hmac_in, id.buf + id.pos, enc_size);
        memcpy(hmac_in + enc_size, n->ak_name, SOFTNODE_NAME_SIZE);
        if (!HMAC(EVP_sha256(), hmac_key, 32, hmac_in, enc_size + SOFTNODE_NAME_SIZE, mac,
                  &mac_size)) {
                r = -EIO;
                goto out;
        }
        if (CRYPTO_memcmp(mac, integrity, 32) != 0) {
                r = -EBADMSG;
                goto out;
        }

        r = softnode_kdfa(seed, 32, "STORAGE", n->ak_name, SOFTNODE_NAME_SIZE, NULL, 0, 128,
                          sym_key);
        if (r < 0)
                goto out;
        c = EVP_CIPHER_CTX_new();
        if (!c || !EVP_DecryptInit_ex(c, EVP_aes_128_cfb128(), NULL, sym_key, iv) ||
            !EVP_DecryptUpdate(c, plain, &len, id.buf + id.pos, enc_size) ||
            !EVP_DecryptFinal_ex(c, plain + len, &len2)) {
                r = -EIO;
                goto out;
        }
        secret_size = (uint16_t) (plain[0] << 8 | plain[1]);
        if ((size_t) len + len2 != enc_size || secret_size > 64 ||
            (size_t) secret_size + 2 != enc_size) {
                r = -EBADMSG;
                goto out;
        }
        memcpy(ret_secret, plain + 2, secret_size);
        *ret_secret_size = secret_size;
        r = 0;
out:
        EVP_CIPHER_CTX_free(c);
        OPENSSL_cleanse(z, sizeof(z));
        OPENSSL_cleanse(kdfe_in, sizeof(kdfe_in));
        OPENSSL_cleanse(seed, sizeof(seed));
        OPENSSL_cleanse(sym_key, sizeof(sym_key));
        OPENSSL_cleanse(hmac_key, sizeof(hmac_key));
        OPENSSL_cleanse(plain, sizeof(plain));
        return r;
}

static void ecdsa_sig_freep(ECDSA_SIG **p)
{
        ECDSA_SIG_free(*p);
}

int softnode_quote(const struct softnode *n, const uint8_t *challenge, size_t challenge_size,
                   uint32_t pcr_mask, const uint8_t pcr_digest[32], uint64_t clock,
                   uint32_t reset_count, struct softnode_quote *ret)
{
        struct softnode_quote q = {};
        struct wr w = {.buf = q.attest, .size = sizeof(q.attest)};
        struct wr s = {.buf = q.signature, .size = sizeof(q.signature)};
        _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_(ecdsa_sig_freep) ECDSA_SIG *sig = NULL;
        uint8_t nonce[32], digest[32], der[80], r_bytes[32], s_bytes[32];
        const uint8_t *p = der;
        size_t der_size = sizeof(der);

        SHA256(challenge, challenge_size, nonce);
        wr_u16(&w, 0);           /* size, patched below */
        wr_u32(&w, 0xff544347u); /* TPM_GENERATED_VALUE */
        wr_u16(&w, 0x8018);      /* TPM_ST_ATTEST_QUOTE */
        wr_tpm2b(&w, n->ak_name, SOFTNODE_NAME_SIZE);
        wr_tpm2b(&w, nonce, sizeof(nonce));
        wr_u64(&w, clock);
        wr_u32(&w, reset_count);
        wr_u32(&w, 0);                     /* restartCount */
        wr_u8(&w, 1);                      /* safe */
        wr_u64(&w, 0x2023021300000000ull); /* firmwareVersion: arbitrary, signed like the rest */
        wr_u32(&w, 1);                     /* one bank */
        wr_u16(&w, 0x000b);
        wr_u8(&w, 3);
        wr_u8(&w, pcr_mask & 0xff);
        wr_u8(&w, (pcr_mask >> 8) & 0xff);
        wr_u8(&w, (pcr_mask >> 16) & 0xff);
        wr_tpm2b(&w, pcr_digest, 32);
        if (w.overflow)
                return -ENOBUFS;
        q.attest[0] = (w.len - 2) >> 8;
        q.attest[1] = (w.len - 2) & 0xff;
        q.attest_size = w.len;

        SHA256(q.attest + 2, w.len - 2, digest);
        ctx = EVP_PKEY_CTX_new(n->ak, NULL);
        if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 ||
            EVP_PKEY_sign(ctx, der, &der_size, digest, sizeof(digest)) <= 0)
                return -EIO;
        sig = d2i_ECDSA_SIG(NULL, &p, der_size);
        if (!sig || BN_bn2binpad(ECDSA_SIG_get0_r(sig), r_bytes, 32) != 32 ||
            BN_bn2binpad(ECDSA_SIG_get0_s(sig), s_bytes, 32) != 32)
                return -EIO;
        wr_u16(&s, 0x0018); /* ECDSA */
        wr_u16(&s, 0x000b); /* SHA-256 */
        wr_tpm2b(&s, r_bytes, 32);
        wr_tpm2b(&s, s_bytes, 32);
        if (s.overflow)
                return -ENOBUFS;
        q.signature_size = s.len;
        *ret = q;
        return 0;
}

/* ---- SEV-SNP evidence ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (v >> (8 * i)) & 0xff;
}

static void put_le64(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (v >> (8 * i)) & 0xff;
}

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Exactly 2 * size lower-case hex digits. @return 0 or -EBADMSG */
static int hex_decode(const char *s, uint8_t *ret, size_t size)
{
        if (strlen(s) != 2 * size)
                return -EBADMSG;
        for (size_t i = 0; i < size; i++) {
                int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return -EBADMSG;
                ret[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

int softnode_snp_load(const char *dir, struct softnode_snp *ret)
{
        _cleanup_(evp_pkey_freep) EVP_PKEY *key = NULL;
        struct softnode_snp s = {};
        char path[4096], line[256];
        unsigned seen = 0;
        uint8_t tcb[8];
        FILE *f;

        if (pathf(path, sizeof(path), "%s/vcek.key", dir) < 0)
                return -ENAMETOOLONG;
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (!key || !EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_bits(key) != 384)
                return -EBADMSG;

        if (pathf(path, sizeof(path), "%s/snp-params", dir) < 0)
                return -ENAMETOOLONG;
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while (fgets(line, sizeof(line), f)) {
                char *value = strchr(line, ' ');
                int r = -EBADMSG;

                line[strcspn(line, "\n")] = '\0';
                if (!value)
                        break;
                *value++ = '\0';
                if (streq(line, "measurement"))
                        r = hex_decode(value, s.measurement, sizeof(s.measurement)), seen |= 1;
                else if (streq(line, "chip_id"))
                        r = hex_decode(value, s.chip_id, sizeof(s.chip_id)), seen |= 2;
                else if (streq(line, "tcb"))
                        r = hex_decode(value, tcb, sizeof(tcb)), seen |= 4;
                if (r < 0) {
                        seen = 0;
                        break;
                }
        }
        fclose(f);
        if (seen != 7)
                return -EBADMSG;
        for (int i = 0; i < 8; i++)
                s.tcb = s.tcb << 8 | tcb[i]; /* written as a number: most significant first */
        s.vcek = TAKE_PTR(key);
        *ret = s;
        return 0;
}

void softnode_snp_done(struct softnode_snp *s)
{
        EVP_PKEY_free(s->vcek);
        s->vcek = NULL;
}

int softnode_platform_binding(const struct softnode *n, const uint8_t *challenge,
                              size_t challenge_size, uint8_t ret[64])
{
        static const char label[] = "nodegate platform v3"; /* with its NUL */
        uint8_t in[sizeof(label) + 256 + 2 * SOFTNODE_NAME_SIZE];
        struct wr w = {.buf = in, .size = sizeof(in)};

        wr_bytes(&w, label, sizeof(label));
        wr_bytes(&w, challenge, challenge_size);
        wr_bytes(&w, n->ek_name, SOFTNODE_NAME_SIZE);
        wr_bytes(&w, n->ak_name, SOFTNODE_NAME_SIZE);
        if (w.overflow)
                return -EINVAL;
        SHA512(in, w.len, ret);
        return 0;
}

static void evp_md_ctx_freep(EVP_MD_CTX **p)
{
        EVP_MD_CTX_free(*p);
}

int softnode_snp_report(const struct softnode_snp *s, const uint8_t report_data[64],
                        uint8_t ret[SOFTNODE_SNP_REPORT_SIZE])
{
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *md = NULL;
        _cleanup_(ecdsa_sig_freep) ECDSA_SIG *sig = NULL;
        uint8_t b[SOFTNODE_SNP_REPORT_SIZE] = {}, der[128];
        const uint8_t *p = der;
        size_t der_size = sizeof(der);

        /* AMD SEV-SNP ABI, ATTESTATION_REPORT; the offsets of snp_report() in Python. */
        put_le32(b + 0x00, 3);                           /* VERSION */
        put_le32(b + 0x04, 1);                           /* GUEST_SVN */
        put_le64(b + 0x08, (1ull << 17) | (1ull << 16)); /* POLICY: reserved 1, SMT; no DEBUG */
        put_le32(b + 0x30, 0);                           /* VMPL */
        put_le32(b + 0x34, 1);                           /* SIGNATURE_ALGO: ECDSA P-384 SHA-384 */
        put_le64(b + 0x38, s->tcb);                      /* CURRENT_TCB */
        put_le64(b + 0x40, 1);                           /* PLATFORM_INFO: SMT enabled */
        put_le32(b + 0x48, 0);                           /* signed by the VCEK */
        memcpy(b + 0x50, report_data, 64);               /* REPORT_DATA */
        memcpy(b + 0x90, s->measurement, 48);            /* MEASUREMENT */
        put_le64(b + 0x180, s->tcb);                     /* REPORTED_TCB */
        b[0x188] = 0x19;                                 /* CPUID family: Milan */
        b[0x189] = 0x01;                                 /* model */
        b[0x18a] = 0x01;                                 /* stepping */
        memcpy(b + 0x1a0, s->chip_id, 64);               /* CHIP_ID */
        put_le64(b + 0x1e0, s->tcb);                     /* COMMITTED_TCB */
        b[0x1e8] = 4;                                    /* CURRENT_BUILD */
        b[0x1e9] = 55;                                   /* CURRENT_MINOR */
        b[0x1ea] = 1;                                    /* CURRENT_MAJOR */
        put_le64(b + 0x1f0, s->tcb);                     /* LAUNCH_TCB */

        md = EVP_MD_CTX_new();
        if (!md || EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, s->vcek) <= 0 ||
            EVP_DigestSign(md, der, &der_size, b, 0x2a0) <= 0)
                return -EIO;
        sig = d2i_ECDSA_SIG(NULL, &p, der_size);
        if (!sig || BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), b + 0x2a0, 72) != 72 ||
            BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), b + 0x2a0 + 72, 72) != 72)
                return -EIO;
        memcpy(ret, b, sizeof(b));
        return 0;
}
