/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Verdicts: the reason table's names and statuses, setting a refusal's detail, and the error
 * answer of docs/PROTOCOL.md ("Errors") built from it. */
#include "appraisal/appraise.h"
#include "appraisal/verdict.h"

#include "common/json-util.h"

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
        v->retry_after = 0;
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

char *verdict_to_json(const struct verdict *v)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int r = 0;

        if (!o)
                return NULL;
        r |= json_add(
            o, "version",
            json_object_new_int((int) (v->version ? v->version : VERIFIER_PROTOCOL_VERSION)));
        r |= json_add(o, "error", json_object_new_string(reason_name(v->reason)));
        r |= json_add(o, "message", json_object_new_string(v->message));
        if (v->pcr >= 0)
                r |= json_add(o, "pcr", json_object_new_int(v->pcr));
        if (v->event >= 0)
                r |= json_add(o, "event", json_object_new_int64(v->event));
        if (v->event_type[0])
                r |= json_add(o, "event_type", json_object_new_string(v->event_type));
        if (v->digest[0])
                r |= json_add(o, "digest", json_object_new_string(v->digest));
        return r < 0 ? NULL : json_to_line(o);
}
