/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nodegate-verifier: `serve` (load and check every file, then run the HTTPS service until
 * SIGTERM), `keygen`, and the management subcommands of policy-cli.c and ek-cli.c. */
#include "appraisal/appraise.h"
#include "service/audit.h"
#include "appraisal/challenge.h"
#include "cli/ek-cli.h"
#include "tpm/ekcheck.h"
#include "issuance/issuance.h"
#include "issuance/kube-source.h"
#include "platform/amd-chain.h"
#include "cli/platform-cli.h"
#include "cli/policy-cli.h"
#include "service/server.h"
#include "issuance/token-source.h"

#include "common/openssl-util.h"
#include "common/fileutil.h"
#include "util.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/err.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#define TEXT_FILE_MAX (1024 * 1024) /* certificates, keys: far smaller in practice */
#define GRACE_SECONDS 20            /* for requests in flight at SIGTERM; Kubernetes waits 30 */
#define SECRET_SIZE   32            /* what keygen writes; challenge.c takes 32 to 4096 bytes */

static void help(void)
{
        printf("Usage: nodegate-verifier COMMAND [OPTIONS]\n"
               "\n"
               "The nodegate verifier: appraises TPM evidence and releases kubelet join tokens\n"
               "sealed to the node's TPM (docs/PROTOCOL.md, docs/verifier.md).\n"
               "\n"
               "Commands:\n"
               "  serve [OPTIONS]       run the HTTPS service\n"
               "  keygen FILE           write a new 32-byte shared secret (mode 0600)\n"
               "  policy ...            manage the policy file (policy --help)\n"
               "  ek ...                manage the EK allowlist (ek --help)\n"
               "  ca ...                manage the EK CA roots (ca --help)\n"
               "  platform verify ...   check SEV-SNP or TDX evidence offline (platform --help)\n"
               "  platform collateral DIR\n"
               "                        check a --tdx-collateral directory on its own\n"
               "  --help, --version\n"
               "\n"
               "serve options:\n"
               "  --listen ADDR:PORT           IPv4 or [IPv6] address; port 0 picks one\n"
               "                               (default 127.0.0.1:8443)\n"
               "  --cert PEM --key PEM         server certificate (chain) and its key\n"
               "  --secret FILE                shared secret of all replicas (keygen)\n"
               "  --policy FILE                policy file (its \"platform\" section: the CVM\n"
               "                               evidence it requires, docs/PROTOCOL.md)\n"
               "  --platform-roots DIR         AMD ARK/ASK/ASVK (and an Intel SGX Root CA)\n"
               "                               to pin instead of the compiled-in ones (tests;\n"
               "                               a rotated root)\n"
               "  --vcek-cache DIR             VCEKs by chip: CHIPID-TCB.der (docs/cvm.md)\n"
               "  --tdx-collateral DIR         Intel PCS collateral for TDX quotes' TCB\n"
               "                               status, refreshed by the operator (docs/cvm.md)\n"
               "  --ek-allowlist FILE          enrolled EK public key hashes\n"
               "  --ek-ca FILE_OR_DIR          EK CA certificates (repeatable)\n"
               "  --ek-trust inventory|ca-only EKs must be enrolled (default), or any EK\n"
               "                               the CAs certified is admitted (loud opt-in)\n"
               "  --token-source exec:CMD ARG...|pool:FILE|kubernetes[:KUBECONFIG]\n"
               "  --token-ttl S                kubernetes: the token's expiration (default 900)\n"
               "  --token-timeout S            exec, kubernetes: one token, retries included,\n"
               "                               within S (default 10)\n"
               "  --token-groups LIST          kubernetes: auth-extra-groups (default\n"
               "                               system:bootstrappers:nodegate)\n"
               "  --api-server URL             kubeconfig server (https://...)\n"
               "  --cluster-ca PEM             kubeconfig certificate authority\n"
               "  --audit-log FILE             append decisions here, - for stdout\n"
               "  --threads N                  worker threads (default: CPUs)\n"
               "  --max-connections N          open connections (default 256)\n"
               "  --max-inflight N             requests received or appraised (default 64)\n"
               "  --connection-timeout S       idle connection timeout (default 10)\n"
               "  --max-connections-per-address N  open connections of one client address\n"
               "                               (default 32, 0: no limit)\n"
               "  --request-deadline S         a request (idle wait, headers, body) or an\n"
               "                               answer must be done within S (default 10)\n"
               "  --min-body-rate BYTES        a body must average BYTES/s after its first\n"
               "                               2 s (default 1024, 0: no minimum)\n"
               "  --rate-limit N               requests/s of each round per client address\n"
               "                               (IPv6: per /64; default 10, 0: no limit)\n"
               "  --rate-burst N               requests a client address may send at once\n"
               "                               (default 40)\n"
               "  --audit-refusals-per-second N  refusal lines per reason a second; the rest\n"
               "                               are summarized (default 20, 0: no cap)\n"
               "  --audit-reserve-mb N         free MiB of the audit volume that only issued\n"
               "                               tokens' lines may use (default 64)\n"
               "  --challenge-lifetime S       challenge validity (default 30)\n"
               "  --round2-per-ek N            round-2 answers one EK may have at once, one\n"
               "                               more every 4 s (default 16; 0: no limit, for\n"
               "                               benchmarks only)\n");
}

