/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Token sources against real processes and files: exec runs /bin/sh scripts (good, failing,
 * slow, chatty) with the boot's token; pool hands each line out once, to one boot, across
 * threads and processes, and the same line again to the same boot. */

#include "issuance/kube-source.h"
#include "issuance/token-source.h"
#include "util.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "verifier-test-util.h"

#define GOOD "abcdef.0123456789abcdef"

static char dir[] = "/tmp/test-verifier-token-XXXXXX";

static int setup(void **state)
{
        (void) state;
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        return test_remove_tree(dir);
}

static void test_format(void **state)
{
        static const struct {
                const char *s;
                bool ok;
        } rows[] = {
            {GOOD, true},
            {"000000.0000000000000000", true},
            {"zzzzzz.zzzzzzzzzzzzzzzz", true},
            {"abcdef.0123456789abcde", false},
            {"abcdef.0123456789abcdef0", false},
            {"abcde.0123456789abcdef0", false},
            {"Abcdef.0123456789abcdef", false},
            {"abcdef-0123456789abcdef", false},
            {"abcdef.0123456789abcdeF", false},
            {"abcdef.01234567_9abcdef", false},
            {"abcdefg0123456789abcdef", false},
            {"", false},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                if (token_is_valid(rows[i].s, strlen(rows[i].s)) != rows[i].ok)
                        fail_msg("row %zu: %s", i, rows[i].s);
        assert_true(token_is_valid(GOOD "\n", 23)); /* len is what counts */
        assert_false(token_is_valid(GOOD "\n", 24));
}

static void test_specs(void **state)
{
        static const struct {
                const char *spec;
                int ret;
                const char *err;
        } rows[] = {
            {"", -EINVAL,
             "token source must be exec:PROGRAM [ARG...], pool:FILE, kubernetes or "
             "kubernetes:KUBECONFIG"},
            {"kubernetes:", -EINVAL, "kubernetes: needs a kubeconfig"},
            {"kubernetes:/nonexistent/kubeconfig", -ENOENT, "kubeconfig /nonexistent/kubeconfig"},
            {"kubernetes", -EINVAL, "KUBERNETES_SERVICE_HOST"}, /* not in a pod */
            {"kubernetesx", -EINVAL, "token source must be"},
            {"kubeadm token create", -EINVAL, "token source must be"},
            {"pool:", -EINVAL, "pool: needs a file"},
            {"pool:/nonexistent/pool", -ENOENT, "cannot open read-write"},
            {"exec:", -EINVAL, "exec: needs a program"},
            {"exec:   ", -EINVAL, "exec: needs a program"},
            {"exec:/nonexistent/prog", -ENOENT, "not found or not executable"},
            {"exec:no-such-program-anywhere", -ENOENT, "not found or not executable"},
            {"exec:/bin/sh -c 'unbalanced", -EINVAL, "unbalanced quote"},
            {"exec:/bin/sh -c \"unbalanced", -EINVAL, "unbalanced quote"},
            {"exec:/bin/sh \\", -EINVAL, "trailing"},
            {"exec:/bin/sh", -EINVAL, "must take the boot's token as {token}"},
            {"exec:/bin/sh -c 'echo {node}'", -EINVAL, "must take the boot's token as {token}"},
            {"exec:/bin/sh -c true {token}", 0, NULL},
            {"exec:sh -c true x{token}x", 0, NULL}, /* found on PATH */
        };

        (void) state;
        unsetenv("KUBERNETES_SERVICE_HOST");
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct token_source *ts = NULL;
                char err[512] = "";
                int r = token_source_new(rows[i].spec, &ts, err, sizeof(err));

                if (r != rows[i].ret || (rows[i].err && !strstr(err, rows[i].err)))
                        fail_msg("row %zu (%s): got %d \"%s\"", i, rows[i].spec, r, err);
                token_source_free(ts);
        }
}

