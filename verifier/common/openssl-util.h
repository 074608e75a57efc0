/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cleanup functions for the OpenSSL objects the verifier holds, for _cleanup_(): each takes a
 * pointer to the variable and accepts NULL, as OpenSSL's own free functions do. */
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#define DEFINE_OPENSSL_FREEP(type, free_fn)                                                        \
        static inline void free_fn##p(type **p)                                                    \
        {                                                                                          \
                free_fn(*p);                                                                       \
        }

DEFINE_OPENSSL_FREEP(ASN1_OBJECT, ASN1_OBJECT_free)
DEFINE_OPENSSL_FREEP(BIO, BIO_free)
DEFINE_OPENSSL_FREEP(BIGNUM, BN_free)
DEFINE_OPENSSL_FREEP(ECDSA_SIG, ECDSA_SIG_free)
DEFINE_OPENSSL_FREEP(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
DEFINE_OPENSSL_FREEP(EVP_MD_CTX, EVP_MD_CTX_free)
DEFINE_OPENSSL_FREEP(EVP_PKEY, EVP_PKEY_free)
DEFINE_OPENSSL_FREEP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_OPENSSL_FREEP(OSSL_PARAM, OSSL_PARAM_free)
DEFINE_OPENSSL_FREEP(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
DEFINE_OPENSSL_FREEP(X509, X509_free)
DEFINE_OPENSSL_FREEP(X509_STORE_CTX, X509_STORE_CTX_free)

#undef DEFINE_OPENSSL_FREEP

static inline void sk_X509_pop_freep(STACK_OF(X509) * *p)
{
        sk_X509_pop_free(*p, X509_free);
}

/* For buffers OpenSSL allocated (i2d_*, BN_bn2hex): any pointer type. */
static inline void OPENSSL_freep(void *p)
{
        OPENSSL_free(*(void **) p);
}
