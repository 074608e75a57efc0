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
#include <openssl/evp.h>
#include <stdio.h>
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
        assert_non_null(
            strstr(err, "systemd-stub 255.1 is not modelled (supported: 252, 257, 262)"));
        memcpy(m.buf + 0x200, "#### LoaderInfo: systemd-stub 252.1 ####", 41);
        assert_int_equal(predict_uki(m.buf, m.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "no .linux"));
        /* .data as .linux: not a PE. */
        memcpy(m.buf + OPT + OPT_SIZE + 40, ".linux\0\0", 8);
        assert_int_equal(predict_uki(m.buf, m.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "cmdline"));
}

/* Synthetic UKIs: a PE32+ with SizeOfHeaders 0x400 and sections added in file order, each on
 * its own 0x200 of the file and 0x1000 of memory; the embedded kernel is a section-less PE with
 * EFI stub 1.0 and a setup header saying 6.12. */
struct uki {
        uint8_t buf[0x8000];
        size_t size;
        unsigned n;
};

static void uki_init(struct uki *u)
{
        memset(u, 0, sizeof(*u));
        u->buf[0] = 'M';
        u->buf[1] = 'Z';
        put32(u->buf + 0x3c, LFANEW);
        memcpy(u->buf + LFANEW, "PE\0\0", 4);
        put16(u->buf + LFANEW + 4, 0x8664);
        put16(u->buf + LFANEW + 20, OPT_SIZE);
        put16(u->buf + OPT, 0x20b);
        put32(u->buf + OPT + 60, 0x400);
        put32(u->buf + OPT + 108, 16);
        u->size = 0x400;
}

static void uki_add(struct uki *u, const char *name, const void *data, size_t len)
{
        uint8_t *h = u->buf + OPT + OPT_SIZE + 40 * u->n;
        size_t raw = (len + 0x1ff) & ~(size_t) 0x1ff;

        assert_true(u->size + raw <= sizeof(u->buf) && OPT + OPT_SIZE + 40 * (u->n + 1) <= 0x400);
        memcpy(h, name, strlen(name));
        put32(h + 8, (uint32_t) len);
        put32(h + 12, 0x1000 * (u->n + 1));
        put32(h + 16, (uint32_t) raw);
        put32(h + 20, (uint32_t) u->size);
        memcpy(u->buf + u->size, data, len);
        u->size += raw;
        u->n++;
        put16(u->buf + LFANEW + 6, (uint16_t) u->n);
}

static size_t kernel_image(uint8_t k[0x400])
{
        memset(k, 0, 0x400);
        k[0] = 'M';
        k[1] = 'Z';
        put32(k + 0x3c, 0x40);
        memcpy(k + 0x40, "PE\0\0", 4);
        put16(k + 0x44, 0x8664);
        put16(k + 0x54, OPT_SIZE);
        put16(k + 0x58, 0x20b);
        put16(k + 0x58 + 44, 1); /* MajorImageVersion: EFI stub 1.0 */
        put32(k + 0x58 + 60, 0x200);
        put32(k + 0x58 + 108, 16);
        memcpy(k + 0x202, "HdrS", 4);
        put16(k + 0x20e, 0x100); /* the version string at 0x300 */
        memcpy(k + 0x300, "6.12.0-test #1", 14);
        return 0x400;
}

static void sha(const void *data, size_t len, uint8_t d[32])
{
        unsigned n = 0;

        assert_int_equal(EVP_Digest(data, len, d, &n, EVP_sha256(), NULL), 1);
}

static void sha_str(const char *s, uint8_t d[32])
{
        sha(s, strlen(s) + 1, d);
}

/* UTF-16LE with its NUL, as the Linux EFI stub measures LoadOptions. */
static void sha_u16(const char *s, uint8_t d[32])
{
        uint8_t u[512] = {};
        size_t n = strlen(s);

        for (size_t i = 0; i < n; i++)
                u[2 * i] = (uint8_t) s[i];
        sha(u, 2 * (n + 1), d);
}

