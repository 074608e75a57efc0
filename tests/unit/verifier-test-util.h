/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the verifier's unit tests share: the TCG EK template's constants, a byte builder for
 * the structures a TPM marshals, scratch directories and files. Include after <cmocka.h>. */
#pragma once

#include "common/util-verifier.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>

/* TCG EK Credential Profile, the L-1/L-2 templates: attributes (fixedTPM, fixedParent,
 * sensitiveDataOrigin, adminWithPolicy, restricted, decrypt) and authPolicy, which is
 * PolicySecret(TPM_RH_ENDORSEMENT). An AK: a restricted signing key with userWithAuth. */
#define TEST_EK_ATTRIBUTES 0x000300b2u
#define TEST_AK_ATTRIBUTES 0x00050072u
static const uint8_t test_ek_policy_sha256[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

/* Bytes written in order: big-endian as the TPM marshals, little-endian as the event log. A
 * test that outgrows the buffer fails instead of writing past it. */
struct tbuf {
        uint8_t b[8192];
        size_t n;
};

static inline void tbuf_bytes(struct tbuf *t, const void *p, size_t n)
{
        assert_true(n <= sizeof(t->b) - t->n);
        if (n > 0)
                memcpy(t->b + t->n, p, n);
        t->n += n;
}

static inline void tbuf_be16(struct tbuf *t, uint16_t v)
{
        tbuf_bytes(t, (uint8_t[]){v >> 8, v & 0xff}, 2);
}

static inline void tbuf_be32(struct tbuf *t, uint32_t v)
{
        tbuf_be16(t, (uint16_t) (v >> 16));
        tbuf_be16(t, (uint16_t) v);
}

static inline void tbuf_be64(struct tbuf *t, uint64_t v)
{
        tbuf_be32(t, (uint32_t) (v >> 32));
        tbuf_be32(t, (uint32_t) v);
}

static inline void tbuf_le16(struct tbuf *t, uint16_t v)
{
        tbuf_bytes(t, (uint8_t[]){v & 0xff, v >> 8}, 2);
}

static inline void tbuf_le32(struct tbuf *t, uint32_t v)
{
        tbuf_le16(t, (uint16_t) v);
        tbuf_le16(t, (uint16_t) (v >> 16));
}

/* A TPM2B: the size, then the bytes. */
static inline void tbuf_tpm2b(struct tbuf *t, const void *p, size_t n)
{
        tbuf_be16(t, (uint16_t) n);
        tbuf_bytes(t, p, n);
}

/* ---- scratch files ---- */

static inline void test_write_file(const char *path, const void *data, size_t n, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, n), (ssize_t) n);
        /* open() applies the umask, and an existing file keeps its mode: set it. */
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static inline void test_write_text(const char *path, const char *text, mode_t mode)
{
        test_write_file(path, text, strlen(text), mode);
}

/* The whole file, malloc'ed with a NUL after it; its size in *ret_size unless NULL. */
static inline char *test_read_file(const char *path, size_t *ret_size)
{
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n >= 0);
        rewind(f);
        buf = malloc((size_t) n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
        buf[n] = '\0';
        fclose(f);
        if (ret_size)
                *ret_size = (size_t) n;
        return buf;
}

static inline int test_remove_entry(const char *path, const struct stat *st _unused_,
                                    int flag _unused_, struct FTW *ftw _unused_)
{
        return remove(path);
}

/* Removes a scratch directory and everything in it, not following symlinks.
 * @return 0 or -1, for a cmocka group teardown */
static inline int test_remove_tree(const char *path)
{
        return nftw(path, test_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}
