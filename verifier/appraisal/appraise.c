/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verifier's decisions (docs/PROTOCOL.md): round 1 checks the keys and issues a challenge
 * with a credential; round 2 runs the ordered checks and seals a token to the EK. */
#include "appraisal/appraise.h"

#include "common/base64.h"
#include "appraisal/challenge.h"
#include "tpm/ekcheck.h"
#include "tpm/eventlog.h"
#include "issuance/issuance.h"
#include "policy/policy.h"
#include "service/request.h"
#include "issuance/token-source.h"
#include "tpm/tpm2b.h"
#include "common/json-util.h"
#include "tpm/tpmcrypto.h"
#include "common/util-verifier.h"
#include "common/fileutil.h"
#include "common/openssl-util.h"
#include "platform/platform.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>

#define DEFAULT_CHALLENGE_LIFETIME 30
#define CAP_RELEASED               "nodegate: token released"
#define CAP_FAILED                 "nodegate: failed"

int verifier_load_secret(struct verifier *vf, const char *path)
{
        uint8_t challenge_key[32], credential_key[32], token_key[32];
        int r;

        r = challenge_load_secret(path, challenge_key, credential_key, token_key, NULL, 0);
        if (r == 0) {
                memcpy(vf->challenge_key, challenge_key, 32);
                memcpy(vf->credential_key, credential_key, 32);
                memcpy(vf->token_key, token_key, 32);
        }
        OPENSSL_cleanse(challenge_key, sizeof(challenge_key));
        OPENSSL_cleanse(credential_key, sizeof(credential_key));
        OPENSSL_cleanse(token_key, sizeof(token_key));
        return r;
}

static json_object *new_base64(const uint8_t *p, size_t n)
{
        _cleanup_free_ char *s = base64_encode_alloc(p, n);

        return s ? json_object_new_string(s) : NULL;
}

/* {"sha256": [n, …]} for the PCRs of mask, ascending. */
static json_object *new_pcr_selection(uint32_t mask)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *list = json_object_new_array();

        if (!o || json_add(o, "sha256", list) < 0)
                return NULL;
        for (unsigned i = 0; i < TPMW_PCRS; i++)
                if ((mask & (UINT32_C(1) << i)) &&
                    json_object_array_add(list, json_object_new_int((int) i)) < 0)
                        return NULL;
        return TAKE_PTR(o);
}

static enum reason parse_key(const struct request_blob_public *b, bool ek, struct tpm_public *ret,
                             struct verdict *v)
{
        int k = tpm_public_parse(b->data, b->size, ret);

        if (k == -EBADMSG)
                return verdict_set(v, ek ? REASON_EK_MALFORMED : REASON_AK_MALFORMED,
                                   "%s is not a TPM2B_PUBLIC", ek ? "ek_public" : "ak_public");
        if (k == -EOPNOTSUPP)
                return verdict_set(v, ek ? REASON_EK_NOT_STORAGE_KEY : REASON_AK_NOT_SIGNING_KEY,
                                   "%s is of an algorithm or key size nodegate does not take "
                                   "(%s)",
                                   ek ? "ek_public" : "ak_public",
                                   ek ? "EKs: RSA 2048, ECC NIST P-256 or P-384"
                                      : "AKs: ECC NIST P-256 or RSA 2048");
        if (k < 0)
                return verdict_set(v, REASON_INTERNAL, "cannot parse %s",
                                   ek ? "ek_public" : "ak_public");
        return REASON_OK;
}

/* Both keys, and the EK's allowlist identifier for the trust check and the audit log. The
 * parser has refused every key type and size nodegate does not take (RSA 3072/4096 included,
 * issue 12 §1) before anything hashes or encodes the EK. */
static enum reason parse_keys(const struct request_blob_public *ek_public,
                              const struct request_blob_public *ak_public, struct tpm_public *ek,
                              struct tpm_public *ak, uint8_t ret_spki[32],
                              struct appraisal_facts *facts, struct verdict *v)
{
        enum reason r = parse_key(ek_public, true, ek, v);

