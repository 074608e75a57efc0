/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kubernetes token source: configuration (in-cluster or a kubeconfig, parsed with libyaml),
 * one HTTPS call (libcurl, the CA pinned, no proxy, no redirect), and the create-or-compare
 * of the bootstrap token Secret with bounded retries. */
#include "issuance/kube-source.h"

#include "common/base64.h"
#include "common/fileutil.h"
#include "common/json-util.h"
#include "common/util-verifier.h"
#include "issuance/token-source.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <yaml.h>

#define FILE_MAX          (1024 * 1024) /* a kubeconfig, a certificate, a token */
#define ANSWER_MAX        (1024 * 1024) /* what the API server may send back */
#define BACKOFF_FIRST_MS  200
#define BACKOFF_MAX_MS    2000
#define RETRY_AFTER_MAX_S 5 /* a longer Retry-After is taken as "not within this deadline" */
#define MESSAGE_MAX       160

#define SECRET_TYPE "bootstrap.kubernetes.io/token"

struct kube_source {
        char *server; /* https://HOST[:PORT], no trailing slash */
        char *where;  /* "in-cluster" or the kubeconfig's path, for messages */
        char *ca_pem; /* the pinned CA bundle */
        size_t ca_size;
        char *token;      /* a kubeconfig's static token, or NULL */
        char *token_file; /* re-read on every call, or NULL */
        char *cert_pem, *key_pem;
        size_t cert_size, key_size;
        unsigned ttl_sec, deadline_ms;
        char *groups;
};

bool kube_group_valid(const char *g, size_t len)
{
        static const char prefix[] = "system:bootstrappers:";
        size_t plen = sizeof(prefix) - 1;

        if (len <= plen || len > plen + 256 || memcmp(g, prefix, plen) != 0)
                return false;
        for (size_t i = plen; i < len; i++) {
                char c = g[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

                if (!alnum && (i == len - 1 || (c != ':' && c != '-')))
                        return false;
        }
        return true;
}

/* Every group of a comma-separated list, as kubeadm checks auth-extra-groups. */
static bool groups_valid(const char *list)
{
        for (const char *p = list;;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t) (comma - p) : strlen(p);

                if (!kube_group_valid(p, len))
                        return false;
                if (!comma)
                        return true;
                p = comma + 1;
        }
}

/* Whether pem holds at least one certificate (and, for a client key, a key). */
static bool pem_has_certificate(const char *pem, size_t size)
{
        BIO *bio = BIO_new_mem_buf(pem, (int) size);
        X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        bool ok = x != NULL;

        X509_free(x);
        BIO_free(bio);
        return ok;
}

void kube_source_free(struct kube_source *ks)
{
        if (!ks)
                return;
        free(ks->server);
        free(ks->where);
        free(ks->ca_pem);
        erase_and_free(ks->token);
        free(ks->token_file);
        free(ks->cert_pem);
        if (ks->key_pem)
                explicit_bzero(ks->key_pem, ks->key_size);
        free(ks->key_pem);
        free(ks->groups);
        free(ks);
}

/* ---- kubeconfig ---- */

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);

                if (k && k->type == YAML_SCALAR_NODE && strlen(key) == k->data.scalar.length &&
                    memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
                        return yaml_document_get_node(doc, p->value);
        }
        return NULL;
}

/* A scalar's text (NUL-terminated by libyaml), or NULL for anything else. */
static const char *scalar(yaml_node_t *n)
{
        return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

/* The `inner` mapping of the entry named name in the list `list` (clusters, users, contexts). */
static yaml_node_t *named(yaml_document_t *doc, yaml_node_t *root, const char *list,
                          const char *name, const char *inner)
{
        yaml_node_t *seq = map_get(doc, root, list);

        if (!seq || seq->type != YAML_SEQUENCE_NODE)
                return NULL;
        for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
             i++) {
                yaml_node_t *e = yaml_document_get_node(doc, *i);

                if (streq_ptr(scalar(map_get(doc, e, "name")), name))
                        return map_get(doc, e, inner);
        }
        return NULL;
}

