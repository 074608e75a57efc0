/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a good boot of a UKI measures, derived from the file: the firmware's PE measurements
 * (PCR 4), systemd-stub's section events (PCR 11; 252, 257 and 262, chosen by the stub's .sdmagic),
 * the Linux EFI stub's (PCR 9: the command line and the initrd systemd-stub hands it), and
 * under Secure Boot the db authority that verifies it (PCR 7), each modelled on its own component.
 */

#include "policy/predict.h"
#include "common/openssl-util.h"
#include "policy/pe.h"
#include "common/util-verifier.h"

#include <inttypes.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#define MAX_EVENTS 64

/* TCG PC Client PFP: the boot manager's action string before it starts a Boot#### option. */
static const char ACTION_CALLING[] = "Calling EFI Application from Boot Option";

/* systemd-stub 252 (src/fundamental/tpm-pcr.c): the sections it measures into PCR 11, in its
 * order — not the file's. .pcrsig is left out because it signs the result. */
static const char *const stub252_sections[] = {
    ".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey",
};

/* systemd-stub 257 (src/fundamental/uki.h, unified_sections, "PLEASE DO NOT REORDER"): the
 * same, with .ucode, .uname, .sbat (the stub's own SBAT data: every UKI has it), .profile,
 * .dtbauto and .hwids. .pcrsig is not measured. */
static const char *const stub257_sections[] = {
    ".linux", ".osrel", ".cmdline", ".initrd",  ".ucode",   ".splash", ".dtb",
    ".uname", ".sbat",  ".pcrpkey", ".profile", ".dtbauto", ".hwids",
};

/* systemd-stub 262 (src/fundamental/uki.h): 257's list and .efifw, measured last. What else
 * differs from 257 for a UKI (docs/measure.md, "What 262 measures differently"): the command
 * line gets a console= appended when it has none (cmdline_append_console(), console.c), and the
 * initrd a previous loader's initrd and a boot-secret archive, neither decided by the UKI. */
static const char *const stub262_sections[] = {
    ".linux", ".osrel", ".cmdline", ".initrd",  ".ucode",   ".splash", ".dtb",
    ".uname", ".sbat",  ".pcrpkey", ".profile", ".dtbauto", ".hwids",  ".efifw",
};

/* What one stub generation does with a UKI, as far as the PCRs show it. */
struct stub_model {
        unsigned major;
        const char *const *sections; /* measured into PCR 11, in this order */
        size_t n_sections;
        /* How mangle_stub_cmdline() (src/boot/efi/util.c) changes .cmdline before it becomes
         * the kernel's LoadOptions: it differs between 252 and 257. */
        enum { MANGLE_252, MANGLE_257 } mangle;
        /* 257 (stub.c, generate_embedded_initrds, combine_initrds): the initrd the kernel gets
         * is .ucode, .initrd, then cpio archives the stub makes of .pcrsig, .pcrpkey, .osrel and
         * .profile (/.extra/...), each padded to 4 bytes; .profile sections split the UKI into
         * profiles. */
        bool section_initrds;
        /* 262: a command line with no console= gets one the machine's consoles decide. */
        bool appends_console;
        /* 262 (src/boot/linux.c, linux_exec()): the stub copies the embedded kernel's sections
         * into memory and jumps to its entry point itself; it calls the firmware's LoadImage()
         * (which measures it into PCR 4) only under Secure Boot with shim, not modelled here. */
        bool loads_kernel_itself;
};

static const struct stub_model stub_models[] = {
    {252, stub252_sections, ELEMENTSOF(stub252_sections), MANGLE_252, false, false, false},
    {257, stub257_sections, ELEMENTSOF(stub257_sections), MANGLE_257, true, false, false},
    {262, stub262_sections, ELEMENTSOF(stub262_sections), MANGLE_257, true, true, true},
};

/* The longest list, and the one every other is a subset of. */
#define MAX_MEASURED ELEMENTSOF(stub262_sections)