        if (r != REASON_OK)
                return r;
        if (ek_spki_sha256(ek, ret_spki) < 0)
                return verdict_set(v, REASON_EK_NOT_STORAGE_KEY,
                                   "ek_public is not an RSA or NIST P-256/P-384 key");
        hex_encode(ret_spki, 32, facts->ek_sha256);
        return parse_key(ak_public, false, ak, v);
}

/* What both rounds do first: no answer, no refusal, no facts yet (in scratch when the caller
 * wants none). @return the facts to fill */
static struct appraisal_facts *start(unsigned path_version, char **ret_body, struct verdict *v,
                                     struct appraisal_facts *facts, struct appraisal_facts *scratch)
{
        /* Errors before the body's version is known answer in the path's. */
        v->version = path_version;
        if (!facts)
                facts = scratch;
        facts->ek_sha256[0] = '\0';
        facts->hostname[0] = '\0';
        facts->token_id[0] = '\0';
        facts->reissued = false;
        facts->opt_ins = 0;
        *ret_body = NULL;
        verdict_set(v, REASON_OK, "%s", "");
        return facts;
}

static char *challenge_answer(const struct verifier *vf, unsigned version,
                              const uint8_t challenge[CHALLENGE_SIZE], unsigned lifetime,
                              const struct tpm_blob *id_object,
                              const struct tpm_blob *encrypted_secret)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int r = 0;

        if (!o)
                return NULL;
        r |= json_add(o, "version", json_object_new_int((int) version));
        r |= json_add(o, "challenge", new_base64(challenge, CHALLENGE_SIZE));
        r |= json_add(o, "expires_in", json_object_new_int64(lifetime));
        r |= json_add(o, "credential_blob", new_base64(id_object->data, id_object->size));
        r |= json_add(o, "encrypted_secret",
                      new_base64(encrypted_secret->data, encrypted_secret->size));
        r |= json_add(o, "pcr_selection", new_pcr_selection(policy_quote_mask(vf->policy)));
        return r < 0 ? NULL : json_to_line(o);
}

enum reason appraise_challenge(const struct verifier *vf, const char *body, size_t size,
                               uint64_t now, char **ret_body, struct verdict *v,
                               struct appraisal_facts *facts)
{
        return appraise_challenge_at(vf, 0, body, size, now, ret_body, v, facts);
}

enum reason appraise_challenge_at(const struct verifier *vf, unsigned path_version,
                                  const char *body, size_t size, uint64_t now, char **ret_body,
                                  struct verdict *v, struct appraisal_facts *facts)
{
        _cleanup_free_ struct challenge_request *req = calloc(1, sizeof(*req));
        struct tpm_blob id_object, encrypted_secret;
        struct appraisal_facts scratch;
        struct tpm_public ek, ak;
        enum ek_trust_kind trust;
        uint8_t spki[32], binding[32], challenge[CHALLENGE_SIZE], secret[32];
        unsigned lifetime =
            vf->challenge_lifetime ? vf->challenge_lifetime : DEFAULT_CHALLENGE_LIFETIME;
        enum reason r;
        char *answer;
        int k;

        facts = start(path_version, ret_body, v, facts, &scratch);
        if (!req)
                return verdict_set(v, REASON_INTERNAL, "out of memory");

        r = request_parse_challenge_at(body, size, path_version, req, v);
        if (r != REASON_OK)
                return r;
        r = parse_keys(&req->ek_public, &req->ak_public, &ek, &ak, spki, facts, v);
        if (r != REASON_OK)
                return r;
        /* Cheap checks first: the certificate chain is the one costly step of round 1. */
        r = ek_check_storage_key(&ek, v);
        if (r == REASON_OK)
                r = ak_check_signing_key(&ak, v);
        if (r == REASON_OK) {
                if (!vf->ek_trust)
                        return verdict_set(v, REASON_INTERNAL, "no EK trust configured");
                r = ek_trust_check(vf->ek_trust, &ek,
                                   req->has_ek_certificate ? req->ek_certificate : NULL,
                                   req->ek_certificate_size, spki, &trust, v);
                /* Only a policy that says so admits an EK nobody enrolled (a TEE report says
                 * the VM is genuine, not whose); the challenge carries it, and round 2 then
                 * demands the evidence. */
                if (r == REASON_EK_UNKNOWN && policy_platform(vf->policy)->admit_unenrolled_ek) {
                        trust = EK_TRUST_PLATFORM;
                        r = verdict_set(v, REASON_OK, "%s", "");
                }
        }
        if (r != REASON_OK)
                return r;

