/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "lib/http-body.h"

size_t http_body_collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct http_body *b = userdata;
        size_t n = size * nmemb;
        char *p;

        if (n > b->max || b->size + n > b->max)
                return 0;
        p = realloc(b->data, b->size + n + 1);
        if (!p)
                return 0;
        memcpy(p + b->size, ptr, n);
        b->size += n;
        p[b->size] = 0;
        b->data = p;
        return n;
}