/* A file named in the kubeconfig, relative to the kubeconfig's directory as kubectl takes it. */
static int resolve(const char *kubeconfig, const char *path, char **ret)
{
        const char *slash = strrchr(kubeconfig, '/');

        if (path[0] == '/' || !slash)
                *ret = strdup(path);
        else if (asprintf(ret, "%.*s/%s", (int) (slash - kubeconfig), kubeconfig, path) < 0)
                *ret = NULL;
        return *ret ? 0 : -ENOMEM;
}

/* PEM from FIELD-data (base64) or from the file FIELD names. @return 0, -ENOENT if neither */
static int pem_field(yaml_document_t *doc, yaml_node_t *m, const char *kubeconfig,
                     const char *field, char **ret, size_t *ret_size, char *err, size_t errlen)
{
        char data_key[64];
        const char *data, *file;
        int r;

        snprintf(data_key, sizeof(data_key), "%s-data", field);
        data = scalar(map_get(doc, m, data_key));
        file = scalar(map_get(doc, m, field));
        if (data) {
                size_t len = strlen(data), size;
                char *buf = calloc(1, base64_decoded_max(len) + 1);

                if (!buf)
                        return set_error(err, errlen, -ENOMEM, "out of memory");
                r = base64_decode(data, len, (uint8_t *) buf, base64_decoded_max(len), &size);
                if (r < 0) {
                        erase_and_free(buf);
                        return set_error(err, errlen, -EINVAL, "%s: %s is not base64", kubeconfig,
                                         data_key);
                }
                *ret = buf;
                *ret_size = size;
                return 0;
        }
        if (file) {
                _cleanup_free_ char *path = NULL;

                r = resolve(kubeconfig, file, &path);
                if (r < 0)
                        return set_error(err, errlen, r, "out of memory");
                r = read_regular_file(path, FILE_MAX, ret, ret_size);
                if (r < 0)
                        return set_error(err, errlen, r, "%s: %s %s: %s", kubeconfig, field, path,
                                         strerror(-r));
                return 0;
        }
        return -ENOENT;
}