        challenge_binding(ek.name, ek.name_size, ak.name, ak.name_size, binding);
        if (challenge_issue(vf->challenge_key, now, lifetime, binding, trust, challenge) < 0)
                return verdict_set(v, REASON_INTERNAL, "no random bytes for the challenge");
        challenge_credential(vf->credential_key, challenge, secret);
        k = tpm_make_credential(&ek, ak.name, ak.name_size, secret, sizeof(secret), &id_object,
                                &encrypted_secret);
        OPENSSL_cleanse(secret, sizeof(secret));
        if (k < 0) {
                ERR_clear_error();
                return verdict_set(v, REASON_INTERNAL, "cannot make the credential");
        }
        answer =
            challenge_answer(vf, req->version, challenge, lifetime, &id_object, &encrypted_secret);
        if (!answer)
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        *ret_body = answer;
        return REASON_OK;
}

static void pcr_list(uint32_t mask, char *buf, size_t size)
{
        size_t o = 0;

        buf[0] = '\0';
        for (unsigned i = 0; i < TPMW_PCRS && o < size; i++)
                if (mask & (UINT32_C(1) << i))
                        o += (size_t) snprintf(buf + o, size - o, "%s%u", o ? "," : "", i);
        if (o == 0)
                snprintf(buf, size, "none");
}

/* Step 3: the quote and its signature. */
static enum reason check_quote(const struct verifier *vf, const struct attest_request *req,
                               const struct tpm_public *ak, struct tpm_quote *q, struct verdict *v)
{
        struct tpm_signature sig;
        uint8_t nonce[32];
        uint32_t want = policy_quote_mask(vf->policy);
        char got_list[80], want_list[80];
        int k;

        k = tpm_quote_parse(req->quote_attest, req->quote_attest_size, q);
        if (k == -EOPNOTSUPP) {
                /* Well-formed but not nodegate's: not a quote at all, or another selection. */
                if (req->quote_attest_size >= 8 &&
                    (req->quote_attest[6] << 8 | req->quote_attest[7]) != TPMW_ST_ATTEST_QUOTE)
                        return verdict_set(v, REASON_QUOTE_MALFORMED,
                                           "quote.attest is not a quote (type 0x%04x)",
                                           req->quote_attest[6] << 8 | req->quote_attest[7]);
                return verdict_set(v, REASON_QUOTE_PCR_SELECTION,
                                   "the quote selects other banks than SHA-256 alone");
        }
        if (k < 0)
                return verdict_set(v, REASON_QUOTE_MALFORMED, "quote.attest is not a TPM2B_ATTEST");
        k = tpm_signature_parse(req->quote_signature, req->quote_signature_size, &sig);
        if (k == -EOPNOTSUPP)
                return verdict_set(v, REASON_QUOTE_SIGNATURE,
                                   "quote.signature is of an algorithm nodegate does not take");
        if (k < 0)
                return verdict_set(v, REASON_QUOTE_MALFORMED,
                                   "quote.signature is not a TPMT_SIGNATURE");

        if (q->magic != TPMW_GENERATED_VALUE)
                return verdict_set(v, REASON_QUOTE_MALFORMED,
                                   "the quote's magic is 0x%08x, not TPM_GENERATED_VALUE",
                                   q->magic);
        if (q->type != TPMW_ST_ATTEST_QUOTE)
                return verdict_set(v, REASON_QUOTE_MALFORMED,
                                   "quote.attest is not a quote (type 0x%04x)", q->type);
        challenge_qualifying_data(req->challenge, nonce);
        if (q->extra_data_size != sizeof(nonce) ||
            CRYPTO_memcmp(q->extra_data, nonce, sizeof(nonce)) != 0)
                return verdict_set(v, REASON_QUOTE_NONCE,
                                   "the quote's qualifyingData is not SHA-256 of this challenge");
        if (q->pcr_hash != TPMW_ALG_SHA256 || q->pcr_mask != want) {
                pcr_list(q->pcr_mask, got_list, sizeof(got_list));
                pcr_list(want, want_list, sizeof(want_list));
                return verdict_set(v, REASON_QUOTE_PCR_SELECTION,
                                   "the quote selects PCRs %s of bank 0x%04x; the policy wants "
                                   "%s of SHA-256",
                                   got_list, q->pcr_hash, want_list);
        }
        k = tpm_quote_verify(ak, q, &sig);
        if (k == -EBADMSG || k == -EOPNOTSUPP) {
                ERR_clear_error();
                return verdict_set(v, REASON_QUOTE_SIGNATURE,
                                   "the quote's signature does not verify with the AK");
        }
        if (k < 0) {
                ERR_clear_error();
                return verdict_set(v, REASON_INTERNAL, "cannot verify the quote's signature");
        }
        return REASON_OK;
}

