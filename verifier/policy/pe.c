/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PE/COFF parsing for measurement prediction: every offset checked against the file before it is
 * read, Authenticode SHA-256 as the firmware hashes the image, section contents as loaded. */

#include "policy/pe.h"
#include "common/openssl-util.h"
#include "common/util-verifier.h"

#include <inttypes.h>

#define DOS_LFANEW_OFFSET  0x3c
#define COFF_HEADER_SIZE   20
#define SECTION_HEADER     40
#define OPT_MAGIC_PE32     0x10b
#define OPT_MAGIC_PE32PLUS 0x20b
#define SECURITY_DIR_INDEX 4
#define MAX_DATA_DIRS      16
#define WIN_CERT_REVISION  0x0200
#define WIN_CERT_PKCS7     0x0002

static uint16_t le16(const uint8_t *p)
{
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

int pe_parse(const uint8_t *buf, size_t size, struct pe_image *ret, char *err, size_t errlen)
{
        struct pe_image pe = {.data = buf, .size = size};
        uint64_t lfanew, opt, opt_size, dirs, n_dirs, table, max_raw_end = 0;
        uint16_t magic;

        if (!buf || size < 0x40 || buf[0] != 'M' || buf[1] != 'Z')
                return set_error(err, errlen, -EBADMSG, "not a PE image: no MZ header");
        lfanew = le32(buf + DOS_LFANEW_OFFSET);
        if (lfanew + 4 + COFF_HEADER_SIZE + 2 > size)
                return set_error(err, errlen, -EBADMSG,
                                 "PE header offset 0x%" PRIx64 " is past the end of the file",
                                 lfanew);
        if (memcmp(buf + lfanew, "PE\0\0", 4) != 0)
                return set_error(err, errlen, -EBADMSG,
                                 "not a PE image: no PE signature at 0x%" PRIx64, lfanew);
        pe.machine = le16(buf + lfanew + 4);
        pe.n_sections = le16(buf + lfanew + 6);
        opt_size = le16(buf + lfanew + 20);
        opt = lfanew + 4 + COFF_HEADER_SIZE;
        if (pe.n_sections > PE_MAX_SECTIONS)
                return set_error(err, errlen, -EBADMSG, "%u sections, more than %d", pe.n_sections,
                                 PE_MAX_SECTIONS);
        if (opt + opt_size > size)
                return set_error(err, errlen, -EBADMSG,
                                 "the optional header (%" PRIu64 " bytes at 0x%" PRIx64
                                 ") is past the end of the file",
                                 opt_size, opt);

        magic = le16(buf + opt);
        if (magic == OPT_MAGIC_PE32)
                dirs = 96;
        else if (magic == OPT_MAGIC_PE32PLUS)
                dirs = 112, pe.pe32plus = true;
        else
                return set_error(err, errlen, -EBADMSG, "unknown optional header magic 0x%x",
                                 magic);
        if (opt_size < dirs)
                return set_error(err, errlen, -EBADMSG,
                                 "optional header of %" PRIu64 " bytes, shorter than its fields",
                                 opt_size);
        n_dirs = le32(buf + opt + dirs - 4);
        if (n_dirs > MAX_DATA_DIRS || dirs + 8 * n_dirs > opt_size)
                return set_error(err, errlen, -EBADMSG,
                                 "%" PRIu64 " data directories do not fit the optional header",
                                 n_dirs);
        pe.major_image_version = le16(buf + opt + 44);
        pe.size_of_headers = le32(buf + opt + 60);
        pe.checksum_offset = (uint32_t) (opt + 64);
        table = opt + opt_size;
        if (table + (uint64_t) SECTION_HEADER * pe.n_sections > pe.size_of_headers)
                return set_error(err, errlen, -EBADMSG,
                                 "the section table ends past SizeOfHeaders (0x%" PRIx32 ")",
                                 pe.size_of_headers);
        if (pe.size_of_headers > size)
                return set_error(err, errlen, -EBADMSG,
                                 "SizeOfHeaders (0x%" PRIx32 ") is past the end of the file",
                                 pe.size_of_headers);

        for (uint16_t i = 0; i < pe.n_sections; i++) {
                const uint8_t *h = buf + table + (uint64_t) SECTION_HEADER * i;
                struct pe_section *s = &pe.sections[i];
                uint64_t end;

                memcpy(s->name, h, 8);
                s->name[8] = '\0';
                s->virtual_size = le32(h + 8);
                s->virtual_address = le32(h + 12);
                s->raw_size = le32(h + 16);
                s->raw_offset = le32(h + 20);
                end = (uint64_t) s->raw_offset + s->raw_size;
                if (s->raw_size > 0 && end > size)
                        return set_error(err, errlen, -EBADMSG,
                                         "section %u (%s): raw data 0x%" PRIx32 "+0x%" PRIx32
                                         " is past the end of the file (0x%zx)",
                                         i, s->name, s->raw_offset, s->raw_size, size);
                if (s->raw_size > 0 && end > max_raw_end)
                        max_raw_end = end;
        }

        if (n_dirs > SECURITY_DIR_INDEX) {
                const uint8_t *d = buf + opt + dirs + 8 * SECURITY_DIR_INDEX;

                pe.cert_dir_offset = (uint32_t) (opt + dirs + 8 * SECURITY_DIR_INDEX);
                /* The security directory holds a file offset, not an RVA. */
                pe.cert_offset = le32(d);
                pe.cert_size = le32(d + 4);
                if (pe.cert_size == 0)
                        pe.cert_offset = 0;
                else if ((uint64_t) pe.cert_offset + pe.cert_size != size)
                        return set_error(err, errlen, -EBADMSG,
                                         "the certificate table (0x%" PRIx32 "+0x%" PRIx32
                                         ") does not end the file (0x%zx)",
                                         pe.cert_offset, pe.cert_size, size);
                else if (pe.cert_offset < max_raw_end || pe.cert_offset < pe.size_of_headers)
                        return set_error(err, errlen, -EBADMSG,
                                         "the certificate table at 0x%" PRIx32
                                         " overlaps the headers or a section",
                                         pe.cert_offset);
        }

        *ret = pe;
        return 0;
}

int pe_authenticode_sha256(const struct pe_image *pe, uint8_t ret[32], char *err, size_t errlen)
{
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        const struct pe_section *order[PE_MAX_SECTIONS];
        size_t n = 0;
        uint64_t hashed, end;
        unsigned len = 0;

        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                return -ENOMEM;

        /* Headers: up to CheckSum, then to the security directory, then to SizeOfHeaders. */
        EVP_DigestUpdate(ctx, pe->data, pe->checksum_offset);
        if (pe->cert_dir_offset) {
                EVP_DigestUpdate(ctx, pe->data + pe->checksum_offset + 4,
                                 pe->cert_dir_offset - (pe->checksum_offset + 4));
                EVP_DigestUpdate(ctx, pe->data + pe->cert_dir_offset + 8,
                                 pe->size_of_headers - (pe->cert_dir_offset + 8));
        } else {
                EVP_DigestUpdate(ctx, pe->data + pe->checksum_offset + 4,
                                 pe->size_of_headers - (pe->checksum_offset + 4));
        }
        hashed = pe->size_of_headers;

        /* Sections with data, by PointerToRawData; equal offsets keep table order (an insertion
         * sort, as EDK2 does it). */
        for (uint16_t i = 0; i < pe->n_sections; i++) {
                const struct pe_section *s = &pe->sections[i];
                size_t k = n;

                if (s->raw_size == 0)
                        continue;
                while (k > 0 && order[k - 1]->raw_offset > s->raw_offset) {
                        order[k] = order[k - 1];
                        k--;
                }
                order[k] = s;
                n++;
        }
        for (size_t i = 0; i < n; i++) {
                EVP_DigestUpdate(ctx, pe->data + order[i]->raw_offset, order[i]->raw_size);
                hashed += order[i]->raw_size;
        }

        /* What follows the sections, up to the certificate table. */
        end = pe->size - pe->cert_size;
        if (end > hashed)
                EVP_DigestUpdate(ctx, pe->data + hashed, end - hashed);

        if (EVP_DigestFinal_ex(ctx, ret, &len) != 1 || len != 32)
                return set_error(err, errlen, -ENOMEM, "SHA-256 failed");
        return 0;
}

const struct pe_section *pe_find_section(const struct pe_image *pe, const char *name)
{
        for (uint16_t i = 0; i < pe->n_sections; i++)
                if (streq(pe->sections[i].name, name))
                        return &pe->sections[i];
        return NULL;
}

int pe_section_sha256(const struct pe_image *pe, const struct pe_section *s, uint8_t ret[32])
{
        static const uint8_t zeros[4096];
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint32_t have = s->raw_size < s->virtual_size ? s->raw_size : s->virtual_size;
        unsigned len = 0;

        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                return -ENOMEM;
        EVP_DigestUpdate(ctx, pe->data + s->raw_offset, have);
        for (uint32_t left = s->virtual_size - have; left > 0;) {
                uint32_t k = left < sizeof(zeros) ? left : (uint32_t) sizeof(zeros);

                EVP_DigestUpdate(ctx, zeros, k);
                left -= k;
        }
        return EVP_DigestFinal_ex(ctx, ret, &len) == 1 && len == 32 ? 0 : -ENOMEM;
}

int pe_section_copy(const struct pe_image *pe, const struct pe_section *s, uint8_t **ret,
                    size_t *ret_size)
{
        uint32_t have = s->raw_size < s->virtual_size ? s->raw_size : s->virtual_size;
        uint8_t *p = calloc(1, (size_t) s->virtual_size + 1);

        if (!p)
                return -ENOMEM;
        memcpy(p, pe->data + s->raw_offset, have);
        *ret = p;
        *ret_size = s->virtual_size;
        return 0;
}

int pe_signature(const struct pe_image *pe, const uint8_t **ret, size_t *ret_size, char *err,
                 size_t errlen)
{
        uint64_t off = pe->cert_offset, end = (uint64_t) pe->cert_offset + pe->cert_size;

        if (pe->cert_size == 0)
                return -ENOENT;
        while (off + 8 <= end) {
                uint32_t len = le32(pe->data + off);
                uint16_t revision = le16(pe->data + off + 4), type = le16(pe->data + off + 6);

                if (len < 8 || off + len > end)
                        return set_error(err, errlen, -EBADMSG,
                                         "WIN_CERTIFICATE at 0x%" PRIx64 " of %" PRIu32
                                         " bytes does not fit the certificate table",
                                         off, len);
                if (revision == WIN_CERT_REVISION && type == WIN_CERT_PKCS7) {
                        *ret = pe->data + off + 8;
                        *ret_size = len - 8;
                        return 0;
                }
                off += (len + 7u) & ~(uint64_t) 7; /* entries are 8-byte aligned */
        }
        return -ENOENT;
}
