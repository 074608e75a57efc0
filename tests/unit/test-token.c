/* SPDX-License-Identifier: GPL-2.0-or-later */
/* token_write_kubeconfig_at(): the exact kubeconfig on a real tmpfs (/dev/shm), its modes, and
 * every refusal: a disk file system (real or by the injected check), a file or symlink already
 * there, a symlinked directory, values that would break the YAML. */

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "lib/base64.h"
#include "fixtures/fixture-util.h"
#include "attest/token.h"
#include "util.h"

/* After our headers: cmocka's fail() macro would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define TOKEN  "abcdef.0123456789abcdef"
#define SERVER "https://10.0.0.1:6443"
#define CA_PEM "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

static char shm_dir[PATH_MAX];  /* on tmpfs */
static char disk_dir[PATH_MAX]; /* on the file system of the build tree, "" if that is tmpfs */

static const struct token_kubeconfig good = {
    .server = SERVER,
    .ca = (const uint8_t *) CA_PEM,
    .ca_size = sizeof(CA_PEM) - 1,
    .token = (const uint8_t *) TOKEN,
    .token_size = sizeof(TOKEN) - 1,
};

static int make_root(const char *base, const char *name, char *ret, size_t size)
{
        char run[PATH_MAX];

        if (fixture_pathf(ret, size, "%s/%s", base, name) < 0 ||
            fixture_pathf(run, sizeof(run), "%s/run", ret) < 0)
                return -1;
        if (mkdir(ret, 0755) < 0 || mkdir(run, 0755) < 0)
                return -1;
        return 0;
}

