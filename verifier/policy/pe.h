/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PE/COFF images as UEFI firmware reads them: headers and section table validated against the
 * file's bounds, the Authenticode SHA-256 the firmware measures, section contents as loaded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PE_MAX_SECTIONS 96 /* the PE format allows 65535; no UEFI image has more than a few */

struct pe_section {
        char name[9]; /* NUL-terminated; "/123" long names are kept as they are */
        uint32_t virtual_size, virtual_address;
        uint32_t raw_size, raw_offset;
};

struct pe_image {
        const uint8_t *data; /* the caller's buffer, which must outlive the image */
        size_t size;
        bool pe32plus;
        uint16_t machine;
        uint16_t major_image_version;
        uint32_t size_of_headers;
        uint32_t checksum_offset;        /* file offset of OptionalHeader.CheckSum */
        uint32_t cert_dir_offset;        /* file offset of the security data directory; 0: none */
        uint32_t cert_offset, cert_size; /* the attribute certificate table; 0, 0: unsigned */
        struct pe_section sections[PE_MAX_SECTIONS];
        uint16_t n_sections;
};

/* Parses buf as a PE/COFF image. Everything the other functions read is checked here: headers
 * inside the file and inside SizeOfHeaders, every section's raw data inside the file, the
 * certificate table inside the file and after every section's data.
 * @return 0, or -EBADMSG with the reason (and the offending offset) in err */
int pe_parse(const uint8_t *buf, size_t size, struct pe_image *ret, char *err, size_t errlen);

/* The Authenticode SHA-256 of the image (Microsoft's "Windows Authenticode Portable Executable
 * Signature Format", as EDK2's measured boot computes it for EV_EFI_BOOT_SERVICES_APPLICATION):
 * the headers without CheckSum and the security directory, the sections in file order, and the
 * data after them up to the certificate table. @return 0, -EBADMSG or -ENOMEM */
int pe_authenticode_sha256(const struct pe_image *pe, uint8_t ret[32], char *err, size_t errlen);

/* The first section of that name, or NULL. */
const struct pe_section *pe_find_section(const struct pe_image *pe, const char *name);

/* SHA-256 of a section's content as a loader maps it: VirtualSize bytes, the raw data and then
 * zeros where VirtualSize exceeds it. @return 0 or -ENOMEM */
int pe_section_sha256(const struct pe_image *pe, const struct pe_section *s, uint8_t ret[32]);

/* The section's content as a loader maps it, VirtualSize bytes, in a malloc'ed buffer.
 * @return 0 or -ENOMEM */
int pe_section_copy(const struct pe_image *pe, const struct pe_section *s, uint8_t **ret,
                    size_t *ret_size);

/* The first WIN_CERTIFICATE of type PKCS_SIGNED_DATA in the certificate table: the DER PKCS#7
 * blob, pointing into the image. @return 0, -ENOENT (unsigned) or -EBADMSG */
int pe_signature(const struct pe_image *pe, const uint8_t **ret, size_t *ret_size, char *err,
                 size_t errlen);