static int parse_unsigned(const char *opt, const char *text, unsigned min, unsigned max,
                          unsigned *ret)
{
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(text, &end, 10);
        if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0' || v < min || v > max) {
                fprintf(stderr, "nodegate-verifier: %s %s: expected a number from %u to %u\n", opt,
                        text, min, max);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

static const char *file_error(int r)
{
        switch (r) {
        case -EBADF:
                return "not a regular file";
        case -EFBIG:
                return "too large";
        default:
                return strerror(-r);
        }
}

static int no_passphrase(char *buf _unused_, int size _unused_, int rw _unused_, void *u _unused_)
{
        return -1; /* never prompt: an encrypted key is an error, not a question */
}

/* The TLS files, checked here with OpenSSL so a mistake is named at startup; GnuTLS, which
 * serves them, would only say that it cannot. */
static int check_tls_files(const char *cert_path, const char *cert_pem, const char *key_path,
                           const char *key_pem)
{
        BIO *bio;
        X509 *cert;
        EVP_PKEY *key;
        int r = 0;

        bio = BIO_new_mem_buf(cert_pem, -1);
        cert = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
        BIO_free(bio);
        if (!cert) {
                fprintf(stderr, "nodegate-verifier: --cert %s: not a PEM certificate\n", cert_path);
                return -EINVAL;
        }
        bio = BIO_new_mem_buf(key_pem, -1);
        key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
        BIO_free(bio);
        if (!key) {
                fprintf(stderr, "nodegate-verifier: --key %s: not an unencrypted PEM private key\n",
                        key_path);
                r = -EINVAL;
        } else if (X509_check_private_key(cert, key) != 1) {
                fprintf(stderr, "nodegate-verifier: --key %s: not the key of --cert %s\n", key_path,
                        cert_path);
                r = -EINVAL;
        } else if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
                fprintf(stderr, "nodegate-verifier: --cert %s: expired\n", cert_path);
                r = -EINVAL;
        }
        EVP_PKEY_free(key);
        X509_free(cert);
        return r;
}

/* The kubeconfig's CA, as the answer carries it: base64 of the PEM certificates of the file,
 * re-encoded from what they parsed to, so nothing else in the file (comments, parameters, a
 * key) ever reaches a node. A private key in the file is refused, not skipped: it means the
 * cluster CA's key sits where the verifier reads it, which is the mistake to fix (issue 12 §5).
 * @return 0 or negative errno, the reason printed */
