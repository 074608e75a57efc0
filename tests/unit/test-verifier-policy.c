/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy file: malformed policies with the exact message naming the key, verdicts on a
 * hand-built log with the exact PCR/event/type/digest, the canonical form, and the `policy` CLI
 * run on logs from tests/tools/mklog.py. */

#include "tpm/eventlog.h"
#include "cli/policy-cli.h"
#include "policy/policy.h"
#include "platform/platform.h"
#include "util.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "verifier-test-util.h"

static char tmpdir[] = "/tmp/test-verifier-policy.XXXXXX";

/* "@a1" in a policy template stands for the digest of 32 0xa1 bytes, so rows stay readable. */
static char *expand(const char *tmpl)
{
        size_t n = strlen(tmpl);
        char *out = malloc(n * 32 + 1), *o = out;

        assert_non_null(out);
        for (const char *p = tmpl; *p;) {
                if (p[0] == '@' && p[1] && p[2]) {
                        for (int i = 0; i < 32; i++) {
                                *o++ = p[1];
                                *o++ = p[2];
                        }
                        p += 3;
                } else
                        *o++ = *p++;
        }
        *o = '\0';
        return out;
}

static char *digest_hex(const char *pair)
{
        char tmpl[4] = {'@', pair[0], pair[1], 0};
        return expand(tmpl);
}

/* ---- malformed policies ---- */

struct bad_row {
        const char *json;
        const char *err;
};