/* The cpio archive systemd-stub 257 makes of a section (/.extra/NAME), written out field by
 * field here from the newc format rather than by the code under test. */
static size_t cpio257(uint8_t *out, const char *name, const char *data)
{
        size_t n = 0, len = strlen(data), fname = 7 + strlen(name) + 1;

        n += (size_t) sprintf((char *) out + n,
                              "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x"
                              "%08zx%08x.extra",
                              1, 040555, 0, 0, 1, 0, 0, 0, 0, 0, 0, (size_t) 7, 0);
        n++; /* the name's NUL (117 bytes), padded to 120 */
        while (n % 4)
                out[n++] = 0;
        n += (size_t) sprintf((char *) out + n,
                              "070701%08x%08x%08x%08x%08x%08x%08zx%08x%08x%08x%08x"
                              "%08zx%08x.extra/%s",
                              2, 0100444, 0, 0, 1, 0, len, 0, 0, 0, 0, fname, 0, name);
        n++;
        while (n % 4)
                out[n++] = 0;
        memcpy(out + n, data, len);
        n += len;
        while (n % 4)
                out[n++] = 0;
        n += (size_t) sprintf((char *) out + n,
                              "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x"
                              "%08X%08xTRAILER!!!",
                              0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 11, 0);
        memset(out + n, 0, 4);
        return n + 4;
}

static const char SDMAGIC257[] = "#### LoaderInfo: systemd-stub 257.13-1~deb13u1 ####";
static const char SBAT[] = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/"
                           "SBAT.md\nsystemd-stub,1,The systemd Developers,systemd,257\n";
static const char OSREL[] = "ID=test\nVERSION_ID=13\n";
static const char INITRD[] = "initrd of 21 bytes!!"; /* 21 with the NUL: padded to 24 */

/* A UKI laid out in another order than the stub measures it, with every section 257 adds. */
static void uki257(struct uki *u, const char *cmdline)
{
        uint8_t k[0x400];
        size_t ks = kernel_image(k);

        uki_init(u);
        uki_add(u, ".sbat", SBAT, strlen(SBAT));
        uki_add(u, ".sdmagic", SDMAGIC257, sizeof(SDMAGIC257));
        uki_add(u, ".uname", "6.12.0-test", 11);
        uki_add(u, ".cmdline", cmdline, strlen(cmdline));
        uki_add(u, ".osrel", OSREL, strlen(OSREL));
        uki_add(u, ".initrd", INITRD, sizeof(INITRD));
        uki_add(u, ".linux", k, ks);
}

static const struct predict_event *find_event(const struct prediction *p, unsigned pcr,
                                              unsigned nth)
{
        for (size_t i = 0; i < p->n_events; i++)
                if (p->events[i].pcr == pcr && nth-- == 0)
                        return &p->events[i];
        return NULL;
}

static void assert_event(const struct prediction *p, unsigned pcr, unsigned nth,
                         const uint8_t want[32], const char *what)
{
        const struct predict_event *e = find_event(p, pcr, nth);

        if (!e)
                fail_msg("PCR %u event %u (%s): missing", pcr, nth, what);
        if (memcmp(e->sha256, want, 32) != 0)
                fail_msg("PCR %u event %u (%s): digest differs (\"%s\")", pcr, nth, what, e->what);
}

/* systemd-stub 257: PCR 11 gets the sections in unified_sections order, .uname and .sbat
 * included; the command line is mangled; the initrd is .initrd padded to 4 and the os-release
 * cpio the stub makes of .osrel. */