static int load_cluster_ca(const char *path, char **ret)
{
        _cleanup_(erase_and_freep) char *pem = NULL;
        _cleanup_(BIO_freep) BIO *in = NULL, *out = NULL;
        size_t size;
        unsigned n_certs = 0;
        char *b64, *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len;
        BUF_MEM *mem;
        int r;

        r = read_regular_file(path, TEXT_FILE_MAX, &pem, &size);
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: --cluster-ca %s: %s\n", path, file_error(r));
                return r;
        }
        in = BIO_new_mem_buf(pem, (int) size);
        out = BIO_new(BIO_s_mem());
        if (!in || !out)
                return -ENOMEM;
        for (unsigned block = 1; PEM_read_bio(in, &name, &header, &data, &len) == 1; block++) {
                const unsigned char *p = data;
                X509 *cert = NULL;

                r = 0;
                if (strstr(name, "PRIVATE KEY")) {
                        fprintf(stderr,
                                "nodegate-verifier: --cluster-ca %s: block %u is a private key "
                                "(%s): it would go to every node; give the CA certificate alone "
                                "(openssl x509 -in FILE)\n",
                                path, block, name);
                        r = -EPERM;
                } else if (!streq(name, "CERTIFICATE"))
                        fprintf(stderr,
                                "nodegate-verifier: --cluster-ca %s: block %u (%s) is not a "
                                "certificate, not sent\n",
                                path, block, name);
                else if (!(cert = d2i_X509(NULL, &p, len)) || p != data + len) {
                        fprintf(stderr,
                                "nodegate-verifier: --cluster-ca %s: block %u is not a valid "
                                "X.509 certificate\n",
                                path, block);
                        r = -EINVAL;
                } else if (PEM_write_bio_X509(out, cert) != 1)
                        r = -ENOMEM;
                else
                        n_certs++;
                X509_free(cert);
                OPENSSL_free(name);
                OPENSSL_free(header);
                OPENSSL_clear_free(data, (size_t) len);
                name = header = NULL;
                data = NULL;
                if (r < 0) {
                        ERR_clear_error();
                        return r;
                }
        }
        /* The loop ends at the end of the text ("no start line") or at a broken block. */
        if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
                ERR_clear_error();
                fprintf(stderr, "nodegate-verifier: --cluster-ca %s: a PEM block does not parse\n",
                        path);
                return -EINVAL;
        }
        ERR_clear_error();
        if (n_certs == 0) {
                fprintf(stderr, "nodegate-verifier: --cluster-ca %s: not a PEM certificate\n",
                        path);
                return -EINVAL;
        }
        BIO_get_mem_ptr(out, &mem);
        b64 = malloc(4 * ((mem->length + 2) / 3) + 1);
        if (!b64)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) b64, (const unsigned char *) mem->data,
                        (int) mem->length);
        *ret = b64;
        return 0;
}

struct serve_args {
        struct server_config server;
        const char *cert_path, *key_path, *secret, *policy, *allowlist, *token_source;
        bool ek_ca_only;
        const char *api_server, *cluster_ca, *audit_log;
        const char **ek_cas;
        size_t n_ek_cas;
        unsigned challenge_lifetime;
        unsigned round2_per_ek;
        struct kube_options kube;
        unsigned token_timeout;
        struct audit_limits audit;
        const char *platform_roots, *vcek_cache, *tdx_collateral;
};

/* The EK trust anchors: the allowlist and every CA file or directory. */
static int load_ek_trust(struct verifier *vf, const struct serve_args *a)
{
        char err[512] = "";
        int r;

        r = ek_trust_new(&vf->ek_trust);
        if (r < 0)
                return r;
        if (a->allowlist) {
                r = ek_trust_load_allowlist(vf->ek_trust, a->allowlist, err, sizeof(err));
                if (r < 0) {
                        fprintf(stderr, "nodegate-verifier: --ek-allowlist %s: %s\n", a->allowlist,
                                err[0] ? err : strerror(-r));
                        return r;
                }
        }
        for (size_t i = 0; i < a->n_ek_cas; i++) {
                err[0] = '\0';
                r = ek_trust_add_ca(vf->ek_trust, a->ek_cas[i], err, sizeof(err));
                if (r < 0) {
                        fprintf(stderr, "nodegate-verifier: --ek-ca %s: %s\n", a->ek_cas[i],
                                err[0] ? err : strerror(-r));
                        return r;
                }
        }
        ek_trust_set_ca_only(vf->ek_trust, a->ek_ca_only);
        fprintf(stderr,
                "nodegate-verifier: EK trust: %zu CA certificates, %zu allowlisted EKs, %s\n",
                ek_trust_n_ca(vf->ek_trust), ek_trust_n_allowed(vf->ek_trust),
                a->ek_ca_only ? "ca-only: ANY EK THE CAs CERTIFIED IS ADMITTED"
                              : "inventory: only allowlisted EKs");
        return 0;
}

static int load_token_source(struct verifier *vf, const struct serve_args *a)
{
        char err[512] = "";
        int r;

        const char *kubeconfig = startswith(a->token_source, "kubernetes:");

        if (kubeconfig || streq(a->token_source, "kubernetes")) {
                if (kubeconfig && !*kubeconfig) {
                        fprintf(stderr, "nodegate-verifier: --token-source kubernetes: needs a "
                                        "kubeconfig after the colon\n");
                        return -EINVAL;
                }
                r = token_source_new_kube(kubeconfig, &a->kube, &vf->tokens, err, sizeof(err));
                /* A boot this replica remembers gets its token without a call to the API
                 * server: remember it for well under the token's life, so a token handed out
                 * again still has most of its life ahead. */
                if (r == 0)
                        issuance_set_remember(vf->issuance,
                                              a->kube.ttl_sec / 2 < ISSUANCE_REMEMBER_SEC
                                                  ? a->kube.ttl_sec / 2
                                                  : ISSUANCE_REMEMBER_SEC);
        } else {
                r = token_source_new(a->token_source, &vf->tokens, err, sizeof(err));
                if (r == 0)
                        token_source_set_timeout(vf->tokens, a->token_timeout * 1000);
        }
        if (r < 0)
                fprintf(stderr, "nodegate-verifier: --token-source %s: %s\n", a->token_source,
                        err[0] ? err : strerror(-r));
        return r;
}

