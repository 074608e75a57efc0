/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verifier/policy/pe.c and verifier/policy/predict.c on synthetic images: what Authenticode covers
 * and what it leaves out, section contents as loaded, and one row per malformed header. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy/pe.h"
#include "policy/predict.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LFANEW   0x80u
#define OPT      (LFANEW + 24u)
#define OPT_SIZE 240u /* PE32+: 112 bytes of fields, 16 data directories */
#define HEADERS  0x200u
#define CSUM     (OPT + 64u)
#define CERTDIR  (OPT + 112u + 8u * 4u)

struct img {
        uint8_t buf[0x1000];
        size_t size;
};

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void section(struct img *m, unsigned i, const char *name, uint32_t vsize, uint32_t raw_off,
                    uint32_t raw_size)
{
        uint8_t *h = m->buf + OPT + OPT_SIZE + 40 * i;

        memcpy(h, name, strlen(name));
        put32(h + 8, vsize);
        put32(h + 12, 0x1000 * (i + 1));
        put32(h + 16, raw_size);
        put32(h + 20, raw_off);
}

/* Headers, two sections (.text, .data) of 0x200 bytes each, 16 bytes of trailing data. */
static void make(struct img *m)
{
        memset(m, 0, sizeof(*m));
        m->buf[0] = 'M';
        m->buf[1] = 'Z';
        put32(m->buf + 0x3c, LFANEW);
        memcpy(m->buf + LFANEW, "PE\0\0", 4);
        put16(m->buf + LFANEW + 4, 0x8664);
        put16(m->buf + LFANEW + 6, 2);
        put16(m->buf + LFANEW + 20, OPT_SIZE);
        put16(m->buf + OPT, 0x20b);
        put32(m->buf + OPT + 60, HEADERS);
        put32(m->buf + OPT + 108, 16);
        section(m, 0, ".text", 0x180, 0x200, 0x200);
        section(m, 1, ".data", 0x300, 0x400, 0x200); /* VirtualSize past the raw data */
        for (unsigned i = 0x200; i < 0x600; i++)
                m->buf[i] = (uint8_t) (i * 7);
        memcpy(m->buf + 0x600, "trailing data!!", 16);
        m->size = 0x610;
}

/* Appends a WIN_CERTIFICATE (PKCS#7 type) of n content bytes, 8-aligned, and points the
 * security directory at it. */
static void sign(struct img *m, size_t n)
{
        size_t off = (m->size + 7) & ~(size_t) 7, len = 8 + n;

        memset(m->buf + m->size, 0, off - m->size);
        put32(m->buf + off, (uint32_t) len);
        put16(m->buf + off + 4, 0x0200);
        put16(m->buf + off + 6, 0x0002);
        memset(m->buf + off + 8, 0x30, n);
        m->size = off + ((len + 7) & ~(size_t) 7);
        put32(m->buf + CERTDIR, (uint32_t) off);
        put32(m->buf + CERTDIR + 4, (uint32_t) (m->size - off));
}

static void digest(const struct img *m, uint8_t d[32])
{
        struct pe_image pe;
        char err[256];

        assert_int_equal(pe_parse(m->buf, m->size, &pe, err, sizeof(err)), 0);
        assert_int_equal(pe_authenticode_sha256(&pe, d, err, sizeof(err)), 0);
}

static void test_parse(void **state)
{
        struct img m;
        struct pe_image pe;
        const struct pe_section *s;
        char err[256];

        (void) state;
        make(&m);
        assert_int_equal(pe_parse(m.buf, m.size, &pe, err, sizeof(err)), 0);
        assert_true(pe.pe32plus);
        assert_int_equal(pe.n_sections, 2);
        assert_int_equal(pe.size_of_headers, HEADERS);
        s = pe_find_section(&pe, ".data");
        assert_non_null(s);
        assert_int_equal(s->virtual_size, 0x300);
        assert_null(pe_find_section(&pe, ".linux"));

        /* As loaded: the raw data, then zeros up to VirtualSize. */
        uint8_t *copy;
        size_t size;
        assert_int_equal(pe_section_copy(&pe, s, &copy, &size), 0);
        assert_int_equal(size, 0x300);
        assert_memory_equal(copy, m.buf + 0x400, 0x200);
        for (size_t i = 0x200; i < 0x300; i++)
                assert_int_equal(copy[i], 0);
        free(copy);
        /* .text is cut at its VirtualSize. */
        s = pe_find_section(&pe, ".text");
        assert_int_equal(pe_section_copy(&pe, s, &copy, &size), 0);
        assert_int_equal(size, 0x180);
        free(copy);

        const uint8_t *blob;
        size_t n;
        assert_int_equal(pe_signature(&pe, &blob, &n, err, sizeof(err)), -ENOENT);
}

