/* SPDX-License-Identifier: GPL-2.0-or-later */
/* eventlog_parse(): logs written by tests/tools/mklog.py replayed against the PCR values it
 * computes with hashlib, every truncation of them, and hand-built malformed logs, row by row. */

#include "tpm/eventlog.h"
#include "util.h"

#include <json-c/json.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "verifier-test-util.h"

static char tmpdir[] = "/tmp/test-verifier-eventlog.XXXXXX";

/* ---- logs from mklog.py ---- */

struct mklog {
        uint8_t *log;
        size_t size;
        json_object *pcrs;       /* {"sha256": {"0": hex, …}} */
        json_object *extensions; /* {"startup_locality": n, "extensions": [{index, pcr, …}]} */
};

static void mklog(const char *args, struct mklog *ret)
{
        char cmd[1024], path[256];
        char *text;

        snprintf(cmd, sizeof(cmd),
                 "python3 " MKLOG " -o %s/log --extensions %s/ext.json --pcrs %s > %s/pcrs.json",
                 tmpdir, tmpdir, args, tmpdir);
        assert_int_equal(system(cmd), 0);
        snprintf(path, sizeof(path), "%s/log", tmpdir);
        ret->log = (uint8_t *) test_read_file(path, &ret->size);
        snprintf(path, sizeof(path), "%s/pcrs.json", tmpdir);
        text = test_read_file(path, NULL);
        ret->pcrs = json_tokener_parse(text);
        free(text);
        assert_non_null(ret->pcrs);
        snprintf(path, sizeof(path), "%s/ext.json", tmpdir);
        text = test_read_file(path, NULL);
        ret->extensions = json_tokener_parse(text);
        free(text);
        assert_non_null(ret->extensions);
}

static void mklog_done(struct mklog *m)
{
        free(m->log);
        json_object_put(m->pcrs);
        json_object_put(m->extensions);
}

/* The replay equals hashlib's, PCR by PCR, and every extended event is the one mklog.py
 * wrote, in order, with its SHA-256. */
static void assert_matches_mklog(const struct eventlog *log, const struct mklog *m)
{
        json_object *sha256, *ext;
        size_t k = 0;

        assert_true(json_object_object_get_ex(m->pcrs, "sha256", &sha256));
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++) {
                char key[4], got[65];
                json_object *want;

                snprintf(key, sizeof(key), "%u", pcr);
                assert_true(json_object_object_get_ex(sha256, key, &want));
                hex_encode(log->pcr_sha256[pcr], 32, got);
                if (!streq(got, json_object_get_string(want)))
                        print_message("PCR %u: got %s want %s\n", pcr, got,
                                      json_object_get_string(want));
                assert_string_equal(got, json_object_get_string(want));
        }

        assert_true(json_object_object_get_ex(m->extensions, "extensions", &ext));
        for (size_t i = 0; i < log->n_events; i++) {
                const struct eventlog_event *e = &log->events[i];
                char tbuf[VERDICT_EVENT_TYPE_MAX], got[65];
                json_object *x, *f;

                assert_int_equal(e->index, (long) i + 1);
                if (e->type == EV_NO_ACTION)
                        continue;
                x = json_object_array_get_idx(ext, k++);
                assert_non_null(x);
                assert_true(json_object_object_get_ex(x, "index", &f));
                assert_int_equal(e->index, json_object_get_int(f));
                assert_true(json_object_object_get_ex(x, "pcr", &f));
                assert_int_equal(e->pcr, json_object_get_int(f));
                assert_true(json_object_object_get_ex(x, "type", &f));
                assert_string_equal(eventlog_type_name(e->type, tbuf), json_object_get_string(f));
                assert_true(json_object_object_get_ex(x, "sha256", &f));
                hex_encode(e->sha256, 32, got);
                assert_string_equal(got, json_object_get_string(f));
        }
        assert_int_equal(k, json_object_array_length(ext));
}

