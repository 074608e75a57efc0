/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parsing of the request bodies (docs/PROTOCOL.md field tables) with json-c: one JSON
 * object, bounded depth, no trailing bytes; then each field's type, encoding and limit. */
#include "service/request.h"

#include "common/base64.h"
#include "common/json-util.h"
#include "common/util-verifier.h"

#include <limits.h>

/* Field names come from the request and end up in a console line and the audit log: printable
 * ASCII only, and short. */
static const char *printable_name(const char *s, char buf[72])
{
        size_t o = 0;

        for (; *s && o < 64; s++)
                buf[o++] = (*s >= 0x20 && *s < 0x7f && *s != '"') ? *s : '?';
        if (*s) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
        return buf;
}

static bool is_json_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_ascii(const char *s, size_t size)
{
        uint64_t acc = 0, w;
        size_t i = 0;

        for (; i + 8 <= size; i += 8) {
                memcpy(&w, s + i, 8);
                acc |= w;
        }
        for (; i < size; i++)
                acc |= (uint8_t) s[i];
        return (acc & UINT64_C(0x8080808080808080)) == 0;
}

static enum reason body_parse(const char *body, size_t size, json_object **ret, struct verdict *v)
{
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        enum json_tokener_error e;
        size_t end;

        if (size > INT_MAX)
                return verdict_set(v, REASON_BAD_REQUEST, "body is too large to parse");
        /* json-c keys are C strings: a NUL (raw or escaped) would cut "ek_public\u0000x" down
         * to "ek_public" behind our back. No field of the protocol has a use for one. */
        if (memchr(body, '\0', size))
                return verdict_set(v, REASON_BAD_REQUEST, "body contains a NUL byte");
        for (const char *p = memchr(body, '\\', size); p;
             p = memchr(p + 1, '\\', size - (size_t) (p + 1 - body)))
                if (size - (size_t) (p - body) >= 6 && memcmp(p, "\\u0000", 6) == 0)
                        return verdict_set(v, REASON_BAD_REQUEST, "body contains an escaped NUL");
        /* json-c takes 'single-quoted' member names even in strict mode. No valid body has a
         * quote character anywhere (names, base64, hex and hostnames have none), so refusing
         * every one keeps the grammar JSON's. */
        if (memchr(body, '\'', size))
                return verdict_set(v, REASON_BAD_REQUEST, "body is not JSON: a single quote");

        tok = json_tokener_new_ex(REQUEST_JSON_DEPTH);
        if (!tok)
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        /* Valid bodies are ASCII; json-c's UTF-8 check costs a sixth of the parse of a large
         * event log, so it runs only when some byte needs it. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                        (is_ascii(body, size) ? 0 : JSON_TOKENER_VALIDATE_UTF8));
        o = json_tokener_parse_ex(tok, body, (int) size);
        e = json_tokener_get_error(tok);
        if (e == json_tokener_continue)
                return verdict_set(v, REASON_BAD_REQUEST, "body is not complete JSON");
        if (e == json_tokener_success && !o)
                return verdict_set(v, REASON_BAD_REQUEST, "body is not a JSON object");
        if (e != json_tokener_success)
                return verdict_set(v, REASON_BAD_REQUEST, "body is not JSON: %s at byte %zu",
                                   json_tokener_error_desc(e), json_tokener_get_parse_end(tok));
        for (end = json_tokener_get_parse_end(tok); end < size; end++)
                if (!is_json_space(body[end]))
                        return verdict_set(v, REASON_BAD_REQUEST,
                                           "body has bytes after the JSON object (byte %zu)", end);
        if (!json_object_is_type(o, json_type_object))
                return verdict_set(v, REASON_BAD_REQUEST, "body is not a JSON object");
        *ret = TAKE_PTR(o);
        return REASON_OK;
}

/* Refuses a key of o not in allowed (NULL-terminated). prefix names o's path ("" at the top). */
static enum reason check_keys(json_object *o, const char *prefix, const char *const *allowed,
                              struct verdict *v)
{
        json_object_object_foreach(o, key, val)
        {
                bool known = false;
                char buf[72];

                (void) val;
                for (const char *const *a = allowed; *a && !known; a++)
                        known = streq(key, *a);
                if (!known)
                        return verdict_set(v, REASON_UNKNOWN_FIELD, "unknown field \"%s%s\"",
                                           prefix, printable_name(key, buf));
        }
        return REASON_OK;
}

/* The member key of o, required. */
static enum reason get_member(json_object *o, const char *key, const char *path, json_object **ret,
                              struct verdict *v)
{
        json_object *m = NULL;