static int load_kubeconfig(struct kube_source *ks, const char *path, char *err, size_t errlen)
{
        _cleanup_(erase_and_freep) char *text = NULL;
        yaml_parser_t parser;
        yaml_document_t doc;
        yaml_node_t *root, *ctx, *cluster, *user;
        const char *current, *server, *token, *token_file;
        size_t size;
        int r;

        r = read_regular_file(path, FILE_MAX, &text, &size);
        if (r < 0)
                return set_error(err, errlen, r, "kubeconfig %s: %s", path, strerror(-r));
        if (!yaml_parser_initialize(&parser))
                return set_error(err, errlen, -ENOMEM, "out of memory");
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, size);
        if (!yaml_parser_load(&parser, &doc)) {
                r = set_error(err, errlen, -EINVAL, "kubeconfig %s: line %zu: %s", path,
                              parser.problem_mark.line + 1, strempty(parser.problem));
                yaml_parser_delete(&parser);
                return r;
        }
        yaml_parser_delete(&parser);
        root = yaml_document_get_root_node(&doc);
        current = scalar(map_get(&doc, root, "current-context"));
        ctx = current ? named(&doc, root, "contexts", current, "context") : NULL;
        if (!ctx) {
                r = set_error(err, errlen, -EINVAL,
                              "kubeconfig %s: no current-context, or no context of that name",
                              path);
                goto out;
        }
        cluster = named(&doc, root, "clusters", strempty(scalar(map_get(&doc, ctx, "cluster"))),
                        "cluster");
        user = named(&doc, root, "users", strempty(scalar(map_get(&doc, ctx, "user"))), "user");
        server = scalar(map_get(&doc, cluster, "server"));
        if (!cluster || !user || !server) {
                r = set_error(err, errlen, -EINVAL,
                              "kubeconfig %s: the current context's cluster (with a server) or "
                              "user is missing",
                              path);
                goto out;
        }
        if (!startswith(server, "https://") || strlen(server) <= strlen("https://")) {
                r = set_error(err, errlen, -EINVAL, "kubeconfig %s: server %s is not https://",
                              path, server);
                goto out;
        }
        if (streq_ptr(scalar(map_get(&doc, cluster, "insecure-skip-tls-verify")), "true")) {
                r = set_error(err, errlen, -EPERM,
                              "kubeconfig %s: insecure-skip-tls-verify: the cluster CA must be "
                              "pinned",
                              path);
                goto out;
        }
        if (map_get(&doc, user, "exec") || map_get(&doc, user, "auth-provider")) {
                r = set_error(err, errlen, -EOPNOTSUPP,
                              "kubeconfig %s: exec and auth-provider credentials are not "
                              "supported; use a token, tokenFile or a client certificate",
                              path);
                goto out;
        }
        ks->server = strdup(server);
        if (!ks->server) {
                r = set_error(err, errlen, -ENOMEM, "out of memory");
                goto out;
        }
        /* The system's CAs are never used: an API server is trusted by its cluster's CA. */
        r = pem_field(&doc, cluster, path, "certificate-authority", &ks->ca_pem, &ks->ca_size, err,
                      errlen);
        if (r == -ENOENT)
                r = set_error(err, errlen, -EINVAL,
                              "kubeconfig %s: the cluster has no certificate-authority(-data): "
                              "the CA must be pinned",
                              path);
        if (r < 0)
                goto out;
        token = scalar(map_get(&doc, user, "token"));
        token_file = scalar(map_get(&doc, user, "tokenFile"));
        if (token) {
                ks->token = strdup(token);
                if (!ks->token) {
                        r = set_error(err, errlen, -ENOMEM, "out of memory");
                        goto out;
                }
        } else if (token_file) {
                r = resolve(path, token_file, &ks->token_file);
                if (r < 0) {
                        r = set_error(err, errlen, r, "out of memory");
                        goto out;
                }
        } else {
                r = pem_field(&doc, user, path, "client-certificate", &ks->cert_pem, &ks->cert_size,
                              err, errlen);
                if (r == 0)
                        r = pem_field(&doc, user, path, "client-key", &ks->key_pem, &ks->key_size,
                                      err, errlen);
                if (r == -ENOENT)
                        r = set_error(err, errlen, -EINVAL,
                                      "kubeconfig %s: the user has no token, tokenFile or "
                                      "client-certificate and client-key",
                                      path);
                if (r < 0)
                        goto out;
                if (!pem_has_certificate(ks->cert_pem, ks->cert_size)) {
                        r = set_error(err, errlen, -EINVAL,
                                      "kubeconfig %s: client-certificate is not a PEM certificate",
                                      path);
                        goto out;
                }
        }
        r = 0;
out:
        yaml_document_delete(&doc);
        return r;
}

static int load_in_cluster(struct kube_source *ks, char *err, size_t errlen)
{
        const char *host = getenv("KUBERNETES_SERVICE_HOST"),
                   *port = getenv("KUBERNETES_SERVICE_PORT");
        const char *dir = getenv("NODEGATE_KUBE_SERVICEACCOUNT_DIR");
        _cleanup_free_ char *ca = NULL;
        int r;

        if (!dir || !dir[0])
                dir = KUBE_SERVICEACCOUNT_DIR;
        if (!host || !host[0] || !port || !port[0])
                return set_error(err, errlen, -EINVAL,
                                 "not in a pod: KUBERNETES_SERVICE_HOST and _PORT are unset (give "
                                 "kubernetes:KUBECONFIG)");
        if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
                return set_error(err, errlen, -EINVAL, "KUBERNETES_SERVICE_PORT %s is not a port",
                                 port);
        if (asprintf(&ks->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
                     port) < 0 ||
            asprintf(&ks->token_file, "%s/token", dir) < 0 || asprintf(&ca, "%s/ca.crt", dir) < 0) {
                ks->server = ks->token_file = NULL;
                return set_error(err, errlen, -ENOMEM, "out of memory");
        }
        r = read_regular_file(ca, FILE_MAX, &ks->ca_pem, &ks->ca_size);
        if (r < 0)
                return set_error(err, errlen, r, "in-cluster CA %s: %s", ca, strerror(-r));
        return 0;
}

