/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mkcpio: writes a deterministic newc cpio archive from a gen_init_cpio-style spec file.
 * Owners, modes and device numbers come from the spec, never from the host, so no root is needed
 * and the same spec plus the same file contents always give the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define NEWC_MAGIC       "070701"
#define NEWC_HEADER_SIZE 110U
#define NEWC_TRAILER     "TRAILER!!!"
#define SPEC_MAX_FIELDS  9
/* Linux's dev_t: 12-bit major, 20-bit minor. Larger numbers cannot name a real device. */
#define DEV_MAJOR_MAX 0xfffU
#define DEV_MINOR_MAX 0xfffffU

struct entry {
        char *name;    /* path inside the archive, without the leading '/' */
        char *source;  /* file: host path to copy; slink: link target; else NULL */
        uint32_t type; /* S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR or S_IFBLK */
        uint32_t perm; /* 07777 at most: type bits always come from the keyword */
        uint32_t uid, gid;
        uint32_t rmajor, rminor;
        uint32_t nlink; /* directories: 2 + subdirectories, everything else: 1 (no hardlinks) */
        unsigned line;
};

struct archive {
        struct entry *entries;
        size_t n, allocated;
};

struct writer {
        FILE *f;
        uint64_t offset; /* for the 4-byte alignment newc asks for */
};

static void archive_done(struct archive *a)
{
        for (size_t i = 0; i < a->n; i++) {
                free(a->entries[i].name);
                free(a->entries[i].source);
        }
        free(a->entries);
        *a = (struct archive){0};
}

