/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy file (docs/PROTOCOL.md, "The policy file"): parsed strictly, judged against a
 * replayed event log with sorted digests and binary search, written back in canonical form. */

#include "policy/policy.h"
#include "platform/platform.h"
#include "common/json-util.h"
#include "common/util-verifier.h"

#include <fcntl.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#define POLICY_MAX_SIZE    (16u << 20)
#define POLICY_MAX_RULES   64 /* per PCR: policy_check() keeps one bit per rule */
#define POLICY_MAX_DIGESTS 65536
#define POLICY_JSON_DEPTH  16
#define POLICY_MAX_KEYS    64 /* per object; the widest valid one ("pcrs") has 24 */

/* PROTOCOL.md: the firmware, the boot application, Secure Boot, the kernel's stub, the UKI's
 * sections and the cap PCR. */
#define DEFAULT_QUOTE_MASK (0xffu | 1u << 9 | 1u << 11 | 1u << 15) /* 0-7, 9, 11, 15 */
#define DEFAULT_CAP_PCR    15
#define IMA_PCR            10
/* TCG PC Client PTP: PCR 16 (debug) and 23 (application) are resettable from locality 0, and
 * 17-22 by the DRTM localities; a cap there is one TPM2_PCR_Reset away from undone. */
#define FIRST_RESETTABLE_PCR 16

/* SHA-256 of the cap strings, as the gate's TPM2_PCR_Event extends them. */
static const struct {
        const char *text;
        uint8_t sha256[32];
} cap_strings[] = {
    {POLICY_CAP_RELEASED, {0x45, 0x35, 0xf9, 0x33, 0x3c, 0x95, 0x34, 0x17, 0x38, 0x39, 0x30,
                           0x1f, 0x08, 0x79, 0x44, 0x96, 0x91, 0x39, 0x33, 0x8b, 0xa4, 0xb5,
                           0x6d, 0x51, 0xc9, 0x53, 0x63, 0xff, 0x59, 0xb3, 0x1f, 0x63}},
    {POLICY_CAP_FAILED, {0x36, 0xfb, 0x0a, 0xf1, 0x43, 0x1a, 0x04, 0x14, 0x34, 0x03, 0x51,
                         0x28, 0x3f, 0x56, 0xd3, 0x47, 0x0d, 0x33, 0xd7, 0xd8, 0x5e, 0x6a,
                         0x90, 0x5a, 0x9c, 0x77, 0xd7, 0x04, 0xd9, 0xdf, 0x23, 0xe3}},
};

uint32_t policy_opt_in_from_name(const char *name)
{
        for (unsigned n = 0; n < _POLICY_ALLOW_MAX; n++)
                if (streq(name, policy_opt_in_name(n)))
                        return 1u << n;
        return 0;
}

const char *policy_cap_string(const uint8_t digest[32])
{
        for (size_t i = 0; i < ELEMENTSOF(cap_strings); i++)
                if (memcmp(digest, cap_strings[i].sha256, 32) == 0)
                        return cap_strings[i].text;
        return NULL;
}

struct policy_rule {
        uint32_t type;
        bool required;
        uint8_t (*digests)[32]; /* sorted, no duplicates */
        size_t n_digests;
};

/* One image's boots: the pinned PCRs and their rules. */
struct policy_image {
        char label[POLICY_LABEL_MAX + 1]; /* as written, or derived (img-<12 hex>) */
        bool label_written;
        uint32_t pinned_mask;
        struct policy_rule *rules[EVENTLOG_PCRS]; /* sorted by type, one rule per type */
        size_t n_rules[EVENTLOG_PCRS];
        struct platform_policy platform; /* "platform": the defaults when absent */
        bool has_platform;               /* written back by policy_to_json() */
};

struct policy {
        uint32_t opt_ins; /* POLICY_ALLOW_* */
        uint32_t quote_mask;
        unsigned cap_pcr;
        bool multi;                  /* written with "images" rather than "pcrs" */
        struct policy_image *images; /* a boot passes when it passes one of them */
        size_t n_images;
        struct policy_image *retired; /* refused by name: image-retired */
        size_t n_retired;
        struct platform_policy platform; /* "platform": the defaults when absent */
        bool has_platform;               /* written back by policy_to_json() */
};

static void image_clear(struct policy_image *img)
{
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++) {
                for (size_t i = 0; i < img->n_rules[pcr]; i++)
                        free(img->rules[pcr][i].digests);
                free(img->rules[pcr]);
        }
}

void policy_free(struct policy *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_images; i++)
                image_clear(&p->images[i]);
        for (size_t i = 0; i < p->n_retired; i++)
                image_clear(&p->retired[i]);
        free(p->images);
        free(p->retired);
        free(p);
}

static void policy_freep(struct policy **p)
{
        policy_free(*p);
}

/* A key as an error message may quote it: printable ASCII, shortened. */
static const char *printable(const char *s, char buf[48])
{
        size_t i = 0;

        for (; s[i] && i < 40; i++)
                buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
        if (s[i])
                buf[i++] = '~';
        buf[i] = '\0';
        return buf;
}