static void curl_init_once(void)
{
        (void) curl_global_init(CURL_GLOBAL_DEFAULT);
}

int kube_source_new(const char *kubeconfig, const struct kube_options *o, struct kube_source **ret,
                    char *err, size_t errlen)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        struct kube_source *ks;
        const char *groups = o && o->groups ? o->groups : KUBE_GROUP_DEFAULT;
        unsigned ttl = o && o->ttl_sec ? o->ttl_sec : KUBE_TTL_DEFAULT;
        int r;

        if (ttl < KUBE_TTL_MIN || ttl > KUBE_TTL_MAX)
                return set_error(err, errlen, -EINVAL, "token TTL %u s is outside %u-%u s", ttl,
                                 KUBE_TTL_MIN, KUBE_TTL_MAX);
        if (!groups_valid(groups))
                return set_error(err, errlen, -EINVAL,
                                 "auth-extra-groups %s: each group must match "
                                 "system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9] (kubeadm)",
                                 groups);
        ks = calloc(1, sizeof(*ks));
        if (!ks)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        ks->ttl_sec = ttl;
        ks->deadline_ms = o && o->deadline_ms ? o->deadline_ms : KUBE_DEADLINE_DEFAULT;
        ks->groups = strdup(groups);
        ks->where = strdup(kubeconfig ? kubeconfig : "in-cluster");
        if (!ks->groups || !ks->where) {
                kube_source_free(ks);
                return set_error(err, errlen, -ENOMEM, "out of memory");
        }
        r = kubeconfig ? load_kubeconfig(ks, kubeconfig, err, errlen)
                       : load_in_cluster(ks, err, errlen);
        if (r == 0 && !pem_has_certificate(ks->ca_pem, ks->ca_size))
                r = set_error(err, errlen, -EINVAL, "%s: the cluster CA is not a PEM certificate",
                              ks->where);
        if (r == 0 && ks->token_file && access(ks->token_file, R_OK) < 0)
                r = set_error(err, errlen, negative_errno(), "%s: token file %s: %m", ks->where,
                              ks->token_file);
        if (r == 0 && endswith(ks->server, "/"))
                ks->server[strlen(ks->server) - 1] = '\0';
        if (r < 0) {
                kube_source_free(ks);
                return r;
        }
        pthread_once(&once, curl_init_once);
        *ret = ks;
        return 0;
}

/* ---- one HTTPS call ---- */

struct answer {
        long status;
        long retry_after; /* s, 0 if none */
        char *body;
        size_t size;
        bool too_large;
};

static void answer_done(struct answer *a)
{
        if (a->body)
                explicit_bzero(a->body, a->size); /* a GET's body holds the token-secret */
        free(a->body);
        *a = (struct answer){};
}

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
        struct answer *a = userdata;
        size_t len = size * n;
        char *grown;

        if (a->size + len > ANSWER_MAX) {
                a->too_large = true;
                return 0;
        }
        grown = malloc(a->size + len + 1);
        if (!grown)
                return 0;
        if (a->body) {
                memcpy(grown, a->body, a->size);
                explicit_bzero(a->body, a->size);
                free(a->body);
        }
        memcpy(grown + a->size, p, len);
        a->size += len;
        grown[a->size] = '\0';
        a->body = grown;
        return len;
}

static void curl_easy_cleanupp(CURL **h)
{
        if (*h)
                curl_easy_cleanup(*h);
}

/* The list holds the Authorization header: wiped before it is freed. */
static void curl_slist_free_allp(struct curl_slist **l)
{
        for (struct curl_slist *i = *l; i; i = i->next)
                if (i->data)
                        explicit_bzero(i->data, strlen(i->data));
        curl_slist_free_all(*l);
}

