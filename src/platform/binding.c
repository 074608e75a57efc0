/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TPM names are computed from the bytes the request sends, so the binding covers exactly
 * the keys the verifier sees. mbedTLS is the gate's one hash implementation. */
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "platform/binding.h"
#include "util.h"

#define ALG_SHA256 0x000B
#define ALG_SHA384 0x000C
#define ALG_SHA512 0x000D

int platform_tpm_name(const uint8_t *public, size_t size, uint8_t ret[2 + 64])
{
        size_t inner;
        uint16_t alg;
        int r;

        /* TPM2B_PUBLIC: size(2) || TPMT_PUBLIC, whose second field is nameAlg. */
        if (size < 6)
                return -EBADMSG;
        inner = (size_t) public[0] << 8 | public[1];
        if (inner != size - 2)
                return -EBADMSG;
        alg = (uint16_t) (public[4] << 8 | public[5]);
        ret[0] = public[4];
        ret[1] = public[5];
        switch (alg) {
        case ALG_SHA256:
                r = mbedtls_sha256(public + 2, inner, ret + 2, 0);
                return r == 0 ? 2 + 32 : -EIO;
        case ALG_SHA384:
                r = mbedtls_sha512(public + 2, inner, ret + 2, 1);
                return r == 0 ? 2 + 48 : -EIO;
        case ALG_SHA512:
                r = mbedtls_sha512(public + 2, inner, ret + 2, 0);
                return r == 0 ? 2 + 64 : -EIO;
        }
        return -EBADMSG;
}

int platform_binding(const uint8_t *challenge, size_t challenge_size, const uint8_t *ek_public,
                     size_t ek_size, const uint8_t *ak_public, size_t ak_size,
                     uint8_t ret[PLATFORM_BINDING_SIZE])
{
        static const char label[] = PLATFORM_BINDING_LABEL; /* with its NUL */
        uint8_t ek_name[2 + 64], ak_name[2 + 64];
        mbedtls_sha512_context ctx;
        int ek_len, ak_len, r;

        ek_len = platform_tpm_name(ek_public, ek_size, ek_name);
        if (ek_len < 0)
                return ek_len;
        ak_len = platform_tpm_name(ak_public, ak_size, ak_name);
        if (ak_len < 0)
                return ak_len;
        mbedtls_sha512_init(&ctx);
        r = mbedtls_sha512_starts(&ctx, 0);
        if (r == 0)
                r = mbedtls_sha512_update(&ctx, (const uint8_t *) label, sizeof(label));
        if (r == 0)
                r = mbedtls_sha512_update(&ctx, challenge, challenge_size);
        if (r == 0)
                r = mbedtls_sha512_update(&ctx, ek_name, (size_t) ek_len);
        if (r == 0)
                r = mbedtls_sha512_update(&ctx, ak_name, (size_t) ak_len);
        if (r == 0)
                r = mbedtls_sha512_finish(&ctx, ret);
        mbedtls_sha512_free(&ctx);
        return r == 0 ? 0 : -EIO;
}
