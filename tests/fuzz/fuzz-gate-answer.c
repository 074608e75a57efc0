/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the gate's parsers of the verifier's answers (src/attest/protocol.c) on arbitrary
 * bytes, as the gate runs them on a body from the network, with the promises each makes checked. */

#include "attest/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void check_string(const char *s, size_t size)
{
        if (!memchr(s, '\0', size))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *body = (const char *) data;
        struct protocol_challenge_answer c;
        struct protocol_attest_answer a = {};
        struct protocol_error e;
        char err[256];
        int r;

        err[0] = '\0';
        r = protocol_parse_challenge_answer(body, size, &c, err, sizeof(err));
        if (r == 0 &&
            (c.credential_blob.size == 0 || c.credential_blob.size > PROTOCOL_BLOB_MAX ||
             c.encrypted_secret.size == 0 || c.encrypted_secret.size > PROTOCOL_BLOB_MAX ||
             c.pcr_mask == 0 || c.pcr_mask >> PROTOCOL_PCRS))
                abort();
        if (r < 0 && (r != -EBADMSG && r != -EFBIG && r != -ENOMEM))
                abort();
        check_string(err, sizeof(err));

        err[0] = '\0';
        r = protocol_parse_attest_answer(body, size, &a, err, sizeof(err));
        if (r == 0) {
                if (strlen(a.token_id) != 6 ||
                    strspn(a.token_id, "abcdefghijklmnopqrstuvwxyz0123456789") != 6)
                        abort();
                if (a.sealed_public.size > PROTOCOL_BLOB_MAX ||
                    a.sealed_duplicate.size > PROTOCOL_BLOB_MAX ||
                    a.sealed_seed.size > PROTOCOL_BLOB_MAX)
                        abort();
                if (a.cap_pcr >= PROTOCOL_PCRS || !(a.sealed_pcr_mask >> a.cap_pcr & 1))
                        abort();
                if (!a.server || strncmp(a.server, "https://", 8) != 0 || !a.ca_pem ||
                    a.ca_pem_size > PROTOCOL_CA_MAX || a.ca_pem[a.ca_pem_size] != '\0')
                        abort();
                check_string(a.cap_released, sizeof(a.cap_released));
                check_string(a.cap_failed, sizeof(a.cap_failed));
        } else if (r != -EBADMSG && r != -EFBIG && r != -ENOMEM)
                abort();
        check_string(err, sizeof(err));
        protocol_attest_answer_done(&a);
        protocol_attest_answer_done(&a); /* idempotent, as the gate's cleanup may call it twice */

        if (protocol_parse_error(body, size, &e) == 0) {
                check_string(e.error, sizeof(e.error));
                check_string(e.message, sizeof(e.message));
                check_string(e.event_type, sizeof(e.event_type));
                check_string(e.digest, sizeof(e.digest));
                /* ready for a console: no control character survives */
                for (const char *s = e.message; *s; s++)
                        if ((unsigned char) *s < 0x20 || *s == 0x7f)
                                abort();
                if (e.pcr < -1 || e.pcr >= PROTOCOL_PCRS || e.event < -1)
                        abort();
        }
        if (size >= 4) {
                char list[64];
                uint32_t mask = (uint32_t) data[0] | (uint32_t) data[1] << 8 |
                                (uint32_t) data[2] << 16 | (uint32_t) data[3] << 24;

                /* every PCR of 0-23 listed fits: "0,1,…,23" is 61 bytes */
                protocol_pcr_list(mask, list, sizeof(list));
                check_string(list, sizeof(list));
        }
        return 0;
}