/* EFI GUIDs as they are laid out in memory (the first three fields little-endian). */
static const uint8_t GUID_GLOBAL_VARIABLE[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                                 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
static const uint8_t GUID_IMAGE_SECURITY_DB[16] = {0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
                                                   0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};
static const uint8_t GUID_CERT_X509[16] = {0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
                                           0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72};

struct builder {
        struct prediction *p;
        char *err;
        size_t errlen;
};

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
        return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

static int sha256(const void *data, size_t size, uint8_t ret[32])
{
        unsigned len = 0;

        return EVP_Digest(data, size, ret, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0
                                                                                       : -ENOMEM;
}

static int add(struct builder *b, unsigned pcr, uint32_t type, const uint8_t digest[32],
               const char *fmt, ...) _printf_(5, 6);
static int add(struct builder *b, unsigned pcr, uint32_t type, const uint8_t digest[32],
               const char *fmt, ...)
{
        struct prediction *p = b->p;
        struct predict_event *e;
        va_list ap;

        if (p->n_events == MAX_EVENTS)
                return set_error(b->err, b->errlen, -EBADMSG, "more than %d events", MAX_EVENTS);
        e = &p->events[p->n_events++];
        e->pcr = pcr;
        e->type = type;
        memcpy(e->sha256, digest, 32);
        va_start(ap, fmt);
        (void) vsnprintf(e->what, sizeof(e->what), fmt, ap);
        va_end(ap);
        return 0;
}

/* "#### LoaderInfo: systemd-stub 252.39-1~deb12u2 ####" in .sdmagic. */
static int stub_version(const struct pe_image *pe, struct builder *b, unsigned *ret_major)
{
        static const char prefix[] = "#### LoaderInfo: systemd-stub ";
        const struct pe_section *s = pe_find_section(pe, ".sdmagic");
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size, n = 0;
        unsigned major = 0;
        const char *v;
        int r;

        if (!s)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "no .sdmagic section: not a systemd-stub UKI");
        r = pe_section_copy(pe, s, &buf, &size);
        if (r < 0)
                return r;
        if (strncmp((const char *) buf, prefix, sizeof(prefix) - 1) != 0)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 ".sdmagic does not name systemd-stub: not a systemd-stub UKI");
        v = (const char *) buf + sizeof(prefix) - 1;
        while (v[n] && v[n] != ' ' && n + 1 < sizeof(b->p->stub_version)) {
                b->p->stub_version[n] = v[n] >= 0x20 && v[n] < 0x7f ? v[n] : '?';
                n++;
        }
        b->p->stub_version[n] = '\0';
        for (const char *c = v; *c >= '0' && *c <= '9' && major < 100000; c++)
                major = major * 10 + (unsigned) (*c - '0');
        *ret_major = major;
        return 0;
}

/* The Linux boot protocol's setup header: kernel_version at 0x20e points at a string 0x200
 * bytes before where it says. Only "MAJOR.MINOR" matters here. */
static int kernel_version(const uint8_t *k, size_t size, struct builder *b, unsigned *ret_major,
                          unsigned *ret_minor)
{
        unsigned major = 0, minor = 0;
        size_t off, n = 0;

        if (size < 0x210 || memcmp(k + 0x202, "HdrS", 4) != 0)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 ".linux is not a Linux kernel (no HdrS setup header)");
        off = 0x200 + (size_t) (k[0x20e] | k[0x20f] << 8);
        if (k[0x20e] == 0 && k[0x20f] == 0)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 ".linux does not say its version (kernel_version is 0)");
        for (; off + n < size && k[off + n] && k[off + n] != ' ' &&
               n + 1 < sizeof(b->p->kernel_version);
             n++)
                b->p->kernel_version[n] =
                    k[off + n] >= 0x20 && k[off + n] < 0x7f ? (char) k[off + n] : '?';
        b->p->kernel_version[n] = '\0';
        const char *c = b->p->kernel_version;
        for (; *c >= '0' && *c <= '9' && major < 1000; c++)
                major = major * 10 + (unsigned) (*c - '0');
        if (*c == '.')
                for (c++; *c >= '0' && *c <= '9' && minor < 1000; c++)
                        minor = minor * 10 + (unsigned) (*c - '0');
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

/* The firmware measures the variable data (PCR 7) as UEFI_VARIABLE_DATA: the vendor GUID, the
 * name's length in characters, the data's length, the UTF-16 name, the data. */
static int variable_data_sha256(const uint8_t guid[16], const char *name, const uint8_t *data,
                                size_t size, uint8_t ret[32])
{
        size_t n = strlen(name), total = 16 + 8 + 8 + 2 * n + size;
        _cleanup_free_ uint8_t *buf = malloc(total);
        uint8_t *p = buf;

        if (!buf)
                return -ENOMEM;
        memcpy(p, guid, 16);
        p += 16;
        for (int i = 0; i < 8; i++)
                *p++ = (uint8_t) ((uint64_t) n >> (8 * i));
        for (int i = 0; i < 8; i++)
                *p++ = (uint8_t) ((uint64_t) size >> (8 * i));
        for (size_t i = 0; i < n; i++) {
                *p++ = (uint8_t) name[i];
                *p++ = 0;
        }
        memcpy(p, data, size);
        return sha256(buf, total, ret);
}

/* A PCR 7 EV_EFI_VARIABLE_DRIVER_CONFIG event of the platform log for variable name (ASCII)
 * of vendor guid: its data. @return 0, -ENOENT or -EBADMSG */