static const struct bad_row bad_rows[] = {
    {"", "not JSON: it ends early"},
    {"{\"version\": 1, \"pcrs\": {}", "not JSON: it ends early"},
    {"{\"version\": 1, \"pcrs\": {}} x", "not JSON: unexpected character at offset 27"},
    {"[]", "the policy must be a JSON object, not an array"},
    {"{}", "missing key \"version\""},
    {"{\"version\": 2, \"pcrs\": {}}", "version: must be 1"},
    {"{\"version\": \"1\", \"pcrs\": {}}", "version: must be 1"},
    {"{\"version\": 1.0, \"pcrs\": {}}", "version: must be 1"},
    {"{\"version\": 1}", "missing key \"pcrs\" (use {} to pin no PCR)"},
    {"{\"version\": 1, \"pcrs\": {}, \"extra\": 1}", "unknown key \"extra\""},
    {"{\"version\": 1, \"pcrs\": {}, \"Version\": 1}", "unknown key \"Version\""},
    {"{\"version\": 1, \"pcrs\": {}, \"pcrs\": {}}", "duplicate key \"pcrs\""},
    /* the platform section (docs/PROTOCOL.md, "The platform policy") */
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": []}", "platform: must be an object"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"x\": 1}}", "platform: unknown key \"x\""},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"require\": \"sgx\"}}",
     "platform: \"require\" must be \"azure-snp\", \"snp\", \"azure-tdx\", \"tdx\" or \"none\""},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"require\": \"tdx\"}}",
     "platform: a required TDX platform must pin tdx.mrtds"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"require\": \"azure-tdx\", \"snp\": "
     "{\"measurements\": "
     "[\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c"
     "2d2e2f\"]}}}",
     "platform: a required TDX platform must pin tdx.mrtds"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"tdx\": {\"mrsigner\": []}}}",
     "platform.tdx: unknown key \"mrsigner\""},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"tdx\": {\"rtmr2\": [\"00\"]}}}",
     "platform: \"rtmr2\"[0] is not 96 lowercase hex digits"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"tdx\": {\"allow_debug\": \"no\"}}}",
     "platform: \"allow_debug\" must be true or false"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"tdx\": {\"tcb_status\": []}}}",
     "platform.tdx: \"tcb_status\" must be \"unchecked\" or a non-empty list of TCB statuses"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"tdx\": {\"tcb_status\": \"any\"}}}",
     "platform.tdx: \"tcb_status\" must be \"unchecked\" or a non-empty list of TCB statuses"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"tdx\": {\"tcb_status\": "
     "[\"UpToDate\", \"Revoked\"]}}}",
     "platform.tdx.tcb_status: \"Revoked\" is not one of UpToDate, SWHardeningNeeded, "
     "ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, "
     "OutOfDateConfigurationNeeded"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"tpm_trust\": \"tee\"}}",
     "platform: tpm_trust \"tee\" needs \"require\" other than \"none\""},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"admit_unenrolled_ek\": true}}",
     "platform: admit_unenrolled_ek needs \"require\" other than \"none\""},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"require\": \"snp\"}}",
     "platform: a required platform must pin snp.measurements or snp.id_key_digests"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"require\": \"snp\", \"snp\": "
     "{\"measurements\": [\"00\"]}}}",
     "platform: \"measurements\"[0] is not 96 lowercase hex digits"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"snp\": {\"vmpl\": 4}}}",
     "platform: \"vmpl\" must be an integer from 0 to 3"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"snp\": {\"min_reported_tcb\": {\"Milan\": "
     "{\"fmc\": 1}}}}}",
     "platform: \"min_reported_tcb\": fmc is a Turin SPL only"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"snp\": {\"min_reported_tcb\": {\"Rome\": "
     "{}}}}}",
     "platform: \"min_reported_tcb\": \"Rome\" is not Milan, Genoa or Turin with an object of "
     "SPLs"},
    {"{\"version\": 1, \"pcrs\": {}, \"platform\": {\"snp\": {\"allow_debug\": 1}}}",
     "platform: \"allow_debug\" must be true or false"},

    {"{\"version\": 1, \"pcrs\": {\"4\": [], \"7\": [], \"4\": []}}", "duplicate key \"4\""},
    {"{\"version\": 1, \"pcrs\": {\"\\u0034\": []}}", "key with an escape sequence at offset 25"},
    /* quote_pcrs */
    {"{\"version\": 1, \"quote_pcrs\": [0, 10, 15], \"pcrs\": {}}",
     "quote_pcrs[1]: PCR 10 is never quoted (IMA extends it without logging to the TCG log)"},
    {"{\"version\": 1, \"quote_pcrs\": [0, 24, 15], \"pcrs\": {}}",
     "quote_pcrs[1]: PCR 24 out of range 0-23"},
    {"{\"version\": 1, \"quote_pcrs\": [-1, 15], \"pcrs\": {}}",
     "quote_pcrs[0]: PCR -1 out of range 0-23"},
    {"{\"version\": 1, \"quote_pcrs\": [0, \"1\", 15], \"pcrs\": {}}",
     "quote_pcrs[1]: must be a PCR number, not a string"},
    {"{\"version\": 1, \"quote_pcrs\": [0, 1.5, 15], \"pcrs\": {}}",
     "quote_pcrs[1]: must be a PCR number, not a fraction"},
    {"{\"version\": 1, \"quote_pcrs\": [4, 15, 4], \"pcrs\": {}}",
     "quote_pcrs[2]: PCR 4 listed twice"},
    {"{\"version\": 1, \"quote_pcrs\": [], \"pcrs\": {}}",
     "quote_pcrs: empty (the cap PCR is always quoted)"},
    {"{\"version\": 1, \"quote_pcrs\": \"0,15\", \"pcrs\": {}}",
     "quote_pcrs: must be an array of PCRs, not a string"},
    /* cap_pcr */
    {"{\"version\": 1, \"cap_pcr\": 10, \"pcrs\": {}}",
     "cap_pcr: PCR 10 is never quoted (IMA extends it without logging to the TCG log)"},
    {"{\"version\": 1, \"cap_pcr\": 14, \"pcrs\": {}}",
     "cap_pcr: PCR 14 is not in quote_pcrs (the cap PCR is always quoted)"},
    {"{\"version\": 1, \"quote_pcrs\": [0, 4], \"pcrs\": {}}",
     "cap_pcr: PCR 15 is not in quote_pcrs (the cap PCR is always quoted)"},
    {"{\"version\": 1, \"cap_pcr\": null, \"pcrs\": {}}",
     "cap_pcr: must be a PCR number, not null"},
    /* opt-ins */
    {"{\"version\": 1, \"allow\": \"secure-boot-off\", \"pcrs\": {}}",
     "allow: must be an array of opt-in names, not a string"},
    {"{\"version\": 1, \"allow\": [\"secure-boot-of\"], \"pcrs\": {}}",
     "allow[0]: unknown opt-in \"secure-boot-of\" (firmware-unjudged or secure-boot-off)"},
    {"{\"version\": 1, \"allow\": [\"secure-boot-off\", 7], \"pcrs\": {}}",
     "allow[1]: must be a string, not an integer"},
    {"{\"version\": 1, \"allow\": [\"firmware-unjudged\", \"firmware-unjudged\"], \"pcrs\": {}}",
     "allow[1]: \"firmware-unjudged\" listed twice"},
    /* a resettable cap PCR: root resets it and the cap is gone (issue 11) */
    {"{\"version\": 1, \"quote_pcrs\": [4, 16], \"cap_pcr\": 16, \"pcrs\": {}}",
     "cap_pcr: PCR 16 is resettable (16 and 23 from locality 0, 17-22 by DRTM): root could "
     "reset it and undo the cap; use a PCR 0-15 (15 is the default)"},
    {"{\"version\": 1, \"quote_pcrs\": [17], \"cap_pcr\": 17, \"pcrs\": {}}",
     "cap_pcr: PCR 17 is resettable (16 and 23 from locality 0, 17-22 by DRTM): root could "
     "reset it and undo the cap; use a PCR 0-15 (15 is the default)"},
    {"{\"version\": 1, \"quote_pcrs\": [23], \"cap_pcr\": 23, \"pcrs\": {}}",
     "cap_pcr: PCR 23 is resettable (16 and 23 from locality 0, 17-22 by DRTM): root could "
     "reset it and undo the cap; use a PCR 0-15 (15 is the default)"},
    /* a policy that accepts a cap string, in any PCR (issue 11) */
    {"{\"version\": 1, \"pcrs\": {\"15\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@a1\", "
     "\"4535f9333c9534173839301f087944969139338ba4b56d51c95363ff59b31f63\"]}]}}",
     "pcrs.15[0].sha256[1]: 4535f9333c9534173839301f087944969139338ba4b56d51c95363ff59b31f63 is "
     "SHA-256(\"nodegate: token released\"), the gate's cap: no policy may allow it"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_EFI_ACTION\", \"sha256\": "
     "[\"36fb0af1431a0414340351283f56d3470d33d7d85e6a905a9c77d704d9df23e3\"]}]}}",
     "pcrs.4[0].sha256[0]: 36fb0af1431a0414340351283f56d3470d33d7d85e6a905a9c77d704d9df23e3 is "
     "SHA-256(\"nodegate: failed\"), the gate's cap: no policy may allow it"},
    /* null is present, not absent */
    {"{\"version\": null, \"pcrs\": {}}", "version: must be 1"},
    {"{\"version\": 1, \"pcrs\": null}", "pcrs: must be an object, not null"},
    {"{\"version\": 1, \"quote_pcrs\": null, \"pcrs\": {}}",
     "quote_pcrs: must be an array of PCRs, not null"},
    {"{\"version\": 1, \"quote_pcrs\": [15, null], \"pcrs\": {}}",
     "quote_pcrs[1]: must be a PCR number, not null"},
    {"{\"version\": 1, \"pcrs\": {\"4\": null}}", "pcrs.4: must be an array of rules, not null"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [null]}}",
     "pcrs.4[0]: a rule must be an object, not null"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": null, \"sha256\": [\"@a1\"]}]}}",
     "pcrs.4[0].type: must be a string, not null"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": null}]}}",
     "pcrs.4[0].sha256: must be an array of hex digests, not null"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [null]}]}}",
     "pcrs.4[0].sha256[0]: must be a string, not null"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@a1\"], "
     "\"required\": null}]}}",
     "pcrs.4[0].required: must be true or false, not null"},
    /* pcrs */
    {"{\"version\": 1, \"pcrs\": []}", "pcrs: must be an object, not an array"},
    {"{\"version\": 1, \"pcrs\": {\"8\": []}}", "pcrs.8: PCR 8 is pinned but not in quote_pcrs"},
    {"{\"version\": 1, \"pcrs\": {\"10\": []}}", "pcrs.10: PCR 10 is pinned but not in quote_pcrs"},
    {"{\"version\": 1, \"pcrs\": {\"04\": []}}", "pcrs: key \"04\" is not a PCR number 0-23"},
    {"{\"version\": 1, \"pcrs\": {\"24\": []}}", "pcrs: key \"24\" is not a PCR number 0-23"},
    {"{\"version\": 1, \"pcrs\": {\"+4\": []}}", "pcrs: key \"+4\" is not a PCR number 0-23"},
    {"{\"version\": 1, \"pcrs\": {\"\": []}}", "pcrs: key \"\" is not a PCR number 0-23"},
    {"{\"version\": 1, \"pcrs\": {\"4\": {}}}", "pcrs.4: must be an array of rules, not an object"},
    /* rules */
    {"{\"version\": 1, \"pcrs\": {\"4\": [\"EV_IPL\"]}}",
     "pcrs.4[0]: a rule must be an object, not a string"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@a1\"], "
     "\"optional\": true}]}}",
     "pcrs.4[0]: unknown key \"optional\""},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"sha256\": [\"@a1\"]}]}}",
     "pcrs.4[0]: missing key \"type\""},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": 13, \"sha256\": [\"@a1\"]}]}}",
     "pcrs.4[0].type: must be a string, not an integer"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_FOO\", \"sha256\": [\"@a1\"]}]}}",
     "pcrs.4[0].type: unknown event type \"EV_FOO\" (a TCG name such as EV_EFI_ACTION, or 0x "
     "and 8 hex digits)"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_NO_ACTION\", \"sha256\": [\"@a1\"]}]}}",
     "pcrs.4[0].type: EV_NO_ACTION events are never extended, a rule for them cannot match"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\"}]}}",
     "pcrs.4[0]: missing key \"sha256\""},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": \"@a1\"}]}}",
     "pcrs.4[0].sha256: must be an array of hex digests, not a string"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": []}]}}",
     "pcrs.4[0].sha256: empty: a rule must allow at least one digest"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@a1\", 7]}]}}",
     "pcrs.4[0].sha256[1]: must be a string, not an integer"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@A1\"]}]}}",
     "pcrs.4[0].sha256[0]: \"A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1~\" is not 64 lowercase hex "
     "digits"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [\"abcd\"]}]}}",
     "pcrs.4[0].sha256[0]: \"abcd\" is not 64 lowercase hex digits"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@a1a\"]}]}}",
     "pcrs.4[0].sha256[0]: \"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1~\" is not 64 lowercase hex "
     "digits"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@zz\"]}]}}",
     "pcrs.4[0].sha256[0]: \"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz~\" is not 64 lowercase hex "
     "digits"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@b2\", \"@a1\", "
     "\"@b2\"]}]}}",
     "pcrs.4[0].sha256: b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2 listed "
     "twice (EV_IPL)"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@a1\"], "
     "\"required\": \"yes\"}]}}",
     "pcrs.4[0].required: must be true or false, not a string"},
    {"{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_EFI_ACTION\", \"sha256\": [\"@a1\"]}, "
     "{\"type\": \"EV_IPL\", \"sha256\": [\"@a2\"]}, {\"type\": \"EV_EFI_ACTION\", \"sha256\": "
     "[\"@a3\"]}]}}",
     "pcrs.4[2]: a second rule for EV_EFI_ACTION (merge it into pcrs.4[0])"},
    {"{\"version\": 1, \"pcrs\": {\"11\": [{\"type\": \"EV_EFI_ACTION\", \"sha256\": [\"@a1\"]}, "
     "{\"type\": \"0x80000007\", \"sha256\": [\"@a2\"], \"required\": true}]}}",
     "pcrs.11[1]: a second rule for EV_EFI_ACTION (merge it into pcrs.11[0])"},
