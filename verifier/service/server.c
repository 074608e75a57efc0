/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HTTPS service: libmicrohttpd parses HTTP and runs TLS (GnuTLS); this file routes, caps
 * bodies and concurrency, hands complete bodies to appraise_*() and audits every decision.
 *
 * Slow clients: libmicrohttpd's own timeout is for inactivity only, so a client sending a byte
 * now and then would keep its connection forever. A reaper thread therefore watches every
 * connection (registered by libmicrohttpd's connection callbacks) against a total deadline and,
 * while a body arrives, a minimum rate, and shuts the socket down when one is missed; the
 * worker thread that owns the connection then sees the end of the stream and closes it. An
 * in-flight slot is taken only once a body is complete, so clients still sending hold none. */
#include "service/server.h"

#include "service/ratelimit.h"
#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

/* TLS 1.2 and 1.3 only (PROTOCOL.md), AEAD ciphers with forward secrecy only: the gate's
 * mbedTLS offers ECDHE with AES-GCM, so nothing older needs to be accepted. */
#define TLS_PRIORITIES                                                                             \
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"   \
        "+CHACHA20-POLY1305"

#define RETRY_AFTER_SECONDS 1u
#define NSEC_PER_SEC        1000000000ull
#define REAPER_PERIOD_NS    (200 * 1000 * 1000ull)
/* A body's rate is judged only after this long: TLS records and TCP slow start make the first
 * moments of any upload look slow. */
#define BODY_RATE_GRACE_NS (2 * NSEC_PER_SEC)

/* One per TCP connection, from accept to close: what the reaper watches. The atomics are
 * written by the connection's worker thread and read (and, to cut, swapped) by the reaper. */
struct conn {
        struct conn *prev, *next; /* server.conns, under conns_lock */
        int fd;
        uint8_t key[16]; /* its client's, for the per-address count */
        /* When the connection is cut unless its request is complete by then; 0 while a complete
         * request is appraised (the server's time, not the client's) or once it was cut. */
        atomic_uint_fast64_t deadline_ns;
        atomic_uint_fast64_t body_start_ns; /* 0 when no body is being received */
        atomic_uint_fast64_t body_bytes;
};

struct server {
        struct MHD_Daemon *daemon;
        const struct verifier *vf;
        struct audit *audit;
        unsigned max_inflight;
        uint64_t deadline_ns;
        unsigned min_body_rate;
        struct ratelimit *rate[2]; /* round 1, round 2 */
        struct addrcount *per_address;
        atomic_uint inflight;
        atomic_bool stopping;
        char url[96];

        pthread_mutex_t conns_lock;
        pthread_cond_t reaper_wake; /* CLOCK_MONOTONIC */
        struct conn *conns;
        bool reaper_started, reaper_stop;
        pthread_t reaper;
};

/* One per HTTP request, from its headers to its completion callback. */
struct request {
        struct server *srv;
        struct conn *conn; /* NULL when the connection could not be registered (then cut) */
        enum endpoint endpoint;
        unsigned version; /* of the path (/v2/, /v3/), 0 for the others */
        struct timespec start;
        struct sockaddr_storage addr;
        bool have_addr;
        char remote[INET6_ADDRSTRLEN];
        unsigned retry_after; /* seconds, for 429 and 503 */
        bool counted;         /* holds one of the max_inflight slots */
        char *body;           /* holds the credential secret in round 2: wiped when freed */
        size_t size, allocated;
        unsigned status; /* of the answer queued, 0 while none */
        bool issued;     /* the answer carries a sealed token */
        struct appraisal_facts facts;
};

struct route {
        const char *path;
        enum endpoint endpoint;
        bool post;        /* POST for the protocol, GET (and HEAD) for the rest */
        unsigned version; /* protocol version of the path, 0 for the others */
};

/* Version 2 is version 3 without platform evidence: served beside it (docs/PROTOCOL.md). */
static const struct route routes[] = {
    {"/v3/challenge", ENDPOINT_CHALLENGE, true, 3}, {"/v3/attest", ENDPOINT_ATTEST, true, 3},
    {"/v2/challenge", ENDPOINT_CHALLENGE, true, 2}, {"/v2/attest", ENDPOINT_ATTEST, true, 2},
    {"/healthz", ENDPOINT_HEALTHZ, false, 0},       {"/metrics", ENDPOINT_METRICS, false, 0},
};

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

static double seconds_since(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double) (now.tv_sec - start->tv_sec) +
               (double) (now.tv_nsec - start->tv_nsec) / 1e9;
}

