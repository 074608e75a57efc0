/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing the kubelet bootstrap kubeconfig: the only place the token leaves the gate's memory,
 * onto a RAM file system that only root can read, and gone at the next boot. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "lib/base64.h"
#include "attest/token.h"
#include "util.h"

#define CLUSTER_NAME "kubernetes"
#define USER_NAME    "tls-bootstrap-token-user"
#define SERVER_MAX   2048U

static bool is_token_char(uint8_t c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool token_is_valid(const uint8_t *token, size_t size, char ret_id[TOKEN_ID_SIZE + 1])
{
        if (!token || size != TOKEN_SIZE || token[TOKEN_ID_SIZE] != '.')
                return false;
        for (size_t i = 0; i < size; i++)
                if (i != TOKEN_ID_SIZE && !is_token_char(token[i]))
                        return false;
        if (ret_id) {
                memcpy(ret_id, token, TOKEN_ID_SIZE);
                ret_id[TOKEN_ID_SIZE] = 0;
        }
        return true;
}

bool token_fs_is_ram(long f_type)
{
        return f_type == (long) TMPFS_MAGIC || f_type == (long) RAMFS_MAGIC;
}

/* The server goes into the YAML unquoted, as kubeadm writes it: only URL characters that are
 * plain in YAML, so no value can break out of its line. */
static bool server_ok(const char *s)
{
        size_t l = s ? strlen(s) : 0;

        if (!s || !startswith(s, "https://") || l <= strlen("https://") || l > SERVER_MAX)
                return false;
        for (size_t i = 0; i < l; i++) {
                char c = s[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr(".:/[]_~%-", c)))
                        return false;
        }
        return true;
}

static void wipe_and_free(char **p, size_t *size)
{
        if (*p) {
                explicit_bzero(*p, *size);
                free(*p);
        }
        *p = NULL;
        *size = 0;
}

struct text {
        char *buf;
        size_t size, len;
};

static void append(struct text *t, const char *s, size_t n)
{
        /* Sized beforehand (render()); a miscount truncates, and render() then refuses. */
        if (n > t->size - t->len)
                n = t->size - t->len;
        memcpy(t->buf + t->len, s, n);
        t->len += n;
}

static void appends(struct text *t, const char *s)
{
        append(t, s, strlen(s));
}

/* The YAML, in one malloc'ed buffer of *ret_size bytes (the caller wipes it). Built with
 * memcpy() alone: printf() and stdio streams keep pieces of what they format in buffers of
 * their own (on the stack, in the FILE), which nothing would wipe. */
static int render(const struct token_kubeconfig *k, char **ret, size_t *ret_size)
{
        static const char *const head = "apiVersion: v1\n"
                                        "kind: Config\n"
                                        "clusters:\n"
                                        "- cluster:\n"
                                        "    certificate-authority-data: ",
                                 *server = "\n    server: ",
                                 *middle = "\n  name: " CLUSTER_NAME "\n"
                                           "contexts:\n"
                                           "- context:\n"
                                           "    cluster: " CLUSTER_NAME "\n"
                                           "    user: " USER_NAME "\n"
                                           "  name: " USER_NAME "@" CLUSTER_NAME "\n"
                                           "current-context: " USER_NAME "@" CLUSTER_NAME "\n"
                                           "preferences: {}\n"
                                           "users:\n"
                                           "- name: " USER_NAME "\n"
                                           "  user:\n"
                                           "    token: ",
                                 *tail = "\n";
        _cleanup_free_ char *ca64 = NULL;
        struct text t = {};

        ca64 = base64_encode_alloc(k->ca, k->ca_size);
        if (!ca64)
                return -ENOMEM;
        t.size = strlen(head) + strlen(ca64) + strlen(server) + strlen(k->server) + strlen(middle) +
                 k->token_size + strlen(tail);
        t.buf = malloc(t.size);
        if (!t.buf)
                return -ENOMEM;
        appends(&t, head);
        appends(&t, ca64);
        appends(&t, server);
        appends(&t, k->server);
        appends(&t, middle);
        append(&t, (const char *) k->token, k->token_size);
        appends(&t, tail);
        *ret = t.buf;
        *ret_size = t.len;
        return 0;
}

