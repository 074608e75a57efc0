/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Challenges (docs/PROTOCOL.md, "The challenge"): issue and verify without state, derive the
 * credential secret and nonce, and the two keys from the shared secret file. */
#include "appraisal/challenge.h"

#include "common/fileutil.h"
#include "common/util-verifier.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#define OFF_VERSION    0
#define OFF_ISSUED_AT  1
#define OFF_EXPIRES_AT 9
#define OFF_RANDOM     17
#define OFF_BINDING    33
#define OFF_TRUST      65
#define OFF_MAC        66

static void put_be64(uint8_t *p, uint64_t x)
{
        for (int i = 7; i >= 0; i--, x >>= 8)
                p[i] = (uint8_t) x;
}

static uint64_t get_be64(const uint8_t *p)
{
        uint64_t x = 0;

        for (int i = 0; i < 8; i++)
                x = x << 8 | p[i];
        return x;
}

static void hmac_sha256(const uint8_t *key, size_t key_size, const void *data, size_t size,
                        uint8_t ret[32])
{
        unsigned len = 32;

        /* HMAC() fails only when it cannot allocate; a zeroed MAC then matches nothing real,
         * and no key could be derived as all zeroes by chance. */
        if (!HMAC(EVP_sha256(), key, (int) key_size, data, size, ret, &len))
                memset(ret, 0, 32);
}

int challenge_derive_keys(const uint8_t *secret, size_t size, uint8_t ret_challenge_key[32],
                          uint8_t ret_credential_key[32])
{
        static const char challenge_label[] = "nodegate challenge v1";
        static const char credential_label[] = "nodegate credential v1";

        if (size < CHALLENGE_SECRET_MIN)
                return -EINVAL;
        hmac_sha256(secret, size, challenge_label, strlen(challenge_label), ret_challenge_key);
        hmac_sha256(secret, size, credential_label, strlen(credential_label), ret_credential_key);
        return 0;
}

int challenge_derive_token_key(const uint8_t *secret, size_t size, uint8_t ret[32])
{
        static const char label[] = "nodegate token v2";
        unsigned len = 32;

        if (size < CHALLENGE_SECRET_MIN)
                return -EINVAL;
        /* Unlike the MAC keys above, a zeroed token key would make every token guessable. */
        if (!HMAC(EVP_sha256(), secret, (int) size, (const uint8_t *) label, strlen(label), ret,
                  &len) ||
            len != 32) {
                OPENSSL_cleanse(ret, 32);
                return -EIO;
        }
        return 0;
}

