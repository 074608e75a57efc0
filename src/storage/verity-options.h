/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd.verity_root_options=: the comma-separated dm-verity options of systemd-veritysetup,
 * minus those that are unsafe for a gate (ignore-corruption, check-at-most-once) or not
 * supported yet (FEC). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VERITY_OPTIONS_MAX 4096U
/* cryptsetup refuses larger salts (and the superblock has room for no more) */
#define VERITY_SALT_MAX 256U
/* cryptsetup's bounds for both block sizes; the kernel also wants them <= its page size */
#define VERITY_BLOCK_SIZE_MIN     512U
#define VERITY_BLOCK_SIZE_MAX     (512U * 1024U)
#define VERITY_DEFAULT_BLOCK_SIZE 4096U

enum verity_hash {
        VERITY_HASH_SHA256, /* the default, first so that a zeroed struct means it */
        VERITY_HASH_SHA1,
        VERITY_HASH_SHA512,
        _VERITY_HASH_MAX,
};

struct verity_options {
        bool superblock;          /* superblock=: the hash device starts with a verity header */
        unsigned format;          /* format=: hash type, 1 (modern) or 0 (Chrome OS) */
        uint32_t data_block_size; /* data-block-size=: bytes */
        uint32_t hash_block_size; /* hash-block-size=: bytes */
        uint64_t data_blocks;     /* data-blocks=: 0 means the whole data device */
        uint64_t hash_offset;     /* hash-offset=: bytes into the hash device, multiple of 512 */
        uint8_t salt[VERITY_SALT_MAX];
        size_t salt_size;        /* salt=: 0 with salt=- (no salt) */
        char uuid[37];           /* uuid=: lowercase, "" when not given */
        enum verity_hash hash;   /* hash=: sha1, sha256, sha512 */
        bool ignore_zero_blocks; /* the kernel flags of the same names */
        bool restart_on_corruption;
        bool panic_on_corruption;
        /* Which options were given, so callers can tell a default from an explicit value. */
        struct {
                bool superblock, format, data_block_size, hash_block_size, data_blocks, hash_offset,
                    salt, uuid, hash;
        } set;
};

/* Defaults: superblock=yes, format=1, 4096-byte blocks, sha256, no salt, nothing set. */
void verity_options_init(struct verity_options *o);

/* Parses "opt[=value],opt…" (empty string: all defaults). Repeated options: the last wins.
 * Refuses: unknown options, empty items ("a,,b"), values that cryptsetup would refuse,
 * restart-on-corruption together with panic-on-corruption, and the geometry options
 * (format, data-block-size, hash-block-size, data-blocks, salt, uuid, hash) unless
 * superblock=no: with a superblock the header defines them and they would be silently ignored.
 * Does not log; on failure a message naming the option is written to errbuf.
 * @return 0 on success (ret written), -EINVAL for bad syntax or values, -E2BIG for a string
 *         over VERITY_OPTIONS_MAX, -EPERM for ignore-corruption (it would let a tampered root
 *         boot) and check-at-most-once (a disk could serve tampered blocks after good ones),
 *         -EOPNOTSUPP for root-hash-signature= and the fec-* options, -ENOMEM */
int verity_options_parse(const char *s, struct verity_options *ret, char *errbuf, size_t errlen);

/* @return "sha1", "sha256", "sha512", or NULL for an invalid value */
const char *verity_hash_to_string(enum verity_hash h);

/* The size of one digest of o->hash, which is the length of the root hash in bytes when the
 * geometry comes from these options (superblock=no); with a superblock its hash= decides.
 * @return 20, 32 or 64, or 0 for an invalid o->hash */
size_t verity_options_digest_size(const struct verity_options *o);
