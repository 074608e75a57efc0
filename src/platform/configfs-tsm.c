/* SPDX-License-Identifier: GPL-2.0-or-later */
/* configfs-tsm (Documentation/ABI/testing/configfs-tsm-report): mkdir an entry, write inblob,
 * read outblob/auxblob between two reads of generation, rmdir. The root is a parameter, so the
 * unit tests point it at a fixture directory that plays the kernel. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "lib/fileio.h"
#include "platform/configfs-tsm.h"
#include "util.h"

static _printf_(4, 5) int tsm_error(int r, char *errbuf, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
        return r;
}

void tsm_evidence_done(struct tsm_evidence *e)
{
        if (!e)
                return;
        free(e->outblob);
        free(e->auxblob);
        *e = (struct tsm_evidence){};
}

static int read_provider(const char *entry, char ret[TSM_PROVIDER_MAX], char *errbuf, size_t errlen)
{
        _cleanup_free_ char *text = NULL;
        char path[512];
        size_t len = 0;
        int r;

        if (pathf(path, sizeof(path), "%s/provider", entry) < 0)
                return tsm_error(-ENAMETOOLONG, errbuf, errlen, "%s: path too long", entry);
        r = read_file_bounded(path, TSM_PROVIDER_MAX - 1, &text, &len);
        /* configfs populates every entry with "provider": without it no TSM driver is bound
         * (sev-guest or tdx-guest not loaded, or the module was removed); the kernel answers a
         * read of it with ENOTTY while no provider is registered. */
        if (r == -ENOENT || r == -ENOTTY)
                return tsm_error(
                    -ENXIO, errbuf, errlen,
                    "%s: no provider: no TEE driver (sev-guest, tdx-guest) is bound to "
                    "configfs-tsm",
                    entry);
        if (r < 0)
                return tsm_error(r == -E2BIG ? -EBADMSG : r, errbuf, errlen, "%s: cannot read: %s",
                                 path, strerror(r == -E2BIG ? EBADMSG : -r));
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
                text[--len] = 0;
        if (len == 0)
                return tsm_error(-ENXIO, errbuf, errlen, "%s: empty provider: no TEE driver",
                                 entry);
        for (size_t i = 0; i < len; i++)
                if (!(text[i] == '_' || text[i] == '-' || (text[i] >= 'a' && text[i] <= 'z') ||
                      (text[i] >= '0' && text[i] <= '9')))
                        return tsm_error(-EBADMSG, errbuf, errlen,
                                         "%s: provider is not a driver name", entry);
        memcpy(ret, text, len + 1);
        return 0;
}

static int read_generation(const char *entry, unsigned long *ret, char *errbuf, size_t errlen)
{
        _cleanup_free_ char *text = NULL;
        char path[512], *end = NULL;
        unsigned long v;
        size_t len = 0;
        int r;

        if (pathf(path, sizeof(path), "%s/generation", entry) < 0)
                return tsm_error(-ENAMETOOLONG, errbuf, errlen, "%s: path too long", entry);
        r = read_file_bounded(path, 32, &text, &len);
        if (r < 0)
                return tsm_error(r == -E2BIG ? -EBADMSG : r, errbuf, errlen, "%s: cannot read: %s",
                                 path, strerror(r == -E2BIG ? EBADMSG : -r));
        errno = 0;
        if (len == 0 || text[0] < '0' || text[0] > '9')
                return tsm_error(-EBADMSG, errbuf, errlen, "%s: not a generation number", path);
        v = strtoul(text, &end, 10);
        if (errno != 0 || (*end != 0 && !streq(end, "\n")))
                return tsm_error(-EBADMSG, errbuf, errlen, "%s: not a generation number", path);
        *ret = v;
        return 0;
}

static int write_inblob(const char *entry, const uint8_t inblob[TSM_INBLOB_SIZE], char *errbuf,
                        size_t errlen)
{
        _cleanup_close_ int fd = -1;
        char path[512];
        ssize_t k;

        if (pathf(path, sizeof(path), "%s/inblob", entry) < 0)
                return tsm_error(-ENAMETOOLONG, errbuf, errlen, "%s: path too long", entry);
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_TRUNC);
        if (fd < 0)
                return tsm_error(negative_errno(), errbuf, errlen, "%s: cannot open: %m", path);
        /* One write: configfs takes a binary attribute's content from the writes before close,
         * and a short write would leave a prefix of the binding as REPORT_DATA. */
        k = write(fd, inblob, TSM_INBLOB_SIZE);
        if (k < 0 && errno == EFBIG)
                return tsm_error(-EFBIG, errbuf, errlen,
                                 "%s: the provider refuses a %d-byte inblob (EFBIG)", path,
                                 TSM_INBLOB_SIZE);
        if (k < 0)
                return tsm_error(negative_errno(), errbuf, errlen, "%s: cannot write: %m", path);
        if (k != TSM_INBLOB_SIZE)
                return tsm_error(-EIO, errbuf, errlen, "%s: short write (%zd of %d bytes)", path, k,
                                 TSM_INBLOB_SIZE);
        /* configfs hands a binary attribute to the driver on release: its errors come here. */
        if (close(TAKE_FD(fd)) < 0)
                return tsm_error(negative_errno(), errbuf, errlen, "%s: %m", path);
        return 0;
}

