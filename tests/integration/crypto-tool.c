/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verifier's TPM cryptography (verifier/tpm/tpm2b.c, tpmcrypto.c) as a command line, so
 * test-verifier-crypto.sh can hold its output against swtpm and tpm2-tools. Not installed. */
#include "tpm/tpm2b.h"
#include "tpm/tpmcrypto.h"
#include "util.h"

#include <fcntl.h>
#include <time.h>

#define FILE_MAX 65536

static int read_file(const char *path, uint8_t *buf, size_t max, size_t *ret_size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t n = 0;

        if (fd < 0)
                return negative_errno();
        for (;;) {
                ssize_t k = read(fd, buf + n, max - n);

                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                n += k;
                if (n == max)
                        return -EFBIG;
        }
        *ret_size = n;
        return 0;
}

static int write_file(const char *path, const uint8_t *buf, size_t size)
{
        FILE *f = fopen(path, "we");
        int r = 0;

        if (!f)
                return negative_errno();
        if (fwrite(buf, 1, size, f) != size)
                r = -EIO;
        if (fclose(f) != 0 && r == 0)
                r = negative_errno();
        return r;
}

static int unhex(const char *s, uint8_t *buf, size_t max, size_t *ret_size)
{
        size_t n = strlen(s);

        if (n % 2 != 0 || n / 2 > max)
                return -EINVAL;
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;

                if (sscanf(s + 2 * i, "%2x", &v) != 1)
                        return -EINVAL;
                buf[i] = v;
        }
        *ret_size = n / 2;
        return 0;
}

static void print_hex(const uint8_t *buf, size_t size)
{
        for (size_t i = 0; i < size; i++)
                printf("%02x", buf[i]);
        printf("\n");
}

/* "0,1,2,15" → bit mask */
static int parse_pcrs(const char *s, uint32_t *ret)
{
        uint32_t mask = 0;
        char *end;

        for (;;) {
                unsigned long n = strtoul(s, &end, 10);

                if (end == s || n >= TPMW_PCRS)
                        return -EINVAL;
                mask |= 1u << n;
                if (*end == '\0')
                        break;
                if (*end != ',')
                        return -EINVAL;
                s = end + 1;
        }
        *ret = mask;
        return 0;
}

static int load_public(const char *path, struct tpm_public *ret)
{
        static uint8_t buf[FILE_MAX];
        size_t n;
        int r;

        r = read_file(path, buf, sizeof(buf), &n);
        if (r < 0)
                return r;
        return tpm_public_parse(buf, n, ret);
}

static int fail(const char *what, int r)
{
        fprintf(stderr, "crypto-tool: %s: %s\n", what, strerror(-r));
        return 1;
}

static int cmd_name(_unused_ int n, char **argv)
{
        struct tpm_public pub;
        int r = load_public(argv[0], &pub);

        if (r < 0)
                return fail(argv[0], r);
        print_hex(pub.name, pub.name_size);
        return 0;
}

static int cmd_spki(_unused_ int n, char **argv)
{
        struct tpm_public pub;
        uint8_t digest[32];
        int r = load_public(argv[0], &pub);

        if (r < 0)
                return fail(argv[0], r);
        r = tpm_public_spki_sha256(&pub, digest);
        if (r < 0)
                return fail("spki", r);
        print_hex(digest, sizeof(digest));
        return 0;
}

static int cmd_make_credential(_unused_ int n, char **argv)
{
        struct tpm_public ek;
        uint8_t name[2 + TPMW_DIGEST_MAX], secret[TPMW_DIGEST_MAX];
        size_t name_size, secret_size;
        struct tpm_blob id, enc;
        int r;

        r = load_public(argv[0], &ek);
        if (r < 0)
                return fail(argv[0], r);
        if (unhex(argv[1], name, sizeof(name), &name_size) < 0 ||
            unhex(argv[2], secret, sizeof(secret), &secret_size) < 0)
                return fail("hex argument", -EINVAL);
        r = tpm_make_credential(&ek, name, name_size, secret, secret_size, &id, &enc);
        if (r < 0)
                return fail("make-credential", r);
        r = write_file(argv[3], id.data, id.size);
        if (r >= 0)
                r = write_file(argv[4], enc.data, enc.size);
        return r < 0 ? fail("write", r) : 0;
}