/* kubeadm's rule for auth-extra-groups: \Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z */
static void test_kube_groups(void **state)
{
        static const struct {
                const char *group;
                bool valid;
        } rows[] = {
            {"system:bootstrappers:nodegate", true},
            {"system:bootstrappers:kubeadm:default-node-token", true},
            {"system:bootstrappers:a", true},
            {"system:bootstrappers:", false},
            {"system:bootstrappers", false},
            {"system:bootstrappers:nodegate-", false},
            {"system:bootstrappers:nodegate:", false},
            {"system:bootstrappers:Nodegate", false},
            {"system:bootstrappers:node_gate", false},
            {"system:nodes", false},
            {"system:masters", false},
            {"xsystem:bootstrappers:nodegate", false},
        };
        char longest[21 + 256 + 1], too_long[21 + 257 + 1];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                if (kube_group_valid(rows[i].group, strlen(rows[i].group)) != rows[i].valid)
                        fail_msg("row %zu (%s): expected %s", i, rows[i].group,
                                 rows[i].valid ? "valid" : "invalid");
        memcpy(longest, "system:bootstrappers:", 21);
        memset(longest + 21, 'a', 256);
        longest[21 + 256] = '\0';
        assert_true(kube_group_valid(longest, strlen(longest)));
        memcpy(too_long, "system:bootstrappers:", 21);
        memset(too_long + 21, 'a', 257);
        too_long[21 + 257] = '\0';
        assert_false(kube_group_valid(too_long, strlen(too_long)));
}

static const uint8_t pad[32] = {0x5a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                                0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                                0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};

/* One boot's request: its tag from n, the derived token GOOD. */
static int get_boot(struct token_source *ts, uint32_t n, const char *node,
                    char token[TOKEN_SIZE + 1], bool *reissued, char *err, size_t errlen)
{
        uint8_t tag[32] = {};
        struct token_request rq = {.node = node, .token = GOOD, .boot_tag = tag, .pool_pad = pad};

        memcpy(tag, &n, sizeof(n));
        err[0] = '\0';
        return token_source_get(ts, &rq, token, reissued, err, errlen);
}

/* A new boot at every call: the tests of drawing tokens. */
static int get(struct token_source *ts, const char *node, char token[TOKEN_SIZE + 1], char *err,
               size_t errlen)
{
        static atomic_uint next = 1u << 31;

        return get_boot(ts, atomic_fetch_add(&next, 1), node, token, NULL, err, errlen);
}

static struct token_source *exec_source(const char *spec, unsigned timeout_ms)
{
        struct token_source *ts;
        char err[512];

        if (token_source_new(spec, &ts, err, sizeof(err)) != 0)
                fail_msg("%s: %s", spec, err);
        if (timeout_ms)
                token_source_set_timeout(ts, timeout_ms);
        return ts;
}

/* Quoting, {node} and {token}: the program sees exactly the words the spec means, and the
 * token it was given is the boot's, whatever it prints. */