        if (!json_object_object_get_ex(o, key, &m))
                return verdict_set(v, REASON_MISSING_FIELD, "missing field \"%s\"", path);
        *ret = m;
        return REASON_OK;
}

/* The member key of o, required, an object; with allowed (NULL-terminated), it may hold no
 * other keys. */
static enum reason get_object(json_object *o, const char *key, const char *path,
                              const char *const *allowed, json_object **ret, struct verdict *v)
{
        json_object *m = NULL;
        enum reason r = get_member(o, key, path, &m, v);
        char prefix[32];

        if (r != REASON_OK)
                return r;
        if (!json_object_is_type(m, json_type_object))
                return verdict_set(v, REASON_BAD_REQUEST, "field \"%s\" must be an object", path);
        if (allowed) {
                snprintf(prefix, sizeof(prefix), "%s.", path);
                r = check_keys(m, prefix, allowed, v);
                if (r != REASON_OK)
                        return r;
        }
        *ret = m;
        return REASON_OK;
}

static enum reason check_version(json_object *body, unsigned path_version, unsigned *ret,
                                 struct verdict *v)
{
        json_object *m = NULL;
        enum reason r = get_member(body, "version", "version", &m, v);
        int64_t n;

        if (r != REASON_OK)
                return r;
        switch (json_object_get_type(m)) {
        case json_type_int:
                n = json_object_get_int64(m);
                if (n >= VERIFIER_PROTOCOL_VERSION_MIN && n <= VERIFIER_PROTOCOL_VERSION &&
                    (path_version == 0 || n == path_version)) {
                        *ret = (unsigned) n;
                        v->version = (unsigned) n;
                        return REASON_OK;
                }
                if (path_version && n >= VERIFIER_PROTOCOL_VERSION_MIN &&
                    n <= VERIFIER_PROTOCOL_VERSION)
                        return verdict_set(v, REASON_UNSUPPORTED_VERSION,
                                           "version %lld sent to the path of version %u",
                                           (long long) n, path_version);
                return verdict_set(v, REASON_UNSUPPORTED_VERSION,
                                   "version %lld is not supported: this verifier speaks %d and %d",
                                   (long long) n, VERIFIER_PROTOCOL_VERSION_MIN,
                                   VERIFIER_PROTOCOL_VERSION);
        case json_type_double:
                return verdict_set(v, REASON_UNSUPPORTED_VERSION,
                                   "version must be the integer %d or %d",
                                   VERIFIER_PROTOCOL_VERSION_MIN, VERIFIER_PROTOCOL_VERSION);
        default:
                return verdict_set(v, REASON_BAD_REQUEST, "field \"version\" must be a number");
        }
}

static enum reason get_string(json_object *m, const char *path, const char **ret, size_t *ret_len,
                              struct verdict *v)
{
        if (!json_object_is_type(m, json_type_string))
                return verdict_set(v, REASON_BAD_REQUEST, "field \"%s\" must be a string", path);
        *ret = json_object_get_string(m);
        *ret_len = (size_t) json_object_get_string_len(m);
        return REASON_OK;
}

static enum reason decode_into(json_object *m, const char *path, uint8_t *out, size_t max,
                               size_t *ret_size, struct verdict *v)
{
        const char *s = NULL;
        size_t len = 0;
        enum reason r = get_string(m, path, &s, &len, v);
        int k;

        if (r != REASON_OK)
                return r;
        k = base64_decode(s, len, out, max, ret_size);
        if (k == -EMSGSIZE)
                return verdict_set(v, REASON_FIELD_TOO_LARGE,
                                   "field \"%s\" is larger than %zu bytes", path, max);
        if (k < 0)
                return verdict_set(v, REASON_BAD_REQUEST,
                                   "field \"%s\" is not base64 (RFC 4648, padded, one line)", path);
        return REASON_OK;
}

static enum reason get_base64(json_object *o, const char *key, const char *path, uint8_t *out,
                              size_t max, size_t *ret_size, struct verdict *v)
{
        json_object *m = NULL;
        enum reason r = get_member(o, key, path, &m, v);

        if (r != REASON_OK)
                return r;
        return decode_into(m, path, out, max, ret_size, v);
}

static enum reason get_public(json_object *o, const char *key, struct request_blob_public *ret,
                              struct verdict *v)
{
        return get_base64(o, key, key, ret->data, sizeof(ret->data), &ret->size, v);
}

static enum reason parse_pcrs(json_object *body, struct attest_request *req, struct verdict *v)
{
        static const char *const keys[] = {"sha256", NULL};
        json_object *pcrs = NULL, *bank = NULL;
        enum reason r;