static void test_predict_stub257(void **state)
{
        static const char *const order[] = {".linux",  ".osrel", ".cmdline",
                                            ".initrd", ".uname", ".sbat"};
        struct uki u;
        struct prediction p;
        struct pe_image pe;
        char err[256];
        uint8_t d[32], buf[1024];
        size_t n;

        (void) state;
        uki257(&u, " \tconsole=ttyS0\x7fquiet\n\nroot=/dev/vda  \n");
        if (predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)) != 0)
                fail_msg("predict_uki: %s", err);
        assert_string_equal(p.stub_version, "257.13-1~deb13u1");
        assert_string_equal(p.kernel_version, "6.12.0-test");
        assert_int_equal(pe_parse(u.buf, u.size, &pe, err, sizeof(err)), 0);
        for (size_t i = 0; i < (sizeof(order) / sizeof(order[0])); i++) {
                sha_str(order[i], d);
                assert_event(&p, 11, (unsigned) (2 * i), d, order[i]);
                assert_int_equal(pe_section_sha256(&pe, pe_find_section(&pe, order[i]), d), 0);
                assert_event(&p, 11, (unsigned) (2 * i + 1), d, order[i]);
        }
        assert_null(find_event(&p, 11, 2 * (sizeof(order) / sizeof(order[0]))));
        /* Leading and trailing whitespace gone, each control character inside one space. */
        sha_u16("console=ttyS0 quiet  root=/dev/vda", d);
        assert_event(&p, 9, 0, d, "command line");
        memset(buf, 0, sizeof(buf));
        memcpy(buf, INITRD, sizeof(INITRD));
        n = 24 + cpio257(buf + 24, "os-release", OSREL);
        sha(buf, n, d);
        assert_event(&p, 9, 1, d, "initrd");
        assert_null(find_event(&p, 9, 2));
        prediction_done(&p);

        /* A .pcrpkey is measured (before .profile would be) and handed over as a file. */
        uki_add(&u, ".pcrpkey", "KEY", 3);
        if (predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)) != 0)
                fail_msg("predict_uki: %s", err);
        sha_str(".pcrpkey", d);
        assert_event(&p, 11, 12, d, ".pcrpkey");
        memset(buf, 0, sizeof(buf));
        memcpy(buf, INITRD, sizeof(INITRD));
        n = 24 + cpio257(buf + 24, "tpm2-pcr-public-key.pem", "KEY");
        n += cpio257(buf + n, "os-release", OSREL);
        sha(buf, n, d);
        assert_event(&p, 9, 1, d, "initrd with the public key");
        prediction_done(&p);
}

/* One profile: its sections override the base ones, .profile is measured and handed over.
 * Two or more, .dtbauto, an unknown stub: refused by name. */
static void test_predict_stub257_profiles(void **state)
{
        struct uki u;
        struct prediction p;
        char err[256];
        uint8_t d[32], buf[1024];
        size_t n;

        (void) state;
        uki257(&u, "base cmdline");
        uki_add(&u, ".profile", "ID=one", 6);
        uki_add(&u, ".cmdline", "profile cmdline", 15);
        if (predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)) != 0)
                fail_msg("predict_uki: %s", err);
        sha_str(".cmdline", d);
        assert_event(&p, 11, 4, d, ".cmdline name");
        sha("profile cmdline", 15, d);
        assert_event(&p, 11, 5, d, "profile 0's .cmdline");
        sha_str(".profile", d);
        assert_event(&p, 11, 12, d, ".profile name");
        sha("ID=one", 6, d);
        assert_event(&p, 11, 13, d, ".profile content");
        sha_u16("profile cmdline", d);
        assert_event(&p, 9, 0, d, "profile 0's command line");
        memset(buf, 0, sizeof(buf));
        memcpy(buf, INITRD, sizeof(INITRD));
        n = 24 + cpio257(buf + 24, "os-release", OSREL);
        n += cpio257(buf + n, "profile", "ID=one");
        sha(buf, n, d);
        assert_event(&p, 9, 1, d, "initrd with the profile");
        prediction_done(&p);

        uki_add(&u, ".profile", "ID=two", 6);
        assert_int_equal(predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "multi-profile UKI (2 .profile sections)"));

        uki257(&u, "x");
        uki_add(&u, ".dtbauto", "DTB", 3);
        assert_int_equal(predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, ".dtbauto"));

        uki257(&u, "x");
        uki_add(&u, ".cmdline", "y", 1);
        assert_int_equal(predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "two .cmdline sections"));

        /* Whitespace only: no command line once mangled. */
        uki257(&u, " \t\n");
        assert_int_equal(predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "empty .cmdline"));

        /* Versions around the modelled ones are not guessed at. */
        static const char *const others[] = {"256.7", "258.1", "261.3", "263", "25", "v257"};
        for (size_t i = 0; i < (sizeof(others) / sizeof(others[0])); i++) {
                char magic[64];

                uki257(&u, "x");
                snprintf(magic, sizeof(magic), "#### LoaderInfo: systemd-stub %s ####", others[i]);
                memset(u.buf + 0x600, 0, 0x200);
                memcpy(u.buf + 0x600, magic, strlen(magic) + 1);
                assert_int_equal(predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)), -EBADMSG);
                if (!strstr(err, "is not modelled (supported: 252, 257, 262)") ||
                    !strstr(err, others[i]))
                        fail_msg("%s: \"%s\"", others[i], err);
        }
}

