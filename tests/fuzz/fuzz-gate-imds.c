/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the gate's parse of Azure's metadata service answer (src/platform/imds-body.c) on
 * whatever the service, or a host in its place, could answer. An accepted quote is within the
 * protocol's limits and read to the last byte; every refusal says why. */

#include "platform/imds.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* A copy of exactly size bytes, without a NUL after it: curl's buffer has one, but the
         * parser must not need it. */
        char *body = malloc(size ? size : 1), err[256] = "";
        uint8_t *quote = NULL;
        size_t quote_size = 0;
        unsigned sum = 0;
        int r;

        if (!body)
                return 0;
        memcpy(body, data, size);
        r = imds_parse_quote(body, size, &quote, &quote_size, err, sizeof(err));
        if (r == 0) {
                if (quote_size < IMDS_QUOTE_MIN || quote_size > IMDS_QUOTE_MAX)
                        abort();
                for (size_t i = 0; i < quote_size; i++)
                        sum += quote[i];
                free(quote);
        } else if (!err[0] && r != -ENOMEM) {
                abort();
        }
        free(body);
        return (int) (sum & 0); /* libFuzzer wants 0 */
}