static void test_mklog_default(void **state)
{
        struct eventlog log;
        struct verdict v;
        struct mklog m;

        (void) state;
        mklog("", &m);
        assert_int_equal(eventlog_parse(m.log, m.size, &log, &v), 0);
        assert_int_equal(log.n_algs, 1);
        assert_int_equal(log.algs[0], 0x000b);
        assert_int_equal(log.startup_locality, 0);
        assert_true(log.n_events > 30);
        assert_int_equal(log.pcr_extended_mask, 0xffu | 1u << 9 | 1u << 11);
        assert_matches_mklog(&log, &m);
        /* the UKI's event points at its data, inside the caller's buffer */
        for (size_t i = 0; i < log.n_events; i++)
                if (log.events[i].type == 0x80000003) {
                        assert_true(log.events[i].data > m.log);
                        assert_true(log.events[i].data + log.events[i].data_size <= m.log + m.size);
                        assert_int_equal(log.events[i].pcr, 4);
                }
        eventlog_done(&log);
        assert_null(log.events);
        mklog_done(&m);
}

static void test_mklog_sha1_and_sha256(void **state)
{
        struct eventlog log;
        struct verdict v;
        struct mklog m;

        (void) state;
        mklog("--sha1 --secure-boot", &m);
        assert_int_equal(eventlog_parse(m.log, m.size, &log, &v), 0);
        assert_int_equal(log.n_algs, 2);
        assert_int_equal(log.algs[0], 0x0004);
        assert_int_equal(log.algs[1], 0x000b);
        assert_matches_mklog(&log, &m);
        eventlog_done(&log);
        mklog_done(&m);
}

static void test_mklog_startup_locality(void **state)
{
        struct eventlog log;
        struct verdict v;
        struct mklog m;

        (void) state;
        mklog("--startup-locality 3", &m);
        assert_int_equal(eventlog_parse(m.log, m.size, &log, &v), 0);
        assert_int_equal(log.startup_locality, 3);
        assert_int_equal(log.events[0].type, EV_NO_ACTION);
        assert_int_equal(log.events[0].index, 1);
        assert_matches_mklog(&log, &m);
        eventlog_done(&log);
        mklog_done(&m);
}

static void test_mklog_no_sha256(void **state)
{
        struct eventlog log;
        struct verdict v;
        struct mklog m;

        (void) state;
        mklog("--sha1 --no-sha256", &m);
        assert_int_equal(eventlog_parse(m.log, m.size, &log, &v), -EBADMSG);
        assert_int_equal(v.reason, REASON_EVENTLOG_NO_SHA256);
        assert_string_equal(v.message,
                            "event log: no SHA-256 bank (the Spec ID event declares sha1)");
        assert_int_equal(v.event, -1);
        mklog_done(&m);

        mklog("--legacy", &m);
        assert_int_equal(eventlog_parse(m.log, m.size, &log, &v), -EBADMSG);
        assert_int_equal(v.reason, REASON_EVENTLOG_NO_SHA256);
        assert_non_null(strstr(v.message, "legacy SHA-1 event log (no Spec ID Event03 event)"));
        mklog_done(&m);
}

/* Every prefix of a valid log: at an event boundary it is a shorter valid log; anywhere else
 * it is refused as malformed, naming the event that was cut and the offset where it starts. */
