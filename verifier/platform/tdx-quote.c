/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parsing of TDX quotes v4/v5 and TDREPORTs (tdx-quote.h). */
#include "platform/tdx-quote.h"

#include <string.h>

static uint16_t le16(const uint8_t *p)
{
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

/* The TD report body (both types share the first 584 bytes). */
static void read_body(const uint8_t *body, struct tdx_quote *q)
{
        memcpy(q->td.tee_tcb_svn, body + 0, 16);
        memcpy(q->td.mrseam, body + 16, 48);
        memcpy(q->mrsignerseam, body + 64, 48);
        memcpy(q->seam_attributes, body + 112, 8);
        memcpy(q->td.td_attributes, body + 120, 8);
        memcpy(q->td.xfam, body + 128, 8);
        memcpy(q->td.mrtd, body + 136, 48);
        memcpy(q->td.mrconfigid, body + 184, 48);
        memcpy(q->td.mrowner, body + 232, 48);
        memcpy(q->td.mrownerconfig, body + 280, 48);
        for (int i = 0; i < 4; i++)
                memcpy(q->td.rtmr[i], body + 328 + 48 * i, 48);
        memcpy(q->td.report_data, body + 520, 64);
}

enum reason tdx_quote_parse(const uint8_t *b, size_t size, struct tdx_quote *ret, struct verdict *v)
{
        struct tdx_quote q = {};
        size_t off = TDX_HEADER_SIZE, body_size, o, sig_len, cert_size, p, pck_size;
        const uint8_t *sd, *cd;
        uint32_t tee;
        uint16_t key_type, cert_type, pck_type;

        if (size < TDX_HEADER_SIZE)
                return verdict_set(v, REASON_TDX_QUOTE_SIZE, "the TDX quote is %zu bytes", size);
        q.version = le16(b);
        key_type = le16(b + 2);
        tee = le32(b + 4);
        if (q.version != 4 && q.version != 5)
                return verdict_set(v, REASON_TDX_QUOTE_VERSION,
                                   "TDX quote version %u; nodegate reads versions 4 and 5",
                                   q.version);
        if (tee != TDX_TEE_TYPE)
                return verdict_set(v, REASON_TDX_QUOTE_TEE_TYPE,
                                   "the quote's TEE type is 0x%x, not 0x81 (TDX)", tee);
        if (key_type != TDX_ATTESTATION_P256)
                return verdict_set(v, REASON_TDX_QUOTE_KEY_TYPE,
                                   "the quote's attestation key type is %u, not 2 (ECDSA P-256)",
                                   key_type);
        memcpy(q.qe_vendor, b + 12, 16);
        q.body_type = 2;
        if (q.version == 5) {
                uint32_t declared;

                if (size < TDX_HEADER_SIZE + 6)
                        return verdict_set(v, REASON_TDX_QUOTE_SIZE,
                                           "the TDX quote ends in its body descriptor");
                q.body_type = le16(b + 48);
                declared = le32(b + 50);
                off = TDX_HEADER_SIZE + 6;
                if (!(q.body_type == 2 && declared == TDX_BODY_V4_SIZE) &&
                    !(q.body_type == 3 && declared == TDX_BODY_V5_SIZE))
                        return verdict_set(v, REASON_TDX_QUOTE_BODY,
                                           "TDX quote v5 body type %u of %u bytes (2/584 or "
                                           "3/648)",
                                           q.body_type, declared);
        }
        body_size = q.body_type == 2 ? TDX_BODY_V4_SIZE : TDX_BODY_V5_SIZE;
        if (size - off < body_size + 4)
                return verdict_set(v, REASON_TDX_QUOTE_SIZE, "the TDX quote ends in its body");
        read_body(b + off, &q);
        q.signed_part = b;
        q.signed_size = off + body_size;

        /* Signature data: signature, attestation key, certification data type 6. */
        o = off + body_size;
        sig_len = le32(b + o);
        sd = b + o + 4;
        if (sig_len > size - o - 4 || sig_len < 128 + 6)
                return verdict_set(v, REASON_TDX_QUOTE_SIZE,
                                   "the quote's signature data (%zu bytes) does not fit", sig_len);
        q.trailing = size - o - 4 - sig_len;
        q.signature = sd;
        q.attest_key = sd + 64;
        cert_type = le16(sd + 128);
        cert_size = le32(sd + 130);
        cd = sd + 134;
        if (cert_type != 6 || cert_size != sig_len - 134)
                return verdict_set(v, REASON_TDX_QUOTE_CERT_DATA,
                                   "the quote's certification data is of type %u and %zu bytes "
                                   "(type 6, filling the signature data)",
                                   cert_type, cert_size);
        /* QE report, its signature, QE auth data (u16 length), nested certification data. */
        if (cert_size < TDX_QE_REPORT_SIZE + 64 + 2)
                return verdict_set(v, REASON_TDX_QUOTE_CERT_DATA,
                                   "the quote's certification data is too short for a QE report");
        q.qe_report = cd;
        q.qe_signature = cd + TDX_QE_REPORT_SIZE;
        q.qe_auth_size = le16(cd + 448);
        q.qe_auth = cd + 450;
        p = 450 + q.qe_auth_size;
        if (p + 6 > cert_size)
                return verdict_set(v, REASON_TDX_QUOTE_CERT_DATA,
                                   "the quote's QE authentication data runs past its "
                                   "certification data");
        pck_type = le16(cd + p);
        pck_size = le32(cd + p + 2);
        if (pck_type != 5 || pck_size > cert_size - p - 6)
                return verdict_set(v, REASON_TDX_QUOTE_PCK_MISSING,
                                   "the quote carries no PCK chain (certification data type %u, "
                                   "not 5)",
                                   pck_type);
        /* Nothing unaccounted for inside the signed-for structure. */
        if (pck_size != cert_size - p - 6)
                return verdict_set(v, REASON_TDX_QUOTE_CERT_DATA,
                                   "%zu bytes after the PCK chain in the certification data",
                                   cert_size - p - 6 - pck_size);
        q.pck_chain = cd + p + 6;
        q.pck_chain_size = pck_size;
        *ret = q;
        return REASON_OK;
}

enum reason tdreport_parse(const uint8_t *b, size_t size, struct tdx_td_info *ret,
                           struct verdict *v)
{
        const uint8_t *ti = b + 512;

        if (size != TDREPORT_SIZE || b[0] != 0x81)
                return verdict_set(v, REASON_TDREPORT_TYPE,
                                   "not a TDREPORT (%zu bytes, type 0x%02x; 1024 and 0x81)", size,
                                   size ? b[0] : 0);
        *ret = (struct tdx_td_info){};
        memcpy(ret->report_data, b + 128, 64);
        memcpy(ret->tee_tcb_svn, b + 256 + 8, 16);
        memcpy(ret->mrseam, b + 256 + 24, 48);
        memcpy(ret->td_attributes, ti, 8);
        memcpy(ret->xfam, ti + 8, 8);
        memcpy(ret->mrtd, ti + 16, 48);
        memcpy(ret->mrconfigid, ti + 64, 48);
        memcpy(ret->mrowner, ti + 112, 48);
        memcpy(ret->mrownerconfig, ti + 160, 48);
        for (int i = 0; i < 4; i++)
                memcpy(ret->rtmr[i], ti + 208 + 48 * i, 48);
        return REASON_OK;
}