        r = get_object(body, "pcrs", "pcrs", keys, &pcrs, v);
        if (r != REASON_OK)
                return r;
        r = get_object(pcrs, "sha256", "pcrs.sha256", NULL, &bank, v);
        if (r != REASON_OK)
                return r;

        json_object_object_foreach(bank, key, val)
        {
                const char *s;
                size_t len;
                unsigned pcr;
                char buf[72];

                if (pcr_key_parse(key, REQUEST_PCRS, &pcr) < 0)
                        return verdict_set(v, REASON_BAD_REQUEST,
                                           "key \"%s\" of \"pcrs.sha256\" is not a PCR number "
                                           "(0-23, decimal)",
                                           printable_name(key, buf));
                if (!json_object_is_type(val, json_type_string))
                        return verdict_set(v, REASON_BAD_REQUEST,
                                           "field \"pcrs.sha256.%u\" must be a string", pcr);
                s = json_object_get_string(val);
                len = (size_t) json_object_get_string_len(val);
                if (unhex_lower(s, len, req->pcrs[pcr], 32) < 0)
                        return verdict_set(v, REASON_BAD_REQUEST,
                                           "field \"pcrs.sha256.%u\" must be 64 lowercase hex "
                                           "digits",
                                           pcr);
                req->pcr_mask |= UINT32_C(1) << pcr;
        }
        return REASON_OK;
}

static bool is_hostname_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static bool is_hex_digit(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_uuid(const char *s, size_t len)
{
        if (len != 36)
                return false;
        for (size_t i = 0; i < len; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;

                if (dash ? s[i] != '-' : !is_hex_digit(s[i]))
                        return false;
        }
        return true;
}

static enum reason parse_node(json_object *body, struct node_claims *node, struct verdict *v)
{
        static const char *const keys[] = {"hostname", "machine_id", "product_uuid", NULL};
        json_object *o = NULL, *m = NULL;
        const char *s = NULL;
        size_t len = 0;
        enum reason r;

        r = get_object(body, "node", "node", keys, &o, v);
        if (r != REASON_OK)
                return r;

        r = get_member(o, "hostname", "node.hostname", &m, v);
        if (r == REASON_OK)
                r = get_string(m, "node.hostname", &s, &len, v);
        if (r != REASON_OK)
                return r;
        if (len > REQUEST_HOSTNAME_MAX)
                return verdict_set(v, REASON_FIELD_TOO_LARGE,
                                   "field \"node.hostname\" is longer than %d characters",
                                   REQUEST_HOSTNAME_MAX);
        for (size_t i = 0; i < len; i++)
                if (!is_hostname_char(s[i]))
                        len = 0;
        /* A host name starts with a letter or digit (RFC 1123); a leading '-' would be an
         * option to the token source's program ({node}). */
        if (len == 0 || s[0] == '-' || s[0] == '.')
                return verdict_set(v, REASON_BAD_REQUEST,
                                   "field \"node.hostname\" must be 1-253 characters of "
                                   "[a-z0-9.-] starting with a letter or digit");
        memcpy(node->hostname, s, len);
        node->hostname[len] = '\0';

        if (json_object_object_get_ex(o, "machine_id", &m)) {
                uint8_t id[16];

                r = get_string(m, "node.machine_id", &s, &len, v);
                if (r != REASON_OK)
                        return r;
                if (unhex_lower(s, len, id, sizeof(id)) < 0)
                        return verdict_set(v, REASON_BAD_REQUEST,
                                           "field \"node.machine_id\" must be 32 lowercase hex "
                                           "digits");
                memcpy(node->machine_id, s, len);
                node->machine_id[len] = '\0';
        }
        if (json_object_object_get_ex(o, "product_uuid", &m)) {
                r = get_string(m, "node.product_uuid", &s, &len, v);
                if (r != REASON_OK)
                        return r;
                if (!is_uuid(s, len))
                        return verdict_set(v, REASON_BAD_REQUEST,
                                           "field \"node.product_uuid\" must be a UUID "
                                           "(36 characters)");
                memcpy(node->product_uuid, s, len);
                node->product_uuid[len] = '\0';
        }
        return REASON_OK;
}

enum reason request_parse_challenge(const char *body, size_t size, struct challenge_request *ret,
                                    struct verdict *v)
{
        return request_parse_challenge_at(body, size, 0, ret, v);
}

enum reason request_parse_challenge_at(const char *body, size_t size, unsigned path_version,
                                       struct challenge_request *ret, struct verdict *v)
{
        static const char *const keys[] = {"version", "ek_public", "ek_certificate", "ak_public",
                                           NULL};
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct challenge_request *req;
        json_object *m = NULL;
        unsigned version = 0;
        enum reason r;

        r = body_parse(body, size, &o, v);
        if (r != REASON_OK)
                return r;
        /* The version first: a body of another version is refused as such, not for the fields
         * that version added. */
        r = check_version(o, path_version, &version, v);
        if (r != REASON_OK)
                return r;
        r = check_keys(o, "", keys, v);
        if (r != REASON_OK)
                return r;

        /* Decode into a scratch struct: *ret is written only on success. */
        req = calloc(1, sizeof(*req));
        if (!req)
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        r = get_public(o, "ek_public", &req->ek_public, v);
        if (r == REASON_OK && json_object_object_get_ex(o, "ek_certificate", &m)) {
                r = decode_into(m, "ek_certificate", req->ek_certificate,
                                sizeof(req->ek_certificate), &req->ek_certificate_size, v);
                req->has_ek_certificate = true;
        }
        if (r == REASON_OK)
                r = get_public(o, "ak_public", &req->ak_public, v);
        req->version = version;
        if (r == REASON_OK)
                *ret = *req;
        free(req);
        return r;
}

/* Decodes the event log into a buffer of its exact size (at most 512 KiB). */
static enum reason parse_event_log(json_object *body, struct attest_request *req, struct verdict *v)
{
        _cleanup_free_ uint8_t *buf = NULL;
        json_object *m = NULL;
        const char *s = NULL;
        size_t len = 0, cap;
        enum reason r;

        r = get_member(body, "event_log", "event_log", &m, v);
        if (r == REASON_OK)
                r = get_string(m, "event_log", &s, &len, v);
        if (r != REASON_OK)
                return r;
        cap = base64_decoded_max(len);
        if (cap > REQUEST_EVENT_LOG_MAX + 2)
                return verdict_set(v, REASON_FIELD_TOO_LARGE,
                                   "field \"event_log\" is larger than %d bytes",
                                   REQUEST_EVENT_LOG_MAX);
        buf = malloc(cap ? cap : 1);
        if (!buf)
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        r = decode_into(m, "event_log", buf,
                        cap < REQUEST_EVENT_LOG_MAX ? cap : REQUEST_EVENT_LOG_MAX,
                        &req->event_log_size, v);
        if (r != REASON_OK)
                return r;
        req->event_log = TAKE_PTR(buf);
        return REASON_OK;
}

static enum reason parse_quote(json_object *body, struct attest_request *req, struct verdict *v)
{
        static const char *const keys[] = {"attest", "signature", NULL};
        json_object *q = NULL;
        enum reason r;

        r = get_object(body, "quote", "quote", keys, &q, v);
        if (r == REASON_OK)
                r = get_base64(q, "attest", "quote.attest", req->quote_attest,
                               sizeof(req->quote_attest), &req->quote_attest_size, v);
        if (r == REASON_OK)
                r = get_base64(q, "signature", "quote.signature", req->quote_signature,
                               sizeof(req->quote_signature), &req->quote_signature_size, v);
        return r;
}

/* json-c keeps its own copy of every string; the credential's is wiped before it is freed. */
static void wipe_credential_string(json_object *body)
{
        json_object *m = NULL;

        if (json_object_object_get_ex(body, "credential", &m) &&
            json_object_is_type(m, json_type_string))
                explicit_bzero((char *) json_object_get_string(m),
                               (size_t) json_object_get_string_len(m));
}

/* platform (version 3): kind, report, optional certificates; td_quote with azure-tdx-hcl. */
static enum reason parse_platform(json_object *body, struct attest_request *req, struct verdict *v)
{
        static const char *const keys[] = {"kind", "report", "certificates", "td_quote", NULL};
        struct platform_request *p = &req->platform;
        json_object *o = NULL, *m = NULL;
        const char *s = NULL;
        size_t len = 0;
        enum reason r;

        if (!json_object_object_get_ex(body, "platform", NULL))
                return REASON_OK;
        r = get_object(body, "platform", "platform", keys, &o, v);
        if (r == REASON_OK)
                r = get_member(o, "kind", "platform.kind", &m, v);
        if (r == REASON_OK)
                r = get_string(m, "platform.kind", &s, &len, v);
        if (r != REASON_OK)
                return r;
        if (!streq(s, "snp-report") && !streq(s, "azure-snp-hcl") && !streq(s, "tdx-quote") &&
            !streq(s, "azure-tdx-hcl"))
                return verdict_set(v, REASON_BAD_REQUEST,
                                   "field \"platform.kind\" must be \"snp-report\", "
                                   "\"azure-snp-hcl\", \"tdx-quote\" or \"azure-tdx-hcl\"");
        snprintf(p->kind, sizeof(p->kind), "%s", s);
        r = get_base64(o, "report", "platform.report", p->report, sizeof(p->report),
                       &p->report_size, v);
        if (r != REASON_OK)
                return r;
        /* The TD quote of an Azure TDREPORT: there exactly when the kind needs it. */
        if (json_object_object_get_ex(o, "td_quote", NULL) != streq(s, "azure-tdx-hcl"))
                return verdict_set(v, REASON_BAD_REQUEST,
                                   "field \"platform.td_quote\" goes with kind "
                                   "\"azure-tdx-hcl\", and only there");
        if (streq(s, "azure-tdx-hcl")) {
                r = get_base64(o, "td_quote", "platform.td_quote", p->td_quote, sizeof(p->td_quote),
                               &p->td_quote_size, v);
                if (r != REASON_OK)
                        return r;
        }
        if (json_object_object_get_ex(o, "certificates", &m)) {
                size_t n;

                if (!json_object_is_type(m, json_type_array))
                        return verdict_set(v, REASON_BAD_REQUEST,
                                           "field \"platform.certificates\" must be an array");
                n = json_object_array_length(m);
                if (n > REQUEST_PLATFORM_CERTS)
                        return verdict_set(v, REASON_FIELD_TOO_LARGE,
                                           "field \"platform.certificates\" has more than %d "
                                           "entries",
                                           REQUEST_PLATFORM_CERTS);
                for (size_t i = 0; i < n; i++) {
                        r = decode_into(json_object_array_get_idx(m, i), "platform.certificates",
                                        p->certificates[i], sizeof(p->certificates[i]),
                                        &p->certificate_sizes[i], v);
                        if (r != REASON_OK)
                                return r;
                }
                p->n_certificates = n;
        }
        req->has_platform = true;
        return REASON_OK;
}

enum reason request_parse_attest(const char *body, size_t size, struct attest_request *ret,
                                 struct verdict *v)
{
        return request_parse_attest_at(body, size, 0, ret, v);
}

enum reason request_parse_attest_at(const char *body, size_t size, unsigned path_version,
                                    struct attest_request *ret, struct verdict *v)
{
        static const char *const keys_v2[] = {"version",    "challenge", "ek_public", "ak_public",
                                              "credential", "quote",     "pcrs",      "event_log",
                                              "node",       NULL};
        static const char *const keys_v3[] = {"version",    "challenge", "ek_public", "ak_public",
                                              "credential", "quote",     "pcrs",      "event_log",
                                              "node",       "platform",  NULL};
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct attest_request *req;
        unsigned version = 0;
        enum reason r;

        r = body_parse(body, size, &o, v);
        if (r != REASON_OK)
                return r;
        r = check_version(o, path_version, &version, v);
        if (r == REASON_OK)
                r = check_keys(o, "", version >= 3 ? keys_v3 : keys_v2, v);
        if (r != REASON_OK) {
                wipe_credential_string(o);
                return r;
        }

        req = calloc(1, sizeof(*req));
        if (!req) {
                wipe_credential_string(o);
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        }
        /* In the order of the field table, so the first bad field is the one named. */
        r = get_base64(o, "challenge", "challenge", req->challenge, sizeof(req->challenge),
                       &req->challenge_size, v);
        if (r == REASON_OK)
                r = get_public(o, "ek_public", &req->ek_public, v);
        if (r == REASON_OK)
                r = get_public(o, "ak_public", &req->ak_public, v);
        if (r == REASON_OK)
                r = get_base64(o, "credential", "credential", req->credential,
                               sizeof(req->credential), &req->credential_size, v);
        if (r == REASON_OK)
                r = parse_quote(o, req, v);
        if (r == REASON_OK)
                r = parse_pcrs(o, req, v);
        if (r == REASON_OK)
                r = parse_event_log(o, req, v);
        if (r == REASON_OK)
                r = parse_node(o, &req->node, v);
        if (r == REASON_OK)
                r = parse_platform(o, req, v);
        req->version = version;
        wipe_credential_string(o);

        if (r == REASON_OK) {
                *ret = *req;
                req->event_log = NULL; /* now ret's */
        }
        attest_request_done(req);
        free(req);
        return r;
}

void attest_request_done(struct attest_request *r)
{
        if (!r)
                return;
        explicit_bzero(r->credential, sizeof(r->credential));
        free(r->event_log);
        r->event_log = NULL;
        r->event_log_size = 0;
}
