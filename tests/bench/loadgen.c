/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Load generator for the verifier: software nodes run full attestations (both rounds) over
 * HTTPS keep-alive at a fixed offered rate (open loop) or as fast as the server answers. */
#include "softnode.h"

#include "util.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>

#define MAX_CONNECTIONS 1024
#define MAX_DURATION_S  600
#define MAX_RATE        1000000
#define MAX_RESPONSE    (256 * 1024)
#define MAX_LOG         (512 * 1024) /* PROTOCOL.md: event_log ≤ 512 KiB decoded */
#define MAX_ERROR_KINDS 32
#define MAX_NODES       100000
#define RESET_COUNT     7 /* fixed: each node is in one boot */

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* ---- the event log: the node claims the PCR values its replay gives ---- */

struct pcr_bank {
        uint8_t sha256[24][32];
};

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
        return (uint16_t) (p[0] | p[1] << 8);
}

/* Replays the SHA-256 bank of a crypto-agile log. Bounded by size: every length is checked
 * before it is used. @return 0 or -EBADMSG */
static int log_replay(const uint8_t *log, size_t size, struct pcr_bank *ret)
{
        struct {
                uint16_t alg, size;
        } algs[8];
        size_t n_algs, pos, spec_size, vendor;
        struct pcr_bank bank = {};
        bool have_sha256 = false;
        uint32_t n;

        /* PC Client TPMs reset PCRs 17-22 (dynamic root of trust) to all ones. */
        for (int pcr = 17; pcr <= 22; pcr++)
                memset(bank.sha256[pcr], 0xff, 32);
        /* The Spec ID event, in the SHA-1 TCG_PCR_EVENT format. */
        if (size < 32 || le32(log + 28) > size - 32)
                return -EBADMSG;
        spec_size = le32(log + 28);
        if (spec_size < 29 || memcmp(log + 32, "Spec ID Event03", 16) != 0)
                return -EBADMSG;
        n = le32(log + 32 + 24);
        if (n == 0 || n > ELEMENTSOF(algs) || 28 + 4 * (size_t) n + 1 > spec_size)
                return -EBADMSG;
        n_algs = n;
        for (size_t i = 0; i < n_algs; i++) {
                algs[i].alg = le16(log + 32 + 28 + 4 * i);
                algs[i].size = le16(log + 32 + 28 + 4 * i + 2);
                if (algs[i].size > 64)
                        return -EBADMSG;
        }
        vendor = log[32 + 28 + 4 * n_algs];
        if (28 + 4 * n_algs + 1 + vendor > spec_size)
                return -EBADMSG;
        pos = 32 + spec_size;

        while (pos < size) {
                const uint8_t *sha256 = NULL;
                uint32_t pcr, type, count, data_size;

                if (size - pos < 12)
                        return -EBADMSG;
                pcr = le32(log + pos);
                type = le32(log + pos + 4);
                count = le32(log + pos + 8);
                pos += 12;
                if (pcr >= 24 || count > n_algs)
                        return -EBADMSG;
                for (uint32_t i = 0; i < count; i++) {
                        size_t j;
                        uint16_t alg;

                        if (size - pos < 2)
                                return -EBADMSG;
                        alg = le16(log + pos);
                        for (j = 0; j < n_algs && algs[j].alg != alg; j++)
                                ;
                        if (j == n_algs || size - pos - 2 < algs[j].size)
                                return -EBADMSG;
                        if (alg == 0x000b && algs[j].size == 32)
                                sha256 = log + pos + 2;
                        pos += 2 + algs[j].size;
                }
                if (size - pos < 4)
                        return -EBADMSG;
                data_size = le32(log + pos);
                pos += 4;
                if (data_size > size - pos)
                        return -EBADMSG;
                if (type == 0x3 && pcr == 0 && data_size >= 17 &&
                    memcmp(log + pos, "StartupLocality", 16) == 0)
                        bank.sha256[0][31] = log[pos + 16]; /* PCR 0 starts at the locality */
                pos += data_size;
                if (type == 0x3)
                        continue; /* EV_NO_ACTION is not extended */
                if (!sha256)
                        return -EBADMSG;
                have_sha256 = true;
                uint8_t buf[64];
                memcpy(buf, bank.sha256[pcr], 32);
                memcpy(buf + 32, sha256, 32);
                SHA256(buf, 64, bank.sha256[pcr]);
        }
        if (!have_sha256)
                return -EBADMSG;
        *ret = bank;
        return 0;
}

/* ---- base64 and small buffers ---- */

static char *b64_encode(const uint8_t *p, size_t n)
{
        char *out = malloc(4 * ((n + 2) / 3) + 1);

        if (out)
                EVP_EncodeBlock((unsigned char *) out, p, (int) n);
        return out;
}

/* @return decoded size, or -EBADMSG */
static int b64_decode(const char *s, uint8_t *out, size_t out_size)
{
        size_t len = strlen(s), pad = 0;
        int n;

        if (len == 0 || len % 4 != 0 || len / 4 * 3 > out_size)
                return -EBADMSG;
        n = EVP_DecodeBlock(out, (const unsigned char *) s, (int) len);
        if (n < 0)
                return -EBADMSG;
        pad = (s[len - 1] == '=') + (s[len - 2] == '=');
        return n - (int) pad;
}

struct buf {
        char *p;
        size_t len, cap;
};

static int buf_append(struct buf *b, const void *p, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                char *q;

                while (cap < b->len + n + 1)
                        cap *= 2;
                q = realloc(b->p, cap);
                if (!q)
                        return -ENOMEM;
                b->p = q;
                b->cap = cap;
        }
        memcpy(b->p + b->len, p, n);
        b->len += n;
        b->p[b->len] = 0;
        return 0;
}

static int buf_str(struct buf *b, const char *s)
{
        return buf_append(b, s, strlen(s));
}

/* ---- statistics ---- */

struct series {
        uint32_t *us;
        size_t n, cap;
};

static void series_add(struct series *s, uint64_t ns)
{
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 65536;
                uint32_t *p = realloc(s->us, cap * sizeof(*p));

                if (!p)
                        return; /* statistics are best effort; the counts stay exact */
                s->us = p;
                s->cap = cap;
        }
        s->us[s->n++] = ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t) (ns / 1000);
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return x < y ? -1 : x > y;
}

static double series_pct(const struct series *s, double p)
{
        size_t i;

        if (s->n == 0)
                return NAN;
        i = (size_t) ceil(p * (double) s->n);
        i = i == 0 ? 0 : i - 1;
        return s->us[i < s->n ? i : s->n - 1] / 1000.0;
}

struct error_kind {
        char what[96];
        unsigned long count;
        char example[160];
};