static void check_truncations(const char *args)
{
        size_t starts[256], n_events, spec_end;
        struct eventlog full;
        struct verdict v;
        struct mklog m;

        mklog(args, &m);
        assert_int_equal(eventlog_parse(m.log, m.size, &full, &v), 0);
        n_events = full.n_events;
        assert_true(n_events + 1 < ELEMENTSOF(starts));
        /* starts[k] = offset of event k (k = 0 is the Spec ID event); starts[n+1] = the end */
        starts[0] = 0;
        for (size_t i = 0; i < n_events; i++)
                starts[i + 2] = (size_t) (full.events[i].data - m.log) + full.events[i].data_size;
        spec_end = 32 + (m.log[28] | m.log[29] << 8 | m.log[30] << 16 | (size_t) m.log[31] << 24);
        starts[1] = spec_end;
        assert_int_equal(starts[n_events + 1], m.size);
        eventlog_done(&full);

        for (size_t cut = 0; cut < m.size; cut++) {
                struct eventlog log;
                size_t k = 0;
                int r;

                while (k + 1 <= n_events + 1 && starts[k + 1] <= cut)
                        k++;
                /* k: the last event that starts at or before cut */
                r = eventlog_parse(m.log, cut, &log, &v);
                if (cut > 0 && cut == starts[k]) {
                        if (r != 0)
                                print_message("cut %zu: %s\n", cut, v.message);
                        assert_int_equal(r, 0);
                        assert_int_equal(log.n_events, k - 1);
                        eventlog_done(&log);
                        continue;
                }
                char prefix[96];
                snprintf(prefix, sizeof(prefix), "event log: event %zu at offset %zu: ", k,
                         starts[k]);
                if (r != -EBADMSG || v.reason != REASON_EVENTLOG_MALFORMED ||
                    !startswith(v.message, prefix))
                        print_message("cut %zu: r=%d %s (want \"%s…\")\n", cut, r, v.message,
                                      prefix);
                assert_int_equal(r, -EBADMSG);
                assert_int_equal(v.reason, REASON_EVENTLOG_MALFORMED);
                assert_int_equal(v.event, (long) k);
                assert_non_null(startswith(v.message, prefix));
        }
        mklog_done(&m);
}

static void test_truncations(void **state)
{
        (void) state;
        check_truncations("");
        check_truncations("--sha1 --startup-locality 4 --boot-entries 1");
}

/* ---- hand-built logs ---- */

struct buf {
        uint8_t *p;
        size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
        if (b->n + n > b->cap) {
                b->cap = (b->n + n) * 2 + 64;
                b->p = realloc(b->p, b->cap);
                assert_non_null(b->p);
        }
        memcpy(b->p + b->n, d, n);
        b->n += n;
}

static void put_le32(struct buf *b, uint32_t v)
{
        uint8_t x[4] = {v & 0xff, v >> 8 & 0xff, v >> 16 & 0xff, v >> 24};
        put(b, x, 4);
}

static void put_le16(struct buf *b, uint16_t v)
{
        uint8_t x[2] = {v & 0xff, v >> 8};
        put(b, x, 2);
}

static void put_u8(struct buf *b, uint8_t v)
{
        put(b, &v, 1);
}

static uint16_t alg_size(uint16_t alg)
{
        switch (alg) {
        case 0x0004:
                return 20;
        case 0x000b:
        case 0x0012:
                return 32;
        case 0x000c:
                return 48;
        default:
                return 64;
        }
}

/* Spec ID event body fields a row may break. */
struct spec {
        uint32_t pcr;
        uint32_t n_algs_claimed; /* numberOfAlgorithms as written */
        const uint16_t *algs;    /* {id, size} pairs */
        size_t n_pairs;
        uint8_t uintn;
        uint8_t vendor_size;
        size_t vendor_written;
        size_t trailing;
        const char *signature;
};

static const uint16_t SHA256_ONLY[] = {0x000b, 32};
static const uint16_t SHA1_SHA256[] = {0x0004, 20, 0x000b, 32};

static void put_spec(struct buf *b, const struct spec *s)
{
        struct buf d = {};
        char sig[16] = {};

        memcpy(sig, s->signature ? s->signature : "Spec ID Event03", 15);
        put(&d, sig, 16);
        put_le32(&d, 0);
        put_u8(&d, 0);
        put_u8(&d, 2);
        put_u8(&d, 0);
        put_u8(&d, s->uintn ? s->uintn : 2);
        put_le32(&d, s->n_algs_claimed);
        for (size_t i = 0; i < s->n_pairs; i++) {
                put_le16(&d, s->algs[2 * i]);
                put_le16(&d, s->algs[2 * i + 1]);
        }
        put_u8(&d, s->vendor_size);
        for (size_t i = 0; i < s->vendor_written + s->trailing; i++)
                put_u8(&d, 0x5a);

        put_le32(b, s->pcr);
        put_le32(b, EV_NO_ACTION);
        for (int i = 0; i < 20; i++)
                put_u8(b, 0);
        put_le32(b, (uint32_t) d.n);
        put(b, d.p, d.n);
        free(d.p);
}

