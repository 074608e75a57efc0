/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nodegate-test-unseal: in the test root, after the gate's handover, fetches the verifier's answer
 * that the harness recorded and tries to unseal its blob again; the cap must make the TPM refuse.
 * Then it plays root after the gate (issue 11): both rounds anew with a log claiming the cap. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>

#include "../../tests/node/forge-log.h"
#include "attest/attest.h"
#include "attest/eventlog.h"
#include "lib/log.h"
#include "attest/protocol.h"
#include "attest/tpm.h"
#include "util.h"

/* Exit codes, read by the stand-in init: only NOT_OFFERED means "this scenario did not ask". */
enum {
        EXIT_UNSEALED = 0,    /* the TPM released the token: the cap did not hold */
        EXIT_REFUSED = 1,     /* the TPM refused the policy (-EACCES) */
        EXIT_NOT_OFFERED = 2, /* nothing listens at the address: no unseal test in this boot */
        EXIT_ERROR = 3,       /* anything else: the test could not be made */
};

#define FETCH_TIMEOUT_MS    10000
#define REATTEST_TIMEOUT_US (30ULL * 1000000ULL)
/* Put in the test root by qemu/mkrootfs.sh --ca: the gate's own CA bundle went with the
 * initramfs. An attacker would skip the check; the helper reuses the gate's client instead. */
#define REATTEST_CA "/etc/nodegate-test/ca.pem"

/* The fields of the sealed object of an answer, as tpm_unseal_imported() takes it; both of
 * this helper's unseals use it, so neither can leave out a binding (restartCount). */
#define SEALED_FIELDS(a)                                                                           \
        .public = (a).sealed_public.data, .public_size = (a).sealed_public.size,                   \
        .duplicate = (a).sealed_duplicate.data, .duplicate_size = (a).sealed_duplicate.size,       \
        .encrypted_seed = (a).sealed_seed.data, .encrypted_seed_size = (a).sealed_seed.size,       \
        .pcr_mask = (a).sealed_pcr_mask, .reset_count = (a).reset_count,                           \
        .restart_count = (a).restart_count

static void say(const char *fmt, ...) _printf_(1, 2);
static void say(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("NODEGATE-TEST: unseal-again: ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        fflush(stdout);
        va_end(ap);
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000U + (uint64_t) ts.tv_nsec / 1000000U;
}

/* Parses "A.B.C.D:PORT". @return 0 or -EINVAL */
static int parse_address(const char *s, struct sockaddr_in *ret)
{
        char host[INET_ADDRSTRLEN];
        const char *colon = strrchr(s, ':');
        char *end;
        unsigned long port;
        struct sockaddr_in a = {.sin_family = AF_INET};

        if (!colon || (size_t) (colon - s) >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, (size_t) (colon - s));
        host[colon - s] = '\0';
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (errno || *end || port == 0 || port > 65535 ||
            inet_pton(AF_INET, host, &a.sin_addr) != 1)
                return -EINVAL;
        a.sin_port = htons((uint16_t) port);
        *ret = a;
        return 0;
}

/* Reads what the server at addr sends until it closes, at most max bytes, within the timeout.
 * The harness serves the answer as raw bytes on connect: no HTTP, nothing to send.
 * @return 0 with a malloc'ed, NUL-terminated buffer, -ECONNREFUSED when nothing listens,
 *         -EFBIG above max, -ETIMEDOUT, other negative errno */
static int fetch(const struct sockaddr_in *addr, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        uint64_t deadline = now_ms() + FETCH_TIMEOUT_MS;
        size_t size = 0;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (const struct sockaddr *) addr, sizeof(*addr)) < 0)
                return negative_errno();
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                uint64_t now = now_ms();
                ssize_t n;
                int k;

                if (now >= deadline)
                        return -ETIMEDOUT;
                k = poll(&p, 1, (int) (deadline - now));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        return -ETIMEDOUT;
                if (size == max)
                        return -EFBIG;
                n = read(fd, buf + size, max - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static void hex(const uint8_t *data, size_t size, char *out)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < size; i++) {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 15];
        }
        out[2 * size] = '\0';
}