static void verifier_teardown(struct verifier *vf)
{
        policy_free(vf->policy);
        ek_trust_free(vf->ek_trust);
        token_source_free(vf->tokens);
        issuance_free(vf->issuance);
        free(vf->api_server);
        free(vf->cluster_ca_b64);
        amd_roots_free(vf->amd_roots);
        free(vf->vcek_cache);
        OPENSSL_cleanse(vf->challenge_key, sizeof(vf->challenge_key));
        OPENSSL_cleanse(vf->credential_key, sizeof(vf->credential_key));
        OPENSSL_cleanse(vf->token_key, sizeof(vf->token_key));
}

/* The loaded verifier, with the keys derived from the shared secret, in pages of its own that
 * a core dump leaves out (MADV_DONTDUMP: belt and braces beside PR_SET_DUMPABLE, which a
 * debugger or a changed sysctl may undo) and that stay out of swap when the memlock limit
 * allows (mlock is best effort: the default limit of 64 KiB or more takes one page, and a
 * refusal costs only the swap protection). @return the zeroed struct, or NULL */
static struct verifier *verifier_alloc(void)
{
        size_t size = sizeof(struct verifier);
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return NULL;
        if (madvise(p, size, MADV_DONTDUMP) < 0) {
                munmap(p, size);
                return NULL;
        }
        (void) mlock(p, size);
        return p;
}

static void verifier_freep(struct verifier **vf)
{
        if (!*vf)
                return;
        OPENSSL_cleanse(*vf, sizeof(**vf));
        munmap(*vf, sizeof(**vf));
}

static int verifier_setup(struct verifier *vf, const struct serve_args *a)
{
        char err[512] = "";
        int r;

        /* It checks the mode too: a secret others can read lets them mint challenges. */
        r = challenge_load_secret(a->secret, vf->challenge_key, vf->credential_key, vf->token_key,
                                  err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: --secret %s: %s\n", a->secret,
                        err[0] ? err : strerror(-r));
                return r;
        }
        err[0] = '\0';
        r = policy_load(a->policy, &vf->policy, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: --policy %s: %s\n", a->policy,
                        err[0] ? err : strerror(-r));
                return r;
        }
        if (!startswith(a->api_server, "https://") || strlen(a->api_server) <= strlen("https://")) {
                fprintf(stderr,
                        "nodegate-verifier: --api-server %s: expected https://HOST[:PORT]\n",
                        a->api_server);
                return -EINVAL;
        }
        vf->api_server = strdup(a->api_server);
        if (!vf->api_server)
                return -ENOMEM;
        r = load_cluster_ca(a->cluster_ca, &vf->cluster_ca_b64);
        if (r < 0)
                return r;
        vf->challenge_lifetime = a->challenge_lifetime;
        r = issuance_new(&vf->issuance);
        if (r < 0)
                return r;
        issuance_set_ek_burst(vf->issuance, a->round2_per_ek);
        r = load_ek_trust(vf, a);
        if (r < 0)
                return r;
        /* AMD's roots are compiled in; --platform-roots replaces them (a test chain, or a root
         * AMD rotated before a release of the verifier). */
        err[0] = '\0';
        r = amd_roots_load(a->platform_roots, &vf->amd_roots, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: --platform-roots: %s\n", err);
                return r;
        }
        if (a->tdx_collateral) {
                struct stat st;

                /* Read at each TDX attestation; a typo must not wait for the first node. */
                if (stat(a->tdx_collateral, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        fprintf(stderr, "nodegate-verifier: --tdx-collateral %s: not a directory\n",
                                a->tdx_collateral);
                        return -ENOTDIR;
                }
                vf->amd_roots->tdx_collateral = a->tdx_collateral;
        }
        if (a->vcek_cache) {
                vf->vcek_cache = strdup(a->vcek_cache);
                if (!vf->vcek_cache)
                        return -ENOMEM;
        }
        return load_token_source(vf, a);
}