static const char *json_type_word(json_object *o)
{
        switch (json_object_get_type(o)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a fraction";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "?";
}

/* json-c keeps the last of two equal keys without a word; in a security policy the first
 * one is what a reviewer reads, so two equal keys in one object are refused instead. json-c
 * has checked the syntax already, so this walk only needs to find strings and nesting. */
struct scan {
        const char *s;
        size_t n, i;
};

static void scan_ws(struct scan *sc)
{
        while (sc->i < sc->n && strchr(" \t\r\n", sc->s[sc->i]))
                sc->i++;
}

/* At the opening quote; leaves i after the closing one. */
static void scan_string(struct scan *sc, size_t *ret_start, size_t *ret_len, bool *ret_escaped)
{
        size_t start = ++sc->i;
        bool escaped = false;

        while (sc->i < sc->n && sc->s[sc->i] != '"') {
                if (sc->s[sc->i] == '\\') {
                        escaped = true;
                        sc->i++;
                }
                sc->i++;
        }
        *ret_start = start;
        *ret_len = (sc->i < sc->n ? sc->i : sc->n) - start;
        *ret_escaped = escaped;
        sc->i++;
}

static int scan_value(struct scan *sc, unsigned depth, char *err, size_t errlen)
{
        char c;

        if (depth > POLICY_JSON_DEPTH)
                return set_error(err, errlen, -EINVAL, "nested deeper than %d levels",
                                 POLICY_JSON_DEPTH);
        scan_ws(sc);
        if (sc->i >= sc->n)
                return 0;
        c = sc->s[sc->i];
        if (c == '{') {
                size_t starts[POLICY_MAX_KEYS], lens[POLICY_MAX_KEYS], n_keys = 0;

                sc->i++;
                for (;;) {
                        size_t start, len;
                        bool escaped;
                        int r;

                        scan_ws(sc);
                        if (sc->i >= sc->n || sc->s[sc->i] == '}')
                                break;
                        if (sc->s[sc->i] == ',') {
                                sc->i++;
                                continue;
                        }
                        if (sc->s[sc->i] != '"')
                                return set_error(err, errlen, -EINVAL, "not JSON at offset %zu",
                                                 sc->i);
                        scan_string(sc, &start, &len, &escaped);
                        /* No key of the policy needs an escape; "\u0034" would otherwise be
                         * a way to spell "4" twice unseen. */
                        if (escaped)
                                return set_error(err, errlen, -EINVAL,
                                                 "key with an escape sequence at offset %zu",
                                                 start);
                        for (size_t k = 0; k < n_keys; k++)
                                if (lens[k] == len &&
                                    memcmp(sc->s + starts[k], sc->s + start, len) == 0)
                                        return set_error(
                                            err, errlen, -EINVAL, "duplicate key \"%.*s\"",
                                            (int) (len < 40 ? len : 40), sc->s + start);
                        if (n_keys == POLICY_MAX_KEYS)
                                return set_error(err, errlen, -EINVAL,
                                                 "more than %d keys in one object",
                                                 POLICY_MAX_KEYS);
                        starts[n_keys] = start;
                        lens[n_keys] = len;
                        n_keys++;
                        scan_ws(sc);
                        if (sc->i < sc->n && sc->s[sc->i] == ':')
                                sc->i++;
                        r = scan_value(sc, depth + 1, err, errlen);
                        if (r < 0)
                                return r;
                }
                sc->i++;
        } else if (c == '[') {
                sc->i++;
                for (;;) {
                        int r;

                        scan_ws(sc);
                        if (sc->i >= sc->n || sc->s[sc->i] == ']')
                                break;
                        if (sc->s[sc->i] == ',') {
                                sc->i++;
                                continue;
                        }
                        r = scan_value(sc, depth + 1, err, errlen);
                        if (r < 0)
                                return r;
                }
                sc->i++;
        } else if (c == '"') {
                size_t start, len;
                bool escaped;
                scan_string(sc, &start, &len, &escaped);
        } else {
                /* a number, true, false or null */
                while (sc->i < sc->n && !strchr(",]} \t\r\n", sc->s[sc->i]))
                        sc->i++;
        }
        return 0;
}

static int parse_pcr_number(json_object *o, const char *what, unsigned *ret, char *err,
                            size_t errlen)
{
        int64_t n;

        if (!json_object_is_type(o, json_type_int))
                return set_error(err, errlen, -EINVAL, "%s: must be a PCR number, not %s", what,
                                 json_type_word(o));
        n = json_object_get_int64(o);
        if (n < 0 || n >= EVENTLOG_PCRS)
                return set_error(err, errlen, -EINVAL, "%s: PCR %" PRId64 " out of range 0-%d",
                                 what, n, EVENTLOG_PCRS - 1);
        if (n == IMA_PCR)
                return set_error(
                    err, errlen, -EINVAL,
                    "%s: PCR 10 is never quoted (IMA extends it without logging to the "
                    "TCG log)",
                    what);
        *ret = (unsigned) n;
        return 0;
}

static int digest_cmp(const void *a, const void *b)
{
        return memcmp(a, b, 32);
}

static int rule_cmp(const void *a, const void *b)
{
        const struct policy_rule *x = a, *y = b;
        return x->type < y->type ? -1 : x->type > y->type;
}

static int parse_rule(json_object *o, const char *path, struct policy_rule *ret, char *err,
                      size_t errlen)
{
        /* json-c gives null as a NULL pointer: presence is tracked on its own. */
        json_object *type = NULL, *sha256 = NULL, *required = NULL;
        bool has_type = false, has_sha256 = false, has_required = false;
        _cleanup_free_ uint8_t(*digests)[32] = NULL;
        char buf[48], tbuf[VERDICT_EVENT_TYPE_MAX];
        struct policy_rule rule = {};
        size_t n;

        if (!json_object_is_type(o, json_type_object))
                return set_error(err, errlen, -EINVAL, "%s: a rule must be an object, not %s", path,
                                 json_type_word(o));
        json_object_object_foreach(o, key, val)
        {
                if (streq(key, "type"))
                        type = val, has_type = true;
                else if (streq(key, "sha256"))
                        sha256 = val, has_sha256 = true;
                else if (streq(key, "required"))
                        required = val, has_required = true;
                else
                        return set_error(err, errlen, -EINVAL, "%s: unknown key \"%s\"", path,
                                         printable(key, buf));
        }

        if (!has_type)
                return set_error(err, errlen, -EINVAL, "%s: missing key \"type\"", path);
        if (!json_object_is_type(type, json_type_string))
                return set_error(err, errlen, -EINVAL, "%s.type: must be a string, not %s", path,
                                 json_type_word(type));
        if (eventlog_type_from_name(json_object_get_string(type), &rule.type) < 0)
                return set_error(err, errlen, -EINVAL,
                                 "%s.type: unknown event type \"%s\" (a TCG name such as "
                                 "EV_EFI_ACTION, or 0x and 8 hex digits)",
                                 path, printable(json_object_get_string(type), buf));
        if (rule.type == EV_NO_ACTION)
                return set_error(err, errlen, -EINVAL,
                                 "%s.type: EV_NO_ACTION events are never extended, a rule for them "
                                 "cannot match",
                                 path);

        if (has_required) {
                if (!json_object_is_type(required, json_type_boolean))
                        return set_error(err, errlen, -EINVAL,
                                         "%s.required: must be true or false, not %s", path,
                                         json_type_word(required));
                rule.required = json_object_get_boolean(required);
        }

        if (!has_sha256)
                return set_error(err, errlen, -EINVAL, "%s: missing key \"sha256\"", path);
        if (!json_object_is_type(sha256, json_type_array))
                return set_error(err, errlen, -EINVAL,
                                 "%s.sha256: must be an array of hex digests, not %s", path,
                                 json_type_word(sha256));
        n = json_object_array_length(sha256);
        if (n == 0)
                return set_error(err, errlen, -EINVAL,
                                 "%s.sha256: empty: a rule must allow at least one digest", path);
        if (n > POLICY_MAX_DIGESTS)
                return set_error(err, errlen, -EINVAL, "%s.sha256: more than %d digests", path,
                                 POLICY_MAX_DIGESTS);
        digests = calloc(n, sizeof(*digests));
        if (!digests)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_array_get_idx(sha256, i);
                const char *hs;

                if (!json_object_is_type(d, json_type_string))
                        return set_error(err, errlen, -EINVAL,
                                         "%s.sha256[%zu]: must be a string, not %s", path, i,
                                         json_type_word(d));
                hs = json_object_get_string(d);
                if (unhex_lower(hs, strlen(hs), digests[i], 32) < 0)
                        return set_error(err, errlen, -EINVAL,
                                         "%s.sha256[%zu]: \"%s\" is not 64 lowercase hex digits",
                                         path, i, printable(hs, buf));
        }
        for (size_t i = 0; i < n; i++) {
                const char *cap = policy_cap_string(digests[i]);
                /* Allowing it would let a log that claims the cap replay to a capped PCR:
                 * a second token in the same boot (issue 11). Never, whatever the PCR. */
                if (cap)
                        return set_error(
                            err, errlen, -EINVAL,
                            "%s.sha256[%zu]: %s is SHA-256(\"%s\"), the gate's cap: "
                            "no policy may allow it",
                            path, i, json_object_get_string(json_object_array_get_idx(sha256, i)),
                            cap);
        }
        qsort(digests, n, sizeof(*digests), digest_cmp);
        for (size_t i = 1; i < n; i++)
                if (memcmp(digests[i - 1], digests[i], 32) == 0) {
                        char h[65];
                        hex_encode(digests[i], 32, h);
                        return set_error(err, errlen, -EINVAL, "%s.sha256: %s listed twice (%s)",
                                         path, h, eventlog_type_name(rule.type, tbuf));
                }

        rule.digests = TAKE_PTR(digests);
        rule.n_digests = n;
        *ret = rule;
        return 0;
}

