/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An HTTP answer's body as libcurl hands it over in pieces: kept NUL-terminated (the JSON
 * parsers take text) and bounded, for the verifier's answers and the metadata service's. */
#pragma once

#include <stddef.h>

struct http_body {
        char *data; /* malloc'ed, NUL-terminated; NULL until the first byte */
        size_t size;
        size_t max; /* more than this many bytes fail the transfer */
};

/* A CURLOPT_WRITEFUNCTION for a struct http_body (CURLOPT_WRITEDATA): past max bytes, or out
 * of memory, it takes nothing and curl fails the transfer with CURLE_WRITE_ERROR. */
size_t http_body_collect(char *ptr, size_t size, size_t nmemb, void *userdata);