/* uki257's UKI with another .sdmagic (section 1 at 0x600, its VirtualSize fixed). */
static void set_sdmagic(struct uki *u, const char *magic)
{
        memset(u->buf + 0x600, 0, 0x200);
        memcpy(u->buf + 0x600, magic, strlen(magic) + 1);
        put32(u->buf + OPT + OPT_SIZE + 40 + 8, (uint32_t) strlen(magic) + 1);
}

/* systemd-stub 262: the same events as 257 for these sections (PCR 11 in unified_sections
 * order, the command line mangled alike, .initrd then the os-release archive); .efifw (which it
 * measures and picks per machine) and a command line without console= (to which it appends one
 * chosen by the machine's consoles, unmeasured by it, measured by the kernel) refused by name. */
static void test_predict_stub262(void **state)
{
        static const char *const order[] = {".linux",  ".osrel", ".cmdline",
                                            ".initrd", ".uname", ".sbat"};
        static const char magic[] = "#### LoaderInfo: systemd-stub 262.1-1 ####";
        struct uki u;
        struct prediction p;
        struct pe_image pe;
        char err[256];
        uint8_t d[32], buf[1024];
        size_t n;

        (void) state;
        uki257(&u, " \tconsole=ttyS0\x7fquiet\n\nroot=/dev/vda  \n");
        set_sdmagic(&u, magic);
        if (predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)) != 0)
                fail_msg("predict_uki: %s", err);
        assert_string_equal(p.stub_version, "262.1-1");
        assert_int_equal(pe_parse(u.buf, u.size, &pe, err, sizeof(err)), 0);
        for (size_t i = 0; i < (sizeof(order) / sizeof(order[0])); i++) {
                sha_str(order[i], d);
                assert_event(&p, 11, (unsigned) (2 * i), d, order[i]);
                assert_int_equal(pe_section_sha256(&pe, pe_find_section(&pe, order[i]), d), 0);
                assert_event(&p, 11, (unsigned) (2 * i + 1), d, order[i]);
        }
        assert_null(find_event(&p, 11, 2 * (sizeof(order) / sizeof(order[0]))));
        sha_u16("console=ttyS0 quiet  root=/dev/vda", d);
        assert_event(&p, 9, 0, d, "command line");
        memset(buf, 0, sizeof(buf));
        memcpy(buf, INITRD, sizeof(INITRD));
        n = 24 + cpio257(buf + 24, "os-release", OSREL);
        sha(buf, n, d);
        assert_event(&p, 9, 1, d, "initrd");
        assert_null(find_event(&p, 9, 2));
        /* PCR 4: the action, the separator, the UKI — and not the embedded kernel, which 262
         * copies into memory and jumps to itself (linux_exec(): no LoadImage() without shim). */
        assert_int_equal(pe_authenticode_sha256(&pe, d, err, sizeof(err)), 0);
        assert_event(&p, 4, 2, d, "the UKI");
        assert_null(find_event(&p, 4, 3));
        prediction_done(&p);

        /* console= first is as good as after a space; inside a word it is not one. */
        uki257(&u, "console=hvc0 quiet");
        set_sdmagic(&u, magic);
        if (predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)) != 0)
                fail_msg("predict_uki: %s", err);
        prediction_done(&p);
        static const char *const no_console[] = {"quiet root=/dev/vda", "xconsole=ttyS0 quiet",
                                                 "quiet\tconsole"};
        for (size_t i = 0; i < (sizeof(no_console) / sizeof(no_console[0])); i++) {
                uki257(&u, no_console[i]);
                set_sdmagic(&u, magic);
                assert_int_equal(predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)), -EBADMSG);
                if (!strstr(err, "systemd-stub 262 appends a console="))
                        fail_msg("%s: \"%s\"", no_console[i], err);
        }
        /* 257 does not append one: the same command line is predicted. */
        uki257(&u, "quiet root=/dev/vda");
        if (predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)) != 0)
                fail_msg("predict_uki: %s", err);
        prediction_done(&p);

        uki257(&u, "console=ttyS0");
        set_sdmagic(&u, magic);
        uki_add(&u, ".efifw", "FW", 2);
        assert_int_equal(predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, ".efifw: systemd-stub 262"));

        /* A forged newer version on the same UKI: refused by name, nothing predicted. */
        uki257(&u, "console=ttyS0");
        set_sdmagic(&u, "#### LoaderInfo: systemd-stub 263 ####");
        memset(&p, 0, sizeof(p));
        assert_int_equal(predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "systemd-stub 263 is not modelled (supported: 252, 257, 262)"));
        assert_null(p.events);
}

