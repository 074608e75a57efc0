/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the round-1 and round-2 fuzz targets share: a verifier built in-process as `serve`
 * builds it (a fixed test secret, the policy of tests/fuzz/data/round2-policy.json, the CA of
 * ek-ca.pem, an allowlist with ek-p256.pub, a token pool in a scratch directory), a fixed
 * `now`, and a reader of the length-prefixed sections the inputs are made of. */
#pragma once

#include "appraisal/appraise.h"
#include "common/base64.h"
#include "appraisal/challenge.h"
#include "tpm/ekcheck.h"
#include "issuance/issuance.h"
#include "policy/policy.h"
#include "issuance/token-source.h"
#include "tpm/tpm2b.h"
#include "common/util-verifier.h"
#include "platform/amd-chain.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FUZZ_DATA
#error "FUZZ_DATA: the directory of tests/fuzz/data"
#endif

#define FUZZ_NOW        1795000000ull /* never the wall clock: a crash must replay */
#define FUZZ_POOL_LINES 32

static struct verifier fuzz_vf;
static char fuzz_dir[] = "/tmp/fuzz-verifier-XXXXXX";
static char fuzz_pool[256], fuzz_issued[256], fuzz_allowlist[256];

/* A whole file of tests/fuzz/data. @return its size */
static size_t fuzz_read_data(const char *name, uint8_t *buf, size_t max)
{
        char path[512];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", FUZZ_DATA, name);
        f = fopen(path, "re");
        if (!f)
                abort();
        n = fread(buf, 1, max, f);
        fclose(f);
        return n;
}

static void fuzz_write(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                abort();
        close(fd);
}

/* A fresh pool, its record of issued boots gone: every input starts from the same state. */
static void fuzz_reset_pool(void)
{
        char text[FUZZ_POOL_LINES * 24 + 1], err[256];
        size_t o = 0;

        token_source_free(fuzz_vf.tokens);
        fuzz_vf.tokens = NULL;
        for (unsigned i = 0; i < FUZZ_POOL_LINES; i++)
                o += (size_t) snprintf(text + o, sizeof(text) - o, "%06u.0123456789abcdef\n", i);
        unlink(fuzz_issued);
        fuzz_write(fuzz_pool, text);
        if (token_source_new_pool(fuzz_pool, &fuzz_vf.tokens, err, sizeof(err)) < 0)
                abort();
}

static void fuzz_cleanup(void)
{
        token_source_free(fuzz_vf.tokens);
        unlink(fuzz_pool);
        unlink(fuzz_issued);
        unlink(fuzz_allowlist);
        rmdir(fuzz_dir);
}

static void fuzz_verifier_setup(void)
{
        static const char secret[] = "fuzz fuzz fuzz fuzz fuzz fuzz fuzz fuzz";
        uint8_t buf[4096], spki[32];
        struct tpm_public ek;
        char err[512], line[80];
        size_t n;

        if (challenge_derive_keys((const uint8_t *) secret, strlen(secret), fuzz_vf.challenge_key,
                                  fuzz_vf.credential_key) < 0 ||
            challenge_derive_token_key((const uint8_t *) secret, strlen(secret),
                                       fuzz_vf.token_key) < 0)
                abort();
        if (policy_load(FUZZ_DATA "/round2-policy.json", &fuzz_vf.policy, err, sizeof(err)) < 0) {
                fprintf(stderr, "policy: %s\n", err);
                abort();
        }
        if (!mkdtemp(fuzz_dir))
                abort();
        atexit(fuzz_cleanup);
        snprintf(fuzz_pool, sizeof(fuzz_pool), "%s/pool", fuzz_dir);
        snprintf(fuzz_issued, sizeof(fuzz_issued), "%s/pool.issued", fuzz_dir);
        snprintf(fuzz_allowlist, sizeof(fuzz_allowlist), "%s/allowlist", fuzz_dir);

        /* the P-256 EK by its SPKI hash, the RSA EK by its certificate */
        n = fuzz_read_data("ek-p256.pub", buf, sizeof(buf));
        if (tpm_public_parse(buf, n, &ek) < 0 || ek_spki_sha256(&ek, spki) < 0)
                abort();
        hex_encode(spki, 32, line);
        strcat(line, "\n");
        fuzz_write(fuzz_allowlist, line);
        if (ek_trust_new(&fuzz_vf.ek_trust) < 0 ||
            ek_trust_add_ca(fuzz_vf.ek_trust, FUZZ_DATA "/ek-ca.pem", err, sizeof(err)) < 0 ||
            ek_trust_load_allowlist(fuzz_vf.ek_trust, fuzz_allowlist, err, sizeof(err)) < 0) {
                fprintf(stderr, "EK trust: %s\n", err);
                abort();
        }
        /* Both trust paths reach the appraisal: the allowlisted EK and the certified one. */
        ek_trust_set_ca_only(fuzz_vf.ek_trust, true);
        /* no per-EK bucket: with a fixed now it would refuse all but the first inputs */
        if (issuance_new(&fuzz_vf.issuance) < 0)
                abort();
        issuance_set_ek_burst(fuzz_vf.issuance, 0);
        fuzz_reset_pool();
        fuzz_vf.challenge_lifetime = 60;
        /* version-3 inputs with platform evidence reach its checks (AMD's pinned roots) */
        if (amd_roots_load(NULL, &fuzz_vf.amd_roots, err, sizeof(err)) < 0)
                abort();
        fuzz_vf.api_server = strdup("https://api.example:6443");
        /* a real PEM, so the answers dumped for fuzz-gate-answer's seeds are ones it takes */
        n = fuzz_read_data("ek-ca.pem", buf, sizeof(buf) - 1);
        fuzz_vf.cluster_ca_b64 = base64_encode_alloc(buf, n);
}

/* The input, read front to back: sections are a big-endian 16-bit length and that many bytes,
 * cut short at the input's end. */
struct fuzz_reader {
        const uint8_t *p;
        size_t n;
};

static const uint8_t *fuzz_take(struct fuzz_reader *r, size_t want, size_t *ret_size)
{
        const uint8_t *p = r->p;

        if (want > r->n)
                want = r->n;
        r->p += want;
        r->n -= want;
        *ret_size = want;
        return p;
}

static const uint8_t *fuzz_section(struct fuzz_reader *r, size_t *ret_size)
{
        size_t len = 0, n;
        const uint8_t *p = fuzz_take(r, 2, &n);

        if (n == 2)
                len = (size_t) p[0] << 8 | p[1];
        return fuzz_take(r, len, ret_size);
}

/* "key":"base64", appended to the body under construction. */
static void fuzz_add_b64(char **body, size_t *len, const char *key, const uint8_t *p, size_t n)
{
        char *b = base64_encode_alloc(p, n);
        size_t need = strlen(key) + strlen(b) + 8;

        if (!b)
                abort();
        *body = realloc(*body, *len + need);
        if (!*body)
                abort();
        *len += (size_t) snprintf(*body + *len, need, "\"%s\":\"%s\",", key, b);
        free(b);
}

/* Writes buf to the file named by the environment variable var, when set: how the seed
 * corpora of the raw-body mode and of fuzz-gate-answer were made from the structured seeds. */
static void fuzz_dump(const char *var, const char *buf, size_t n)
{
        const char *path = getenv(var);
        FILE *f;

        if (!path || !(f = fopen(path, "we")))
                return;
        fwrite(buf, 1, n, f);
        fclose(f);
}