static int platform_variable(const struct eventlog *log, const uint8_t guid[16], const char *name,
                             const uint8_t **ret, size_t *ret_size)
{
        size_t n = strlen(name);

        for (size_t i = 0; i < log->n_events; i++) {
                const struct eventlog_event *e = &log->events[i];
                uint64_t name_len, data_len;
                bool same = true;

                if (e->pcr != 7 || e->type != EV_EFI_VARIABLE_DRIVER_CONFIG || e->data_size < 32)
                        continue;
                name_len = le64(e->data + 16);
                data_len = le64(e->data + 24);
                if (name_len > e->data_size || data_len > e->data_size ||
                    32 + 2 * name_len + data_len > e->data_size)
                        return -EBADMSG;
                if (memcmp(e->data, guid, 16) != 0 || name_len != n)
                        continue;
                for (size_t k = 0; k < n && same; k++)
                        same = e->data[32 + 2 * k] == (uint8_t) name[k] &&
                               e->data[32 + 2 * k + 1] == 0;
                if (!same)
                        continue;
                *ret = e->data + 32 + 2 * name_len;
                *ret_size = (size_t) data_len;
                return 0;
        }
        return -ENOENT;
}

static void PKCS7_freep(PKCS7 **p)
{
        PKCS7_free(*p);
}

/* Does the db certificate authorize a signature with these certificates, as the firmware's
 * Authenticode check with a partial chain decides it: the db entry is one of them, or issued
 * one of them. */
static bool db_cert_matches(X509 *db, const STACK_OF(X509) * certs)
{
        EVP_PKEY *key = X509_get0_pubkey(db);

        for (int i = 0; i < sk_X509_num(certs); i++) {
                X509 *c = sk_X509_value(certs, i);

                if (X509_cmp(db, c) == 0)
                        return true;
                if (key && X509_check_issued(db, c) == X509_V_OK && X509_verify(c, key) == 1)
                        return true;
        }
        return false;
}

/* The EFI_SIGNATURE_DATA of the first X.509 entry of db that authorizes the PKCS#7 signature
 * sig. @return 0, -ENOENT (none does) or -EBADMSG (db or the signature malformed) */
static int db_authority(const uint8_t *db, size_t db_size, const uint8_t *sig, size_t sig_size,
                        const uint8_t **ret, size_t *ret_size)
{
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        const unsigned char *q = sig;
        STACK_OF(X509) * certs;
        size_t off = 0;

        p7 = d2i_PKCS7(NULL, &q, (long) sig_size);
        if (!p7 || !PKCS7_type_is_signed(p7) || !p7->d.sign)
                return -EBADMSG;
        certs = p7->d.sign->cert;
        if (!certs)
                return -ENOENT;

        while (off + 28 <= db_size) {
                const uint8_t *l = db + off;
                uint32_t list_size = le32(l + 16), header_size = le32(l + 20),
                         sig_len = le32(l + 24);
                uint64_t first = 28 + (uint64_t) header_size;

                if (list_size < first || list_size > db_size - off ||
                    (sig_len > 0 && (list_size - first) % sig_len != 0) ||
                    (sig_len < 16 && list_size > first))
                        return -EBADMSG;
                if (memcmp(l, GUID_CERT_X509, 16) == 0 && sig_len > 16)
                        for (uint64_t e = first; e + sig_len <= list_size; e += sig_len) {
                                const unsigned char *der = l + e + 16;
                                _cleanup_(X509_freep) X509 *x =
                                    d2i_X509(NULL, &der, (long) sig_len - 16);

                                if (x && db_cert_matches(x, certs)) {
                                        *ret = l + e;
                                        *ret_size = sig_len;
                                        return 0;
                                }
                        }
                off += list_size;
        }
        return -ENOENT;
}

/* Under Secure Boot: the PCR 7 authority event of an image's signature, once per distinct
 * authority (the firmware does not measure one twice). required: an image the firmware must
 * verify itself (the UKI); else (the embedded kernel) an image it may fail to verify.
 * @return 1 authorized (event added unless seen), 0 not authorized (only when !required), or
 * negative errno */
static int add_authority(struct builder *b, const uint8_t *db, size_t db_size,
                         const struct pe_image *img, const char *what, bool required,
                         uint8_t seen[32], bool *have_seen)
{
        const uint8_t *sig, *auth;
        size_t sig_size, auth_size;
        uint8_t d[32];
        int r;

        r = pe_signature(img, &sig, &sig_size, b->err, b->errlen);
        if (r == -ENOENT && !required)
                return 0;
        if (r == -ENOENT)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "the platform enforces Secure Boot and the %s is not signed: "
                                 "the firmware would refuse it",
                                 what);
        if (r < 0)
                return r;
        r = db_authority(db, db_size, sig, sig_size, &auth, &auth_size);
        if (r == -ENOENT && !required)
                return 0;
        if (r == -ENOENT)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "no X.509 certificate in the platform's db authorizes the %s's "
                                 "signature: the firmware would refuse it",
                                 what);
        if (r < 0)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "cannot read the %s's signature or the platform's db", what);
        r = variable_data_sha256(GUID_IMAGE_SECURITY_DB, "db", auth, auth_size, d);
        if (r < 0)
                return r;
        if (*have_seen && memcmp(seen, d, 32) == 0)
                return 1;
        memcpy(seen, d, 32);
        *have_seen = true;
        r = add(b, 7, EV_EFI_VARIABLE_AUTHORITY, d, "db entry that verifies the %s", what);
        return r < 0 ? r : 1;
}

