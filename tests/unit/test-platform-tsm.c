/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/platform/configfs-tsm.c against fixture directories shaped like a configfs-tsm report
 * entry: the test plays the kernel (provider, generation, outblob, auxblob), one test per way
 * a request can go wrong, each asserting the refusal and that no evidence came back. */

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "fixture.h"
#include "platform/configfs-tsm.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const uint8_t inblob[TSM_INBLOB_SIZE] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f};

/* An SNP-report-sized outblob with a recognisable pattern. */
static uint8_t report[1184];

static void put(const struct fixture_dir *d, const char *name, const void *data, size_t size)
{
        char path[256];

        assert_int_equal(fixture_write(d, name, data, size, path, sizeof(path)), 0);
}

/* A complete, consistent entry: what sev-guest shows after a request. */
static void make_entry(struct fixture_dir *d)
{
        assert_int_equal(fixture_dir_make(d), 0);
        for (size_t i = 0; i < sizeof(report); i++)
                report[i] = (uint8_t) (i * 7 + 1);
        put(d, "provider", "sev_guest\n", 10);
        put(d, "generation", "1\n", 2);
        put(d, "inblob", "", 0);
        put(d, "outblob", report, sizeof(report));
        put(d, "auxblob", "certificate table", 17);
        put(d, "privlevel", "0\n", 2);
}

static void assert_no_evidence(const struct tsm_evidence *e)
{
        assert_null(e->outblob);
        assert_null(e->auxblob);
}

static void entry_good(void **state)
{
        struct fixture_dir d;
        struct tsm_evidence e = {};
        char err[TSM_ERROR_MAX] = "", path[256];
        uint8_t written[TSM_INBLOB_SIZE + 1];
        int fd;

        (void) state;
        make_entry(&d);
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), 0);
        assert_string_equal(e.provider, "sev_guest");
        assert_int_equal(e.outblob_size, sizeof(report));
        assert_memory_equal(e.outblob, report, sizeof(report));
        assert_int_equal(e.auxblob_size, 17);
        assert_memory_equal(e.auxblob, "certificate table", 17);
        assert_int_equal(e.generation, 1);
        /* The inblob went in as the 64 bytes, nothing more. */
        snprintf(path, sizeof(path), "%s/inblob", d.path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, written, sizeof(written)), TSM_INBLOB_SIZE);
        close(fd);
        assert_memory_equal(written, inblob, TSM_INBLOB_SIZE);
        tsm_evidence_done(&e);
        assert_null(e.outblob);
        fixture_dir_remove(&d);
}

/* Upstream KVM hosts often give no certificates: an empty or absent auxblob is no error. */
static void entry_without_auxblob(void **state)
{
        struct fixture_dir d;
        struct tsm_evidence e = {};
        char err[TSM_ERROR_MAX] = "", path[256];

        (void) state;
        make_entry(&d);
        snprintf(path, sizeof(path), "%s/auxblob", d.path);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), 0);
        assert_null(e.auxblob);
        assert_int_equal(e.auxblob_size, 0);
        assert_int_equal(e.outblob_size, sizeof(report));
        tsm_evidence_done(&e);

        put(&d, "auxblob", "", 0);
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), 0);
        assert_null(e.auxblob);
        tsm_evidence_done(&e);
        fixture_dir_remove(&d);
}

static void entry_missing_provider(void **state)
{
        struct fixture_dir d;
        struct tsm_evidence e = {};
        char err[TSM_ERROR_MAX] = "", path[256];

        (void) state;
        make_entry(&d);
        snprintf(path, sizeof(path), "%s/provider", d.path);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), -ENXIO);
        assert_non_null(strstr(err, "provider"));
        assert_no_evidence(&e);

        put(&d, "provider", "\n", 1); /* registered, but nobody behind it */
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), -ENXIO);
        assert_non_null(strstr(err, "provider"));
        assert_no_evidence(&e);
        fixture_dir_remove(&d);
}

/* The kernel refuses an inblob above what the provider takes with EFBIG; RLIMIT_FSIZE makes a
 * regular file do the same. */
static void entry_inblob_efbig(void **state)
{
        struct fixture_dir d;
        struct tsm_evidence e = {};
        char err[TSM_ERROR_MAX] = "";
        struct rlimit old, none = {0, 0};
        void (*old_handler)(int);
        int r;

        (void) state;
        make_entry(&d);
        old_handler = signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        none.rlim_max = old.rlim_max;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &none), 0);
        r = tsm_report_entry(d.path, inblob, &e, err, sizeof(err));
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, old_handler);
        assert_int_equal(r, -EFBIG);
        assert_non_null(strstr(err, "inblob"));
        assert_no_evidence(&e);
        fixture_dir_remove(&d);
}

static void entry_outblob_too_large(void **state)
{
        struct fixture_dir d;
        struct tsm_evidence e = {};
        char err[TSM_ERROR_MAX] = "";
        _cleanup_free_ uint8_t *big = calloc(1, TSM_OUTBLOB_MAX + 1);

        (void) state;
        make_entry(&d);
        assert_non_null(big);
        put(&d, "outblob", big, TSM_OUTBLOB_MAX + 1);
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), -EFBIG);
        assert_non_null(strstr(err, "outblob"));
        assert_no_evidence(&e);

        put(&d, "outblob", big, TSM_OUTBLOB_MAX); /* the limit itself is fine */
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), 0);
        tsm_evidence_done(&e);

        put(&d, "outblob", report, 0);
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), -ENODATA);
        assert_no_evidence(&e);
        fixture_dir_remove(&d);
}

