/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper: struct settings as one line listing only what differs from settings_init(),
 * so a table row can show the expected result beside its input. */
#pragma once

#include <stdio.h>

#include "config/settings.h"

static inline void dump_add(char *buf, size_t size, const char *fmt, const char *name,
                            const char *value)
{
        size_t l = strlen(buf);

        snprintf(buf + l, size - l, fmt, l > 0 ? " " : "", name, value);
}

static inline const char *settings_dump(const struct settings *s, char *buf, size_t size)
{
        const struct {
                const char *name;
                const char *value;
        } strings[] = {
            {"roothash", s->roothash}, {"data", s->verity_data},
            {"hash", s->verity_hash},  {"options", s->verity_options},
            {"fstype", s->rootfstype}, {"flags", s->rootflags},
            {"init", s->init},         {"ip", s->ip},
            {"url", s->url},           {"ca", s->ca},
            {"tpm", s->tpm},
        };
        static const char *const ek_names[] = {"auto", "ecc256", "ecc384", "rsa2048"};
        static const char *const platform_names[] = {"auto", "none", "azure-snp",
                                                     "snp",  "tdx",  "azure-tdx"};
        char num[32];

        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (strings[i].value)
                        dump_add(buf, size, "%s%s=%s", strings[i].name, strings[i].value);
        if (s->verity_enabled != -1) {
                snprintf(num, sizeof(num), "%d", s->verity_enabled);
                dump_add(buf, size, "%s%s=%s", "verity", num);
        }
        if (s->on_failure != FAILURE_ACTION_HALT)
                dump_add(buf, size, "%s%s=%s", "on_failure",
                         failure_action_to_string(s->on_failure));
        if (s->timeout_sec != SETTINGS_DEFAULT_TIMEOUT_SEC) {
                snprintf(num, sizeof(num), "%u", s->timeout_sec);
                dump_add(buf, size, "%s%s=%s", "timeout", num);
        }
        if (s->debug)
                dump_add(buf, size, "%s%s=%s", "debug", "1");
        if (s->ek_type != 0)
                dump_add(buf, size, "%s%s=%s", "ek",
                         s->ek_type < ELEMENTSOF(ek_names) ? ek_names[s->ek_type] : "?");
        if (s->platform != 0)
                dump_add(buf, size, "%s%s=%s", "platform",
                         s->platform < ELEMENTSOF(platform_names) ? platform_names[s->platform]
                                                                  : "?");
        return buf;
}