/* Step 4: the claimed values are the ones the TPM hashed into the quote. */
static enum reason check_pcr_digest(const struct attest_request *req, const struct tpm_quote *q,
                                    struct verdict *v)
{
        uint8_t values[TPMW_PCRS * 32], digest[32];
        size_t n = 0;

        for (unsigned i = 0; i < TPMW_PCRS; i++) {
                uint32_t bit = UINT32_C(1) << i;

                if ((q->pcr_mask & bit) && !(req->pcr_mask & bit))
                        return verdict_set(v, REASON_QUOTE_PCR_DIGEST,
                                           "PCR %u is quoted but pcrs.sha256 has no value for it",
                                           i);
                if (!(q->pcr_mask & bit) && (req->pcr_mask & bit))
                        return verdict_set(v, REASON_QUOTE_PCR_DIGEST,
                                           "pcrs.sha256 has a value for PCR %u, which is not "
                                           "quoted",
                                           i);
                if (q->pcr_mask & bit) {
                        memcpy(values + n, req->pcrs[i], 32);
                        n += 32;
                }
        }
        SHA256(values, n, digest);
        if (q->pcr_digest_size != sizeof(digest) ||
            CRYPTO_memcmp(q->pcr_digest, digest, sizeof(digest)) != 0)
                return verdict_set(v, REASON_QUOTE_PCR_DIGEST,
                                   "the claimed PCR values do not hash to the quote's pcrDigest");
        return REASON_OK;
}

/* Does the quoted value of the cap PCR hold a cap on top of what the log replays to? Then the
 * gate has run in this boot, and an honest log says so by this alone. @return the cap string */
static const char *capped(const uint8_t replay[32], const uint8_t quoted[32])
{
        static const char *const caps[] = {POLICY_CAP_RELEASED, POLICY_CAP_FAILED};

        for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
                uint8_t cat[64], d[32];

                memcpy(cat, replay, 32);
                SHA256((const uint8_t *) caps[i], strlen(caps[i]), cat + 32);
                SHA256(cat, sizeof(cat), d);
                if (CRYPTO_memcmp(d, quoted, 32) == 0)
                        return caps[i];
        }
        return NULL;
}

/* Step 5's comparison: the log's replay gives every quoted value. */
static enum reason check_replay(const struct attest_request *req, const struct tpm_quote *q,
                                const struct eventlog *log, unsigned cap_pcr, struct verdict *v)
{
        for (unsigned i = 0; i < TPMW_PCRS; i++) {
                char replay[65], quoted[65];
                const char *cap;

                if (!(q->pcr_mask & (UINT32_C(1) << i)) ||
                    memcmp(log->pcr_sha256[i], req->pcrs[i], 32) == 0)
                        continue;
                if (i == cap_pcr && (cap = capped(log->pcr_sha256[i], req->pcrs[i]))) {
                        verdict_set(v, REASON_ALREADY_ATTESTED,
                                    "PCR %u holds the cap \"%s\": the gate already ran in this "
                                    "boot",
                                    i, cap);
                        v->pcr = (int) i;
                        return REASON_ALREADY_ATTESTED;
                }
                hex_encode(log->pcr_sha256[i], 32, replay);
                hex_encode(req->pcrs[i], 32, quoted);
                verdict_set(v, REASON_PCR_MISMATCH,
                            "PCR %u: the event log replays to %s, the quote has %s", i, replay,
                            quoted);
                v->pcr = (int) i;
                return REASON_PCR_MISMATCH;
        }
        return REASON_OK;
}

