/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pinned Intel SGX Root CA, the anchor of every TDX quote's PCK chain (docs/cvm.md): the
 * SHA-256 of its DER, "CN=Intel SGX Root CA, O=Intel Corporation", valid 2018-05-21 to
 * 2049-12-31; tests/fixtures/cvm/roots/gtg-intel-sgx-root-ca.pem (go-tdx-guest, identical to
 * Intel's
 * https://certificates.trustedservices.intel.com/Intel_SGX_Provisioning_Certification_RootCA.cer).
 * A quote carries the root itself; only this one is accepted. make check-cvm-verifier fails when
 * the pin differs from the fixture. */
#include "platform/tdx-quote.h"

/* clang-format off */
const uint8_t intel_sgx_root_sha256[32] = {
        0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89,
        0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
        0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85,
        0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3,
};
/* clang-format on */