static int platform_events(struct builder *b, const struct predict_options *o,
                           const uint8_t **ret_db, size_t *ret_db_size)
{
        const struct eventlog *log = o->platform;
        const uint8_t *sb;
        size_t sb_size;
        char tbuf[VERDICT_EVENT_TYPE_MAX];
        int r;

        for (size_t i = 0; i < log->n_events; i++) {
                const struct eventlog_event *e = &log->events[i];

                if (e->type == EV_NO_ACTION || e->pcr >= EVENTLOG_PCRS ||
                    !(o->platform_mask & 1u << e->pcr))
                        continue;
                if (e->pcr == 7 && e->type == EV_EFI_VARIABLE_AUTHORITY)
                        continue; /* the reference image's, not ours */
                r = add(b, e->pcr, e->type, e->sha256, "platform log event %ld (%s)", e->index,
                        eventlog_type_name(e->type, tbuf));
                if (r < 0)
                        return r;
        }

        r = platform_variable(log, GUID_GLOBAL_VARIABLE, "SecureBoot", &sb, &sb_size);
        if (r == -EBADMSG)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "the platform log's PCR 7 variable events are malformed");
        b->p->secure_boot = r == 0 && sb_size >= 1 && sb[0] == 1;
        if (!b->p->secure_boot)
                return 0;
        if (!(o->platform_mask & 1u << 7))
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "the platform enforces Secure Boot: PCR 7 must be taken from "
                                 "its log too");
        r = platform_variable(log, GUID_IMAGE_SECURITY_DB, "db", ret_db, ret_db_size);
        if (r < 0)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "the platform enforces Secure Boot but its log has no db "
                                 "variable event in PCR 7");
        return 0;
}

/* systemd-stub's mangle_stub_cmdline(), in place; returns the new length. 252
 * (src/boot/efi/util.c): each byte up to 0x1f becomes a space, trailing spaces are dropped,
 * leading ones kept. 257 (src/boot/util.c): whitespace is every byte up to 0x20 and 0x7f; it is
 * dropped at both ends and each one inside becomes a space (not collapsed). */
static size_t mangle_cmdline(uint8_t *c, size_t n, int how)
{
        size_t i = 0, w = 0, end = 0;

        if (how == MANGLE_252) {
                for (i = 0; i < n; i++)
                        if (c[i] <= 0x1f)
                                c[i] = ' ';
                while (n > 0 && c[n - 1] == ' ')
                        n--;
                return n;
        }
        while (i < n && (c[i] <= 0x20 || c[i] == 0x7f))
                i++;
        for (; i < n; i++) {
                bool space = c[i] <= 0x20 || c[i] == 0x7f;

                c[w++] = space ? ' ' : c[i];
                if (!space)
                        end = w;
        }
        return end;
}

/* The Linux EFI stub measures the command line it was given as LoadOptions: systemd-stub turns
 * .cmdline into UTF-16 (up to its first NUL, mangled) with a terminating NUL. */
static int cmdline_event(struct builder *b, const struct stub_model *m, const struct pe_image *pe,
                         const struct pe_section *s)
{
        _cleanup_free_ uint8_t *buf = NULL, *u16 = NULL;
        size_t size, n;
        uint8_t d[32];
        int r;

        r = pe_section_copy(pe, s, &buf, &size);
        if (r < 0)
                return r;
        n = strnlen((const char *) buf, size);
        for (size_t i = 0; i < n; i++)
                if (buf[i] >= 0x80)
                        return set_error(
                            b->err, b->errlen, -EBADMSG,
                            "non-ASCII byte 0x%02x at offset %zu of .cmdline: systemd-stub's "
                            "UTF-8 conversion is not modelled",
                            buf[i], i);
        n = mangle_cmdline(buf, n, m->mangle);
        if (n == 0)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "empty .cmdline: the command line would come from the boot "
                                 "entry, which the UKI does not decide");
        /* cmdline_append_console() looks for efi_fnmatch "console=*" or "* console=*" in the
         * mangled line; only then does the kernel measure .cmdline as it is. */
        buf[n] = '\0';
        if (m->appends_console && strncmp((const char *) buf, "console=", 8) != 0 &&
            !strstr((const char *) buf, " console="))
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "systemd-stub %u appends a console= to a .cmdline without one "
                                 "(hvc0, a serial port or none, chosen by the machine's "
                                 "consoles, which the UKI does not decide) before the kernel "
                                 "measures it: put a console= in .cmdline",
                                 m->major);
        u16 = calloc(n + 1, 2);
        if (!u16)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                u16[2 * i] = buf[i];
        r = sha256(u16, 2 * (n + 1), d);
        if (r < 0)
                return r;
        return add(b, 9, EV_EVENT_TAG, d,
                   "Linux EFI stub: LoadOptions (.cmdline as UTF-16, mangled as %u does)",
                   m->major);
}

