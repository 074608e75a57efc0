/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Intel's PCS collateral, authenticated (tdx-collateral.h). Intel's QVL order: the signing
 * chain, the signed JSON, the CRLs, and only then the TCB evaluation (tdx-tcb.c). */
#include "platform/tdx-collateral.h"

#include "common/fileutil.h"
#include "common/json-util.h"
#include "common/openssl-util.h"
#include "common/util-verifier.h"
#include "platform/amd-chain.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static inline void X509_CRL_freep(X509_CRL **p)
{
        X509_CRL_free(*p);
}

void tdx_collateral_done(struct tdx_collateral *c)
{
        if (!c)
                return;
        json_object_put(c->tcb_info);
        json_object_put(c->qe_identity);
        *c = (struct tdx_collateral){};
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
                i++;
        return i;
}

/* One past the closing quote of the string opening at s[i], or 0. */
static size_t string_end(const char *s, size_t n, size_t i)
{
        for (i++; i < n; i++) {
                if (s[i] == '\\')
                        i++;
                else if (s[i] == '"')
                        return i + 1;
        }
        return 0;
}

/* One past the value starting at s[i] (valid JSON: json-c parsed the whole text), or 0. */
static size_t value_end(const char *s, size_t n, size_t i)
{
        size_t depth = 0;

        if (i >= n)
                return 0;
        if (s[i] == '"')
                return string_end(s, n, i);
        if (s[i] != '{' && s[i] != '[') {
                while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
                       s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                        i++;
                return i;
        }
        for (; i < n; i++) {
                if (s[i] == '"') {
                        size_t e = string_end(s, n, i);

                        if (!e)
                                return 0;
                        i = e - 1;
                } else if (s[i] == '{' || s[i] == '[')
                        depth++;
                else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
                        return i + 1;
        }
        return 0;
}

int json_raw_member(const char *s, size_t n, const char *key, const char **ret, size_t *ret_len)
{
        size_t key_len = strlen(key), i = skip_ws(s, n, 0);
        const char *found = NULL;
        size_t found_len = 0;

        if (i >= n || s[i] != '{')
                return -EINVAL;
        i = skip_ws(s, n, i + 1);
        if (i < n && s[i] == '}')
                return -ENOENT;
        for (;;) {
                size_t k = i, k_end, v, v_end;

                if (k >= n || s[k] != '"' || !(k_end = string_end(s, n, k)))
                        return -EINVAL;
                i = skip_ws(s, n, k_end);
                if (i >= n || s[i] != ':')
                        return -EINVAL;
                v = skip_ws(s, n, i + 1);
                if ((v_end = value_end(s, n, v)) <= v)
                        return -EINVAL;
                if (k_end - k - 2 == key_len && memcmp(s + k + 1, key, key_len) == 0) {
                        if (found)
                                return -EINVAL;
                        found = s + v;
                        found_len = v_end - v;
                }
                i = skip_ws(s, n, v_end);
                if (i < n && s[i] == ',') {
                        i = skip_ws(s, n, i + 1);
                        continue;
                }
                if (i < n && s[i] == '}')
                        break;
                return -EINVAL;
        }
        if (!found)
                return -ENOENT;
        *ret = found;
        *ret_len = found_len;
        return 0;
}

/* All of s (n bytes) as one strict JSON object, nothing but blanks after it: json-c alone
 * stops at the end of the first value, and what follows must not go unnoticed. */
static json_object *parse_whole(const char *s, size_t n)
{
        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new();
        json_object *o;

        if (!tok || n > INT_MAX)
                return NULL;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, s, (int) n);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            !json_object_is_type(o, json_type_object) ||
            skip_ws(s, n, json_tokener_get_parse_end(tok)) != n) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static bool valid_at(X509 *c, int64_t t)
{
        bool ok = ASN1_TIME_cmp_time_t(X509_get0_notBefore(c), (time_t) t) <= 0 &&
                  ASN1_TIME_cmp_time_t(X509_get0_notAfter(c), (time_t) t) >= 0;

        ERR_clear_error();
        return ok;
}

static int read_in(const char *dir, const char *name, char **ret, size_t *ret_size)
{
        char path[PATH_MAX];

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
                return -ENAMETOOLONG;
        return read_regular_file(path, TDX_COLLATERAL_FILE_MAX, ret, ret_size);
}

