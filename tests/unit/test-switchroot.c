/* SPDX-License-Identifier: GPL-2.0-or-later */
/* switchroot_verify_init() on fixture roots (one row per root, described file by file) and
 * switchroot_remove_tree() on temporary trees, including a mount it must not cross.
 * switchroot_move() needs PID 1 and an initramfs: it is covered by the QEMU scenarios. */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fixtures/fixture-util.h"
#include "boot/switchroot.h"
#include "util.h"

/* After our headers: cmocka's fail() macro would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static char fixture[PATH_MAX];
/* PT_INTERP of this very program: the dynamic loader every host binary names */
static char host_interp[PATH_MAX];

static int find_interp(struct dl_phdr_info *info, size_t size, void *data)
{
        (void) size;
        for (int i = 0; i < info->dlpi_phnum; i++)
                if (info->dlpi_phdr[i].p_type == PT_INTERP) {
                        snprintf(data, sizeof(host_interp), "%s",
                                 (const char *) (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr));
                        return 1;
                }
        return 1; /* the first object is the program itself: stop there */
}

static int group_setup(void **state)
{
        (void) state;
        dl_iterate_phdr(find_interp, host_interp);
        if (host_interp[0] != '/')
                return -1;
        return fixture_mkdtemp("test-switchroot", fixture, sizeof(fixture));
}

/* The tmpfs of test_remove_tree_mount() while it is mounted, for a test that stops half-way */
static char mounted[PATH_MAX];

static int group_teardown(void **state)
{
        (void) state;
        if (mounted[0])
                (void) umount2(mounted, MNT_DETACH);
        return fixture_rm_rf(fixture) == 0 ? 0 : -1;
}

/* ---- switchroot_verify_init() ---- */

enum entry_kind {
        END,
        FILE_, /* data is the content; "@ELF": a copy of /bin/true; "@LOADER": the host's
                * dynamic loader */
        DIR_,
        SYMLINK, /* data is the target */
};

struct entry {
        enum entry_kind kind;
        const char *path; /* "@INTERP": the path of the host's dynamic loader */
        const char *data;
        unsigned mode;
};

#define EXE    0755U
#define NOEXEC 0644U
#define SH_INIT                                                                                    \
        {                                                                                          \
                FILE_, "/sbin/init", "#!/bin/sh\nexec /bin/app\n", EXE                             \
        }
#define SH                                                                                         \
        {                                                                                          \
                FILE_, "/bin/sh", "a shell stand-in\n", EXE                                        \
        }

struct verify_row {
        const char *what;
        struct entry entries[8];
        const char *init;
        int ret;
        const char *failed; /* ret < 0: *ret_failed_path ("@INTERP" as above) */
};

