/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Token sources: exec (posix_spawn, stdout through a pipe, a deadline kept with poll and a
 * pidfd, the whole process group killed on timeout) and pool (flock'ed file, used in place). */
#include "token-source.h"

#include "util-verifier.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

enum kind { KIND_EXEC, KIND_POOL };

struct token_source {
        enum kind kind;
        char **argv; /* exec: NULL-terminated */
        unsigned timeout_ms;
        char *path; /* pool */
        pthread_mutex_t lock;
        /* pool: every line before cursor is known used, in the file (dev, ino) */
        dev_t dev;
        ino_t ino;
        off_t cursor;
};

bool token_is_valid(const char *s, size_t len)
{
        if (len != TOKEN_SIZE)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];

                if (i == TOKEN_ID_SIZE) {
                        if (c != '.')
                                return false;
                } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
                        return false;
        }
        return true;
}

static void free_argv(char **argv)
{
        if (!argv)
                return;
        for (char **a = argv; *a; a++)
                free(*a);
        free(argv);
}

static struct token_source *source_alloc(enum kind kind)
{
        struct token_source *ts = calloc(1, sizeof(*ts));

        if (!ts)
                return NULL;
        if (pthread_mutex_init(&ts->lock, NULL) != 0) {
                free(ts);
                return NULL;
        }
        ts->kind = kind;
        ts->timeout_ms = TOKEN_EXEC_TIMEOUT;
        return ts;
}

void token_source_free(struct token_source *ts)
{
        if (!ts)
                return;
        free_argv(ts->argv);
        free(ts->path);
        pthread_mutex_destroy(&ts->lock);
        free(ts);
}

void token_source_set_timeout(struct token_source *ts, unsigned ms)
{
        ts->timeout_ms = ms;
}

/* Whether PROGRAM can be run: a path must be executable, a bare name found on PATH. Checked
 * at startup so a typo is a startup error, not a 503 on every attestation. */
static bool program_found(const char *prog)
{
        const char *path = getenv("PATH");

        if (strchr(prog, '/'))
                return access(prog, X_OK) == 0;
        if (!path)
                path = "/usr/bin:/bin";
        for (const char *p = path; *p;) {
                const char *colon = strchr(p, ':');
                size_t len = colon ? (size_t) (colon - p) : strlen(p);
                char file[4096];

                if (len > 0 && pathf(file, sizeof(file), "%.*s/%s", (int) len, p, prog) == 0 &&
                    access(file, X_OK) == 0)
                        return true;
                p += len + (colon ? 1 : 0);
        }
        return false;
}

