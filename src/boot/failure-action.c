/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The names of nodegate.on_failure= actions (declared in failure.h). Kept apart from failure.c
 * because the parsers need them and must link without the logging and power-off code. */

#include "boot/failure.h"

static const char *const failure_action_names[_FAILURE_ACTION_MAX] = {
    [FAILURE_ACTION_HALT] = "halt",
    [FAILURE_ACTION_POWEROFF] = "poweroff",
    [FAILURE_ACTION_REBOOT] = "reboot",
    [FAILURE_ACTION_SHELL] = "shell",
};

const char *failure_action_to_string(enum failure_action a)
{
        if ((unsigned) a >= _FAILURE_ACTION_MAX)
                return NULL;
        return failure_action_names[a];
}

int failure_action_from_string(const char *s)
{
        if (!s)
                return -EINVAL;
        for (int a = 0; a < _FAILURE_ACTION_MAX; a++)
                if (streq(s, failure_action_names[a]))
                        return a;
        return -EINVAL;
}