static void test_exec_good(void **state)
{
        static const char *const specs[] = {
            "exec:/bin/sh -c 'test \"$1\" = " GOOD "' sh {token}",
            "exec:/bin/sh -c 'test \"$1\" = " GOOD " && echo another.0123456789abcdef' sh {token}",
            "exec:/bin/sh -c 'test \"$1\" = node-1 && test \"$2\" = " GOOD "' sh {node} {token}",
            "exec:/bin/sh -c 'test \"$1\" = \"x node-1 y " GOOD "\"' sh \"x {node} y {token}\"",
            "exec:/bin/sh -c 'test \"$1\" = \"a b\" && test $# = 2' sh a\\ b {token}",
            "exec:/bin/sh -c 'test \"$1\" = \"\"' sh '' {token}",
            /* stdin is /dev/null: read finds EOF at once instead of waiting */
            "exec:/bin/sh -c 'if read x; then exit 3; fi' sh {token}",
            /* nothing printed, or noise on stderr: the exit status is what counts */
            "exec:/bin/sh -c 'echo noise >&2' sh {token}",
            "exec:/bin/sh -c 'echo a token with this id already exists' sh {token}",
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
                struct token_source *ts = exec_source(specs[i], 0);
                char token[TOKEN_SIZE + 1], err[512];
                bool reissued = true;
                int r = get_boot(ts, 1, "node-1", token, &reissued, err, sizeof(err));

                if (r != 0)
                        fail_msg("%s: %d %s", specs[i], r, err);
                assert_string_equal(token, GOOD);
                assert_false(reissued); /* only a pool knows boots across replicas */
                token_source_free(ts);
        }
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void test_exec_refused(void **state)
{
        static const struct {
                const char *spec;
                int ret;
                const char *err;
        } rows[] = {
            {"exec:/bin/sh -c 'echo $1; exit 2' sh {token}", -EIO, "exited with status 2"},
            {"exec:/bin/sh -c 'echo $1; kill -9 $$' sh {token}", -EIO, "killed by signal 9"},
            {"exec:/bin/sh -c 'head -c 5000 /dev/zero' sh {token}", -EBADMSG,
             "printed more than 4096 bytes"},
            {"exec:/bin/sh -c 'sleep 5' sh {token}", -ETIMEDOUT, "did not finish within 300 ms"},
            /* prints, closes stdout, lingers */
            {"exec:/bin/sh -c 'echo $1; exec >&-; sleep 5' sh {token}", -ETIMEDOUT,
             "did not exit within 300 ms"},
            /* a name that could be taken for an option never reaches the program */
            {"exec:/bin/sh -c 'echo $1 > /dev/null' sh {node} {token}", -EINVAL,
             "must start with a letter or digit"},
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct token_source *ts = exec_source(rows[i].spec, 300);
                char token[TOKEN_SIZE + 1] = "untouched", err[512];
                double t0 = now_s();
                int r =
                    get(ts, i == ELEMENTSOF(rows) - 1 ? "-x" : "node-1", token, err, sizeof(err));

                if (r != rows[i].ret || !strstr(err, rows[i].err))
                        fail_msg("row %zu (%s): got %d \"%s\"", i, rows[i].spec, r, err);
                assert_string_equal(token, "untouched");
                /* nothing the program printed reaches the message */
                assert_null(strstr(err, GOOD));
                assert_null(strstr(err, GOOD + 7));
                assert_true(now_s() - t0 < 3.0);
                token_source_free(ts);
        }
}

/* A program that leaves a child holding stdout: on timeout the whole group dies. */
static void test_exec_kills_group(void **state)
{
        char spec[512], pidfile[256], err[512], token[TOKEN_SIZE + 1], buf[64];
        struct token_source *ts;
        pid_t pid = 0;
        FILE *f;

        (void) state;
        snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", dir);
        snprintf(spec, sizeof(spec), "exec:/bin/sh -c 'sleep 30 & echo $! > %s; wait' sh {token}",
                 pidfile);
        ts = exec_source(spec, 300);
        assert_int_equal(get(ts, "n", token, err, sizeof(err)), -ETIMEDOUT);
        token_source_free(ts);
        f = fopen(pidfile, "re");
        assert_non_null(f);
        assert_non_null(fgets(buf, sizeof(buf), f));
        fclose(f);
        pid = atoi(buf);
        assert_true(pid > 1);
        /* Gone, or a zombie waiting for init: either way not running. */
        for (int i = 0; i < 100; i++) {
                char path[64], stat[256] = "";
                snprintf(path, sizeof(path), "/proc/%d/stat", pid);
                f = fopen(path, "re");
                if (!f)
                        return;
                if (!fgets(stat, sizeof(stat), f))
                        stat[0] = '\0';
                fclose(f);
                char *close_paren = strrchr(stat, ')');
                if (close_paren && close_paren[2] == 'Z')
                        return;
                usleep(10000);
        }
        fail_msg("background child %d still running", pid);
}

struct exec_arg {
        struct token_source *ts;
        int ok;
};

static void *exec_thread(void *p)
{
        struct exec_arg *a = p;

        for (int i = 0; i < 10; i++) {
                char token[TOKEN_SIZE + 1], err[512];
                if (get(a->ts, "node-1", token, err, sizeof(err)) == 0 && streq(token, GOOD))
                        a->ok++;
        }
        return NULL;
}

static void test_exec_threads(void **state)
{
        struct token_source *ts =
            exec_source("exec:/bin/sh -c 'test \"$1\" = node-1' sh {node} {token}", 0);
        pthread_t th[4];
        struct exec_arg args[4];

        (void) state;
        for (int i = 0; i < 4; i++) {
                args[i] = (struct exec_arg){ts, 0};
                assert_int_equal(pthread_create(&th[i], NULL, exec_thread, &args[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
                assert_int_equal(pthread_join(th[i], NULL), 0);
                assert_int_equal(args[i].ok, 10);
        }
        token_source_free(ts);
}

/* ---- pool ---- */

static struct token_source *pool_source(const char *path)
{
        struct token_source *ts;
        char spec[300], err[512];

        snprintf(spec, sizeof(spec), "pool:%s", path);
        if (token_source_new(spec, &ts, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        return ts;
}

static void test_pool_each_once(void **state)
{
        char path[256], token[TOKEN_SIZE + 1], err[512], *text;
        struct token_source *ts;

        (void) state;
        snprintf(path, sizeof(path), "%s/pool", dir);
        test_write_text(path,
                        "# tokens for the tests\n"
                        "aaaaaa.0000000000000000\n"
                        "\n"
                        "#bbbbbb.0000000000000000\n"
                        "cccccc.0000000000000000\n"
                        "NOT-A-TOKEN\n"
                        "dddddd.0000000000000000",
                        0600); /* no final newline */
        ts = pool_source(path);
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), 0);
        assert_string_equal(token, "aaaaaa.0000000000000000");
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), 0);
        assert_string_equal(token, "cccccc.0000000000000000");
        /* a malformed line is refused, and used up so the next call moves on */
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "is not a kubeadm token"));
        assert_null(strstr(err, "NOT-A-TOKEN"));
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), 0);
        assert_string_equal(token, "dddddd.0000000000000000");
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), -ENOSPC);
        assert_non_null(strstr(err, "has no unused token"));
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), -ENOSPC);
        text = test_read_file(path, NULL);
        /* used lines overwritten whole: no used token stays on the disk */
        assert_string_equal(text, "# tokens for the tests\n"
                                  "#######################\n"
                                  "\n"
                                  "#bbbbbb.0000000000000000\n"
                                  "#######################\n"
                                  "###########\n"
                                  "#######################");
        free(text);

        /* tokens appended later are found past the cursor */
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "\neeeeee.0000000000000000\n", 25), 25);
        close(fd);
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), 0);
        assert_string_equal(token, "eeeeee.0000000000000000");
        token_source_free(ts);

        /* a new file renamed over the pool: the cursor starts again */
        char fresh[256];
        snprintf(fresh, sizeof(fresh), "%s/pool.new", dir);
        test_write_text(fresh, "ffffff.0000000000000000\n", 0600);
        ts = pool_source(path);
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), -ENOSPC);
        assert_int_equal(rename(fresh, path), 0);
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), 0);
        assert_string_equal(token, "ffffff.0000000000000000");
        token_source_free(ts);
}

