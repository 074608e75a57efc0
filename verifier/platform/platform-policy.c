/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy file's "platform" section (docs/PROTOCOL.md, "The platform policy"): parsed
 * strictly, unknown keys refused, and written back for `policy show` and `from-evidence`. */
#include "platform/platform.h"

#include "common/json-util.h"
#include "common/util-verifier.h"

#include <string.h>

static const char *const product_keys[SNP_PRODUCT_UNKNOWN] = {
    [SNP_PRODUCT_MILAN] = "Milan",
    [SNP_PRODUCT_GENOA] = "Genoa",
    [SNP_PRODUCT_TURIN] = "Turin",
};

void platform_policy_default(struct platform_policy *p)
{
        *p = (struct platform_policy){
            .require = PLATFORM_REQUIRE_NONE,
            .tpm_trust = PLATFORM_TPM_CLOUD_CA,
            .tdx_tcb_statuses = 1U << TDX_TCB_UP_TO_DATE,
        };
}

/* Intel PCS's TCB statuses (TCB info v3, QE identity v2). "Revoked" is never acceptable. */
static const char *const tdx_tcb_status_names[] = {
    [TDX_TCB_UP_TO_DATE] = "UpToDate",
    [TDX_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [TDX_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [TDX_TCB_OUT_OF_DATE] = "OutOfDate",
    [TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
};

static int tdx_tcb_status_from_name(const char *s)
{
        for (size_t i = 0; i < sizeof(tdx_tcb_status_names) / sizeof(*tdx_tcb_status_names); i++)
                if (streq(s, tdx_tcb_status_names[i]))
                        return (int) i;
        return -1;
}

enum reason tdx_tcb_status_check(const struct platform_policy *pol, const char *tcb_status,
                                 const char *qe_status, struct verdict *v)
{
        int t = tdx_tcb_status_from_name(tcb_status), q = tdx_tcb_status_from_name(qe_status);

        if (t < 0 || !(pol->tdx_tcb_statuses & (1U << t)))
                return verdict_set(v, REASON_TDX_TCB_STATUS,
                                   "the platform's TCB status is %s, which the policy does not "
                                   "accept (tdx.tcb_status)",
                                   tcb_status);
        if (q < 0 || !(pol->tdx_tcb_statuses & (1U << q)))
                return verdict_set(v, REASON_TDX_QE_TCB_STATUS,
                                   "the quoting enclave's TCB status is %s, which the policy does "
                                   "not accept (tdx.tcb_status)",
                                   qe_status);
        return REASON_OK;
}

/* "tcb_status": "unchecked", or a non-empty list of the statuses above. */
static int get_tcb_statuses(json_object *o, struct platform_policy *p, char *err, size_t errlen)
{
        json_object *m;
        size_t n;

        if (!json_object_object_get_ex(o, "tcb_status", &m))
                return 0;
        if (json_object_is_type(m, json_type_string) &&
            streq(json_object_get_string(m), "unchecked")) {
                p->tdx_tcb_unchecked = true;
                p->tdx_tcb_statuses = 0;
                return 0;
        }
        if (!json_object_is_type(m, json_type_array) || (n = json_object_array_length(m)) == 0)
                return set_error(err, errlen, -EINVAL,
                                 "platform.tdx: \"tcb_status\" must be \"unchecked\" or a "
                                 "non-empty list of TCB statuses");
        p->tdx_tcb_statuses = 0;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(m, i);
                int k = json_object_is_type(e, json_type_string)
                            ? tdx_tcb_status_from_name(json_object_get_string(e))
                            : -1;

                if (k < 0)
                        return set_error(err, errlen, -EINVAL,
                                         "platform.tdx.tcb_status: \"%s\" is not one of "
                                         "UpToDate, SWHardeningNeeded, ConfigurationNeeded, "
                                         "ConfigurationAndSWHardeningNeeded, OutOfDate, "
                                         "OutOfDateConfigurationNeeded",
                                         json_object_get_string(e));
                p->tdx_tcb_statuses |= 1U << k;
        }
        return 0;
}

const char *platform_kind_name(enum platform_kind k)
{
        switch (k) {
        case PLATFORM_KIND_AZURE_SNP_HCL:
                return "azure-snp-hcl";
        case PLATFORM_KIND_TDX_QUOTE:
                return "tdx-quote";
        case PLATFORM_KIND_AZURE_TDX_HCL:
                return "azure-tdx-hcl";
        default:
                return "snp-report";
        }
}

int platform_kind_from_name(const char *s, enum platform_kind *ret)
{
        if (streq(s, "snp-report"))
                *ret = PLATFORM_KIND_SNP_REPORT;
        else if (streq(s, "azure-snp-hcl") || streq(s, "az-snp-hcl"))
                *ret = PLATFORM_KIND_AZURE_SNP_HCL;
        else if (streq(s, "tdx-quote"))
                *ret = PLATFORM_KIND_TDX_QUOTE;
        else if (streq(s, "azure-tdx-hcl") || streq(s, "az-tdx-hcl"))
                *ret = PLATFORM_KIND_AZURE_TDX_HCL;
        else
                return -EINVAL;
        return 0;
}

static bool only_keys(json_object *o, const char *const *allowed, const char *where, char *err,
                      size_t errlen)
{
        json_object_object_foreach(o, key, val)
        {
                bool known = false;

                (void) val;
                for (const char *const *a = allowed; *a; a++)
                        known = known || streq(key, *a);
                if (!known) {
                        set_error(err, errlen, -EINVAL, "%s: unknown key \"%.40s\"", where, key);
                        return false;
                }
        }
        return true;
}

static int get_uint(json_object *o, const char *key, uint32_t max, uint32_t *ret, char *err,
                    size_t errlen)
{
        json_object *m;
        int64_t n;

        if (!json_object_object_get_ex(o, key, &m))
                return 0;
        if (!json_object_is_type(m, json_type_int) || (n = json_object_get_int64(m)) < 0 ||
            (uint64_t) n > max)
                return set_error(err, errlen, -EINVAL,
                                 "platform: \"%s\" must be an integer from 0 to %u", key, max);
        *ret = (uint32_t) n;
        return 0;
}

static int get_bool(json_object *o, const char *key, bool *ret, char *err, size_t errlen)
{
        json_object *m;

        if (!json_object_object_get_ex(o, key, &m))
                return 0;
        if (!json_object_is_type(m, json_type_boolean))
                return set_error(err, errlen, -EINVAL, "platform: \"%s\" must be true or false",
                                 key);
        *ret = json_object_get_boolean(m);
        return 0;
}

static int get_digests(json_object *o, const char *key, uint8_t (*list)[48], size_t *n, char *err,
                       size_t errlen)
{
        json_object *m;

        if (!json_object_object_get_ex(o, key, &m))
                return 0;
        if (!json_object_is_type(m, json_type_array) ||
            json_object_array_length(m) > PLATFORM_DIGESTS_MAX)
                return set_error(err, errlen, -EINVAL,
                                 "platform: \"%s\" must be a list of at most %d digests", key,
                                 PLATFORM_DIGESTS_MAX);
        for (size_t i = 0; i < json_object_array_length(m); i++) {
                json_object *e = json_object_array_get_idx(m, i);

                if (!json_object_is_type(e, json_type_string) ||
                    unhex_lower(json_object_get_string(e), (size_t) json_object_get_string_len(e),
                                list[*n], 48) < 0)
                        return set_error(err, errlen, -EINVAL,
                                         "platform: \"%s\"[%zu] is not 96 lowercase hex digits",
                                         key, i);
                (*n)++;
        }
        return 0;
}

static int get_min_tcb(json_object *o, const char *key, struct platform_min_tcb *ret, char *err,
                       size_t errlen)
{
        static const char *const spl_keys[] = {"fmc", "bl", "tee", "snp", "ucode", NULL};
        json_object *m;

        if (!json_object_object_get_ex(o, key, &m))
                return 0;
        if (!json_object_is_type(m, json_type_object))
                return set_error(err, errlen, -EINVAL, "platform: \"%s\" must be an object", key);
        json_object_object_foreach(m, product, spls)
        {
                enum snp_product p = SNP_PRODUCT_UNKNOWN;
                uint32_t val[5] = {};
                char where[64];

                for (int i = SNP_PRODUCT_MILAN; i < SNP_PRODUCT_UNKNOWN; i++)
                        if (streq(product, product_keys[i]))
                                p = (enum snp_product) i;
                if (p == SNP_PRODUCT_UNKNOWN || !json_object_is_type(spls, json_type_object))
                        return set_error(err, errlen, -EINVAL,
                                         "platform: \"%s\": \"%.20s\" is not Milan, Genoa or "
                                         "Turin with an object of SPLs",
                                         key, product);
                snprintf(where, sizeof(where), "platform: %s.%s", key, product);
                if (!only_keys(spls, spl_keys, where, err, errlen))
                        return -EINVAL;
                if (p != SNP_PRODUCT_TURIN && json_object_object_get_ex(spls, "fmc", NULL))
                        return set_error(err, errlen, -EINVAL,
                                         "platform: \"%s\": fmc is a Turin SPL only", key);
                for (int i = 0; i < 5; i++)
                        if (get_uint(spls, spl_keys[i], 255, &val[i], err, errlen) < 0)
                                return -EINVAL;
                ret[p].set = true;
                ret[p].tcb = (struct snp_tcb){.fmc = (uint8_t) val[0],
                                              .bl = (uint8_t) val[1],
                                              .tee = (uint8_t) val[2],
                                              .snp = (uint8_t) val[3],
                                              .ucode = (uint8_t) val[4],
                                              .has_fmc = p == SNP_PRODUCT_TURIN};
        }
        return 0;
}

int platform_policy_parse(json_object *section, struct platform_policy *ret, char *err,
                          size_t errlen)
{
        static const char *const top_keys[] = {"require", "tpm_trust", "admit_unenrolled_ek",
                                               "snp",     "tdx",       NULL};
        static const char *const tdx_keys[] = {"mrtds", "rtmr0",       "rtmr1",      "rtmr2",
                                               "rtmr3", "allow_debug", "tcb_status", NULL};
        static const char *const snp_keys[] = {"measurements",       "allow_debug",
                                               "allow_migrate_ma",   "vmpl",
                                               "min_reported_tcb",   "min_launch_tcb",
                                               "min_guest_svn",      "id_key_digests",
                                               "author_key_digests", NULL};
        struct platform_policy p;
        json_object *m, *snp, *tdx;

        platform_policy_default(&p);
        if (!json_object_is_type(section, json_type_object))
                return set_error(err, errlen, -EINVAL, "platform: must be an object");
        if (!only_keys(section, top_keys, "platform", err, errlen))
                return -EINVAL;
        if (json_object_object_get_ex(section, "require", &m)) {
                const char *s =
                    json_object_is_type(m, json_type_string) ? json_object_get_string(m) : "";

                if (streq(s, "none"))
                        p.require = PLATFORM_REQUIRE_NONE;
                else if (streq(s, "snp"))
                        p.require = PLATFORM_REQUIRE_SNP;
                else if (streq(s, "azure-snp"))
                        p.require = PLATFORM_REQUIRE_AZURE_SNP;
                else if (streq(s, "tdx"))
                        p.require = PLATFORM_REQUIRE_TDX;
                else if (streq(s, "azure-tdx"))
                        p.require = PLATFORM_REQUIRE_AZURE_TDX;
                else
                        return set_error(err, errlen, -EINVAL,
                                         "platform: \"require\" must be \"azure-snp\", \"snp\", "
                                         "\"azure-tdx\", \"tdx\" or \"none\"");
        }
        if (json_object_object_get_ex(section, "tpm_trust", &m)) {
                const char *s =
                    json_object_is_type(m, json_type_string) ? json_object_get_string(m) : "";

                if (streq(s, "cloud-ca"))
                        p.tpm_trust = PLATFORM_TPM_CLOUD_CA;
                else if (streq(s, "tee"))
                        p.tpm_trust = PLATFORM_TPM_TEE;
                else if (streq(s, "none"))
                        p.tpm_trust = PLATFORM_TPM_NONE;
                else
                        return set_error(err, errlen, -EINVAL,
                                         "platform: \"tpm_trust\" must be \"tee\", \"cloud-ca\" "
                                         "or \"none\"");
        }
        if (get_bool(section, "admit_unenrolled_ek", &p.admit_unenrolled_ek, err, errlen) < 0)
                return -EINVAL;
        if (json_object_object_get_ex(section, "snp", &snp)) {
                if (!json_object_is_type(snp, json_type_object))
                        return set_error(err, errlen, -EINVAL,
                                         "platform: \"snp\" must be an object");
                if (!only_keys(snp, snp_keys, "platform.snp", err, errlen) ||
                    get_digests(snp, "measurements", p.measurements, &p.n_measurements, err,
                                errlen) < 0 ||
                    get_digests(snp, "id_key_digests", p.id_keys, &p.n_id_keys, err, errlen) < 0 ||
                    get_digests(snp, "author_key_digests", p.author_keys, &p.n_author_keys, err,
                                errlen) < 0 ||
                    get_bool(snp, "allow_debug", &p.allow_debug, err, errlen) < 0 ||
                    get_bool(snp, "allow_migrate_ma", &p.allow_migrate_ma, err, errlen) < 0 ||
                    get_uint(snp, "vmpl", 3, &p.vmpl, err, errlen) < 0 ||
                    get_uint(snp, "min_guest_svn", UINT32_MAX, &p.min_guest_svn, err, errlen) < 0 ||
                    get_min_tcb(snp, "min_reported_tcb", p.min_reported, err, errlen) < 0 ||
                    get_min_tcb(snp, "min_launch_tcb", p.min_launch, err, errlen) < 0)
                        return -EINVAL;
        }
        if (json_object_object_get_ex(section, "tdx", &tdx)) {
                static const char *const rtmr_keys[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};

                if (!json_object_is_type(tdx, json_type_object))
                        return set_error(err, errlen, -EINVAL,
                                         "platform: \"tdx\" must be an object");
                if (!only_keys(tdx, tdx_keys, "platform.tdx", err, errlen) ||
                    get_digests(tdx, "mrtds", p.mrtds, &p.n_mrtds, err, errlen) < 0 ||
                    get_bool(tdx, "allow_debug", &p.tdx_allow_debug, err, errlen) < 0 ||
                    get_tcb_statuses(tdx, &p, err, errlen) < 0)
                        return -EINVAL;
                for (int i = 0; i < 4; i++)
                        if (get_digests(tdx, rtmr_keys[i], p.rtmrs[i], &p.n_rtmrs[i], err, errlen) <
                            0)
                                return -EINVAL;
        }
        if (p.tpm_trust != PLATFORM_TPM_CLOUD_CA && p.require == PLATFORM_REQUIRE_NONE)
                return set_error(err, errlen, -EINVAL,
                                 "platform: tpm_trust \"%s\" needs \"require\" other than "
                                 "\"none\"",
                                 p.tpm_trust == PLATFORM_TPM_TEE ? "tee" : "none");
        /* A TPM admitted without enrolment needs evidence every time. */
        if (p.admit_unenrolled_ek && p.require == PLATFORM_REQUIRE_NONE)
                return set_error(err, errlen, -EINVAL,
                                 "platform: admit_unenrolled_ek needs \"require\" other than "
                                 "\"none\"");
        /* A report checked against nothing proves only that some SNP guest (TD) ran. */
        if ((p.require == PLATFORM_REQUIRE_SNP || p.require == PLATFORM_REQUIRE_AZURE_SNP) &&
            !p.n_measurements && !p.n_id_keys)
                return set_error(err, errlen, -EINVAL,
                                 "platform: a required platform must pin snp.measurements or "
                                 "snp.id_key_digests");
        if ((p.require == PLATFORM_REQUIRE_TDX || p.require == PLATFORM_REQUIRE_AZURE_TDX) &&
            !p.n_mrtds)
                return set_error(err, errlen, -EINVAL,
                                 "platform: a required TDX platform must pin tdx.mrtds");
        *ret = p;
        return 0;
}

static json_object *digests_json(const uint8_t (*list)[48], size_t n)
{
        json_object *a = json_object_new_array();
        char hex[97];

        for (size_t i = 0; a && i < n; i++) {
                hex_encode(list[i], 48, hex);
                json_object_array_add(a, json_object_new_string(hex));
        }
        return a;
}

static json_object *min_tcb_json(const struct platform_min_tcb *m)
{
        json_object *o = json_object_new_object();

        for (int i = SNP_PRODUCT_MILAN; o && i < SNP_PRODUCT_UNKNOWN; i++) {
                json_object *t;

                if (!m[i].set)
                        continue;
                t = json_object_new_object();
                if (m[i].tcb.has_fmc)
                        json_add(t, "fmc", json_object_new_int(m[i].tcb.fmc));
                json_add(t, "bl", json_object_new_int(m[i].tcb.bl));
                json_add(t, "tee", json_object_new_int(m[i].tcb.tee));
                json_add(t, "snp", json_object_new_int(m[i].tcb.snp));
                json_add(t, "ucode", json_object_new_int(m[i].tcb.ucode));
                json_add(o, product_keys[i], t);
        }
        return o;
}

json_object *platform_policy_to_json(const struct platform_policy *p)
{
        static const char *const require[] = {"none", "snp", "azure-snp", "tdx", "azure-tdx"};
        static const char *const trust[] = {"cloud-ca", "tee", "none"};
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *snp = json_object_new_object();
        int r = 0;

        if (!o || !snp) {
                json_object_put(snp);
                return NULL;
        }
        r |= json_add(o, "require", json_object_new_string(require[p->require]));
        r |= json_add(o, "tpm_trust", json_object_new_string(trust[p->tpm_trust]));
        r |= json_add(o, "admit_unenrolled_ek", json_object_new_boolean(p->admit_unenrolled_ek));
        r |= json_add(o, "snp", snp);
        if (r < 0)
                return NULL;
        r |= json_add(snp, "measurements", digests_json(p->measurements, p->n_measurements));
        r |= json_add(snp, "allow_debug", json_object_new_boolean(p->allow_debug));
        r |= json_add(snp, "allow_migrate_ma", json_object_new_boolean(p->allow_migrate_ma));
        r |= json_add(snp, "vmpl", json_object_new_int((int) p->vmpl));
        r |= json_add(snp, "min_reported_tcb", min_tcb_json(p->min_reported));
        r |= json_add(snp, "min_launch_tcb", min_tcb_json(p->min_launch));
        r |= json_add(snp, "min_guest_svn", json_object_new_int64(p->min_guest_svn));
        r |= json_add(snp, "id_key_digests", digests_json(p->id_keys, p->n_id_keys));
        r |= json_add(snp, "author_key_digests", digests_json(p->author_keys, p->n_author_keys));
        if (p->require == PLATFORM_REQUIRE_TDX || p->require == PLATFORM_REQUIRE_AZURE_TDX ||
            p->n_mrtds || p->n_rtmrs[0] || p->n_rtmrs[1] || p->n_rtmrs[2] || p->n_rtmrs[3] ||
            p->tdx_allow_debug || p->tdx_tcb_statuses != 1U << TDX_TCB_UP_TO_DATE) {
                static const char *const rtmr_keys[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
                json_object *tdx = json_object_new_object();

                r |= json_add(o, "tdx", tdx);
                if (r < 0)
                        return NULL;
                r |= json_add(tdx, "mrtds", digests_json(p->mrtds, p->n_mrtds));
                for (int i = 0; i < 4; i++)
                        r |= json_add(tdx, rtmr_keys[i], digests_json(p->rtmrs[i], p->n_rtmrs[i]));
                r |= json_add(tdx, "allow_debug", json_object_new_boolean(p->tdx_allow_debug));
                if (p->tdx_tcb_unchecked)
                        r |= json_add(tdx, "tcb_status", json_object_new_string("unchecked"));
                else {
                        json_object *a = json_object_new_array();

                        for (size_t i = 0;
                             a && i < sizeof(tdx_tcb_status_names) / sizeof(*tdx_tcb_status_names);
                             i++)
                                if (p->tdx_tcb_statuses & (1U << i))
                                        json_object_array_add(
                                            a, json_object_new_string(tdx_tcb_status_names[i]));
                        r |= json_add(tdx, "tcb_status", a);
                }
        }
        return r < 0 ? NULL : TAKE_PTR(o);
}