/* @return 0 and the value, or -EINVAL when s is not a number in base with a value <= max. */
static int parse_u32(const char *s, int base, uint32_t max, uint32_t *ret)
{
        const char *digits = base == 8 ? "01234567" : "0123456789";
        unsigned long long v;
        char *end;

        if (!s || !*s || strspn(s, digits) != strlen(s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, base);
        if (errno != 0 || *end || v > max)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* Only canonical absolute paths: a spec that says "/a/../b" or "/a//b" is almost certainly a bug
 * in whatever generated it, and the kernel's unpacker would not normalise it for us. */
static const char *check_path(const char *p)
{
        const char *c;

        if (p[0] != '/')
                return "path must be absolute";
        if (p[1] == '\0')
                return "path must not be / (the archive's root always exists)";
        if (strlen(p) >= PATH_MAX)
                return "path too long";
        if (p[strlen(p) - 1] == '/')
                return "path must not end with /";
        for (c = p; c; c = strchr(c + 1, '/')) {
                const char *next = c + 1;
                size_t len = strcspn(next, "/");

                if (len == 0)
                        return "path must not contain //";
                if ((len == 1 && next[0] == '.') || (len == 2 && next[0] == '.' && next[1] == '.'))
                        return "path must not contain . or .. components";
        }
        return NULL;
}

/* Parses one spec line into e. @return 0, or -EINVAL with *ret_reason set to a static string. */
static int parse_line(char *line, struct entry *e, const char **ret_reason)
{
        char *field[SPEC_MAX_FIELDS + 1] = {0};
        char *save = NULL, *tok;
        size_t n = 0;
        const char *mode_s, *uid_s, *gid_s, *reason;
        size_t want;

#define FAIL(msg)                                                                                  \
        do {                                                                                       \
                *ret_reason = (msg);                                                               \
                return -EINVAL;                                                                    \
        } while (0)

        for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
                if (n > SPEC_MAX_FIELDS)
                        FAIL("too many fields");
                field[n++] = tok;
        }

        if (streq(field[0], "dir")) {
                want = 5;
                e->type = S_IFDIR;
                mode_s = field[2], uid_s = field[3], gid_s = field[4];
        } else if (streq(field[0], "file")) {
                want = 6;
                e->type = S_IFREG;
                mode_s = field[3], uid_s = field[4], gid_s = field[5];
        } else if (streq(field[0], "slink")) {
                want = 6;
                e->type = S_IFLNK;
                mode_s = field[3], uid_s = field[4], gid_s = field[5];
        } else if (streq(field[0], "nod")) {
                want = 8;
                mode_s = field[2], uid_s = field[3], gid_s = field[4];
        } else if (streq(field[0], "pipe") || streq(field[0], "sock")) {
                FAIL("pipe and sock entries are not supported");
        } else {
                FAIL("unknown entry type (want dir, file, nod or slink)");
        }
        if (n < want)
                FAIL("too few fields");
        if (n > want)
                FAIL(e->type == S_IFREG ? "too many fields (hardlinks are not supported)"
                                        : "too many fields");

        reason = check_path(field[1]);
        if (reason)
                FAIL(reason);
        if (parse_u32(mode_s, 8, 07777, &e->perm) < 0)
                FAIL("mode must be octal permission bits, at most 7777");
        if (parse_u32(uid_s, 10, UINT32_MAX, &e->uid) < 0)
                FAIL("uid must be a decimal number");
        if (parse_u32(gid_s, 10, UINT32_MAX, &e->gid) < 0)
                FAIL("gid must be a decimal number");

        if (streq(field[0], "nod")) {
                if (streq(field[5], "c"))
                        e->type = S_IFCHR;
                else if (streq(field[5], "b"))
                        e->type = S_IFBLK;
                else
                        FAIL("device type must be c or b");
                if (parse_u32(field[6], 10, DEV_MAJOR_MAX, &e->rmajor) < 0)
                        FAIL("major must be a decimal number below 4096");
                if (parse_u32(field[7], 10, DEV_MINOR_MAX, &e->rminor) < 0)
                        FAIL("minor must be a decimal number below 1048576");
        }
        if (e->type == S_IFREG || e->type == S_IFLNK) {
                if (strlen(field[2]) >= PATH_MAX)
                        FAIL(e->type == S_IFREG ? "source path too long" : "target too long");
                e->source = strdup(field[2]);
                if (!e->source)
                        FAIL("out of memory");
        }
        e->name = strdup(field[1] + 1);
        if (!e->name) {
                free(e->source);
                e->source = NULL;
                FAIL("out of memory");
        }
        e->nlink = e->type == S_IFDIR ? 2 : 1;
        return 0;
#undef FAIL
}

static int archive_add(struct archive *a, const struct entry *e)
{
        if (a->n == a->allocated) {
                size_t m = a->allocated ? a->allocated * 2 : 64;
                struct entry *p = realloc(a->entries, m * sizeof(*p));

                if (!p)
                        return -ENOMEM;
                a->entries = p;
                a->allocated = m;
        }
        a->entries[a->n++] = *e;
        return 0;
}

/* Reads the whole spec. Errors are printed here, with the line, because only here is it known. */
static int archive_read_spec(struct archive *a, FILE *f, const char *spec_name)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        unsigned lineno = 0;
        ssize_t len;

        errno = 0;
        while ((len = getline(&line, &size, f)) >= 0) {
                struct entry e = {0};
                const char *reason = NULL;
                char *p;
                int r;

                lineno++;
                if ((size_t) len != strlen(line)) {
                        fprintf(stderr, "mkcpio: %s:%u: NUL byte in line\n", spec_name, lineno);
                        return -EINVAL;
                }
                line[strcspn(line, "\n")] = '\0';
                p = line + strspn(line, " \t\r");
                if (*p == '\0' || *p == '#')
                        continue;

                r = parse_line(p, &e, &reason);
                if (r < 0) {
                        fprintf(stderr, "mkcpio: %s:%u: %s\n", spec_name, lineno, reason);
                        return r;
                }
                e.line = lineno;
                r = archive_add(a, &e);
                if (r < 0) {
                        free(e.name);
                        free(e.source);
                        fprintf(stderr, "mkcpio: %s: %s\n", spec_name, strerror(-r));
                        return r;
                }
                errno = 0;
        }
        if (ferror(f) || errno != 0) {
                int r = negative_errno();
                fprintf(stderr, "mkcpio: %s: read error: %s\n", spec_name, strerror(-r));
                return r;
        }
        return 0;
}

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const struct entry *) a)->name, ((const struct entry *) b)->name);
}

static struct entry *archive_find(struct archive *a, const char *name)
{
        struct entry key = {.name = (char *) name};
        return bsearch(&key, a->entries, a->n, sizeof(*a->entries), entry_cmp);
}

/* Sorting by byte value puts every directory before its children (a prefix sorts first), which
 * the kernel needs: its unpacker creates nothing implicitly. Then every parent must be a dir. */
