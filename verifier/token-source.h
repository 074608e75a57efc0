/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where join tokens come from (docs/PROTOCOL.md, "Token sources"): a program run without a
 * shell, or a file pool used once per line. Every token is checked for kubeadm's format. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_SIZE         23 /* [a-z0-9]{6}\.[a-z0-9]{16} */
#define TOKEN_ID_SIZE      6
#define TOKEN_OUTPUT_MAX   4096
#define TOKEN_EXEC_TIMEOUT 10000 /* ms */

struct token_source;

/* From a spec:
 *   exec:PROGRAM [ARG…]  words split at blanks; '…' and "…" quote, \ escapes (no expansion,
 *                        no shell); {node} in an argument becomes the hostname claim
 *   pool:FILE            one token a line; a used line starts with '#'
 * @return 0, or -EINVAL / other negative errno with a one-line reason in err */
int token_source_new(const char *spec, struct token_source **ret, char *err, size_t errlen);

/* The same without a spec: argv (NULL-terminated) is copied. @return 0 or negative errno */
int token_source_new_exec(char *const *argv, struct token_source **ret, char *err, size_t errlen);
int token_source_new_pool(const char *path, struct token_source **ret, char *err, size_t errlen);

/* The exec deadline, TOKEN_EXEC_TIMEOUT unless changed (tests). Call before sharing ts. */
void token_source_set_timeout(struct token_source *ts, unsigned ms);

void token_source_free(struct token_source *ts);

/* One new token for node (the hostname claim; only exec uses it), NUL-terminated in
 * ret_token. Safe to call from many threads, and (pool) from many processes on one file.
 * Nothing of a token, good or malformed, ever reaches err.
 * @return 0, or negative errno with a one-line reason in err: -ENOSPC (pool used up),
 * -EBADMSG (not a token), -ETIMEDOUT, -EIO (program failed) */
int token_source_get(struct token_source *ts, const char *node, char ret_token[TOKEN_SIZE + 1],
                     char *err, size_t errlen);

/* [a-z0-9]{6}\.[a-z0-9]{16}, exactly len bytes. */
bool token_is_valid(const char *s, size_t len);