/* images (issue 15 §4) */
#define FU "\"allow\": [\"firmware-unjudged\"], "
    {"{\"version\": 1, " FU "\"pcrs\": {}, \"images\": []}",
     "both \"pcrs\" and \"images\": one image's rules, or a list of images, not both"},
    {"{\"version\": 1, " FU "\"images\": []}", "images: empty (a policy that accepts no image)"},
    {"{\"version\": 1, " FU "\"images\": {}}", "images: must be an array of images, not an object"},
    {"{\"version\": 1, " FU "\"images\": [{\"pcrs\": {}}]}",
     "images[0].label: required, [a-z0-9][a-z0-9._-]{0,62}"},
    {"{\"version\": 1, " FU "\"images\": [{\"label\": \"Image-A\", \"pcrs\": {}}]}",
     "images[0].label: required, [a-z0-9][a-z0-9._-]{0,62}"},
    {"{\"version\": 1, " FU "\"images\": [{\"label\": \"-a\", \"pcrs\": {}}]}",
     "images[0].label: required, [a-z0-9][a-z0-9._-]{0,62}"},
    {"{\"version\": 1, " FU "\"images\": [{\"label\": \"a\"}]}", "images[0]: missing key \"pcrs\""},
    {"{\"version\": 1, " FU "\"images\": [{\"label\": \"a\", \"pcrs\": {}, \"x\": 1}]}",
     "images[0]: unknown key \"x\""},
    {"{\"version\": 1, " FU "\"images\": [{\"label\": \"a\", \"pcrs\": {\"4\": 1}}]}",
     "images[0].pcrs.4: must be an array of rules, not an integer"},
    {"{\"version\": 1, " FU "\"images\": [{\"label\": \"a\", \"pcrs\": {}}], \"retired\": "
     "[{\"label\": \"a\", \"pcrs\": {\"4\": []}}]}",
     "image label \"a\" used twice"},
    {"{\"version\": 1, " FU "\"label\": \"a\", \"images\": [{\"label\": \"a\", \"pcrs\": {}}]}",
     "label: with \"images\", each image has its own"},
    {"{\"version\": 1, " FU "\"label\": \"Bad\", \"pcrs\": {}}",
     "label: [a-z0-9][a-z0-9._-]{0,62}"},
    {"{\"version\": 1, \"images\": [{\"label\": \"a\", \"pcrs\": {}}]}",
     "images[0].pcrs: PCR 2 (boot-time drivers) is not pinned: pin it (policy from-uki "
     "--platform-log, from-log) or opt in with \"allow\": [\"firmware-unjudged\"]"},
#undef FU
};

static void test_bad_policies(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad_rows); i++) {
                _cleanup_free_ char *json = expand(bad_rows[i].json);
                struct policy *p = (struct policy *) 0x1;
                char err[512] = "unset";
                int r;

                r = policy_parse(json, strlen(json), &p, err, sizeof(err));
                if (r != -EINVAL || !streq(err, bad_rows[i].err))
                        print_message("row %zu: %s\n  got %d \"%s\"\n  want \"%s\"\n", i, json, r,
                                      err, bad_rows[i].err);
                assert_int_equal(r, -EINVAL);
                assert_string_equal(err, bad_rows[i].err);
                assert_ptr_equal(p, (struct policy *) 0x1); /* ret untouched */
        }
}