/* systemd-stub 252 on the same UKI: neither .uname nor .sbat measured, the command line mangled
 * its own way, the initrd .initrd alone; .pcrpkey (whose /.extra file 252 adds) refused. */
static void test_predict_stub252(void **state)
{
        static const char magic[] = "#### LoaderInfo: systemd-stub 252.39-1~deb12u2 ####";
        struct uki u;
        struct prediction p;
        char err[256];
        uint8_t d[32];

        (void) state;
        uki257(&u, " console=ttyS0\tquiet\x7f \n");
        memset(u.buf + 0x600, 0, 0x200);
        memcpy(u.buf + 0x600, magic, sizeof(magic));
        put32(u.buf + OPT + OPT_SIZE + 40 + 8, sizeof(magic));
        if (predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)) != 0)
                fail_msg("predict_uki: %s", err);
        sha_str(".initrd", d);
        assert_event(&p, 11, 6, d, ".initrd name");
        assert_null(find_event(&p, 11, 8));
        /* 252's mangle_stub_cmdline(): control characters (not 0x7f) become spaces, trailing
         * spaces go, leading ones stay. */
        sha_u16(" console=ttyS0 quiet\x7f", d);
        assert_event(&p, 9, 0, d, "command line as 252 mangles it");
        sha(INITRD, sizeof(INITRD), d);
        assert_event(&p, 9, 1, d, ".initrd");
        prediction_done(&p);
        uki_add(&u, ".pcrpkey", "KEY", 3);
        assert_int_equal(predict_uki(u.buf, u.size, NULL, &p, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, ".pcrpkey with systemd-stub 252"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse),           cmocka_unit_test(test_authenticode_coverage),
            cmocka_unit_test(test_malformed),       cmocka_unit_test(test_predict_refuses),
            cmocka_unit_test(test_predict_stub257), cmocka_unit_test(test_predict_stub257_profiles),
            cmocka_unit_test(test_predict_stub252), cmocka_unit_test(test_predict_stub262),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