int server_parse_listen(const char *listen, struct sockaddr_storage *ret, size_t *ret_len)
{
        struct sockaddr_storage ss = {};
        char host[INET6_ADDRSTRLEN + 2];
        const char *colon, *port_text;
        unsigned long port;
        size_t host_len;
        char *end;

        if (listen[0] == '[') {
                const char *close = strchr(listen, ']');

                if (!close || close[1] != ':')
                        return -EINVAL;
                host_len = (size_t) (close - listen - 1);
                if (host_len == 0 || host_len >= sizeof(host))
                        return -EINVAL;
                memcpy(host, listen + 1, host_len);
                port_text = close + 2;
        } else {
                colon = strrchr(listen, ':');
                if (!colon)
                        return -EINVAL;
                host_len = (size_t) (colon - listen);
                if (host_len == 0 || host_len >= sizeof(host))
                        return -EINVAL;
                memcpy(host, listen, host_len);
                port_text = colon + 1;
        }
        host[host_len] = '\0';

        if (port_text[0] < '0' || port_text[0] > '9')
                return -EINVAL;
        errno = 0;
        port = strtoul(port_text, &end, 10);
        if (errno != 0 || *end != '\0' || port > 65535)
                return -EINVAL;

        if (listen[0] == '[') {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

                if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
                        return -EINVAL;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons((uint16_t) port);
                *ret_len = sizeof(*sin6);
        } else {
                struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

                if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
                        return -EINVAL;
                sin->sin_family = AF_INET;
                sin->sin_port = htons((uint16_t) port);
                *ret_len = sizeof(*sin);
        }
        *ret = ss;
        return 0;
}

static void request_free(struct request *req)
{
        if (!req)
                return;
        if (req->body) {
                explicit_bzero(req->body, req->allocated);
                free(req->body);
        }
        free(req);
}

static void remote_address(struct MHD_Connection *c, struct request *req)
{
        const union MHD_ConnectionInfo *ci;
        const struct sockaddr *sa;
        char *buf = req->remote;
        size_t size = sizeof(req->remote);

        snprintf(buf, size, "unknown");
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (!ci || !ci->client_addr)
                return;
        sa = ci->client_addr;
        if (sa->sa_family == AF_INET) {
                inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, size);
                memcpy(&req->addr, sa, sizeof(struct sockaddr_in));
                req->have_addr = true;
        } else if (sa->sa_family == AF_INET6) {
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, buf, size);
                memcpy(&req->addr, sa, sizeof(struct sockaddr_in6));
                req->have_addr = true;
        }
}

/* The connection's next deadline: a request (its idle wait, headers and body) or an answer
 * must be done within the deadline from now. */
static void conn_rearm(const struct server *s, struct conn *k)
{
        if (k)
                atomic_store(&k->deadline_ns, now_ns() + s->deadline_ns);
}

static bool add_retry_after(struct MHD_Response *resp, unsigned seconds)
{
        char text[16];

        snprintf(text, sizeof(text), "%u", seconds ? seconds : RETRY_AFTER_SECONDS);
        return MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, text) == MHD_YES;
}

/* Queues body (malloc'ed, taken) with status. @return MHD_NO to drop the connection when even
 * that fails: no answer is better than a wrong one. */
static enum MHD_Result answer(struct MHD_Connection *c, struct request *req, unsigned status,
                              char *body, const char *content_type, const char *allow)
{
        struct MHD_Response *resp;
        enum MHD_Result r;

        if (!body)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES ||
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
            (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES) ||
            ((status == 503 || status == 429) && !add_retry_after(resp, req->retry_after))) {
                MHD_destroy_response(resp);
                return MHD_NO;
        }
        r = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        if (r == MHD_YES) {
                req->status = status;
                /* The answer gets a deadline of its own: a client that does not read it
                 * holds the connection no longer than one that does not send. */
                conn_rearm(req->srv, req->conn);
        }
        return r;
}

static bool is_protocol(enum endpoint e)
{
        return e == ENDPOINT_CHALLENGE || e == ENDPOINT_ATTEST;
}

/* Records a decision of a protocol endpoint. @return 0, or negative errno when the audit line
 * could not be written */