static void test_bad_policies_raw(void **state)
{
        static const char nul[] = "{\"version\": 1, \"pcrs\": {}}\0";
        struct policy *p = NULL;
        char err[256], deep[200];

        (void) state;
        assert_int_equal(policy_parse(nul, sizeof(nul) - 1, &p, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "not JSON: a NUL byte at offset 26");

        /* 20 nested arrays: past the tokener's depth of 16 */
        snprintf(deep, sizeof(deep), "{\"version\": 1, \"pcrs\": {}, \"x\": %.20s%.20s}",
                 "[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]");
        assert_int_equal(policy_parse(deep, strlen(deep), &p, err, sizeof(err)), -EINVAL);
        assert_non_null(startswith(err, "not JSON: "));

        /* 65 rules for one PCR */
        char *big = malloc(65 * 120 + 100), *o = big;
        assert_non_null(big);
        o += sprintf(o, "{\"version\": 1, %s\"pcrs\": {\"4\": [",
                     "\"allow\": [\"firmware-unjudged\", \"secure-boot-off\"], ");
        for (int i = 0; i < 65; i++)
                o += sprintf(o, "%s{\"type\": \"0x%08x\", \"sha256\": [\"%064d\"]}", i ? ", " : "",
                             0x100 + i, 0);
        sprintf(o, "]}}");
        assert_int_equal(policy_parse(big, strlen(big), &p, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "pcrs.4: more than 64 rules");
        /* 64 are fine */
        o = strstr(big, ", {\"type\": \"0x00000140\"");
        assert_non_null(o);
        sprintf(o, "]}}");
        assert_int_equal(policy_parse(big, strlen(big), &p, err, sizeof(err)), 0);
        policy_free(p);
        free(big);

        /* a NULL error buffer is allowed */
        assert_int_equal(policy_parse("{}", 2, &p, NULL, 0), -EINVAL);
}

static void test_defaults_and_canonical(void **state)
{
        static const char messy[] =
            "{\"pcrs\": {\"11\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@c2\", \"@c1\"]}],"
            " \"4\": [{\"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\", \"sha256\": [\"@b1\"],"
            " \"required\": true}, {\"type\": \"0x80000007\", \"sha256\": [\"@a1\"], \"required\":"
            " false}, {\"type\": \"0x00001234\", \"sha256\": [\"@d1\"]}, {\"type\": "
            "\"EV_SEPARATOR\","
            " \"sha256\": [\"@a2\"]}], \"15\": []},\n \"cap_pcr\": 9, \"version\": 1,"
            " \"quote_pcrs\": [15, 11, 9, 4, 0], \"allow\": [\"secure-boot-off\", "
            "\"firmware-unjudged\"]}\n\n";
        static const char canonical[] =
            "{\n"
            "  \"version\": 1,\n"
            "  \"quote_pcrs\": [0, 4, 9, 11, 15],\n"
            "  \"cap_pcr\": 9,\n"
            "  \"allow\": [\"firmware-unjudged\", \"secure-boot-off\"],\n"
            "  \"pcrs\": {\n"
            "    \"4\": [\n"
            "      {\"type\": \"EV_SEPARATOR\", \"sha256\": [\"@a2\"]},\n"
            "      {\"type\": \"0x00001234\", \"sha256\": [\"@d1\"]},\n"
            "      {\"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\", \"sha256\": [\"@b1\"], "
            "\"required\": true},\n"
            "      {\"type\": \"EV_EFI_ACTION\", \"sha256\": [\"@a1\"]}\n"
            "    ],\n"
            "    \"9\": [],\n"
            "    \"11\": [\n"
            "      {\"type\": \"EV_IPL\", \"sha256\": [\"@c1\", \"@c2\"]}\n"
            "    ],\n"
            "    \"15\": []\n"
            "  }\n"
            "}\n";
        _cleanup_free_ char *in = expand(messy), *want = expand(canonical), *out = NULL,
                            *again = NULL;
        struct policy *p = NULL, *q = NULL;
        char err[256];

        (void) state;
        assert_int_equal(policy_parse(in, strlen(in), &p, err, sizeof(err)), 0);
        assert_int_equal(policy_quote_mask(p), 1u << 0 | 1u << 4 | 1u << 9 | 1u << 11 | 1u << 15);
        assert_int_equal(policy_cap_pcr(p), 9);
        out = policy_to_json(p);
        assert_non_null(out);
        assert_string_equal(out, want);
        /* the canonical form is a fixed point */
        assert_int_equal(policy_parse(out, strlen(out), &q, err, sizeof(err)), 0);
        again = policy_to_json(q);
        assert_string_equal(again, out);
        policy_free(p);
        policy_free(q);

        /* defaults: PCRs 2 and 7 judged, or an opt-in that says they are not (issue 11) */
        assert_int_equal(policy_parse("{\"version\": 1, \"pcrs\": {}}", 26, &p, err, sizeof(err)),
                         -EINVAL);
        assert_string_equal(err, "pcrs: PCR 2 (boot-time drivers) is not pinned: pin it (policy "
                                 "from-uki --platform-log, from-log) or opt in with \"allow\": "
                                 "[\"firmware-unjudged\"]");
        static const char p2[] = "{\"version\": 1, \"pcrs\": {\"2\": []}}";
        assert_int_equal(policy_parse(p2, strlen(p2), &p, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "pcrs: PCR 7 (Secure Boot) is not pinned: pin it (policy "
                                 "from-uki --platform-log, from-log) or opt in with \"allow\": "
                                 "[\"firmware-unjudged\"]");
        static const char q7[] = "{\"version\": 1, \"quote_pcrs\": [7, 15], \"pcrs\": {\"7\": []}}";
        assert_int_equal(policy_parse(q7, strlen(q7), &p, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "pcrs: PCR 2 (boot-time drivers) is not quoted and pinned: pin "
                                 "it (policy from-uki --platform-log, from-log) or opt in with "
                                 "\"allow\": [\"firmware-unjudged\"]");
        static const char p27[] = "{\"version\": 1, \"pcrs\": {\"2\": [], \"7\": []}}";
        assert_int_equal(policy_parse(p27, strlen(p27), &p, err, sizeof(err)), 0);
        assert_int_equal(policy_opt_ins(p), 0);
        policy_free(p);
        static const char def[] = "{\"version\": 1, \"allow\": [\"firmware-unjudged\"], "
                                  "\"pcrs\": {}}";
        assert_int_equal(policy_parse(def, strlen(def), &p, err, sizeof(err)), 0);
        assert_int_equal(policy_opt_ins(p), POLICY_ALLOW_FIRMWARE_UNJUDGED);
        assert_int_equal(policy_quote_mask(p), 0xffu | 1u << 9 | 1u << 11 | 1u << 15);
        assert_int_equal(policy_cap_pcr(p), 15);
        free(out);
        out = policy_to_json(p);
        assert_string_equal(
            out, "{\n  \"version\": 1,\n  \"quote_pcrs\": [0, 1, 2, 3, 4, 5, 6, 7, "
                 "9, 11, 15],\n  \"cap_pcr\": 15,\n  \"allow\": [\"firmware-unjudged\"],\n"
                 "  \"pcrs\": {\n    \"15\": []\n  "
                 "}\n}\n");
        policy_free(p);
        policy_free(NULL);
        assert_null(policy_to_json(NULL));
}

/* The platform section survives the canonical form: `policy show`, and `policy allow`, which
 * rewrites the file through it, must not drop a required platform (a policy that silently
 * stopped requiring SEV-SNP would admit any vTPM). */
static void test_platform_canonical(void **state)
{
        static const char in[] =
            "{\"version\": 1, \"allow\": [\"firmware-unjudged\"], \"pcrs\": {}, \"platform\": "
            "{\"require\": \"azure-snp\", \"tpm_trust\": \"tee\", \"snp\": {\"id_key_digests\": "
            "[\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728"
            "292a2b2c2d2e2f\"], \"min_reported_tcb\": {\"Milan\": {\"bl\": 3, \"snp\": 8}}}}}";
        _cleanup_free_ char *out = NULL, *again = NULL;
        struct policy *p = NULL, *q = NULL;
        const struct platform_policy *pp;
        char err[256];

        (void) state;
        assert_int_equal(policy_parse(in, strlen(in), &p, err, sizeof(err)), 0);
        out = policy_to_json(p);
        assert_non_null(out);
        assert_int_equal(policy_parse(out, strlen(out), &q, err, sizeof(err)), 0);
        pp = policy_platform(q);
        assert_int_equal(pp->require, PLATFORM_REQUIRE_AZURE_SNP);
        assert_int_equal(pp->tpm_trust, PLATFORM_TPM_TEE);
        assert_int_equal(pp->n_id_keys, 1);
        assert_int_equal(pp->id_keys[0][47], 0x2f);
        assert_true(pp->min_reported[SNP_PRODUCT_MILAN].set);
        assert_int_equal(pp->min_reported[SNP_PRODUCT_MILAN].tcb.snp, 8);
        again = policy_to_json(q);
        assert_string_equal(again, out); /* a fixed point */
        policy_free(p);
        policy_free(q);
        /* the tdx part the same way */
        free(out);
        free(again);
        static const char in_tdx[] =
            "{\"version\": 1, \"allow\": [\"firmware-unjudged\"], \"pcrs\": {}, \"platform\": "
            "{\"require\": \"tdx\", \"tdx\": {\"mrtds\": [\"000102030405060708090a0b0c0d0e0f1011"
            "12131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f\"], \"rtmr1\": [\"00"
            "0000000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "000000000001\"], \"allow_debug\": true, \"tcb_status\": [\"UpToDate\", "
            "\"SWHardeningNeeded\"]}}}";
        assert_int_equal(policy_parse(in_tdx, strlen(in_tdx), &p, err, sizeof(err)), 0);
        out = policy_to_json(p);
        assert_non_null(out);
        assert_int_equal(policy_parse(out, strlen(out), &q, err, sizeof(err)), 0);
        pp = policy_platform(q);
        assert_int_equal(pp->require, PLATFORM_REQUIRE_TDX);
        assert_int_equal(pp->n_mrtds, 1);
        assert_int_equal(pp->mrtds[0][47], 0x2f);
        assert_int_equal(pp->n_rtmrs[0], 0);
        assert_int_equal(pp->n_rtmrs[1], 1);
        assert_int_equal(pp->rtmrs[1][0][47], 1);
        assert_true(pp->tdx_allow_debug);
        assert_false(pp->tdx_tcb_unchecked);
        assert_int_equal(pp->tdx_tcb_statuses,
                         1U << TDX_TCB_UP_TO_DATE | 1U << TDX_TCB_SW_HARDENING_NEEDED);
        again = policy_to_json(q);
        assert_string_equal(again, out);
        policy_free(p);
        policy_free(q);
        free(out);
        free(again);
        again = NULL;
        /* "unchecked" survives the round trip, and the check it skips is the policy's */
        static const char in_unchecked[] =
            "{\"version\": 1, \"allow\": [\"firmware-unjudged\"], \"pcrs\": {}, \"platform\": "
            "{\"tdx\": {\"tcb_status\": \"unchecked\"}}}";
        assert_int_equal(policy_parse(in_unchecked, strlen(in_unchecked), &p, err, sizeof(err)), 0);
        out = policy_to_json(p);
        assert_non_null(strstr(out, "\"tcb_status\": \"unchecked\""));
        assert_int_equal(policy_parse(out, strlen(out), &q, err, sizeof(err)), 0);
        assert_true(policy_platform(q)->tdx_tcb_unchecked);
        policy_free(p);
        policy_free(q);
        {
                struct platform_policy dp;
                struct verdict v;

                platform_policy_default(&dp);
                assert_int_equal(tdx_tcb_status_check(&dp, "UpToDate", "UpToDate", &v), REASON_OK);
                assert_int_equal(tdx_tcb_status_check(&dp, "SWHardeningNeeded", "UpToDate", &v),
                                 REASON_TDX_TCB_STATUS);
                assert_int_equal(tdx_tcb_status_check(&dp, "UpToDate", "OutOfDate", &v),
                                 REASON_TDX_QE_TCB_STATUS);
                assert_int_equal(tdx_tcb_status_check(&dp, "Revoked", "UpToDate", &v),
                                 REASON_TDX_TCB_STATUS);
        }
        /* without a platform section, none is written */
        free(out);
        static const char plain[] = "{\"version\": 1, \"allow\": [\"firmware-unjudged\"], "
                                    "\"pcrs\": {}}";
        assert_int_equal(policy_parse(plain, strlen(plain), &p, err, sizeof(err)), 0);
        out = policy_to_json(p);
        assert_null(strstr(out, "platform"));
        policy_free(p);
}

/* ---- verdicts on a hand-built log ---- */

static const struct {
        uint32_t pcr, type;
        const char *digest;
} log_events[] = {
    /* index 1 */ {0, 0x00000008, "01"},
    /* 2 */ {4, 0x80000007, "a1"},
    /* 3 */ {4, 0x00000004, "a2"},
    /* 4 */ {7, 0x80000001, "71"},
    /* 5 */ {7, 0x80000001, "72"},
    /* 6 */ {7, 0x00000004, "a2"},
    /* 7 */ {4, EV_NO_ACTION, "00"},
    /* 8 */ {4, 0x80000003, "b1"},
    /* 9 */ {11, 0x0000000d, "c1"},
    /* 10 */ {11, 0x0000000d, "c2"},
    /* 11 */ {9, 0x12345678, "d1"},
};

static void build_log(struct eventlog *log, struct eventlog_event *events)
{
        *log = (struct eventlog){.events = events, .n_events = ELEMENTSOF(log_events)};
        for (size_t i = 0; i < ELEMENTSOF(log_events); i++) {
                unsigned b;
                sscanf(log_events[i].digest, "%2x", &b);
                events[i] = (struct eventlog_event){
                    .index = (long) i + 1, .pcr = log_events[i].pcr, .type = log_events[i].type};
                memset(events[i].sha256, (int) b, 32);
        }
}

struct verdict_row {
        const char *pcrs; /* the value of "pcrs" */
        enum reason reason;
        int pcr;
        long event;
        const char *event_type;
        const char *digest; /* two hex digits, repeated */
        const char *message;
};

#define ALLOW_4                                                                                    \
        "\"4\": [{\"type\": \"EV_EFI_ACTION\", \"sha256\": [\"@a1\"]}, {\"type\": "                \
        "\"EV_SEPARATOR\", "                                                                       \
        "\"sha256\": [\"@a2\"]}, {\"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\", \"sha256\": "    \
        "[\"@b1\"], \"required\": true}]"
#define ALLOW_7                                                                                    \
        "\"7\": [{\"type\": \"EV_EFI_VARIABLE_DRIVER_CONFIG\", \"sha256\": [\"@72\", \"@71\"]}, "  \
        "{\"type\": \"EV_SEPARATOR\", \"sha256\": [\"@a2\"]}]"

static const struct verdict_row verdict_rows[] = {
    {"{}", REASON_OK, -1, -1, "", "", ""},
    {"{" ALLOW_4 ", " ALLOW_7 "}", REASON_OK, -1, -1, "", "", ""},
    {"{\"15\": [], \"9\": [{\"type\": \"0x12345678\", \"sha256\": [\"@d1\"]}]}", REASON_OK, -1, -1,
     "", "", ""},
    /* the UKI's digest is not in the list */
    {"{\"4\": [{\"type\": \"EV_EFI_ACTION\", \"sha256\": [\"@a1\"]}, {\"type\": \"EV_SEPARATOR\", "
     "\"sha256\": [\"@a2\"]}, {\"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\", \"sha256\": "
     "[\"@b2\", \"@b3\"]}]}",
     REASON_EVENT_NOT_ALLOWED, 4, 8, "EV_EFI_BOOT_SERVICES_APPLICATION", "b1",
     "PCR 4 event 8 EV_EFI_BOOT_SERVICES_APPLICATION sha256 "
     "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1 is not allowed by the "
     "policy"},
    /* no rule for the separator's type, though its digest is allowed for another type */
    {"{\"4\": [{\"type\": \"EV_EFI_ACTION\", \"sha256\": [\"@a1\", \"@a2\"]}, {\"type\": "
     "\"EV_EFI_BOOT_SERVICES_APPLICATION\", \"sha256\": [\"@b1\"]}]}",
     REASON_EVENT_NOT_ALLOWED, 4, 3, "EV_SEPARATOR", "a2",
     "PCR 4 event 3 EV_SEPARATOR sha256 "
     "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2 is not allowed by the "
     "policy"},
    /* pinned empty */
    {"{\"11\": []}", REASON_EVENT_NOT_ALLOWED, 11, 9, "EV_IPL", "c1",
     "PCR 11 event 9 EV_IPL sha256 "
     "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1 "
     "is not allowed by the policy"},
    /* one of two EV_IPL digests allowed */
    {"{\"11\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@c1\", \"@c3\"]}]}", REASON_EVENT_NOT_ALLOWED,
     11, 10, "EV_IPL", "c2",
     "PCR 11 event 10 EV_IPL sha256 "
     "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2 is not allowed by the "
     "policy"},
    /* a type without a TCG name */
    {"{\"9\": [{\"type\": \"0x12345678\", \"sha256\": [\"@d2\"]}]}", REASON_EVENT_NOT_ALLOWED, 9,
     11, "0x12345678", "d1",
     "PCR 9 event 11 0x12345678 sha256 "
     "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1 is not allowed by the "
     "policy"},
    /* a required event that is absent */
    {"{" ALLOW_4 ", \"5\": [{\"type\": \"EV_EFI_GPT_EVENT\", \"sha256\": [\"@e1\"], \"required\": "
     "true}]}",
     REASON_EVENT_MISSING, 5, -1, "EV_EFI_GPT_EVENT", "e1",
     "PCR 5 has no EV_EFI_GPT_EVENT event with sha256 "
     "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1, which the policy "
     "requires"},
    /* present with another digest: still missing; the digest named is the smallest */
    {"{\"4\": [{\"type\": \"EV_EFI_ACTION\", \"sha256\": [\"@a1\"], \"required\": true}, "
     "{\"type\": \"EV_SEPARATOR\", \"sha256\": [\"@a2\"]}, {\"type\": "
     "\"EV_EFI_BOOT_SERVICES_APPLICATION\", \"sha256\": [\"@f1\", \"@b1\", \"@c1\"]}], \"7\": "
     "[{\"type\": \"EV_EFI_VARIABLE_DRIVER_CONFIG\", \"sha256\": [\"@72\", \"@71\"]}, {\"type\": "
     "\"EV_SEPARATOR\", \"sha256\": [\"@a2\"]}, {\"type\": \"EV_EFI_VARIABLE_AUTHORITY\", "
     "\"sha256\": [\"@99\", \"@98\", \"@97\"], \"required\": true}]}",
     REASON_EVENT_MISSING, 7, -1, "EV_EFI_VARIABLE_AUTHORITY", "97",
     "PCR 7 has no EV_EFI_VARIABLE_AUTHORITY event with sha256 "
     "9797979797979797979797979797979797979797979797979797979797979797 or one of the 2 others "
     "the policy requires"},
    /* not allowed comes first, even when something required is missing too */
    {"{\"5\": [{\"type\": \"EV_EFI_GPT_EVENT\", \"sha256\": [\"@e1\"], \"required\": true}], "
     "\"11\": []}",
     REASON_EVENT_NOT_ALLOWED, 11, 9, "EV_IPL", "c1",
     "PCR 11 event 9 EV_IPL sha256 "
     "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1 "
     "is not allowed by the policy"},
};

static void test_verdicts(void **state)
{
        struct eventlog_event events[ELEMENTSOF(log_events)];
        struct eventlog log;

        (void) state;
        build_log(&log, events);
        for (size_t i = 0; i < ELEMENTSOF(verdict_rows); i++) {
                const struct verdict_row *row = &verdict_rows[i];
                _cleanup_free_ char *tmpl = NULL, *json = NULL, *digest = NULL;
                struct policy *p = NULL;
                struct verdict v = {.reason = REASON_OK, .pcr = -1, .event = -1};
                char err[512];
                enum reason r;

                assert_true(asprintf(&tmpl, "{\"version\": 1, %s\"pcrs\": %s}",
                                     "\"allow\": [\"firmware-unjudged\", \"secure-boot-off\"], ",
                                     row->pcrs) > 0);
                json = expand(tmpl);
                if (policy_parse(json, strlen(json), &p, err, sizeof(err)) < 0)
                        print_message("row %zu: %s\n", i, err);
                assert_non_null(p);
                r = policy_check(p, &log, &v);
                digest = row->digest[0] ? digest_hex(row->digest) : strdup("");
                if (r != row->reason || !streq(v.message, row->message))
                        print_message("row %zu: got %s \"%s\"\n", i, reason_name(r), v.message);
                assert_int_equal(r, row->reason);
                if (r != REASON_OK) {
                        assert_int_equal(v.reason, row->reason);
                        assert_string_equal(v.message, row->message);
                }
                assert_int_equal(v.pcr, row->pcr);
                assert_int_equal(v.event, row->event);
                assert_string_equal(r == REASON_OK ? "" : v.event_type, row->event_type);
                assert_string_equal(r == REASON_OK ? "" : v.digest, digest);
                policy_free(p);
        }
}

/* ---- the cap (issue 11, reattest-after-cap) ---- */

/* A log of one PCR 4 event, and one event in pcr with the digest given as 64 hex digits. */
static enum reason check_with_event(const char *pcrs, unsigned pcr, const char *hex,
                                    struct verdict *v)
{
        struct eventlog_event events[2] = {
            {.index = 1, .pcr = 4, .type = 0x80000007},
            {.index = 2, .pcr = pcr, .type = 0x0000000d},
        };
        struct eventlog log = {.events = events, .n_events = 2};
        _cleanup_free_ char *tmpl = NULL, *json = NULL;
        struct policy *p = NULL;
        char err[512];
        enum reason r;

        memset(events[0].sha256, 0xa1, 32);
        for (size_t i = 0; i < 32; i++)
                sscanf(hex + 2 * i, "%2hhx", &events[1].sha256[i]);
        assert_true(asprintf(&tmpl, "{\"version\": 1, %s\"pcrs\": %s}",
                             "\"allow\": [\"firmware-unjudged\", \"secure-boot-off\"], ",
                             pcrs) > 0);
        json = expand(tmpl);
        if (policy_parse(json, strlen(json), &p, err, sizeof(err)) < 0)
                print_message("%s: %s\n", json, err);
        assert_non_null(p);
        *v = (struct verdict){.pcr = -1, .event = -1};
        r = policy_check(p, &log, v);
        policy_free(p);
        return r;
}

static void test_cap(void **state)
{
        static const char released[] =
            "4535f9333c9534173839301f087944969139338ba4b56d51c95363ff59b31f63";
        static const char failed[] =
            "36fb0af1431a0414340351283f56d3470d33d7d85e6a905a9c77d704d9df23e3";
        static const char allow_15[] = "{\"15\": [{\"type\": \"EV_IPL\", \"sha256\": [\"@e1\"]}]}";
        struct verdict v;
        uint8_t d[32];

        (void) state;
        SHA256((const uint8_t *) POLICY_CAP_RELEASED, strlen(POLICY_CAP_RELEASED), d);
        assert_string_equal(policy_cap_string(d), POLICY_CAP_RELEASED);
        SHA256((const uint8_t *) POLICY_CAP_FAILED, strlen(POLICY_CAP_FAILED), d);
        assert_string_equal(policy_cap_string(d), POLICY_CAP_FAILED);
        d[0] ^= 1;
        assert_null(policy_cap_string(d));

        /* The forged log: the cap event appended. Refused though the policy pins nothing. */
        assert_int_equal(check_with_event("{}", 15, released, &v), REASON_ALREADY_ATTESTED);
        assert_string_equal(v.message, "PCR 15 event 2 is the cap \"nodegate: token released\": "
                                       "the gate already ran in this boot");
        assert_int_equal(v.pcr, 15);
        assert_int_equal(v.event, 2);
        assert_string_equal(v.event_type, "EV_IPL");
        assert_string_equal(v.digest, released);
        /* the failure cap too, and in any PCR, pinned or not, whatever the policy allows */
        assert_int_equal(check_with_event("{}", 15, failed, &v), REASON_ALREADY_ATTESTED);
        assert_int_equal(check_with_event("{}", 3, released, &v), REASON_ALREADY_ATTESTED);
        assert_int_equal(v.pcr, 3);
        assert_int_equal(check_with_event(allow_15, 15, released, &v), REASON_ALREADY_ATTESTED);

        /* The cap PCR is pinned empty by default: any other event there is refused... */
        assert_int_equal(check_with_event("{}", 15,
                                          "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
                                          "e1e1e1e1e1e1e1e1",
                                          &v),
                         REASON_EVENT_NOT_ALLOWED);
        assert_int_equal(v.pcr, 15);
        /* ...unless the operator allows it (systemd 253+ measuring into PCR 15 first) */
        assert_int_equal(check_with_event(allow_15, 15,
                                          "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
                                          "e1e1e1e1e1e1e1e1",
                                          &v),
                         REASON_OK);
        /* an unpinned PCR other than the cap's stays unjudged */
        assert_int_equal(check_with_event("{}", 3,
                                          "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
                                          "e1e1e1e1e1e1e1e1",
                                          &v),
                         REASON_OK);
}

static void test_load(void **state)
{
        char path[256], err[256];
        struct policy *p = NULL;
        FILE *f;

        (void) state;
        snprintf(path, sizeof(path), "%s/load.json", tmpdir);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("{\"version\": 1, \"cap_pcr\": 7, \"allow\": [\"firmware-unjudged\"], \"pcrs\": "
              "{}}\n",
              f);
        fclose(f);
        assert_int_equal(policy_load(path, &p, err, sizeof(err)), 0);
        assert_int_equal(policy_cap_pcr(p), 7);
        policy_free(p);

        snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
        assert_int_equal(policy_load(path, &p, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "cannot open: No such file or directory");
        assert_int_equal(policy_load(tmpdir, &p, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "not a regular file");
}

/* ---- the CLI, on logs from mklog.py ---- */

static void mklog(const char *name, const char *args)
{
        char cmd[1024];

        snprintf(cmd, sizeof(cmd), "python3 " MKLOG " -o %s/%s.log --extensions %s/%s.json %s",
                 tmpdir, name, tmpdir, name, args);
        assert_int_equal(system(cmd), 0);
}

static char *tmp_path(const char *name)
{
        char *p;
        assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        return p;
}

/* Runs `policy ARGS…` (a NULL-terminated list) with stdout and stderr captured.
 * @return its exit status */
static int run_cliv(char **ret_out, char **ret_err, const char *const *args)
{
        _cleanup_free_ char *out_path = tmp_path("cli.out"), *err_path = tmp_path("cli.err");
        char *argv[16] = {strdup("policy")};
        int argc = 1, saved_out, saved_err, fo, fe, r;

        for (; args[argc - 1]; argc++) {
                assert_true(argc < 15);
                argv[argc] = strdup(args[argc - 1]);
        }

        fflush(stdout);
        fflush(stderr);
        saved_out = dup(1);
        saved_err = dup(2);
        fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(saved_out >= 0 && saved_err >= 0 && fo >= 0 && fe >= 0);
        dup2(fo, 1);
        dup2(fe, 2);
        r = policy_cli(argc, argv);
        fflush(stdout);
        fflush(stderr);
        dup2(saved_out, 1);
        dup2(saved_err, 2);
        close(saved_out);
        close(saved_err);
        close(fo);
        close(fe);
        for (int i = 0; i < argc; i++)
                free(argv[i]);

        *ret_out = test_read_file(out_path, NULL);
        *ret_err = test_read_file(err_path, NULL);
        return r;
}

#define run_cli(out, err, ...) run_cliv(out, err, (const char *const[]){__VA_ARGS__})

static struct policy *load_policy(const char *path)
{
        struct policy *p = NULL;
        char err[512];

        if (policy_load(path, &p, err, sizeof(err)) < 0)
                print_message("%s: %s\n", path, err);
        assert_non_null(p);
        return p;
}

static enum reason check_log(const struct policy *p, const char *name, struct verdict *v)
{
        _cleanup_free_ char *path = tmp_path(name);
        _cleanup_free_ uint8_t *buf = NULL;
        struct eventlog log;
        enum reason r;
        size_t size;
        FILE *f;

        f = fopen(path, "rb");
        assert_non_null(f);
        buf = malloc(1 << 20);
        size = fread(buf, 1, 1 << 20, f);
        fclose(f);
        assert_int_equal(eventlog_parse(buf, size, &log, v), 0);
        r = policy_check(p, &log, v);
        eventlog_done(&log);
        return r;
}

/* The index of the extension whose SHA-256 is SHA-256(bytes), from mklog's side output. */
static long find_extension(const char *name, const void *bytes, size_t n, unsigned *ret_pcr)
{
        _cleanup_free_ char *path = tmp_path(name), *text = test_read_file(path, NULL);
        json_object *root = json_tokener_parse(text), *ext;
        uint8_t d[32];
        char h[65];
        long index = -1;

        SHA256(bytes, n, d);
        for (int i = 0; i < 32; i++)
                sprintf(h + 2 * i, "%02x", d[i]);
        assert_true(json_object_object_get_ex(root, "extensions", &ext));
        for (size_t i = 0; i < json_object_array_length(ext) && index < 0; i++) {
                json_object *x = json_object_array_get_idx(ext, i), *f;
                json_object_object_get_ex(x, "sha256", &f);
                if (streq(json_object_get_string(f), h)) {
                        json_object_object_get_ex(x, "index", &f);
                        index = json_object_get_int(f);
                        json_object_object_get_ex(x, "pcr", &f);
                        *ret_pcr = (unsigned) json_object_get_int(f);
                }
        }
        json_object_put(root);
        assert_true(index > 0);
        return index;
}

static void test_cli_from_log_and_allow(void **state)
{
        static const char cmdline[] = "console=ttyS0 init=/bin/sh";
        _cleanup_free_ char *ref = tmp_path("ref.log"), *pol = tmp_path("policy.json"), *out = NULL,
                            *err = NULL, *before = NULL, *after = NULL;
        char cmdline_utf16[2 * sizeof(cmdline)] = {};
        struct policy *p;
        struct verdict v;
        unsigned pcr;
        long index;
        char h[65];
        FILE *f;

        (void) state;
        mklog("ref", "--secure-boot");
        mklog("changed", "--secure-boot --cmdline 'console=ttyS0 init=/bin/sh'");
        mklog("other-uki", "--secure-boot --uki other");

        assert_int_equal(run_cli(&out, &err, "from-log", ref, NULL), 0);
        assert_string_equal(err, "");
        f = fopen(pol, "w");
        fputs(out, f);
        fclose(f);
        chmod(pol, 0640);
        p = load_policy(pol);
        assert_int_equal(policy_quote_mask(p), 0xffu | 1u << 9 | 1u << 11 | 1u << 15);
        assert_int_equal(check_log(p, "ref.log", &v), REASON_OK);

        /* the changed command line: first refused in PCR 11 (the .cmdline section) */
        index = find_extension("changed.json", cmdline, strlen(cmdline), &pcr);
        assert_int_equal(pcr, 11);
        assert_int_equal(check_log(p, "changed.log", &v), REASON_EVENT_NOT_ALLOWED);
        assert_int_equal(v.pcr, 11);
        assert_int_equal(v.event, index);
        assert_string_equal(v.event_type, "EV_IPL");
        policy_free(p);

        /* allowed, it is refused next in PCR 9 (the kernel's stub measures it as UTF-16) */
        strcpy(h, v.digest);
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "allow", pol, "--pcr", "11", "--type", "EV_IPL",
                                 "--sha256", h, NULL),
                         0);
        assert_non_null(strstr(out, "allowed"));
        p = load_policy(pol);
        for (size_t i = 0; i < strlen(cmdline); i++)
                cmdline_utf16[2 * i] = cmdline[i];
        index = find_extension("changed.json", cmdline_utf16, 2 * strlen(cmdline) + 2, &pcr);
        assert_int_equal(pcr, 9);
        assert_int_equal(check_log(p, "changed.log", &v), REASON_EVENT_NOT_ALLOWED);
        assert_int_equal(v.pcr, 9);
        assert_int_equal(v.event, index);
        policy_free(p);

        /* allowed too, it passes; the mode of the file survived the rewrites */
        strcpy(h, v.digest);
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "allow", pol, "--pcr", "9", "--type", "0x0000000d",
                                 "--sha256", h, NULL),
                         0);
        p = load_policy(pol);
        assert_int_equal(check_log(p, "changed.log", &v), REASON_OK);
        assert_int_equal(check_log(p, "ref.log", &v), REASON_OK);
        policy_free(p);
        struct stat st;
        assert_int_equal(stat(pol, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);

        /* the UKI required: another UKI is refused at its PCR 4 event */
        index = find_extension("ref.json", "Authenticode of UKI nodegate-test", 33, &pcr);
        assert_int_equal(pcr, 4);
        {
                static const char uki[] = "Authenticode of UKI nodegate-test";
                uint8_t d[32];
                SHA256((const uint8_t *) uki, strlen(uki), d);
                for (int k = 0; k < 32; k++)
                        sprintf(h + 2 * k, "%02x", d[k]);
        }
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "allow", pol, "--pcr", "4", "--type",
                                 "EV_EFI_BOOT_SERVICES_APPLICATION", "--sha256", h, "--required",
                                 NULL),
                         0);
        assert_non_null(strstr(out, "allowed, required"));
        p = load_policy(pol);
        assert_int_equal(check_log(p, "ref.log", &v), REASON_OK);
        assert_int_equal(check_log(p, "other-uki.log", &v), REASON_EVENT_NOT_ALLOWED);
        assert_int_equal(v.pcr, 4);
        assert_string_equal(v.event_type, "EV_EFI_BOOT_SERVICES_APPLICATION");
        assert_int_equal(v.event, index);
        policy_free(p);

        /* once more: nothing changes, the file is not rewritten */
        before = test_read_file(pol, NULL);
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "allow", pol, "--pcr", "4", "--type", "0x80000003",
                                 "--sha256", h, "--required", NULL),
                         0);
        assert_non_null(strstr(out, "was already allowed and required"));
        after = test_read_file(pol, NULL);
        assert_string_equal(before, after);

        /* refused results leave the file alone */
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "allow", pol, "--pcr", "8", "--type", "EV_IPL",
                                 "--sha256", h, NULL),
                         1);
        assert_non_null(strstr(err, "the result would be refused: pcrs.8: PCR 8 is pinned but not "
                                    "in quote_pcrs"));
        free(after);
        after = test_read_file(pol, NULL);
        assert_string_equal(before, after);

        /* check and show */
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "check", pol, NULL), 0);
        assert_non_null(strstr(out, ": valid\n"));
        assert_non_null(strstr(out, "PCR 4 pinned: 3 event types, 3 digests; required: "
                                    "EV_EFI_BOOT_SERVICES_APPLICATION\n"));
        assert_non_null(strstr(out, "quoted, replayed, not judged: 0 1 3 5 6\n"));
        assert_non_null(strstr(out, "opt-ins: none (PCRs 2 and 7 judged, Secure Boot required)\n"));
        /* the cap PCR is always judged: pinned empty though the file did not list it */
        assert_non_null(strstr(out, "PCR 15 pinned: no extended event allowed\n"));
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "show", pol, NULL), 0);
        assert_string_equal(out, before);
}