static void put_spec_sha256(struct buf *b)
{
        put_spec(b, &(struct spec){.n_algs_claimed = 1, .algs = SHA256_ONLY, .n_pairs = 1});
}

/* A TCG_PCR_EVENT2 with the given digests (alg ids), each filled with fill. */
static void put_event(struct buf *b, uint32_t pcr, uint32_t type, uint32_t count,
                      const uint16_t *algs, size_t n, uint8_t fill, const void *data, uint32_t size)
{
        put_le32(b, pcr);
        put_le32(b, type);
        put_le32(b, count);
        for (size_t i = 0; i < n; i++) {
                put_le16(b, algs[i]);
                for (uint16_t k = 0; k < alg_size(algs[i]); k++)
                        put_u8(b, fill);
        }
        put_le32(b, size);
        put(b, data, size);
}

static const uint16_t A256[] = {0x000b};

static void put_event256(struct buf *b, uint32_t pcr, uint32_t type, uint8_t fill)
{
        put_event(b, pcr, type, 1, A256, 1, fill, "abcd", 4);
}

static void put_locality(struct buf *b, uint32_t pcr, uint8_t locality)
{
        uint8_t data[17] = "StartupLocality";
        data[16] = locality;
        put_event(b, pcr, EV_NO_ACTION, 1, A256, 1, 0, data, sizeof(data));
}

static void test_zero_events(void **state)
{
        struct buf b = {};
        struct eventlog log;
        struct verdict v;
        static const uint8_t zero[32], ones[32] = {[0 ... 31] = 0xff};

        (void) state;
        put_spec_sha256(&b);
        assert_int_equal(eventlog_parse(b.p, b.n, &log, &v), 0);
        assert_int_equal(log.n_events, 0);
        assert_null(log.events);
        assert_int_equal(log.pcr_extended_mask, 0);
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++)
                assert_memory_equal(log.pcr_sha256[pcr], pcr >= 17 && pcr <= 22 ? ones : zero, 32);
        eventlog_done(&log);
        free(b.p);
}

/* PCR_new = SHA-256(PCR_old || digest), with known answers computed by Python's hashlib:
 * sha256(bytes(31) + b"\x03" + b"\x11" * 32) for PCR 0 (locality 3); for PCR 23
 * sha256(sha256(bytes(32) + b"\x22" * 32) + b"\x33" * 32); for PCR 17, which starts at all
 * ones, sha256(b"\xff" * 32 + b"\x44" * 32). */
static void test_known_replay(void **state)
{
        struct buf b = {};
        struct eventlog log;
        struct verdict v;
        char got[65];

        (void) state;
        put_spec_sha256(&b);
        put_locality(&b, 0, 3);
        put_event256(&b, 0, 0x80000008, 0x11);
        put_event256(&b, 23, 0x80000007, 0x22);
        put_event256(&b, 23, 0x80000007, 0x33);
        put_event256(&b, 17, 0x00000004, 0x44);
        put_event(&b, 5, EV_NO_ACTION, 1, A256, 1, 0x55, "x", 1); /* never extended */
        assert_int_equal(eventlog_parse(b.p, b.n, &log, &v), 0);
        assert_int_equal(log.n_events, 6);
        assert_int_equal(log.pcr_extended_mask, 1u << 0 | 1u << 17 | 1u << 23);
        hex_encode(log.pcr_sha256[0], 32, got);
        assert_string_equal(got,
                            "b8e8cc97156c2b3142cb8e876236fd4729748153743b480af0949565f227d2eb");
        hex_encode(log.pcr_sha256[23], 32, got);
        assert_string_equal(got,
                            "22d0d408147e904fa9fe6feba5fc51374e44f07101e208e62fd5453841595ade");
        hex_encode(log.pcr_sha256[17], 32, got);
        assert_string_equal(got,
                            "a5b654ac27365c30cfcc2202c8c96af82765d2267171b89d754c64437e05d674");
        hex_encode(log.pcr_sha256[5], 32, got);
        assert_string_equal(got,
                            "0000000000000000000000000000000000000000000000000000000000000000");
        eventlog_done(&log);
        free(b.p);
}