/* nodegate.url= of the kernel command line, in a malloc'ed string. @return 0 or -ENOENT */
static int cmdline_url(char **ret)
{
        FILE *f = fopen("/proc/cmdline", "re");
        char line[4096], *save = NULL;
        bool ok;

        if (!f)
                return -ENOENT;
        ok = fgets(line, sizeof(line), f) != NULL;
        fclose(f);
        if (!ok)
                return -ENOENT;
        for (char *w = strtok_r(line, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
                if (strncmp(w, "nodegate.url=", 13) == 0) {
                        *ret = strdup(w + 13);
                        return *ret ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

/* reattest-after-cap (issue 11): root recreates EK and AK from the standard templates, runs
 * round 1, activates, quotes, and sends the firmware's log with the cap event appended, so the
 * replay of PCR 15 matches the capped TPM. The verifier must refuse (already-attested); if it
 * issues, the new blob is unsealed to show what that would give root. */
static void reattest(struct tpm *t, const struct tpm_ek *ek)
{
        _cleanup_free_ char *url = NULL;
        _cleanup_free_ uint8_t *log = NULL, *forged = NULL;
        _cleanup_(protocol_attest_answer_done) struct protocol_attest_answer a = {};
        struct attest_client *c = NULL;
        struct attest_stats stats = {};
        struct tpm_blob ak = {};
        enum failure failure;
        uint8_t token[TPM_UNSEALED_MAX];
        char err[ATTEST_ERROR_MAX];
        size_t log_size = 0, forged_size = 0, token_size = 0;
        int r;

        if (cmdline_url(&url) < 0) {
                say("reattest: cannot: no nodegate.url= on the kernel command line");
                return;
        }
        /* The gate's securityfs went away with the initramfs's /sys mounts, or never came. */
        if (mount("securityfs", SECURITYFS_PATH, "securityfs", 0, NULL) < 0 && errno != EBUSY) {
                say("reattest: cannot mount securityfs: %s", strerror(errno));
                return;
        }
        r = eventlog_read("/", &log, &log_size, err, sizeof(err));
        if (r < 0) {
                say("reattest: cannot read the event log: %s", err);
                return;
        }
        r = forge_append_event(log, log_size, 15, FORGE_CAP_RELEASED_SHA256,
                               "nodegate: token released", &forged, &forged_size);
        if (r < 0) {
                say("reattest: cannot append the cap event: %s", strerror(-r));
                return;
        }
        r = tpm_create_ak(t, &ak, err, sizeof(err));
        if (r < 0) {
                say("reattest: cannot create the AK: %s", err);
                return;
        }
        say("reattest: log of %zu bytes + the cap event on PCR 15 (%zu bytes), to %s", log_size,
            forged_size, url);

        r = attest_client_new(url, REATTEST_CA, &c, err, sizeof(err));
        if (r < 0) {
                say("reattest: cannot: %s", err);
                return;
        }
        r = attest_run(c,
                       &(struct attest_evidence){
                           .tpm = t,
                           .ek = ek,
                           .ak_public = &ak,
                           .event_log = forged,
                           .event_log_size = forged_size,
                           .node = {.hostname = "reattest-after-cap"},
                       },
                       now_usec() + REATTEST_TIMEOUT_US, &a, &stats, &failure, err, sizeof(err));
        attest_client_free(c);
        if (r == -EACCES) {
                say("reattest: refused by the verifier: %s", err);
                return;
        }
        if (r < 0) {
                say("reattest: cannot: %s (%s)", err, strerror(-r));
                return;
        }
        say("reattest: ISSUED token_id=%s to a log claiming the cap", a.token_id);
        r = tpm_unseal_imported(t, &(const struct tpm_sealed){SEALED_FIELDS(a)}, token, &token_size,
                                err, sizeof(err));
        explicit_bzero(token, sizeof(token));
        if (r >= 0)
                say("reattest: UNSEALED the second token: the verifier did not enforce the cap");
        else
                say("reattest: the second blob did not unseal: %s", err);
}

static int run(const char *device, const char *address)
{
        _cleanup_free_ char *body = NULL;
        _cleanup_(protocol_attest_answer_done) struct protocol_attest_answer a = {};
        struct tpm *t = NULL;
        struct tpm_ek ek = {};
        struct sockaddr_in addr;
        uint8_t pcrs[TPM_PCRS][32], token[TPM_UNSEALED_MAX];
        char err[TPM_ERROR_MAX], pcr_hex[65];
        size_t size = 0, token_size = 0;
        uint32_t reset_count = 0;
        int r, code;

        if (parse_address(address, &addr) < 0) {
                say("bad address '%s' (need A.B.C.D:PORT)", address);
                return EXIT_ERROR;
        }
        r = fetch(&addr, PROTOCOL_ANSWER_MAX, &body, &size);
        if (r == -ECONNREFUSED) {
                say("not asked (nothing offers an answer at %s)", address);
                return EXIT_NOT_OFFERED;
        }
        if (r < 0) {
                say("cannot fetch the answer from %s: %s", address, strerror(-r));
                return EXIT_ERROR;
        }
        r = protocol_parse_attest_answer(body, size, &a, err, sizeof(err));
        if (r < 0) {
                say("the answer from %s does not parse: %s", address, err);
                return EXIT_ERROR;
        }
        say("answer fetched: %zu bytes, token_id=%s, sealed to reset_count=%" PRIu32
            " and the PCRs of cap PCR %u",
            size, a.token_id, a.reset_count, a.cap_pcr);

        r = tpm_open(device, &t, err, sizeof(err));
        if (r < 0) {
                say("cannot open the TPM: %s", err);
                return EXIT_ERROR;
        }
        /* Same EK as the gate's (chosen by the certificates in NV), or Import would fail for
         * a reason that has nothing to do with the cap. */
        r = tpm_create_ek(t, TPM_EK_AUTO, &ek, err, sizeof(err));
        if (r >= 0)
                r = tpm_read_reset_count(t, &reset_count, err, sizeof(err));
        if (r >= 0)
                r = tpm_pcr_read(t, UINT32_C(1) << a.cap_pcr, pcrs, err, sizeof(err));
        if (r < 0) {
                say("TPM: %s", err);
                code = EXIT_ERROR;
                goto finish;
        }
        hex(pcrs[a.cap_pcr], 32, pcr_hex);
        say("before: ek=%s reset_count=%" PRIu32 " pcr%u=%s", tpm_ek_type_to_string(ek.type),
            reset_count, a.cap_pcr, pcr_hex);

        r = tpm_unseal_imported(t, &(const struct tpm_sealed){SEALED_FIELDS(a)}, token, &token_size,
                                err, sizeof(err));
        if (r >= 0) {
                /* Never the secret, not even here: the id says enough. */
                const char *dot = memchr(token, '.', token_size);

                say("UNSEALED the blob again (token id %.*s): the cap did not hold",
                    dot ? (int) (dot - (const char *) token) : 0, (const char *) token);
                code = EXIT_UNSEALED;
        } else if (r == -EACCES) {
                say("refused by the TPM: %s", err);
                code = EXIT_REFUSED;
                reattest(t, &ek);
        } else {
                say("failed, but not by the policy: %s (%s)", err, strerror(-r));
                code = EXIT_ERROR;
        }
finish:
        explicit_bzero(token, sizeof(token));
        tpm_ek_done(&ek);
        tpm_close(t);
        return code;
}

int main(int argc, char **argv)
{
        /* --tpm DEVICE: for trying it on the host against swtpm; the guest has /dev/tpmrm0. */
        if (argc == 4 && streq(argv[1], "--tpm"))
                return run(argv[2], argv[3]);
        if (argc != 2) {
                fprintf(stderr, "usage: %s [--tpm DEVICE] A.B.C.D:PORT\n", argv[0]);
                return EXIT_ERROR;
        }
        return run(NULL, argv[1]);
}