static int group_setup(void **state)
{
        struct statfs sf;

        (void) state;
        snprintf(shm_dir, sizeof(shm_dir), "/dev/shm/nodegate-test-token.XXXXXX");
        if (!mkdtemp(shm_dir))
                return -1;
        if (statfs(shm_dir, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
                return -1;
        /* The build tree is where the tests run; when it is tmpfs too, only the injected
         * check proves the refusal. */
        snprintf(disk_dir, sizeof(disk_dir), "build/tests/nodegate-test-token.XXXXXX");
        if (!mkdtemp(disk_dir))
                return -1;
        if (statfs(disk_dir, &sf) < 0)
                return -1;
        if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC) {
                fixture_rm_rf(disk_dir);
                disk_dir[0] = 0;
        }
        return 0;
}

static int group_teardown(void **state)
{
        (void) state;
        if (disk_dir[0])
                fixture_rm_rf(disk_dir);
        return fixture_rm_rf(shm_dir) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
        static char buf[8192];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return NULL;
        buf[n] = 0;
        return buf;
}

static void test_write(void **state)
{
        char root[PATH_MAX], path[PATH_MAX], dir[PATH_MAX], err[256] = "", expect[2048];
        char *ca64 = base64_encode_alloc((const uint8_t *) CA_PEM, sizeof(CA_PEM) - 1);
        struct stat st;

        (void) state;
        assert_non_null(ca64);
        assert_int_equal(make_root(shm_dir, "good", root, sizeof(root)), 0);
        umask(0); /* the file must be 0600 whatever the umask lets through */
        assert_int_equal(token_write_kubeconfig(root, &good, err, sizeof(err)), 0);
        umask(022);

        assert_int_equal(fixture_pathf(path, sizeof(path), "%s" TOKEN_KUBECONFIG, root), 0);
        assert_int_equal(fixture_pathf(dir, sizeof(dir), "%s" TOKEN_DIR, root), 0);
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(lstat(dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);

        snprintf(expect, sizeof(expect),
                 "apiVersion: v1\n"
                 "kind: Config\n"
                 "clusters:\n"
                 "- cluster:\n"
                 "    certificate-authority-data: %s\n"
                 "    server: " SERVER "\n"
                 "  name: kubernetes\n"
                 "contexts:\n"
                 "- context:\n"
                 "    cluster: kubernetes\n"
                 "    user: tls-bootstrap-token-user\n"
                 "  name: tls-bootstrap-token-user@kubernetes\n"
                 "current-context: tls-bootstrap-token-user@kubernetes\n"
                 "preferences: {}\n"
                 "users:\n"
                 "- name: tls-bootstrap-token-user\n"
                 "  user:\n"
                 "    token: " TOKEN "\n",
                 ca64);
        assert_string_equal(slurp(path), expect);
        free(ca64);

        /* Written once: a second handover must not replace (or follow) what is there. */
        assert_int_equal(token_write_kubeconfig(root, &good, err, sizeof(err)), -EEXIST);
        assert_non_null(strstr(err, "File exists"));

        /* Taken back: gone, and the directory stays. */
        assert_int_equal(token_remove_kubeconfig(root), 0);
        assert_int_equal(lstat(path, &st), -1);
        assert_int_equal(errno, ENOENT);
        assert_int_equal(token_remove_kubeconfig(root), -ENOENT);
}

/* Before a shell: everything in /run/nodegate overwritten and removed, the directory too; a
 * symlink there is removed, never followed; no directory at all is fine. */
static void test_wipe_dir(void **state)
{
        char root[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX], err[256];
        struct stat st;
        FILE *f;

        (void) state;
        assert_int_equal(make_root(shm_dir, "wipe", root, sizeof(root)), 0);
        assert_int_equal(token_wipe_dir(root), 0);
        assert_int_equal(token_write_kubeconfig(root, &good, err, sizeof(err)), 0);
        assert_int_equal(fixture_pathf(dir, sizeof(dir), "%s" TOKEN_DIR, root), 0);
        assert_int_equal(fixture_pathf(path, sizeof(path), "%s/leftover", dir), 0);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(TOKEN "\n", f);
        fclose(f);
        assert_int_equal(fixture_pathf(target, sizeof(target), "%s/elsewhere", root), 0);
        f = fopen(target, "w");
        assert_non_null(f);
        fclose(f);
        assert_int_equal(fixture_pathf(path, sizeof(path), "%s/link", dir), 0);
        assert_int_equal(symlink(target, path), 0);

        assert_int_equal(token_wipe_dir(root), 0);
        assert_int_equal(lstat(dir, &st), -1);
        assert_int_equal(errno, ENOENT);
        assert_int_equal(stat(target, &st), 0);
        assert_int_equal(token_wipe_dir(root), 0);
}

static void test_symlinks(void **state)
{
        char root[PATH_MAX], path[PATH_MAX], target[PATH_MAX], dir[PATH_MAX], err[256];
        struct stat st;

        (void) state;
        /* A symlink planted where the file goes is never followed. */
        assert_int_equal(make_root(shm_dir, "planted", root, sizeof(root)), 0);
        assert_int_equal(fixture_pathf(dir, sizeof(dir), "%s" TOKEN_DIR, root), 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_int_equal(fixture_pathf(path, sizeof(path), "%s" TOKEN_KUBECONFIG, root), 0);
        assert_int_equal(fixture_pathf(target, sizeof(target), "%s/elsewhere", root), 0);
        assert_int_equal(symlink(target, path), 0);
        assert_int_equal(token_write_kubeconfig(root, &good, err, sizeof(err)), -EEXIST);
        assert_int_equal(lstat(target, &st), -1);
        /* The existing directory was tightened to 0700 before anything was written. */
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);

        /* /run/nodegate itself a symlink (to a directory on disk, say): refused. */
        assert_int_equal(make_root(shm_dir, "dirlink", root, sizeof(root)), 0);
        assert_int_equal(fixture_pathf(dir, sizeof(dir), "%s" TOKEN_DIR, root), 0);
        assert_int_equal(fixture_pathf(target, sizeof(target), "%s/real", root), 0);
        assert_int_equal(mkdir(target, 0700), 0);
        assert_int_equal(symlink(target, dir), 0);
        assert_int_equal(token_write_kubeconfig(root, &good, err, sizeof(err)), -ENOTDIR);
        assert_non_null(strstr(err, "is not a directory"));
        assert_int_equal(fixture_pathf(path, sizeof(path), "%s/bootstrap-kubelet.conf", target), 0);
        assert_int_equal(lstat(path, &st), -1);

        /* No /run at all. */
        assert_int_equal(fixture_pathf(root, sizeof(root), "%s/no-run", shm_dir), 0);
        assert_int_equal(mkdir(root, 0755), 0);
        assert_int_equal(token_write_kubeconfig(root, &good, err, sizeof(err)), -ENOENT);
}

static bool never_ram(long f_type)
{
        (void) f_type;
        return false;
}

static bool always_ram(long f_type)
{
        (void) f_type;
        return true;
}

static void test_not_tmpfs(void **state)
{
        char root[PATH_MAX], path[PATH_MAX], err[256];
        struct stat st;

        (void) state;
        /* The injected check: a tmpfs it does not accept is refused, nothing is left. */
        assert_int_equal(make_root(shm_dir, "injected", root, sizeof(root)), 0);
        assert_int_equal(token_write_kubeconfig_at(root, &good, never_ram, err, sizeof(err)),
                         -EXDEV);
        assert_non_null(strstr(err, "is not on a tmpfs or ramfs"));
        assert_int_equal(fixture_pathf(path, sizeof(path), "%s" TOKEN_KUBECONFIG, root), 0);
        assert_int_equal(lstat(path, &st), -1);

        if (!disk_dir[0]) {
                print_message("the build tree is on tmpfs: no real disk to refuse\n");
                return;
        }
        /* A real disk file system. */
        assert_int_equal(make_root(disk_dir, "disk", root, sizeof(root)), 0);
        assert_int_equal(token_write_kubeconfig(root, &good, err, sizeof(err)), -EXDEV);
        assert_non_null(strstr(err, "would reach a disk"));
        assert_int_equal(fixture_pathf(path, sizeof(path), "%s" TOKEN_KUBECONFIG, root), 0);
        assert_int_equal(lstat(path, &st), -1);
        /* and the check is what decided: accepted when the check says so */
        assert_int_equal(token_write_kubeconfig_at(root, &good, always_ram, err, sizeof(err)), 0);
        assert_int_equal(lstat(path, &st), 0);
}

static void test_refused_values(void **state)
{
        static const char *const servers[] = {
            "http://10.0.0.1:6443", "https://",     "https://a b", "https://a\n    token: x",
            "https://a#b",          "https://a\"b", "ftp://x",     NULL,
        };
        static const char *const tokens[] = {
            "abcdef.0123456789abcde",  "abcdef.0123456789abcdef0", "ABCDEF.0123456789abcdef",
            "abcdef-0123456789abcdef", "abcdef.0123456789abcde\n", "abcdefg0123456789abcdef",
        };
        char root[PATH_MAX], path[PATH_MAX], err[256];
        struct token_kubeconfig k = good;
        struct stat st;

        (void) state;
        assert_int_equal(make_root(shm_dir, "refused", root, sizeof(root)), 0);
        assert_int_equal(fixture_pathf(path, sizeof(path), "%s" TOKEN_KUBECONFIG, root), 0);
        for (size_t i = 0; i < ELEMENTSOF(servers); i++) {
                k = good;
                k.server = servers[i];
                assert_int_equal(token_write_kubeconfig(root, &k, err, sizeof(err)), -EINVAL);
                assert_non_null(strstr(err, "API server URL"));
        }
        for (size_t i = 0; i < ELEMENTSOF(tokens); i++) {
                k = good;
                k.token = (const uint8_t *) tokens[i];
                k.token_size = strlen(tokens[i]);
                assert_false(token_is_valid(k.token, k.token_size, NULL));
                assert_int_equal(token_write_kubeconfig(root, &k, err, sizeof(err)), -EINVAL);
                assert_non_null(strstr(err, "not a kubeadm bootstrap token"));
        }
        k = good;
        k.ca_size = 0;
        assert_int_equal(token_write_kubeconfig(root, &k, err, sizeof(err)), -EINVAL);
        assert_int_equal(lstat(path, &st), -1);
}

static void test_token_id(void **state)
{
        char id[TOKEN_ID_SIZE + 1] = "";

        (void) state;
        assert_true(token_is_valid((const uint8_t *) TOKEN, strlen(TOKEN), id));
        assert_string_equal(id, "abcdef");
        assert_true(token_is_valid((const uint8_t *) "0a1b2c.zzzzzzzzzzzzzzzz", 23, NULL));
        assert_false(token_is_valid(NULL, 0, NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_write),     cmocka_unit_test(test_symlinks),
            cmocka_unit_test(test_not_tmpfs), cmocka_unit_test(test_refused_values),
            cmocka_unit_test(test_token_id),  cmocka_unit_test(test_wipe_dir),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