/* The entry's attributes vanish when its provider's module is unloaded mid-request. */
static void entry_outblob_missing(void **state)
{
        struct fixture_dir d;
        struct tsm_evidence e = {};
        char err[TSM_ERROR_MAX] = "", path[256];

        (void) state;
        make_entry(&d);
        snprintf(path, sizeof(path), "%s/outblob", d.path);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "outblob"));
        assert_no_evidence(&e);

        assert_int_equal(
            tsm_report_entry("/nonexistent/tsm/report/x", inblob, &e, err, sizeof(err)), -ENOENT);
        assert_no_evidence(&e);
        fixture_dir_remove(&d);
}

static void entry_generation_garbage(void **state)
{
        struct fixture_dir d;
        struct tsm_evidence e = {};
        char err[TSM_ERROR_MAX] = "";

        (void) state;
        make_entry(&d);
        put(&d, "generation", "x1\n", 3);
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "generation"));
        assert_no_evidence(&e);
        fixture_dir_remove(&d);
}

/* Another writer's request between our two reads of generation: outblob is a FIFO, and the
 * "other writer" bumps generation while the gate reads the report. */
struct writer {
        char dir[64];
        const char *next_generation;
};

static void *concurrent_writer(void *p)
{
        struct writer *w = p;
        char fifo[128], gen[128], tmp[128];
        int fd, gfd;

        snprintf(fifo, sizeof(fifo), "%s/outblob", w->dir);
        snprintf(gen, sizeof(gen), "%s/generation", w->dir);
        snprintf(tmp, sizeof(tmp), "%s/generation.new", w->dir);
        fd = open(fifo, O_WRONLY | O_CLOEXEC); /* waits for the gate to open it */
        if (fd < 0)
                return NULL;
        if (write(fd, report, sizeof(report)) != (ssize_t) sizeof(report))
                abort();
        /* Before the gate sees the end of the report, so its second read comes after this. */
        gfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (gfd < 0 || write(gfd, w->next_generation, strlen(w->next_generation)) < 0)
                abort();
        close(gfd);
        if (rename(tmp, gen) < 0)
                abort();
        close(fd);
        return NULL;
}

static void run_with_writer(const char *next_generation, int expect)
{
        struct fixture_dir d;
        struct tsm_evidence e = {};
        char err[TSM_ERROR_MAX] = "", path[256];
        struct writer w = {.next_generation = next_generation};
        pthread_t thread;

        make_entry(&d);
        snprintf(path, sizeof(path), "%s/outblob", d.path);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkfifo(path, 0600), 0);
        /* auxblob is read after outblob: removing it keeps the FIFO the last thing read before
         * the second generation. */
        snprintf(path, sizeof(path), "%s/auxblob", d.path);
        assert_int_equal(unlink(path), 0);
        snprintf(w.dir, sizeof(w.dir), "%s", d.path);
        assert_int_equal(pthread_create(&thread, NULL, concurrent_writer, &w), 0);
        assert_int_equal(tsm_report_entry(d.path, inblob, &e, err, sizeof(err)), expect);
        pthread_join(thread, NULL);
        if (expect == -EBUSY) {
                assert_non_null(strstr(err, "generation"));
                assert_no_evidence(&e);
        } else {
                assert_int_equal(e.outblob_size, sizeof(report));
        }
        tsm_evidence_done(&e);
        fixture_dir_remove(&d);
}

static void entry_generation_mismatch(void **state)
{
        (void) state;
        run_with_writer("2\n", -EBUSY);
        /* The control: the same sequence without another writer succeeds. */
        run_with_writer("1\n", 0);
}

static bool dir_is_empty(const char *path)
{
        DIR *dir = opendir(path);
        struct dirent *de;
        bool empty = true;

        assert_non_null(dir);
        while ((de = readdir(dir)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        empty = false;
        closedir(dir);
        return empty;
}

/* tsm_report(): the entry is created under the root and removed whatever happened. A plain
 * directory's new entry has no provider (configfs would have populated it). */
static void report_removes_entry(void **state)
{
        struct fixture_dir d;
        struct tsm_evidence e = {};
        char err[TSM_ERROR_MAX] = "", provider[TSM_PROVIDER_MAX];

        (void) state;
        assert_int_equal(fixture_dir_make(&d), 0);
        assert_int_equal(tsm_report(d.path, inblob, &e, err, sizeof(err)), -ENXIO);
        assert_no_evidence(&e);
        assert_true(dir_is_empty(d.path));
        assert_int_equal(tsm_provider(d.path, provider, err, sizeof(err)), -ENXIO);
        assert_true(dir_is_empty(d.path));

        assert_int_equal(tsm_report("/nonexistent/tsm/report", inblob, &e, err, sizeof(err)),
                         -ENOENT);
        assert_non_null(strstr(err, "/nonexistent/tsm/report"));
        assert_int_equal(tsm_provider("/nonexistent/tsm/report", provider, err, sizeof(err)),
                         -ENOENT);
        fixture_dir_remove(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(entry_good),
            cmocka_unit_test(entry_without_auxblob),
            cmocka_unit_test(entry_missing_provider),
            cmocka_unit_test(entry_inblob_efbig),
            cmocka_unit_test(entry_outblob_too_large),
            cmocka_unit_test(entry_outblob_missing),
            cmocka_unit_test(entry_generation_garbage),
            cmocka_unit_test(entry_generation_mismatch),
            cmocka_unit_test(report_removes_entry),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
