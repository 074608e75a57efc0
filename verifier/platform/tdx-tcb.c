/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A TDX quote's TCB status from Intel's PCS collateral (tdx-quote.h): Intel's algorithm as
 * go-tdx-guest's verify.go implements it and tests/tools/cvm-reference.py (tdx_tcb_status)
 * mirrors: FMSPC, PCE-ID, the 16 SGX component SVNs and the PCESVN from the PCK certificate,
 * the TCB info's window and identity of the platform, the first TCB level the platform reaches,
 * the TDX module identity, the QE identity. The collateral is authentic by then
 * (tdx-collateral.c); which statuses are accepted is the policy's (platform-policy.c). */
#include "platform/tdx-quote.h"

#include "common/json-util.h"
#include "common/openssl-util.h"
#include "common/util-verifier.h"

#include <openssl/err.h>
#include <string.h>
#include <time.h>

/* The SGX extension OID prefix 1.2.840.113741.1.13.1, DER content bytes. */
static const uint8_t sgx_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

/* The value (TLV content, short form) after the DER OID sgx_oid || suffix in der. */
static const uint8_t *grab(const uint8_t *der, size_t n, const uint8_t *suffix, size_t suffix_len,
                           size_t *ret_len)
{
        uint8_t oid[16];
        size_t oid_len = 2 + sizeof(sgx_oid) + suffix_len;

        oid[0] = 0x06;
        oid[1] = (uint8_t) (sizeof(sgx_oid) + suffix_len);
        memcpy(oid + 2, sgx_oid, sizeof(sgx_oid));
        memcpy(oid + 2 + sizeof(sgx_oid), suffix, suffix_len);
        for (size_t i = 0; i + oid_len + 2 <= n; i++) {
                size_t j = i + oid_len;

                if (memcmp(der + i, oid, oid_len) != 0 || der[j + 1] >= 0x80 ||
                    j + 2 + der[j + 1] > n)
                        continue;
                *ret_len = der[j + 1];
                return der + j + 2;
        }
        return NULL;
}

static int64_t be_int(const uint8_t *p, size_t n)
{
        int64_t v = 0;

        if (n == 0 || n > 4)
                return -1;
        for (size_t i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

/* A hex string member of o, of exactly n bytes (either case). */
static bool get_hex(json_object *o, const char *key, uint8_t *out, size_t n)
{
        json_object *m;
        const char *s;

        if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_string))
                return false;
        s = json_object_get_string(m);
        if (strlen(s) != 2 * n)
                return false;
        for (size_t i = 0; i < n; i++) {
                int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

                if (hi < 0 || lo < 0)
                        return false;
                out[i] = (uint8_t) (hi << 4 | lo);
        }
        return true;
}

static const char *get_str(json_object *o, const char *key)
{
        json_object *m;

        if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_string))
                return NULL;
        return json_object_get_string(m);
}

static int64_t get_int(json_object *o, const char *key)
{
        json_object *m;

        if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_int))
                return -1;
        return json_object_get_int64(m);
}

static json_object *get_array(json_object *o, const char *key)
{
        json_object *m;

        if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_array))
                return NULL;
        return m;
}

/* "2023-06-08T07:24:59Z" as Unix seconds, or -1. */
static int64_t iso_time(const char *s)
{
        struct tm tm = {};
        const char *end;

        if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
                return -1;
        return (int64_t) timegm(&tm);
}

static bool window(json_object *o, int64_t t)
{
        int64_t from = iso_time(get_str(o, "issueDate")), to = iso_time(get_str(o, "nextUpdate"));

        return from >= 0 && to >= 0 && from <= t && t <= to;
}

/* The SVNs of a level's component list (up to 16), or -1. */
static int components(json_object *level_tcb, const char *key, int64_t svn[16])
{
        json_object *a = get_array(level_tcb, key);
        size_t n = a ? json_object_array_length(a) : 0;

        if (!a || n > 16)
                return -1;
        for (size_t i = 0; i < n; i++)
                if ((svn[i] = get_int(json_object_array_get_idx(a, i), "svn")) < 0)
                        return -1;
        return (int) n;
}