struct stats {
        unsigned long ok, failed, unstarted;
        unsigned long rejected; /* refused by the server for a reason other than load */
        struct series full, round1, round2;
        uint64_t client_ns; /* between the rounds: activation, quote, body */
        struct error_kind errors[MAX_ERROR_KINDS];
        size_t n_errors;
};

static void stats_error(struct stats *st, const char *what, const char *example)
{
        size_t i;

        st->failed++;
        for (i = 0; i < st->n_errors; i++)
                if (streq(st->errors[i].what, what))
                        break;
        if (i == st->n_errors) {
                if (i == MAX_ERROR_KINDS)
                        i--; /* the last kind collects the rest */
                else
                        st->n_errors++;
                snprintf(st->errors[i].what, sizeof(st->errors[i].what), "%s", what);
                snprintf(st->errors[i].example, sizeof(st->errors[i].example), "%s",
                         strempty(example));
        }
        st->errors[i].count++;
}

/* ---- the attestation state machine, one per connection slot ---- */

enum slot_state { SLOT_IDLE, SLOT_CHALLENGE, SLOT_ATTEST };

struct node {
        struct softnode tpm;
        char *challenge_body; /* round 1 never changes for a node */
        size_t challenge_body_size;
};

struct slot {
        CURL *h;
        enum slot_state state;
        struct node *node;
        uint64_t t_sched, t_start, t_r1_end, t_r2_start;
        struct buf resp, body;
};

struct bench {
        /* Many identities, used in turn, so a server cache keyed by EK or AK cannot turn the
         * bench into one node attesting over and over. */
        struct node *nodes;
        size_t n_nodes, next_node;
        const char *url;
        char *url_challenge, *url_attest;
        const char *ca;
        long timeout_ms;
        struct curl_slist *headers;
        char *log_b64;
        struct pcr_bank pcrs;
        /* The attest body after the per-attestation fields, for the selection in tail_mask. */
        char *tail;
        uint32_t tail_mask;
        uint8_t pcr_digest[32];
        uint64_t clock;
        struct slot *slots;
        size_t n_slots;
        CURLM *multi;
        /* Wakes the loop when the next open-loop attestation is due: poll()'s milliseconds are
         * too coarse at 1000/s and up, and spinning would steal the server's CPU. */
        int timer_fd;
        const char *hostname; /* the node's claim; "bench-node" unless set */
        /* Protocol version 3 with a SEV-SNP report in every round 2 (--snp DIR): the VCEK's
         * key and the report's fields; its DER in base64, sent as "certificates" unless the
         * verifier is to find it in its --vcek-cache (--snp-no-certificates). */
        struct softnode_snp snp;
        bool have_snp;
        char *vcek_b64;
        struct stats st;
        bool recording;
        bool verbose;
};

/* The protocol version the requests and the answers carry. */
static int version(const struct bench *b)
{
        return b->have_snp ? 3 : 2;
}

/* The round-1 body, which round 2 repeats after its own first fields. */
#define CHALLENGE_BODY_PREFIX      "{\"version\":%d,\"ek_public\":\""
#define CHALLENGE_BODY_PREFIX_SIZE (sizeof("{\"version\":2,\"ek_public\":\"") - 1)

/* Appends round 2's "platform" field before the body's closing brace: a report whose
 * REPORT_DATA binds this challenge and this node's EK and AK, signed by the VCEK now, as the
 * TEE's firmware would. @return 0, -EIO when signing fails, -ENOMEM */
static int append_platform(const struct bench *b, const struct node *n, const uint8_t *challenge,
                           size_t challenge_size, struct buf *body)
{
        uint8_t binding[64], report[SOFTNODE_SNP_REPORT_SIZE];
        _cleanup_free_ char *report_b64 = NULL;
        int r;

        r = softnode_platform_binding(&n->tpm, challenge, challenge_size, binding);
        if (r < 0)
                return r;
        r = softnode_snp_report(&b->snp, binding, report);
        if (r < 0)
                return r;
        report_b64 = b64_encode(report, sizeof(report));
        if (!report_b64)
                return -ENOMEM;
        body->len--; /* the closing brace */
        r = buf_str(body, ",\"platform\":{\"kind\":\"snp-report\",\"report\":\"");
        r |= buf_str(body, report_b64);
        r |= buf_str(body, "\",\"certificates\":[");
        if (b->vcek_b64) {
                r |= buf_str(body, "\"");
                r |= buf_str(body, b->vcek_b64);
                r |= buf_str(body, "\"");
        }
        r |= buf_str(body, "]}}");
        return r < 0 ? -ENOMEM : 0;
}

static const char *resp_text(const struct slot *s)
{
        return s->resp.p ? s->resp.p : "";
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata)
{
        struct slot *s = userdata;

        if (s->resp.len + size * n > MAX_RESPONSE || buf_append(&s->resp, p, size * n) < 0)
                return 0; /* curl fails the transfer */
        return size * n;
}

static int slot_submit(struct bench *b, struct slot *s, const char *url, const char *body,
                       size_t size)
{
        s->resp.len = 0;
        if (s->resp.p)
                s->resp.p[0] = '\0'; /* an answer without a body must not show the last one */
        curl_easy_setopt(s->h, CURLOPT_URL, url);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
        return curl_multi_add_handle(b->multi, s->h) == CURLM_OK ? 0 : -EIO;
}

static void slot_start(struct bench *b, struct slot *s, uint64_t t_sched)
{
        s->t_sched = t_sched;
        s->t_start = now_ns();
        s->state = SLOT_CHALLENGE;
        s->node = &b->nodes[b->next_node++ % b->n_nodes];
        if (slot_submit(b, s, b->url_challenge, s->node->challenge_body,
                        s->node->challenge_body_size) < 0) {
                if (b->recording)
                        stats_error(&b->st, "client: curl_multi_add_handle", NULL);
                s->state = SLOT_IDLE;
        }
}

/* Ends the slot's attestation as failed. @return 0, so a handler can end with it */
static int slot_fail(struct bench *b, struct slot *s, const char *round, long status,
                     const char *detail, const char *example)
{
        char what[96];

        if (b->recording) {
                snprintf(what, sizeof(what), "%s %ld %s", round, status, detail);
                stats_error(&b->st, what, example);
                if ((status >= 400 && !(status == 503 && streq(detail, "overloaded"))) ||
                    (status == 200 && !streq(round, "client")))
                        b->st.rejected++;
        }
        if (b->verbose)
                fprintf(stderr, "loadgen: %s %ld %s: %s\n", round, status, detail,
                        strempty(example));
        s->state = SLOT_IDLE;
        return 0;
}