static void test_pool_long_lines(void **state)
{
        char path[256], token[TOKEN_SIZE + 1], err[512];
        static char text[20000];
        struct token_source *ts;
        size_t o = 0;

        (void) state;
        snprintf(path, sizeof(path), "%s/pool-long", dir);
        /* a used line far longer than one read, a token split across reads, an unused long
         * line, then a token */
        text[o++] = '#';
        memset(text + o, 'x', 9000);
        o += 9000;
        text[o++] = '\n';
        memset(text + o, '\n', 4096 - 12 - (o % 4096));
        o += 4096 - 12 - (o % 4096);
        o += (size_t) sprintf(text + o, "gggggg.0000000000000000\n");
        memset(text + o, 'y', 5000);
        o += 5000;
        o += (size_t) sprintf(text + o, "\nhhhhhh.0000000000000000\n");
        test_write_text(path, text, 0600);

        ts = pool_source(path);
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), 0);
        assert_string_equal(token, "gggggg.0000000000000000");
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), -EBADMSG);
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), 0);
        assert_string_equal(token, "hhhhhh.0000000000000000");
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), -ENOSPC);
        token_source_free(ts);

        /* a second source on the same file (no cursor) skips all that was used */
        ts = pool_source(path);
        assert_int_equal(get(ts, NULL, token, err, sizeof(err)), -ENOSPC);
        token_source_free(ts);
}

