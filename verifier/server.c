/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HTTPS service: libmicrohttpd parses HTTP and runs TLS (GnuTLS); this file routes, caps
 * bodies and concurrency, hands complete bodies to appraise_*() and audits every decision. */
#include "server.h"

#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

/* TLS 1.2 and 1.3 only (PROTOCOL.md), AEAD ciphers with forward secrecy only: the gate's
 * mbedTLS offers ECDHE with AES-GCM, so nothing older needs to be accepted. */
#define TLS_PRIORITIES                                                                             \
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"   \
        "+CHACHA20-POLY1305"

struct server {
        struct MHD_Daemon *daemon;
        const struct verifier *vf;
        struct audit *audit;
        unsigned max_inflight;
        atomic_uint inflight;
        atomic_bool stopping;
        char url[96];
};

/* One per HTTP request, from its headers to its completion callback. */
struct request {
        struct server *srv;
        enum endpoint endpoint;
        struct timespec start;
        char remote[INET6_ADDRSTRLEN];
        bool counted; /* holds one of the max_inflight slots */
        char *body;   /* holds the credential secret in round 2: wiped when freed */
        size_t size, allocated;
        unsigned status;      /* of the answer queued, 0 while none */
        bool issued;          /* the answer carries a sealed token */
        unsigned retry_after; /* seconds, for a 429 answer */
        struct appraisal_facts facts;
};

struct route {
        const char *path;
        enum endpoint endpoint;
        bool post; /* POST for the protocol, GET (and HEAD) for the rest */
};

static const struct route routes[] = {
    {"/v2/challenge", ENDPOINT_CHALLENGE, true},
    {"/v2/attest", ENDPOINT_ATTEST, true},
    {"/healthz", ENDPOINT_HEALTHZ, false},
    {"/metrics", ENDPOINT_METRICS, false},
};

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

static void remote_address(struct MHD_Connection *c, char *buf, size_t size)
{
        const union MHD_ConnectionInfo *ci;
        const struct sockaddr *sa;

        snprintf(buf, size, "unknown");
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (!ci || !ci->client_addr)
                return;
        sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, size);
        else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, buf, size);
}

/* Queues body (malloc'ed, taken) with status. @return MHD_NO to drop the connection when even
 * that fails: no answer is better than a wrong one. */
static enum MHD_Result answer(struct MHD_Connection *c, struct request *req, unsigned status,
                              char *body, const char *content_type, const char *allow)
{
        struct MHD_Response *resp;
        enum MHD_Result r;
        char retry_after[16];

        if (!body)
                return MHD_NO;
        snprintf(retry_after, sizeof(retry_after), "%u",
                 status == 429 && req->retry_after ? req->retry_after : 1);
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES ||
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
            (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES) ||
            ((status == 503 || status == 429) &&
             MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry_after) != MHD_YES)) {
                MHD_destroy_response(resp);
                return MHD_NO;
        }
        r = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        if (r == MHD_YES)
                req->status = status;
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
        req->retry_after = v->retry_after;
        return answer(c, req, reason_http_status(v->reason), verdict_to_json(v), "application/json",
                      allow);
}

static enum MHD_Result refuse_with(struct MHD_Connection *c, struct request *req,
                                   enum reason reason, const char *allow, const char *message)
{
        struct verdict v;

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
        unsigned prev;

        for (size_t i = 0; i < ELEMENTSOF(routes); i++)
                if (streq(url, routes[i].path))
                        route = &routes[i];
        /* A gate of version 1 hears why, not "no such path": its tokens were not per boot and
         * could be reopened after a TPM Restart, so version 1 is not served beside 2. */
        if (!route && (streq(url, "/v1/challenge") || streq(url, "/v1/attest")))
                return refuse_with(c, req, REASON_UNSUPPORTED_VERSION, NULL,
                                   "protocol version 1 is retired: this verifier speaks version "
                                   "2 (/v2/); update the gate");
        if (!route)
                return refuse_with(c, req, REASON_NOT_FOUND, NULL, "no such path");
        req->endpoint = route->endpoint;

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

        /* The slot is taken before the body is read: bodies live outside libmicrohttpd's
         * per-connection pool, so this bound is also what bounds their memory. */
        prev = atomic_fetch_add(&s->inflight, 1);
        if (prev >= s->max_inflight) {
                atomic_fetch_sub(&s->inflight, 1);
                return refuse_with(c, req, REASON_OVERLOADED, NULL,
                                   "too many requests in flight, retry later");
        }
        req->counted = true;
        metrics_inflight_add(1);

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

        /* Chunked bodies grow from a small buffer; declared ones get their size at once. */
        req->allocated = length ? (size_t) declared + 1 : 16384;
        req->body = malloc(req->allocated);
        if (!req->body)
                return MHD_NO;
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
        struct verdict v = {};
        enum decision d;

        req->body[req->size] = '\0';
        if (req->endpoint == ENDPOINT_CHALLENGE)
                reason = appraise_challenge(s->vf, req->body, req->size, (uint64_t) time(NULL),
                                            &body, &v, &req->facts);
        else
                reason = appraise_attest(s->vf, req->body, req->size, (uint64_t) time(NULL), &body,
                                         &v, &req->facts);
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

        if (!req) {
                req = calloc(1, sizeof(*req));
                if (!req)
                        return MHD_NO;
                req->srv = s;
                req->endpoint = ENDPOINT_OTHER;
                clock_gettime(CLOCK_MONOTONIC, &req->start);
                remote_address(c, req->remote, sizeof(req->remote));
                *con_cls = req;
                return on_headers(s, c, req, url, method);
        }

        if (*upload_data_size > 0) {
                int r = body_append(req, upload_data, *upload_data_size);

                *upload_data_size = 0;
                if (r == -EFBIG) {
                        struct verdict v;

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
                struct verdict v;

                verdict_set(&v, REASON_OK, "the answer issuing token %s was not delivered: %s",
                            req->facts.token_id, termination_name(toe));
                (void) decide(req, DECISION_UNDELIVERED, &v);
        }

        if (req->counted) {
                atomic_fetch_sub(&s->inflight, 1);
                metrics_inflight_add(-1);
        }
        request_free(req);
}

static void mhd_log(void *cls _unused_, const char *fmt, va_list ap)
{
        fputs("nodegate-verifier: libmicrohttpd: ", stderr);
        vfprintf(stderr, fmt, ap);
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
        if (cfg->threads < 1 || cfg->max_connections < cfg->threads || cfg->max_inflight < 1) {
                snprintf(err, errlen,
                         "--max-connections must be at least --threads, --max-inflight at "
                         "least 1");
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
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
        if (!s->daemon) {
                snprintf(err, errlen, "cannot serve on %s (see the libmicrohttpd message above)",
                         cfg->listen);
                free(s);
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
        free(s);
}