static uint32_t selection_mask(json_object *sel)
{
        json_object *list;
        uint32_t mask = 0;

        if (!json_object_object_get_ex(sel, "sha256", &list) ||
            !json_object_is_type(list, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                int pcr = json_object_get_int(json_object_array_get_idx(list, i));

                if (pcr < 0 || pcr >= 24)
                        return 0;
                mask |= 1u << pcr;
        }
        return mask;
}

/* The fields after the quote never change for one selection: built once. */
static int build_tail(struct bench *b, uint32_t mask)
{
        struct buf t = {};
        uint8_t values[24 * 32];
        size_t n = 0;
        bool first = true;
        int r = 0;

        r |= buf_str(&t, "},\"pcrs\":{\"sha256\":{");
        for (int pcr = 0; pcr < 24; pcr++) {
                char entry[96];

                if (!(mask & (1u << pcr)))
                        continue;
                snprintf(entry, sizeof(entry), "%s\"%d\":\"", first ? "" : ",", pcr);
                r |= buf_str(&t, entry);
                for (int i = 0; i < 32; i++) {
                        char hex[3];

                        snprintf(hex, sizeof(hex), "%02x", b->pcrs.sha256[pcr][i]);
                        r |= buf_str(&t, hex);
                }
                r |= buf_str(&t, "\"");
                memcpy(values + 32 * n++, b->pcrs.sha256[pcr], 32);
                first = false;
        }
        r |= buf_str(&t, "}},\"event_log\":\"");
        r |= buf_str(&t, b->log_b64);
        r |= buf_str(&t, "\",\"node\":{\"hostname\":\"");
        r |= buf_str(&t, b->hostname ? b->hostname : "bench-node");
        r |= buf_str(&t, "\"}}");
        if (r < 0) {
                free(t.p);
                return -ENOMEM;
        }
        SHA256(values, 32 * n, b->pcr_digest);
        free(b->tail);
        b->tail = t.p;
        b->tail_mask = mask;
        return 0;
}

static const char *json_str(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static void json_object_putp(json_object **o)
{
        json_object_put(*o);
}

/* Round 1 answered 200: play the TPM and send round 2. */
static int on_challenge(struct bench *b, struct slot *s)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *ch_b64, *blob_b64, *es_b64;
        uint8_t challenge[256], blob[1024], es[1024], secret[64];
        _cleanup_free_ char *q_attest = NULL, *q_sig = NULL;
        _cleanup_(erase_and_freep) char *cred = NULL;
        json_object *sel;
        struct softnode_quote q;
        int ch_size, blob_size, es_size, r;
        size_t secret_size;
        uint32_t mask;

        o = json_tokener_parse(resp_text(s));
        ch_b64 = o ? json_str(o, "challenge") : NULL;
        blob_b64 = o ? json_str(o, "credential_blob") : NULL;
        es_b64 = o ? json_str(o, "encrypted_secret") : NULL;
        if (!ch_b64 || !blob_b64 || !es_b64 || !json_object_object_get_ex(o, "pcr_selection", &sel))
                return slot_fail(b, s, "challenge", 200, "answer-malformed", resp_text(s));
        ch_size = b64_decode(ch_b64, challenge, sizeof(challenge));
        blob_size = b64_decode(blob_b64, blob, sizeof(blob));
        es_size = b64_decode(es_b64, es, sizeof(es));
        mask = selection_mask(sel);
        if (ch_size <= 0 || blob_size <= 0 || es_size <= 0 || mask == 0)
                return slot_fail(b, s, "challenge", 200, "answer-malformed", resp_text(s));

        r = softnode_activate_credential(&s->node->tpm, blob, blob_size, es, es_size, secret,
                                         &secret_size);
        if (r < 0)
                return slot_fail(b, s, "challenge", 200, "activate-credential-failed", NULL);
        if (mask != b->tail_mask && build_tail(b, mask) < 0) {
                OPENSSL_cleanse(secret, sizeof(secret));
                return slot_fail(b, s, "client", 0, "out-of-memory", NULL);
        }
        /* A new boot for every attestation: each one draws a token, as a fleet's do. */
        b->clock++;
        r = softnode_quote(&s->node->tpm, challenge, ch_size, mask, b->pcr_digest, b->clock,
                           RESET_COUNT + (uint32_t) b->clock, &q);
        cred = b64_encode(secret, secret_size);
        OPENSSL_cleanse(secret, sizeof(secret));
        q_attest = b64_encode(q.attest, q.attest_size);
        q_sig = b64_encode(q.signature, q.signature_size);
        if (r < 0 || !cred || !q_attest || !q_sig)
                return slot_fail(b, s, "client", 0, "quote-failed", NULL);

        s->body.len = 0;
        r = buf_str(&s->body, version(b) == 3 ? "{\"version\":3,\"challenge\":\""
                                              : "{\"version\":2,\"challenge\":\"");
        r |= buf_str(&s->body, ch_b64);
        r |= buf_str(&s->body, "\",\"ek_public\":\"");
        r |= buf_str(&s->body, s->node->challenge_body + CHALLENGE_BODY_PREFIX_SIZE);
        /* challenge_body ends with the AK's field and "}": drop that brace. */
        s->body.len--;
        r |= buf_str(&s->body, ",\"credential\":\"");
        r |= buf_str(&s->body, cred);
        r |= buf_str(&s->body, "\",\"quote\":{\"attest\":\"");
        r |= buf_str(&s->body, q_attest);
        r |= buf_str(&s->body, "\",\"signature\":\"");
        r |= buf_str(&s->body, q_sig);
        r |= buf_str(&s->body, "\"");
        r |= buf_str(&s->body, b->tail);
        if (r < 0)
                return slot_fail(b, s, "client", 0, "out-of-memory", NULL);
        if (b->have_snp && append_platform(b, s->node, challenge, ch_size, &s->body) < 0)
                return slot_fail(b, s, "client", 0, "snp-report-failed", NULL);

        s->state = SLOT_ATTEST;
        s->t_r2_start = now_ns();
        if (b->recording)
                b->st.client_ns += s->t_r2_start - s->t_r1_end;
        if (slot_submit(b, s, b->url_attest, s->body.p, s->body.len) < 0)
                return slot_fail(b, s, "client", 0, "curl_multi_add_handle", NULL);
        return 0;
}

/* Round 2 answered 200: the blob must be there, or the bench counts a failure. */
static int on_attest(struct bench *b, struct slot *s)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *sealed, *v;
        uint64_t t = now_ns();

        o = json_tokener_parse(resp_text(s));
        if (!o || !json_object_object_get_ex(o, "sealed", &sealed) || !json_str(sealed, "public") ||
            !json_str(sealed, "duplicate") || !json_str(sealed, "encrypted_seed") ||
            !json_str(o, "token_id"))
                return slot_fail(b, s, "attest", 200, "answer-malformed", resp_text(s));
        /* Version 3's answer says the platform evidence was judged, not skipped. */
        if (b->have_snp &&
            (!json_object_object_get_ex(o, "version", &v) || json_object_get_int(v) != 3))
                return slot_fail(b, s, "attest", 200, "answer-not-version-3", resp_text(s));
        if (b->recording) {
                b->st.ok++;
                series_add(&b->st.full, t - s->t_sched);
                series_add(&b->st.round1, s->t_r1_end - s->t_start);
                series_add(&b->st.round2, t - s->t_r2_start);
        }
        s->state = SLOT_IDLE;
        return 0;
}