static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
        int saved = errno;
        char c = (char) sig;

        /* The only async-signal-safe way out: the main thread waits on the other end. */
        (void) !write(stop_pipe[1], &c, 1);
        errno = saved;
}

static void on_sigpipe(int sig _unused_)
{
        /* A handler, not SIG_IGN: an ignored signal stays ignored in exec'ed token sources. */
}

static int install_signals(void)
{
        struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
        struct sigaction pipe_sa = {.sa_handler = on_sigpipe, .sa_flags = SA_RESTART};

        if (pipe2(stop_pipe, O_CLOEXEC) < 0)
                return negative_errno();
        sigemptyset(&sa.sa_mask);
        sigemptyset(&pipe_sa.sa_mask);
        if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
            sigaction(SIGPIPE, &pipe_sa, NULL) < 0)
                return negative_errno();
        return 0;
}

static int wait_for_stop(void)
{
        char c;
        ssize_t n;

        do
                n = read(stop_pipe[0], &c, 1);
        while (n < 0 && errno == EINTR);
        return n == 1 ? c : 0;
}

enum {
        OPT_LISTEN = 0x100,
        OPT_CERT,
        OPT_KEY,
        OPT_SECRET,
        OPT_POLICY,
        OPT_EK_ALLOWLIST,
        OPT_EK_CA,
        OPT_EK_TRUST,
        OPT_TOKEN_SOURCE,
        OPT_API_SERVER,
        OPT_CLUSTER_CA,
        OPT_AUDIT_LOG,
        OPT_THREADS,
        OPT_MAX_CONNECTIONS,
        OPT_MAX_INFLIGHT,
        OPT_CONNECTION_TIMEOUT,
        OPT_CHALLENGE_LIFETIME,
        OPT_ROUND2_PER_EK,
        OPT_MAX_PER_ADDRESS,
        OPT_REQUEST_DEADLINE,
        OPT_MIN_BODY_RATE,
        OPT_RATE_LIMIT,
        OPT_RATE_BURST,
        OPT_AUDIT_REFUSALS,
        OPT_AUDIT_RESERVE,
        OPT_TOKEN_TTL,
        OPT_TOKEN_GROUPS,
        OPT_TOKEN_TIMEOUT,
        OPT_PLATFORM_ROOTS,
        OPT_TDX_COLLATERAL,
        OPT_VCEK_CACHE,
};

static const struct option serve_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"secret", required_argument, NULL, OPT_SECRET},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"ek-allowlist", required_argument, NULL, OPT_EK_ALLOWLIST},
    {"ek-ca", required_argument, NULL, OPT_EK_CA},
    {"ek-trust", required_argument, NULL, OPT_EK_TRUST},
    {"token-source", required_argument, NULL, OPT_TOKEN_SOURCE},
    {"api-server", required_argument, NULL, OPT_API_SERVER},
    {"cluster-ca", required_argument, NULL, OPT_CLUSTER_CA},
    {"audit-log", required_argument, NULL, OPT_AUDIT_LOG},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
    {"connection-timeout", required_argument, NULL, OPT_CONNECTION_TIMEOUT},
    {"challenge-lifetime", required_argument, NULL, OPT_CHALLENGE_LIFETIME},
    {"round2-per-ek", required_argument, NULL, OPT_ROUND2_PER_EK},
    {"max-connections-per-address", required_argument, NULL, OPT_MAX_PER_ADDRESS},
    {"request-deadline", required_argument, NULL, OPT_REQUEST_DEADLINE},
    {"min-body-rate", required_argument, NULL, OPT_MIN_BODY_RATE},
    {"rate-limit", required_argument, NULL, OPT_RATE_LIMIT},
    {"rate-burst", required_argument, NULL, OPT_RATE_BURST},
    {"audit-refusals-per-second", required_argument, NULL, OPT_AUDIT_REFUSALS},
    {"audit-reserve-mb", required_argument, NULL, OPT_AUDIT_RESERVE},
    {"token-ttl", required_argument, NULL, OPT_TOKEN_TTL},
    {"token-groups", required_argument, NULL, OPT_TOKEN_GROUPS},
    {"token-timeout", required_argument, NULL, OPT_TOKEN_TIMEOUT},
    {"platform-roots", required_argument, NULL, OPT_PLATFORM_ROOTS},
    {"tdx-collateral", required_argument, NULL, OPT_TDX_COLLATERAL},
    {"vcek-cache", required_argument, NULL, OPT_VCEK_CACHE},
    {}};

