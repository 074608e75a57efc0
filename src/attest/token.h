/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The handover to kubelet: its bootstrap kubeconfig, written once to the /run tmpfs (which
 * switch_root moves into the new root), never to a block device. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_DIR        "/run/nodegate"
#define TOKEN_KUBECONFIG TOKEN_DIR "/bootstrap-kubelet.conf"
#define TOKEN_SIZE       23U /* kubeadm: [a-z0-9]{6}\.[a-z0-9]{16} */
#define TOKEN_ID_SIZE    6U

struct token_kubeconfig {
        const char *server; /* https://…, the API server */
        const uint8_t *ca;  /* the cluster CA as PEM text (not base64) */
        size_t ca_size;
        const uint8_t *token; /* the unsealed bootstrap token; the caller wipes it */
        size_t token_size;
};

/* Whether token is a kubeadm bootstrap token, [a-z0-9]{6}\.[a-z0-9]{16}; when it is and
 * ret_id is not NULL, its id (the part before the dot, public) goes to ret_id. */
bool token_is_valid(const uint8_t *token, size_t size, char ret_id[TOKEN_ID_SIZE + 1]);

/* Returns whether a file system type (statfs f_type) is RAM-backed: tmpfs or ramfs. Tests
 * replace it through token_write_kubeconfig_at(). */
typedef bool (*token_fs_check)(long f_type);
bool token_fs_is_ram(long f_type);

/* Writes <root>TOKEN_KUBECONFIG in kubeadm's bootstrap-kubelet.conf shape (apiVersion v1,
 * kind Config, one cluster "kubernetes" with server and certificate-authority-data, one user
 * "tls-bootstrap-token-user" with the token, its context as current-context):
 * - <root>/run must exist; <root>TOKEN_DIR is created mode 0700 (an existing one must be a
 *   directory, not a symlink, and is set to 0700);
 * - the directory's file system must be tmpfs or ramfs (fs_check; NULL: token_fs_is_ram), so
 *   the token never reaches a block device;
 * - the file is created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600: an existing file (or a
 *   symlink planted there) is an error, never overwritten or followed;
 * - a partly written file is removed again.
 * The YAML buffer is wiped before it is freed, on every path. Does not log.
 * @return 0, or with the reason in errbuf: -EINVAL for a server URL or token that cannot go
 *         into the file safely (kubeconfig YAML is written unquoted, as kubeadm does), -ENOTDIR
 *         when TOKEN_DIR is a symlink or not a directory, -EXDEV when it is not on a RAM file
 *         system, -EEXIST when the file exists (or a symlink is there), or the negative errno
 *         of the failed call */
int token_write_kubeconfig_at(const char *root, const struct token_kubeconfig *k,
                              token_fs_check fs_check, char *errbuf, size_t errlen);

/* Takes a written kubeconfig back (a later step failed): overwrites its bytes with zeros, then
 * unlinks <root>TOKEN_KUBECONFIG. @return 0, -ENOENT when there is none, other negative errno */
int token_remove_kubeconfig(const char *root);

/* Before a shell or at the end of a failed boot: wipes every file in <root>TOKEN_DIR as
 * token_remove_kubeconfig() does (the kubeconfig and anything else the gate wrote there), then
 * removes the directory. @return 0, also when there is no TOKEN_DIR, or the first negative errno */
int token_wipe_dir(const char *root);

static inline int token_write_kubeconfig(const char *root, const struct token_kubeconfig *k,
                                         char *errbuf, size_t errlen)
{
        return token_write_kubeconfig_at(root, k, NULL, errbuf, errlen);
}