/* Issue 11 §3: a Driver#### DXE driver (PCR 2) and Secure Boot off (PCR 7) against the default
 * policy, and what the opt-ins change. */
static void test_firmware(void **state)
{
        _cleanup_free_ char *ref = tmp_path("fw-ref.log"), *sboff = tmp_path("fw-sboff.log"),
                            *pol = tmp_path("fw-policy.json"), *out = NULL, *err = NULL;
        struct policy *p;
        struct verdict v;
        FILE *f;

        (void) state;
        mklog("fw-ref", "--secure-boot");
        mklog("fw-drv", "--secure-boot --extra-driver evil");
        mklog("fw-sboff", "");

        /* the default policy from a Secure Boot reference pins 2 and 7 */
        assert_int_equal(run_cli(&out, &err, "from-log", ref, NULL), 0);
        assert_null(strstr(out, "\"allow\""));
        f = fopen(pol, "w");
        fputs(out, f);
        fclose(f);
        p = load_policy(pol);
        assert_int_equal(policy_opt_ins(p), 0);
        assert_int_equal(check_log(p, "fw-ref.log", &v), REASON_OK);
        assert_int_equal(check_log(p, "fw-drv.log", &v), REASON_EVENT_NOT_ALLOWED);
        assert_int_equal(v.pcr, 2);
        assert_string_equal(v.event_type, "EV_EFI_BOOT_SERVICES_DRIVER");
        assert_int_equal(check_log(p, "fw-sboff.log", &v), REASON_EVENT_NOT_ALLOWED);
        assert_int_equal(v.pcr, 7);
        assert_string_equal(v.event_type, "EV_EFI_VARIABLE_DRIVER_CONFIG");
        policy_free(p);

        /* a reference without Secure Boot makes no policy unless the opt-in is written */
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "from-log", sboff, NULL), 1);
        assert_non_null(strstr(err, "the reference boot fails its own policy: secure-boot-off: PCR "
                                    "7 event"));
        assert_non_null(strstr(err, "(--allow secure-boot-off to accept such boots)"));
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "from-log", "--allow", "secure-boot-off", sboff, NULL),
                         0);
        assert_non_null(strstr(out, "\"allow\": [\"secure-boot-off\"],\n"));
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "from-log", "--allow", "secure-boot-on", sboff, NULL),
                         2);

        /* firmware unjudged but Secure Boot still wanted: the SecureBoot event is read anyway */
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "from-log", "--pin", "4,9,11", "--allow",
                                 "firmware-unjudged", ref, NULL),
                         0);
        f = fopen(pol, "w");
        fputs(out, f);
        fclose(f);
        p = load_policy(pol);
        assert_int_equal(check_log(p, "fw-drv.log", &v), REASON_OK); /* the opt-in's price */
        assert_int_equal(check_log(p, "fw-sboff.log", &v), REASON_SECURE_BOOT_OFF);
        assert_int_equal(v.pcr, 7);
        assert_non_null(strstr(v.message, "Secure Boot is off (SecureBoot is not 1)"));
        policy_free(p);
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "check", pol, NULL), 0);
        assert_non_null(strstr(out, "opt-ins: firmware-unjudged (PCR 2 drivers and PCR 7 Secure "
                                    "Boot state may go unjudged)\n"));
        assert_non_null(strstr(out, "quoted, replayed, not judged: 0 1 2 3 5 6 7\n"));
}