static int archive_sort_and_check(struct archive *a, const char *spec_name)
{
        qsort(a->entries, a->n, sizeof(*a->entries), entry_cmp);

        for (size_t i = 0; i < a->n; i++) {
                struct entry *e = &a->entries[i], *parent;
                _cleanup_free_ char *dir = NULL;
                char *slash;

                if (i > 0 && streq(a->entries[i - 1].name, e->name)) {
                        fprintf(stderr, "mkcpio: %s:%u: /%s already defined on line %u\n",
                                spec_name, e->line, e->name, a->entries[i - 1].line);
                        return -EEXIST;
                }
                slash = strrchr(e->name, '/');
                if (!slash)
                        continue;
                dir = strndup(e->name, (size_t) (slash - e->name));
                if (!dir)
                        return -ENOMEM;
                parent = archive_find(a, dir);
                if (!parent || parent->type != S_IFDIR) {
                        fprintf(stderr, "mkcpio: %s:%u: parent /%s of /%s is %s\n", spec_name,
                                e->line, dir, e->name,
                                parent ? "not a directory" : "not in the spec");
                        return -ENOENT;
                }
                if (e->type == S_IFDIR)
                        parent->nlink++;
        }
        return 0;
}

static int writer_put(struct writer *w, const void *data, size_t len)
{
        if (len > 0 && fwrite(data, 1, len, w->f) != len)
                return negative_errno();
        w->offset += len;
        return 0;
}

static int writer_pad4(struct writer *w)
{
        static const char zeros[4];
        return writer_put(w, zeros, (size_t) ((4 - w->offset % 4) % 4));
}

static int write_header(struct writer *w, uint32_t ino, uint32_t mode, const struct entry *e,
                        uint32_t mtime, uint32_t filesize, const char *name)
{
        char hdr[NEWC_HEADER_SIZE + 1];
        size_t namesize = strlen(name) + 1;
        int r;

        /* devmajor/devminor (the device the file "came from") stay 0: with nlink 1 on every
         * non-directory, no extractor has a reason to look at them for hardlink detection. */
        snprintf(hdr, sizeof(hdr),
                 "%s%08" PRIX32 "%08" PRIX32 "%08" PRIX32 "%08" PRIX32 "%08" PRIX32 "%08" PRIX32
                 "%08" PRIX32 "%08" PRIX32 "%08" PRIX32 "%08" PRIX32 "%08" PRIX32 "%08" PRIX32
                 "%08" PRIX32,
                 NEWC_MAGIC, ino, mode, e->uid, e->gid, e->nlink, mtime, filesize, (uint32_t) 0,
                 (uint32_t) 0, e->rmajor, e->rminor, (uint32_t) namesize, (uint32_t) 0);
        r = writer_put(w, hdr, NEWC_HEADER_SIZE);
        if (r < 0)
                return r;
        r = writer_put(w, name, namesize);
        if (r < 0)
                return r;
        return writer_pad4(w);
}

/* Copies exactly size bytes of fd: a source that grows or shrinks while we read would otherwise
 * produce an archive whose header lies about the data that follows. */
static int copy_file(struct writer *w, int fd, uint32_t size)
{
        char buf[65536];
        uint64_t left = size;

        while (left > 0) {
                ssize_t n = read(fd, buf, left < sizeof(buf) ? (size_t) left : sizeof(buf));
                int r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -ENODATA;
                r = writer_put(w, buf, (size_t) n);
                if (r < 0)
                        return r;
                left -= (uint64_t) n;
        }
        if (read(fd, buf, 1) != 0)
                return -EBUSY;
        return writer_pad4(w);
}

static int write_entry(struct writer *w, const struct entry *e, uint32_t ino, uint32_t mtime,
                       const char *spec_name)
{
        uint32_t mode = e->type | e->perm;
        int r;

        if (e->type == S_IFREG) {
                _cleanup_close_ int fd = -1;
                struct stat st;

                fd = open(e->source, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0 || fstat(fd, &st) < 0) {
                        r = negative_errno();
                        fprintf(stderr, "mkcpio: %s:%u: %s: %s\n", spec_name, e->line, e->source,
                                strerror(-r));
                        return r;
                }
                if (!S_ISREG(st.st_mode)) {
                        fprintf(stderr, "mkcpio: %s:%u: %s is not a regular file\n", spec_name,
                                e->line, e->source);
                        return -EINVAL;
                }
                if ((uint64_t) st.st_size > UINT32_MAX) {
                        fprintf(stderr, "mkcpio: %s:%u: %s is too large for newc (4 GiB)\n",
                                spec_name, e->line, e->source);
                        return -EFBIG;
                }
                r = write_header(w, ino, mode, e, mtime, (uint32_t) st.st_size, e->name);
                if (r >= 0)
                        r = copy_file(w, fd, (uint32_t) st.st_size);
                if (r < 0) {
                        fprintf(stderr, "mkcpio: %s:%u: copying %s: %s\n", spec_name, e->line,
                                e->source,
                                r == -ENODATA || r == -EBUSY ? "file changed while reading"
                                                             : strerror(-r));
                        return r;
                }
                return 0;
        }
        if (e->type == S_IFLNK) {
                uint32_t len = (uint32_t) strlen(e->source);

                r = write_header(w, ino, mode, e, mtime, len, e->name);
                if (r >= 0)
                        r = writer_put(w, e->source, len);
                if (r >= 0)
                        r = writer_pad4(w);
        } else {
                r = write_header(w, ino, mode, e, mtime, 0, e->name);
        }
        if (r < 0)
                fprintf(stderr, "mkcpio: write error: %s\n", strerror(-r));
        return r;
}

