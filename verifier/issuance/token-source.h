/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where join tokens come from (docs/PROTOCOL.md, "Token sources"): a program run without a
 * shell, or a file pool used once per line. Every token is checked for kubeadm's format. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_SIZE         23 /* [a-z0-9]{6}\.[a-z0-9]{16} */
#define TOKEN_ID_SIZE      6
#define TOKEN_OUTPUT_MAX   4096
#define TOKEN_EXEC_TIMEOUT 10000 /* ms */

struct token_source;

/* What a source needs to give one boot its token (docs/PROTOCOL.md, "One token per boot"). */
struct token_request {
        const char *node;        /* the hostname claim: exec's {node} */
        const char *token;       /* the boot's derived token: exec's {token} */
        const uint8_t *boot_tag; /* 32 bytes naming the boot: pool's record key */
        const uint8_t *pool_pad; /* 32 bytes hiding the token in pool's record */
};

/* From a spec:
 *   exec:PROGRAM [ARG…]  words split at blanks; '…' and "…" quote, \ escapes (no expansion,
 *                        no shell); {token} in an argument (required) becomes the boot's token,
 *                        {node} the hostname claim. Exit status 0 means "this token now exists
 *                        in the cluster", whether the program created it or found it there.
 *   pool:FILE            one token a line, used once: a used line is overwritten with '#';
 *                        FILE.issued records which boot got which line (the token hidden under
 *                        the boot's pad), so a boot that asks again gets the same token. FILE
 *                        must not be accessible to group or others.
 *   kubernetes           the boot's token created as a bootstrap token Secret through the API
 *   kubernetes:KUBECONFIG server (kube-source.h), in-cluster or with that kubeconfig
 * @return 0, or -EINVAL / -EPERM / other negative errno with a one-line reason in err */
int token_source_new(const char *spec, struct token_source **ret, char *err, size_t errlen);

/* The same without a spec: argv (NULL-terminated) is copied. @return 0 or negative errno */
int token_source_new_exec(char *const *argv, struct token_source **ret, char *err, size_t errlen);
int token_source_new_pool(const char *path, struct token_source **ret, char *err, size_t errlen);
struct kube_options;
/* kubernetes (kubeconfig NULL: in-cluster) or kubernetes:KUBECONFIG, see kube-source.h. */
int token_source_new_kube(const char *kubeconfig, const struct kube_options *o,
                          struct token_source **ret, char *err, size_t errlen);

/* The exec deadline, TOKEN_EXEC_TIMEOUT unless changed (tests). Call before sharing ts. */
void token_source_set_timeout(struct token_source *ts, unsigned ms);

void token_source_free(struct token_source *ts);

/* The token of rq's boot, NUL-terminated in ret_token; *ret_reissued (may be NULL) is true when
 * the source knew the boot already (pool) and gave the same token again without using a new
 * one. Safe to call from many threads, and (pool) from many processes on one file. Nothing of
 * a token, good or malformed, ever reaches err.
 * @return 0, or negative errno with a one-line reason in err: -ENOSPC (pool used up),
 * -EBADMSG (not a token), -ETIMEDOUT, -EIO (program failed), -EINVAL (a {node} that could be
 * taken for an option) */
int token_source_get(struct token_source *ts, const struct token_request *rq,
                     char ret_token[TOKEN_SIZE + 1], bool *ret_reissued, char *err, size_t errlen);

/* Whether the source is given the boot's derived token to make it exist (exec runs a program,
 * kubernetes calls the API server: the replica's memory of issued boots saves those calls)
 * rather than drawing from a pool (which remembers boots itself). */
bool token_source_is_exec(const struct token_source *ts);

/* [a-z0-9]{6}\.[a-z0-9]{16}, exactly len bytes. */
bool token_is_valid(const char *s, size_t len);