static int decide(struct request *req, enum decision d, const struct verdict *v)
{
        struct audit_record rec = {
            .endpoint = req->endpoint,
            .remote = req->remote,
            .decision = d,
            .reason = v->reason,
            .status = reason_http_status(v->reason),
            .message = v->message,
            .facts = &req->facts,
        };
        int r;

        metrics_decision(d, v->reason);
        r = audit_write(req->srv->audit, &rec);
        if (r < 0) {
                metrics_audit_error();
                fprintf(stderr, "nodegate-verifier: cannot write the audit log: %s\n",
                        strerror(-r));
        }
        return r;
}

/* The error answer for v; audited when the endpoint is a protocol one. */
static enum MHD_Result refuse(struct MHD_Connection *c, struct request *req,
                              const struct verdict *v, const char *allow)
{
        if (is_protocol(req->endpoint))
                (void) decide(req, DECISION_REJECTED, v);
        if (v->retry_after) /* the appraisal's own wait: the EK's bucket */
                req->retry_after = v->retry_after;
        return answer(c, req, reason_http_status(v->reason), verdict_to_json(v), "application/json",
                      allow);
}

static enum MHD_Result refuse_with(struct MHD_Connection *c, struct request *req,
                                   enum reason reason, const char *allow, const char *message)
{
        struct verdict v = {.version = req->version};

        verdict_set(&v, reason, "%s", message);
        return refuse(c, req, &v, allow);
}

static bool content_type_is_json(const char *value)
{
        static const char json[] = "application/json";

        if (!value || strncasecmp(value, json, strlen(json)) != 0)
                return false;
        value += strlen(json);
        /* Parameters (charset=utf-8) are fine; "application/jsonx" is not JSON. */
        return *value == '\0' || *value == ';' || *value == ' ' || *value == '\t';
}