static int policy_from_args(char **argv, uint8_t ret[32])
{
        uint8_t digest[32];
        size_t size;
        uint32_t mask;
        char *end;
        unsigned long reset_count;

        if (parse_pcrs(argv[0], &mask) < 0 || unhex(argv[1], digest, 32, &size) < 0 || size != 32)
                return -EINVAL;
        errno = 0;
        reset_count = strtoul(argv[2], &end, 10);
        if (errno != 0 || *end != '\0' || reset_count > UINT32_MAX)
                return -EINVAL;
        /* The node quotes right after TPM2_Startup(CLEAR): restartCount 0, as in the tests. */
        return tpm_policy_pcr_boot(mask, digest, reset_count, 0, ret);
}

static int cmd_policy(_unused_ int n, char **argv)
{
        uint8_t policy[32];
        int r = policy_from_args(argv, policy);

        if (r < 0)
                return fail("policy", r);
        print_hex(policy, sizeof(policy));
        return 0;
}

static int cmd_seal(_unused_ int n, char **argv)
{
        struct tpm_public ek;
        struct tpm_sealed sealed;
        uint8_t policy[32];
        int r;

        r = load_public(argv[0], &ek);
        if (r < 0)
                return fail(argv[0], r);
        r = policy_from_args(argv + 1, policy);
        if (r < 0)
                return fail("policy", r);
        r = tpm_seal_for_import(&ek, (const uint8_t *) argv[4], strlen(argv[4]), policy, &sealed);
        if (r < 0)
                return fail("seal", r);
        r = write_file(argv[5], sealed.public.data, sealed.public.size);
        if (r >= 0)
                r = write_file(argv[6], sealed.duplicate.data, sealed.duplicate.size);
        if (r >= 0)
                r = write_file(argv[7], sealed.encrypted_seed.data, sealed.encrypted_seed.size);
        return r < 0 ? fail("write", r) : 0;
}

struct quote_files {
        uint8_t attest[FILE_MAX], sig[FILE_MAX];
        size_t attest_size, sig_size;
        struct tpm_quote quote;
        struct tpm_signature signature;
};

static int load_quote(const char *attest, const char *sig, struct quote_files *q)
{
        int r;

        r = read_file(attest, q->attest, sizeof(q->attest), &q->attest_size);
        if (r < 0)
                return r;
        r = tpm_quote_parse(q->attest, q->attest_size, &q->quote);
        if (r < 0 || !sig)
                return r;
        r = read_file(sig, q->sig, sizeof(q->sig), &q->sig_size);
        if (r < 0)
                return r;
        return tpm_signature_parse(q->sig, q->sig_size, &q->signature);
}

static void print_quote(const struct tpm_quote *q)
{
        printf("reset_count=%u\nrestart_count=%u\npcr_mask=0x%06x\npcr_digest=", q->reset_count,
               q->restart_count, q->pcr_mask);
        print_hex(q->pcr_digest, q->pcr_digest_size);
        printf("extra_data=");
        print_hex(q->extra_data, q->extra_data_size);
}

static int cmd_quote_info(_unused_ int n, char **argv)
{
        static struct quote_files q;
        int r = load_quote(argv[0], NULL, &q);

        if (r < 0)
                return fail(argv[0], r);
        print_quote(&q.quote);
        return 0;
}