static int parse_serve_args(int argc, char **argv, struct serve_args *a)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int c, r = 0;

        *a = (struct serve_args){
            .server =
                {
                    .listen = "127.0.0.1:8443",
                    .threads = cpus > 0 && cpus < 1024 ? (unsigned) cpus : 1,
                    .max_connections = 256,
                    .max_inflight = 64,
                    .connection_timeout = 10,
                    .connection_memory = 64 * 1024,
                    .max_per_address = 32,
                    .request_deadline = 10,
                    .min_body_rate = 1024,
                    .rate_limit = 10,
                    .rate_burst = 40,
                },
            .challenge_lifetime = 30,
            .round2_per_ek = ISSUANCE_EK_BURST,
            .kube = {.ttl_sec = KUBE_TTL_DEFAULT,
                     .groups = KUBE_GROUP_DEFAULT,
                     .deadline_ms = KUBE_DEADLINE_DEFAULT},
            .token_timeout = TOKEN_EXEC_TIMEOUT / 1000,
            .audit = {.refusals_per_second = 20, .reserve_bytes = 64ull << 20},
        };
        a->ek_cas = calloc((size_t) argc, sizeof(*a->ek_cas));
        if (!a->ek_cas)
                return -ENOMEM;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", serve_options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 1;
                case OPT_LISTEN:
                        a->server.listen = optarg;
                        break;
                case OPT_CERT:
                        a->cert_path = optarg;
                        break;
                case OPT_KEY:
                        a->key_path = optarg;
                        break;
                case OPT_SECRET:
                        a->secret = optarg;
                        break;
                case OPT_POLICY:
                        a->policy = optarg;
                        break;
                case OPT_PLATFORM_ROOTS:
                        a->platform_roots = optarg;
                        break;
                case OPT_TDX_COLLATERAL:
                        a->tdx_collateral = optarg;
                        break;
                case OPT_VCEK_CACHE:
                        a->vcek_cache = optarg;
                        break;
                case OPT_EK_ALLOWLIST:
                        a->allowlist = optarg;
                        break;
                case OPT_EK_CA:
                        a->ek_cas[a->n_ek_cas++] = optarg;
                        break;
                case OPT_EK_TRUST:
                        if (streq(optarg, "inventory"))
                                a->ek_ca_only = false;
                        else if (streq(optarg, "ca-only"))
                                a->ek_ca_only = true;
                        else {
                                fprintf(stderr, "nodegate-verifier: serve: --ek-trust: inventory "
                                                "or ca-only\n");
                                return -EINVAL;
                        }
                        break;
                case OPT_TOKEN_SOURCE:
                        a->token_source = optarg;
                        break;
                case OPT_API_SERVER:
                        a->api_server = optarg;
                        break;
                case OPT_CLUSTER_CA:
                        a->cluster_ca = optarg;
                        break;
                case OPT_AUDIT_LOG:
                        a->audit_log = optarg;
                        break;
                case OPT_THREADS:
                        r = parse_unsigned("--threads", optarg, 1, 1024, &a->server.threads);
                        break;
                case OPT_MAX_CONNECTIONS:
                        r = parse_unsigned("--max-connections", optarg, 1, 65536,
                                           &a->server.max_connections);
                        break;
                case OPT_MAX_INFLIGHT:
                        r = parse_unsigned("--max-inflight", optarg, 1, 65536,
                                           &a->server.max_inflight);
                        break;
                case OPT_CONNECTION_TIMEOUT:
                        r = parse_unsigned("--connection-timeout", optarg, 1, 3600,
                                           &a->server.connection_timeout);
                        break;
                case OPT_CHALLENGE_LIFETIME:
                        r = parse_unsigned("--challenge-lifetime", optarg, 5, 3600,
                                           &a->challenge_lifetime);
                        break;
                case OPT_ROUND2_PER_EK:
                        r = parse_unsigned("--round2-per-ek", optarg, 0, 1000000,
                                           &a->round2_per_ek);
                        break;
                case OPT_MAX_PER_ADDRESS:
                        r = parse_unsigned("--max-connections-per-address", optarg, 0, 65536,
                                           &a->server.max_per_address);
                        break;
                case OPT_REQUEST_DEADLINE:
                        r = parse_unsigned("--request-deadline", optarg, 1, 3600,
                                           &a->server.request_deadline);
                        break;
                case OPT_MIN_BODY_RATE:
                        r = parse_unsigned("--min-body-rate", optarg, 0, 1 << 30,
                                           &a->server.min_body_rate);
                        break;
                case OPT_RATE_LIMIT:
                        r = parse_unsigned("--rate-limit", optarg, 0, 1000000,
                                           &a->server.rate_limit);
                        break;
                case OPT_RATE_BURST:
                        r = parse_unsigned("--rate-burst", optarg, 1, 1000000,
                                           &a->server.rate_burst);
                        break;
                case OPT_AUDIT_REFUSALS:
                        r = parse_unsigned("--audit-refusals-per-second", optarg, 0, 1000000,
                                           &a->audit.refusals_per_second);
                        break;
                case OPT_TOKEN_TTL:
                        r = parse_unsigned("--token-ttl", optarg, KUBE_TTL_MIN, KUBE_TTL_MAX,
                                           &a->kube.ttl_sec);
                        break;
                case OPT_TOKEN_TIMEOUT:
                        r = parse_unsigned("--token-timeout", optarg, 1, 600, &a->token_timeout);
                        a->kube.deadline_ms = a->token_timeout * 1000;
                        break;
                case OPT_TOKEN_GROUPS:
                        a->kube.groups = optarg;
                        break;
                case OPT_AUDIT_RESERVE: {
                        unsigned mib;

                        r = parse_unsigned("--audit-reserve-mb", optarg, 0, 1u << 30, &mib);
                        a->audit.reserve_bytes = (uint64_t) mib << 20;
                        break;
                }
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                fprintf(stderr, "nodegate-verifier: serve: unexpected argument '%s'\n",
                        argv[optind]);
                return -EINVAL;
        }

        const struct {
                const char *value, *name;
        } required[] = {
            {a->cert_path, "--cert"},
            {a->key_path, "--key"},
            {a->secret, "--secret"},
            {a->policy, "--policy"},
            {a->token_source, "--token-source"},
            {a->api_server, "--api-server"},
            {a->cluster_ca, "--cluster-ca"},
            {a->audit_log, "--audit-log"},
        };
        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (!required[i].value) {
                        fprintf(stderr, "nodegate-verifier: serve: %s is required\n",
                                required[i].name);
                        return -EINVAL;
                }
        if (!a->allowlist && a->n_ek_cas == 0) {
                fprintf(stderr, "nodegate-verifier: serve: no EK could ever be accepted: give "
                                "--ek-allowlist or --ek-ca\n");
                return -EINVAL;
        }
        if (a->ek_ca_only && a->n_ek_cas == 0) {
                fprintf(stderr, "nodegate-verifier: serve: --ek-trust ca-only without --ek-ca\n");
                return -EINVAL;
        }
        if (!a->allowlist && !a->ek_ca_only) {
                fprintf(stderr,
                        "nodegate-verifier: serve: --ek-ca without --ek-allowlist: by default "
                        "only enrolled EKs are admitted (the allowlist is the inventory); give "
                        "--ek-allowlist, or --ek-trust ca-only to admit every TPM the CAs "
                        "certified\n");
                return -EINVAL;
        }
        {
                struct sockaddr_storage ss;
                size_t len;

                if (server_parse_listen(a->server.listen, &ss, &len) < 0) {
                        fprintf(stderr,
                                "nodegate-verifier: --listen %s: expected IPV4:PORT or "
                                "[IPV6]:PORT with a numeric address\n",
                                a->server.listen);
                        return -EINVAL;
                }
        }
        if (a->server.max_connections < a->server.threads) {
                fprintf(stderr,
                        "nodegate-verifier: serve: --max-connections %u is below "
                        "--threads %u\n",
                        a->server.max_connections, a->server.threads);
                return -EINVAL;
        }
        return 0;
}

