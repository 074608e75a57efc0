/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: round 1 end to end, appraise_challenge() as the server calls it, on a verifier
 * with a CA and an allowlist. The input is either the body itself, or the keys and the EK
 * certificate the harness wraps into a well-formed body, so mutations reach the TPM2B_PUBLIC
 * parsers, the key checks, the EK certificate chain, the challenge and MakeCredential:
 *
 *   byte 0   flags: 0x01 the rest is the body as is; 0x02 send the certificate (the bytes
 *            after the keys); 0x04 the EK is ek-p256.pub (allowlisted), 0x08 ek-rsa.pub (by
 *            its certificate); 0x10 the AK is ak.pub
 *   then     ek_public and ak_public as sections (16-bit big-endian length, bytes; ignored
 *            when the flags fix them); the rest is the certificate (DER) */

#include "fuzz-verifier.h"

#include <json-c/json.h>

static uint8_t ek_p256[1024], ek_rsa[1024], ak[1024];
static size_t ek_p256_size, ek_rsa_size, ak_size;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void) argc;
        (void) argv;
        fuzz_verifier_setup();
        ek_p256_size = fuzz_read_data("ek-p256.pub", ek_p256, sizeof(ek_p256));
        ek_rsa_size = fuzz_read_data("ek-rsa.pub", ek_rsa, sizeof(ek_rsa));
        ak_size = fuzz_read_data("ak.pub", ak, sizeof(ak));
        return 0;
}

/* The answer is PROTOCOL.md's: one object, all six fields. */
static void check_answer(const char *answer)
{
        json_object *o = json_tokener_parse(answer), *m;

        if (!o || json_object_object_length(o) != 6 ||
            !json_object_object_get_ex(o, "challenge", &m) ||
            json_object_get_string_len(m) != 132 /* base64 of 98 bytes */)
                abort();
        json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_reader in = {data, size};
        const uint8_t *ek, *akp, *cert, *flags_p;
        size_t ek_size, ak_size_in, cert_size, n, len = 0;
        struct appraisal_facts facts;
        char *body = NULL, *answer = NULL;
        struct verdict v;
        enum reason r;
        uint8_t flags;

        flags_p = fuzz_take(&in, 1, &n);
        flags = n ? flags_p[0] : 0;
        if (flags & 0x01) {
                body = malloc(in.n + 1);
                memcpy(body, in.p, in.n);
                len = in.n;
        } else {
                ek = fuzz_section(&in, &ek_size);
                akp = fuzz_section(&in, &ak_size_in);
                cert = fuzz_take(&in, in.n, &cert_size);
                if (flags & 0x04)
                        ek = ek_p256, ek_size = ek_p256_size;
                else if (flags & 0x08)
                        ek = ek_rsa, ek_size = ek_rsa_size;
                if (flags & 0x10)
                        akp = ak, ak_size_in = ak_size;
                body = strdup("{\"version\":2,");
                len = strlen(body);
                fuzz_add_b64(&body, &len, "ek_public", ek, ek_size);
                fuzz_add_b64(&body, &len, "ak_public", akp, ak_size_in);
                if (flags & 0x02)
                        fuzz_add_b64(&body, &len, "ek_certificate", cert, cert_size);
                body[len - 1] = '}';
        }
        fuzz_dump("FUZZ_DUMP_BODY", body, len);

        r = appraise_challenge(&fuzz_vf, body, len, FUZZ_NOW, &answer, &v, &facts);
        if (r == REASON_OK) {
                if (!answer || v.reason != REASON_OK || strlen(facts.ek_sha256) != 64)
                        abort();
                check_answer(answer);
                fuzz_dump("FUZZ_DUMP_ANSWER", answer, strlen(answer));
        } else {
                char *json = verdict_to_json(&v);

                if (answer || v.reason != r || !json)
                        abort();
                fuzz_dump("FUZZ_DUMP_ANSWER", json, strlen(json));
                free(json);
        }
        free(answer);
        free(body);
        return 0;
}