static int archive_write(const struct archive *a, struct writer *w, uint32_t mtime,
                         const char *spec_name)
{
        static const struct entry trailer = {.nlink = 1};
        int r;

        for (size_t i = 0; i < a->n; i++) {
                /* Sequential inode numbers, starting at 1: unique without asking the host. */
                r = write_entry(w, &a->entries[i], (uint32_t) (i + 1), mtime, spec_name);
                if (r < 0)
                        return r;
        }
        r = write_header(w, 0, 0, &trailer, 0, 0, NEWC_TRAILER);
        if (r < 0)
                fprintf(stderr, "mkcpio: write error: %s\n", strerror(-r));
        return r;
}

/* The archive's only timestamp. Required rather than defaulted to "now" or 0, so that a build
 * that forgot to pin it fails loudly instead of silently producing a different archive. */
static int get_mtime(uint32_t *ret)
{
        const char *s = getenv("SOURCE_DATE_EPOCH");

        if (!s || !*s) {
                fprintf(stderr, "mkcpio: SOURCE_DATE_EPOCH is not set\n");
                return -EINVAL;
        }
        if (parse_u32(s, 10, UINT32_MAX, ret) < 0) {
                fprintf(stderr,
                        "mkcpio: SOURCE_DATE_EPOCH=%s is not a number of seconds that "
                        "fits in newc's 32-bit mtime\n",
                        s);
                return -EINVAL;
        }
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f, "usage: mkcpio SPEC OUTPUT\n"
                   "Writes a newc cpio archive described by SPEC ('-': stdin) to OUTPUT ('-': "
                   "stdout).\n"
                   "SPEC lines (gen_init_cpio syntax, octal MODE, decimal UID GID MAJ MIN):\n"
                   "  dir PATH MODE UID GID\n"
                   "  file PATH SOURCE MODE UID GID\n"
                   "  nod PATH MODE UID GID c|b MAJ MIN\n"
                   "  slink PATH TARGET MODE UID GID\n"
                   "SOURCE_DATE_EPOCH must be set: it is every entry's mtime.\n");
}

int main(int argc, char **argv)
{
        _cleanup_(archive_done) struct archive a = {0};
        struct writer w = {0};
        const char *spec_name, *out_name;
        FILE *spec;
        uint32_t mtime;
        int r;

        if (argc == 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                usage(stdout);
                return EXIT_SUCCESS;
        }
        if (argc != 3) {
                usage(stderr);
                return EXIT_FAILURE;
        }
        spec_name = argv[1];
        out_name = argv[2];

        if (get_mtime(&mtime) < 0)
                return EXIT_FAILURE;

        spec = streq(spec_name, "-") ? stdin : fopen(spec_name, "re");
        if (!spec) {
                fprintf(stderr, "mkcpio: %s: %s\n", spec_name, strerror(errno));
                return EXIT_FAILURE;
        }
        r = archive_read_spec(&a, spec, spec_name);
        if (spec != stdin)
                fclose(spec);
        if (r < 0)
                return EXIT_FAILURE;
        if (archive_sort_and_check(&a, spec_name) < 0)
                return EXIT_FAILURE;

        w.f = streq(out_name, "-") ? stdout : fopen(out_name, "we");
        if (!w.f) {
                fprintf(stderr, "mkcpio: %s: %s\n", out_name, strerror(errno));
                return EXIT_FAILURE;
        }
        r = archive_write(&a, &w, mtime, spec_name);
        if (fflush(w.f) != 0 && r >= 0) {
                r = negative_errno();
                fprintf(stderr, "mkcpio: %s: %s\n", out_name, strerror(-r));
        }
        if (w.f != stdout && fclose(w.f) != 0 && r >= 0) {
                r = negative_errno();
                fprintf(stderr, "mkcpio: %s: %s\n", out_name, strerror(-r));
        }
        if (r < 0) {
                /* A truncated archive must not be mistaken for a good one by a later make run. */
                if (w.f != stdout)
                        unlink(out_name);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
