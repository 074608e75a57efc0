/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Azure HCL report and runtime claims (azure-hcl.h). */
#include "platform/azure-hcl.h"

#include "common/json-util.h"
#include "common/util-verifier.h"
#include "tpm/tpm2b.h"

#include <limits.h>
#include <string.h>

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

enum reason hcl_parse(const uint8_t *b, size_t size, struct hcl_report *ret, struct verdict *v)
{
        return hcl_parse_type(b, size, HCL_REPORT_SNP, ret, v);
}

enum reason hcl_parse_type(const uint8_t *b, size_t size, uint32_t report_type,
                           struct hcl_report *ret, struct verdict *v)
{
        struct hcl_report h = {};
        uint8_t acc = 0;

        if (size < HCL_VAR_OFFSET || memcmp(b, "HCLA", 4) != 0)
                return verdict_set(v, REASON_HCL_HEADER,
                                   "not an Azure HCL report (no \"HCLA\" header, or %zu bytes)",
                                   size);
        h.hdr_version = le32(b + 4);
        h.report_type = le32(b + HCL_REQ_OFFSET + 8);
        h.hash_type = le32(b + HCL_REQ_OFFSET + 12);
        h.claims_size = le32(b + HCL_REQ_OFFSET + 16);
        if (h.claims_size > size - HCL_VAR_OFFSET)
                return verdict_set(v, REASON_HCL_CLAIMS_SIZE,
                                   "the HCL claims size %u runs past the end of the blob (%zu "
                                   "bytes)",
                                   h.claims_size, size);
        if (h.report_type == HCL_REPORT_TDX) {
                for (size_t i = HCL_HW_OFFSET + 1024; i < HCL_REQ_OFFSET; i++)
                        acc |= b[i];
                if (acc)
                        return verdict_set(v, REASON_HCL_PADDING_NONZERO,
                                           "the padding after the HCL's TDREPORT is not zero");
        }
        if (h.report_type != report_type)
                return verdict_set(v, REASON_HCL_REPORT_TYPE,
                                   "the HCL report is of type %u, not %u (%s)", h.report_type,
                                   report_type, report_type == HCL_REPORT_TDX ? "TDX" : "SEV-SNP");
        if (h.hash_type != 1)
                return verdict_set(v, REASON_HCL_HASH_TYPE,
                                   "the HCL claims hash type is %u, not 1 (SHA-256)", h.hash_type);
        h.hw = b + HCL_HW_OFFSET;
        h.claims = b + HCL_VAR_OFFSET;
        *ret = h;
        return REASON_OK;
}

static int b64url_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '-' || c == '+')
                return 62;
        if (c == '_' || c == '/')
                return 63;
        return -1;
}

/* base64url without padding (JWK, RFC 7518), a trailing '=' tolerated. @return bytes or -1 */
static ssize_t b64url_decode(const char *s, uint8_t *out, size_t size)
{
        size_t len = strlen(s), o = 0;
        uint32_t acc = 0;
        int bits = 0;

        while (len > 0 && s[len - 1] == '=')
                len--;
        for (size_t i = 0; i < len; i++) {
                int d = b64url_value(s[i]);

                if (d < 0)
                        return -1;
                acc = acc << 6 | (uint32_t) d;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (o >= size)
                                return -1;
                        out[o++] = (uint8_t) (acc >> bits);
                }
        }
        return (ssize_t) o;
}

static int hex_any_value(char c)
{
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return hex_lower_value(c);
}

/* One RSA JWK: n and e. @return true if it is an RSA key that decodes */
static bool jwk_rsa(json_object *k, uint8_t *n, size_t n_max, size_t *n_size, uint32_t *e)
{
        json_object *kty, *jn, *je;
        uint8_t eb[8];
        ssize_t len, elen;

        if (!json_object_object_get_ex(k, "kty", &kty) ||
            !json_object_is_type(kty, json_type_string) ||
            !streq(json_object_get_string(kty), "RSA") || !json_object_object_get_ex(k, "n", &jn) ||
            !json_object_is_type(jn, json_type_string) || !json_object_object_get_ex(k, "e", &je) ||
            !json_object_is_type(je, json_type_string))
                return false;
        len = b64url_decode(json_object_get_string(jn), n, n_max);
        elen = b64url_decode(json_object_get_string(je), eb, sizeof(eb));
        if (len <= 0 || elen <= 0 || elen > 4)
                return false;
        *n_size = (size_t) len;
        *e = 0;
        for (ssize_t i = 0; i < elen; i++)
                *e = *e << 8 | eb[i];
        return true;
}

