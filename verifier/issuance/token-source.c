/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Token sources: exec (posix_spawn, stdout through a pipe, a deadline kept with poll and a
 * pidfd, the whole process group killed on timeout), pool (flock'ed file, used in place) and
 * kubernetes (kube-source.c). */
#include "issuance/token-source.h"

#include "issuance/kube-source.h"

#include "common/util-verifier.h"

#include <ctype.h>
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

enum kind { KIND_EXEC, KIND_POOL, KIND_KUBE };

struct token_source {
        enum kind kind;
        char **argv; /* exec: NULL-terminated */
        struct kube_source *kube;
        unsigned timeout_ms;
        char *path; /* pool */
        pthread_mutex_t lock;
        /* pool: every line before cursor is known used, in the file (dev, ino) */
        dev_t dev;
        ino_t ino;
        off_t cursor;
        /* pool: the records of FILE.issued read so far (up to index_end of the file (index_dev,
         * index_ino)), by boot tag; open addressing, a power-of-two number of slots */
        struct record_slot *index;
        size_t index_slots, index_used;
        off_t index_end;
        dev_t index_dev;
        ino_t index_ino;
};

struct record_slot {
        uint8_t tag[32];
        uint8_t hidden[TOKEN_SIZE];
        bool used;
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

/* For argument vectors that carried a token. */
static void free_argv_wiped(char **argv)
{
        if (!argv)
                return;
        for (char **a = argv; *a; a++)
                explicit_bzero(*a, strlen(*a));
        free_argv(argv);
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

static void index_clear(struct token_source *ts)
{
        if (ts->index)
                explicit_bzero(ts->index, ts->index_slots * sizeof(*ts->index));
        free(ts->index);
        ts->index = NULL;
        ts->index_slots = ts->index_used = 0;
        ts->index_end = 0;
}

void token_source_free(struct token_source *ts)
{
        if (!ts)
                return;
        index_clear(ts);
        kube_source_free(ts->kube);
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
        bool has_token = false;
        size_t n = 0;

        if (!argv || !argv[0] || !argv[0][0])
                return set_error(err, errlen, -EINVAL, "exec: needs a program");
        if (!program_found(argv[0]))
                return set_error(err, errlen, -ENOENT,
                                 "exec: program %s not found or not executable", argv[0]);
        for (; argv[n]; n++)
                has_token = has_token || strstr(argv[n], "{token}");
        /* Without {token} the program would choose the token, and a boot asking twice (a
         * replayed round 2, a retry, another replica) would get two. */
        if (!has_token)
                return set_error(err, errlen, -EINVAL,
                                 "exec: the command must take the boot's token as {token} (e.g. "
                                 "kubeadm token create {token} …): docs/PROTOCOL.md, \"Token "
                                 "sources\"");
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

        struct stat st;

        /* Read-write: every use marks a line. Checked now, not on the first attestation. */
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return set_error(err, errlen, negative_errno(),
                                 "pool:%s: cannot open read-write: %m", path);
        if (fstat(fd, &st) < 0) {
                int r = negative_errno();
                close(fd);
                return set_error(err, errlen, r, "pool:%s: cannot stat: %s", path, strerror(-r));
        }
        close(fd);
        if (!S_ISREG(st.st_mode))
                return set_error(err, errlen, -EINVAL, "pool:%s: not a regular file", path);
        /* The same rule as the shared secret's: unused tokens are credentials. */
        if (st.st_mode & (S_IRWXG | S_IRWXO))
                return set_error(err, errlen, -EPERM,
                                 "pool:%s has mode %04o: group and others must have no access "
                                 "(chmod 600)",
                                 path, (unsigned) (st.st_mode & 07777));
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

int token_source_new_kube(const char *kubeconfig, const struct kube_options *o,
                          struct token_source **ret, char *err, size_t errlen)
{
        struct token_source *ts;
        int r;

        ts = source_alloc(KIND_KUBE);
        if (!ts)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        r = kube_source_new(kubeconfig, o, &ts->kube, err, errlen);
        if (r < 0) {
                token_source_free(ts);
                return r;
        }
        *ret = ts;
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
        if (streq(spec, "kubernetes"))
                return token_source_new_kube(NULL, NULL, ret, err, errlen);
        if ((rest = startswith(spec, "kubernetes:"))) {
                if (!*rest)
                        return set_error(err, errlen, -EINVAL, "kubernetes: needs a kubeconfig");
                return token_source_new_kube(rest, NULL, ret, err, errlen);
        }
        return set_error(err, errlen, -EINVAL,
                         "token source must be exec:PROGRAM [ARG...], pool:FILE, kubernetes or "
                         "kubernetes:KUBECONFIG");
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* arg with every {node} and {token} replaced. @return malloc'ed string or NULL */
static char *substitute(const char *arg, const char *node, const char *token)
{
        static const char *const names[] = {"{node}", "{token}"};
        const char *values[] = {node, token};
        size_t len = 0;
        char *out, *o;

        /* Two passes over the same walk: count, then copy. */
        for (int pass = 0; pass < 2; pass++) {
                o = out = pass ? malloc(len + 1) : NULL;
                if (pass && !out)
                        return NULL;
                for (const char *p = arg; *p;) {
                        size_t k = 0;

                        while (k < 2 && !startswith(p, names[k]))
                                k++;
                        if (k < 2) {
                                size_t vlen = strlen(values[k]);

                                if (pass)
                                        o = mempcpy(o, values[k], vlen);
                                len += pass ? 0 : vlen;
                                p += strlen(names[k]);
                        } else {
                                if (pass)
                                        *o++ = *p;
                                len += pass ? 0 : 1;
                                p++;
                        }
                }
        }
        *o = '\0';
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

static int exec_get(struct token_source *ts, const struct token_request *rq,
                    char ret_token[TOKEN_SIZE + 1], char *err, size_t errlen)
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

        if (!rq->token || !token_is_valid(rq->token, strlen(rq->token)))
                return set_error(err, errlen, -EINVAL, "token source: no token for {token}");
        /* request.c admits only [a-z0-9.-]; a leading '-' would still be an option to the
         * program, and a leading '.' no host name. */
        if (rq->node && rq->node[0] && !isalnum((unsigned char) rq->node[0]))
                return set_error(err, errlen, -EINVAL,
                                 "token source: a node name must start with a letter or digit");
        while (ts->argv[argc])
                argc++;
        argv = calloc(argc + 1, sizeof(char *));
        if (!argv)
                return set_error(err, errlen, -ENOMEM, "out of memory");
        for (size_t i = 0; i < argc; i++)
                if (!(argv[i] = substitute(ts->argv[i], rq->node ? rq->node : "", rq->token))) {
                        free_argv_wiped(argv);
                        return set_error(err, errlen, -ENOMEM, "out of memory");
                }

        {
                int p[2];

                if (pipe2(p, O_CLOEXEC) < 0) {
                        r = negative_errno();
                        free_argv_wiped(argv);
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
                free_argv_wiped(argv);
                return set_error(err, errlen, -ENOMEM, "token source: cannot set up the program");
        }
        r = posix_spawnp(&pid, argv[0], fa, attr, argv, environ);
        free_argv_wiped(argv);
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
                                         "token source %s did not finish within %u ms", ts->argv[0],
                                         ts->timeout_ms);
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
        /* What it printed is not used: the token is the one it was given. */
        explicit_bzero(buf, sizeof(buf));
        memcpy(ret_token, rq->token, TOKEN_SIZE);
        ret_token[TOKEN_SIZE] = '\0';
        return 0;
}

#define RECORD_SIZE (64 + 1 + 2 * TOKEN_SIZE + 1) /* tag hex, blank, hidden token hex, \n */
#define RECORD_MAX  (64u << 20)

static struct record_slot *index_slot(struct record_slot *slots, size_t n_slots,
                                      const uint8_t tag[32])
{
        /* The tags are MACs under the shared secret: their first bytes are as good as random. */
        size_t i = ((size_t) tag[0] << 16 | (size_t) tag[1] << 8 | tag[2]) & (n_slots - 1);

        while (slots[i].used && memcmp(slots[i].tag, tag, 32) != 0)
                i = (i + 1) & (n_slots - 1);
        return &slots[i];
}

static int index_add(struct token_source *ts, const uint8_t tag[32],
                     const uint8_t hidden[TOKEN_SIZE])
{
        struct record_slot *slot;

        if (2 * (ts->index_used + 1) > ts->index_slots) {
                size_t n = ts->index_slots ? 2 * ts->index_slots : 1024;
                struct record_slot *grown = calloc(n, sizeof(*grown));

                if (!grown)
                        return -ENOMEM;
                for (size_t i = 0; i < ts->index_slots; i++)
                        if (ts->index[i].used)
                                *index_slot(grown, n, ts->index[i].tag) = ts->index[i];
                if (ts->index)
                        explicit_bzero(ts->index, ts->index_slots * sizeof(*ts->index));
                free(ts->index);
                ts->index = grown;
                ts->index_slots = n;
        }
        slot = index_slot(ts->index, ts->index_slots, tag);
        if (!slot->used)
                ts->index_used++;
        memcpy(slot->tag, tag, 32);
        memcpy(slot->hidden, hidden, TOKEN_SIZE); /* a second record of a boot: the last wins */
        slot->used = true;
        return 0;
}

/* Reads the records appended since the last call (by this process or another one) into the
 * index: each lookup costs what is new, not the whole file. The caller holds the flock. */
static int index_update(struct token_source *ts, int rec_fd, char *err, size_t errlen)
{
        char buf[RECORD_SIZE * 36];
        struct stat st;

        if (fstat(rec_fd, &st) < 0)
                return set_error(err, errlen, negative_errno(), "pool:%s.issued: stat: %m",
                                 ts->path);
        if (st.st_size % RECORD_SIZE != 0 || (uint64_t) st.st_size > RECORD_MAX)
                return set_error(err, errlen, -EBADMSG,
                                 "pool:%s.issued is damaged (%lld bytes, not whole records)",
                                 ts->path, (long long) st.st_size);
        if (st.st_dev != ts->index_dev || st.st_ino != ts->index_ino ||
            st.st_size < ts->index_end) {
                index_clear(ts);
                ts->index_dev = st.st_dev;
                ts->index_ino = st.st_ino;
        }
        while (ts->index_end < st.st_size) {
                size_t want = (size_t) (st.st_size - ts->index_end);
                ssize_t n =
                    pread(rec_fd, buf, want < sizeof(buf) ? want : sizeof(buf), ts->index_end);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || n % RECORD_SIZE != 0)
                        return set_error(err, errlen, n < 0 ? negative_errno() : -EIO,
                                         "pool:%s.issued: short read", ts->path);
                for (ssize_t i = 0; i < n; i += RECORD_SIZE) {
                        const char *rec = buf + i;
                        uint8_t tag[32], hidden[TOKEN_SIZE];
                        int r;

                        if (unhex_lower(rec, 64, tag, 32) < 0 || rec[64] != ' ' ||
                            rec[RECORD_SIZE - 1] != '\n' ||
                            unhex_lower(rec + 65, 2 * TOKEN_SIZE, hidden, TOKEN_SIZE) < 0) {
                                explicit_bzero(buf, sizeof(buf));
                                return set_error(err, errlen, -EBADMSG,
                                                 "pool:%s.issued: a damaged record at byte %lld",
                                                 ts->path, (long long) (ts->index_end + i));
                        }
                        r = index_add(ts, tag, hidden);
                        explicit_bzero(hidden, sizeof(hidden));
                        if (r < 0) {
                                explicit_bzero(buf, sizeof(buf));
                                return set_error(err, errlen, r, "out of memory");
                        }
                }
                ts->index_end += n;
        }
        explicit_bzero(buf, sizeof(buf));
        return 0;
}

/* Finds rq's boot in the pool's record file. @return 1 and its token, 0 if absent, or
 * negative errno */
static int record_find(struct token_source *ts, int rec_fd, const struct token_request *rq,
                       char ret_token[TOKEN_SIZE + 1], char *err, size_t errlen)
{
        const struct record_slot *slot;
        int r = index_update(ts, rec_fd, err, errlen);

        if (r < 0)
                return r;
        if (ts->index_slots == 0)
                return 0;
        slot = index_slot(ts->index, ts->index_slots, rq->boot_tag);
        if (!slot->used)
                return 0;
        for (size_t k = 0; k < TOKEN_SIZE; k++)
                ret_token[k] = (char) (slot->hidden[k] ^ rq->pool_pad[k]);
        ret_token[TOKEN_SIZE] = '\0';
        if (!token_is_valid(ret_token, TOKEN_SIZE)) {
                explicit_bzero(ret_token, TOKEN_SIZE + 1);
                return set_error(err, errlen, -EBADMSG,
                                 "pool:%s.issued: the record of this boot does not hold a token "
                                 "(another shared secret?)",
                                 ts->path);
        }
        return 1;
}

/* Appends the boot's record in one write(2), O_APPEND: records of two processes never mix. */
static int record_add(struct token_source *ts, int rec_fd, const struct token_request *rq,
                      const char *token, char *err, size_t errlen)
{
        char rec[RECORD_SIZE];
        uint8_t hidden[TOKEN_SIZE];
        ssize_t n;

        hex_encode(rq->boot_tag, 32, rec);
        rec[64] = ' ';
        for (size_t k = 0; k < TOKEN_SIZE; k++)
                hidden[k] = (uint8_t) token[k] ^ rq->pool_pad[k];
        hex_encode(hidden, TOKEN_SIZE, rec + 65);
        rec[RECORD_SIZE - 1] = '\n';
        do
                n = write(rec_fd, rec, sizeof(rec));
        while (n < 0 && errno == EINTR);
        explicit_bzero(hidden, sizeof(hidden));
        explicit_bzero(rec, sizeof(rec));
        if (n != (ssize_t) sizeof(rec))
                return set_error(err, errlen, n < 0 ? negative_errno() : -EIO,
                                 "pool:%s.issued: cannot record the issue: %m", ts->path);
        return 0;
}

/* Overwrites a used line completely (the token must not stay on the disk), or its first byte
 * when its end is unknown (then it is no token anyway). */
static int line_mark_used(struct token_source *ts, int fd, off_t off, size_t len, char *err,
                          size_t errlen)
{
        char hashes[TOKEN_OUTPUT_MAX];
        ssize_t n;

        if (len == 0 || len > sizeof(hashes))
                len = 1;
        memset(hashes, '#', len);
        do
                n = pwrite(fd, hashes, len, off);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t) len)
                return set_error(err, errlen, n < 0 ? negative_errno() : -EIO,
                                 "pool:%s: cannot mark a line used: %m", ts->path);
        return 0;
}

/* Hands out the line at off to rq's boot (line, len; complete is false for a line too long to
 * be one): the record first, then the line overwritten, so a failure between the two leaves
 * the token unused rather than given out unrecorded. The caller holds the lock and the flock.
 * In the page cache before the token leaves, so a crash of the verifier never hands a token
 * out twice. No fdatasync: that would serialize every replica on the disk, and surviving a
 * power loss is not what a test pool needs. */
static int pool_take(struct token_source *ts, int fd, int rec_fd, const struct token_request *rq,
                     off_t off, const char *line, size_t len, bool complete,
                     char ret_token[TOKEN_SIZE + 1], char *err, size_t errlen)
{
        int r;

        if (!complete || !token_is_valid(line, len)) {
                r = line_mark_used(ts, fd, off, complete ? len : 1, err, errlen);
                if (r < 0)
                        return r;
                return set_error(err, errlen, -EBADMSG,
                                 "pool:%s: the line at byte %lld is not a kubeadm token", ts->path,
                                 (long long) off);
        }
        r = record_add(ts, rec_fd, rq, line, err, errlen);
        if (r < 0)
                return r;
        r = line_mark_used(ts, fd, off, len, err, errlen);
        if (r < 0)
                return r;
        memcpy(ret_token, line, TOKEN_SIZE);
        ret_token[TOKEN_SIZE] = '\0';
        return 0;
}

static int pool_scan(struct token_source *ts, int fd, int rec_fd, const struct token_request *rq,
                     char ret_token[TOKEN_SIZE + 1], char *err, size_t errlen)
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
                        r = pool_take(ts, fd, rec_fd, rq, pos + (off_t) i, buf + i, end - i,
                                      complete, ret_token, err, errlen);
                        /* Past this line, or onto it when its end is unknown: it now starts
                         * with '#' and is skipped. Not when the record failed: the line is
                         * still unused. */
                        if (r == 0 || r == -EBADMSG)
                                ts->cursor = pos + (off_t) (complete ? (nl ? end + 1 : end) : i);
                        explicit_bzero(buf, sizeof(buf));
                        return r;
                }
                pos += reread ? (off_t) i : n;
        }
        explicit_bzero(buf, sizeof(buf));
        return r;
}