static void test_cli_from_log_options(void **state)
{
        _cleanup_free_ char *log = tmp_path("opt.log"), *out = NULL, *err = NULL;
        _cleanup_free_ char *bad = tmp_path("bad.log");
        struct policy *p = NULL;
        char e[256];
        FILE *f;

        (void) state;
        mklog("opt", "--sha1 --secure-boot");
        assert_int_equal(run_cli(&out, &err, "from-log", "--pin", "7,11", "--quote", "0,7,11,14",
                                 "--cap", "14", "--allow", "firmware-unjudged", log, NULL),
                         0);
        assert_int_equal(policy_parse(out, strlen(out), &p, e, sizeof(e)), 0);
        assert_int_equal(policy_quote_mask(p), 1u << 0 | 1u << 7 | 1u << 11 | 1u << 14);
        assert_int_equal(policy_cap_pcr(p), 14);
        assert_non_null(strstr(out, "\"EV_EFI_VARIABLE_AUTHORITY\""));
        assert_null(strstr(out, "\"4\""));
        /* the cap PCR pinned empty (issue 11) */
        assert_non_null(strstr(out, "\"14\": []"));
        policy_free(p);

        /* a resettable cap PCR: root could undo the cap */
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "from-log", "--pin", "7,11", "--quote", "0,7,11,23",
                                 "--cap", "23", "--allow", "firmware-unjudged", log, NULL),
                         1);
        assert_non_null(strstr(err, "cap_pcr: PCR 23 is resettable"));

        /* a pinned PCR with no event: pinned empty, with a note */
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "from-log", "--pin", "15", "--allow",
                                 "firmware-unjudged", log, NULL),
                         0);
        assert_non_null(strstr(out, "\"15\": []"));
        assert_non_null(strstr(err, "has no event in PCR 15"));

        /* a pin the quote does not cover */
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "from-log", "--pin", "8", log, NULL), 1);
        assert_non_null(strstr(err, "pcrs.8: PCR 8 is pinned but not in quote_pcrs"));

        /* logs it cannot use */
        f = fopen(bad, "w");
        fputs("garbage", f);
        fclose(f);
        free(out);
        free(err);
        assert_int_equal(run_cli(&out, &err, "from-log", bad, NULL), 1);
        assert_non_null(strstr(err, "event 0 at offset 0: truncated first event header"));
        mklog("legacy", "--legacy");
        free(out);
        free(err);
        _cleanup_free_ char *legacy = tmp_path("legacy.log");
        assert_int_equal(run_cli(&out, &err, "from-log", legacy, NULL), 1);
        assert_non_null(strstr(err, "legacy SHA-1 event log"));
}