static int cmd_serve(int argc, char **argv)
{
        _cleanup_(erase_and_freep) char *key_pem = NULL;
        _cleanup_free_ char *cert_pem = NULL;
        _cleanup_(verifier_freep) struct verifier *vf = NULL;
        struct serve_args a = {};
        struct audit *audit = NULL;
        struct server *srv = NULL;
        char err[512] = "";
        int r, sig;

        r = parse_serve_args(argc, argv, &a);
        if (r != 0) {
                /* 1 is --help, done; an error here is a usage error. */
                free(a.ek_cas);
                return r > 0 ? 0 : 2;
        }

        r = read_regular_file(a.cert_path, TEXT_FILE_MAX, &cert_pem, NULL);
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: --cert %s: %s\n", a.cert_path, file_error(r));
                goto out;
        }
        r = read_regular_file(a.key_path, TEXT_FILE_MAX, &key_pem, NULL);
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: --key %s: %s\n", a.key_path, file_error(r));
                goto out;
        }
        r = check_tls_files(a.cert_path, cert_pem, a.key_path, key_pem);
        if (r < 0)
                goto out;
        a.server.cert_pem = cert_pem;
        a.server.key_pem = key_pem;

        vf = verifier_alloc();
        if (!vf) {
                r = negative_errno();
                fprintf(stderr, "nodegate-verifier: cannot map the key pages: %s\n", strerror(-r));
                goto out;
        }
        r = verifier_setup(vf, &a);
        if (r < 0)
                goto out;

        r = audit_open(a.audit_log, &audit);
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: --audit-log %s: %s\n", a.audit_log,
                        strerror(-r));
                goto out;
        }
        audit_set_limits(audit, &a.audit);

        r = install_signals();
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: cannot install signal handlers: %s\n",
                        strerror(-r));
                goto out;
        }

        r = server_start(&a.server, vf, audit, &srv, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: %s\n", err);
                goto out;
        }
        /* Tests and scripts parse this line for the port that 0 picked. */
        printf("listening on %s\n", server_url(srv));
        fflush(stdout);

        sig = wait_for_stop();
        fprintf(stderr, "nodegate-verifier: %s, finishing requests in flight\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
        server_stop(srv, GRACE_SECONDS);
        r = 0;
out:
        audit_close(audit);
        if (vf)
                verifier_teardown(vf);
        free(a.ek_cas);
        return r < 0 ? 1 : 0;
}