static const struct verify_row verify_rows[] = {
    /* scripts and their interpreters */
    {"script whose interpreter is there", {SH_INIT, SH}, "/sbin/init", 0, NULL},
    {"shebang with a space and an argument",
     {{FILE_, "/sbin/init", "#! /bin/sh -e\n", EXE}, SH},
     "/sbin/init",
     0,
     NULL},
    {"interpreter missing", {SH_INIT}, "/sbin/init", -ENOENT, "/bin/sh"},
    {"interpreter not executable",
     {SH_INIT, {FILE_, "/bin/sh", "x", NOEXEC}},
     "/sbin/init",
     -EACCES,
     "/bin/sh"},
    {"interpreter is a directory",
     {SH_INIT, {DIR_, "/bin/sh", NULL, EXE}},
     "/sbin/init",
     -EISDIR,
     "/bin/sh"},
    {"interpreter is a symlink inside the root",
     {SH_INIT, {SYMLINK, "/bin/sh", "dash", 0}, {FILE_, "/bin/dash", "", EXE}},
     "/sbin/init",
     0,
     NULL},
    {"empty interpreter name",
     {{FILE_, "/sbin/init", "#!\n", EXE}},
     "/sbin/init",
     -ENOEXEC,
     "/sbin/init"},
    /* one level only: the interpreter's own interpreter is left to the exec */
    {"interpreter is a script with a missing interpreter",
     {SH_INIT, {FILE_, "/bin/sh", "#!/bin/nothing\n", EXE}},
     "/sbin/init",
     0,
     NULL},
    /* neither ELF nor #!: execve() would refuse it after the point of no return */
    {"empty executable", {{FILE_, "/sbin/init", "", EXE}}, "/sbin/init", -ENOEXEC, "/sbin/init"},
    {"executable text without #!",
     {{FILE_, "/sbin/init", "echo hello\n", EXE}},
     "/sbin/init",
     -ENOEXEC,
     "/sbin/init"},

    /* init itself */
    {"init missing", {SH}, "/sbin/init", -ENOENT, "/sbin/init"},
    {"init not executable",
     {{FILE_, "/sbin/init", "#!/bin/sh\n", NOEXEC}, SH},
     "/sbin/init",
     -EACCES,
     "/sbin/init"},
    {"init is a directory", {{DIR_, "/sbin/init", NULL, EXE}}, "/sbin/init", -EISDIR, "/sbin/init"},
    {"another init path",
     {{FILE_, "/usr/lib/systemd/systemd", "#!/bin/sh\n", EXE}, SH},
     "/usr/lib/systemd/systemd",
     0,
     NULL},

    /* symlinks resolve inside the root (the host has /bin/busybox and /bin/true) */
    {"absolute symlink to a file in the root",
     {{SYMLINK, "/sbin/init", "/bin/busybox", 0},
      {FILE_, "/bin/busybox", "\177ELF, as far as the check reads", EXE}},
     "/sbin/init",
     0,
     NULL},
    {"absolute symlink to a file only the host has",
     {{SYMLINK, "/sbin/init", "/bin/busybox", 0}},
     "/sbin/init",
     -ENOENT,
     "/sbin/init"},
    {"relative symlink escaping with ../../.., target only on the host",
     {{SYMLINK, "/sbin/init", "../../../../../../bin/true", 0}},
     "/sbin/init",
     -ENOENT,
     "/sbin/init"},
    /* the root's /bin/true is a script whose interpreter only the root has: reaching it
     * proves that ".." stopped at the root */
    {"relative symlink escaping with ../../.., target in the root",
     {{SYMLINK, "/sbin/init", "../../../../../../bin/true", 0},
      {FILE_, "/bin/true", "#!/only/in/the/root\n", EXE},
      {FILE_, "/only/in/the/root", "", EXE}},
     "/sbin/init",
     0,
     NULL},
    {"relative symlink escaping, the root's target names a missing interpreter",
     {{SYMLINK, "/sbin/init", "../../../../../../bin/true", 0},
      {FILE_, "/bin/true", "#!/only/in/the/root\n", EXE}},
     "/sbin/init",
     -ENOENT,
     "/only/in/the/root"},
    {"chain of symlinks",
     {{SYMLINK, "/sbin/init", "../lib/systemd/systemd", 0},
      {SYMLINK, "/lib", "usr/lib", 0},
      {FILE_, "/usr/lib/systemd/systemd", "#!/bin/sh\n", EXE},
      SH},
     "/sbin/init",
     0,
     NULL},
    {"dangling symlink",
     {{SYMLINK, "/sbin/init", "/bin/nothing", 0}},
     "/sbin/init",
     -ENOENT,
     "/sbin/init"},
    {"symlink to a directory",
     {{SYMLINK, "/sbin/init", "/bin", 0}, SH},
     "/sbin/init",
     -EISDIR,
     "/sbin/init"},

    /* ELF: PT_INTERP names the dynamic loader, which must be in the root */
    {"ELF init, loader missing",
     {{FILE_, "/sbin/init", "@ELF", EXE}},
     "/sbin/init",
     -ENOENT,
     "@INTERP"},
    {"ELF init, loader present",
     {{FILE_, "/sbin/init", "@ELF", EXE}, {FILE_, "@INTERP", "@LOADER", EXE}},
     "/sbin/init",
     0,
     NULL},
    {"ELF init, loader not executable",
     {{FILE_, "/sbin/init", "@ELF", EXE}, {FILE_, "@INTERP", "@LOADER", NOEXEC}},
     "/sbin/init",
     -EACCES,
     "@INTERP"},
    {"ELF init, loader a symlink within the root",
     {{FILE_, "/sbin/init", "@ELF", EXE},
      {SYMLINK, "@INTERP", "/usr/lib/the-loader", 0},
      {FILE_, "/usr/lib/the-loader", "@LOADER", EXE}},
     "/sbin/init",
     0,
     NULL},
};