static enum reason missing(struct verdict *v, const char *dir, const char *name, int err)
{
        return verdict_set(v, REASON_TDX_COLLATERAL_MISSING,
                           "the TDX collateral %s/%s cannot be read (%s): refresh it from Intel's "
                           "PCS (docs/cvm.md)",
                           dir, name, strerror(-err));
}

/* tcb-signing-chain.pem: the TCB signing certificate under the pinned root, both current.
 * @return REASON_OK with *ret_signer (caller frees) and *ret_root */
static enum reason signing_chain(const char *dir, const uint8_t root_pin[32], int64_t t,
                                 X509 **ret_signer, X509 **ret_root, struct verdict *v)
{
        static const char name[] = "tcb-signing-chain.pem";
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *certs = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *root_key = NULL;
        X509 *signer, *root;
        uint8_t digest[32];
        unsigned digest_len = 0;
        char cn[64];
        size_t size;
        int r;
        bool ok;

        r = read_in(dir, name, &text, &size);
        if (r < 0)
                return missing(v, dir, name, r);
        certs = amd_certs_load((const uint8_t *) text, size);
        if (!certs || sk_X509_num(certs) != 2)
                return verdict_set(v, REASON_TDX_COLLATERAL_CHAIN_INVALID,
                                   "%s/%s holds %d certificates, not 2 (the TCB signing "
                                   "certificate, the root)",
                                   dir, name, certs ? sk_X509_num(certs) : 0);
        signer = sk_X509_value(certs, 0);
        root = sk_X509_value(certs, 1);
        if (X509_digest(root, EVP_sha256(), digest, &digest_len) != 1 || digest_len != 32 ||
            memcmp(digest, root_pin, 32) != 0) {
                ERR_clear_error();
                return verdict_set(v, REASON_TDX_COLLATERAL_CHAIN_INVALID,
                                   "the collateral's root is not the pinned Intel SGX Root CA");
        }
        amd_cert_cn(signer, cn, sizeof(cn));
        root_key = X509_get_pubkey(root);
        ok = streq(cn, "Intel SGX TCB Signing") &&
             X509_NAME_cmp(X509_get_issuer_name(signer), X509_get_subject_name(root)) == 0 &&
             root_key && X509_verify(signer, root_key) == 1;
        ERR_clear_error();
        if (!ok)
                return verdict_set(v, REASON_TDX_COLLATERAL_CHAIN_INVALID,
                                   "\"%s\" is not an Intel SGX TCB Signing certificate signed by "
                                   "the pinned root",
                                   cn);
        if (!valid_at(signer, t) || !valid_at(root, t))
                return verdict_set(v, REASON_TDX_COLLATERAL_CHAIN_EXPIRED,
                                   "the TCB signing chain is not valid at %lld", (long long) t);
        *ret_signer = X509_dup(signer);
        *ret_root = X509_dup(root);
        if (!*ret_signer || !*ret_root) {
                X509_free(*ret_signer);
                X509_free(*ret_root);
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        }
        return REASON_OK;
}

/* name's "member" (tcbInfo, enclaveIdentity) verified against "signature" (hex r || s) with the
 * signer's key; *ret the member parsed from exactly those bytes. */
static enum reason signed_json(const char *dir, const char *name, const char *member, X509 *signer,
                               enum reason bad, json_object **ret, struct verdict *v)
{
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = X509_get_pubkey(signer);
        _cleanup_(json_object_putp) json_object *whole = NULL;
        _cleanup_free_ char *text = NULL;
        const char *raw, *sig_raw;
        size_t size, raw_len, sig_len;
        uint8_t sig[64];
        int r;

        r = read_in(dir, name, &text, &size);
        if (r < 0)
                return missing(v, dir, name, r);
        if (!(whole = parse_whole(text, size)) ||
            json_raw_member(text, size, member, &raw, &raw_len) < 0 ||
            json_raw_member(text, size, "signature", &sig_raw, &sig_len) < 0 ||
            sig_len != 2 + 2 * sizeof(sig) || sig_raw[0] != '"')
                return verdict_set(v, bad,
                                   "%s/%s is not a PCS response with \"%s\" and a 64-byte "
                                   "\"signature\"",
                                   dir, name, member);
        for (size_t i = 0; i < sizeof(sig); i++) {
                int hi = hex_value(sig_raw[1 + 2 * i]), lo = hex_value(sig_raw[2 + 2 * i]);

                if (hi < 0 || lo < 0)
                        return verdict_set(v, bad, "%s/%s: the signature is not hex", dir, name);
                sig[i] = (uint8_t) (hi << 4 | lo);
        }
        if (!key || !tdx_p256_verify(key, sig, (const uint8_t *) raw, raw_len))
                return verdict_set(v, bad,
                                   "%s/%s: \"%s\" is not signed by the Intel SGX TCB Signing key",
                                   dir, name, member);
        /* Evaluate what was signed, not what json-c made of the whole text (a second member
         * of the same name, escaped differently, would otherwise win). */
        *ret = parse_whole(raw, raw_len);
        if (!*ret)
                return verdict_set(v, bad, "%s/%s: \"%s\" is not an object", dir, name, member);
        return REASON_OK;
}

