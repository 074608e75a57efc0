/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Defaults of struct settings and its release. */

#include "config/settings.h"

void settings_init(struct settings *s)
{
        *s = (struct settings){
            /* -1: nobody asked; the gate treats that like "yes" and refuses only "no". */
            .verity_enabled = -1,
            .on_failure = FAILURE_ACTION_HALT,
            .timeout_sec = SETTINGS_DEFAULT_TIMEOUT_SEC,
        };
}

void settings_done(struct settings *s)
{
        if (!s)
                return;
        free(s->roothash);
        free(s->verity_data);
        free(s->verity_hash);
        free(s->verity_options);
        free(s->rootfstype);
        free(s->rootflags);
        free(s->init);
        free(s->ip);
        free(s->url);
        free(s->ca);
        free(s->tpm);
        /* Leaves a valid, empty object behind, so a second settings_done() is harmless. */
        settings_init(s);
}
