/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The two protocol rounds, from request body to answer body: everything the verifier decides,
 * nothing about HTTP. The server hands in bytes and gets bytes or a verdict back. */
#pragma once

#include "policy/policy.h"
#include "appraisal/verdict.h"

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct ek_trust;     /* ekcheck.h: CA roots + allowlist */
struct token_source; /* token-source.h */
struct issuance;     /* issuance.h */
struct amd_roots;    /* platform/amd-chain.h */

/* Loaded once by `serve`, read-only afterwards, shared by every worker thread. */
struct verifier {
        struct policy *policy;
        struct ek_trust *ek_trust;
        struct token_source *tokens;
        uint8_t challenge_key[32]; /* derived from the shared secret, see PROTOCOL.md */
        uint8_t credential_key[32];
        uint8_t token_key[32];
        struct issuance *issuance;   /* mutable, locked inside: issued boots, per-EK buckets */
        unsigned challenge_lifetime; /* seconds */
        char *api_server;            /* kubeconfig server URL */
        char *cluster_ca_b64;        /* base64 of the cluster CA PEM */
        struct amd_roots *amd_roots; /* pinned AMD ARK/ASK/ASVK; NULL: platform evidence refused */
        char *vcek_cache;            /* directory of VCEKs by chip and TCB, or NULL */
};

/* What the audit log records of a decision besides the verdict. Never a secret. */
struct appraisal_facts {
        char ek_sha256[65]; /* hex SPKI hash of the EK, "" if not parsed that far */
        char hostname[254]; /* node's claim, "" if none */
        char token_id[7];   /* "" unless a token was issued */
        bool reissued;      /* the boot had its token already: the same one again */
        uint32_t opt_ins;   /* the policy's POLICY_ALLOW_* in force when a token was issued */
        char image[64];     /* the label of the policy's image the boot matched, "" if none */
        char platform[16];  /* the kind of platform evidence round 2 carried, once judged */
};

/* Round 1 (POST /v3/challenge) and round 2 (POST /v3/attest), or their version-2 forms. now is
 * Unix time (a parameter so tests can age a challenge). On REASON_OK *ret_body is the malloc'ed
 * JSON answer; otherwise v says why and *ret_body is NULL. facts is filled as far as the
 * request got. The _at forms take the version of the request's path (the body's must be the
 * same); the plain ones take the body's version as it is. */
enum reason appraise_challenge(const struct verifier *vf, const char *body, size_t size,
                               uint64_t now, char **ret_body, struct verdict *v,
                               struct appraisal_facts *facts);
enum reason appraise_attest(const struct verifier *vf, const char *body, size_t size, uint64_t now,
                            char **ret_body, struct verdict *v, struct appraisal_facts *facts);
enum reason appraise_challenge_at(const struct verifier *vf, unsigned path_version,
                                  const char *body, size_t size, uint64_t now, char **ret_body,
                                  struct verdict *v, struct appraisal_facts *facts);
enum reason appraise_attest_at(const struct verifier *vf, unsigned path_version, const char *body,
                               size_t size, uint64_t now, char **ret_body, struct verdict *v,
                               struct appraisal_facts *facts);

/* The error answer of docs/PROTOCOL.md for v. @return malloc'ed JSON or NULL */
char *verdict_to_json(const struct verdict *v);

/* Derives both keys from the shared secret file (≥ 32 bytes). @return 0 or negative errno */
int verifier_load_secret(struct verifier *vf, const char *path);
