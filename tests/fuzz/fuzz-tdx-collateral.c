/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: Intel's PCS collateral as the verifier reads it (verifier/platform/
 * tdx-collateral.c, tdx-tcb.c). The input is one PCS response body, a TCB info
 * ({"tcbInfo": …, "signature": …}) or a QE identity ({"enclaveIdentity": …}): the raw member
 * extraction that the signature covers, then — past the signature, which no mutation can
 * forge — Intel's TCB evaluation of trustee's real quote and PCK against the fuzzed part and
 * the real other part (tests/fixtures/cvm/tdx/pcs), at the time the real pair is accepted. */

#include "platform/tdx-collateral.h"
#include "platform/tdx-quote.h"
#include "platform/amd-chain.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CVM_FIXTURES
#error "CVM_FIXTURES: the directory of tests/fixtures/cvm"
#endif

#define PINNED_TIME 1688169600 /* 2023-07-01: EXPECTED's accepted tdx-tcb row */

static uint8_t quote_buf[8192];
static struct tdx_quote quote;
static X509 *pck;
static json_object *real_tcb_info, *real_qe_identity;

static size_t load(const char *name, char *buf, size_t size)
{
        char path[512];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", CVM_FIXTURES, name);
        f = fopen(path, "re");
        if (!f)
                abort();
        n = fread(buf, 1, size - 1, f);
        fclose(f);
        buf[n] = '\0';
        return n;
}

static json_object *member(const char *name, const char *key)
{
        static char text[16384];
        size_t n = load(name, text, sizeof(text));
        const char *raw;
        size_t raw_len;

        json_tokener *tok = json_tokener_new();
        json_object *o;

        if (!tok || json_raw_member(text, n, key, &raw, &raw_len) < 0)
                abort();
        o = json_tokener_parse_ex(tok, raw, (int) raw_len);
        json_tokener_free(tok);
        return o;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        size_t n = load("tdx/trustee-quote-4.dat", (char *) quote_buf, sizeof(quote_buf));
        STACK_OF(X509) * chain;
        struct verdict v;

        (void) argc;
        (void) argv;
        if (tdx_quote_parse(quote_buf, n, &quote, &v) != REASON_OK)
                abort();
        chain = amd_certs_load(quote.pck_chain, quote.pck_chain_size);
        if (!chain)
                abort();
        pck = sk_X509_shift(chain);
        sk_X509_pop_free(chain, X509_free);
        real_tcb_info = member("tdx/pcs/tcbinfo-50806f000000.json", "tcbInfo");
        real_qe_identity = member("tdx/pcs/qe-identity.json", "enclaveIdentity");
        if (!pck || !real_tcb_info || !real_qe_identity)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *) data, *raw;
        bool is_qe = false;
        struct tdx_tcb_result res;
        struct verdict v;
        json_object *o;
        size_t raw_len;
        enum reason k;
        int r;

        r = json_raw_member(s, size, "tcbInfo", &raw, &raw_len);
        if (r == -ENOENT) {
                r = json_raw_member(s, size, "enclaveIdentity", &raw, &raw_len);
                is_qe = true;
        }
        if (r < 0)
                return 0;
        /* What the signature would cover lies inside the input. */
        if (raw < s || raw_len == 0 || raw + raw_len > s + size)
                abort();
        {
                json_tokener *tok = json_tokener_new();

                o = tok ? json_tokener_parse_ex(tok, raw, (int) raw_len) : NULL;
                if (tok)
                        json_tokener_free(tok);
        }
        if (!o)
                return 0;
        k = tdx_tcb_evaluate(&quote, pck, is_qe ? real_tcb_info : o, is_qe ? o : real_qe_identity,
                             PINNED_TIME, &res, &v);
        if (k != REASON_OK && v.reason != k)
                abort();
        if (k == REASON_OK && (!res.tcb_status[0] || !res.qe_status[0]))
                abort();
        json_object_put(o);
        ERR_clear_error();
        return 0;
}
