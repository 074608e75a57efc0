/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The HCL report's header, per kinvolk/azure-cvm-tooling az-cvm-vtpm/src/hcl/mod.rs and the
 * offsets docs/cvm.md checked against the fixtures. Little-endian throughout. */
#include <stdio.h>

#include "platform/hcl.h"
#include "util.h"

#define HCL_SIGNATURE        "HCLA"
#define HCL_REQUEST_TYPE     0x0C
#define HCL_IGVM_HEADER      0x4C0 /* data_size, version, report_type, hash_type, claims size */
#define HCL_IGVM_HEADER_SIZE 20
#define HCL_REQUEST_REPORT   2

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static _printf_(3, 4) int bad(char *errbuf, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

int hcl_parse(const uint8_t *blob, size_t size, struct hcl_report *ret, char *errbuf, size_t errlen)
{
        uint32_t request_type, data_size, report_type, claims_size;

        if (size < HCL_CLAIMS_OFFSET)
                return bad(errbuf, errlen,
                           "HCL report too short: %zu bytes, the header alone is %d", size,
                           HCL_CLAIMS_OFFSET);
        if (memcmp(blob, HCL_SIGNATURE, 4) != 0)
                return bad(errbuf, errlen, "not an HCL report: no \"HCLA\" signature");
        request_type = le32(blob + HCL_REQUEST_TYPE);
        if (request_type != HCL_REQUEST_REPORT)
                return bad(errbuf, errlen, "HCL request type %u, not %d (a report)", request_type,
                           HCL_REQUEST_REPORT);
        report_type = le32(blob + HCL_IGVM_HEADER + 8);
        if (report_type != HCL_REPORT_SNP && report_type != HCL_REPORT_TDX)
                return bad(errbuf, errlen,
                           "HCL hardware report type %u is neither SNP (2) nor TDX (4)",
                           report_type);
        claims_size = le32(blob + HCL_IGVM_HEADER + 16);
        if (claims_size == 0 || claims_size > size - HCL_CLAIMS_OFFSET)
                return bad(errbuf, errlen,
                           "HCL runtime claims of %u bytes do not fit the %zu-byte blob",
                           claims_size, size);
        data_size = le32(blob + HCL_IGVM_HEADER);
        if (data_size != claims_size + HCL_IGVM_HEADER_SIZE)
                return bad(errbuf, errlen, "HCL data size %u is not the claims' %u + %d", data_size,
                           claims_size, HCL_IGVM_HEADER_SIZE);
        *ret = (struct hcl_report){
            .version = le32(blob + 4),
            .report_type = report_type,
            .claims = blob + HCL_CLAIMS_OFFSET,
            .claims_size = claims_size,
        };
        return 0;
}

bool hcl_has_user_data(const struct hcl_report *h, const uint8_t binding[HCL_BINDING_SIZE])
{
        static const char key[] = "\"user-data\"", digits[] = "0123456789ABCDEF";
        char want[2 * HCL_BINDING_SIZE];
        const uint8_t *p = h->claims, *end = h->claims + h->claims_size;

        for (size_t i = 0; i < HCL_BINDING_SIZE; i++) {
                want[2 * i] = digits[binding[i] >> 4];
                want[2 * i + 1] = digits[binding[i] & 15];
        }
        /* A scan, not a JSON parse: this only decides whether to wait for the paravisor; the
         * verifier parses the claims and compares the value itself. */
        for (; (size_t) (end - p) >= sizeof(key) - 1; p++) {
                const uint8_t *v;

                if (memcmp(p, key, sizeof(key) - 1) != 0)
                        continue;
                v = p + sizeof(key) - 1;
                while (v < end && (*v == ' ' || *v == ':' || *v == '\t'))
                        v++;
                if ((size_t) (end - v) < sizeof(want) + 2 || *v != '"')
                        return false;
                return memcmp(v + 1, want, sizeof(want)) == 0 && v[1 + sizeof(want)] == '"';
        }
        return false;
}