#define POOL_N 400

static void make_pool(const char *path, int n)
{
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        for (int i = 0; i < n; i++)
                fprintf(f, "t%05d.0123456789abcdef\n", i);
        fclose(f);
        assert_int_equal(chmod(path, 0600), 0);
}

struct pool_arg {
        struct token_source *ts;
        int got[POOL_N];
        int n;
};

static void *pool_thread(void *p)
{
        struct pool_arg *a = p;

        for (;;) {
                char token[TOKEN_SIZE + 1], err[512];
                int r = get(a->ts, NULL, token, err, sizeof(err));

                if (r == -ENOSPC)
                        return NULL;
                if (r != 0 || a->n >= POOL_N)
                        return (void *) 1;
                a->got[a->n++] = atoi(token + 1);
        }
}

static void test_pool_threads(void **state)
{
        char path[256];
        struct token_source *ts, *ts2;
        static struct pool_arg args[6];
        pthread_t th[6];
        int seen[POOL_N] = {}, total = 0;

        (void) state;
        snprintf(path, sizeof(path), "%s/pool-threads", dir);
        make_pool(path, POOL_N);
        /* two sources on one file, as two replicas would have: each with its own cursor */
        ts = pool_source(path);
        ts2 = pool_source(path);
        for (int i = 0; i < 6; i++) {
                args[i].ts = i % 2 ? ts2 : ts;
                args[i].n = 0;
                assert_int_equal(pthread_create(&th[i], NULL, pool_thread, &args[i]), 0);
        }
        for (int i = 0; i < 6; i++) {
                void *ret;
                assert_int_equal(pthread_join(th[i], &ret), 0);
                assert_null(ret);
                for (int j = 0; j < args[i].n; j++) {
                        assert_true(args[i].got[j] >= 0 && args[i].got[j] < POOL_N);
                        seen[args[i].got[j]]++;
                }
                total += args[i].n;
        }
        assert_int_equal(total, POOL_N);
        for (int i = 0; i < POOL_N; i++)
                if (seen[i] != 1)
                        fail_msg("token %d handed out %d times", i, seen[i]);
        token_source_free(ts);
        token_source_free(ts2);
}

/* Processes share the file through flock: three children take tokens until none is left. */
static void test_pool_processes(void **state)
{
        char path[256];
        int pipes[3][2], seen[POOL_N] = {}, total = 0;
        pid_t pids[3];

        (void) state;
        snprintf(path, sizeof(path), "%s/pool-procs", dir);
        make_pool(path, POOL_N);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(pipe(pipes[i]), 0);
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        struct token_source *ts;
                        char spec[300], err[512], token[TOKEN_SIZE + 1];
                        int r;

                        close(pipes[i][0]);
                        snprintf(spec, sizeof(spec), "pool:%s", path);
                        if (token_source_new(spec, &ts, err, sizeof(err)) != 0)
                                _exit(1);
                        /* forked: each child's boots of its own (get()'s counter is
                         * copied at the fork) */
                        for (uint32_t k = (uint32_t) (i + 1) << 20;
                             (r = get_boot(ts, k, NULL, token, NULL, err, sizeof(err))) == 0; k++) {
                                int n = atoi(token + 1);
                                if (write(pipes[i][1], &n, sizeof(n)) != sizeof(n))
                                        _exit(1);
                        }
                        token_source_free(ts);
                        _exit(r == -ENOSPC ? 0 : 1);
                }
                close(pipes[i][1]);
        }
        for (int i = 0; i < 3; i++) {
                int n, status;
                while (read(pipes[i][0], &n, sizeof(n)) == sizeof(n)) {
                        assert_true(n >= 0 && n < POOL_N);
                        seen[n]++;
                        total++;
                }
                close(pipes[i][0]);
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        assert_int_equal(total, POOL_N);
        for (int i = 0; i < POOL_N; i++)
                if (seen[i] != 1)
                        fail_msg("token %d handed out %d times", i, seen[i]);
}