static void cpio_word(uint8_t *p, uint32_t v)
{
        static const char hex[] = "0123456789abcdef";

        for (int i = 0; i < 8; i++)
                p[7 - i] = (uint8_t) hex[(v >> (4 * i)) & 0xf];
}

/* One newc header (src/boot/cpio.c, pack_cpio_one/pack_cpio_dir): inode, mode, nlink 1, size,
 * name size; every other field 0. Returns the bytes written (110). */
static size_t cpio_header(uint8_t *p, uint32_t ino, uint32_t mode, uint32_t size,
                          uint32_t name_size)
{
        uint32_t w[13] = {ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, name_size, 0};

        memcpy(p, "070701", 6);
        for (int i = 0; i < 13; i++)
                cpio_word(p + 6 + 8 * i, w[i]);
        return 110;
}

#define ALIGN4(x) (((x) + 3) & ~(size_t) 3)

/* systemd-stub 257's pack_cpio_literal(data, ".extra", name, 0555, 0444): the directory
 * .extra (inode 1), the file .extra/NAME (inode 2), the trailer; mtimes 0, owners 0. */
static int extra_cpio(const uint8_t *data, size_t size, const char *name, uint8_t **ret,
                      size_t *ret_size)
{
        static const char trailer[] = "070701"
                                      "00000000"
                                      "00000000"
                                      "00000000"
                                      "00000000"
                                      "00000001"
                                      "00000000"
                                      "00000000"
                                      "00000000"
                                      "00000000"
                                      "00000000"
                                      "00000000"
                                      "0000000B"
                                      "00000000"
                                      "TRAILER!!!\0\0\0"; /* and the string's NUL: 124 bytes */
        static const char dir[] = ".extra";
        size_t nlen = strlen(name), flen = sizeof(dir) + nlen + 1; /* ".extra/NAME\0" */
        size_t total =
            ALIGN4(110 + sizeof(dir)) + ALIGN4(110 + flen) + ALIGN4(size) + sizeof(trailer);
        uint8_t *buf, *p;

        if (size > UINT32_MAX)
                return -EFBIG;
        buf = p = calloc(1, total);
        if (!buf)
                return -ENOMEM;
        cpio_header(p, 1, 0040000 | 0555, 0, sizeof(dir));
        memcpy(p + 110, dir, sizeof(dir));
        p += ALIGN4(110 + sizeof(dir));
        cpio_header(p, 2, 0100000 | 0444, (uint32_t) size, (uint32_t) flen);
        memcpy(p + 110, dir, sizeof(dir) - 1);
        p[110 + sizeof(dir) - 1] = '/';
        memcpy(p + 110 + sizeof(dir), name, nlen);
        p += ALIGN4(110 + flen);
        memcpy(p, data, size);
        p += ALIGN4(size);
        memcpy(p, trailer, sizeof(trailer));
        *ret = buf;
        *ret_size = total;
        return 0;
}

/* systemd-stub 257's initrd, as the kernel receives it through LoadFile2 and measures it into
 * PCR 9: .ucode, .initrd, and the /.extra archives of .pcrsig, .pcrpkey, .osrel and .profile,
 * each padded to 4 bytes — unpadded when it is only one (combine_initrds runs for two or
 * more). Sets *ret_n to the number of parts (0: no initrd, no event). */
static int initrd257_sha256(const struct pe_image *pe, const struct pe_section *ucode,
                            const struct pe_section *initrd, const struct pe_section *extra[4],
                            uint8_t ret[32], size_t *ret_n, size_t *ret_size)
{
        static const char *const names[4] = {"tpm2-pcr-signature.json", "tpm2-pcr-public-key.pem",
                                             "os-release", "profile"};
        static const uint8_t zeros[4] = {};
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t *part[6] = {};
        size_t part_size[6] = {}, n = 0, total = 0;
        bool own[6] = {};
        unsigned len = 0;
        int r = 0;

        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        if (ucode && ucode->virtual_size > 0) {
                part[n] = (uint8_t *) pe->data + ucode->raw_offset;
                part_size[n++] = ucode->virtual_size;
        }
        if (initrd && initrd->virtual_size > 0) {
                part[n] = (uint8_t *) pe->data + initrd->raw_offset;
                part_size[n++] = initrd->virtual_size;
        }
        for (size_t i = 0; i < 4 && r >= 0; i++) {
                if (!extra[i] || extra[i]->virtual_size == 0)
                        continue;
                r = extra_cpio(pe->data + extra[i]->raw_offset, extra[i]->virtual_size, names[i],
                               &part[n], &part_size[n]);
                if (r >= 0)
                        own[n++] = true;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                size_t pad = n > 1 ? ALIGN4(part_size[i]) - part_size[i] : 0;

                if (EVP_DigestUpdate(ctx, part[i], part_size[i]) != 1 ||
                    EVP_DigestUpdate(ctx, zeros, pad) != 1)
                        r = -ENOMEM;
                total += part_size[i] + pad;
        }
        if (r >= 0 && EVP_DigestFinal_ex(ctx, ret, &len) != 1)
                r = -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (own[i])
                        free(part[i]);
        if (r < 0)
                return r;
        *ret_n = n;
        *ret_size = total;
        return 0;
}