static int pool_get(struct token_source *ts, const struct token_request *rq,
                    char ret_token[TOKEN_SIZE + 1], bool *ret_reissued, char *err, size_t errlen)
{
        _cleanup_close_ int fd = -1, rec_fd = -1;
        char rec_path[4096];
        struct stat st;
        int r;

        if (!rq->boot_tag || !rq->pool_pad)
                return set_error(err, errlen, -EINVAL, "pool:%s: no boot to give a token to",
                                 ts->path);
        if (pathf(rec_path, sizeof(rec_path), "%s.issued", ts->path) < 0)
                return set_error(err, errlen, -ENAMETOOLONG, "pool:%s: path too long", ts->path);
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
        rec_fd =
            open(rec_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
        if (rec_fd < 0) {
                r = set_error(err, errlen, negative_errno(), "pool:%s: cannot open %s: %m",
                              ts->path, rec_path);
                goto out;
        }
        r = record_find(ts, rec_fd, rq, ret_token, err, errlen);
        if (r != 0) {
                if (r > 0 && ret_reissued)
                        *ret_reissued = true;
                r = r > 0 ? 0 : r;
                goto out;
        }
        /* Another file now, or this one cut shorter: the cursor means nothing there. */
        if (st.st_dev != ts->dev || st.st_ino != ts->ino || st.st_size < ts->cursor) {
                ts->dev = st.st_dev;
                ts->ino = st.st_ino;
                ts->cursor = 0;
        }
        r = pool_scan(ts, fd, rec_fd, rq, ret_token, err, errlen);
out:
        if (fd >= 0)
                close(TAKE_FD(fd)); /* releases the flock */
        pthread_mutex_unlock(&ts->lock);
        return r;
}

int token_source_get(struct token_source *ts, const struct token_request *rq,
                     char ret_token[TOKEN_SIZE + 1], bool *ret_reissued, char *err, size_t errlen)
{
        char token[TOKEN_SIZE + 1];
        bool reissued = false;
        int r;

        if (ts->kind == KIND_POOL)
                r = pool_get(ts, rq, token, &reissued, err, errlen);
        else if (ts->kind == KIND_KUBE) {
                r = kube_source_put(ts->kube, rq->token, rq->node, err, errlen);
                if (r == 0)
                        memcpy(token, rq->token, sizeof(token));
        } else
                r = exec_get(ts, rq, token, err, errlen);
        if (r == 0) {
                memcpy(ret_token, token, sizeof(token));
                if (ret_reissued)
                        *ret_reissued = reissued;
        }
        explicit_bzero(token, sizeof(token));
        return r;
}

bool token_source_is_exec(const struct token_source *ts)
{
        return ts->kind == KIND_EXEC || ts->kind == KIND_KUBE;
}