static char *attest_answer(const struct verifier *vf, unsigned version, const char *token_id,
                           const struct tpm_sealed *sealed, const struct tpm_quote *q)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *s = json_object_new_object(), *kc = json_object_new_object(),
                    *cap = json_object_new_object();
        int r = 0;

        if (!o) {
                json_object_put(s);
                json_object_put(kc);
                json_object_put(cap);
                return NULL;
        }
        r |= json_add(o, "version", json_object_new_int((int) version));
        r |= json_add(o, "token_id", json_object_new_string(token_id));
        r |= json_add(o, "sealed", s);
        r |= json_add(o, "kubeconfig", kc);
        r |= json_add(o, "cap", cap);
        if (r < 0)
                return NULL;
        r |= json_add(s, "public", new_base64(sealed->public.data, sealed->public.size));
        r |= json_add(s, "duplicate", new_base64(sealed->duplicate.data, sealed->duplicate.size));
        r |= json_add(s, "encrypted_seed",
                      new_base64(sealed->encrypted_seed.data, sealed->encrypted_seed.size));
        r |= json_add(s, "pcr_selection", new_pcr_selection(q->pcr_mask));
        r |= json_add(s, "reset_count", json_object_new_int64(q->reset_count));
        r |= json_add(s, "restart_count", json_object_new_int64(q->restart_count));
        r |= json_add(kc, "server", json_object_new_string(strempty(vf->api_server)));
        r |= json_add(kc, "certificate_authority_data",
                      json_object_new_string(strempty(vf->cluster_ca_b64)));
        r |= json_add(cap, "pcr", json_object_new_int((int) policy_cap_pcr(vf->policy)));
        r |= json_add(cap, "released", json_object_new_string(CAP_RELEASED));
        r |= json_add(cap, "failed", json_object_new_string(CAP_FAILED));
        return r < 0 ? NULL : json_to_line(o);
}

/* Step 7 and after: the boot's one token, sealed to the EK under the quoted PCRs and this
 * boot. A boot that asks again (a replayed round 2, a retry, another replica) gets the same
 * token, sealed again to the state it quotes now. */
static enum reason release(const struct verifier *vf, const struct attest_request *req,
                           const struct tpm_public *ek, const struct tpm_quote *q,
                           const struct issuance_boot *boot, uint64_t now, char **ret_body,
                           struct appraisal_facts *facts, struct verdict *v)
{
        _cleanup_free_ struct tpm_sealed *sealed = calloc(1, sizeof(*sealed));
        char token[TOKEN_SIZE + 1], token_id[TOKEN_ID_SIZE + 1], err[VERDICT_MESSAGE_MAX];
        const struct token_request rq = {
            .node = req->node.hostname,
            .token = boot->token,
            .boot_tag = boot->tag,
            .pool_pad = boot->pool_pad,
        };
        uint8_t policy_digest[32];
        bool reissued = false;
        char *answer;
        int k;

        if (!sealed)
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        if (!vf->tokens)
                return verdict_set(v, REASON_TOKEN_UNAVAILABLE, "no token source configured");
        err[0] = '\0';
        /* A program is run once per boot on this replica; a pool remembers boots itself, for
         * every replica on its host. */
        if (vf->issuance && token_source_is_exec(vf->tokens) &&
            issuance_seen(vf->issuance, boot->tag, now)) {
                memcpy(token, boot->token, sizeof(token));
                reissued = true;
        } else {
                k = token_source_get(vf->tokens, &rq, token, &reissued, err, sizeof(err));
                if (k < 0)
                        return verdict_set(v, REASON_TOKEN_UNAVAILABLE, "%s",
                                           err[0] ? err : "the token source failed");
        }
        memcpy(token_id, token, TOKEN_ID_SIZE);
        token_id[TOKEN_ID_SIZE] = '\0';