/* The sections the stub uses, by the model's names, as its find_sections() picks them: the
 * first of each name before the first .profile (the base), then — for 257 — the first of each
 * name of profile 0 (from the first .profile to the next), which overrides the base. A UKI
 * with more profiles is refused: which one boots is decided by the boot entry's load options
 * ("@N"), which the UKI does not decide. */
static int stub_sections(const struct pe_image *pe, const struct stub_model *m,
                         const char *const *names, size_t n_names, struct builder *b,
                         const struct pe_section **ret)
{
        uint16_t first_profile = pe->n_sections, n_profiles = 0, end;

        for (uint16_t i = 0; i < pe->n_sections; i++)
                if (streq(pe->sections[i].name, ".profile")) {
                        if (n_profiles++ == 0)
                                first_profile = i;
                }
        if (!m->section_initrds) {
                first_profile = pe->n_sections;
                n_profiles = 0;
        }
        if (n_profiles > 1)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "multi-profile UKI (%u .profile sections): systemd-stub %u boots "
                                 "the profile the boot entry's load options select (\"@N\"), "
                                 "which the UKI does not decide; only single-profile UKIs are "
                                 "predicted",
                                 n_profiles, m->major);
        for (size_t k = 0; k < n_names; k++) {
                const struct pe_section *found = NULL;
                uint16_t start = 0;

                end = first_profile;
                for (int region = 0; region < (n_profiles ? 2 : 1); region++) {
                        const struct pe_section *here = NULL;

                        for (uint16_t i = start; i < end; i++) {
                                if (!streq(pe->sections[i].name, names[k]))
                                        continue;
                                if (here)
                                        return set_error(b->err, b->errlen, -EBADMSG,
                                                         "two %s sections%s", names[k],
                                                         region ? " in profile 0" : "");
                                here = &pe->sections[i];
                        }
                        if (here)
                                found = here;
                        start = first_profile;
                        end = pe->n_sections;
                }
                ret[k] = found && found->virtual_size > 0 ? found : NULL;
        }
        return 0;
}

static const struct pe_section *model_section(const struct stub_model *m,
                                              const struct pe_section *const s[MAX_MEASURED],
                                              const char *name)
{
        for (size_t k = 0; k < m->n_sections; k++)
                if (streq(m->sections[k], name))
                        return s[k];
        return NULL;
}

int predict_uki(const uint8_t *buf, size_t size, const struct predict_options *o,
                struct prediction *ret, char *err, size_t errlen)
{
        struct prediction p = {};
        struct builder b = {&p, err, errlen};
        struct pe_image uki, kernel;
        const struct pe_section *linux_sec, *cmdline_sec, *initrd_sec, *pcrsig_sec = NULL;
        const struct pe_section *sec[MAX_MEASURED] = {};
        const struct stub_model *m = NULL;
        _cleanup_free_ uint8_t *kbuf = NULL;
        const uint8_t *db = NULL;
        size_t ksize, db_size = 0;
        unsigned stub_major = 0, kmajor = 0, kminor = 0;
        uint8_t d[32], seen[32];
        bool have_seen = false;
        int r;

        if (err && errlen > 0)
                err[0] = '\0';
        if (o && o->platform && (o->platform_mask & PREDICT_IMAGE_PCRS))
                return set_error(err, errlen, -EINVAL,
                                 "PCRs 4, 9 and 11 are predicted from the UKI, not taken from "
                                 "the platform log");
        r = pe_parse(buf, size, &uki, err, errlen);
        if (r < 0)
                return r;
        p.events = calloc(MAX_EVENTS, sizeof(*p.events));
        if (!p.events)
                return -ENOMEM;
        p.signed_image = uki.cert_size > 0;
        /* What is read or measured of a UKI section is its file data: a VirtualSize past it
         * (zeros the loader would add) has no use in a UKI, and would have this read and hash
         * up to 4 GiB for a 1 KiB file. Only the sections read here are held to it. */
        for (uint16_t i = 0; i < uki.n_sections; i++) {
                const struct pe_section *s = &uki.sections[i];
                bool read = streq(s->name, ".sdmagic") || streq(s->name, ".pcrsig");

                for (size_t k = 0; k < ELEMENTSOF(stub262_sections); k++)
                        read = read || streq(s->name, stub262_sections[k]);
                if (read && s->virtual_size > s->raw_size) {
                        r = set_error(err, errlen, -EBADMSG,
                                      "section %s: VirtualSize 0x%" PRIx32
                                      " exceeds its raw data (0x%" PRIx32 ")",
                                      s->name, s->virtual_size, s->raw_size);
                        goto fail;
                }
        }