static int on_done(struct bench *b, struct slot *s, CURLcode result)
{
        const char *round = s->state == SLOT_CHALLENGE ? "challenge" : "attest";
        long status = 0;

        curl_multi_remove_handle(b->multi, s->h);
        if (s->state == SLOT_CHALLENGE)
                s->t_r1_end = now_ns();
        if (result != CURLE_OK)
                return slot_fail(b, s, round, 0, curl_easy_strerror(result), NULL);
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
                _cleanup_(json_object_putp) json_object *o = json_tokener_parse(resp_text(s));
                const char *error = o ? json_str(o, "error") : NULL;

                return slot_fail(b, s, round, status, error ? error : "no-error-field",
                                 o ? json_str(o, "message") : resp_text(s));
        }
        return s->state == SLOT_CHALLENGE ? on_challenge(b, s) : on_attest(b, s);
}

/* Waits for network activity, the timer (when armed) or timeout_ms, then handles what is done. */
static void drive(struct bench *b, int timeout_ms)
{
        struct curl_waitfd timer = {.fd = b->timer_fd, .events = CURL_WAIT_POLLIN};
        CURLMsg *m;
        int running, left;

        curl_multi_poll(b->multi, &timer, b->timer_fd >= 0, timeout_ms, NULL);
        if (timer.revents) {
                uint64_t expirations;

                (void) !read(b->timer_fd, &expirations, sizeof(expirations));
        }
        curl_multi_perform(b->multi, &running);
        while ((m = curl_multi_info_read(b->multi, &left))) {
                struct slot *s = NULL;

                if (m->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &s);
                on_done(b, s, m->data.result);
        }
}

static struct slot *free_slot(struct bench *b)
{
        for (size_t i = 0; i < b->n_slots; i++)
                if (b->slots[i].state == SLOT_IDLE)
                        return &b->slots[i];
        return NULL;
}

static size_t busy_slots(struct bench *b)
{
        size_t n = 0;

        for (size_t i = 0; i < b->n_slots; i++)
                n += b->slots[i].state != SLOT_IDLE;
        return n;
}

/* Open loop: attestation i is due at t0 + i/rate whether or not the earlier ones finished;
 * its latency counts from then, so a slow server cannot hide queueing (coordinated
 * omission). Closed loop (rate 0): every idle slot starts at once. */