int challenge_load_secret(const char *path, uint8_t ret_challenge_key[32],
                          uint8_t ret_credential_key[32], uint8_t ret_token_key[32], char *err,
                          size_t errlen)
{
        _cleanup_close_ int fd = -1;
        uint8_t buf[CHALLENGE_SECRET_MAX + 1];
        size_t size = 0;
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = negative_errno();
                return set_error(err, errlen, r, "cannot open the shared secret %s: %s", path,
                                 strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                return set_error(err, errlen, r, "cannot stat %s: %s", path, strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return set_error(err, errlen, -EINVAL, "the shared secret %s is not a regular file",
                                 path);
        if (!secret_mode_private(&st))
                return set_error(err, errlen, -EPERM,
                                 "the shared secret %s has mode %04o, group %u: others must have "
                                 "no access, the group at most read access and only when it is "
                                 "the verifier's own (chmod 600)",
                                 path, (unsigned) (st.st_mode & 07777), (unsigned) st.st_gid);

        /* Read one byte more than allowed, to tell "exactly the maximum" from "more". */
        while (size < sizeof(buf)) {
                ssize_t n = read(fd, buf + size, sizeof(buf) - size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = negative_errno();
                        explicit_bzero(buf, sizeof(buf));
                        return set_error(err, errlen, r, "cannot read %s: %s", path, strerror(-r));
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (size < CHALLENGE_SECRET_MIN || size > CHALLENGE_SECRET_MAX) {
                explicit_bzero(buf, sizeof(buf));
                return set_error(err, errlen, -EINVAL,
                                 "the shared secret %s has %s%zu bytes: it must have %d to %d",
                                 path, size > CHALLENGE_SECRET_MAX ? "more than " : "",
                                 size - (size > CHALLENGE_SECRET_MAX), CHALLENGE_SECRET_MIN,
                                 CHALLENGE_SECRET_MAX);
        }
        r = challenge_derive_keys(buf, size, ret_challenge_key, ret_credential_key);
        if (r == 0 && ret_token_key)
                r = challenge_derive_token_key(buf, size, ret_token_key);
        explicit_bzero(buf, sizeof(buf));
        if (r == -EIO)
                return set_error(err, errlen, r, "cannot derive the token key from %s", path);
        return r;
}

void challenge_binding(const uint8_t *ek_name, size_t ek_name_size, const uint8_t *ak_name,
                       size_t ak_name_size, uint8_t ret[32])
{
        uint8_t buf[2 * 68];
        EVP_MD_CTX *ctx;

        /* TPM names are at most 2 + 64 bytes: one buffer and one-shot SHA-256 in practice. */
        if (ek_name_size + ak_name_size <= sizeof(buf)) {
                memcpy(buf, ek_name, ek_name_size);
                memcpy(buf + ek_name_size, ak_name, ak_name_size);
                SHA256(buf, ek_name_size + ak_name_size, ret);
                return;
        }
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(ctx, ek_name, ek_name_size) != 1 ||
            EVP_DigestUpdate(ctx, ak_name, ak_name_size) != 1 ||
            EVP_DigestFinal_ex(ctx, ret, NULL) != 1)
                memset(ret, 0, 32); /* binds to nothing a real challenge carries */
        EVP_MD_CTX_free(ctx);
}

int challenge_issue(const uint8_t key[32], uint64_t now, unsigned lifetime,
                    const uint8_t binding[32], enum ek_trust_kind trust,
                    uint8_t ret[CHALLENGE_SIZE])
{
        uint8_t c[CHALLENGE_SIZE];

        c[OFF_VERSION] = CHALLENGE_VERSION;
        put_be64(c + OFF_ISSUED_AT, now);
        put_be64(c + OFF_EXPIRES_AT, now + lifetime);
        if (RAND_bytes(c + OFF_RANDOM, 16) != 1)
                return -EIO;
        memcpy(c + OFF_BINDING, binding, 32);
        c[OFF_TRUST] = (uint8_t) trust;
        hmac_sha256(key, 32, c, OFF_MAC, c + OFF_MAC);
        memcpy(ret, c, sizeof(c));
        return 0;
}

enum reason challenge_verify(const uint8_t key[32], const uint8_t *challenge, size_t size,
                             uint64_t now, const uint8_t binding[32], enum ek_trust_kind *ret_trust,
                             struct verdict *v)
{
        uint8_t mac[32];
        uint64_t expires_at;

        if (size != CHALLENGE_SIZE)
                return verdict_set(v, REASON_CHALLENGE_INVALID,
                                   "the challenge has %zu bytes, not %d", size, CHALLENGE_SIZE);
        hmac_sha256(key, 32, challenge, OFF_MAC, mac);
        if (CRYPTO_memcmp(mac, challenge + OFF_MAC, sizeof(mac)) != 0)
                return verdict_set(v, REASON_CHALLENGE_INVALID,
                                   "the challenge was not issued by this verifier (MAC)");
        /* Authentic from here on: anything odd is a verifier of another version or a bug. */
        if (challenge[OFF_VERSION] != CHALLENGE_VERSION)
                return verdict_set(v, REASON_CHALLENGE_INVALID, "challenge version %u, not %d",
                                   challenge[OFF_VERSION], CHALLENGE_VERSION);
        if (challenge[OFF_TRUST] != EK_TRUST_CHAIN && challenge[OFF_TRUST] != EK_TRUST_ALLOWLIST &&
            challenge[OFF_TRUST] != EK_TRUST_PLATFORM)
                return verdict_set(v, REASON_CHALLENGE_INVALID, "challenge EK trust %u unknown",
                                   challenge[OFF_TRUST]);
        expires_at = get_be64(challenge + OFF_EXPIRES_AT);
        if (now > expires_at)
                return verdict_set(v, REASON_CHALLENGE_EXPIRED,
                                   "the challenge expired %llu s ago: start again from round 1",
                                   (unsigned long long) (now - expires_at));
        if (CRYPTO_memcmp(binding, challenge + OFF_BINDING, 32) != 0)
                return verdict_set(v, REASON_CHALLENGE_BINDING,
                                   "the EK or AK differ from those the challenge was issued for");
        if (ret_trust)
                *ret_trust = (enum ek_trust_kind) challenge[OFF_TRUST];
        return REASON_OK;
}

void challenge_credential(const uint8_t credential_key[32], const uint8_t challenge[CHALLENGE_SIZE],
                          uint8_t ret[32])
{
        hmac_sha256(credential_key, 32, challenge, CHALLENGE_SIZE, ret);
}

void challenge_qualifying_data(const uint8_t challenge[CHALLENGE_SIZE], uint8_t ret[32])
{
        SHA256(challenge, CHALLENGE_SIZE, ret);
}

uint64_t challenge_expires_at(const uint8_t challenge[CHALLENGE_SIZE])
{
        return get_be64(challenge + OFF_EXPIRES_AT);
}