        /* The stub generation decides what is measured: a version not modelled is refused by
         * name rather than predicted as its neighbour would measure. */
        r = stub_version(&uki, &b, &stub_major);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < ELEMENTSOF(stub_models); i++)
                if (stub_models[i].major == stub_major)
                        m = &stub_models[i];
        if (!m) {
                r = set_error(err, errlen, -EBADMSG,
                              "systemd-stub %s is not modelled (supported: 252, 257, 262): the "
                              "sections it measures, their order and the initrd it hands the "
                              "kernel differ between versions",
                              p.stub_version);
                goto fail;
        }
        r = stub_sections(&uki, m, m->sections, m->n_sections, &b, sec);
        if (r < 0)
                goto fail;
        if (m->section_initrds) {
                static const char *const pcrsig_name[] = {".pcrsig"};

                r = stub_sections(&uki, m, pcrsig_name, 1, &b, &pcrsig_sec);
                if (r < 0)
                        goto fail;
                if (model_section(m, sec, ".dtbauto")) {
                        r = set_error(err, errlen, -EBADMSG,
                                      ".dtbauto: systemd-stub %u picks the device tree that "
                                      "matches the machine's hardware IDs, which the UKI does "
                                      "not decide",
                                      m->major);
                        goto fail;
                }
                if (model_section(m, sec, ".efifw")) {
                        r = set_error(err, errlen, -EBADMSG,
                                      ".efifw: systemd-stub %u measures it and it is firmware "
                                      "picked for the machine booting it, which is not "
                                      "modelled",
                                      m->major);
                        goto fail;
                }
        } else if (pe_find_section(&uki, ".pcrsig") || pe_find_section(&uki, ".pcrpkey")) {
                /* 252 hands both to the initrd as files too: that is not modelled for it. */
                r = set_error(err, errlen, -EBADMSG,
                              "%s with systemd-stub 252: the /.extra files it adds to the "
                              "initrd are not modelled for 252",
                              pe_find_section(&uki, ".pcrsig") ? ".pcrsig" : ".pcrpkey");
                goto fail;
        }
        linux_sec = model_section(m, sec, ".linux");
        cmdline_sec = model_section(m, sec, ".cmdline");
        initrd_sec = model_section(m, sec, ".initrd");
        if (!linux_sec) {
                r = set_error(err, errlen, -EBADMSG, "no .linux section: not a UKI");
                goto fail;
        }
        if (!cmdline_sec) {
                r = set_error(err, errlen, -EBADMSG,
                              "no .cmdline section: the command line would come from the boot "
                              "entry, which the UKI does not decide");
                goto fail;
        }

        /* The embedded kernel: the stub LoadImage()s it when its EFI stub is 1.0 or later
         * (Linux 5.8+, MajorImageVersion), else it would jump in by the handover protocol and
         * neither PCR 4 nor PCR 9 would see what is modelled here. */
        r = pe_section_copy(&uki, linux_sec, &kbuf, &ksize);
        if (r < 0)
                goto fail;
        r = pe_parse(kbuf, ksize, &kernel, err, errlen);
        if (r < 0) {
                char inner[256];
                snprintf(inner, sizeof(inner), "%s", err ? err : "");
                r = set_error(err, errlen, -EBADMSG, ".linux: %s", inner);
                goto fail;
        }
        if (kernel.major_image_version < 1) {
                r = set_error(err, errlen, -EBADMSG,
                              ".linux: EFI stub version %u.x: older than 1.0, booted by the "
                              "handover protocol, which is not modelled",
                              kernel.major_image_version);
                goto fail;
        }
        r = kernel_version(kbuf, ksize, &b, &kmajor, &kminor);
        if (r < 0)
                goto fail;
        if (kmajor < 6 || (kmajor == 6 && kminor < 1)) {
                r = set_error(err, errlen, -EBADMSG,
                              ".linux: Linux %s: its EFI stub measures less than 6.1's into PCR "
                              "9, which is not modelled",
                              p.kernel_version);
                goto fail;
        }

        /* Firmware: PCRs 0-3, 5-7 from the platform's log, and under Secure Boot the authority
         * that verifies this UKI. */
        if (o && o->platform) {
                r = platform_events(&b, o, &db, &db_size);
                if (r < 0)
                        goto fail;
        }

        /* PCR 4, by the boot manager: the action, the separator of the pre-boot phase, the UKI. */
        r = sha256(ACTION_CALLING, strlen(ACTION_CALLING), d);
        if (r >= 0)
                r = add(&b, 4, EV_EFI_ACTION, d, "\"%s\"", ACTION_CALLING);
        if (r >= 0)
                r = sha256((const uint8_t[4]){0, 0, 0, 0}, 4, d);
        if (r >= 0)
                r = add(&b, 4, EV_SEPARATOR, d, "separator (0x00000000)");
        if (r >= 0 && p.secure_boot)
                r = add_authority(&b, db, db_size, &uki, "UKI", true, seen, &have_seen);
        if (r >= 0)
                r = pe_authenticode_sha256(&uki, d, err, errlen);
        if (r >= 0)
                r = add(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, d, "UKI (Authenticode)");
        if (r < 0)
                goto fail;

        /* PCR 11, by systemd-stub: each section's name (with its NUL) and then its content. */
        for (size_t i = 0; i < m->n_sections; i++) {
                const char *name = m->sections[i];

                if (!sec[i])
                        continue;
                r = sha256(name, strlen(name) + 1, d);
                if (r >= 0)
                        r = add(&b, 11, EV_IPL, d, "systemd-stub: section name %s", name);
                if (r >= 0)
                        r = pe_section_sha256(&uki, sec[i], d);
                if (r >= 0)
                        r = add(&b, 11, EV_IPL, d, "systemd-stub: %s content (%" PRIu32 " bytes)",
                                name, sec[i]->virtual_size);
                if (r < 0)
                        goto fail;
        }

        /* PCR 4 again: the embedded kernel, loaded from memory through LoadImage(). Under
         * Secure Boot the firmware checks it against db first, and when that fails (a kernel no
         * db entry signed, as measured with OVMF here) it stops its checks before the
         * measurement: systemd-stub's override lets the image through unmeasured. A kernel db
         * authorizes is measured, after its authority. 262 never hands it to the firmware:
         * neither an authority nor a measurement. */
        bool kernel_measured = !m->loads_kernel_itself;
        if (p.secure_boot && kernel_measured) {
                r = add_authority(&b, db, db_size, &kernel, "embedded kernel", false, seen,
                                  &have_seen);
                if (r < 0)
                        goto fail;
                kernel_measured = r > 0;
        }
        if (kernel_measured) {
                r = pe_authenticode_sha256(&kernel, d, err, errlen);
                if (r >= 0)
                        r = add(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, d,
                                ".linux: Linux %s (Authenticode)", p.kernel_version);
                if (r < 0)
                        goto fail;
        }

        /* PCR 9, by the Linux EFI stub: the command line, then the initrd it loads through
         * systemd-stub's LoadFile2 (.initrd as it is, when the ESP adds no credentials or
         * system extensions). */
        r = cmdline_event(&b, m, &uki, cmdline_sec);
        if (r < 0)
                goto fail;
        if (m->section_initrds) {
                const struct pe_section *extra[4] = {
                    pcrsig_sec,
                    model_section(m, sec, ".pcrpkey"),
                    model_section(m, sec, ".osrel"),
                    model_section(m, sec, ".profile"),
                };
                size_t n_parts = 0, isize = 0;

                r = initrd257_sha256(&uki, model_section(m, sec, ".ucode"), initrd_sec, extra, d,
                                     &n_parts, &isize);
                if (r >= 0 && n_parts > 0)
                        r = add(&b, 9, EV_EVENT_TAG, d,
                                "Linux EFI stub: initrd (%zu parts from systemd-stub, %zu bytes)",
                                n_parts, isize);
                if (r < 0)
                        goto fail;
        } else if (initrd_sec) {
                r = pe_section_sha256(&uki, initrd_sec, d);
                if (r >= 0)
                        r = add(&b, 9, EV_EVENT_TAG, d,
                                "Linux EFI stub: initrd (.initrd, %" PRIu32 " bytes)",
                                initrd_sec->virtual_size);
                if (r < 0)
                        goto fail;
        }

        /* Replays: the values of the PCRs predicted whole. */
        p.pcr_mask = PREDICT_IMAGE_PCRS | (o && o->platform ? o->platform_mask : 0);
        for (size_t i = 0; i < p.n_events; i++) {
                uint8_t cat[64];
                struct predict_event *e = &p.events[i];

                memcpy(cat, p.pcr_sha256[e->pcr], 32);
                memcpy(cat + 32, e->sha256, 32);
                r = sha256(cat, 64, p.pcr_sha256[e->pcr]);
                if (r < 0)
                        goto fail;
        }

        *ret = p;
        return 0;
fail:
        prediction_done(&p);
        return r;
}

void prediction_done(struct prediction *p)
{
        if (!p)
                return;
        free(p->events);
        p->events = NULL;
        p->n_events = 0;
}