struct row {
        const char *what;
        void (*build)(struct buf *b);
        enum reason reason;
        long event;
        const char *message;
};

#define SPEC(...) put_spec(b, &(struct spec){__VA_ARGS__})

static void b_empty(struct buf *b)
{
        (void) b;
}
static void b_short_header(struct buf *b)
{
        put_le32(b, 0);
        put_le32(b, EV_NO_ACTION);
}
static void b_spec_pcr1(struct buf *b)
{
        SPEC(.pcr = 1, .n_algs_claimed = 1, .algs = SHA256_ONLY, .n_pairs = 1);
}
static void b_spec_no_algs(struct buf *b)
{
        SPEC(.n_algs_claimed = 0);
}
static void b_spec_huge_algs(struct buf *b)
{
        SPEC(.n_algs_claimed = 0xffffffff, .algs = SHA256_ONLY, .n_pairs = 1);
}
static void b_spec_short_algs(struct buf *b)
{
        SPEC(.n_algs_claimed = 3, .algs = SHA1_SHA256, .n_pairs = 2);
}
static void b_spec_unknown_alg(struct buf *b)
{
        SPEC(.n_algs_claimed = 1, .algs = (const uint16_t[]){0x0099, 32}, .n_pairs = 1);
}
static void b_spec_wrong_size(struct buf *b)
{
        SPEC(.n_algs_claimed = 1, .algs = (const uint16_t[]){0x000b, 20}, .n_pairs = 1);
}
static void b_spec_twice(struct buf *b)
{
        SPEC(.n_algs_claimed = 2, .algs = (const uint16_t[]){0x000b, 32, 0x000b, 32}, .n_pairs = 2);
}
static void b_spec_vendor(struct buf *b)
{
        SPEC(.n_algs_claimed = 1, .algs = SHA256_ONLY, .n_pairs = 1, .vendor_size = 200,
             .vendor_written = 10);
}
static void b_spec_trailing(struct buf *b)
{
        SPEC(.n_algs_claimed = 1, .algs = SHA256_ONLY, .n_pairs = 1, .vendor_size = 2,
             .vendor_written = 2, .trailing = 3);
}
static void b_spec_uintn(struct buf *b)
{
        SPEC(.n_algs_claimed = 1, .algs = SHA256_ONLY, .n_pairs = 1, .uintn = 3);
}
static void b_spec_event00(struct buf *b)
{
        SPEC(.signature = "Spec ID Event00", .n_algs_claimed = 0);
}
static void b_spec_sm3_only(struct buf *b)
{
        SPEC(.n_algs_claimed = 2, .algs = (const uint16_t[]){0x0012, 32, 0x000c, 48}, .n_pairs = 2);
}
static void b_not_a_log(struct buf *b)
{
        put(b, "this is not an event log, not even a SHA-1 one", 46);
}
static void b_pcr24(struct buf *b)
{
        put_spec_sha256(b);
        put_event256(b, 4, 0x0d, 1);
        put_event256(b, 24, 0x0d, 1);
}
static void b_pcr_max(struct buf *b)
{
        put_spec_sha256(b);
        put_event256(b, 0xffffffff, 0x0d, 1);
}
static void b_count_huge(struct buf *b)
{
        put_spec_sha256(b);
        put_event(b, 4, 0x0d, 0xffffffff, A256, 1, 1, "", 0);
}
static void b_count_zero(struct buf *b)
{
        put_spec_sha256(b);
        put_event(b, 4, 0x0d, 0, NULL, 0, 1, "", 0);
}
static void b_count_two(struct buf *b)
{
        put_spec_sha256(b);
        put_event(b, 4, 0x0d, 2, (const uint16_t[]){0x000b, 0x0004}, 2, 1, "", 0);
}
static void b_undeclared_alg(struct buf *b)
{
        put_spec_sha256(b);
        put_event(b, 4, 0x0d, 1, (const uint16_t[]){0x0004}, 1, 1, "", 0);
}
static void b_unknown_alg(struct buf *b)
{
        put_spec_sha256(b);
        put_event(b, 4, 0x0d, 1, (const uint16_t[]){0x7777}, 1, 1, "", 0);
}
static void b_alg_twice(struct buf *b)
{
        SPEC(.n_algs_claimed = 2, .algs = SHA1_SHA256, .n_pairs = 2);
        put_event(b, 4, 0x0d, 2, (const uint16_t[]){0x0004, 0x0004}, 2, 1, "", 0);
}
static void b_size_huge(struct buf *b)
{
        put_spec_sha256(b);
        put_event(b, 4, 0x0d, 1, A256, 1, 1, "", 0);
        b->n -= 4;
        put_le32(b, 0xffffffff);
}
static void b_locality_late(struct buf *b)
{
        put_spec_sha256(b);
        put_event256(b, 0, 0x08, 1);
        put_locality(b, 0, 3);
}
static void b_locality_twice(struct buf *b)
{
        put_spec_sha256(b);
        put_locality(b, 0, 3);
        put_locality(b, 0, 3);
}
static void b_locality_5(struct buf *b)
{
        put_spec_sha256(b);
        put_locality(b, 0, 5);
}
static void b_locality_pcr7(struct buf *b)
{
        put_spec_sha256(b);
        put_locality(b, 7, 3);
}