static int64_t asn1_seconds(const ASN1_TIME *a)
{
        struct tm tm = {};

        if (!a || ASN1_TIME_to_tm(a, &tm) != 1) {
                ERR_clear_error();
                return -1;
        }
        return (int64_t) timegm(&tm);
}

static X509_CRL *crl_load(const char *text, size_t size)
{
        const unsigned char *p = (const unsigned char *) text;
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long) size);

        if (!crl) {
                _cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(text, (int) size);

                crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
        }
        ERR_clear_error();
        return crl;
}

/* name: a CRL issued and signed by issuer, current at t; whether each of revocable[] (NULL
 * ends) is on it decides revoked_reason. */
static enum reason crl_check(const char *dir, const char *name, X509 *issuer, int64_t t,
                             X509 *const *revocable, enum reason revoked_reason, int64_t *ret_next,
                             struct verdict *v)
{
        _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = X509_get_pubkey(issuer);
        _cleanup_free_ char *text = NULL;
        const ASN1_TIME *next;
        char issuer_cn[64], cn[64];
        size_t size;
        bool ok;
        int r;

        r = read_in(dir, name, &text, &size);
        if (r < 0)
                return missing(v, dir, name, r);
        amd_cert_cn(issuer, issuer_cn, sizeof(issuer_cn));
        if (!(crl = crl_load(text, size)))
                return verdict_set(v, REASON_TDX_CRL_INVALID, "%s/%s is not a CRL", dir, name);
        ok = X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) == 0 && key &&
             X509_CRL_verify(crl, key) == 1;
        ERR_clear_error();
        if (!ok)
                return verdict_set(v, REASON_TDX_CRL_INVALID, "%s/%s is not signed by %s", dir,
                                   name, issuer_cn);
        next = X509_CRL_get0_nextUpdate(crl);
        ok = next && ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), (time_t) t) <= 0 &&
             ASN1_TIME_cmp_time_t(next, (time_t) t) >= 0;
        ERR_clear_error();
        if (!ok)
                return verdict_set(v, REASON_TDX_CRL_EXPIRED, "%s/%s is not current at %lld", dir,
                                   name, (long long) t);
        if (ret_next)
                *ret_next = asn1_seconds(next);
        for (; *revocable; revocable++) {
                X509_REVOKED *entry = NULL;

                if (X509_CRL_get0_by_serial(crl, &entry,
                                            X509_get0_serialNumber((X509 *) *revocable)) == 1) {
                        amd_cert_cn(*revocable, cn, sizeof(cn));
                        return verdict_set(v, revoked_reason, "\"%s\" is revoked by %s/%s", cn, dir,
                                           name);
                }
                ERR_clear_error();
        }
        return REASON_OK;
}

enum reason tdx_collateral_load(const char *dir, X509 *pck, X509 *pck_ca,
                                const uint8_t root_pin[32], int64_t t, struct tdx_collateral *ret,
                                struct verdict *v)
{
        _cleanup_(X509_freep) X509 *signer = NULL, *root = NULL;
        _cleanup_(tdx_collateral_done) struct tdx_collateral c = {};
        uint8_t fmspc[6];
        char name[64], ca_cn[64];
        enum reason r;

        *ret = (struct tdx_collateral){};
        if (!tdx_pck_fmspc(pck, fmspc))
                return verdict_set(v, REASON_TDX_PCK_EXTENSION_MISSING,
                                   "the PCK certificate has no FMSPC");
        hex_encode(fmspc, sizeof(fmspc), c.fmspc);
        if (!dir)
                return verdict_set(v, REASON_TDX_COLLATERAL_MISSING,
                                   "no TDX collateral is configured (--tdx-collateral) for "
                                   "FMSPC %s",
                                   c.fmspc);

