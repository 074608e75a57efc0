/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HTTPS service around the appraisal: libmicrohttpd (GnuTLS) with a thread pool, the
 * routes of docs/PROTOCOL.md, body and concurrency limits, audit and metrics per answer. */
#pragma once

#include "appraisal/appraise.h"
#include "service/audit.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define VERIFIER_VERSION "0.1.0"

#define SERVER_BODY_MAX (1024 * 1024) /* docs/PROTOCOL.md, "Transport" */

struct server_config {
        const char *listen;   /* "ADDR:PORT", "[V6ADDR]:PORT"; port 0 picks a free one */
        const char *cert_pem; /* server certificate (chain), PEM text */
        const char *key_pem;  /* its private key, PEM text, unencrypted */
        unsigned threads;     /* worker threads, ≥ 1 */
        unsigned max_connections;
        unsigned max_inflight;       /* protocol requests received or appraised at once */
        unsigned connection_timeout; /* seconds a connection may stay idle */
        size_t connection_memory;    /* libmicrohttpd's per-connection pool: headers, buffers */
        /* The slow-client limits (docs/verifier.md, "Limits"). */
        unsigned max_per_address;  /* open connections of one client address (IPv6: /64) */
        unsigned request_deadline; /* seconds from a connection's start, or the end of its last
                                    * answer, to the last byte of the next request's body; and
                                    * from an answer's start to its last byte */
        unsigned min_body_rate;    /* bytes/s a body must average after its first 2 seconds */
        unsigned rate_limit;       /* requests/s of each round per client address, 0: none */
        unsigned rate_burst;       /* requests of each round a client address may send at once */
};

struct server;

/* Parses "ADDR:PORT" into a socket address. @return 0 or -EINVAL */
int server_parse_listen(const char *listen, struct sockaddr_storage *ret, size_t *ret_len);

/* Starts listening and serving. vf and audit must outlive the server.
 * @return 0, or negative errno with a reason in err */
int server_start(const struct server_config *cfg, const struct verifier *vf, struct audit *audit,
                 struct server **ret, char *err, size_t errlen);

/* "https://ADDR:PORT" with the port actually bound. */
const char *server_url(const struct server *s);

/* Stops accepting, lets requests in flight finish (bounded by grace_seconds), then stops and
 * frees. NULL is fine. */
void server_stop(struct server *s, unsigned grace_seconds);
