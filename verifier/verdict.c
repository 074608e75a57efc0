/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verdicts: the reason table's names and statuses, setting a refusal's detail, and the error
 * answer of docs/PROTOCOL.md ("Errors") built from it. */
#include "appraise.h"
#include "verdict.h"

#include "util.h"

#include <json-c/json.h>

static const char *const reason_names[_REASON_MAX] = {
#define VERDICT_NAME(id, status, name) [REASON_##id] = name,
    VERDICT_REASONS(VERDICT_NAME)
#undef VERDICT_NAME
};

static const unsigned reason_statuses[_REASON_MAX] = {
#define VERDICT_STATUS(id, status, name) [REASON_##id] = status,
    VERDICT_REASONS(VERDICT_STATUS)
#undef VERDICT_STATUS
};

enum reason verdict_set(struct verdict *v, enum reason reason, const char *fmt, ...)
{
        va_list ap;

        v->reason = reason;
        va_start(ap, fmt);
        (void) vsnprintf(v->message, sizeof(v->message), fmt, ap);
        va_end(ap);
        /* The message is one console line on the gate: no byte may start another line or an
         * escape sequence there, whatever a caller formatted into it. */
        for (char *p = v->message; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        v->pcr = -1;
        v->event = -1;
        v->event_type[0] = '\0';
        v->digest[0] = '\0';
        return reason;
}

const char *reason_name(enum reason r)
{
        if ((unsigned) r >= _REASON_MAX)
                return reason_names[REASON_INTERNAL];
        return reason_names[r];
}

unsigned reason_http_status(enum reason r)
{
        if ((unsigned) r >= _REASON_MAX)
                return reason_statuses[REASON_INTERNAL];
        return reason_statuses[r];
}

static void json_object_putp(json_object **o)
{
        json_object_put(*o);
}

/* Takes value in every case, so a caller needs no cleanup when the add fails. */
static int add(json_object *o, const char *key, json_object *value)
{
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(o, key, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

char *verdict_to_json(const struct verdict *v)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int r = 0;

        if (!o)
                return NULL;
        r |= add(o, "version", json_object_new_int(1));
        r |= add(o, "error", json_object_new_string(reason_name(v->reason)));
        r |= add(o, "message", json_object_new_string(v->message));
        if (v->pcr >= 0)
                r |= add(o, "pcr", json_object_new_int(v->pcr));
        if (v->event >= 0)
                r |= add(o, "event", json_object_new_int64(v->event));
        if (v->event_type[0])
                r |= add(o, "event_type", json_object_new_string(v->event_type));
        if (v->digest[0])
                r |= add(o, "digest", json_object_new_string(v->digest));
        if (r < 0)
                return NULL;
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
        return s ? strdup(s) : NULL;
}