        r = signing_chain(dir, root_pin, t, &signer, &root, v);
        if (r != REASON_OK)
                return r;
        snprintf(name, sizeof(name), "tcbinfo-%s.json", c.fmspc);
        r = signed_json(dir, name, "tcbInfo", signer, REASON_TDX_TCBINFO_SIGNATURE_INVALID,
                        &c.tcb_info, v);
        if (r != REASON_OK)
                return r;
        r = signed_json(dir, "qe-identity.json", "enclaveIdentity", signer,
                        REASON_TDX_QE_IDENTITY_SIGNATURE_INVALID, &c.qe_identity, v);
        if (r != REASON_OK)
                return r;
        r = crl_check(dir, "root-ca-crl.der", root, t, (X509 *const[]){pck_ca, signer, NULL},
                      REASON_TDX_CA_REVOKED, NULL, v);
        if (r != REASON_OK)
                return r;
        amd_cert_cn(pck_ca, ca_cn, sizeof(ca_cn));
        r = crl_check(dir,
                      streq(ca_cn, "Intel SGX PCK Processor CA") ? "pck-crl-processor.der"
                                                                 : "pck-crl-platform.der",
                      pck_ca, t, (X509 *const[]){pck, NULL}, REASON_TDX_PCK_REVOKED, NULL, v);
        if (r != REASON_OK)
                return r;
        *ret = c;
        c = (struct tdx_collateral){};
        return REASON_OK;
}

/* "2023-06-08T07:24:59Z" as Unix seconds, or -1. */
static int64_t iso_seconds(json_object *o, const char *key)
{
        json_object *m;
        struct tm tm = {};
        const char *end;

        if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_string) ||
            !(end = strptime(json_object_get_string(m), "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
                return -1;
        return (int64_t) timegm(&tm);
}

struct audit {
        tdx_collateral_line_fn line;
        enum reason first;
        int64_t until;
        struct verdict *v;
};

static void audit_note(struct audit *a, const char *name, enum reason r, const char *detail,
                       int64_t until)
{
        if (r != REASON_OK && a->first == REASON_OK)
                a->first = r;
        if (r == REASON_OK && until >= 0 && (a->until < 0 || until < a->until))
                a->until = until;
        if (a->line)
                a->line(name, r, detail, until);
}

/* A signed JSON file: signature, then its window (issueDate .. nextUpdate) at t. */
static void audit_json(struct audit *a, const char *dir, const char *name, const char *member,
                       X509 *signer, enum reason bad, enum reason expired, int64_t t)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct verdict scratch;
        struct verdict *v = a->first == REASON_OK ? a->v : &scratch;
        int64_t from, until;
        enum reason r;

        r = signed_json(dir, name, member, signer, bad, &o, v);
        if (r != REASON_OK) {
                audit_note(a, name, r, v->message, -1);
                return;
        }
        from = iso_seconds(o, "issueDate");
        until = iso_seconds(o, "nextUpdate");
        if (from < 0 || until < 0 || t < from || t > until) {
                r = verdict_set(v, expired, "%s is not current at %lld", name, (long long) t);
                audit_note(a, name, r, v->message, -1);
                return;
        }
        audit_note(a, name, REASON_OK, "signed by Intel SGX TCB Signing, current", until);
}

enum reason tdx_collateral_audit(const char *dir, const uint8_t root_pin[32], int64_t t,
                                 tdx_collateral_line_fn line, int64_t *ret_valid_until,
                                 struct verdict *v)
{
        _cleanup_(X509_freep) X509 *signer = NULL, *root = NULL;
        struct audit a = {.line = line, .first = REASON_OK, .until = -1, .v = v};
        static const char *const pck_crls[] = {"pck-crl-platform.der", "pck-crl-processor.der"};
        DIR *d;
        struct dirent *e;
        bool any_tcbinfo = false, any_pck_crl = false;
        enum reason r;