static int write_all(int fd, const char *p, size_t size)
{
        while (size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -EIO;
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

/* Opens <root>TOKEN_DIR, creating it 0700; refuses anything but a real directory. */
static int open_dir(const char *root, int *ret, char *errbuf, size_t errlen)
{
        char path[4096];
        struct stat st;
        int fd, r;

        if (pathf(path, sizeof(path), "%s%s", streq(root, "/") ? "" : root, TOKEN_DIR) < 0) {
                snprintf(errbuf, errlen, "path too long");
                return -ENAMETOOLONG;
        }
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
                r = negative_errno();
                snprintf(errbuf, errlen, "cannot create %s: %s", TOKEN_DIR, strerror(-r));
                return r;
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
                snprintf(errbuf, errlen, "%s exists and is not a directory (a symlink?)",
                         TOKEN_DIR);
                return -ENOTDIR;
        }
        if (fd < 0) {
                r = negative_errno();
                snprintf(errbuf, errlen, "cannot open %s: %s", TOKEN_DIR, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || fchmod(fd, 0700) < 0) {
                r = errno > 0 && errno != EPERM ? -errno : -EPERM;
                snprintf(errbuf, errlen, "%s is not a directory the gate owns", TOKEN_DIR);
                close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}

int token_write_kubeconfig_at(const char *root, const struct token_kubeconfig *k,
                              token_fs_check fs_check, char *errbuf, size_t errlen)
{
        static const char *const name = "bootstrap-kubelet.conf";
        _cleanup_close_ int dir = -1, fd = -1;
        char *yaml = NULL;
        size_t yaml_size = 0;
        struct statfs sf;
        int r;

        if (!server_ok(k->server)) {
                snprintf(errbuf, errlen,
                         "the API server URL is not an https:// URL of plain "
                         "characters");
                return -EINVAL;
        }
        if (!token_is_valid(k->token, k->token_size, NULL)) {
                snprintf(errbuf, errlen, "the unsealed token is not a kubeadm bootstrap token");
                return -EINVAL;
        }
        if (!k->ca || k->ca_size == 0) {
                snprintf(errbuf, errlen, "no cluster CA");
                return -EINVAL;
        }

        r = open_dir(root ? root : "/", &dir, errbuf, errlen);
        if (r < 0)
                return r;
        if (fstatfs(dir, &sf) < 0) {
                r = negative_errno();
                snprintf(errbuf, errlen, "cannot stat the file system of %s: %s", TOKEN_DIR,
                         strerror(-r));
                return r;
        }
        if (!(fs_check ? fs_check : token_fs_is_ram)((long) sf.f_type)) {
                snprintf(errbuf, errlen,
                         "%s is not on a tmpfs or ramfs (file system magic 0x%lx): the token "
                         "would reach a disk",
                         TOKEN_DIR, (unsigned long) sf.f_type);
                return -EXDEV;
        }

        fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                    0600);
        if (fd < 0) {
                r = negative_errno();
                snprintf(errbuf, errlen, "cannot create %s: %s", TOKEN_KUBECONFIG, strerror(-r));
                return r;
        }
        r = render(k, &yaml, &yaml_size);
        if (r >= 0)
                r = fchmod(fd, 0600) < 0 ? negative_errno() : 0; /* whatever the umask says */
        if (r >= 0)
                r = write_all(fd, yaml, yaml_size);
        wipe_and_free(&yaml, &yaml_size);
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlinkat(dir, name, 0);
                snprintf(errbuf, errlen, "cannot write %s: %s", TOKEN_KUBECONFIG, strerror(-r));
                return r;
        }
        return 0;
}

/* Overwrites a regular file's bytes with zeros, then unlinks it: tmpfs frees the pages on unlink
 * without clearing them. Anything else (a symlink, an empty directory) is only removed. */
static int wipe_at(int dir, const char *name)
{
        _cleanup_close_ int fd = -1;
        char zeros[512] = {};
        struct stat st;
        off_t left;

        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return unlinkat(dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0
                           ? negative_errno()
                           : 0;
        fd = openat(dir, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0 && fstat(fd, &st) == 0)
                for (left = st.st_size; left > 0;) {
                        ssize_t n =
                            write(fd, zeros,
                                  left < (off_t) sizeof(zeros) ? (size_t) left : sizeof(zeros));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        left -= n;
                }
        return unlinkat(dir, name, 0) < 0 ? negative_errno() : 0;
}

int token_remove_kubeconfig(const char *root)
{
        _cleanup_close_ int dir = -1;
        char path[4096];

        if (pathf(path, sizeof(path), "%s%s", !root || streq(root, "/") ? "" : root, TOKEN_DIR) < 0)
                return -ENAMETOOLONG;
        dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return negative_errno();
        return wipe_at(dir, "bootstrap-kubelet.conf");
}

int token_wipe_dir(const char *root)
{
        char path[4096];
        DIR *d;
        int dir, r = 0;

        if (pathf(path, sizeof(path), "%s%s", !root || streq(root, "/") ? "" : root, TOKEN_DIR) < 0)
                return -ENAMETOOLONG;
        dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return errno == ENOENT ? 0 : negative_errno();
        d = fdopendir(dir);
        if (!d) {
                r = negative_errno();
                close(dir);
                return r;
        }
        for (struct dirent *e; (e = readdir(d));) {
                int q;

                if (streq(e->d_name, ".") || streq(e->d_name, ".."))
                        continue;
                q = wipe_at(dir, e->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (rmdir(path) < 0 && r == 0)
                r = negative_errno();
        return r;
}