static void run_phase(struct bench *b, double rate, double duration, uint64_t drain_ns)
{
        uint64_t t0 = now_ns(), end = t0 + (uint64_t) (duration * 1e9), cap = end + drain_ns;
        uint64_t total = rate > 0 ? (uint64_t) (rate * duration) : UINT64_MAX, next = 0;
        double interval = rate > 0 ? 1e9 / rate : 0;

        for (;;) {
                uint64_t now = now_ns();
                int timeout = 10;
                struct slot *s;

                if (now >= cap)
                        break;
                if (rate > 0) {
                        while (next < total && t0 + (uint64_t) (next * interval) <= now &&
                               (s = free_slot(b))) {
                                slot_start(b, s, t0 + (uint64_t) (next * interval));
                                next++;
                        }
                        /* With every slot busy only an answer can start the next one. */
                        struct itimerspec its = {};

                        if (next < total && free_slot(b)) {
                                uint64_t due = t0 + (uint64_t) (next * interval);

                                if (due <= now)
                                        timeout = 0;
                                else
                                        its.it_value = (struct timespec){
                                            .tv_sec = (time_t) (due / 1000000000u),
                                            .tv_nsec = (long) (due % 1000000000u)};
                        }
                        if (timerfd_settime(b->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
                                timeout = 0; /* never sleep past a due attestation */
                } else if (now < end) {
                        while ((s = free_slot(b))) {
                                slot_start(b, s, now);
                                next++;
                        }
                }
                if ((rate > 0 ? next >= total : now >= end) && busy_slots(b) == 0)
                        break;
                drive(b, timeout);
        }
        if (rate > 0 && b->recording)
                b->st.unstarted += total - next;
        /* Past the cap: whatever is still in flight is abandoned and counted. */
        for (size_t i = 0; i < b->n_slots; i++) {
                struct slot *s = &b->slots[i];

                if (s->state == SLOT_IDLE)
                        continue;
                curl_multi_remove_handle(b->multi, s->h);
                slot_fail(b, s, s->state == SLOT_CHALLENGE ? "challenge" : "attest", 0,
                          "abandoned at the duration cap", NULL);
        }
}

static void print_series(const char *name, const struct series *s)
{
        printf("  %-22s p50 %8.2f  p90 %8.2f  p99 %8.2f  max %8.2f ms\n", name, series_pct(s, 0.50),
               series_pct(s, 0.90), series_pct(s, 0.99), series_pct(s, 1.0));
}

static double cpu_seconds(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
               (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_size)
{
        _cleanup_free_ uint8_t *p = NULL;
        struct stat st;
        FILE *f;
        size_t n;

        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        if (fstat(fileno(f), &st) < 0 || st.st_size <= 0 || (size_t) st.st_size > max) {
                fclose(f);
                return -EFBIG;
        }
        p = malloc(st.st_size);
        n = p ? fread(p, 1, st.st_size, f) : 0;
        fclose(f);
        if (n != (size_t) st.st_size)
                return -EIO;
        *ret = TAKE_PTR(p);
        *ret_size = n;
        return 0;
}

static int cmd_keygen(const char *dir, long count)
{
        char nodes[4096], list[4096];
        _cleanup_close_ int fd = -1;
        FILE *f, *l;
        int r = 0;

        if (pathf(nodes, sizeof(nodes), "%s/nodes.pem", dir) < 0 ||
            pathf(list, sizeof(list), "%s/ek-allowlist", dir) < 0)
                return -ENAMETOOLONG;
        fd = open(nodes, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        f = fdopen(fd, "w");
        if (!f)
                return negative_errno();
        fd = -1;
        l = fopen(list, "we");
        if (!l) {
                fclose(f);
                return negative_errno();
        }
        for (long i = 0; i < count && r >= 0; i++) {
                struct softnode n;

                r = softnode_generate(&n);
                if (r < 0)
                        break;
                r = softnode_save(&n, f);
                for (int j = 0; j < 32; j++)
                        fprintf(l, "%02x", n.ek_spki_sha256[j]);
                fprintf(l, "\n");
                softnode_done(&n);
        }
        if (fclose(f) != 0 && r >= 0)
                r = -EIO;
        if (fclose(l) != 0 && r >= 0)
                r = -EIO;
        return r;
}

/* Every node of DIR/nodes.pem, with its round-1 body. @return 0 or negative errno */
static int load_nodes(struct bench *b, const char *dir)
{
        char path[4096];
        FILE *f;
        int r = 0;

        if (pathf(path, sizeof(path), "%s/nodes.pem", dir) < 0)
                return -ENAMETOOLONG;
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while (b->n_nodes < MAX_NODES) {
                _cleanup_free_ char *ek = NULL, *ak = NULL;
                struct node *n;

                if (b->n_nodes % 256 == 0) {
                        struct node *p = realloc(b->nodes, (b->n_nodes + 256) * sizeof(*p));

                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        b->nodes = p;
                }
                n = &b->nodes[b->n_nodes];
                *n = (struct node){};
                r = softnode_load(f, &n->tpm);
                if (r == -ENODATA) {
                        r = 0;
                        break;
                }
                if (r < 0)
                        break;
                b->n_nodes++;
                ek = b64_encode(n->tpm.ek_public, n->tpm.ek_public_size);
                ak = b64_encode(n->tpm.ak_public, n->tpm.ak_public_size);
                if (!ek || !ak ||
                    asprintf(&n->challenge_body, CHALLENGE_BODY_PREFIX "%s\",\"ak_public\":\"%s\"}",
                             version(b), ek, ak) < 0) {
                        n->challenge_body = NULL;
                        r = -ENOMEM;
                        break;
                }
                n->challenge_body_size = strlen(n->challenge_body);
        }
        fclose(f);
        if (r >= 0 && b->n_nodes == 0)
                r = -ENODATA;
        return r;
}

/* The software CVM of --snp DIR: the VCEK's key and the report's fields, and the VCEK itself
 * unless the verifier is to take it from its cache. @return 0 or negative errno */
static int load_snp(struct bench *b, const char *dir, bool certificates)
{
        _cleanup_free_ uint8_t *der = NULL;
        char path[4096];
        size_t size;
        int r;

        r = softnode_snp_load(dir, &b->snp);
        if (r < 0)
                return r;
        b->have_snp = true;
        if (!certificates)
                return 0;
        if (pathf(path, sizeof(path), "%s/vcek.der", dir) < 0)
                return -ENAMETOOLONG;
        r = read_file(path, 4096, &der, &size); /* PROTOCOL.md: ≤ 4096 bytes a certificate */
        if (r < 0)
                return r;
        b->vcek_b64 = b64_encode(der, size);
        return b->vcek_b64 ? 0 : -ENOMEM;
}

static void usage(void);
static void bench_done(struct bench *b);

/* ---- attest: nodes one after the other, each boot retried until its deadline ---- */

struct sync_answer {
        long status;
        struct buf body;
};

static size_t on_sync_data(char *p, size_t size, size_t n, void *userdata)
{
        struct buf *b = userdata;

        if (b->len + size * n > MAX_RESPONSE || buf_append(b, p, size * n) < 0)
                return 0;
        return size * n;
}

/* @return 0 and the answer, or a CURLcode > 0 */
static int sync_post(CURL *h, const char *url, const char *body, struct sync_answer *ret)
{
        CURLcode c;

        ret->body.len = 0;
        ret->status = 0;
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &ret->body);
        c = curl_easy_perform(h);
        if (buf_append(&ret->body, "", 1) == 0)
                ret->body.len--;
        if (c != CURLE_OK)
                return (int) c;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ret->status);
        return 0;
}

/* One attestation of node n in boot `boot` (both rounds). On 200 ret_token_id is set; otherwise
 * ret_error names the refusal ("transport" for no answer). @return the HTTP status, 0 for none */
static long attest_once(struct bench *b, CURL *h, struct node *n, uint32_t boot, uint64_t clock,
                        char ret_token_id[16], char *ret_error, size_t error_size, bool *ret_sealed)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct sync_answer a = {};
        const char *ch_b64, *blob_b64, *es_b64, *v;
        uint8_t challenge[256], blob[1024], es[1024], secret[64];
        _cleanup_free_ char *q_attest = NULL, *q_sig = NULL;
        _cleanup_(erase_and_freep) char *cred = NULL;
        struct softnode_quote q;
        json_object *sel, *sealed;
        struct buf body = {};
        int ch_size, blob_size, es_size, r;
        size_t secret_size;
        uint32_t mask;
        long status = 0;

        ret_token_id[0] = '\0';
        *ret_sealed = false;
        snprintf(ret_error, error_size, "transport");
        r = sync_post(h, b->url_challenge, n->challenge_body, &a);
        if (r != 0)
                goto out;
        o = json_tokener_parse(a.body.p ? a.body.p : "");
        if (a.status != 200) {
                status = a.status;
                v = o ? json_str(o, "error") : NULL;
                snprintf(ret_error, error_size, "%s", v ? v : "no-error-field");
                goto out;
        }
        ch_b64 = o ? json_str(o, "challenge") : NULL;
        blob_b64 = o ? json_str(o, "credential_blob") : NULL;
        es_b64 = o ? json_str(o, "encrypted_secret") : NULL;
        if (!ch_b64 || !blob_b64 || !es_b64 ||
            !json_object_object_get_ex(o, "pcr_selection", &sel)) {
                snprintf(ret_error, error_size, "challenge-malformed");
                status = -1;
                goto out;
        }
        ch_size = b64_decode(ch_b64, challenge, sizeof(challenge));
        blob_size = b64_decode(blob_b64, blob, sizeof(blob));
        es_size = b64_decode(es_b64, es, sizeof(es));
        mask = selection_mask(sel);
        if (ch_size <= 0 || blob_size <= 0 || es_size <= 0 || mask == 0 ||
            softnode_activate_credential(&n->tpm, blob, blob_size, es, es_size, secret,
                                         &secret_size) < 0 ||
            build_tail(b, mask) < 0 ||
            softnode_quote(&n->tpm, challenge, ch_size, mask, b->pcr_digest, clock, boot, &q) < 0) {
                OPENSSL_cleanse(secret, sizeof(secret));
                snprintf(ret_error, error_size, "client-failed");
                status = -1;
                goto out;
        }
        cred = b64_encode(secret, secret_size);
        OPENSSL_cleanse(secret, sizeof(secret));
        q_attest = b64_encode(q.attest, q.attest_size);
        q_sig = b64_encode(q.signature, q.signature_size);
        r = !cred || !q_attest || !q_sig;
        r |= buf_str(&body, "{\"version\":2,\"challenge\":\"");
        r |= buf_str(&body, ch_b64);
        r |= buf_str(&body, "\",\"ek_public\":\"");
        r |= buf_str(&body, n->challenge_body + CHALLENGE_BODY_PREFIX_SIZE);
        body.len--;
        r |= buf_str(&body, ",\"credential\":\"");
        r |= buf_str(&body, cred ? cred : "");
        r |= buf_str(&body, "\",\"quote\":{\"attest\":\"");
        r |= buf_str(&body, q_attest ? q_attest : "");
        r |= buf_str(&body, "\",\"signature\":\"");
        r |= buf_str(&body, q_sig ? q_sig : "");
        r |= buf_str(&body, "\"");
        r |= buf_str(&body, b->tail);
        r |= buf_append(&body, "", 1);
        if (r != 0) {
                snprintf(ret_error, error_size, "client-failed");
                status = -1;
                goto out;
        }
        json_object_put(o);
        o = NULL;
        r = sync_post(h, b->url_attest, body.p, &a);
        if (r != 0)
                goto out;
        status = a.status;
        o = json_tokener_parse(a.body.p ? a.body.p : "");
        *ret_sealed = o && json_object_object_get_ex(o, "sealed", &sealed);
        if (a.status == 200) {
                v = o ? json_str(o, "token_id") : NULL;
                if (!v || !*ret_sealed || strlen(v) != 6) {
                        snprintf(ret_error, error_size, "answer-malformed");
                        status = -1;
                        goto out;
                }
                snprintf(ret_token_id, 16, "%s", v);
                ret_error[0] = '\0';
        } else {
                v = o ? json_str(o, "error") : NULL;
                snprintf(ret_error, error_size, "%s", v ? v : "no-error-field");
        }
out:
        if (body.p)
                explicit_bzero(body.p, body.cap);
        free(body.p);
        free(a.body.p);
        return status;
}

/* A refusal worth another attempt within the boot's deadline: what a replica going away, an
 * overloaded one or a rate limit answers, as the gate retries them. */
static bool retryable(long status)
{
        return status == 0 || status == 429 || status >= 500;
}

static int cmd_attest(int argc, char **argv)
{
        static const struct option opts[] = {
            {"url", required_argument, NULL, 'u'},
            {"ca", required_argument, NULL, 'a'},
            {"keys", required_argument, NULL, 'k'},
            {"log", required_argument, NULL, 'l'},
            {"first", required_argument, NULL, 'f'},
            {"count", required_argument, NULL, 'n'},
            {"boot", required_argument, NULL, 'b'},
            {"repeat", required_argument, NULL, 'R'},
            {"deadline-ms", required_argument, NULL, 'D'},
            {"timeout-ms", required_argument, NULL, 't'},
            {"hostname", required_argument, NULL, 'H'},
            {"fresh", no_argument, NULL, 'F'},
            {"gap-ms", required_argument, NULL, 'G'},
            {},
        };
        _cleanup_(bench_done) struct bench b = {.timeout_ms = 5000, .timer_fd = -1};
        const char *keys = NULL, *log_path = NULL, *hostname = NULL;
        long first = 0, count = 1, boot = RESET_COUNT, repeat = 1, deadline_ms = 0, gap_ms = 0;
        _cleanup_free_ uint8_t *log = NULL;
        struct curl_slist *headers = NULL;
        size_t log_size;
        CURL *h;
        int c, failed = 0;
        bool fresh = false;

        optind = 2;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'u':
                        b.url = optarg;
                        break;
                case 'a':
                        b.ca = optarg;
                        break;
                case 'k':
                        keys = optarg;
                        break;
                case 'l':
                        log_path = optarg;
                        break;
                case 'f':
                        first = strtol(optarg, NULL, 10);
                        break;
                case 'n':
                        count = strtol(optarg, NULL, 10);
                        break;
                case 'b':
                        boot = strtol(optarg, NULL, 10);
                        break;
                case 'R':
                        repeat = strtol(optarg, NULL, 10);
                        break;
                case 'D':
                        deadline_ms = strtol(optarg, NULL, 10);
                        break;
                case 't':
                        b.timeout_ms = strtol(optarg, NULL, 10);
                        break;
                case 'H':
                        hostname = optarg;
                        break;
                case 'F':
                        fresh = true;
                        break;
                case 'G':
                        gap_ms = strtol(optarg, NULL, 10);
                        break;
                default:
                        usage();
                        return 2;
                }
        }
        if (!b.url || !b.ca || !keys || !log_path || first < 0 || count < 1 || boot < 1 ||
            boot > 0x7fffffff || repeat < 1 || repeat > 100 || deadline_ms < 0 ||
            deadline_ms > 600000 || gap_ms < 0 || gap_ms > 60000 || b.timeout_ms < 1 ||
            b.timeout_ms > 60000) {
                usage();
                return 2;
        }
        if (load_nodes(&b, keys) < 0 || (size_t) (first + count) > b.n_nodes) {
                fprintf(stderr, "loadgen attest: %s/nodes.pem has no nodes %ld-%ld\n", keys, first,
                        first + count - 1);
                return 1;
        }
        if (read_file(log_path, MAX_LOG, &log, &log_size) < 0 ||
            log_replay(log, log_size, &b.pcrs) < 0) {
                fprintf(stderr, "loadgen: %s: not a crypto-agile event log with SHA-256\n",
                        log_path);
                return 1;
        }
        b.log_b64 = b64_encode(log, log_size);
        if (!b.log_b64 || asprintf(&b.url_challenge, "%s/v2/challenge", b.url) < 0 ||
            asprintf(&b.url_attest, "%s/v2/attest", b.url) < 0)
                return 1;
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        headers = curl_slist_append(headers, "Expect:");
        h = curl_easy_init();
        if (!h || !headers)
                return 1;
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_CAINFO, b.ca);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, b.timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROXY, "");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_sync_data);
        /* A connection a request: behind a balancer, round 1 and round 2 land on replicas
         * chosen independently, as a booting node's may. */
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, fresh ? 1L : 0L);

        /* One line a boot: the result, every token id it was given (repeat > 1: the same boot
         * asking again, as after a lost answer), the attempts and the milliseconds of each. */
        for (long i = first; i < first + count; i++) {
                struct node *n = &b.nodes[i];
                char name[64], ids[100 * 8] = "", lat[100 * 8] = "", error[64] = "";
                uint64_t clock = 1000;
                long status = 0, attempts = 0;
                bool sealed = false;

                if (hostname)
                        snprintf(name, sizeof(name), "%s", hostname);
                else
                        snprintf(name, sizeof(name), "soft-node-%ld", i);
                b.hostname = name;
                for (long k = 0; k < repeat; k++) {
                        uint64_t t0 = now_ns(), stop = t0 + (uint64_t) deadline_ms * 1000000u;
                        char id[16];

                        for (;;) {
                                attempts++;
                                status = attest_once(&b, h, n, (uint32_t) boot, clock++, id, error,
                                                     sizeof(error), &sealed);
                                if (status == 200 || !retryable(status) || now_ns() >= stop)
                                        break;
                                /* A new connection: the balancer picks again. */
                                curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
                                usleep(100 * 1000);
                                curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
                        }
                        if (status != 200)
                                break;
                        snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s",
                                 ids[0] ? "," : "", id);
                        snprintf(lat + strlen(lat), sizeof(lat) - strlen(lat), "%s%.1f",
                                 lat[0] ? "," : "", (now_ns() - t0) / 1e6);
                }
                if (status == 200)
                        printf("node=%ld boot=%ld result=issued token_ids=%s attempts=%ld ms=%s\n",
                               i, boot, ids, attempts, lat);
                else {
                        printf("node=%ld boot=%ld result=refused status=%ld error=%s sealed=%s "
                               "attempts=%ld token_ids=%s\n",
                               i, boot, status, error, sealed ? "yes" : "no", attempts,
                               ids[0] ? ids : "-");
                        failed++;
                }
                fflush(stdout);
                if (gap_ms > 0) /* a steady stream rather than a burst */
                        usleep((useconds_t) gap_ms * 1000);
        }
        curl_easy_cleanup(h);
        curl_slist_free_all(headers);
        return failed ? 3 : 0;
}

