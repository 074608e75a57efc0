/* SPDX-License-Identifier: GPL-2.0-or-later */
/* json-c helpers for the verifier's answers, audit lines and parsers: cleanups, an adder that
 * always takes its value, and the one-line text every answer is sent as. */
#pragma once

#include "util.h"

#include <json-c/json.h>

static inline void json_object_putp(json_object **o)
{
        json_object_put(*o);
}

static inline void json_tokener_freep(json_tokener **t)
{
        if (*t)
                json_tokener_free(*t);
}

/* json-c's adders take ownership only on success; this one always does, and turns a NULL
 * value (failed allocation) into an error, so a builder ORs the results and checks once.
 * @return 0 or -ENOMEM */
static inline int json_add(json_object *o, const char *key, json_object *value)
{
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(o, key, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

/* One line, no blanks, "/" unescaped. json-c escapes quotes and control characters, so no
 * string inside can end the line or a field early. @return malloc'ed text or NULL */
static inline char *json_to_line(json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);

        return s ? strdup(s) : NULL;
}
