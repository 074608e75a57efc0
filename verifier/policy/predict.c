/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a good boot of a UKI measures, derived from the file: the firmware's PE measurements
 * (PCR 4), systemd-stub 252's section events (PCR 11), the Linux EFI stub's (PCR 9), and under
 * Secure Boot the db authority that verifies it (PCR 7), each modelled on its own component. */

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

/* The Linux EFI stub measures the command line it was given as LoadOptions: systemd-stub 252
 * turns .cmdline into UTF-16 (up to its first NUL) with a terminating NUL. */
static int cmdline_event(struct builder *b, const struct pe_image *pe, const struct pe_section *s)
{
        _cleanup_free_ uint8_t *buf = NULL, *u16 = NULL;
        size_t size, n;
        uint8_t d[32];
        int r;

        r = pe_section_copy(pe, s, &buf, &size);
        if (r < 0)
                return r;
        n = strnlen((const char *) buf, size);
        if (n == 0)
                return set_error(b->err, b->errlen, -EBADMSG,
                                 "empty .cmdline: the command line would come from the boot "
                                 "entry, which the UKI does not decide");
        for (size_t i = 0; i < n; i++)
                if (buf[i] >= 0x80)
                        return set_error(
                            b->err, b->errlen, -EBADMSG,
                            "non-ASCII byte 0x%02x at offset %zu of .cmdline: systemd-stub's "
                            "UTF-8 conversion is not modelled",
                            buf[i], i);
        u16 = calloc(n + 1, 2);
        if (!u16)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                u16[2 * i] = buf[i];
        r = sha256(u16, 2 * (n + 1), d);
        if (r < 0)
                return r;
        return add(b, 9, EV_EVENT_TAG, d, "Linux EFI stub: LoadOptions (.cmdline as UTF-16)");
}

int predict_uki(const uint8_t *buf, size_t size, const struct predict_options *o,
                struct prediction *ret, char *err, size_t errlen)
{
        struct prediction p = {};
        struct builder b = {&p, err, errlen};
        struct pe_image uki, kernel;
        const struct pe_section *linux_sec, *cmdline_sec, *initrd_sec;
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
                bool read = streq(s->name, ".sdmagic");

                for (size_t k = 0; k < ELEMENTSOF(stub252_sections); k++)
                        read = read || streq(s->name, stub252_sections[k]);
                if (read && s->virtual_size > s->raw_size) {
                        r = set_error(err, errlen, -EBADMSG,
                                      "section %s: VirtualSize 0x%" PRIx32
                                      " exceeds its raw data (0x%" PRIx32 ")",
                                      s->name, s->virtual_size, s->raw_size);
                        goto fail;
                }
        }

        r = stub_version(&uki, &b, &stub_major);
        if (r < 0)
                goto fail;
        if (stub_major != 252) {
                r = set_error(err, errlen, -EBADMSG,
                              "systemd-stub %s: only 252 is modelled (its section list and "
                              "order differ in other versions)",
                              p.stub_version);
                goto fail;
        }
        for (size_t i = 0; i < ELEMENTSOF(stub252_sections); i++) {
                int count = 0;
                for (uint16_t k = 0; k < uki.n_sections; k++)
                        count += streq(uki.sections[k].name, stub252_sections[i]);
                if (count > 1) {
                        r = set_error(err, errlen, -EBADMSG, "two %s sections",
                                      stub252_sections[i]);
                        goto fail;
                }
        }
        linux_sec = pe_find_section(&uki, ".linux");
        cmdline_sec = pe_find_section(&uki, ".cmdline");
        initrd_sec = pe_find_section(&uki, ".initrd");
        if (!linux_sec || linux_sec->virtual_size == 0) {
                r = set_error(err, errlen, -EBADMSG, "no .linux section: not a UKI");
                goto fail;
        }
        if (!cmdline_sec || cmdline_sec->virtual_size == 0) {
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
        for (size_t i = 0; i < ELEMENTSOF(stub252_sections); i++) {
                const struct pe_section *s = pe_find_section(&uki, stub252_sections[i]);

                if (!s || s->virtual_size == 0)
                        continue;
                r = sha256(stub252_sections[i], strlen(stub252_sections[i]) + 1, d);
                if (r >= 0)
                        r = add(&b, 11, EV_IPL, d, "systemd-stub: section name %s",
                                stub252_sections[i]);
                if (r >= 0)
                        r = pe_section_sha256(&uki, s, d);
                if (r >= 0)
                        r = add(&b, 11, EV_IPL, d, "systemd-stub: %s content (%" PRIu32 " bytes)",
                                stub252_sections[i], s->virtual_size);
                if (r < 0)
                        goto fail;
        }

        /* PCR 4 again: the embedded kernel, loaded from memory through LoadImage(). Under
         * Secure Boot the firmware checks it against db first, and when that fails (a kernel no
         * db entry signed, as measured with OVMF here) it stops its checks before the
         * measurement: systemd-stub's override lets the image through unmeasured. A kernel db
         * authorizes is measured, after its authority. */
        bool kernel_measured = true;
        if (p.secure_boot) {
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
        r = cmdline_event(&b, &uki, cmdline_sec);
        if (r < 0)
                goto fail;
        if (initrd_sec && initrd_sec->virtual_size > 0) {
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