static void test_cli_usage(void **state)
{
        _cleanup_free_ char *pol = tmp_path("usage.json");
        static const char *const usage[][8] = {
            {NULL},
            {"frobnicate", NULL},
            {"from-log", NULL},
            {"from-log", "a", "b", NULL},
            {"from-log", "--pin", "4,4", "x", NULL},
            {"from-log", "--pin", "4,", "x", NULL},
            {"from-log", "--quote", "24", "x", NULL},
            {"from-log", "--cap", "4,5", "x", NULL},
            {"from-log", "--frob", "x", NULL},
            {"check", NULL},
            {"show", "a", "b", NULL},
            {"allow", "x", "--pcr", "4", "--type", "EV_IPL", NULL},
            {"allow", "x", "--pcr", "24", "--type", "EV_IPL", "--sha256", NULL},
        };
        char *out, *err;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(usage); i++) {
                int r = run_cliv(&out, &err, usage[i]);
                if (r != 2)
                        print_message("usage row %zu: %d %s\n", i, r, err);
                assert_int_equal(r, 2);
                assert_true(strlen(err) > 0);
                free(out);
                free(err);
        }

        static const char *const bad_allow[][2] = {
            {"--pcr", "x"},
            {"--type", "EV_FOO"},
            {"--type", "EV_NO_ACTION"},
            {"--sha256", "abcd"},
            {"--sha256", "g000000000000000000000000000000000000000000000000000000000000000"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_allow); i++) {
                const char *pcr = streq(bad_allow[i][0], "--pcr") ? bad_allow[i][1] : "4";
                const char *type = streq(bad_allow[i][0], "--type") ? bad_allow[i][1] : "EV_IPL";
                const char *hex =
                    streq(bad_allow[i][0], "--sha256")
                        ? bad_allow[i][1]
                        : "0000000000000000000000000000000000000000000000000000000000000000";
                assert_int_equal(run_cli(&out, &err, "allow", pol, "--pcr", pcr, "--type", type,
                                         "--sha256", hex, NULL),
                                 2);
                assert_non_null(strstr(err, bad_allow[i][0]));
                free(out);
                free(err);
        }

        /* --help everywhere, on stdout, status 0 */
        static const char *const helps[] = {"from-log", "check", "show", "allow"};
        for (size_t i = 0; i < ELEMENTSOF(helps); i++) {
                assert_int_equal(run_cli(&out, &err, helps[i], "--help", NULL), 0);
                assert_non_null(startswith(out, "Usage: nodegate-verifier policy "));
                assert_string_equal(err, "");
                free(out);
                free(err);
        }
        assert_int_equal(run_cli(&out, &err, "--help", NULL), 0);
        assert_non_null(strstr(out, "from-log LOG"));
        free(out);
        free(err);

        /* failures, not usage: status 1 */
        assert_int_equal(run_cli(&out, &err, "check", "/nonexistent/policy.json", NULL), 1);
        assert_non_null(strstr(err, "cannot open: No such file or directory"));
        free(out);
        free(err);
        FILE *f = fopen(pol, "w");
        fputs("{\"version\": 1, \"pcrs\": {\"4\": [{\"type\": \"EV_IPL\"}]}}", f);
        fclose(f);
        assert_int_equal(run_cli(&out, &err, "check", pol, NULL), 1);
        assert_non_null(strstr(err, "pcrs.4[0]: missing key \"sha256\""));
        free(out);
        free(err);
        assert_int_equal(
            run_cli(&out, &err, "allow", pol, "--pcr", "4", "--type", "EV_IPL", "--sha256",
                    "0000000000000000000000000000000000000000000000000000000000000000", NULL),
            1);
        assert_non_null(strstr(err, "pcrs.4[0]: missing key \"sha256\""));
        free(out);
        free(err);
}