static int parse_pcr_rules(const struct policy *p, struct policy_image *img, const char *prefix,
                           unsigned pcr, json_object *rules, char *err, size_t errlen)
{
        char path[96], tbuf[VERDICT_EVENT_TYPE_MAX];
        size_t n;

        snprintf(path, sizeof(path), "%spcrs.%u", prefix, pcr);
        if (!(p->quote_mask & 1u << pcr))
                return set_error(err, errlen, -EINVAL, "%s: PCR %u is pinned but not in quote_pcrs",
                                 path, pcr);
        if (!json_object_is_type(rules, json_type_array))
                return set_error(err, errlen, -EINVAL, "%s: must be an array of rules, not %s",
                                 path, json_type_word(rules));
        n = json_object_array_length(rules);
        if (n > POLICY_MAX_RULES)
                return set_error(err, errlen, -EINVAL, "%s: more than %d rules", path,
                                 POLICY_MAX_RULES);

        img->pinned_mask |= 1u << pcr;
        if (n == 0)
                return 0; /* pinned and empty: no extended event allowed at all */
        img->rules[pcr] = calloc(n, sizeof(struct policy_rule));
        if (!img->rules[pcr])
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct policy_rule *rule = &img->rules[pcr][i];
                char rpath[112];
                int r;

                snprintf(rpath, sizeof(rpath), "%s[%zu]", path, i);
                r = parse_rule(json_object_array_get_idx(rules, i), rpath, rule, err, errlen);
                if (r < 0)
                        return r;
                img->n_rules[pcr]++;
                /* One rule per type: a digest in two rules of one type would make "required"
                 * ambiguous, and two lists for one type are one list the reviewer must merge
                 * in their head. */
                for (size_t k = 0; k < i; k++)
                        if (img->rules[pcr][k].type == rule->type)
                                return set_error(err, errlen, -EINVAL,
                                                 "%s: a second rule for %s (merge it into %s[%zu])",
                                                 rpath, eventlog_type_name(rule->type, tbuf), path,
                                                 k);
        }
        qsort(img->rules[pcr], n, sizeof(struct policy_rule), rule_cmp);
        return 0;
}

/* A label: [a-z0-9][a-z0-9._-]{0,62}, so it is safe in a message, an audit line, a file name.
 * @return 0 or -EINVAL */
int policy_label_check(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > POLICY_LABEL_MAX)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

                if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
                        return -EINVAL;
        }
        return 0;
}

static void image_rules_json(FILE *f, const struct policy_image *img, const char *indent);

