/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the gate's HCL header check (src/platform/hcl.c) on whatever a vTPM's NV
 * 0x01400001 could hold, then the user-data scan with the input's first 64 bytes as the
 * binding. Whatever is accepted has its claims inside the blob, and is read to the last byte. */

#include "platform/hcl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t binding[HCL_BINDING_SIZE] = {0};
        struct hcl_report h;
        char err[256];
        /* A copy of exactly size bytes: ASan sees a read past the end of the "NV index". */
        uint8_t *blob = malloc(size ? size : 1);
        unsigned sum = 0;

        if (!blob)
                return 0;
        memcpy(blob, data, size);
        memcpy(binding, data, size < sizeof(binding) ? size : sizeof(binding));
        if (hcl_parse(blob, size, &h, err, sizeof(err)) == 0) {
                if (h.claims < blob || h.claims + h.claims_size > blob + size)
                        abort();
                for (size_t i = 0; i < h.claims_size; i++)
                        sum += h.claims[i];
                (void) hcl_has_user_data(&h, binding);
        } else if (!err[0]) {
                abort(); /* every refusal says why */
        }
        free(blob);
        return (int) (sum & 0); /* libFuzzer wants 0 */
}
