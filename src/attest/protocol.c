/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON bodies of the attestation protocol (json-c), both directions of the node's side. Every
 * answer field is checked for presence, type, encoding and size before anything uses it. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "lib/base64.h"
#include "attest/protocol.h"
#include "util.h"

#define JSON_DEPTH_MAX 8

static void json_putp(struct json_object **p)
{
        if (*p)
                json_object_put(*p);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* ---- building requests -------------------------------------------------------------------- */

static int add(struct json_object *obj, const char *key, struct json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(obj, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int add_base64(struct json_object *obj, const char *key, const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = base64_encode_alloc(data, size);

        if (!s)
                return -ENOMEM;
        return add(obj, key, json_object_new_string(s));
}

static void hex(const uint8_t *p, size_t n, char *ret)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                ret[2 * i] = digits[p[i] >> 4];
                ret[2 * i + 1] = digits[p[i] & 0xf];
        }
        ret[2 * n] = 0;
}

/* Copies the serialization out of root and wipes json-c's own copy, which may hold a secret. */
static int serialize(struct json_object *root, char **ret)
{
        const char *s;
        size_t len;
        char *copy;

        s = json_object_to_json_string_length(
            root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (!s)
                return -ENOMEM;
        copy = malloc(len + 1);
        if (copy) {
                memcpy(copy, s, len);
                copy[len] = 0;
        }
        explicit_bzero((char *) s, len);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

static bool blob_ok(const uint8_t *p, size_t size, size_t max)
{
        return p && size > 0 && size <= max;
}

static bool version_ok(unsigned v)
{
        return v == 0 || (v >= PROTOCOL_VERSION_MIN && v <= PROTOCOL_VERSION);
}

static unsigned version_of(unsigned v)
{
        return v == 0 ? PROTOCOL_VERSION_MIN : v;
}

int protocol_challenge_request(const struct protocol_challenge_request *req, char **ret)
{
        _cleanup_json_ struct json_object *root = NULL;
        int r;

        if (!blob_ok(req->ek_public, req->ek_public_size, PROTOCOL_BLOB_MAX) ||
            !blob_ok(req->ak_public, req->ak_public_size, PROTOCOL_BLOB_MAX) ||
            (req->ek_certificate &&
             !blob_ok(req->ek_certificate, req->ek_certificate_size, PROTOCOL_EK_CERT_MAX)) ||
            !version_ok(req->version))
                return -EINVAL;
        root = json_object_new_object();
        if (!root)
                return -ENOMEM;
        r = add(root, "version", json_object_new_int((int) version_of(req->version)));
        if (r >= 0)
                r = add_base64(root, "ek_public", req->ek_public, req->ek_public_size);
        if (r >= 0 && req->ek_certificate)
                r = add_base64(root, "ek_certificate", req->ek_certificate,
                               req->ek_certificate_size);
        if (r >= 0)
                r = add_base64(root, "ak_public", req->ak_public, req->ak_public_size);
        if (r < 0)
                return r;
        return serialize(root, ret);
}

static bool hostname_ok(const char *s)
{
        size_t len = s ? strlen(s) : 0;

        if (len < 1 || len > 253)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
                      s[i] == '-'))
                        return false;
        return true;
}

static bool machine_id_ok(const char *s)
{
        if (strlen(s) != 32)
                return false;
        for (size_t i = 0; i < 32; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static bool uuid_ok(const char *s)
{
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                char c = s[i];

                if (dash ? c != '-'
                         : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                             (c >= 'A' && c <= 'F')))
                        return false;
        }
        return true;
}

static int node_object(const struct protocol_node *node, struct json_object **ret)
{
        _cleanup_json_ struct json_object *o = NULL;
        int r;

        if (!hostname_ok(node->hostname) ||
            (node->machine_id && !machine_id_ok(node->machine_id)) ||
            (node->product_uuid && !uuid_ok(node->product_uuid)))
                return -EINVAL;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        r = add(o, "hostname", json_object_new_string(node->hostname));
        if (r >= 0 && node->machine_id)
                r = add(o, "machine_id", json_object_new_string(node->machine_id));
        if (r >= 0 && node->product_uuid)
                r = add(o, "product_uuid", json_object_new_string(node->product_uuid));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int pcrs_object(uint32_t mask, const uint8_t (*pcrs)[32], struct json_object **ret)
{
        _cleanup_json_ struct json_object *o = NULL, *bank = NULL;
        int r;

        o = json_object_new_object();
        bank = json_object_new_object();
        if (!o || !bank)
                return -ENOMEM;
        /* json-c keeps insertion order: ascending, as the quote selects them */
        for (unsigned pcr = 0; pcr < PROTOCOL_PCRS; pcr++) {
                char key[4], value[65];

                if (!(mask & (1u << pcr)))
                        continue;
                snprintf(key, sizeof(key), "%u", pcr);
                hex(pcrs[pcr], 32, value);
                r = add(bank, key, json_object_new_string(value));
                if (r < 0)
                        return r;
        }
        r = add(o, "sha256", TAKE_PTR(bank));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* json-c frees strings without wiping them; the credential's own is wiped by hand. */
static void wipe_string(struct json_object *s)
{
        if (s)
                explicit_bzero((char *) json_object_get_string(s),
                               (size_t) json_object_get_string_len(s));
}

/* The kinds of PROTOCOL.md version 3, the report and certificates within their limits. */
static bool platform_ok(const struct protocol_platform *p)
{
        size_t total;

        bool azure_tdx;

        if (!p->kind || (!streq(p->kind, "azure-snp-hcl") && !streq(p->kind, "snp-report") &&
                         !streq(p->kind, "tdx-quote") && !streq(p->kind, "azure-tdx-hcl")))
                return false;
        /* The TD quote goes with azure-tdx-hcl, and only there (PROTOCOL.md). */
        azure_tdx = streq(p->kind, "azure-tdx-hcl");
        if (azure_tdx != (p->td_quote != NULL) ||
            (azure_tdx && !blob_ok(p->td_quote, p->td_quote_size, PROTOCOL_PLATFORM_REPORT_MAX)))
                return false;
        if (!blob_ok(p->report, p->report_size, PROTOCOL_PLATFORM_REPORT_MAX) ||
            p->n_certificates > PROTOCOL_PLATFORM_CERTS_MAX ||
            (p->n_certificates > 0 && (!p->certificates || !p->certificate_sizes)))
                return false;
        total = p->report_size;
        for (size_t i = 0; i < p->n_certificates; i++) {
                if (!blob_ok(p->certificates[i], p->certificate_sizes[i],
                             PROTOCOL_PLATFORM_CERT_MAX))
                        return false;
                total += p->certificate_sizes[i];
        }
        return total <= PROTOCOL_PLATFORM_MAX;
}

static int platform_object(const struct protocol_platform *p, struct json_object **ret)
{
        _cleanup_json_ struct json_object *obj = json_object_new_object();
        struct json_object *certs = NULL;
        int r;

        if (!obj)
                return -ENOMEM;
        r = add(obj, "kind", json_object_new_string(p->kind));
        if (r >= 0)
                r = add_base64(obj, "report", p->report, p->report_size);
        if (r >= 0 && p->td_quote)
                r = add_base64(obj, "td_quote", p->td_quote, p->td_quote_size);
        if (r >= 0 && p->n_certificates > 0) {
                certs = json_object_new_array();
                r = add(obj, "certificates", certs);
        }
        for (size_t i = 0; r >= 0 && i < p->n_certificates; i++) {
                _cleanup_free_ char *b64 =
                    base64_encode_alloc(p->certificates[i], p->certificate_sizes[i]);
                struct json_object *s = b64 ? json_object_new_string(b64) : NULL;

                if (!s)
                        r = -ENOMEM;
                else if (json_object_array_add(certs, s) < 0) {
                        json_object_put(s);
                        r = -ENOMEM;
                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(obj);
        return 0;
}

int protocol_attest_request(const struct protocol_attest_request *req, char **ret)
{
        _cleanup_json_ struct json_object *root = NULL;
        _cleanup_(erase_and_freep) char *credential = NULL;
        struct json_object *quote = NULL, *pcrs = NULL, *node = NULL, *cred = NULL,
                           *platform = NULL;
        int r;

        if (!req->challenge || !req->credential ||
            !blob_ok(req->ek_public, req->ek_public_size, PROTOCOL_BLOB_MAX) ||
            !blob_ok(req->ak_public, req->ak_public_size, PROTOCOL_BLOB_MAX) ||
            !blob_ok(req->attest, req->attest_size, PROTOCOL_BLOB_MAX) ||
            !blob_ok(req->signature, req->signature_size, PROTOCOL_BLOB_MAX) ||
            !blob_ok(req->event_log, req->event_log_size, PROTOCOL_EVENT_LOG_MAX) ||
            req->pcr_mask == 0 || (req->pcr_mask >> PROTOCOL_PCRS) != 0 || !req->pcrs ||
            !version_ok(req->version) || (req->platform && version_of(req->version) < 3))
                return -EINVAL;
        if (req->platform && !platform_ok(req->platform))
                return -EINVAL;

        root = json_object_new_object();
        if (!root)
                return -ENOMEM;
        r = add(root, "version", json_object_new_int((int) version_of(req->version)));
        if (r >= 0)
                r = add_base64(root, "challenge", req->challenge, PROTOCOL_CHALLENGE_SIZE);
        if (r >= 0)
                r = add_base64(root, "ek_public", req->ek_public, req->ek_public_size);
        if (r >= 0)
                r = add_base64(root, "ak_public", req->ak_public, req->ak_public_size);
        if (r >= 0) {
                credential = base64_encode_alloc(req->credential, PROTOCOL_CREDENTIAL_SIZE);
                cred = credential ? json_object_new_string(credential) : NULL;
                r = add(root, "credential", cred);
                if (r < 0)
                        cred = NULL; /* add() freed it */
        }
        if (r >= 0) {
                quote = json_object_new_object();
                r = add(root, "quote", quote);
        }
        if (r >= 0)
                r = add_base64(quote, "attest", req->attest, req->attest_size);
        if (r >= 0)
                r = add_base64(quote, "signature", req->signature, req->signature_size);
        if (r >= 0)
                r = pcrs_object(req->pcr_mask, req->pcrs, &pcrs);
        if (r >= 0)
                r = add(root, "pcrs", pcrs);
        if (r >= 0)
                r = add_base64(root, "event_log", req->event_log, req->event_log_size);
        if (r >= 0)
                r = node_object(&req->node, &node);
        if (r >= 0)
                r = add(root, "node", node);
        if (r >= 0 && req->platform)
                r = platform_object(req->platform, &platform);
        if (r >= 0 && req->platform)
                r = add(root, "platform", platform);
        if (r >= 0)
                r = serialize(root, ret);
        wipe_string(cred);
        return r;
}

/* ---- parsing answers ---------------------------------------------------------------------- */

static int parse_object(const char *body, size_t size, struct json_object **ret)
{
        struct json_tokener *tok;
        struct json_object *obj;
        size_t end;
        int r = 0;

        if (size > PROTOCOL_ANSWER_MAX)
                return -EFBIG;
        if (size == 0 || memchr(body, 0, size))
                return -EBADMSG;
        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        obj = json_tokener_parse_ex(tok, body, (int) size);
        if (!obj || json_tokener_get_error(tok) != json_tokener_success)
                r = -EBADMSG;
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        for (size_t i = end; r == 0 && i < size; i++)
                if (!strchr(" \t\r\n", body[i]))
                        r = -EBADMSG; /* something after the object */
        if (r == 0 && !json_object_is_type(obj, json_type_object))
                r = -EBADMSG;
        if (r < 0) {
                json_object_put(obj);
                return r;
        }
        *ret = obj;
        return 0;
}

static int bad(char *errbuf, size_t errlen, const char *fmt, ...) _printf_(3, 4);
static int bad(char *errbuf, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

/* Every key of obj is one of keys (NULL-terminated). */
static int check_keys(struct json_object *obj, const char *where, const char *const *keys,
                      char *errbuf, size_t errlen)
{
        json_object_object_foreach(obj, key, value)
        {
                bool known = false;

                (void) value;
                for (size_t i = 0; keys[i] && !known; i++)
                        known = streq(key, keys[i]);
                if (!known)
                        return bad(errbuf, errlen, "unknown field \"%s%s\"", where, key);
        }
        return 0;
}

static int member(struct json_object *obj, const char *where, const char *key, json_type type,
                  struct json_object **ret, char *errbuf, size_t errlen)
{
        struct json_object *v;

        if (!json_object_object_get_ex(obj, key, &v))
                return bad(errbuf, errlen, "missing field \"%s%s\"", where, key);
        if (!json_object_is_type(v, type))
                return bad(errbuf, errlen, "field \"%s%s\" is not of type %s", where, key,
                           json_type_to_name(type));
        *ret = v;
        return 0;
}

static int get_uint(struct json_object *obj, const char *where, const char *key, uint64_t min,
                    uint64_t max, uint64_t *ret, char *errbuf, size_t errlen)
{
        struct json_object *v;
        int64_t n;
        int r;

        r = member(obj, where, key, json_type_int, &v, errbuf, errlen);
        if (r < 0)
                return r;
        n = json_object_get_int64(v);
        if (n < 0 || (uint64_t) n < min || (uint64_t) n > max)
                return bad(errbuf, errlen, "field \"%s%s\" is out of range", where, key);
        *ret = (uint64_t) n;
        return 0;
}

static int get_string(struct json_object *obj, const char *where, const char *key, size_t max,
                      const char **ret, size_t *ret_len, char *errbuf, size_t errlen)
{
        struct json_object *v;
        const char *s;
        size_t len;
        int r;

        r = member(obj, where, key, json_type_string, &v, errbuf, errlen);
        if (r < 0)
                return r;
        s = json_object_get_string(v);
        len = (size_t) json_object_get_string_len(v);
        if (strlen(s) != len)
                return bad(errbuf, errlen, "field \"%s%s\" contains a NUL", where, key);
        if (len > max)
                return bad(errbuf, errlen, "field \"%s%s\" is longer than %zu", where, key, max);
        *ret = s;
        *ret_len = len;
        return 0;
}

static int get_base64(struct json_object *obj, const char *where, const char *key, uint8_t *buf,
                      size_t max, size_t *ret_size, char *errbuf, size_t errlen)
{
        const char *s;
        size_t len, size;
        int r;

        r = get_string(obj, where, key, base64_encoded_size(max), &s, &len, errbuf, errlen);
        if (r < 0)
                return r;
        r = base64_decode(s, len, buf, max, &size);
        if (r < 0 || size == 0)
                return bad(errbuf, errlen, "field \"%s%s\" is not base64 of 1–%zu bytes", where,
                           key, max);
        *ret_size = size;
        return 0;
}

static int get_blob(struct json_object *obj, const char *where, const char *key,
                    struct protocol_blob *ret, char *errbuf, size_t errlen)
{
        return get_base64(obj, where, key, ret->data, sizeof(ret->data), &ret->size, errbuf,
                          errlen);
}

/* {"sha256": [n, …]}: PCR numbers 0–23, strictly ascending, at least one. */
static int get_pcr_selection(struct json_object *obj, const char *where, const char *key,
                             uint32_t *ret, char *errbuf, size_t errlen)
{
        static const char *const keys[] = {"sha256", NULL};
        struct json_object *sel, *list;
        char path[64];
        uint32_t mask = 0;
        size_t n;
        int last = -1, r;

        r = member(obj, where, key, json_type_object, &sel, errbuf, errlen);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s%s.", where, key);
        r = check_keys(sel, path, keys, errbuf, errlen);
        if (r < 0)
                return r;
        r = member(sel, path, "sha256", json_type_array, &list, errbuf, errlen);
        if (r < 0)
                return r;
        n = json_object_array_length(list);
        if (n == 0 || n > PROTOCOL_PCRS)
                return bad(errbuf, errlen, "field \"%ssha256\" must list 1–24 PCRs", path);
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(list, i);
                int64_t pcr;

                if (!json_object_is_type(e, json_type_int))
                        return bad(errbuf, errlen, "field \"%ssha256\" holds a non-integer", path);
                pcr = json_object_get_int64(e);
                if (pcr < 0 || pcr >= PROTOCOL_PCRS || pcr <= last)
                        return bad(errbuf, errlen,
                                   "field \"%ssha256\" must be ascending PCR numbers 0–23", path);
                last = (int) pcr;
                mask |= 1u << pcr;
        }
        *ret = mask;
        return 0;
}

static int check_version(struct json_object *root, unsigned *ret, char *errbuf, size_t errlen)
{
        uint64_t version;
        int r;

        r = get_uint(root, "", "version", 0, UINT32_MAX, &version, errbuf, errlen);
        if (r < 0)
                return r;
        if (version < PROTOCOL_VERSION_MIN || version > PROTOCOL_VERSION)
                return bad(errbuf, errlen, "answer of version %" PRIu64 ", expected %d or %d",
                           version, PROTOCOL_VERSION_MIN, PROTOCOL_VERSION);
        *ret = (unsigned) version;
        return 0;
}

int protocol_parse_challenge_answer(const char *body, size_t size,
                                    struct protocol_challenge_answer *ret, char *errbuf,
                                    size_t errlen)
{
        static const char *const keys[] = {
            "version",          "challenge",     "expires_in", "credential_blob",
            "encrypted_secret", "pcr_selection", NULL};
        _cleanup_json_ struct json_object *root = NULL;
        struct protocol_challenge_answer a = {};
        size_t n;
        int r;

        r = parse_object(body, size, &root);
        if (r < 0)
                return r == -EBADMSG ? bad(errbuf, errlen, "answer is not one JSON object") : r;
        r = check_keys(root, "", keys, errbuf, errlen);
        if (r >= 0)
                r = check_version(root, &a.version, errbuf, errlen);
        if (r >= 0)
                r = get_base64(root, "", "challenge", a.challenge, sizeof(a.challenge), &n, errbuf,
                               errlen);
        if (r >= 0 && n != PROTOCOL_CHALLENGE_SIZE)
                r = bad(errbuf, errlen, "field \"challenge\" is %zu bytes, not %d", n,
                        PROTOCOL_CHALLENGE_SIZE);
        if (r >= 0)
                r = get_uint(root, "", "expires_in", 0, 86400, &a.expires_in, errbuf, errlen);
        if (r >= 0)
                r = get_blob(root, "", "credential_blob", &a.credential_blob, errbuf, errlen);
        if (r >= 0)
                r = get_blob(root, "", "encrypted_secret", &a.encrypted_secret, errbuf, errlen);
        if (r >= 0)
                r = get_pcr_selection(root, "", "pcr_selection", &a.pcr_mask, errbuf, errlen);
        if (r < 0)
                return r;
        *ret = a;
        return 0;
}

void protocol_attest_answer_done(struct protocol_attest_answer *a)
{
        if (!a)
                return;
        free(a->server);
        free(a->ca_pem);
        a->server = a->ca_pem = NULL;
}

static bool token_id_ok(const char *s, size_t len)
{
        if (len != 6)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

static int parse_sealed(struct json_object *root, struct protocol_attest_answer *a, char *errbuf,
                        size_t errlen)
{
        static const char *const keys[] = {
            "public",        "duplicate", "encrypted_seed", "pcr_selection", "reset_count",
            "restart_count", NULL};
        struct json_object *o;
        uint64_t reset_count, restart_count;
        int r;

        r = member(root, "", "sealed", json_type_object, &o, errbuf, errlen);
        if (r >= 0)
                r = check_keys(o, "sealed.", keys, errbuf, errlen);
        if (r >= 0)
                r = get_blob(o, "sealed.", "public", &a->sealed_public, errbuf, errlen);
        if (r >= 0)
                r = get_blob(o, "sealed.", "duplicate", &a->sealed_duplicate, errbuf, errlen);
        if (r >= 0)
                r = get_blob(o, "sealed.", "encrypted_seed", &a->sealed_seed, errbuf, errlen);
        if (r >= 0)
                r = get_pcr_selection(o, "sealed.", "pcr_selection", &a->sealed_pcr_mask, errbuf,
                                      errlen);
        if (r >= 0)
                r = get_uint(o, "sealed.", "reset_count", 0, UINT32_MAX, &reset_count, errbuf,
                             errlen);
        if (r >= 0)
                r = get_uint(o, "sealed.", "restart_count", 0, UINT32_MAX, &restart_count, errbuf,
                             errlen);
        if (r < 0)
                return r;
        a->reset_count = (uint32_t) reset_count;
        a->restart_count = (uint32_t) restart_count;
        return 0;
}

static int parse_kubeconfig(struct json_object *root, struct protocol_attest_answer *a,
                            char *errbuf, size_t errlen)
{
        static const char *const keys[] = {"server", "certificate_authority_data", NULL};
        _cleanup_free_ uint8_t *pem = NULL;
        struct json_object *o;
        const char *s;
        size_t len, pem_size;
        int r;

        r = member(root, "", "kubeconfig", json_type_object, &o, errbuf, errlen);
        if (r >= 0)
                r = check_keys(o, "kubeconfig.", keys, errbuf, errlen);
        if (r >= 0)
                r = get_string(o, "kubeconfig.", "server", 2048, &s, &len, errbuf, errlen);
        if (r < 0)
                return r;
        if (!startswith(s, "https://") || len <= strlen("https://"))
                return bad(errbuf, errlen, "field \"kubeconfig.server\" is not an https:// URL");
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f)
                        return bad(errbuf, errlen,
                                   "field \"kubeconfig.server\" contains a space or control "
                                   "character");
        a->server = strdup(s);
        if (!a->server)
                return -ENOMEM;

        r = get_string(o, "kubeconfig.", "certificate_authority_data",
                       base64_encoded_size(PROTOCOL_CA_MAX), &s, &len, errbuf, errlen);
        if (r < 0)
                return r;
        r = base64_decode_alloc(s, len, PROTOCOL_CA_MAX, &pem, &pem_size);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || pem_size == 0 || memchr(pem, 0, pem_size) ||
            !startswith((const char *) pem, "-----BEGIN CERTIFICATE-----"))
                return bad(errbuf, errlen,
                           "field \"kubeconfig.certificate_authority_data\" is not base64 of a "
                           "PEM certificate");
        a->ca_pem = malloc(pem_size + 1);
        if (!a->ca_pem)
                return -ENOMEM;
        memcpy(a->ca_pem, pem, pem_size);
        a->ca_pem[pem_size] = 0;
        a->ca_pem_size = pem_size;
        return 0;
}

static int get_text(struct json_object *o, const char *where, const char *key, char *buf,
                    size_t size, char *errbuf, size_t errlen)
{
        const char *s;
        size_t len;
        int r;

        r = get_string(o, where, key, size - 1, &s, &len, errbuf, errlen);
        if (r < 0)
                return r;
        if (len == 0)
                return bad(errbuf, errlen, "field \"%s%s\" is empty", where, key);
        memcpy(buf, s, len + 1);
        return 0;
}

static int parse_cap(struct json_object *root, struct protocol_attest_answer *a, char *errbuf,
                     size_t errlen)
{
        static const char *const keys[] = {"pcr", "released", "failed", NULL};
        struct json_object *o;
        uint64_t pcr;
        int r;

        r = member(root, "", "cap", json_type_object, &o, errbuf, errlen);
        if (r >= 0)
                r = check_keys(o, "cap.", keys, errbuf, errlen);
        if (r >= 0)
                r = get_uint(o, "cap.", "pcr", 0, PROTOCOL_PCRS - 1, &pcr, errbuf, errlen);
        if (r >= 0)
                r = get_text(o, "cap.", "released", a->cap_released, sizeof(a->cap_released),
                             errbuf, errlen);
        if (r >= 0)
                r = get_text(o, "cap.", "failed", a->cap_failed, sizeof(a->cap_failed), errbuf,
                             errlen);
        if (r < 0)
                return r;
        a->cap_pcr = (unsigned) pcr;
        return 0;
}

int protocol_parse_attest_answer(const char *body, size_t size, struct protocol_attest_answer *ret,
                                 char *errbuf, size_t errlen)
{
        static const char *const keys[] = {"version",    "token_id", "sealed",
                                           "kubeconfig", "cap",      NULL};
        _cleanup_json_ struct json_object *root = NULL;
        _cleanup_(protocol_attest_answer_done) struct protocol_attest_answer a = {};
        const char *s;
        size_t len;
        int r;

        r = parse_object(body, size, &root);
        if (r < 0)
                return r == -EBADMSG ? bad(errbuf, errlen, "answer is not one JSON object") : r;
        r = check_keys(root, "", keys, errbuf, errlen);
        if (r >= 0)
                r = check_version(root, &a.version, errbuf, errlen);
        if (r >= 0)
                r = get_string(root, "", "token_id", 16, &s, &len, errbuf, errlen);
        if (r >= 0 && !token_id_ok(s, len))
                r = bad(errbuf, errlen, "field \"token_id\" is not 6 characters of [a-z0-9]");
        if (r >= 0)
                memcpy(a.token_id, s, len + 1);
        if (r >= 0)
                r = parse_sealed(root, &a, errbuf, errlen);
        if (r >= 0)
                r = parse_kubeconfig(root, &a, errbuf, errlen);
        if (r >= 0)
                r = parse_cap(root, &a, errbuf, errlen);
        /* A cap outside the sealed selection would leave the blob unsealable after the cap. */
        if (r >= 0 && !(a.sealed_pcr_mask & (1u << a.cap_pcr)))
                r = bad(errbuf, errlen, "cap PCR %u is not in sealed.pcr_selection", a.cap_pcr);
        if (r < 0)
                return r;
        *ret = a;
        a = (struct protocol_attest_answer){};
        return 0;
}

/* Copies s for a console: cut to the buffer, anything but printable ASCII becomes '?'. */
static void console_copy(char *buf, size_t size, const char *s, size_t len)
{
        size_t n = len < size - 1 ? len : size - 1;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                buf[i] = c >= 0x20 && c < 0x7f ? (char) c : '?';
        }
        buf[n] = 0;
}

static void optional_text(struct json_object *root, const char *key, char *buf, size_t size)
{
        struct json_object *v;

        if (json_object_object_get_ex(root, key, &v) && json_object_is_type(v, json_type_string))
                console_copy(buf, size, json_object_get_string(v),
                             (size_t) json_object_get_string_len(v));
}

static int64_t optional_int(struct json_object *root, const char *key, int64_t min, int64_t max)
{
        struct json_object *v;
        int64_t n;

        if (!json_object_object_get_ex(root, key, &v) || !json_object_is_type(v, json_type_int))
                return -1;
        n = json_object_get_int64(v);
        return n >= min && n <= max ? n : -1;
}

int protocol_parse_error(const char *body, size_t size, struct protocol_error *ret)
{
        _cleanup_json_ struct json_object *root = NULL;
        struct protocol_error e = {.pcr = -1, .event = -1};
        struct json_object *v;
        int r;

        r = parse_object(body, size, &root);
        if (r < 0)
                return -EBADMSG;
        if (!json_object_object_get_ex(root, "error", &v) ||
            !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
                return -EBADMSG;
        optional_text(root, "error", e.error, sizeof(e.error));
        optional_text(root, "message", e.message, sizeof(e.message));
        optional_text(root, "event_type", e.event_type, sizeof(e.event_type));
        optional_text(root, "digest", e.digest, sizeof(e.digest));
        e.pcr = (int) optional_int(root, "pcr", 0, PROTOCOL_PCRS - 1);
        e.event = (long) optional_int(root, "event", 0, INT32_MAX);
        *ret = e;
        return 0;
}

const char *protocol_pcr_list(uint32_t mask, char *buf, size_t size)
{
        size_t o = 0;

        if (size == 0)
                return buf;
        buf[0] = 0;
        for (unsigned pcr = 0; pcr < PROTOCOL_PCRS; pcr++) {
                int n;

                if (!(mask & (1u << pcr)))
                        continue;
                n = snprintf(buf + o, size - o, "%s%u", o ? "," : "", pcr);
                if (n < 0 || (size_t) n >= size - o)
                        break;
                o += (size_t) n;
        }
        return buf;
}