static void usage(void)
{
        fprintf(stderr,
                "usage: loadgen keygen DIR [N]   (N nodes: DIR/nodes.pem, DIR/ek-allowlist)\n"
                "       loadgen pcrs LOG     (the SHA-256 replay the node claims)\n"
                "       loadgen run --url https://HOST:PORT --ca CA.pem --keys DIR --log LOG\n"
                "               [--rate R | --closed] [--duration S] [--connections C]\n"
                "               [--timeout-ms MS] [--warmup N] [--label NAME] [--verbose]\n"
                "               [--snp DIR [--snp-no-certificates]]  (version 3, a SEV-SNP\n"
                "               report in every round 2; DIR from tests/tools/snp-test-chain.py)\n"
                "       loadgen attest --url URL --ca CA.pem --keys DIR --log LOG [--first I]\n"
                "               [--count N] [--boot B] [--repeat R] [--deadline-ms MS]\n"
                "               [--timeout-ms MS] [--hostname NAME] [--fresh] [--gap-ms MS]\n"
                "               (one line a boot)\n");
}

static void bench_done(struct bench *b)
{
        for (size_t i = 0; i < b->n_slots; i++) {
                if (b->slots[i].h)
                        curl_multi_remove_handle(b->multi, b->slots[i].h);
                curl_easy_cleanup(b->slots[i].h);
                free(b->slots[i].resp.p);
                erase_and_free(b->slots[i].body.p); /* held a credential secret */
        }
        free(b->slots);
        curl_multi_cleanup(b->multi);
        curl_slist_free_all(b->headers);
        free(b->st.full.us), free(b->st.round1.us), free(b->st.round2.us);
        free(b->url_challenge), free(b->url_attest), free(b->log_b64);
        free(b->tail);
        free(b->vcek_b64);
        softnode_snp_done(&b->snp);
        for (size_t i = 0; i < b->n_nodes; i++) {
                softnode_done(&b->nodes[i].tpm);
                free(b->nodes[i].challenge_body);
        }
        free(b->nodes);
        if (b->timer_fd >= 0)
                close(b->timer_fd);
}