/* @return 0 with the blob (NULL and 0 when optional and absent or empty) */
static int read_blob(const char *entry, const char *name, size_t max, bool optional, uint8_t **ret,
                     size_t *ret_size, char *errbuf, size_t errlen)
{
        _cleanup_free_ char *data = NULL;
        char path[512];
        size_t len = 0;
        int r;

        if (pathf(path, sizeof(path), "%s/%s", entry, name) < 0)
                return tsm_error(-ENAMETOOLONG, errbuf, errlen, "%s: path too long", entry);
        r = read_file_bounded(path, max, &data, &len);
        if (r == -ENOENT && optional) {
                *ret = NULL;
                *ret_size = 0;
                return 0;
        }
        if (r == -ENOENT)
                return tsm_error(r, errbuf, errlen,
                                 "%s: gone: the entry or its provider's module was removed", path);
        if (r == -E2BIG || r == -EFBIG)
                return tsm_error(-EFBIG, errbuf, errlen, "%s: larger than %zu bytes", path, max);
        if (r < 0)
                return tsm_error(r, errbuf, errlen, "%s: cannot read: %s", path, strerror(-r));
        if (len == 0 && !optional)
                return tsm_error(-ENODATA, errbuf, errlen, "%s: empty", path);
        if (len == 0)
                data = (free(data), NULL);
        *ret = (uint8_t *) TAKE_PTR(data);
        *ret_size = len;
        return 0;
}

int tsm_report_entry(const char *entry, const uint8_t inblob[TSM_INBLOB_SIZE],
                     struct tsm_evidence *ret, char *errbuf, size_t errlen)
{
        _cleanup_(tsm_evidence_done) struct tsm_evidence e = {};
        unsigned long after;
        struct stat st;
        int r;

        if (stat(entry, &st) < 0)
                return tsm_error(negative_errno(), errbuf, errlen, "%s: %m", entry);
        r = read_provider(entry, e.provider, errbuf, errlen);
        if (r < 0)
                return r;
        r = write_inblob(entry, inblob, errbuf, errlen);
        if (r < 0)
                return r;
        /* generation counts the writes to the entry. The blobs are generated for the inblob of
         * the generation they are read at; if it moves while they are read, someone else's
         * write was mixed in and the report may carry their REPORT_DATA. */
        r = read_generation(entry, &e.generation, errbuf, errlen);
        if (r < 0)
                return r;
        r = read_blob(entry, "outblob", TSM_OUTBLOB_MAX, false, &e.outblob, &e.outblob_size, errbuf,
                      errlen);
        if (r < 0)
                return r;
        r = read_blob(entry, "auxblob", TSM_AUXBLOB_MAX, true, &e.auxblob, &e.auxblob_size, errbuf,
                      errlen);
        if (r < 0)
                return r;
        r = read_generation(entry, &after, errbuf, errlen);
        if (r < 0)
                return r;
        if (after != e.generation)
                return tsm_error(-EBUSY, errbuf, errlen,
                                 "%s: generation moved from %lu to %lu while the report was read: "
                                 "another writer used this entry",
                                 entry, e.generation, after);
        *ret = e;
        e = (struct tsm_evidence){};
        return 0;
}

static int entry_name(const char *dir, char *buf, size_t size)
{
        uint8_t random[8];

        /* Unique per request: another process's entry is never ours to write. */
        if (getrandom(random, sizeof(random), GRND_NONBLOCK) != (ssize_t) sizeof(random))
                return -EIO;
        return pathf(buf, size, "%s/nodegate-%d-%02x%02x%02x%02x%02x%02x%02x%02x", dir,
                     (int) getpid(), random[0], random[1], random[2], random[3], random[4],
                     random[5], random[6], random[7]);
}

static int make_entry(const char *dir, char *buf, size_t size, char *errbuf, size_t errlen)
{
        int r = entry_name(dir, buf, size);

        if (r < 0)
                return tsm_error(r, errbuf, errlen, "%s: cannot name a report entry", dir);
        if (mkdir(buf, 0700) < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        return tsm_error(r, errbuf, errlen,
                                         "%s does not exist: no configfs-tsm (Linux >= 6.7 with "
                                         "configfs mounted and the tsm module loaded)",
                                         dir);
                return tsm_error(r, errbuf, errlen, "%s: cannot create a report entry: %s", dir,
                                 strerror(-r));
        }
        return 0;
}

int tsm_provider(const char *dir, char ret[TSM_PROVIDER_MAX], char *errbuf, size_t errlen)
{
        char entry[512], provider[TSM_PROVIDER_MAX];
        int r;

        r = make_entry(dir, entry, sizeof(entry), errbuf, errlen);
        if (r < 0)
                return r;
        r = read_provider(entry, provider, errbuf, errlen);
        (void) rmdir(entry);
        if (r < 0)
                return r;
        memcpy(ret, provider, sizeof(provider));
        return 0;
}

int tsm_report(const char *dir, const uint8_t inblob[TSM_INBLOB_SIZE], struct tsm_evidence *ret,
               char *errbuf, size_t errlen)
{
        char entry[512];
        int r;

        r = make_entry(dir, entry, sizeof(entry), errbuf, errlen);
        if (r < 0)
                return r;
        r = tsm_report_entry(entry, inblob, ret, errbuf, errlen);
        /* configfs removes the attributes with the entry; an entry left behind would keep the
         * report (with our REPORT_DATA) readable to every root process until reboot. */
        if (rmdir(entry) < 0 && r >= 0) {
                r = tsm_error(negative_errno(), errbuf, errlen, "%s: cannot remove: %m", entry);
                tsm_evidence_done(ret);
        }
        return r;
}