enum reason hcl_claims_parse(const uint8_t *claims, size_t size, struct hcl_claims *ret,
                             struct verdict *v)
{
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *keys, *ud, *cfg, *id;
        struct hcl_claims c = {};

        if (size == 0 || size > HCL_CLAIMS_MAX || memchr(claims, '\0', size))
                return verdict_set(v, REASON_HCL_CLAIMS_JSON, "the HCL claims are not JSON");
        tok = json_tokener_new_ex(16);
        if (!tok)
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, (const char *) claims, (int) size);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != size || !json_object_is_type(o, json_type_object))
                return verdict_set(v, REASON_HCL_CLAIMS_JSON,
                                   "the HCL claims are not one JSON object");
        if (json_object_object_get_ex(o, "keys", &keys)) {
                if (!json_object_is_type(keys, json_type_array))
                        return verdict_set(v, REASON_HCL_CLAIMS_JSON,
                                           "the HCL claims' \"keys\" is not an array");
                for (size_t i = 0; i < json_object_array_length(keys); i++) {
                        json_object *k = json_object_array_get_idx(keys, i), *kid;
                        const char *name;

                        if (!json_object_is_type(k, json_type_object) ||
                            !json_object_object_get_ex(k, "kid", &kid) ||
                            !json_object_is_type(kid, json_type_string))
                                continue;
                        name = json_object_get_string(kid);
                        /* The first key of a name counts, as the oracle reads it. */
                        if (streq(name, "HCLAkPub") && !c.has_akpub) {
                                c.has_akpub = true;
                                c.ak_rsa =
                                    jwk_rsa(k, c.ak_n, sizeof(c.ak_n), &c.ak_n_size, &c.ak_e);
                        } else if (streq(name, "HCLEkPub") && !c.has_ekpub) {
                                c.has_ekpub = true;
                                c.ek_rsa =
                                    jwk_rsa(k, c.ek_n, sizeof(c.ek_n), &c.ek_n_size, &c.ek_e);
                        }
                }
        }
        if (json_object_object_get_ex(o, "user-data", &ud)) {
                const char *s;
                size_t len;

                if (!json_object_is_type(ud, json_type_string))
                        return verdict_set(v, REASON_HCL_CLAIMS_JSON,
                                           "the HCL claims' \"user-data\" is not a string");
                s = json_object_get_string(ud);
                len = strlen(s);
                if (len % 2 || len > 2 * sizeof(c.user_data))
                        return verdict_set(v, REASON_HCL_CLAIMS_JSON,
                                           "the HCL claims' \"user-data\" is not hex of at most "
                                           "64 bytes");
                c.user_data_upper = true;
                for (size_t i = 0; i < len / 2; i++) {
                        int hi = hex_any_value(s[2 * i]), lo = hex_any_value(s[2 * i + 1]);

                        if (hi < 0 || lo < 0)
                                return verdict_set(v, REASON_HCL_CLAIMS_JSON,
                                                   "the HCL claims' \"user-data\" is not hex");
                        c.user_data[i] = (uint8_t) (hi << 4 | lo);
                }
                for (size_t i = 0; i < len; i++)
                        if (s[i] >= 'a' && s[i] <= 'f')
                                c.user_data_upper = false;
                c.user_data_size = len / 2;
                c.has_user_data = true;
        }
        if (json_object_object_get_ex(o, "vm-configuration", &cfg) &&
            json_object_is_type(cfg, json_type_object) &&
            json_object_object_get_ex(cfg, "vmUniqueId", &id) &&
            json_object_is_type(id, json_type_string))
                snprintf(c.vm_id, sizeof(c.vm_id), "%.36s", json_object_get_string(id));
        *ret = c;
        return REASON_OK;
}

bool hcl_jwk_is_key(const uint8_t *n, size_t n_size, uint32_t e, const struct tpm_public *pub)
{
        const uint8_t *pn = pub->rsa_n;
        size_t pn_size = pub->rsa_n_size;

        if (pub->type != TPMW_ALG_RSA || e != pub->rsa_exponent)
                return false;
        while (n_size > 0 && n[0] == 0)
                n++, n_size--;
        while (pn_size > 0 && pn[0] == 0)
                pn++, pn_size--;
        return n_size == pn_size && memcmp(n, pn, n_size) == 0;
}