/* Exit 0: the signature verifies (and extraData is the nonce, when given); 1: it does not. */
static int cmd_verify_quote(int n, char **argv)
{
        static struct quote_files q;
        struct tpm_public ak;
        uint8_t nonce[TPMW_DIGEST_MAX];
        size_t nonce_size;
        int r;

        r = load_public(argv[0], &ak);
        if (r < 0)
                return fail(argv[0], r);
        r = load_quote(argv[1], argv[2], &q);
        if (r < 0)
                return fail("quote", r);
        r = tpm_quote_verify(&ak, &q.quote, &q.signature);
        if (r < 0)
                return fail("verify", r);
        if (n > 3) {
                if (unhex(argv[3], nonce, sizeof(nonce), &nonce_size) < 0)
                        return fail("nonce", -EINVAL);
                if (nonce_size != q.quote.extra_data_size ||
                    memcmp(nonce, q.quote.extra_data, nonce_size) != 0)
                        return fail("nonce", -EBADMSG);
        }
        print_quote(&q.quote);
        return 0;
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Microseconds per operation, one thread: bench EK_PUB AK_PUB ATTEST SIG N */
static int cmd_bench(_unused_ int argc, char **argv)
{
        static struct quote_files q;
        struct tpm_public ek, ak;
        static const uint8_t secret[32] = {1}, data[] = "abcdef.0123456789abcdef";
        uint8_t policy[32] = {};
        struct tpm_blob id, enc;
        struct tpm_sealed sealed;
        long n = atol(argv[4]);
        double t;
        int r;

        if (n <= 0)
                return fail("N", -EINVAL);
        if ((r = load_public(argv[0], &ek)) < 0 || (r = load_public(argv[1], &ak)) < 0 ||
            (r = load_quote(argv[2], argv[3], &q)) < 0)
                return fail("load", r);

        t = now();
        for (long i = 0; i < n; i++)
                if ((r = tpm_make_credential(&ek, ak.name, ak.name_size, secret, 32, &id, &enc)) <
                    0)
                        return fail("make-credential", r);
        printf("make_credential %.1f us\n", (now() - t) / n * 1e6);
        t = now();
        for (long i = 0; i < n; i++)
                if ((r = tpm_seal_for_import(&ek, data, sizeof(data) - 1, policy, &sealed)) < 0)
                        return fail("seal", r);
        printf("seal_for_import %.1f us\n", (now() - t) / n * 1e6);
        t = now();
        for (long i = 0; i < n; i++)
                if ((r = tpm_quote_verify(&ak, &q.quote, &q.signature)) < 0)
                        return fail("verify", r);
        printf("quote_verify %.1f us\n", (now() - t) / n * 1e6);
        t = now();
        for (long i = 0; i < n; i++)
                if ((r = tpm_policy_pcr_boot(1, policy, 1, 0, policy)) < 0)
                        return fail("policy", r);
        printf("policy %.1f us\n", (now() - t) / n * 1e6);
        t = now();
        for (long i = 0; i < n; i++) {
                struct tpm_public p;
                if ((r = load_public(argv[0], &p)) < 0)
                        return fail("parse", r);
        }
        printf("read+parse EK %.1f us\n", (now() - t) / n * 1e6);
        return 0;
}

static const struct {
        const char *name;
        int min_args, max_args;
        int (*run)(int n, char **argv);
        const char *usage;
} commands[] = {
    {"name", 1, 1, cmd_name, "TPM2B_PUBLIC"},
    {"spki-sha256", 1, 1, cmd_spki, "TPM2B_PUBLIC"},
    {"make-credential", 5, 5, cmd_make_credential,
     "EK_PUB AK_NAME_HEX SECRET_HEX OUT_ID OUT_SECRET"},
    {"policy", 3, 3, cmd_policy, "PCR_LIST PCR_DIGEST_HEX RESET_COUNT"},
    {"seal", 8, 8, cmd_seal,
     "EK_PUB PCR_LIST PCR_DIGEST_HEX RESET_COUNT DATA OUT_PUB OUT_DUP OUT_SEED"},
    {"quote-info", 1, 1, cmd_quote_info, "TPM2B_ATTEST"},
    {"verify-quote", 3, 4, cmd_verify_quote, "AK_PUB TPM2B_ATTEST TPMT_SIGNATURE [NONCE_HEX]"},
    {"bench", 5, 5, cmd_bench, "EK_PUB AK_PUB TPM2B_ATTEST TPMT_SIGNATURE N"},
};

int main(int argc, char **argv)
{
        for (size_t i = 0; argc >= 2 && i < ELEMENTSOF(commands); i++) {
                int n = argc - 2;

                if (!streq(argv[1], commands[i].name))
                        continue;
                if (n < commands[i].min_args || n > commands[i].max_args) {
                        fprintf(stderr, "usage: crypto-tool %s %s\n", commands[i].name,
                                commands[i].usage);
                        return 2;
                }
                return commands[i].run(n, argv + 2);
        }
        fprintf(stderr, "usage:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(stderr, "  crypto-tool %s %s\n", commands[i].name, commands[i].usage);
        return 2;
}