        /* PolicyPCR's digest is the quote's: check_pcr_digest() proved the claimed values hash
         * to it, and the node's TPM recomputes it from its live PCRs. */
        k = tpm_policy_pcr_boot(q->pcr_mask, q->pcr_digest, q->reset_count, q->restart_count,
                                policy_digest);
        if (k == 0)
                k = tpm_seal_for_import(ek, (const uint8_t *) token, TOKEN_SIZE, policy_digest,
                                        sealed);
        OPENSSL_cleanse(token, sizeof(token));
        if (k < 0) {
                ERR_clear_error();
                return verdict_set(v, REASON_INTERNAL, "cannot seal the token");
        }
        answer = attest_answer(vf, req->version, token_id, sealed, q);
        OPENSSL_cleanse(sealed, sizeof(*sealed)); /* not secret, but no use keeping it either */
        if (!answer)
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        if (vf->issuance)
                issuance_remember(vf->issuance, boot->tag, now);
        memcpy(facts->token_id, token_id, sizeof(token_id));
        facts->reissued = reissued;
        *ret_body = answer;
        return REASON_OK;
}

/* A VCEK from the operator's cache: <CHIP_ID hex>-<REPORTED_TCB as 16 hex>.der (docs/cvm.md).
 * The file is only a lookup: what it holds is verified like a VCEK from the node. */
static X509 *vcek_from_cache(const char *dir, const struct platform_evidence *ev)
{
        const uint8_t *snp = ev->report;
        _cleanup_free_ char *data = NULL;
        struct snp_report r;
        struct hcl_report h;
        struct verdict scratch;
        char chip[129], path[4096];
        size_t size;

        if (ev->kind == PLATFORM_KIND_AZURE_SNP_HCL) {
                if (hcl_parse(ev->report, ev->report_size, &h, &scratch) != REASON_OK)
                        return NULL;
                snp = h.hw;
        } else if (ev->report_size != SNP_REPORT_SIZE)
                return NULL;
        if (snp_report_parse(snp, SNP_REPORT_SIZE, &r, &scratch) != REASON_OK)
                return NULL;
        hex_encode(r.chip_id, sizeof(r.chip_id), chip);
        if (pathf(path, sizeof(path), "%s/%s-%016llx.der", dir, chip,
                  (unsigned long long) r.reported_tcb) < 0 ||
            read_file_all(path, 16 * 1024, &data, &size) < 0)
                return NULL;
        return amd_cert_load((const uint8_t *) data, size);
}

/* The VCEK a node sent, into the cache once its report verified in full (chain, chip, TCB,
 * signature, policy, binding): VCEKs never change for a chip and TCB, so a later boot whose
 * firmware or gate hands none over still attests, and only AMD's certificates of chips that
 * really attested land there (one file per chip and TCB). An existing file is kept; a cache
 * the verifier may not write is the operator's choice, not the node's failure. */
static void vcek_to_cache(const char *dir, const struct platform_facts *f, X509 *vek)
{
        _cleanup_(OPENSSL_freep) uint8_t *der = NULL;
        char chip[129], path[4096];
        int len;

        if (!f->have_report || f->vek_kind != AMD_VEK_VCEK)
                return;
        hex_encode(f->report.chip_id, sizeof(f->report.chip_id), chip);
        if (pathf(path, sizeof(path), "%s/%s-%016llx.der", dir, chip,
                  (unsigned long long) f->report.reported_tcb) < 0 ||
            access(path, F_OK) == 0 || (len = i2d_X509(vek, &der)) <= 0) {
                ERR_clear_error();
                return;
        }
        (void) write_file_atomic(path, der, (size_t) len, 0644, (uid_t) -1, (gid_t) -1);
}

/* Platform evidence (docs/PROTOCOL.md, "What the verifier checks"): required by the policy or
 * by an EK admitted for it in round 1, and checked whenever it is sent. */
static enum reason check_platform(const struct verifier *vf, const struct attest_request *req,
                                  const struct tpm_public *ek, const struct tpm_public *ak,
                                  enum ek_trust_kind trust, uint64_t now, struct verdict *v)
{
        static const char *const required[] = {"no", "SEV-SNP", "Azure SEV-SNP HCL", "TDX",
                                               "Azure TDX HCL"};
        const struct platform_policy *pol = policy_platform(vf->policy);
        struct platform_evidence ev = {};
        struct platform_expect ex = {.check_binding = true, .ak = ak, .ek = ek};
        struct platform_facts facts;
        bool vek_from_node;
        enum reason r;