/* What Authenticode leaves out changes nothing; anything else changes the digest. */
static void test_authenticode_coverage(void **state)
{
        struct img m;
        uint8_t base[32], d[32];

        (void) state;
        make(&m);
        digest(&m, base);

        put32(m.buf + CSUM, 0xdeadbeef);
        digest(&m, d);
        assert_memory_equal(base, d, 32);

        make(&m);
        sign(&m, 21); /* padding to 8 after the data is not hashed either: it is 0x610 aligned */
        digest(&m, d);
        assert_memory_equal(base, d, 32);
        struct pe_image pe;
        const uint8_t *blob;
        size_t n;
        char err[256];
        assert_int_equal(pe_parse(m.buf, m.size, &pe, err, sizeof(err)), 0);
        assert_int_equal(pe_signature(&pe, &blob, &n, err, sizeof(err)), 0);
        assert_int_equal(n, 21);
        assert_int_equal(blob[0], 0x30);

        static const size_t touch[] = {2,     LFANEW + 8, OPT + 4, CERTDIR + 8, 0x1ff,
                                       0x200, 0x5ff,      0x600,   0x60f};
        for (size_t i = 0; i < sizeof(touch) / sizeof(touch[0]); i++) {
                make(&m);
                m.buf[touch[i]] ^= 1;
                digest(&m, d);
                if (memcmp(base, d, 32) == 0)
                        fail_msg("a change at 0x%zx does not change the digest", touch[i]);
        }
}

struct bad_row {
        const char *what;
        size_t at; /* 0: no byte change */
        uint32_t value;
        int width;
        size_t size; /* 0: keep */
        const char *message;
};

static void test_malformed(void **state)
{
        static const struct bad_row rows[] = {
            {"empty", 0, 0, 0, 1, "no MZ"},
            {"no MZ", 0, 'X', 1, 0, "no MZ"},
            {"lfanew past the end", 0x3c, 0xfffffff0, 4, 0, "past the end"},
            {"no PE signature", LFANEW, 'X', 1, 0, "no PE signature"},
            {"optional header past the end", LFANEW + 20, 0xfff0, 2, 0, "past the end"},
            {"bad magic", OPT, 0x999, 2, 0, "magic"},
            {"too many data directories", OPT + 108, 17, 4, 0, "data directories"},
            {"too many sections", LFANEW + 6, 97, 2, 0, "more than"},
            {"section table past SizeOfHeaders", OPT + 60, 0x100, 4, 0, "SizeOfHeaders"},
            {"SizeOfHeaders past the end", OPT + 60, 0x10000, 4, 0, "past the end"},
            {"section data past the end", OPT + OPT_SIZE + 20, 0x500, 4, 0, "past the end"},
            {"huge section", OPT + OPT_SIZE + 16, 0xffffff00, 4, 0, "past the end"},
            {"certificate table not at the end", CERTDIR, 0x600, 4, 0, "does not end"},
            {"truncated", 0, 0, 0, 0x300, "past the end"},
        };
        struct img m;
        struct pe_image pe;
        char err[256];

        (void) state;
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                const struct bad_row *r = &rows[i];

                make(&m);
                if (r->at == CERTDIR)
                        put32(m.buf + CERTDIR + 4, 8);
                if (r->width == 1)
                        m.buf[r->at] = (uint8_t) r->value;
                else if (r->width == 2)
                        put16(m.buf + r->at, (uint16_t) r->value);
                else if (r->width == 4)
                        put32(m.buf + r->at, r->value);
                if (r->size)
                        m.size = r->size;
                err[0] = '\0';
                int ret = pe_parse(m.buf, m.size, &pe, err, sizeof(err));
                if (ret != -EBADMSG || !strstr(err, r->message))
                        fail_msg("%s: %d \"%s\", expected -EBADMSG with \"%s\"", r->what, ret, err,
                                 r->message);
        }
        assert_int_equal(pe_parse(NULL, 0, &pe, err, sizeof(err)), -EBADMSG);
}

/* A PE that is not a UKI: refused by the prediction with a reason, never a crash. */
static void test_predict_refuses(void **state)
{
        struct img m;
        struct prediction p;
        char err[256];

        (void) state;
        make(&m);
        assert_int_equal(predict_uki(m.buf, m.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, ".sdmagic"));
        /* A measured section whose VirtualSize is past its raw data: zeros a UKI never has. */
        memcpy(m.buf + OPT + OPT_SIZE + 40, ".initrd\0", 8);
        assert_int_equal(predict_uki(m.buf, m.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "exceeds its raw data"));
        section(&m, 1, ".data", 0x200, 0x400, 0x200);
        /* A .sdmagic of another stub version. */
        memcpy(m.buf + OPT + OPT_SIZE, ".sdmagic", 8);
        memcpy(m.buf + 0x200, "#### LoaderInfo: systemd-stub 255.1 ####", 41);
        assert_int_equal(predict_uki(m.buf, m.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "only 252"));
        memcpy(m.buf + 0x200, "#### LoaderInfo: systemd-stub 252.1 ####", 41);
        assert_int_equal(predict_uki(m.buf, m.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "no .linux"));
        /* .data as .linux: not a PE. */
        memcpy(m.buf + OPT + OPT_SIZE + 40, ".linux\0\0", 8);
        assert_int_equal(predict_uki(m.buf, m.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "cmdline"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse),
            cmocka_unit_test(test_authenticode_coverage),
            cmocka_unit_test(test_malformed),
            cmocka_unit_test(test_predict_refuses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