static int cmd_keygen(int argc, char **argv)
{
        _cleanup_close_ int fd = -1;
        uint8_t secret[SECRET_SIZE];
        ssize_t n;
        int r = 0;

        if (argc != 2 || argv[1][0] == '-') {
                fprintf(stderr, "Usage: nodegate-verifier keygen FILE\n");
                return 2;
        }
        /* O_EXCL: a second keygen must never replace the secret the fleet's replicas share. */
        fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
                fprintf(stderr, "nodegate-verifier: keygen %s: %s\n", argv[1],
                        errno == EEXIST ? "exists already, refusing to overwrite it"
                                        : strerror(errno));
                return 1;
        }
        if (RAND_bytes(secret, sizeof(secret)) != 1)
                r = -EIO;
        else {
                n = write(fd, secret, sizeof(secret));
                if (n != (ssize_t) sizeof(secret) || fsync(fd) < 0)
                        r = n < 0 ? negative_errno() : -EIO;
        }
        OPENSSL_cleanse(secret, sizeof(secret));
        if (r < 0) {
                fprintf(stderr, "nodegate-verifier: keygen %s: %s\n", argv[1], strerror(-r));
                (void) unlink(argv[1]);
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        const char *cmd = argc > 1 ? argv[1] : NULL;

        /* No core dumps, no ptrace by other processes of the user: every command holds secrets
         * (the shared secret and its keys, the TLS key, tokens). Undone by execve, so token
         * source commands are unaffected. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                fprintf(stderr, "nodegate-verifier: cannot disable core dumps: %s\n",
                        strerror(errno));
                return 1;
        }
        if (!cmd) {
                fprintf(stderr, "Usage: nodegate-verifier COMMAND [OPTIONS] (see --help)\n");
                return 2;
        }
        if (streq(cmd, "--help") || streq(cmd, "-h") || streq(cmd, "help")) {
                help();
                return 0;
        }
        if (streq(cmd, "--version")) {
                printf("nodegate-verifier %s\n", VERIFIER_VERSION);
                return 0;
        }
        if (streq(cmd, "serve"))
                return cmd_serve(argc - 1, argv + 1);
        if (streq(cmd, "keygen"))
                return cmd_keygen(argc - 1, argv + 1);
        /* from-evidence lives with the platform checks it runs (cli/platform-cli.c). */
        if (streq(cmd, "policy") && argc > 2 && streq(argv[2], "from-evidence"))
                return platform_cli_from_evidence(argc - 2, argv + 2);
        if (streq(cmd, "policy"))
                return policy_cli(argc - 1, argv + 1);
        if (streq(cmd, "ek"))
                return ek_cli(argc - 1, argv + 1);
        if (streq(cmd, "platform"))
                return platform_cli(argc - 1, argv + 1);
        if (streq(cmd, "ca"))
                return ca_cli(argc - 1, argv + 1);
        fprintf(stderr, "nodegate-verifier: unknown command '%s' (see --help)\n", cmd);
        return 2;
}