static int cmd_run(int argc, char **argv)
{
        static const struct option opts[] = {
            {"url", required_argument, NULL, 'u'},
            {"ca", required_argument, NULL, 'a'},
            {"keys", required_argument, NULL, 'k'},
            {"log", required_argument, NULL, 'l'},
            {"rate", required_argument, NULL, 'r'},
            {"closed", no_argument, NULL, 'c'},
            {"duration", required_argument, NULL, 'd'},
            {"connections", required_argument, NULL, 'n'},
            {"timeout-ms", required_argument, NULL, 't'},
            {"warmup", required_argument, NULL, 'w'},
            {"label", required_argument, NULL, 'L'},
            {"verbose", no_argument, NULL, 'v'},
            {"snp", required_argument, NULL, 'S'},
            {"snp-no-certificates", no_argument, NULL, 'N'},
            {},
        };
        _cleanup_(bench_done) struct bench b = {.timeout_ms = 10000, .timer_fd = -1};
        const char *keys = NULL, *log_path = NULL, *label = "run", *snp = NULL;
        bool snp_certificates = true;
        double rate = -1, duration = 10, elapsed, cpu;
        long connections = 32, warmup = -1;
        _cleanup_free_ uint8_t *log = NULL;
        size_t log_size;
        uint64_t t0;
        int c, r;

        optind = 2;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'u':
                        b.url = optarg;
                        break;
                case 'a':
                        b.ca = optarg;
                        break;
                case 'k':
                        keys = optarg;
                        break;
                case 'l':
                        log_path = optarg;
                        break;
                case 'r':
                        rate = strtod(optarg, NULL);
                        break;
                case 'c':
                        rate = 0;
                        break;
                case 'd':
                        duration = strtod(optarg, NULL);
                        break;
                case 'n':
                        connections = strtol(optarg, NULL, 10);
                        break;
                case 't':
                        b.timeout_ms = strtol(optarg, NULL, 10);
                        break;
                case 'w':
                        warmup = strtol(optarg, NULL, 10);
                        break;
                case 'L':
                        label = optarg;
                        break;
                case 'v':
                        b.verbose = true;
                        break;
                case 'S':
                        snp = optarg;
                        break;
                case 'N':
                        snp_certificates = false;
                        break;
                default:
                        usage();
                        return 2;
                }
        }
        if (!b.url || !b.ca || !keys || !log_path || rate < 0 || rate > MAX_RATE ||
            !(duration > 0 && duration <= MAX_DURATION_S) || connections < 1 ||
            connections > MAX_CONNECTIONS || b.timeout_ms < 1 || b.timeout_ms > 60000 ||
            (!snp && !snp_certificates)) {
                usage();
                return 2;
        }
        if (warmup < 0)
                warmup = connections;
        if (snp) {
                r = load_snp(&b, snp, snp_certificates);
                if (r < 0) {
                        fprintf(stderr,
                                "loadgen: --snp %s: vcek.key, vcek.der and snp-params of "
                                "snp-test-chain.py: %s\n",
                                snp, strerror(-r));
                        return 1;
                }
        }

        r = load_nodes(&b, keys);
        if (r < 0) {
                fprintf(stderr, "loadgen: cannot load the nodes in %s/nodes.pem: %s\n", keys,
                        strerror(-r));
                return 1;
        }
        r = read_file(log_path, MAX_LOG, &log, &log_size);
        if (r < 0 || log_replay(log, log_size, &b.pcrs) < 0) {
                fprintf(stderr, "loadgen: %s: not a crypto-agile event log with SHA-256\n",
                        log_path);
                return 1;
        }
        b.log_b64 = b64_encode(log, log_size);
        if (!b.log_b64 || asprintf(&b.url_challenge, "%s/v%d/challenge", b.url, version(&b)) < 0 ||
            asprintf(&b.url_attest, "%s/v%d/attest", b.url, version(&b)) < 0)
                return 1;

        b.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (b.timer_fd < 0) {
                fprintf(stderr, "loadgen: timerfd_create: %m\n");
                return 1;
        }
        b.multi = curl_multi_init();
        curl_multi_setopt(b.multi, CURLMOPT_MAXCONNECTS, connections);
        curl_multi_setopt(b.multi, CURLMOPT_MAX_HOST_CONNECTIONS, connections);
        b.headers = curl_slist_append(NULL, "Content-Type: application/json");
        /* curl waits for "100 Continue" before a body above 1 KiB: a round trip per attest. */
        b.headers = curl_slist_append(b.headers, "Expect:");
        b.slots = calloc(connections, sizeof(*b.slots));
        if (!b.multi || !b.headers || !b.slots)
                return 1;
        b.n_slots = connections;
        for (size_t i = 0; i < b.n_slots; i++) {
                CURL *h = curl_easy_init();

                if (!h)
                        return 1;
                curl_easy_setopt(h, CURLOPT_PRIVATE, &b.slots[i]);
                curl_easy_setopt(h, CURLOPT_HTTPHEADER, b.headers);
                curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
                curl_easy_setopt(h, CURLOPT_CAINFO, b.ca);
                curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, b.timeout_ms);
                curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
                curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
                curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
                curl_easy_setopt(h, CURLOPT_WRITEDATA, &b.slots[i]);
                b.slots[i].h = h;
        }

        /* Warm-up: open every connection (TLS handshakes are not what is measured), one
         * attestation per slot, closed loop; it must succeed or the run is pointless. */
        if (warmup > 0) {
                b.recording = true;
                b.verbose = true;
                for (long i = 0; i < warmup;) {
                        struct slot *s;

                        while (i < warmup && (s = free_slot(&b))) {
                                slot_start(&b, s, now_ns());
                                i++;
                        }
                        drive(&b, 10);
                }
                while (busy_slots(&b) > 0)
                        drive(&b, 10);
                if (b.st.failed > 0) {
                        fprintf(stderr, "loadgen: %lu of %ld warm-up attestations failed\n",
                                b.st.failed, warmup);
                        return 1;
                }
                free(b.st.full.us), free(b.st.round1.us), free(b.st.round2.us);
                b.st = (struct stats){};
        }

        b.recording = true;
        b.verbose = false;
        t0 = now_ns();
        cpu = cpu_seconds();
        run_phase(&b, rate, duration, (uint64_t) b.timeout_ms * 1000000u);
        elapsed = (now_ns() - t0) / 1e9;
        cpu = cpu_seconds() - cpu;

        qsort(b.st.full.us, b.st.full.n, sizeof(uint32_t), cmp_u32);
        qsort(b.st.round1.us, b.st.round1.n, sizeof(uint32_t), cmp_u32);
        qsort(b.st.round2.us, b.st.round2.n, sizeof(uint32_t), cmp_u32);
        printf("%s: %s, %ld connections, %zu nodes, %.1f s (%.2f s wall)\n", label,
               rate > 0 ? "open loop" : "closed loop", connections, b.n_nodes, duration, elapsed);
        if (rate > 0)
                printf("  offered                %.0f attestations/s\n", rate);
        printf(
            "  achieved               %.0f attestations/s (%lu ok, %lu failed, %lu not started)\n",
            b.st.ok / elapsed, b.st.ok, b.st.failed, b.st.unstarted);
        print_series("full attestation", &b.st.full);
        print_series("round 1 (challenge)", &b.st.round1);
        print_series("round 2 (attest)", &b.st.round2);
        printf("  client cpu             %.0f us per attestation (%.0f us between the rounds)\n",
               b.st.ok ? cpu * 1e6 / b.st.ok : NAN, b.st.ok ? b.st.client_ns / 1e3 / b.st.ok : NAN);
        for (size_t i = 0; i < b.st.n_errors; i++)
                printf("  error %-40s %lu  (%s)\n", b.st.errors[i].what, b.st.errors[i].count,
                       b.st.errors[i].example);
        /* One line for scripts. */
        printf(
            "RESULT label=%s mode=%s offered=%.0f achieved=%.0f ok=%lu failed=%lu "
            "unstarted=%lu rejected=%lu p50=%.2f p90=%.2f p99=%.2f max=%.2f r1p50=%.2f r1p99=%.2f "
            "r2p50=%.2f r2p99=%.2f client_us=%.0f\n",
            label, rate > 0 ? "open" : "closed", rate, b.st.ok / elapsed, b.st.ok, b.st.failed,
            b.st.unstarted, b.st.rejected, series_pct(&b.st.full, 0.5), series_pct(&b.st.full, 0.9),
            series_pct(&b.st.full, 0.99), series_pct(&b.st.full, 1.0),
            series_pct(&b.st.round1, 0.5), series_pct(&b.st.round1, 0.99),
            series_pct(&b.st.round2, 0.5), series_pct(&b.st.round2, 0.99),
            b.st.ok ? cpu * 1e6 / b.st.ok : NAN);

        return b.st.ok > 0 && b.st.failed == 0 && b.st.unstarted == 0 ? 0 : 3;
}