static const char *expand_path(const char *p)
{
        return streq(p, "@INTERP") ? host_interp : p;
}

static void make_entry(const char *root, const struct entry *e)
{
        char path[PATH_MAX];

        assert_int_equal(fixture_pathf(path, sizeof(path), "%s%s", root, expand_path(e->path)), 0);
        assert_int_equal(fixture_sh("mkdir -p \"$(dirname '%s')\"", path), 0);
        switch (e->kind) {
        case FILE_:
                if (streq(e->data, "@ELF") || streq(e->data, "@LOADER")) {
                        char from[PATH_MAX];

                        assert_non_null(
                            realpath(streq(e->data, "@ELF") ? "/bin/true" : host_interp, from));
                        assert_int_equal(fixture_sh("cp '%s' '%s'", from, path), 0);
                        assert_int_equal(chmod(path, e->mode), 0);
                } else
                        assert_int_equal(fixture_write(path, e->data, strlen(e->data), e->mode), 0);
                break;
        case DIR_:
                assert_int_equal(mkdir(path, e->mode), 0);
                break;
        case SYMLINK:
                assert_int_equal(symlink(e->data, path), 0);
                break;
        default:
                break;
        }
}

static void test_verify_init(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(verify_rows); i++) {
                const struct verify_row *row = &verify_rows[i];
                char root[PATH_MAX];
                char *failed = (char *) "untouched";
                bool read_failed = row->ret < 0; /* must be written false on failure */
                int r;

                assert_int_equal(fixture_pathf(root, sizeof(root), "%s/root.XXXXXX", fixture), 0);
                assert_non_null(mkdtemp(root));
                for (const struct entry *e = row->entries; e->kind != END; e++)
                        make_entry(root, e);

                r = switchroot_verify_init(root, row->init, &read_failed, &failed);
                print_message("verify row %zu (%s): %d %s\n", i, row->what, r,
                              r < 0 ? strempty(failed) : "");
                assert_int_equal(r, row->ret);
                /* a real read error needs dm-verity: covered by the QEMU scenarios */
                assert_false(read_failed);
                if (r < 0) {
                        assert_non_null(failed);
                        assert_string_equal(failed, expand_path(row->failed));
                        free(failed);
                } else
                        assert_string_equal(failed, "untouched");
                assert_int_equal(fixture_rm_rf(root), 0);
        }
}

static void test_verify_init_no_root(void **state)
{
        char root[PATH_MAX];
        char *failed = NULL;
        bool read_failed = false;

        (void) state;
        assert_int_equal(fixture_pathf(root, sizeof(root), "%s/no-such-root", fixture), 0);
        assert_int_equal(switchroot_verify_init(root, "/sbin/init", &read_failed, &failed),
                         -ENOENT);
        assert_false(read_failed);
        free(failed);
        /* ret_failed_path is optional */
        assert_int_equal(switchroot_verify_init(fixture, "/sbin/init", &read_failed, NULL),
                         -ENOENT);
}

/* ---- switchroot_remove_tree() ---- */

struct tree {
        char top[PATH_MAX];     /* holds tree/ and outside/ */
        char tree[PATH_MAX];    /* what is removed */
        char outside[PATH_MAX]; /* what must survive */
};

static void tree_path(const struct tree *t, const char *rel, char *buf, size_t size)
{
        assert_int_equal(fixture_pathf(buf, size, "%s/%s", t->top, rel), 0);
}