/* The bearer token for this call: the kubeconfig's, or the file's as it is now. */
static int bearer(const struct kube_source *ks, char **ret, char *err, size_t errlen)
{
        char *t;
        size_t len;
        int r;

        if (ks->token) {
                t = strdup(ks->token);
                if (!t)
                        return set_error(err, errlen, -ENOMEM, "out of memory");
        } else if (ks->token_file) {
                r = read_regular_file(ks->token_file, FILE_MAX, &t, &len);
                if (r < 0)
                        return set_error(err, errlen, r, "token file %s: %s", ks->token_file,
                                         strerror(-r));
        } else {
                *ret = NULL;
                return 0;
        }
        len = strlen(t);
        while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
                t[--len] = '\0';
        /* Into a header: a control character would split it. */
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) t[i] < 0x21 || (unsigned char) t[i] > 0x7e) {
                        erase_and_free(t);
                        return set_error(err, errlen, -EINVAL,
                                         "the bearer token holds a character a header cannot");
                }
        if (len == 0) {
                erase_and_free(t);
                return set_error(err, errlen, -EINVAL, "the bearer token is empty");
        }
        *ret = t;
        return 0;
}

/* Transport failures worth another attempt: the server was not reached or went away. TLS
 * verification failures are not: the next attempt meets the same certificate. */
static bool transport_retryable(CURLcode c)
{
        switch (c) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
                return true;
        default:
                return false;
        }
}

/* @return 0 and the answer, -EAGAIN (transport, retryable), or another negative errno */
static int call(const struct kube_source *ks, const char *url, const char *post_body,
                long timeout_ms, struct answer *ret, char *err, size_t errlen)
{
        _cleanup_(curl_easy_cleanupp) CURL *h = curl_easy_init();
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_(erase_and_freep) char *token = NULL, *auth = NULL;
        /* NOCOPY: ks outlives the handle, and libcurl would free a copy of the key unwiped. */
        struct curl_blob ca = {.data = ks->ca_pem, .len = ks->ca_size, .flags = CURL_BLOB_NOCOPY};
        char curl_err[CURL_ERROR_SIZE] = "";
        struct answer a = {};
        curl_off_t retry_after = 0;
        CURLcode c;
        int r;

        if (!h)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        r = bearer(ks, &token, err, errlen);
        if (r < 0)
                return r;
        headers = curl_slist_append(NULL, "Accept: application/json");
        if (headers && post_body)
                headers = curl_slist_append(headers, "Content-Type: application/json");
        if (headers)
                headers = curl_slist_append(headers, "Expect:");
        if (headers && token) {
                if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
                        auth = NULL;
                        return set_error(err, errlen, -ENOMEM, "out of memory");
                }
                headers = curl_slist_append(headers, auth);
        }
        if (!headers)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROXY, ""); /* no proxy from the environment */
        curl_easy_setopt(h, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        /* Pinned: this CA and nothing else, not the system's bundle nor its directory. */
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        if (ks->cert_pem) {
                struct curl_blob cert = {ks->cert_pem, ks->cert_size, CURL_BLOB_NOCOPY};
                struct curl_blob key = {ks->key_pem, ks->key_size, CURL_BLOB_NOCOPY};

                curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
                curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
                curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
                curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "nodegate-verifier");
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 3000 ? timeout_ms : 3000L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
        if (post_body) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) strlen(post_body));
        }
        c = curl_easy_perform(h);
        if (c != CURLE_OK) {
                bool retry = transport_retryable(c) && !a.too_large;

                answer_done(&a);
                return set_error(err, errlen, retry ? -EAGAIN : -EIO, "%s: %s%s%s", ks->server,
                                 curl_easy_strerror(c), curl_err[0] ? ": " : "", curl_err);
        }
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
                a.retry_after = retry_after > 3600 ? 3600 : (long) retry_after;
        *ret = a;
        return 0;
}