static enum MHD_Result on_headers(struct server *s, struct MHD_Connection *c, struct request *req,
                                  const char *url, const char *method)
{
        const struct route *route = NULL;
        const char *length, *encoding;
        unsigned long long declared = 0;
        unsigned wait;

        for (size_t i = 0; i < ELEMENTSOF(routes); i++)
                if (streq(url, routes[i].path))
                        route = &routes[i];
        /* A gate of version 1 hears why, not "no such path": its tokens were not per boot and
         * could be reopened after a TPM Restart, so version 1 is not served beside 2. */
        if (!route && (streq(url, "/v1/challenge") || streq(url, "/v1/attest")))
                return refuse_with(c, req, REASON_UNSUPPORTED_VERSION, NULL,
                                   "protocol version 1 is retired: this verifier speaks versions "
                                   "3 (/v3/) and 2 (/v2/); update the gate");
        if (!route)
                return refuse_with(c, req, REASON_NOT_FOUND, NULL, "no such path");
        req->endpoint = route->endpoint;
        req->version = route->version;

        if (!route->post) {
                if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD))
                        return refuse_with(c, req, REASON_METHOD_NOT_ALLOWED, "GET, HEAD",
                                           "use GET");
                if (route->endpoint == ENDPOINT_METRICS)
                        return answer(c, req, 200, metrics_render(VERIFIER_VERSION),
                                      "text/plain; version=0.0.4; charset=utf-8", NULL);
                /* Draining replicas say so, and the Service stops sending them nodes. */
                if (atomic_load(&s->stopping))
                        return answer(c, req, 503, strdup("{\"status\":\"stopping\"}"),
                                      "application/json", NULL);
                return answer(c, req, 200, strdup("{\"status\":\"ok\"}"), "application/json", NULL);
        }

        if (!streq(method, MHD_HTTP_METHOD_POST))
                return refuse_with(c, req, REASON_METHOD_NOT_ALLOWED, "POST", "use POST");

        /* Before anything costs: the body, and round 1's signature checks and ECDH. */
        wait =
            ratelimit_take(s->rate[route->endpoint == ENDPOINT_ATTEST],
                           req->have_addr ? (const struct sockaddr *) &req->addr : NULL, now_ns());
        if (wait > 0) {
                req->retry_after = wait;
                return refuse_with(c, req, REASON_RATE_LIMITED, NULL,
                                   "too many requests from this address, retry later");
        }

        if (!content_type_is_json(
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
                return refuse_with(c, req, REASON_UNSUPPORTED_MEDIA_TYPE, NULL,
                                   "Content-Type must be application/json");

        length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        encoding =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (length) {
                char *end;

                /* libmicrohttpd has already refused a malformed Content-Length. */
                errno = 0;
                declared = strtoull(length, &end, 10);
                if (errno != 0 || *end != '\0')
                        return refuse_with(c, req, REASON_BAD_REQUEST, NULL,
                                           "malformed Content-Length");
                /* Answered now, before one byte of the body is read: the connection is closed
                 * after the answer, so the rest is never received. */
                if (declared > SERVER_BODY_MAX)
                        return refuse_with(c, req, REASON_BODY_TOO_LARGE, NULL,
                                           "request body is larger than 1 MiB");
        } else if (!encoding || strcasecmp(encoding, "chunked") != 0)
                return refuse_with(c, req, REASON_LENGTH_REQUIRED, NULL,
                                   "a body needs Content-Length or chunked encoding");

        /* The buffer grows with the bytes that actually arrive, never with what the headers
         * announce: no slot bounds bodies still on their way, so a client must pay with bytes
         * sent for the memory it holds (at most max-connections × 1 MiB, each for at most
         * the request deadline). */
        req->allocated = length && declared < 16383 ? (size_t) declared + 1 : 16384;
        req->body = malloc(req->allocated);
        if (!req->body)
                return MHD_NO;
        if (req->conn) {
                atomic_store(&req->conn->body_bytes, 0);
                atomic_store(&req->conn->body_start_ns, now_ns());
        }
        return MHD_YES;
}

static int body_append(struct request *req, const char *data, size_t size)
{
        if (size > SERVER_BODY_MAX - req->size)
                return -EFBIG;
        if (req->size + size + 1 > req->allocated) {
                size_t n = req->allocated;
                char *grown;

                while (n < req->size + size + 1)
                        n *= 2;
                if (n > SERVER_BODY_MAX + 1)
                        n = SERVER_BODY_MAX + 1;
                /* Not realloc: the old buffer may already hold the credential secret. */
                grown = malloc(n);
                if (!grown)
                        return -ENOMEM;
                memcpy(grown, req->body, req->size);
                explicit_bzero(req->body, req->allocated);
                free(req->body);
                req->body = grown;
                req->allocated = n;
        }
        memcpy(req->body + req->size, data, size);
        req->size += size;
        return 0;
}

static enum MHD_Result on_body(struct server *s, struct MHD_Connection *c, struct request *req)
{
        enum reason reason;
        char *body = NULL;
        struct verdict v = {.version = req->version};
        enum decision d;
        unsigned prev;

        /* The body is complete: from here the time is the server's, not the client's, so the
         * reaper stops watching. Had it already cut the connection, nobody is left to answer. */
        if (req->conn) {
                atomic_store(&req->conn->body_start_ns, 0);
                if (atomic_exchange(&req->conn->deadline_ns, 0) == 0)
                        return MHD_NO;
        }

        /* Only complete bodies take a slot: what they bound is appraisals (CPU, token source
         * calls) at once, which a client still sending costs nothing of. */
        prev = atomic_fetch_add(&s->inflight, 1);
        if (prev >= s->max_inflight) {
                atomic_fetch_sub(&s->inflight, 1);
                return refuse_with(c, req, REASON_OVERLOADED, NULL,
                                   "too many requests in flight, retry later");
        }
        req->counted = true;
        metrics_inflight_add(1);

        req->body[req->size] = '\0';
        if (req->endpoint == ENDPOINT_CHALLENGE)
                reason = appraise_challenge_at(s->vf, req->version, req->body, req->size,
                                               (uint64_t) time(NULL), &body, &v, &req->facts);
        else
                reason = appraise_attest_at(s->vf, req->version, req->body, req->size,
                                            (uint64_t) time(NULL), &body, &v, &req->facts);
        /* The body of round 2 holds the credential secret: gone as soon as it is judged. */
        explicit_bzero(req->body, req->allocated);

        if (reason != REASON_OK || !body) {
                free(body);
                if (reason == REASON_OK)
                        verdict_set(&v, REASON_INTERNAL, "internal error");
                return refuse(c, req, &v, NULL);
        }

        d = req->endpoint != ENDPOINT_ATTEST ? DECISION_CHALLENGED
            : req->facts.reissued            ? DECISION_REISSUED
                                             : DECISION_ISSUED;
        verdict_set(&v, REASON_OK, "%s",
                    d == DECISION_CHALLENGED ? "challenge issued"
                    : d == DECISION_REISSUED ? "the boot's token issued again"
                                             : "token issued");
        /* No audit line, no answer: a token nobody can account for must not leave. */
        if (decide(req, d, &v) < 0) {
                free(body);
                verdict_set(&v, REASON_INTERNAL, "internal error");
                return refuse(c, req, &v, NULL);
        }
        req->issued = d == DECISION_ISSUED || d == DECISION_REISSUED;
        return answer(c, req, 200, body, "application/json", NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version _unused_,
                                  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
        struct server *s = cls;
        struct request *req = *con_cls;
        const union MHD_ConnectionInfo *ci;

        if (!req) {
                req = calloc(1, sizeof(*req));
                if (!req)
                        return MHD_NO;
                req->srv = s;
                req->endpoint = ENDPOINT_OTHER;
                clock_gettime(CLOCK_MONOTONIC, &req->start);
                remote_address(c, req);
                ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
                req->conn = ci ? ci->socket_context : NULL;
                *con_cls = req;
                return on_headers(s, c, req, url, method);
        }

        /* A request that was answered at its headers, or never set up for a body, has none
         * to append to or to judge. libmicrohttpd called a request of a replica stopping under
         * load once more after that (check-replicas, UBSan: a store through the NULL body in
         * on_body): ignore what it brings, keep an answer already queued, else close. */
        if (!req->body) {
                *upload_data_size = 0;
                return req->status != 0 ? MHD_YES : MHD_NO;
        }

        if (*upload_data_size > 0) {
                int r = body_append(req, upload_data, *upload_data_size);

                if (req->conn)
                        atomic_fetch_add(&req->conn->body_bytes, *upload_data_size);
                *upload_data_size = 0;
                if (r == -EFBIG) {
                        struct verdict v = {};

                        /* Only a chunked body gets here (a declared length was checked with
                         * the headers). libmicrohttpd cannot answer in the middle of a body,
                         * and reading on to its end would let a client stream forever: the
                         * connection is closed without an answer. */
                        verdict_set(&v, REASON_BODY_TOO_LARGE,
                                    "chunked request body is larger than 1 MiB, connection "
                                    "closed");
                        (void) decide(req, DECISION_REJECTED, &v);
                        return MHD_NO;
                }
                if (r < 0)
                        return MHD_NO;
                return MHD_YES;
        }

        return on_body(s, c, req);
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
        switch (toe) {
        case MHD_REQUEST_TERMINATED_COMPLETED_OK:
                return "completed";
        case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
                return "timeout";
        case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
                return "shutdown";
        case MHD_REQUEST_TERMINATED_READ_ERROR:
                return "read error";
        case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
                return "client closed the connection";
        default:
                return "connection error";
        }
}

static void on_completed(void *cls, struct MHD_Connection *c _unused_, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct server *s = cls;
        struct request *req = *con_cls;

        if (!req)
                return;
        *con_cls = NULL;

        if (req->status != 0)
                metrics_request(req->endpoint, req->status, seconds_since(&req->start));
        else
                metrics_request_aborted(req->endpoint);

        /* The token left the pool and was audited as issued, but the node never got it: say
         * so, or the log would claim a node holds a token it does not. */
        if (req->issued && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
                struct verdict v = {};

                verdict_set(&v, REASON_OK, "the answer issuing token %s was not delivered: %s",
                            req->facts.token_id, termination_name(toe));
                (void) decide(req, DECISION_UNDELIVERED, &v);
        }

        if (req->counted) {
                atomic_fetch_sub(&s->inflight, 1);
                metrics_inflight_add(-1);
        }
        /* Keep-alive: the next request of this connection has a whole deadline of its own. */
        if (req->conn && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
                atomic_store(&req->conn->body_start_ns, 0);
                conn_rearm(s, req->conn);
        }
        request_free(req);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
        struct server *s = cls;
        struct conn *k = *socket_context;

        if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *ci =
                    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
                const union MHD_ConnectionInfo *ai =
                    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
                uint8_t key[16];

                if (!ci)
                        return;
                /* Over the cap, the connection ends before its TLS handshake: the shut down
                 * socket reads as closed by the client. */
                if (!addrcount_acquire(s->per_address, ai ? ai->client_addr : NULL, key)) {
                        shutdown(ci->connect_fd, SHUT_RDWR);
                        metrics_connection_cut(CUT_PER_ADDRESS);
                        return;
                }
                k = calloc(1, sizeof(*k));
                if (!k) {
                        /* Unwatched, a slow client could keep this one forever: none at all. */
                        addrcount_release(s->per_address, key);
                        shutdown(ci->connect_fd, SHUT_RDWR);
                        return;
                }
                memcpy(k->key, key, sizeof(key));
                k->fd = ci->connect_fd;
                atomic_init(&k->deadline_ns, now_ns() + s->deadline_ns);
                pthread_mutex_lock(&s->conns_lock);
                k->next = s->conns;
                if (s->conns)
                        s->conns->prev = k;
                s->conns = k;
                pthread_mutex_unlock(&s->conns_lock);
                *socket_context = k;
                return;
        }
        if (!k)
                return;
        /* libmicrohttpd closes the socket after this callback: once unlinked here (under the
         * lock the reaper holds while it looks), the reaper can never shut down a reused fd. */
        pthread_mutex_lock(&s->conns_lock);
        if (k->prev)
                k->prev->next = k->next;
        else
                s->conns = k->next;
        if (k->next)
                k->next->prev = k->prev;
        pthread_mutex_unlock(&s->conns_lock);
        addrcount_release(s->per_address, k->key);
        *socket_context = NULL;
        free(k);
}

/* Cuts k when it is past its deadline or, receiving a body, below the minimum rate. */
static void reap(struct server *s, struct conn *k, uint64_t now)
{
        uint_fast64_t deadline = atomic_load(&k->deadline_ns);
        uint64_t body_start = atomic_load(&k->body_start_ns);
        enum cut why;

        if (deadline == 0)
                return;
        if (now > deadline)
                why = CUT_DEADLINE;
        else if (body_start != 0 && s->min_body_rate > 0 && now > body_start + BODY_RATE_GRACE_NS &&
                 (double) atomic_load(&k->body_bytes) <
                     (double) s->min_body_rate * (double) (now - body_start) / 1e9)
                why = CUT_SLOW_BODY;
        else
                return;
        /* The swap decides against the worker finishing the body at this moment (on_body()):
         * exactly one of the two wins. */
        if (!atomic_compare_exchange_strong(&k->deadline_ns, &deadline, 0))
                return;
        shutdown(k->fd, SHUT_RDWR);
        metrics_connection_cut(why);
}

static void *reaper_main(void *arg)
{
        struct server *s = arg;

        pthread_mutex_lock(&s->conns_lock);
        while (!s->reaper_stop) {
                struct timespec until;
                uint64_t now;

                clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_nsec += (long) REAPER_PERIOD_NS;
                if (until.tv_nsec >= (long) NSEC_PER_SEC) {
                        until.tv_sec++;
                        until.tv_nsec -= (long) NSEC_PER_SEC;
                }
                (void) pthread_cond_timedwait(&s->reaper_wake, &s->conns_lock, &until);
                if (s->reaper_stop)
                        break;
                /* Bounded: the list holds at most --max-connections entries. */
                now = now_ns();
                for (struct conn *k = s->conns; k; k = k->next)
                        reap(s, k, now);
                pthread_mutex_unlock(&s->conns_lock);
                /* Summaries of suppressed audit lines go out even when nothing else is written. */
                audit_flush(s->audit);
                pthread_mutex_lock(&s->conns_lock);
        }
        pthread_mutex_unlock(&s->conns_lock);
        return NULL;
}

static void mhd_log(void *cls _unused_, const char *fmt, va_list ap)
{
        fputs("nodegate-verifier: libmicrohttpd: ", stderr);
        vfprintf(stderr, fmt, ap);
}

/* Stops the reaper (when started) and frees; the daemon must be stopped already. */
static void server_free(struct server *s)
{
        if (s->reaper_started) {
                pthread_mutex_lock(&s->conns_lock);
                s->reaper_stop = true;
                pthread_cond_signal(&s->reaper_wake);
                pthread_mutex_unlock(&s->conns_lock);
                pthread_join(s->reaper, NULL);
                pthread_cond_destroy(&s->reaper_wake);
                pthread_mutex_destroy(&s->conns_lock);
        }
        ratelimit_free(s->rate[0]);
        ratelimit_free(s->rate[1]);
        addrcount_free(s->per_address);
        free(s);
}

static int server_start_reaper(struct server *s)
{
        pthread_condattr_t attr;
        int r;

        if (pthread_condattr_init(&attr) != 0)
                return -ENOMEM;
        r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (r == 0)
                r = pthread_cond_init(&s->reaper_wake, &attr);
        pthread_condattr_destroy(&attr);
        if (r != 0)
                return -r;
        r = pthread_mutex_init(&s->conns_lock, NULL);
        if (r != 0) {
                pthread_cond_destroy(&s->reaper_wake);
                return -r;
        }
        r = pthread_create(&s->reaper, NULL, reaper_main, s);
        if (r != 0) {
                pthread_mutex_destroy(&s->conns_lock);
                pthread_cond_destroy(&s->reaper_wake);
                return -r;
        }
        s->reaper_started = true;
        return 0;
}

int server_start(const struct server_config *cfg, const struct verifier *vf, struct audit *audit,
                 struct server **ret, char *err, size_t errlen)
{
        struct sockaddr_storage ss;
        const union MHD_DaemonInfo *info;
        char host[INET6_ADDRSTRLEN];
        unsigned flags;
        struct server *s;
        size_t sslen;

        if (server_parse_listen(cfg->listen, &ss, &sslen) < 0) {
                snprintf(err, errlen,
                         "--listen %s: expected IPV4:PORT or [IPV6]:PORT with a numeric address",
                         cfg->listen);
                return -EINVAL;
        }
        if (cfg->threads < 1 || cfg->max_connections < cfg->threads || cfg->max_inflight < 1 ||
            cfg->request_deadline < 1) {
                snprintf(err, errlen,
                         "--max-connections must be at least --threads, --max-inflight and "
                         "--request-deadline at least 1");
                return -EINVAL;
        }
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
            MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
                snprintf(err, errlen, "libmicrohttpd was built without TLS or epoll");
                return -EOPNOTSUPP;
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->vf = vf;
        s->audit = audit;
        s->max_inflight = cfg->max_inflight;
        s->deadline_ns = (uint64_t) cfg->request_deadline * NSEC_PER_SEC;
        s->min_body_rate = cfg->min_body_rate;
        if (ratelimit_new(cfg->rate_limit, cfg->rate_burst, &s->rate[0]) < 0 ||
            ratelimit_new(cfg->rate_limit, cfg->rate_burst, &s->rate[1]) < 0 ||
            addrcount_new(cfg->max_per_address, &s->per_address) < 0 ||
            server_start_reaper(s) < 0) {
                snprintf(err, errlen, "out of memory");
                server_free(s);
                return -ENOMEM;
        }

        flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                MHD_USE_ERROR_LOG;
        if (ss.ss_family == AF_INET6) {
                const struct in6_addr *a = &((struct sockaddr_in6 *) &ss)->sin6_addr;

                /* [::] means every address, IPv4 ones included. */
                flags |= IN6_IS_ADDR_UNSPECIFIED(a) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
        }

        /* The logger comes first, or messages about the options before it go elsewhere. */
        s->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss, MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem,
            MHD_OPTION_HTTPS_MEM_KEY, cfg->key_pem, MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned) cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned) cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned) cfg->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t) cfg->connection_memory, MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, s, MHD_OPTION_END);
        if (!s->daemon) {
                snprintf(err, errlen, "cannot serve on %s (see the libmicrohttpd message above)",
                         cfg->listen);
                server_free(s);
                return -EADDRNOTAVAIL;
        }

        info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
        if (ss.ss_family == AF_INET6) {
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, host, sizeof(host));
                snprintf(s->url, sizeof(s->url), "https://[%s]:%u", host, info ? info->port : 0u);
        } else {
                inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, host, sizeof(host));
                snprintf(s->url, sizeof(s->url), "https://%s:%u", host, info ? info->port : 0u);
        }
        *ret = s;
        return 0;
}

const char *server_url(const struct server *s)
{
        return s->url;
}

void server_stop(struct server *s, unsigned grace_seconds)
{
        struct timespec start;
        MHD_socket fd;

        if (!s)
                return;
        atomic_store(&s->stopping, true);
        /* No new connections from here; the ones open keep being served until they are done
         * or the grace period ends. */
        fd = MHD_quiesce_daemon(s->daemon);
        if (fd != MHD_INVALID_SOCKET)
                close(fd);
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (atomic_load(&s->inflight) > 0 && seconds_since(&start) < grace_seconds)
                nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
        MHD_stop_daemon(s->daemon);
        server_free(s);
}