bool tdx_pck_fmspc(X509 *pck, uint8_t ret[6])
{
        static const uint8_t fmspc_sfx[] = {0x04};
        _cleanup_(OPENSSL_freep) uint8_t *der = NULL;
        int der_len = i2d_X509(pck, &der);
        const uint8_t *p;
        size_t len;

        ERR_clear_error();
        if (der_len <= 0 || !(p = grab(der, (size_t) der_len, fmspc_sfx, 1, &len)) || len != 6)
                return false;
        memcpy(ret, p, 6);
        return true;
}

enum reason tdx_tcb_evaluate(const struct tdx_quote *q, X509 *pck, json_object *ti, json_object *qi,
                             int64_t t, struct tdx_tcb_result *ret, struct verdict *v)
{
        static const uint8_t fmspc_sfx[] = {0x04}, pceid_sfx[] = {0x03},
                             pcesvn_sfx[] = {0x02, 0x11};
        _cleanup_(OPENSSL_freep) uint8_t *der = NULL;
        json_object *mod, *levels, *level = NULL, *ids, *qlevels;
        uint8_t fmspc[6], pceid[2], want[48], mask[16], attrs[16], got[16];
        const uint8_t *p;
        const uint8_t *svn = q->td.tee_tcb_svn, *qe = q->qe_report;
        int64_t comp[16], pcesvn;
        size_t len;
        int der_len = i2d_X509(pck, &der);
        const char *status;

        *ret = (struct tdx_tcb_result){};
        ERR_clear_error();
        /* The PCK certificate's SGX extensions. */
        if (der_len <= 0 || !(p = grab(der, (size_t) der_len, fmspc_sfx, 1, &len)) || len != 6)
                return verdict_set(v, REASON_TDX_PCK_EXTENSION_MISSING,
                                   "the PCK certificate has no FMSPC");
        memcpy(fmspc, p, 6);
        if (!(p = grab(der, (size_t) der_len, pceid_sfx, 1, &len)) || len != 2)
                return verdict_set(v, REASON_TDX_PCK_EXTENSION_MISSING,
                                   "the PCK certificate has no PCE-ID");
        memcpy(pceid, p, 2);
        for (uint8_t i = 1; i <= 16; i++) {
                uint8_t sfx[2] = {0x02, i};

                if (!(p = grab(der, (size_t) der_len, sfx, 2, &len)) ||
                    (comp[i - 1] = be_int(p, len)) < 0)
                        return verdict_set(v, REASON_TDX_PCK_EXTENSION_MISSING,
                                           "the PCK certificate has no SGX TCB component %u", i);
        }
        if (!(p = grab(der, (size_t) der_len, pcesvn_sfx, 2, &len)) ||
            (pcesvn = be_int(p, len)) < 0)
                return verdict_set(v, REASON_TDX_PCK_EXTENSION_MISSING,
                                   "the PCK certificate has no PCESVN");

        /* The TCB info: TDX's, in its window, for this platform and TDX module. */
        if (!json_object_is_type(ti, json_type_object) ||
            !json_object_is_type(qi, json_type_object) || !streq(get_str(ti, "id") ?: "", "TDX") ||
            !streq(get_str(qi, "id") ?: "", "TD_QE"))
                return verdict_set(v, REASON_TDX_COLLATERAL_KIND,
                                   "the collateral is not a TDX TCB info and a TD_QE identity");
        if (!window(ti, t))
                return verdict_set(v, REASON_TDX_TCBINFO_EXPIRED,
                                   "the TCB info is not current at %lld", (long long) t);
        {
                uint8_t ti_fmspc[6], ti_pceid[2];

                if (!get_hex(ti, "fmspc", ti_fmspc, 6) || !get_hex(ti, "pceId", ti_pceid, 2) ||
                    memcmp(ti_fmspc, fmspc, 6) != 0 || memcmp(ti_pceid, pceid, 2) != 0)
                        return verdict_set(v, REASON_TDX_TCBINFO_FMSPC_MISMATCH,
                                           "the TCB info is for another platform (FMSPC, PCE-ID)");
        }
        if (!json_object_object_get_ex(ti, "tdxModule", &mod) ||
            !get_hex(mod, "mrsigner", want, 48) || memcmp(want, q->mrsignerseam, 48) != 0)
                return verdict_set(v, REASON_TDX_MODULE_MRSIGNER_MISMATCH,
                                   "MRSIGNERSEAM is not the TCB info's TDX module signer");
        if (!get_hex(mod, "attributesMask", mask, 8) || !get_hex(mod, "attributes", attrs, 8))
                return verdict_set(v, REASON_TDX_MODULE_ATTRIBUTES_MISMATCH,
                                   "the TCB info's TDX module attributes are unreadable");
        for (int i = 0; i < 8; i++)
                if ((mask[i] & q->seam_attributes[i]) != attrs[i])
                        return verdict_set(v, REASON_TDX_MODULE_ATTRIBUTES_MISMATCH,
                                           "SEAM_ATTRIBUTES are not the TDX module's");

        /* The first level the platform reaches: SGX components and PCESVN from the PCK
         * certificate, TDX components from TEE_TCB_SVN (from index 2 when byte 1, the TDX
         * module's major version, is set: bytes 0-1 are then the module's). */
        levels = get_array(ti, "tcbLevels");
        for (size_t i = 0; levels && i < json_object_array_length(levels) && !level; i++) {
                json_object *lv = json_object_array_get_idx(levels, i), *tcb;
                int64_t sgx[16], tdx[16];
                int n_sgx, n_tdx;
                bool ok;

                if (!json_object_object_get_ex(lv, "tcb", &tcb) ||
                    (n_sgx = components(tcb, "sgxtcbcomponents", sgx)) < 0 ||
                    (n_tdx = components(tcb, "tdxtcbcomponents", tdx)) != 16)
                        continue;
                ok = pcesvn >= get_int(tcb, "pcesvn") && get_int(tcb, "pcesvn") >= 0;
                for (int k = 0; ok && k < n_sgx; k++)
                        ok = comp[k] >= sgx[k];
                for (int k = svn[1] > 0 ? 2 : 0; ok && k < 16; k++)
                        ok = svn[k] >= tdx[k];
                if (ok)
                        level = lv;
        }
        if (!level)
                return verdict_set(v, REASON_TDX_TCB_LEVEL_UNSUPPORTED,
                                   "no TCB level of the TCB info is reached by this platform");
        status = get_str(level, "tcbStatus") ?: "";
        snprintf(ret->platform_status, sizeof(ret->platform_status), "%s", status);
        if (svn[1] > 0) {
                char id[8];
                json_object *mid = NULL, *ml;

                snprintf(id, sizeof(id), "TDX_%02x", svn[1]);
                ids = get_array(ti, "tdxModuleIdentities");
                for (size_t i = 0; ids && i < json_object_array_length(ids) && !mid; i++)
                        if (streq(get_str(json_object_array_get_idx(ids, i), "id") ?: "", id))
                                mid = json_object_array_get_idx(ids, i);
                if (!mid)
                        return verdict_set(v, REASON_TDX_MODULE_IDENTITY_MISSING,
                                           "the TCB info has no TDX module identity %s", id);
                status = NULL;
                ml = get_array(mid, "tcbLevels");
                for (size_t i = 0; ml && i < json_object_array_length(ml) && !status; i++) {
                        json_object *lv = json_object_array_get_idx(ml, i), *tcb;

                        if (json_object_object_get_ex(lv, "tcb", &tcb) &&
                            get_int(tcb, "isvsvn") >= 0 && svn[0] >= get_int(tcb, "isvsvn"))
                                status = get_str(lv, "tcbStatus") ?: "";
                }
                if (!status)
                        return verdict_set(v, REASON_TDX_MODULE_TCB_UNSUPPORTED,
                                           "the TDX module's SVN reaches no level of %s", id);
        }
        snprintf(ret->tcb_status, sizeof(ret->tcb_status), "%s", status);

        /* The quoting enclave against its identity. */
        if (!window(qi, t))
                return verdict_set(v, REASON_TDX_QE_IDENTITY_EXPIRED,
                                   "the QE identity is not current at %lld", (long long) t);
        {
                uint8_t ms[4], msm[4], signer[32];
                uint32_t misc = (uint32_t) qe[16] | (uint32_t) qe[17] << 8 |
                                (uint32_t) qe[18] << 16 | (uint32_t) qe[19] << 24;
                uint32_t want_misc, misc_mask;
                uint16_t prodid = (uint16_t) (qe[256] | qe[257] << 8);

                if (!get_hex(qi, "miscselect", ms, 4) || !get_hex(qi, "miscselectMask", msm, 4))
                        return verdict_set(v, REASON_TDX_QE_IDENTITY_MISMATCH, "miscselect");
                want_misc = (uint32_t) ms[0] | (uint32_t) ms[1] << 8 | (uint32_t) ms[2] << 16 |
                            (uint32_t) ms[3] << 24;
                misc_mask = (uint32_t) msm[0] | (uint32_t) msm[1] << 8 | (uint32_t) msm[2] << 16 |
                            (uint32_t) msm[3] << 24;
                if ((misc & misc_mask) != want_misc)
                        return verdict_set(v, REASON_TDX_QE_IDENTITY_MISMATCH,
                                           "the QE's MISCSELECT is not the identity's");
                if (!get_hex(qi, "attributesMask", mask, 16) ||
                    !get_hex(qi, "attributes", attrs, 16))
                        return verdict_set(v, REASON_TDX_QE_IDENTITY_MISMATCH, "attributes");
                for (int i = 0; i < 16; i++)
                        got[i] = mask[i] & qe[48 + i];
                if (memcmp(got, attrs, 16) != 0)
                        return verdict_set(v, REASON_TDX_QE_IDENTITY_MISMATCH,
                                           "the QE's ATTRIBUTES are not the identity's");
                if (!get_hex(qi, "mrsigner", signer, 32) || memcmp(signer, qe + 128, 32) != 0 ||
                    get_int(qi, "isvprodid") != prodid)
                        return verdict_set(v, REASON_TDX_QE_IDENTITY_MISMATCH,
                                           "the QE's MRSIGNER or ISVPRODID is not the identity's");
        }
        status = NULL;
        qlevels = get_array(qi, "tcbLevels");
        for (size_t i = 0; qlevels && i < json_object_array_length(qlevels) && !status; i++) {
                json_object *lv = json_object_array_get_idx(qlevels, i), *tcb;
                int64_t isvsvn = (int64_t) (qe[258] | qe[259] << 8);

                if (json_object_object_get_ex(lv, "tcb", &tcb) && get_int(tcb, "isvsvn") >= 0 &&
                    get_int(tcb, "isvsvn") <= isvsvn)
                        status = get_str(lv, "tcbStatus") ?: "";
        }
        if (!status)
                return verdict_set(v, REASON_TDX_QE_TCB_UNSUPPORTED,
                                   "the QE's ISVSVN reaches no level of its identity");
        snprintf(ret->qe_status, sizeof(ret->qe_status), "%s", status);
        if (!ret->platform_status[0] || !ret->tcb_status[0] || !ret->qe_status[0])
                return verdict_set(v, REASON_TDX_COLLATERAL_KIND,
                                   "a TCB level the platform reaches has no tcbStatus");
        return REASON_OK;
}