/* One boot, one line: the same boot asking again (a replayed round 2, a retry, another
 * replica on this host) gets the same token without using another line. */
static void test_pool_same_boot(void **state)
{
        char path[256], rec[300], token[TOKEN_SIZE + 1], again[TOKEN_SIZE + 1], err[512];
        struct token_source *ts, *ts2;
        bool reissued = true;
        size_t size;
        char *text;

        (void) state;
        snprintf(path, sizeof(path), "%s/pool-boots", dir);
        snprintf(rec, sizeof(rec), "%s.issued", path);
        test_write_text(path, "aaaaaa.1111111111111111\nbbbbbb.2222222222222222\n", 0600);
        ts = pool_source(path);
        ts2 = pool_source(path); /* another replica on the host */
        assert_int_equal(get_boot(ts, 7, "n", token, &reissued, err, sizeof(err)), 0);
        assert_string_equal(token, "aaaaaa.1111111111111111");
        assert_false(reissued);
        for (int i = 0; i < 3; i++) {
                reissued = false;
                assert_int_equal(
                    get_boot(i % 2 ? ts : ts2, 7, "n", again, &reissued, err, sizeof(err)), 0);
                assert_string_equal(again, token);
                assert_true(reissued);
        }
        /* another boot: the next line */
        assert_int_equal(get_boot(ts2, 8, "n", token, &reissued, err, sizeof(err)), 0);
        assert_string_equal(token, "bbbbbb.2222222222222222");
        assert_false(reissued);
        assert_int_equal(get_boot(ts, 9, "n", token, &reissued, err, sizeof(err)), -ENOSPC);

        /* the record: one line a boot, mode 0600, no token in the clear */
        text = test_read_file(rec, &size);
        assert_int_equal(size, 2 * 112);
        assert_null(strstr(text, "aaaaaa"));
        assert_null(strstr(text, "1111111111111111"));
        assert_null(strstr(text, "bbbbbb"));
        free(text);
        struct stat st;
        assert_int_equal(stat(rec, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* a damaged record file is an error, not a new token */
        assert_int_equal(truncate(rec, 111), 0);
        assert_int_equal(get_boot(ts, 7, "n", token, &reissued, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "is damaged"));
        token_source_free(ts);
        token_source_free(ts2);
}

/* Unused tokens are credentials: a pool others may read is refused, as the secret is. */
static void test_pool_mode(void **state)
{
        char path[256], spec[300], err[512];
        struct token_source *ts = NULL;

        (void) state;
        snprintf(path, sizeof(path), "%s/pool-open", dir);
        test_write_text(path, GOOD "\n", 0644);
        snprintf(spec, sizeof(spec), "pool:%s", path);
        assert_int_equal(token_source_new(spec, &ts, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "group and others must have no access"));
        assert_null(ts);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_format),           cmocka_unit_test(test_specs),
            cmocka_unit_test(test_kube_groups),      cmocka_unit_test(test_kube_groups),
            cmocka_unit_test(test_exec_good),        cmocka_unit_test(test_exec_refused),
            cmocka_unit_test(test_exec_kills_group), cmocka_unit_test(test_exec_threads),
            cmocka_unit_test(test_pool_each_once),   cmocka_unit_test(test_pool_long_lines),
            cmocka_unit_test(test_pool_threads),     cmocka_unit_test(test_pool_processes),
            cmocka_unit_test(test_pool_same_boot),   cmocka_unit_test(test_pool_mode),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
