/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: hostile PE/UKI files through the parser, the Authenticode hash, the certificate
 * table walk and the whole prediction (which parses the embedded kernel as a PE too). */

#include "policy/pe.h"
#include "policy/predict.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pe_image pe;
        struct prediction p;
        const uint8_t *sig;
        size_t sig_size;
        uint8_t d[32];
        char err[256];

        if (pe_parse(data, size, &pe, err, sizeof(err)) == 0) {
                (void) pe_authenticode_sha256(&pe, d, err, sizeof(err));
                (void) pe_signature(&pe, &sig, &sig_size, err, sizeof(err));
                /* Zero fill is bounded by VirtualSize, up to 4 GiB: keep the fuzzer fast. */
                for (uint16_t i = 0; i < pe.n_sections; i++)
                        if (pe.sections[i].virtual_size <= pe.sections[i].raw_size + 65536u)
                                (void) pe_section_sha256(&pe, &pe.sections[i], d);
        }
        if (predict_uki(data, size, NULL, &p, err, sizeof(err)) == 0)
                prediction_done(&p);
        return 0;
}