        if (!req->has_platform) {
                if (pol->require != PLATFORM_REQUIRE_NONE || trust == EK_TRUST_PLATFORM)
                        return verdict_set(
                            v, REASON_PLATFORM_EVIDENCE_MISSING,
                            "the policy requires %s platform evidence and round "
                            "2 has none (protocol version 3, \"platform\")",
                            required[pol->require == PLATFORM_REQUIRE_NONE ? PLATFORM_REQUIRE_SNP
                                                                           : pol->require]);
                return REASON_OK;
        }
        if (!vf->amd_roots)
                return verdict_set(v, REASON_INTERNAL, "no AMD roots loaded");
        if (platform_kind_from_name(req->platform.kind, &ev.kind) < 0)
                return verdict_set(v, REASON_BAD_REQUEST, "unknown platform.kind");
        ev.report = req->platform.report;
        ev.report_size = req->platform.report_size;
        if (ev.kind == PLATFORM_KIND_AZURE_TDX_HCL) {
                ev.tdx_quote = req->platform.td_quote;
                ev.tdx_quote_size = req->platform.td_quote_size;
        }
        /* The node's VCEK or VLEK: the first certificate that is one. Any ASK or ARK it sends
         * is ignored; the chain is the pinned one. */
        for (size_t i = 0;
             !platform_kind_is_tdx(ev.kind) && i < req->platform.n_certificates && !ev.vek; i++) {
                X509 *c = amd_cert_load(req->platform.certificates[i],
                                        req->platform.certificate_sizes[i]);

                if (c && amd_vek_kind_of(c) != AMD_VEK_UNKNOWN)
                        ev.vek = c;
                else
                        X509_free(c);
        }
        vek_from_node = ev.vek != NULL;
        if (!ev.vek && vf->vcek_cache && !platform_kind_is_tdx(ev.kind))
                ev.vek = vcek_from_cache(vf->vcek_cache, &ev);
        platform_binding(req->challenge, req->challenge_size, ek->name, ek->name_size, ak->name,
                         ak->name_size, ex.binding);
        r = platform_verify(vf->amd_roots, pol, &ev, &ex, (int64_t) now, NULL, NULL, &facts, v);
        if (r == REASON_OK && vek_from_node && vf->vcek_cache)
                vcek_to_cache(vf->vcek_cache, &facts, ev.vek);
        X509_free(ev.vek);
        if (r != REASON_OK)
                return r;
        /* A bare SNP report says the guest's code chose this TPM, not where the TPM runs. */
        if (pol->tpm_trust == PLATFORM_TPM_TEE && !facts.tpm_vouched)
                return verdict_set(v, REASON_PLATFORM_TPM_NOT_VOUCHED,
                                   "the policy trusts the TPM only inside the TEE, and %s "
                                   "evidence does not put this EK and AK there",
                                   platform_kind_name(ev.kind));
        return REASON_OK;
}

