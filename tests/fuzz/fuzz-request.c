/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: both request parsers on arbitrary bytes, with the invariants every accepted body
 * must meet; and base64_decode(), whose accepted inputs must re-encode to themselves. */

/* verifier/common/base64.h: tests/mk/verifier-appraise.mk puts verifier/ first for quoted includes
 */
#include "common/base64.h"
#include "service/request.h"

#include <stdlib.h>
#include <string.h>

static void check_attest(const struct attest_request *r)
{
        size_t n = strlen(r->node.hostname);

        if (n == 0 || n > REQUEST_HOSTNAME_MAX ||
            strspn(r->node.hostname, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n)
                abort();
        if (r->challenge_size > REQUEST_CHALLENGE_MAX ||
            r->credential_size > REQUEST_CREDENTIAL_MAX ||
            r->quote_attest_size > REQUEST_QUOTE_MAX ||
            r->quote_signature_size > REQUEST_QUOTE_MAX || r->ek_public.size > REQUEST_PUBLIC_MAX ||
            r->ak_public.size > REQUEST_PUBLIC_MAX || r->event_log_size > REQUEST_EVENT_LOG_MAX ||
            (r->pcr_mask >> REQUEST_PCRS) != 0)
                abort();
        if (r->node.machine_id[0] && strlen(r->node.machine_id) != 32)
                abort();
        if (r->node.product_uuid[0] && strlen(r->node.product_uuid) != 36)
                abort();
        /* the whole log is readable: ASan reports any byte past the buffer */
        uint8_t sum = 0;
        for (size_t i = 0; i < r->event_log_size; i++)
                sum ^= r->event_log[i];
        __asm__ volatile("" : : "r"(sum));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *body = (const char *) data;
        struct challenge_request c;
        struct attest_request a = {};
        struct verdict v;
        enum reason r;

        r = request_parse_challenge(body, size, &c, &v);
        if (r == REASON_OK &&
            (c.ek_public.size > REQUEST_PUBLIC_MAX || c.ak_public.size > REQUEST_PUBLIC_MAX ||
             c.ek_certificate_size > REQUEST_CERTIFICATE_MAX))
                abort();
        if (r != REASON_OK && (v.reason != r || !memchr(v.message, '\0', sizeof(v.message))))
                abort();

        r = request_parse_attest(body, size, &a, &v);
        if (r == REASON_OK)
                check_attest(&a);
        else if (v.reason != r || a.event_log)
                abort();
        attest_request_done(&a);

        /* Canonical base64: whatever decodes encodes back to the very same text. */
        if (size <= 4096) {
                uint8_t out[3072];
                size_t n;

                if (base64_decode(body, size, out, sizeof(out), &n) == 0) {
                        char *again = base64_encode_alloc(out, n);

                        if (!again || strlen(again) != size || memcmp(again, body, size) != 0)
                                abort();
                        free(again);
                }
        }
        return 0;
}