/* Offsets: the Spec ID event of put_spec_sha256() is 32 + 33 = 65 bytes; a put_event256()
 * event is 12 + 2 + 32 + 4 + 4 = 54. */
static const struct row rows[] = {
    {"empty", b_empty, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: empty event log"},
    {"8 bytes", b_short_header, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: truncated first event header: 8 bytes, need 32"},
    {"Spec ID in PCR 1", b_spec_pcr1, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event in PCR 1, not 0"},
    {"no algorithms", b_spec_no_algs, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event declares 0 algorithms, must be 1-8"},
    {"4294967295 algorithms", b_spec_huge_algs, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event declares 4294967295 algorithms, must be 1-8"},
    {"3 algorithms, 2 written", b_spec_short_algs, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event declares 3 algorithms but holds 2"},
    {"unknown algorithm", b_spec_unknown_alg, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event: unknown algorithm 0x0099"},
    {"sha256 of 20 bytes", b_spec_wrong_size, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event: sha256 with digest size 20, must be 32"},
    {"sha256 twice", b_spec_twice, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event declares sha256 twice"},
    {"vendor info too long", b_spec_vendor, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event: vendor info runs past the event's 43 bytes"},
    {"bytes after vendor info", b_spec_trailing, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event: 3 bytes after the vendor info"},
    {"uintnSize 3", b_spec_uintn, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: Spec ID event: uintnSize 3, must be 1 or 2"},
    {"Spec ID Event00", b_spec_event00, REASON_EVENTLOG_NO_SHA256, -1,
     "event log: a legacy SHA-1 event log (its first event is a Spec ID event other than Spec "
     "ID Event03); the SHA-256 bank is required"},
    {"sm3 and sha384", b_spec_sm3_only, REASON_EVENTLOG_NO_SHA256, -1,
     "event log: no SHA-256 bank (the Spec ID event declares sm3_256, sha384)"},
    {"text", b_not_a_log, REASON_EVENTLOG_MALFORMED, 0,
     "event log: event 0 at offset 0: PCR 1936287860 out of range 0-23 (no Spec ID Event03: "
     "read as a SHA-1 log)"},
    {"PCR 24", b_pcr24, REASON_EVENTLOG_MALFORMED, 2,
     "event log: event 2 at offset 119: PCR 24 out of range 0-23"},
    {"PCR 0xffffffff", b_pcr_max, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 65: PCR 4294967295 out of range 0-23"},
    {"4294967295 digests", b_count_huge, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 65: 4294967295 digests where the Spec ID event declares 1"},
    {"no digest", b_count_zero, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 65: 0 digests where the Spec ID event declares 1"},
    {"2 digests", b_count_two, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 65: 2 digests where the Spec ID event declares 1"},
    {"undeclared sha1", b_undeclared_alg, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 65: digest of algorithm 0x0004, which the Spec ID event does "
     "not declare"},
    {"unknown algorithm in an event", b_unknown_alg, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 65: digest of algorithm 0x7777, which the Spec ID event does "
     "not declare"},
    {"sha1 twice", b_alg_twice, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 69: two sha1 digests"},
    {"event size 4294967295", b_size_huge, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 65: event data of 4294967295 bytes, 0 left"},
    {"StartupLocality after PCR 0", b_locality_late, REASON_EVENTLOG_MALFORMED, 2,
     "event log: event 2 at offset 119: StartupLocality event after PCR 0 was extended"},
    {"StartupLocality twice", b_locality_twice, REASON_EVENTLOG_MALFORMED, 2,
     "event log: event 2 at offset 132: a second StartupLocality event"},
    {"StartupLocality 5", b_locality_5, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 65: startup locality 5, must be 0-4"},
    {"StartupLocality in PCR 7", b_locality_pcr7, REASON_EVENTLOG_MALFORMED, 1,
     "event log: event 1 at offset 65: StartupLocality event in PCR 7, not 0"},
};

static void test_malformed_rows(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct buf b = {};
                struct eventlog log = {.n_events = 12345};
                struct verdict v;
                int r;

                rows[i].build(&b);
                r = eventlog_parse(b.p, b.n, &log, &v);
                if (r != -EBADMSG || v.reason != rows[i].reason || v.event != rows[i].event ||
                    !streq(v.message, rows[i].message))
                        print_message("row %zu (%s): r=%d %s event %ld \"%s\"\n", i, rows[i].what,
                                      r, reason_name(v.reason), v.event, v.message);
                assert_int_equal(r, -EBADMSG);
                assert_int_equal(v.reason, rows[i].reason);
                assert_int_equal(v.event, rows[i].event);
                assert_string_equal(v.message, rows[i].message);
                assert_int_equal(log.n_events, 12345); /* ret untouched on failure */
                free(b.p);
        }
}

/* The event cap: 65536 events after the Spec ID event parse, one more does not. */
static void test_event_cap(void **state)
{
        struct buf b = {};
        struct eventlog log;
        struct verdict v;
        size_t end;

        (void) state;
        put_spec_sha256(&b);
        for (int i = 0; i < 65536; i++)
                put_event(&b, 23, 0x0d, 1, A256, 1, (uint8_t) i, "", 0);
        assert_int_equal(eventlog_parse(b.p, b.n, &log, &v), 0);
        assert_int_equal(log.n_events, 65536);
        assert_int_equal(log.events[65535].index, 65536);
        eventlog_done(&log);

        end = b.n;
        put_event(&b, 23, 0x0d, 1, A256, 1, 0, "", 0);
        assert_int_equal(eventlog_parse(b.p, b.n, &log, &v), -EBADMSG);
        assert_int_equal(v.reason, REASON_EVENTLOG_MALFORMED);
        assert_int_equal(v.event, 65537);
        char want[128];
        snprintf(want, sizeof(want), "event log: event 65537 at offset %zu: more than 65536 events",
                 end);
        assert_string_equal(v.message, want);
        free(b.p);
}

static void test_any_event_type(void **state)
{
        struct buf b = {};
        struct eventlog log;
        struct verdict v;

        (void) state;
        put_spec_sha256(&b);
        put_event256(&b, 8, 0x12345678, 1);
        put_event(&b, 9, 0x0d, 1, A256, 1, 2, "", 0); /* empty event data */
        assert_int_equal(eventlog_parse(b.p, b.n, &log, &v), 0);
        assert_int_equal(log.n_events, 2);
        assert_int_equal(log.events[0].type, 0x12345678);
        assert_int_equal(log.events[1].data_size, 0);
        eventlog_done(&log);
        free(b.p);
}

static void test_type_names(void **state)
{
        static const struct {
                uint32_t type;
                const char *name;
        } names[] = {
            {0x00000000, "EV_PREBOOT_CERT"},
            {0x00000003, "EV_NO_ACTION"},
            {0x00000004, "EV_SEPARATOR"},
            {0x00000006, "EV_EVENT_TAG"},
            {0x00000008, "EV_S_CRTM_VERSION"},
            {0x0000000d, "EV_IPL"},
            {0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS"},
            {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
            {0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION"},
            {0x80000007, "EV_EFI_ACTION"},
            {0x8000000c, "EV_EFI_VARIABLE_BOOT2"},
            {0x80000010, "EV_EFI_HCRTM_EVENT"},
            {0x800000e0, "EV_EFI_VARIABLE_AUTHORITY"},
            {0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB"},
            {0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
            {0x800000e3, "EV_EFI_SPDM_DEVICE_POLICY"},
            {0x800000e4, "EV_EFI_SPDM_DEVICE_AUTHORITY"},
        };
        char buf[VERDICT_EVENT_TYPE_MAX];
        uint32_t t;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                assert_string_equal(eventlog_type_name(names[i].type, buf), names[i].name);
                assert_int_equal(eventlog_type_from_name(names[i].name, &t), 0);
                assert_int_equal(t, names[i].type);
        }
        assert_string_equal(eventlog_type_name(0x00001234, buf), "0x00001234");
        assert_string_equal(eventlog_type_name(0x800000ff, buf), "0x800000ff");
        assert_int_equal(eventlog_type_from_name("0x00001234", &t), 0);
        assert_int_equal(t, 0x1234);
        assert_int_equal(eventlog_type_from_name("0x80000003", &t), 0);
        assert_int_equal(t, 0x80000003);
        assert_int_equal(eventlog_type_from_name("0xABCDEF01", &t), 0);
        assert_int_equal(t, 0xabcdef01);
        assert_int_equal(eventlog_type_from_name("EV_EFI_SPDM_DEVICE_BLOB", &t), 0);
        assert_int_equal(t, 0x800000e1);
        assert_int_equal(eventlog_type_from_name("EV_EFI_SPDM_DEVICE_CONFIG", &t), 0);
        assert_int_equal(t, 0x800000e2);
        t = 7;
        static const char *const bad[] = {"",       "0x",      "0x123456789", "0xg",
                                          "0X10",   " 0x10",   "0x-1",        "ev_ipl",
                                          "EV_FOO", "EV_IPL ", "4",           "+0x1"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(eventlog_type_from_name(bad[i], &t), -EINVAL);
        assert_int_equal(t, 7);
}

static int setup(void **state)
{
        (void) state;
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
        (void) state;
        return test_remove_tree(tmpdir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_mklog_default),
            cmocka_unit_test(test_mklog_sha1_and_sha256),
            cmocka_unit_test(test_mklog_startup_locality),
            cmocka_unit_test(test_mklog_no_sha256),
            cmocka_unit_test(test_truncations),
            cmocka_unit_test(test_zero_events),
            cmocka_unit_test(test_known_replay),
            cmocka_unit_test(test_malformed_rows),
            cmocka_unit_test(test_event_cap),
            cmocka_unit_test(test_any_event_type),
            cmocka_unit_test(test_type_names),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