static enum reason attest(const struct verifier *vf, struct attest_request *req, uint64_t now,
                          char **ret_body, struct verdict *v, struct appraisal_facts *facts)
{
        struct tpm_public ek, ak;
        struct tpm_quote q;
        struct eventlog log = {};
        struct issuance_boot boot;
        uint8_t spki[32], binding[32], credential[32];
        enum ek_trust_kind trust;
        unsigned wait;
        enum reason r;
        bool bound;

        memcpy(facts->hostname, req->node.hostname, sizeof(facts->hostname));
        r = parse_keys(&req->ek_public, &req->ak_public, &ek, &ak, spki, facts, v);
        if (r != REASON_OK)
                return r;

        /* 1. The challenge: ours, current, for these keys — which round 1 checked, so the
         * attributes of both and the EK's trust hold without checking them again. */
        challenge_binding(ek.name, ek.name_size, ak.name, ak.name_size, binding);
        r = challenge_verify(vf->challenge_key, req->challenge, req->challenge_size, now, binding,
                             &trust, v);
        if (r != REASON_OK)
                return r;

        /* 2. The AK is in the EK's TPM: only that TPM could activate the credential. */
        challenge_credential(vf->credential_key, req->challenge, credential);
        bound = req->credential_size == sizeof(credential) &&
                CRYPTO_memcmp(req->credential, credential, sizeof(credential)) == 0;
        OPENSSL_cleanse(credential, sizeof(credential));
        if (!bound)
                return verdict_set(v, REASON_AK_NOT_BOUND,
                                   "the credential is not this challenge's: the AK is not in the "
                                   "EK's TPM");

        /* Only now, for requests that proved they hold the EK's TPM (an EK is public: an
         * earlier bucket would let anyone drain a node's), and before the costly steps: a
         * replayed round 2 costs a signature check, a log replay and a seal each time. */
        if (vf->issuance) {
                uint8_t ek_key[32];
                int k = issuance_boot(vf->token_key, ek.name, ek.name_size, 0, 0, &boot);

                memcpy(ek_key, boot.ek_key, sizeof(ek_key));
                issuance_boot_done(&boot);
                if (k < 0)
                        return verdict_set(v, REASON_INTERNAL, "cannot derive the boot's keys");
                wait = issuance_ek_take(vf->issuance, ek_key, now);
                OPENSSL_cleanse(ek_key, sizeof(ek_key));
                if (wait > 0) {
                        verdict_set(v, REASON_RATE_LIMITED,
                                    "this EK asked for its token too often; retry in %u s", wait);
                        v->retry_after = wait;
                        return REASON_RATE_LIMITED;
                }
        }

        /* The platform evidence, before the quote, the log and any token: nothing is released
         * on evidence whose platform was not judged. */
        r = check_platform(vf, req, &ek, &ak, trust, now, v);
        /* The audit line says which evidence was judged: with "issued", that it was accepted. */
        if (req->has_platform)
                snprintf(facts->platform, sizeof(facts->platform), "%s", req->platform.kind);
        if (r != REASON_OK)
                return r;

        /* 3, 4. */
        r = check_quote(vf, req, &ak, &q, v);
        if (r == REASON_OK)
                r = check_pcr_digest(req, &q, v);
        if (r != REASON_OK)
                return r;

        /* 5, 6. */
        if (eventlog_parse(req->event_log, req->event_log_size, &log, v) < 0) {
                if (v->reason == REASON_OK)
                        verdict_set(v, REASON_EVENTLOG_MALFORMED, "the event log does not parse");
                return v->reason;
        }
        r = check_replay(req, &q, &log, policy_cap_pcr(vf->policy), v);
        if (r == REASON_OK) {
                const char *image = NULL;

                r = policy_check_image(vf->policy, &log, v, &image);
                /* The audit line says which image the token went to: during a rollout, which
                 * nodes still boot the old one. */
                if (r == REASON_OK && image)
                        snprintf(facts->image, sizeof(facts->image), "%s", image);
        }
        eventlog_done(&log);
        if (r != REASON_OK)
                return r;

        /* 7. The audit line of the token names what the policy let pass unjudged. */
        facts->opt_ins = policy_opt_ins(vf->policy);
        if (issuance_boot(vf->token_key, ek.name, ek.name_size, q.reset_count, q.restart_count,
                          &boot) < 0)
                return verdict_set(v, REASON_INTERNAL, "cannot derive the boot's token");
        r = release(vf, req, &ek, &q, &boot, now, ret_body, facts, v);
        issuance_boot_done(&boot);
        return r;
}

enum reason appraise_attest(const struct verifier *vf, const char *body, size_t size, uint64_t now,
                            char **ret_body, struct verdict *v, struct appraisal_facts *facts)
{
        return appraise_attest_at(vf, 0, body, size, now, ret_body, v, facts);
}

enum reason appraise_attest_at(const struct verifier *vf, unsigned path_version, const char *body,
                               size_t size, uint64_t now, char **ret_body, struct verdict *v,
                               struct appraisal_facts *facts)
{
        struct attest_request *req = calloc(1, sizeof(*req));
        struct appraisal_facts scratch;
        enum reason r;

        facts = start(path_version, ret_body, v, facts, &scratch);
        if (!req)
                return verdict_set(v, REASON_INTERNAL, "out of memory");
        r = request_parse_attest_at(body, size, path_version, req, v);
        if (r == REASON_OK)
                r = attest(vf, req, now, ret_body, v, facts);
        attest_request_done(req);
        OPENSSL_cleanse(req, sizeof(*req));
        free(req);
        return r;
}
