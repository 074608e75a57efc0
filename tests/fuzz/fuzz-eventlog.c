/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: eventlog_parse() on arbitrary bytes, and policy_check() of every log it accepts
 * against a small policy that pins PCRs 2, 4, 7 and 11, requires one event and Secure Boot (the
 * SecureBoot variable event's data is parsed from the log). */

#include "tpm/eventlog.h"
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

/* The separator, the UKI of tests/tools/mklog.py's default log, and a few digests of its PCR 7
 * and 11, so accepted logs reach both the allowed and the refused paths. */
static const char policy_json[] =
    "{\"version\": 1, \"pcrs\": {"
    "\"2\": [{\"type\": \"EV_SEPARATOR\", \"sha256\": "
    "[\"df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119\"]}],"
    "\"4\": [{\"type\": \"EV_SEPARATOR\", \"sha256\": "
    "[\"df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119\"]},"
    " {\"type\": \"EV_EFI_ACTION\", \"sha256\": "
    "[\"3d6772b4f84ed47595d72a2c4c5ffd15f5bb72c7507fe26f2aaee2c69d5633ba\"]},"
    " {\"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\", \"required\": true, \"sha256\": "
    "[\"4dd57193aefb2831b9254ccc7af42d1f2ed616405b3e6c579d1dcd20cbc00c5f\"]}],"
    "\"7\": [{\"type\": \"EV_SEPARATOR\", \"sha256\": "
    "[\"df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119\"]}],"
    "\"11\": [{\"type\": \"EV_IPL\", \"sha256\": "
    "[\"0da293e37ad5511c59be47993769aacb91b243f7d010288e118dc90e95aaef5a\","
    " \"15879b6d0346126bc233c02d0dc163950dbe529e0261c42c48ed0ff69794263e\"]}]}}";

static struct policy *policy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char err[256];

        (void) argc;
        (void) argv;
        if (policy_parse(policy_json, strlen(policy_json), &policy, err, sizeof(err)) < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct eventlog log;
        struct verdict v;

        if (eventlog_parse(data, size, &log, &v) < 0) {
                /* a refusal always says why */
                if (v.reason != REASON_EVENTLOG_MALFORMED && v.reason != REASON_EVENTLOG_NO_SHA256)
                        abort();
                if (!v.message[0])
                        abort();
                return 0;
        }
        if (log.n_events > 65536 || log.n_algs == 0 || log.n_algs > 8)
                abort();
        for (size_t i = 0; i < log.n_events; i++)
                if (log.events[i].pcr >= EVENTLOG_PCRS || log.events[i].data < data ||
                    log.events[i].data + log.events[i].data_size > data + size)
                        abort();
        enum reason r = policy_check(policy, &log, &v);
        if (r != REASON_OK && r != REASON_EVENT_NOT_ALLOWED && r != REASON_EVENT_MISSING &&
            r != REASON_ALREADY_ATTESTED && r != REASON_SECURE_BOOT_OFF)
                abort();
        /* the refusals of issue 11 name their PCR */
        if ((r == REASON_ALREADY_ATTESTED || r == REASON_SECURE_BOOT_OFF) && v.pcr < 0)
                abort();
        eventlog_done(&log);
        return 0;
}
