/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the policy file parser (verifier/policy/policy.c) on arbitrary bytes. An accepted
 * policy writes itself back in canonical form, which must parse again to the very same text. */

#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct policy *p = NULL, *again = NULL;
        char err[256], *text, *text2;

        err[0] = '\0';
        if (policy_parse((const char *) data, size, &p, err, sizeof(err)) < 0) {
                /* a refusal always says why, in one NUL-terminated line */
                if (!err[0] || !memchr(err, '\0', sizeof(err)) || p)
                        abort();
                return 0;
        }
        if (policy_cap_pcr(p) >= EVENTLOG_PCRS || !(policy_quote_mask(p) >> policy_cap_pcr(p) & 1))
                abort();
        text = policy_to_json(p);
        if (!text)
                abort();
        if (policy_parse(text, strlen(text), &again, err, sizeof(err)) < 0)
                abort();
        text2 = policy_to_json(again);
        if (!text2 || strcmp(text, text2) != 0 || policy_quote_mask(p) != policy_quote_mask(again))
                abort();
        free(text);
        free(text2);
        policy_free(again);
        policy_free(p);
        return 0;
}