static void tree_file(const struct tree *t, const char *rel)
{
        char path[PATH_MAX];

        tree_path(t, rel, path, sizeof(path));
        assert_int_equal(fixture_sh("mkdir -p \"$(dirname '%s')\"", path), 0);
        assert_int_equal(fixture_write(path, rel, strlen(rel), 0644), 0);
}

static void tree_link(const struct tree *t, const char *rel, const char *target)
{
        char path[PATH_MAX];

        tree_path(t, rel, path, sizeof(path));
        assert_int_equal(symlink(target, path), 0);
}

static bool tree_exists(const struct tree *t, const char *rel)
{
        char path[PATH_MAX];
        struct stat st;

        tree_path(t, rel, path, sizeof(path));
        return lstat(path, &st) == 0;
}

static void tree_new(struct tree *t)
{
        assert_int_equal(fixture_pathf(t->top, sizeof(t->top), "%s/tree.XXXXXX", fixture), 0);
        assert_non_null(mkdtemp(t->top));
        tree_path(t, "tree", t->tree, sizeof(t->tree));
        tree_path(t, "outside", t->outside, sizeof(t->outside));
        assert_int_equal(mkdir(t->tree, 0755), 0);
        tree_file(t, "outside/keep");
        tree_file(t, "outside/sub/keep-too");
}

static size_t count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* Runs switchroot_remove_tree() on t->tree with the tree's own device (or dev_delta added). */
static int remove_tree(const struct tree *t, unsigned long long dev_delta, unsigned max_depth)
{
        struct stat st;
        int fd, r;

        assert_int_equal(stat(t->tree, &st), 0);
        fd = open(t->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        r = switchroot_remove_tree(fd, (unsigned long long) st.st_dev + dev_delta, max_depth);
        assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC); /* the caller's fd stays open */
        assert_int_equal(close(fd), 0);
        return r;
}

static void test_remove_tree(void **state)
{
        struct tree t;
        char fifo[PATH_MAX];

        (void) state;
        tree_new(&t);
        tree_file(&t, "tree/file");
        tree_file(&t, "tree/.hidden");
        tree_file(&t, "tree/a/file");
        tree_file(&t, "tree/a/b/c/file");
        assert_int_equal(fixture_sh("mkdir -p '%s/empty/dir'", t.tree), 0);
        tree_path(&t, "tree/a/fifo", fifo, sizeof(fifo));
        assert_int_equal(mkfifo(fifo, 0600), 0);
        /* symlinks out of the tree: removed as links, never followed */
        tree_link(&t, "tree/abs-link", t.outside);
        tree_link(&t, "tree/a/rel-link", "../../outside");
        tree_link(&t, "tree/a/b/file-link", "../../../outside/keep");
        tree_link(&t, "tree/dangling", "/nonexistent/x");

        assert_int_equal(remove_tree(&t, 0, 64), 0);
        assert_int_equal(count_entries(t.tree), 0);
        assert_true(tree_exists(&t, "tree")); /* the directory itself is the caller's */
        assert_true(tree_exists(&t, "outside/keep"));
        assert_true(tree_exists(&t, "outside/sub/keep-too"));
        assert_int_equal(count_entries(t.outside), 2);
        assert_int_equal(fixture_rm_rf(t.top), 0);
}

/* Nested directories l1/l2/…/lN each holding a file: max_depth bounds how deep it goes. */
struct depth_row {
        unsigned levels, max_depth;
        int ret;
        unsigned kept_from; /* the first level whose file survives; 0: everything removed */
};

static const struct depth_row depth_rows[] = {
    {3, 64, 0, 0},       {3, 3, 0, 0},   {3, 2, -ELOOP, 3}, {3, 1, -ELOOP, 2},
    {3, 0, -ELOOP, 1},   {0, 0, 0, 0}, /* only files at the top: depth 0 is enough */
    {10, 9, -ELOOP, 10}, {10, 10, 0, 0},
};