/* An image's "pcrs" object: every PCR's rules, the PCR 2/7 rule, the cap PCR pinned. */
static int parse_image_pcrs(const struct policy *p, struct policy_image *img, const char *prefix,
                            json_object *pcrs, char *err, size_t errlen)
{
        char buf[48];
        int r;

        if (!json_object_is_type(pcrs, json_type_object))
                return set_error(err, errlen, -EINVAL, "%spcrs: must be an object, not %s", prefix,
                                 json_type_word(pcrs));
        json_object_object_foreach(pcrs, pkey, pval)
        {
                unsigned pcr;

                if (pcr_key_parse(pkey, EVENTLOG_PCRS, &pcr) < 0)
                        return set_error(err, errlen, -EINVAL,
                                         "%spcrs: key \"%s\" is not a PCR number 0-%d", prefix,
                                         printable(pkey, buf), EVENTLOG_PCRS - 1);
                r = parse_pcr_rules(p, img, prefix, pcr, pval, err, errlen);
                if (r < 0)
                        return r;
        }
        /* A Driver#### on the ESP (or an option ROM) runs before the boot application and
         * could report the image's events while booting another: its measurement lands in
         * PCR 2, and Secure Boot's state in PCR 7. Not judging them is a choice the policy
         * must name. */
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++) {
                if (!(POLICY_FIRMWARE_JUDGED_PCRS & 1u << pcr) ||
                    (p->opt_ins & POLICY_ALLOW_FIRMWARE_UNJUDGED) ||
                    (p->quote_mask & img->pinned_mask & 1u << pcr))
                        continue;
                return set_error(err, errlen, -EINVAL,
                                 "%spcrs: PCR %u (%s) is not %s: pin it (policy from-uki "
                                 "--platform-log, from-log) or opt in with \"allow\": "
                                 "[\"firmware-unjudged\"]",
                                 prefix, pcr, pcr == 2 ? "boot-time drivers" : "Secure Boot",
                                 p->quote_mask & 1u << pcr ? "pinned" : "quoted and pinned");
        }
        /* The cap PCR is always judged: unless the policy lists the events that precede
         * the gate there (systemd 253+ measures into PCR 15), pinned empty, so it must hold
         * its reset value when the gate attests. */
        img->pinned_mask |= 1u << p->cap_pcr;
        return 0;
}

/* The label an image without one is known by: a digest of its rules, so the same rules
 * always have the same name. @return 0 or -ENOMEM */
static int image_derive_label(struct policy_image *img)
{
        _cleanup_free_ char *text = NULL;
        uint8_t md[32];
        char h[65];
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return -ENOMEM;
        image_rules_json(f, img, "");
        if (ferror(f) || fclose(f) != 0)
                return -ENOMEM;
        SHA256((const uint8_t *) text, size, md);
        hex_encode(md, 6, h);
        memcpy(img->label, "img-", 4);
        memcpy(img->label + 4, h, 13); /* 12 digits and the NUL */
        return 0;
}

/* "images" or "retired": an array of {"label": …, "pcrs": {…}}. */
static int parse_image_list(struct policy *p, const char *key, json_object *list,
                            struct policy_image **ret, size_t *ret_n, char *err, size_t errlen)
{
        char buf[48];
        size_t n;
        int r;

        if (!json_object_is_type(list, json_type_array))
                return set_error(err, errlen, -EINVAL, "%s: must be an array of images, not %s",
                                 key, json_type_word(list));
        n = json_object_array_length(list);
        if (n > POLICY_MAX_IMAGES)
                return set_error(err, errlen, -EINVAL, "%s: more than %d images", key,
                                 POLICY_MAX_IMAGES);
        if (n == 0)
                return 0;
        *ret = calloc(n, sizeof(struct policy_image));
        if (!*ret)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *o = json_object_array_get_idx(list, i), *label = NULL, *pcrs = NULL;
                struct policy_image *img = &(*ret)[i];
                char prefix[64];