/* parse + replay + policy_check of a ~60-event log, the verifier's per-attestation work on the
 * log; the figure is printed, and bounded loosely (sanitizers make it several times slower). */
static void test_timing(void **state)
{
        _cleanup_free_ char *path = tmp_path("timing.log"), *out = NULL, *err = NULL;
        _cleanup_free_ uint8_t *buf = malloc(1 << 16);
        struct policy *p = NULL;
        struct eventlog log;
        struct timespec t0, t1;
        struct verdict v;
        size_t n, events;
        char e[256];
        FILE *f;
        int iterations = 2000;

        (void) state;
        mklog("timing", "--boot-entries 26");
        assert_int_equal(run_cli(&out, &err, "from-log", "--pin", "1,2,4,7,9,11", "--allow",
                                 "secure-boot-off", path, NULL),
                         0);
        assert_int_equal(policy_parse(out, strlen(out), &p, e, sizeof(e)), 0);
        f = fopen(path, "rb");
        n = fread(buf, 1, 1 << 16, f);
        fclose(f);

        assert_int_equal(eventlog_parse(buf, n, &log, &v), 0);
        events = log.n_events;
        eventlog_done(&log);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < iterations; i++) {
                assert_int_equal(eventlog_parse(buf, n, &log, &v), 0);
                assert_int_equal(policy_check(p, &log, &v), REASON_OK);
                eventlog_done(&log);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double us =
            ((double) (t1.tv_sec - t0.tv_sec) * 1e6 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e3) /
            iterations;
        print_message("parse + replay + policy_check, %zu events (%zu bytes): %.1f us\n", events, n,
                      us);
        assert_true(events >= 58 && events <= 62);
        assert_true(us < 2000);
        policy_free(p);
}

static int setup(void **state)
{
        (void) state;
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
        (void) state;
        return test_remove_tree(tmpdir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bad_policies),
            cmocka_unit_test(test_bad_policies_raw),
            cmocka_unit_test(test_defaults_and_canonical),
            cmocka_unit_test(test_platform_canonical),
            cmocka_unit_test(test_verdicts),
            cmocka_unit_test(test_cap),
            cmocka_unit_test(test_load),
            cmocka_unit_test(test_cli_from_log_and_allow),
            cmocka_unit_test(test_cli_from_log_options),
            cmocka_unit_test(test_firmware),
            cmocka_unit_test(test_cli_usage),
            cmocka_unit_test(test_timing),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