static void test_remove_tree_depth(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(depth_rows); i++) {
                const struct depth_row *row = &depth_rows[i];
                char rel[PATH_MAX] = "tree";
                struct tree t;
                int r;

                tree_new(&t);
                tree_file(&t, "tree/top-file");
                for (unsigned l = 1; l <= row->levels; l++) {
                        char file[PATH_MAX];

                        snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "/l%u", l);
                        assert_int_equal(fixture_pathf(file, sizeof(file), "%s/file", rel), 0);
                        tree_file(&t, file);
                }

                r = remove_tree(&t, 0, row->max_depth);
                print_message("depth row %zu: %u levels, max_depth %u: %d\n", i, row->levels,
                              row->max_depth, r);
                assert_int_equal(r, row->ret);
                assert_false(tree_exists(&t, "tree/top-file"));
                /* each level's file: gone above the bound, untouched from it on */
                strcpy(rel, "tree");
                for (unsigned l = 1; l <= row->levels; l++) {
                        char file[PATH_MAX];

                        snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "/l%u", l);
                        assert_int_equal(fixture_pathf(file, sizeof(file), "%s/file", rel), 0);
                        assert_int_equal(tree_exists(&t, file),
                                         row->kept_from != 0 && l >= row->kept_from);
                }
                if (row->ret == 0)
                        assert_int_equal(count_entries(t.tree), 0);
                assert_int_equal(fixture_rm_rf(t.top), 0);
        }
}

/* Another file system below the tree (the new root, a moved /dev) is not descended into.
 * The tmpfs is mounted in a mount namespace of this test process's own, so that it goes away
 * with the process even when an assertion stops the test half-way. */
static void test_remove_tree_mount(void **state)
{
        char mnt[PATH_MAX];
        struct tree t;

        (void) state;
        tree_new(&t);
        tree_file(&t, "tree/file");
        tree_file(&t, "tree/mnt/hidden-under-mount");
        tree_path(&t, "tree/mnt", mnt, sizeof(mnt));
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", mnt, "tmpfs", 0, "size=1m") < 0) {
                print_message("cannot mount a tmpfs in a private mount namespace (%s): "
                              "the mount boundary is not tested here\n",
                              strerror(errno));
                assert_int_equal(fixture_rm_rf(t.top), 0);
                skip();
        }
        strcpy(mounted, mnt);
        tree_file(&t, "tree/mnt/on-the-mount");

        assert_int_equal(remove_tree(&t, 0, 64), 0);
        assert_false(tree_exists(&t, "tree/file"));
        assert_true(tree_exists(&t, "tree/mnt/on-the-mount"));
        assert_int_equal(umount(mnt), 0);
        mounted[0] = 0;
        assert_true(tree_exists(&t, "tree/mnt/hidden-under-mount"));
        assert_int_equal(fixture_rm_rf(t.top), 0);
}

/* A dev that is not the tree's: nothing at all is removed. */
static void test_remove_tree_other_dev(void **state)
{
        struct tree t;

        (void) state;
        tree_new(&t);
        tree_file(&t, "tree/file");
        tree_file(&t, "tree/a/file");
        assert_int_equal(remove_tree(&t, 1, 64), 0);
        assert_true(tree_exists(&t, "tree/file"));
        assert_true(tree_exists(&t, "tree/a/file"));
        assert_int_equal(remove_tree(&t, 0, 64), 0);
        assert_int_equal(count_entries(t.tree), 0);
        assert_int_equal(fixture_rm_rf(t.top), 0);
}

static void test_remove_tree_bad_fd(void **state)
{
        (void) state;
        assert_int_equal(switchroot_remove_tree(-1, 0, 64), -EBADF);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_verify_init),        cmocka_unit_test(test_verify_init_no_root),
            cmocka_unit_test(test_remove_tree),        cmocka_unit_test(test_remove_tree_depth),
            cmocka_unit_test(test_remove_tree_mount),  cmocka_unit_test(test_remove_tree_other_dev),
            cmocka_unit_test(test_remove_tree_bad_fd),
        };

        print_message("%zu verify rows, %zu depth rows\n", ELEMENTSOF(verify_rows),
                      ELEMENTSOF(depth_rows));
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