                snprintf(prefix, sizeof(prefix), "%s[%zu].", key, i);
                *ret_n = i + 1;
                if (!json_object_is_type(o, json_type_object))
                        return set_error(err, errlen, -EINVAL, "%s[%zu]: must be an object, not %s",
                                         key, i, json_type_word(o));
                json_object_object_foreach(o, k, v)
                {
                        if (streq(k, "label"))
                                label = v;
                        else if (streq(k, "pcrs"))
                                pcrs = v;
                        else
                                return set_error(err, errlen, -EINVAL,
                                                 "%s[%zu]: unknown key \"%s\"", key, i,
                                                 printable(k, buf));
                }
                if (!label || !json_object_is_type(label, json_type_string) ||
                    policy_label_check(json_object_get_string(label)) < 0)
                        return set_error(err, errlen, -EINVAL,
                                         "%s[%zu].label: required, [a-z0-9][a-z0-9._-]{0,62}", key,
                                         i);
                if (!pcrs)
                        return set_error(err, errlen, -EINVAL, "%s[%zu]: missing key \"pcrs\"", key,
                                         i);
                snprintf(img->label, sizeof(img->label), "%s", json_object_get_string(label));
                img->label_written = true;
                r = parse_image_pcrs(p, img, prefix, pcrs, err, errlen);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Images then retired images, as one list. */
static const struct policy_image *policy_image_at(const struct policy *p, size_t i)
{
        return i < p->n_images ? &p->images[i] : &p->retired[i - p->n_images];
}

int policy_parse(const char *json, size_t size, struct policy **ret, char *err, size_t errlen)
{
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_(policy_freep) struct policy *p = NULL;
        /* json-c gives null as a NULL pointer: presence is tracked on its own. */
        json_object *version = NULL, *quote = NULL, *cap = NULL, *pcrs = NULL, *allow = NULL,
                    *label = NULL, *images = NULL, *retired = NULL, *platform = NULL;
        bool has_version = false, has_quote = false, has_cap = false, has_pcrs = false,
             has_allow = false, has_label = false, has_images = false, has_retired = false,
             has_platform = false;
        char buf[48];
        size_t end;
        int r;

        if (err && errlen > 0)
                err[0] = '\0';
        if (!json)
                return set_error(err, errlen, -EINVAL, "no policy");
        if (size > POLICY_MAX_SIZE)
                return set_error(err, errlen, -EINVAL, "larger than %u bytes", POLICY_MAX_SIZE);
        const char *nul = memchr(json, 0, size);
        if (nul)
                return set_error(err, errlen, -EINVAL, "not JSON: a NUL byte at offset %zu",
                                 (size_t) (nul - json));

        tok = json_tokener_new_ex(POLICY_JSON_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        root = json_tokener_parse_ex(tok, json, (int) size);
        if (!root) {
                enum json_tokener_error jerr = json_tokener_get_error(tok);
                if (jerr == json_tokener_continue || jerr == json_tokener_success)
                        return set_error(err, errlen, -EINVAL, "not JSON: it ends early");
                return set_error(err, errlen, -EINVAL, "not JSON: %s at offset %zu",
                                 json_tokener_error_desc(jerr), json_tokener_get_parse_end(tok));
        }
        end = json_tokener_get_parse_end(tok);
        while (end < size && strchr(" \t\r\n", json[end]))
                end++;
        if (end < size)
                return set_error(err, errlen, -EINVAL, "not JSON: trailing data at offset %zu",
                                 end);

        struct scan sc = {json, size, 0};
        r = scan_value(&sc, 0, err, errlen);
        if (r < 0)
                return r;

        if (!json_object_is_type(root, json_type_object))
                return set_error(err, errlen, -EINVAL, "the policy must be a JSON object, not %s",
                                 json_type_word(root));
        json_object_object_foreach(root, key, val)
        {
                if (streq(key, "version"))
                        version = val, has_version = true;
                else if (streq(key, "quote_pcrs"))
                        quote = val, has_quote = true;
                else if (streq(key, "cap_pcr"))
                        cap = val, has_cap = true;
                else if (streq(key, "pcrs"))
                        pcrs = val, has_pcrs = true;
                else if (streq(key, "allow"))
                        allow = val, has_allow = true;
                else if (streq(key, "label"))
                        label = val, has_label = true;
                else if (streq(key, "images"))
                        images = val, has_images = true;
                else if (streq(key, "retired"))
                        retired = val, has_retired = true;
                else if (streq(key, "platform"))
                        platform = val, has_platform = true;
                else
                        return set_error(err, errlen, -EINVAL, "unknown key \"%s\"",
                                         printable(key, buf));
        }

        if (!has_version)
                return set_error(err, errlen, -EINVAL, "missing key \"version\"");
        if (!json_object_is_type(version, json_type_int) || json_object_get_int64(version) != 1)
                return set_error(err, errlen, -EINVAL, "version: must be 1");

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;

        platform_policy_default(&p->platform);
        if (has_platform) {
                r = platform_policy_parse(platform, &p->platform, err, errlen);
                if (r < 0)
                        return r;
                p->has_platform = true;
        }

        p->quote_mask = DEFAULT_QUOTE_MASK;
        if (has_quote) {
                size_t n;

                if (!json_object_is_type(quote, json_type_array))
                        return set_error(err, errlen, -EINVAL,
                                         "quote_pcrs: must be an array of PCRs, not %s",
                                         json_type_word(quote));
                n = json_object_array_length(quote);
                if (n == 0)
                        return set_error(err, errlen, -EINVAL,
                                         "quote_pcrs: empty (the cap PCR is always quoted)");
                p->quote_mask = 0;
                for (size_t i = 0; i < n; i++) {
                        char what[48];
                        unsigned pcr;

                        snprintf(what, sizeof(what), "quote_pcrs[%zu]", i);
                        r = parse_pcr_number(json_object_array_get_idx(quote, i), what, &pcr, err,
                                             errlen);
                        if (r < 0)
                                return r;
                        if (p->quote_mask & 1u << pcr)
                                return set_error(err, errlen, -EINVAL, "%s: PCR %u listed twice",
                                                 what, pcr);
                        p->quote_mask |= 1u << pcr;
                }
        }

        if (has_allow) {
                size_t n;

                if (!json_object_is_type(allow, json_type_array))
                        return set_error(err, errlen, -EINVAL,
                                         "allow: must be an array of opt-in names, not %s",
                                         json_type_word(allow));
                n = json_object_array_length(allow);
                for (size_t i = 0; i < n; i++) {
                        json_object *o = json_object_array_get_idx(allow, i);
                        uint32_t bit;

                        if (!json_object_is_type(o, json_type_string))
                                return set_error(err, errlen, -EINVAL,
                                                 "allow[%zu]: must be a string, not %s", i,
                                                 json_type_word(o));
                        bit = policy_opt_in_from_name(json_object_get_string(o));
                        if (!bit)
                                return set_error(err, errlen, -EINVAL,
                                                 "allow[%zu]: unknown opt-in \"%s\" (%s or %s)", i,
                                                 printable(json_object_get_string(o), buf),
                                                 policy_opt_in_name(0), policy_opt_in_name(1));
                        if (p->opt_ins & bit)
                                return set_error(err, errlen, -EINVAL,
                                                 "allow[%zu]: \"%s\" listed twice", i,
                                                 json_object_get_string(o));
                        p->opt_ins |= bit;
                }
        }

        p->cap_pcr = DEFAULT_CAP_PCR;
        if (has_cap) {
                r = parse_pcr_number(cap, "cap_pcr", &p->cap_pcr, err, errlen);
                if (r < 0)
                        return r;
        }
        if (p->cap_pcr >= FIRST_RESETTABLE_PCR)
                return set_error(err, errlen, -EINVAL,
                                 "cap_pcr: PCR %u is resettable (16 and 23 from locality 0, "
                                 "17-22 by DRTM): root could reset it and undo the cap; use "
                                 "a PCR 0-15 (15 is the default)",
                                 p->cap_pcr);
        if (!(p->quote_mask & 1u << p->cap_pcr))
                return set_error(
                    err, errlen, -EINVAL,
                    "cap_pcr: PCR %u is not in quote_pcrs (the cap PCR is always quoted)",
                    p->cap_pcr);

        /* Required, even when empty: a policy that pins nothing accepts any boot, and that
         * should be written down, not the result of a forgotten key. */
        if (has_pcrs && has_images)
                return set_error(err, errlen, -EINVAL,
                                 "both \"pcrs\" and \"images\": one image's rules, or a list "
                                 "of images, not both");
        if (!has_pcrs && !has_images)
                return set_error(err, errlen, -EINVAL,
                                 "missing key \"pcrs\" (use {} to pin no PCR)");
        if (has_pcrs) {
                p->images = calloc(1, sizeof(struct policy_image));
                if (!p->images)
                        return -ENOMEM;
                p->n_images = 1;
                if (has_label) {
                        if (!json_object_is_type(label, json_type_string) ||
                            policy_label_check(json_object_get_string(label)) < 0)
                                return set_error(err, errlen, -EINVAL,
                                                 "label: [a-z0-9][a-z0-9._-]{0,62}");
                        snprintf(p->images[0].label, sizeof(p->images[0].label), "%s",
                                 json_object_get_string(label));
                        p->images[0].label_written = true;
                }
                r = parse_image_pcrs(p, &p->images[0], "", pcrs, err, errlen);
                if (r < 0)
                        return r;
        } else {
                if (has_label)
                        return set_error(err, errlen, -EINVAL,
                                         "label: with \"images\", each image has its own");
                p->multi = true;
                r = parse_image_list(p, "images", images, &p->images, &p->n_images, err, errlen);
                if (r < 0)
                        return r;
                if (p->n_images == 0)
                        return set_error(err, errlen, -EINVAL,
                                         "images: empty (a policy that accepts no image)");
        }
        if (has_retired) {
                r = parse_image_list(p, "retired", retired, &p->retired, &p->n_retired, err,
                                     errlen);
                if (r < 0)
                        return r;
        }
        if (!p->images[0].label_written) {
                r = image_derive_label(&p->images[0]);
                if (r < 0)
                        return r;
        }
        /* A label names one image: it is how an operator retires one and how a refusal names
         * it. */
        for (size_t i = 0; i < p->n_images + p->n_retired; i++)
                for (size_t k = 0; k < i; k++) {
                        const struct policy_image *a = policy_image_at(p, i),
                                                  *b = policy_image_at(p, k);

                        if (streq(a->label, b->label))
                                return set_error(err, errlen, -EINVAL,
                                                 "image label \"%s\" used twice", a->label);
                }

        *ret = TAKE_PTR(p);
        return 0;
}

int policy_load(const char *path, struct policy **ret, char *err, size_t errlen)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = negative_errno();
                return set_error(err, errlen, r, "cannot open: %s", strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                int r = negative_errno();
                return set_error(err, errlen, r, "cannot stat: %s", strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return set_error(err, errlen, -EINVAL, "not a regular file");
        if ((uint64_t) st.st_size > POLICY_MAX_SIZE)
                return set_error(err, errlen, -EINVAL, "larger than %u bytes", POLICY_MAX_SIZE);
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        /* Read to EOF, not to st_size: the file may change under us, never past the cap. */
        for (;;) {
                ssize_t n = read(fd, buf + size, (size_t) st.st_size + 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = negative_errno();
                        return set_error(err, errlen, r, "cannot read: %s", strerror(-r));
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > (size_t) st.st_size)
                        return set_error(err, errlen, -EINVAL, "changed while being read");
        }
        return policy_parse(buf, size, ret, err, errlen);
}

const struct platform_policy *policy_platform(const struct policy *p)
{
        return &p->platform;
}

uint32_t policy_opt_ins(const struct policy *p)
{
        return p->opt_ins;
}

uint32_t policy_quote_mask(const struct policy *p)
{
        return p->quote_mask;
}

unsigned policy_cap_pcr(const struct policy *p)
{
        return p->cap_pcr;
}

static const struct policy_rule *find_rule(const struct policy_image *img, unsigned pcr,
                                           uint32_t type)
{
        struct policy_rule key = {.type = type};

        if (img->n_rules[pcr] == 0)
                return NULL; /* pinned empty: bsearch() must not see a NULL base */
        return bsearch(&key, img->rules[pcr], img->n_rules[pcr], sizeof(struct policy_rule),
                       rule_cmp);
}

/* EFI_GLOBAL_VARIABLE as laid out in memory. */
static const uint8_t GUID_GLOBAL_VARIABLE[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                                 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};

static uint64_t le64(const uint8_t *p)
{
        uint64_t v = 0;

        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

/* Is e PCR 7's measurement of the SecureBoot variable (UEFI_VARIABLE_DATA: GUID, name length in
 * characters, data length, UTF-16 name, data)? @return its data, or NULL */
static const uint8_t *secure_boot_variable(const struct eventlog_event *e, uint64_t *ret_size)
{
        static const char name[] = "SecureBoot";
        const size_t n = sizeof(name) - 1;
        uint64_t name_len, data_len;

        if (e->pcr != 7 || e->type != 0x80000001u /* EV_EFI_VARIABLE_DRIVER_CONFIG */ ||
            e->data_size < 32 || memcmp(e->data, GUID_GLOBAL_VARIABLE, 16) != 0)
                return NULL;
        name_len = le64(e->data + 16);
        data_len = le64(e->data + 24);
        if (name_len != n || data_len > e->data_size || 32 + 2 * n + data_len > e->data_size)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (e->data[32 + 2 * i] != (uint8_t) name[i] || e->data[32 + 2 * i + 1] != 0)
                        return NULL;
        *ret_size = data_len;
        return e->data + 32 + 2 * n;
}

/* Secure Boot on: the log's SecureBoot event says 1, and its digest is of its own data (the
 * digest is what the replay proved; the data is what says 1). */
static enum reason check_secure_boot(const struct eventlog *log, struct verdict *v)
{
        bool seen = false;

        for (size_t i = 0; i < log->n_events; i++) {
                const struct eventlog_event *e = &log->events[i];
                const uint8_t *value;
                uint64_t size = 0;
                uint8_t d[32];

                value = secure_boot_variable(e, &size);
                if (!value)
                        continue;
                SHA256(e->data, e->data_size, d);
                if (size == 1 && value[0] == 1 && memcmp(d, e->sha256, 32) == 0) {
                        seen = true;
                        continue;
                }
                verdict_set(v, REASON_SECURE_BOOT_OFF,
                            "PCR 7 event %ld: %s; the policy does not allow \"secure-boot-off\"",
                            e->index,
                            memcmp(d, e->sha256, 32) != 0
                                ? "the SecureBoot variable's digest is not of its data"
                                : "Secure Boot is off (SecureBoot is not 1)");
                v->pcr = 7;
                v->event = e->index;
                snprintf(v->event_type, sizeof(v->event_type), "EV_EFI_VARIABLE_DRIVER_CONFIG");
                hex_encode(e->sha256, 32, v->digest);
                return REASON_SECURE_BOOT_OFF;
        }
        if (seen)
                return REASON_OK;
        verdict_set(v, REASON_SECURE_BOOT_OFF,
                    "PCR 7 has no SecureBoot variable event: Secure Boot state unknown; the "
                    "policy does not allow \"secure-boot-off\"");
        v->pcr = 7;
        return REASON_SECURE_BOOT_OFF;
}

/* In any PCR, pinned or not: a log may claim the cap only after the gate ran, and then this
 * boot has had its token. */
static enum reason check_cap(const struct eventlog *log, struct verdict *v)
{
        char tbuf[VERDICT_EVENT_TYPE_MAX], h[65];

        for (size_t i = 0; i < log->n_events; i++) {
                const struct eventlog_event *e = &log->events[i];
                const char *cap;

                if (e->type == EV_NO_ACTION || e->pcr >= EVENTLOG_PCRS)
                        continue;
                cap = policy_cap_string(e->sha256);
                if (!cap)
                        continue;
                const char *name = eventlog_type_name(e->type, tbuf);
                hex_encode(e->sha256, 32, h);
                verdict_set(v, REASON_ALREADY_ATTESTED,
                            "PCR %" PRIu32 " event %ld is the cap \"%s\": the gate "
                            "already ran in this boot",
                            e->pcr, e->index, cap);
                v->pcr = (int) e->pcr;
                v->event = e->index;
                snprintf(v->event_type, sizeof(v->event_type), "%s", name);
                snprintf(v->digest, sizeof(v->digest), "%s", h);
                return REASON_ALREADY_ATTESTED;
        }
        return REASON_OK;
}

/* Every event of the image's pinned PCRs against its rules, then its required rules. */
static enum reason check_image(const struct policy_image *img, const struct eventlog *log,
                               struct verdict *v)
{
        uint64_t matched[EVENTLOG_PCRS] = {};
        char tbuf[VERDICT_EVENT_TYPE_MAX], h[65];

        for (size_t i = 0; i < log->n_events; i++) {
                const struct eventlog_event *e = &log->events[i];
                const struct policy_rule *rule;

                if (e->type == EV_NO_ACTION || e->pcr >= EVENTLOG_PCRS)
                        continue;
                if (!(img->pinned_mask & 1u << e->pcr))
                        continue;
                rule = find_rule(img, e->pcr, e->type);
                if (rule && bsearch(e->sha256, rule->digests, rule->n_digests, 32, digest_cmp)) {
                        matched[e->pcr] |= UINT64_C(1) << (rule - img->rules[e->pcr]);
                        continue;
                }

                const char *name = eventlog_type_name(e->type, tbuf);
                hex_encode(e->sha256, 32, h);
                verdict_set(v, REASON_EVENT_NOT_ALLOWED,
                            "PCR %" PRIu32 " event %ld %s sha256 %s is not allowed by the policy",
                            e->pcr, e->index, name, h);
                v->pcr = (int) e->pcr;
                v->event = e->index;
                snprintf(v->event_type, sizeof(v->event_type), "%s", name);
                snprintf(v->digest, sizeof(v->digest), "%s", h);
                return REASON_EVENT_NOT_ALLOWED;
        }

        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++)
                for (size_t i = 0; i < img->n_rules[pcr]; i++) {
                        const struct policy_rule *rule = &img->rules[pcr][i];

                        if (!rule->required || matched[pcr] & UINT64_C(1) << i)
                                continue;
                        const char *name = eventlog_type_name(rule->type, tbuf);
                        hex_encode(rule->digests[0], 32, h);
                        if (rule->n_digests == 1)
                                verdict_set(v, REASON_EVENT_MISSING,
                                            "PCR %u has no %s event with sha256 %s, which the "
                                            "policy requires",
                                            pcr, name, h);
                        else
                                verdict_set(v, REASON_EVENT_MISSING,
                                            "PCR %u has no %s event with sha256 %s or one of "
                                            "the %zu others the policy requires",
                                            pcr, name, h, rule->n_digests - 1);
                        v->pcr = (int) pcr;
                        snprintf(v->event_type, sizeof(v->event_type), "%s", name);
                        snprintf(v->digest, sizeof(v->digest), "%s", h);
                        return REASON_EVENT_MISSING;
                }
        return REASON_OK;
}

enum reason policy_check_image(const struct policy *p, const struct eventlog *log,
                               struct verdict *v, const char **ret_label)
{
        struct verdict other;
        enum reason r;

        r = check_cap(log, v);
        if (r != REASON_OK)
                return r;
        /* A boot is one image's, all of it: the rules of two images are never mixed, or a
         * rolling update would accept A's kernel with B's command line. */
        for (size_t i = 0; i < p->n_images; i++) {
                r = check_image(&p->images[i], log, i == 0 ? v : &other);
                if (r != REASON_OK)
                        continue;
                if (ret_label)
                        *ret_label = p->images[i].label;
                if (!(p->opt_ins & POLICY_ALLOW_SECURE_BOOT_OFF))
                        return check_secure_boot(log, v);
                return REASON_OK;
        }
        /* What the first image said, unless the boot is an image the operator retired: then
         * that, by name, is the answer. */
        for (size_t i = 0; i < p->n_retired; i++)
                if (check_image(&p->retired[i], log, &other) == REASON_OK) {
                        verdict_set(v, REASON_IMAGE_RETIRED,
                                    "the boot is image \"%s\", which the policy retired",
                                    p->retired[i].label);
                        return REASON_IMAGE_RETIRED;
                }
        if (p->n_images > 1) {
                char msg[VERDICT_MESSAGE_MAX];

                snprintf(msg, sizeof(msg),
                         "none of the policy's %zu images matches; image \"%.63s\": %.360s",
                         p->n_images, p->images[0].label, v->message);
                memcpy(v->message, msg, sizeof(v->message));
        }
        return v->reason;
}

enum reason policy_check(const struct policy *p, const struct eventlog *log, struct verdict *v)
{
        return policy_check_image(p, log, v, NULL);
}

size_t policy_n_images(const struct policy *p)
{
        return p->n_images;
}

const char *policy_image_label(const struct policy *p, size_t i, bool *ret_retired)
{
        if (i >= p->n_images + p->n_retired)
                return NULL;
        if (ret_retired)
                *ret_retired = i >= p->n_images;
        return policy_image_at(p, i)->label;
}

/* {"N": [rules…], …} of one image, its lines indented by indent. */
static void image_rules_json(FILE *f, const struct policy_image *img, const char *indent)
{
        char tbuf[VERDICT_EVENT_TYPE_MAX], h[65];
        bool first = true;

        fputs("{", f);
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++) {
                if (!(img->pinned_mask & 1u << pcr))
                        continue;
                fprintf(f, "%s\n%s  \"%u\": [", first ? "" : ",", indent, pcr);
                first = false;
                for (size_t i = 0; i < img->n_rules[pcr]; i++) {
                        const struct policy_rule *rule = &img->rules[pcr][i];

                        fprintf(f, "%s\n%s    {\"type\": \"%s\", \"sha256\": [", i ? "," : "",
                                indent, eventlog_type_name(rule->type, tbuf));
                        for (size_t k = 0; k < rule->n_digests; k++) {
                                hex_encode(rule->digests[k], 32, h);
                                fprintf(f, "%s\"%s\"", k ? ", " : "", h);
                        }
                        fprintf(f, "]%s}", rule->required ? ", \"required\": true" : "");
                }
                if (img->n_rules[pcr])
                        fprintf(f, "\n%s  ]", indent);
                else
                        fputs("]", f);
        }
        if (first)
                fputs("}", f);
        else
                fprintf(f, "\n%s}", indent);
}

static void image_list_json(FILE *f, const char *key, const struct policy_image *imgs, size_t n)
{
        fprintf(f, ",\n  \"%s\": [", key);
        for (size_t i = 0; i < n; i++) {
                fprintf(f, "%s\n    {\"label\": \"%s\",\n     \"pcrs\": ", i ? "," : "",
                        imgs[i].label);
                image_rules_json(f, &imgs[i], "     ");
                fputs("}", f);
        }
        fputs(n ? "\n  ]" : "]", f);
}

char *policy_to_json(const struct policy *p)
{
        /* In this order: the stream is closed before the buffer it writes is freed. */
        _cleanup_free_ char *out = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        size_t size = 0;
        bool first;

        if (!p)
                return NULL;
        f = open_memstream(&out, &size);
        if (!f)
                return NULL;

        fputs("{\n  \"version\": 1,\n  \"quote_pcrs\": [", f);
        first = true;
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++)
                if (p->quote_mask & 1u << pcr) {
                        fprintf(f, "%s%u", first ? "" : ", ", pcr);
                        first = false;
                }
        fprintf(f, "],\n  \"cap_pcr\": %u", p->cap_pcr);
        if (p->opt_ins) {
                fputs(",\n  \"allow\": [", f);
                first = true;
                for (unsigned n = 0; n < _POLICY_ALLOW_MAX; n++)
                        if (p->opt_ins & 1u << n) {
                                fprintf(f, "%s\"%s\"", first ? "" : ", ", policy_opt_in_name(n));
                                first = false;
                        }
                fputs("]", f);
        }
        if (p->multi)
                image_list_json(f, "images", p->images, p->n_images);
        else {
                if (p->images[0].label_written)
                        fprintf(f, ",\n  \"label\": \"%s\"", p->images[0].label);
                fputs(",\n  \"pcrs\": ", f);
                image_rules_json(f, &p->images[0], "  ");
        }
        if (p->n_retired)
                image_list_json(f, "retired", p->retired, p->n_retired);
        /* The platform section, in full: `policy allow` rewrites the file through this, and a
         * section it dropped would stop requiring the platform. */
        if (p->has_platform) {
                _cleanup_(json_object_putp) json_object *o = platform_policy_to_json(&p->platform);

                if (!o)
                        return NULL;
                fprintf(f, ",\n  \"platform\": %s",
                        json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
        }
        fputs("\n}\n", f);

        if (ferror(f) || fclose(TAKE_PTR(f)) != 0)
                return NULL;
        return TAKE_PTR(out);
}