int main(int argc, char **argv)
{
        _cleanup_free_ uint8_t *log = NULL;
        struct pcr_bank pcrs;
        size_t log_size;
        int r;

        if ((argc == 3 || argc == 4) && streq(argv[1], "keygen")) {
                long count = argc == 4 ? strtol(argv[3], NULL, 10) : 1;

                if (count < 1 || count > MAX_NODES) {
                        usage();
                        return 2;
                }
                r = cmd_keygen(argv[2], count);
                if (r < 0)
                        fprintf(stderr, "loadgen keygen: %s\n", strerror(-r));
                return r < 0;
        }
        if (argc == 3 && streq(argv[1], "pcrs")) {
                r = read_file(argv[2], MAX_LOG, &log, &log_size);
                if (r < 0 || log_replay(log, log_size, &pcrs) < 0) {
                        fprintf(stderr, "loadgen: %s: not a crypto-agile event log with SHA-256\n",
                                argv[2]);
                        return 1;
                }
                for (int pcr = 0; pcr < 24; pcr++) {
                        printf("%d ", pcr);
                        for (int i = 0; i < 32; i++)
                                printf("%02x", pcrs.sha256[pcr][i]);
                        printf("\n");
                }
                return 0;
        }
        if (argc < 2 || (!streq(argv[1], "run") && !streq(argv[1], "attest"))) {
                usage();
                return 2;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        r = streq(argv[1], "run") ? cmd_run(argc, argv) : cmd_attest(argc, argv);
        curl_global_cleanup();
        return r;
}