/* The answer's Status.message (and reason), printable, short, for err. Never the request's. */
static void status_text(const struct answer *a, const char *secret, char *buf, size_t size)
{
        _cleanup_(json_object_putp) json_object *o = a->body ? json_tokener_parse(a->body) : NULL;
        json_object *m = NULL, *reason = NULL;
        const char *text;
        size_t n = 0;

        buf[0] = '\0';
        if (!o || !json_object_object_get_ex(o, "message", &m) ||
            !json_object_is_type(m, json_type_string))
                return;
        (void) json_object_object_get_ex(o, "reason", &reason);
        text = json_object_get_string(m);
        if (strstr(text, secret))
                return; /* an API server would not echo it; if one does, it stays unsaid */
        if (reason && json_object_is_type(reason, json_type_string))
                n = (size_t) snprintf(buf, size, "%.40s: ", json_object_get_string(reason));
        for (const char *p = text; *p && n + 1 < size && n < MESSAGE_MAX; p++)
                buf[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
        buf[n < size ? n : size - 1] = '\0';
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* RFC 3339 as kubeadm writes it ("2006-01-02T15:04:05Z07:00"). @return 0 or -EINVAL */
static int parse_rfc3339(const char *s, time_t *ret)
{
        struct tm tm = {};
        const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        long offset = 0;
        time_t t;

        if (!p)
                return -EINVAL;
        if (*p == '.')
                for (p++; *p >= '0' && *p <= '9'; p++)
                        ;
        if (*p == 'Z' || *p == 'z')
                p++;
        else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
                int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = (p[4] - '0') * 10 + (p[5] - '0');

                offset = (hh * 60L + mm) * 60L * (*p == '-' ? -1 : 1);
                p += 6;
        } else
                return -EINVAL;
        if (*p)
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret = t - offset;
        return 0;
}

/* A field of the Secret's data, base64-decoded, NUL-terminated into buf. @return length or <0 */
static int data_field(json_object *data, const char *key, char *buf, size_t size)
{
        json_object *v;
        const char *s;
        size_t len;

        if (!json_object_object_get_ex(data, key, &v) || !json_object_is_type(v, json_type_string))
                return -ENOENT;
        s = json_object_get_string(v);
        if (base64_decode(s, strlen(s), (uint8_t *) buf, size - 1, &len) < 0)
                return -EBADMSG;
        buf[len] = '\0';
        return (int) len;
}

/* The existing Secret of a 409: the same token is success, anything else an error. */
static int compare_existing(const struct kube_source *ks, const struct answer *a, const char *id,
                            const char *secret, char *err, size_t errlen)
{
        _cleanup_(json_object_putp) json_object *o = a->body ? json_tokener_parse(a->body) : NULL;
        json_object *type = NULL, *data = NULL;
        char got_id[16], got_secret[32], usage[16], expiration[64];
        time_t expires;
        bool same;
        int n;

        if (!o || !json_object_object_get_ex(o, "type", &type) ||
            !json_object_object_get_ex(o, "data", &data) ||
            !json_object_is_type(data, json_type_object))
                return set_error(err, errlen, -EPROTO,
                                 "%s: GET bootstrap-token-%s: not a Secret with data", ks->server,
                                 id);
        if (!streq(json_object_get_string(type), SECRET_TYPE))
                return set_error(err, errlen, -EEXIST,
                                 "kube-system/bootstrap-token-%s exists with type %.64s, not %s",
                                 id, json_object_get_string(type), SECRET_TYPE);
        n = data_field(data, "token-secret", got_secret, sizeof(got_secret));
        same = n == TOKEN_SIZE - TOKEN_ID_SIZE - 1 &&
               CRYPTO_memcmp(got_secret, secret, (size_t) n) == 0;
        explicit_bzero(got_secret, sizeof(got_secret));
        if (!same || data_field(data, "token-id", got_id, sizeof(got_id)) != TOKEN_ID_SIZE ||
            !streq(got_id, id))
                return set_error(err, errlen, -EEXIST,
                                 "kube-system/bootstrap-token-%s exists with a different token: "
                                 "not giving this boot a token the cluster does not hold",
                                 id);
        if (data_field(data, "usage-bootstrap-authentication", usage, sizeof(usage)) < 0 ||
            !streq(usage, "true"))
                return set_error(err, errlen, -EEXIST,
                                 "kube-system/bootstrap-token-%s exists without "
                                 "usage-bootstrap-authentication: \"true\"",
                                 id);
        if (data_field(data, "expiration", expiration, sizeof(expiration)) >= 0 &&
            (parse_rfc3339(expiration, &expires) < 0 || expires <= time(NULL)))
                return set_error(err, errlen, -EEXIST,
                                 "kube-system/bootstrap-token-%s exists but expired (%s): the "
                                 "token cleaner deletes it, then this boot can have it again",
                                 id, expiration);
        return 0;
}

/* The Secret, as kubeadm's bootstraptoken package writes one (its data base64 as the API's
 * JSON has it). @return malloc'ed JSON, to be wiped */
static char *secret_body(const struct kube_source *ks, const char *id, const char *secret,
                         const char *node)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *meta = json_object_new_object(), *labels = json_object_new_object(),
                    *data = json_object_new_object();
        char name[64], expiration[32], description[320];
        time_t t = time(NULL) + (time_t) ks->ttl_sec;
        const char *fields[6][2];
        struct tm tm;
        char *out = NULL;
        int r = 0;

        if (!o || !meta || !labels || !data) {
                json_object_put(meta);
                json_object_put(labels);
                json_object_put(data);
                return NULL;
        }
        snprintf(name, sizeof(name), "bootstrap-token-%s", id);
        gmtime_r(&t, &tm);
        strftime(expiration, sizeof(expiration), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(description, sizeof(description),
                 "nodegate-verifier: the token of one boot of node claim \"%s\"",
                 node && node[0] ? node : "(none)");
        r |= json_add(o, "apiVersion", json_object_new_string("v1"));
        r |= json_add(o, "kind", json_object_new_string("Secret"));
        r |= json_add(o, "metadata", meta);
        r |= json_add(o, "type", json_object_new_string(SECRET_TYPE));
        r |= json_add(o, "data", data);
        if (r < 0) {
                json_object_put(labels);
                return NULL;
        }
        r |= json_add(meta, "name", json_object_new_string(name));
        r |= json_add(meta, "namespace", json_object_new_string(KUBE_NAMESPACE));
        r |= json_add(meta, "labels", labels);
        r |= json_add(labels, "app.kubernetes.io/managed-by",
                      json_object_new_string("nodegate-verifier"));
        fields[0][0] = "token-id", fields[0][1] = id;
        fields[1][0] = "token-secret", fields[1][1] = secret;
        fields[2][0] = "expiration", fields[2][1] = expiration;
        fields[3][0] = "usage-bootstrap-authentication", fields[3][1] = "true";
        fields[4][0] = "auth-extra-groups", fields[4][1] = ks->groups;
        fields[5][0] = "description", fields[5][1] = description;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                char *b64 =
                    base64_encode_alloc((const uint8_t *) fields[i][1], strlen(fields[i][1]));

                r |= json_add(data, fields[i][0], b64 ? json_object_new_string(b64) : NULL);
                if (b64)
                        erase_and_free(b64);
        }
        if (r == 0) {
                const char *s = json_object_to_json_string_ext(
                    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                out = s ? strdup(s) : NULL;
                if (s)
                        explicit_bzero((char *) s, strlen(s));
        }
        /* json-c's copy of the base64 token-secret. */
        {
                json_object *v;

                if (json_object_object_get_ex(data, "token-secret", &v)) {
                        const char *s = json_object_get_string(v);
                        explicit_bzero((char *) s, strlen(s));
                }
        }
        return out;
}

int kube_source_put(struct kube_source *ks, const char *token, const char *node, char *err,
                    size_t errlen)
{
        _cleanup_(erase_and_freep) char *body = NULL;
        _cleanup_free_ char *collection = NULL, *item = NULL;
        char id[TOKEN_ID_SIZE + 1], secret[TOKEN_SIZE - TOKEN_ID_SIZE], last[320] = "",
                                                                        msg[MESSAGE_MAX + 48];
        int64_t start = now_ms(), deadline = start + ks->deadline_ms;
        long backoff = BACKOFF_FIRST_MS;
        unsigned attempts = 0;
        int r;

        if (!token || !token_is_valid(token, strlen(token)))
                return set_error(err, errlen, -EINVAL, "kubernetes: no valid token to create");
        memcpy(id, token, TOKEN_ID_SIZE);
        id[TOKEN_ID_SIZE] = '\0';
        memcpy(secret, token + TOKEN_ID_SIZE + 1, sizeof(secret) - 1);
        secret[sizeof(secret) - 1] = '\0';
        body = secret_body(ks, id, secret, node);
        if (!body || asprintf(&collection, "%s/api/v1/namespaces/" KUBE_NAMESPACE "/secrets",
                              ks->server) < 0) {
                collection = NULL;
                explicit_bzero(secret, sizeof(secret));
                return set_error(err, errlen, -ENOMEM, "out of memory");
        }
        if (asprintf(&item, "%s/bootstrap-token-%s", collection, id) < 0) {
                item = NULL;
                explicit_bzero(secret, sizeof(secret));
                return set_error(err, errlen, -ENOMEM, "out of memory");
        }

        for (;;) {
                struct answer a = {};
                int64_t left = deadline - now_ms();
                long wait;

                if (left <= 0)
                        break;
                attempts++;
                r = call(ks, collection, body, (long) left, &a, last, sizeof(last));
                if (r == 0 && a.status == 409) {
                        /* Another replica (or an earlier request of this boot) created it:
                         * ours only if it holds this very token. */
                        answer_done(&a);
                        left = deadline - now_ms();
                        if (left <= 0)
                                break;
                        r = call(ks, item, NULL, (long) left, &a, last, sizeof(last));
                        if (r == 0 && a.status == 200) {
                                r = compare_existing(ks, &a, id, secret, err, errlen);
                                answer_done(&a);
                                explicit_bzero(secret, sizeof(secret));
                                return r;
                        }
                        if (r == 0 && a.status == 404) {
                                answer_done(&a);
                                continue; /* deleted meanwhile (expired): create it again */
                        }
                }
                if (r == 0) {
                        status_text(&a, secret, msg, sizeof(msg));
                        if (a.status >= 200 && a.status < 300) {
                                answer_done(&a);
                                explicit_bzero(secret, sizeof(secret));
                                return 0;
                        }
                        snprintf(last, sizeof(last), "%s answered %ld%s%s", ks->server, a.status,
                                 msg[0] ? ": " : "", msg);
                        if (a.status != 429 && a.status < 500) {
                                answer_done(&a);
                                explicit_bzero(secret, sizeof(secret));
                                return set_error(
                                    err, errlen,
                                    a.status == 401 || a.status == 403 ? -EACCES : -EPROTO,
                                    "kubernetes: creating bootstrap-token-%s: %s", id, last);
                        }
                } else if (r != -EAGAIN) {
                        explicit_bzero(secret, sizeof(secret));
                        return set_error(err, errlen, r, "kubernetes: %s", last);
                }
                /* 429, 5xx, or the server not reached: again, after a while. */
                wait = backoff + (long) (random() % (backoff / 4 + 1));
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                if (r == 0 && a.retry_after > 0) {
                        if (a.retry_after > RETRY_AFTER_MAX_S ||
                            now_ms() + a.retry_after * 1000 >= deadline) {
                                answer_done(&a);
                                explicit_bzero(secret, sizeof(secret));
                                return set_error(err, errlen, -ETIMEDOUT,
                                                 "kubernetes: %s, Retry-After %ld s is beyond "
                                                 "the deadline",
                                                 last, a.retry_after);
                        }
                        wait = a.retry_after * 1000;
                }
                answer_done(&a);
                if (now_ms() + wait >= deadline)
                        break;
                sleep_ms(wait);
        }
        explicit_bzero(secret, sizeof(secret));
        return set_error(err, errlen, -ETIMEDOUT,
                         "kubernetes: bootstrap-token-%s not created within %u ms (%u attempts; "
                         "last: %s)",
                         id, ks->deadline_ms, attempts, last[0] ? last : "none");
}