int token_source_new_exec(char *const *argv, struct token_source **ret, char *err, size_t errlen)
{
        struct token_source *ts;
        size_t n = 0;

        if (!argv || !argv[0] || !argv[0][0])
                return set_error(err, errlen, -EINVAL, "exec: needs a program");
        if (!program_found(argv[0]))
                return set_error(err, errlen, -ENOENT,
                                 "exec: program %s not found or not executable", argv[0]);
        while (argv[n])
                n++;
        ts = source_alloc(KIND_EXEC);
        if (!ts)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        ts->argv = calloc(n + 1, sizeof(char *));
        if (!ts->argv) {
                token_source_free(ts);
                return set_error(err, errlen, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                ts->argv[i] = strdup(argv[i]);
                if (!ts->argv[i]) {
                        token_source_free(ts);
                        return set_error(err, errlen, -ENOMEM, "out of memory");
                }
        }
        *ret = ts;
        return 0;
}

int token_source_new_pool(const char *path, struct token_source **ret, char *err, size_t errlen)
{
        struct token_source *ts;
        int fd;

        /* Read-write: every use marks a line. Checked now, not on the first attestation. */
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return set_error(err, errlen, negative_errno(),
                                 "pool:%s: cannot open read-write: %m", path);
        close(fd);
        ts = source_alloc(KIND_POOL);
        if (!ts)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        ts->path = strdup(path);
        if (!ts->path) {
                token_source_free(ts);
                return set_error(err, errlen, -ENOMEM, "out of memory");
        }
        *ret = ts;
        return 0;
}

/* Splits s into words: blanks separate; '…' is literal, "…" allows \" and \\, a backslash
 * outside quotes takes the next character as is. @return 0 or -EINVAL */
static int split_words(const char *s, char ***ret)
{
        size_t len = strlen(s), n = 0;
        char **words = calloc(len / 2 + 2, sizeof(char *)); /* at most one word per 2 bytes */
        const char *p = s;

        if (!words)
                return -ENOMEM;
        for (;;) {
                char *w, *o;
                bool any = false;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                w = o = malloc(len + 1);
                if (!w) {
                        free_argv(words);
                        return -ENOMEM;
                }
                while (*p && *p != ' ' && *p != '\t') {
                        any = true;
                        if (*p == '\'') {
                                const char *end = strchr(p + 1, '\'');

                                if (!end)
                                        goto bad;
                                memcpy(o, p + 1, (size_t) (end - p - 1));
                                o += end - p - 1;
                                p = end + 1;
                        } else if (*p == '"') {
                                for (p++; *p && *p != '"'; p++) {
                                        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                                                p++;
                                        *o++ = *p;
                                }
                                if (*p != '"')
                                        goto bad;
                                p++;
                        } else if (*p == '\\') {
                                if (!p[1])
                                        goto bad;
                                *o++ = p[1];
                                p += 2;
                        } else
                                *o++ = *p++;
                        continue;
                bad:
                        free(w);
                        free_argv(words);
                        return -EINVAL;
                }
                *o = '\0';
                if (any)
                        words[n++] = w;
                else
                        free(w);
        }
        words[n] = NULL;
        *ret = words;
        return 0;
}

int token_source_new(const char *spec, struct token_source **ret, char *err, size_t errlen)
{
        const char *rest;
        char **argv = NULL;
        int r;

        if (!spec)
                return set_error(err, errlen, -EINVAL, "no token source");
        if ((rest = startswith(spec, "pool:"))) {
                if (!*rest)
                        return set_error(err, errlen, -EINVAL, "pool: needs a file");
                return token_source_new_pool(rest, ret, err, errlen);
        }
        if ((rest = startswith(spec, "exec:"))) {
                r = split_words(rest, &argv);
                if (r < 0)
                        return set_error(err, errlen, r, "exec: unbalanced quote or trailing \\");
                r = token_source_new_exec(argv, ret, err, errlen);
                free_argv(argv);
                return r;
        }
        return set_error(err, errlen, -EINVAL,
                         "token source must be exec:PROGRAM [ARG...] or pool:FILE");
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* arg with every {node} replaced. @return malloc'ed string or NULL */
static char *substitute(const char *arg, const char *node)
{
        size_t count = 0, nlen = strlen(node), len;
        char *out, *o;

        for (const char *p = arg; (p = strstr(p, "{node}")); p += 6)
                count++;
        len = strlen(arg) + count * nlen - count * 6;
        out = o = malloc(len + 1);
        if (!out)
                return NULL;
        for (const char *p = arg;;) {
                const char *q = strstr(p, "{node}");

                if (!q) {
                        strcpy(o, p);
                        break;
                }
                memcpy(o, p, (size_t) (q - p));
                o += q - p;
                memcpy(o, node, nlen);
                o += nlen;
                p = q + 6;
        }
        return out;
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
        return (int) syscall(SYS_pidfd_open, pid, 0);
#else
        (void) pid;
        errno = ENOSYS;
        return -1;
#endif
}

/* Waits for pid until deadline (monotonic ms). @return 0 and its status, or -ETIMEDOUT */
static int wait_until(pid_t pid, int pidfd, int64_t deadline, int *ret_status)
{
        for (;;) {
                int status;
                pid_t w = waitpid(pid, &status, WNOHANG);
                int64_t left;

                if (w == pid) {
                        *ret_status = status;
                        return 0;
                }
                if (w < 0 && errno != EINTR)
                        return negative_errno(); /* ECHILD: SIGCHLD ignored by someone */
                left = deadline - now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                if (pidfd >= 0) {
                        struct pollfd p = {.fd = pidfd, .events = POLLIN};
                        (void) poll(&p, 1, (int) left);
                } else {
                        /* Without pidfds (old kernels): look again every 10 ms. */
                        struct timespec ts = {0, 10 * 1000 * 1000};
                        (void) nanosleep(&ts, NULL);
                }
        }
}

static void kill_and_reap(pid_t pid)
{
        (void) kill(-pid, SIGKILL); /* its own process group: children too */
        (void) kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

static void posix_spawn_file_actions_destroyp(posix_spawn_file_actions_t **p)
{
        if (*p)
                posix_spawn_file_actions_destroy(*p);
}

static void posix_spawnattr_destroyp(posix_spawnattr_t **p)
{
        if (*p)
                posix_spawnattr_destroy(*p);
}

static int exec_get(struct token_source *ts, const char *node, char ret_token[TOKEN_SIZE + 1],
                    char *err, size_t errlen)
{
        posix_spawn_file_actions_t fa_storage, *fa = NULL;
        posix_spawnattr_t attr_storage, *attr = NULL;
        _cleanup_(posix_spawn_file_actions_destroyp) posix_spawn_file_actions_t *fa_cleanup = NULL;
        _cleanup_(posix_spawnattr_destroyp) posix_spawnattr_t *attr_cleanup = NULL;
        _cleanup_close_ int out_r = -1, out_w = -1, pidfd = -1;
        char buf[TOKEN_OUTPUT_MAX + 1];
        size_t size = 0, argc = 0;
        char **argv = NULL;
        int64_t deadline;
        sigset_t defaults, empty;
        pid_t pid;
        int r, status;

        while (ts->argv[argc])
                argc++;
        argv = calloc(argc + 1, sizeof(char *));
        if (!argv)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        for (size_t i = 0; i < argc; i++)
                if (!(argv[i] = substitute(ts->argv[i], node ? node : ""))) {
                        free_argv(argv);
                        return set_error(err, errlen, -ENOMEM, "out of memory");
                }

        {
                int p[2];

                if (pipe2(p, O_CLOEXEC) < 0) {
                        r = negative_errno();
                        free_argv(argv);
                        return set_error(err, errlen, r, "token source: pipe: %s", strerror(-r));
                }
                out_r = p[0];
                out_w = p[1];
        }
        if (posix_spawn_file_actions_init(&fa_storage) == 0)
                fa = fa_cleanup = &fa_storage;
        if (posix_spawnattr_init(&attr_storage) == 0)
                attr = attr_cleanup = &attr_storage;
        sigemptyset(&empty);
        sigemptyset(&defaults);
        /* The server may ignore SIGPIPE and block others; the program starts clean. */
        for (int s = 1; s < 32; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        sigaddset(&defaults, s);
        if (!fa || !attr ||
            posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0) != 0 ||
            posix_spawn_file_actions_adddup2(fa, out_w, STDOUT_FILENO) != 0 ||
            posix_spawnattr_setpgroup(attr, 0) != 0 ||
            posix_spawnattr_setsigmask(attr, &empty) != 0 ||
            posix_spawnattr_setsigdefault(attr, &defaults) != 0 ||
            posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETSIGDEF) != 0) {
                free_argv(argv);
                return set_error(err, errlen, -ENOMEM, "token source: cannot set up the program");
        }
        r = posix_spawnp(&pid, argv[0], fa, attr, argv, environ);
        free_argv(argv);
        if (r != 0)
                return set_error(err, errlen, -r, "token source: cannot run %s: %s", ts->argv[0],
                                 strerror(r));
        /* Only the child may hold the write end, or its exit would never show as EOF. */
        close(TAKE_FD(out_w));
        deadline = now_ms() + ts->timeout_ms;
        pidfd = pidfd_open_(pid);

        for (;;) {
                struct pollfd p = {.fd = out_r, .events = POLLIN};
                int64_t left = deadline - now_ms();
                ssize_t n;

                if (left <= 0) {
                        kill_and_reap(pid);
                        explicit_bzero(buf, sizeof(buf));
                        return set_error(err, errlen, -ETIMEDOUT,
                                         "token source %s printed no token within %u ms",
                                         ts->argv[0], ts->timeout_ms);
                }
                if (poll(&p, 1, (int) left) < 0 && errno != EINTR) {
                        r = negative_errno();
                        kill_and_reap(pid);
                        explicit_bzero(buf, sizeof(buf));
                        return set_error(err, errlen, r, "token source: poll: %s", strerror(-r));
                }
                if (p.revents == 0)
                        continue;
                n = read(out_r, buf + size, sizeof(buf) - size);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0) {
                        r = negative_errno();
                        kill_and_reap(pid);
                        explicit_bzero(buf, sizeof(buf));
                        return set_error(err, errlen, r, "token source: read: %s", strerror(-r));
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > TOKEN_OUTPUT_MAX) {
                        kill_and_reap(pid);
                        explicit_bzero(buf, sizeof(buf));
                        return set_error(err, errlen, -EBADMSG,
                                         "token source %s printed more than %d bytes", ts->argv[0],
                                         TOKEN_OUTPUT_MAX);
                }
        }

        r = wait_until(pid, pidfd, deadline, &status);
        if (r < 0) {
                kill_and_reap(pid);
                explicit_bzero(buf, sizeof(buf));
                if (r == -ETIMEDOUT)
                        return set_error(err, errlen, r,
                                         "token source %s did not exit within %u ms", ts->argv[0],
                                         ts->timeout_ms);
                return set_error(err, errlen, r, "token source: waitpid: %s", strerror(-r));
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                explicit_bzero(buf, sizeof(buf));
                if (WIFSIGNALED(status))
                        return set_error(err, errlen, -EIO, "token source %s killed by signal %d",
                                         ts->argv[0], WTERMSIG(status));
                return set_error(err, errlen, -EIO, "token source %s exited with status %d",
                                 ts->argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        if (size > 0 && buf[size - 1] == '\n')
                size--;
        if (!token_is_valid(buf, size)) {
                explicit_bzero(buf, sizeof(buf));
                /* The size only: whatever it printed may be a secret of another shape. */
                return set_error(err, errlen, -EBADMSG,
                                 "token source %s printed %zu bytes that are not a kubeadm token",
                                 ts->argv[0], size);
        }
        memcpy(ret_token, buf, TOKEN_SIZE);
        ret_token[TOKEN_SIZE] = '\0';
        explicit_bzero(buf, sizeof(buf));
        return 0;
}

/* Marks the line at off used and hands out its token (line, len; complete is false for a
 * line too long to be one). The caller holds the lock and the flock. */
static int pool_take(struct token_source *ts, int fd, off_t off, const char *line, size_t len,
                     bool complete, char ret_token[TOKEN_SIZE + 1], char *err, size_t errlen)
{
        ssize_t n;

        do
                n = pwrite(fd, "#", 1, off);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                return set_error(err, errlen, n < 0 ? negative_errno() : -EIO,
                                 "pool:%s: cannot mark a line used: %m", ts->path);
        /* In the page cache before the token leaves, so a crash of the verifier never hands a
         * token out twice. No fdatasync: that would serialize every replica on the disk, and
         * surviving a power loss is not what a test pool needs. */
        if (!complete || !token_is_valid(line, len))
                return set_error(err, errlen, -EBADMSG,
                                 "pool:%s: the line at byte %lld is not a kubeadm token", ts->path,
                                 (long long) off);
        memcpy(ret_token, line, TOKEN_SIZE);
        ret_token[TOKEN_SIZE] = '\0';
        return 0;
}

static int pool_scan(struct token_source *ts, int fd, char ret_token[TOKEN_SIZE + 1], char *err,
                     size_t errlen)
{
        char buf[4096];
        off_t pos = ts->cursor;
        bool skipping = false; /* inside a long used line, looking for its end */
        int r = -ENOSPC;

        for (;;) {
                ssize_t n = pread(fd, buf, sizeof(buf), pos);
                size_t i = 0;
                bool reread = false;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = set_error(err, errlen, negative_errno(), "pool:%s: read: %m", ts->path);
                        break;
                }
                if (n == 0) {
                        ts->cursor = pos;
                        r = set_error(err, errlen, -ENOSPC, "pool:%s has no unused token",
                                      ts->path);
                        break;
                }
                if (skipping) {
                        char *nl = memchr(buf, '\n', (size_t) n);

                        if (!nl) {
                                pos += n;
                                continue;
                        }
                        i = (size_t) (nl - buf) + 1;
                        skipping = false;
                }
                while (i < (size_t) n) {
                        char *nl = memchr(buf + i, '\n', (size_t) n - i);
                        size_t end = nl ? (size_t) (nl - buf) : (size_t) n;
                        /* A short read only happens at the end of a regular file. */
                        bool complete = nl || (size_t) n < sizeof(buf);

                        if (!complete && i > 0) {
                                reread = true; /* read again from this line's start */
                                break;
                        }
                        if (end == i || buf[i] == '#') {
                                if (!complete) {
                                        skipping = true;
                                        break;
                                }
                                i = end + 1;
                                continue;
                        }
                        r = pool_take(ts, fd, pos + (off_t) i, buf + i, end - i, complete,
                                      ret_token, err, errlen);
                        /* Past this line, or onto it when its end is unknown: it now starts
                         * with '#' and is skipped. */
                        ts->cursor = pos + (off_t) (complete ? (nl ? end + 1 : end) : i);
                        explicit_bzero(buf, sizeof(buf));
                        return r;
                }
                pos += reread ? (off_t) i : n;
        }
        explicit_bzero(buf, sizeof(buf));
        return r;
}

static int pool_get(struct token_source *ts, char ret_token[TOKEN_SIZE + 1], char *err,
                    size_t errlen)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        /* The mutex orders this process's threads around the cursor; flock orders processes
         * (each open() is its own open file description, so threads would be ordered too). */
        pthread_mutex_lock(&ts->lock);
        fd = open(ts->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = set_error(err, errlen, negative_errno(), "pool:%s: cannot open: %m", ts->path);
                goto out;
        }
        while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
                ;
        if (r < 0 || fstat(fd, &st) < 0) {
                r = set_error(err, errlen, negative_errno(), "pool:%s: cannot lock: %m", ts->path);
                goto out;
        }
        /* Another file now, or this one cut shorter: the cursor means nothing there. */
        if (st.st_dev != ts->dev || st.st_ino != ts->ino || st.st_size < ts->cursor) {
                ts->dev = st.st_dev;
                ts->ino = st.st_ino;
                ts->cursor = 0;
        }
        r = pool_scan(ts, fd, ret_token, err, errlen);
out:
        if (fd >= 0)
                close(TAKE_FD(fd)); /* releases the flock */
        pthread_mutex_unlock(&ts->lock);
        return r;
}

int token_source_get(struct token_source *ts, const char *node, char ret_token[TOKEN_SIZE + 1],
                     char *err, size_t errlen)
{
        char token[TOKEN_SIZE + 1];
        int r;

        if (ts->kind == KIND_POOL)
                r = pool_get(ts, token, err, errlen);
        else
                r = exec_get(ts, node, token, err, errlen);
        if (r == 0)
                memcpy(ret_token, token, sizeof(token));
        explicit_bzero(token, sizeof(token));
        return r;
}