        r = signing_chain(dir, root_pin, t, &signer, &root, v);
        if (r != REASON_OK) {
                audit_note(&a, "tcb-signing-chain.pem", r, v->message, -1);
                *ret_valid_until = -1;
                return r;
        }
        audit_note(&a, "tcb-signing-chain.pem", REASON_OK,
                   "Intel SGX TCB Signing under the pinned root, both current",
                   asn1_seconds(X509_get0_notAfter(signer)));
        d = opendir(dir);
        if (!d) {
                r = verdict_set(v, REASON_TDX_COLLATERAL_MISSING, "%s: %s", dir, strerror(errno));
                audit_note(&a, dir, r, v->message, -1);
        }
        /* Bounded by the directory's entries; each file is read once. */
        while (d && (e = readdir(d))) {
                size_t n = strlen(e->d_name);

                if (n == strlen("tcbinfo-") + 12 + strlen(".json") &&
                    strncmp(e->d_name, "tcbinfo-", 8) == 0 && streq(e->d_name + n - 5, ".json")) {
                        any_tcbinfo = true;
                        audit_json(&a, dir, e->d_name, "tcbInfo", signer,
                                   REASON_TDX_TCBINFO_SIGNATURE_INVALID, REASON_TDX_TCBINFO_EXPIRED,
                                   t);
                }
        }
        if (d)
                closedir(d);
        if (!any_tcbinfo) {
                struct verdict scratch;
                struct verdict *w = a.first == REASON_OK ? v : &scratch;

                r = verdict_set(w, REASON_TDX_COLLATERAL_MISSING,
                                "no tcbinfo-FMSPC.json in %s: no TDX platform can be judged", dir);
                audit_note(&a, "tcbinfo-*.json", r, w->message, -1);
        }
        audit_json(&a, dir, "qe-identity.json", "enclaveIdentity", signer,
                   REASON_TDX_QE_IDENTITY_SIGNATURE_INVALID, REASON_TDX_QE_IDENTITY_EXPIRED, t);
        {
                struct verdict scratch;
                struct verdict *w = a.first == REASON_OK ? v : &scratch;
                int64_t until = -1;

                r = crl_check(dir, "root-ca-crl.der", root, t, (X509 *const[]){signer, NULL},
                              REASON_TDX_CA_REVOKED, &until, w);
                audit_note(&a, "root-ca-crl.der", r,
                           r == REASON_OK ? "signed by the root, current, the TCB signing "
                                            "certificate not on it"
                                          : w->message,
                           until);
        }
        for (size_t i = 0; i < sizeof(pck_crls) / sizeof(*pck_crls); i++) {
                _cleanup_(X509_CRL_freep) X509_CRL *crl = NULL;
                _cleanup_free_ char *text = NULL;
                struct verdict scratch;
                struct verdict *w = a.first == REASON_OK ? v : &scratch;
                int64_t from, until;
                size_t size;
                int k = read_in(dir, pck_crls[i], &text, &size);

                if (k == -ENOENT) {
                        /* PCKs of one CA only, maybe: the attestation refuses the other's. */
                        audit_note(&a, pck_crls[i], REASON_OK,
                                   i == 0 ? "absent: nodes whose PCK the PCK Platform CA issued "
                                            "will be refused"
                                          : "absent: nodes whose PCK the PCK Processor CA issued "
                                            "will be refused",
                                   -1);
                        continue;
                }
                any_pck_crl = true;
                if (k < 0) {
                        r = missing(w, dir, pck_crls[i], k);
                        audit_note(&a, pck_crls[i], r, w->message, -1);
                        continue;
                }
                crl = crl_load(text, size);
                from = crl ? asn1_seconds(X509_CRL_get0_lastUpdate(crl)) : -1;
                until = crl ? asn1_seconds(X509_CRL_get0_nextUpdate(crl)) : -1;
                if (!crl)
                        r = verdict_set(w, REASON_TDX_CRL_INVALID, "%s/%s is not a CRL", dir,
                                        pck_crls[i]);
                else if (from < 0 || until < 0 || t < from || t > until)
                        r = verdict_set(w, REASON_TDX_CRL_EXPIRED, "%s/%s is not current at %lld",
                                        dir, pck_crls[i], (long long) t);
                else
                        r = REASON_OK;
                audit_note(&a, pck_crls[i], r,
                           r == REASON_OK ? "a CRL, current (its signature is checked against "
                                            "the quote's PCK CA)"
                                          : w->message,
                           r == REASON_OK ? until : -1);
        }
        if (!any_pck_crl) {
                struct verdict scratch;
                struct verdict *w = a.first == REASON_OK ? v : &scratch;

                r = verdict_set(w, REASON_TDX_COLLATERAL_MISSING,
                                "neither PCK CRL is in %s: every TDX node would be refused", dir);
                audit_note(&a, "pck-crl-*.der", r, w->message, -1);
        }
        *ret_valid_until = a.first == REASON_OK ? a.until : -1;
        return a.first;
}
