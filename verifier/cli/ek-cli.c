/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The EK allowlist and CA directory commands. Every change is a whole new file renamed over
 * the old one, so a verifier starting meanwhile reads the old or the new file, never half. */
#include "cli/ek-cli.h"

#include "tpm/ekcheck.h"
#include "common/fileutil.h"
#include "common/openssl-util.h"
#include "tpm/tpm2b.h"
#include "tpm/tpmcrypto.h"
#include "common/util-verifier.h"

#include <getopt.h>
#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#define FILE_MAX   (64 * 1024 * 1024) /* an allowlist of a million EKs is 65 MB */
#define EXIT_USAGE 2

/* Prints "nodegate-verifier CMD: MESSAGE" on stderr. @return status, the exit status */
static int complain(int status, const char *cmd, const char *fmt, ...) _printf_(3, 4);
static int complain(int status, const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "nodegate-verifier %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return status;
}

static mode_t file_mode(const char *path, mode_t fallback)
{
        struct stat st;

        return stat(path, &st) == 0 ? (st.st_mode & 07777) : fallback;
}

/* Checks every line of an allowlist text; with want, also whether it holds that hash. The
 * text is NUL-terminated and has no NUL inside. @return 0, or -EINVAL with the line number */
static int scan_allowlist(const char *text, const uint8_t *want, bool *ret_found,
                          unsigned *ret_bad_line)
{
        unsigned lineno = 0;
        bool found = false;

        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);
                char line[1024];
                uint8_t h[32];
                int k;

                lineno++;
                if (len >= sizeof(line)) {
                        *ret_bad_line = lineno;
                        return -EINVAL;
                }
                memcpy(line, p, len);
                line[len] = '\0';
                k = ek_allowlist_parse_line(line, h);
                if (k < 0) {
                        *ret_bad_line = lineno;
                        return -EINVAL;
                }
                if (k > 0 && want && memcmp(h, want, 32) == 0)
                        found = true;
                p += len + (nl ? 1 : 0);
        }
        if (ret_found)
                *ret_found = found;
        return 0;
}

static int read_allowlist(const char *cmd, const char *path, bool may_be_missing, char **ret,
                          size_t *ret_size)
{
        int r = read_file_all(path, FILE_MAX, ret, ret_size);

        if (r == -ENOENT && may_be_missing) {
                *ret = strdup("");
                *ret_size = 0;
                return *ret ? 0 : complain(EXIT_FAILURE, cmd, "out of memory");
        }
        if (r < 0)
                return complain(EXIT_FAILURE, cmd, "cannot read %s: %s", path, strerror(-r));
        if (strlen(*ret) != *ret_size) {
                free(*ret);
                return complain(EXIT_FAILURE, cmd, "%s contains a NUL byte: not an allowlist",
                                path);
        }
        return 0;
}

static int parse_hex_hash(const char *s, uint8_t ret[32])
{
        if (strlen(s) != 64 || strchr(s, '#'))
                return -EINVAL;
        return ek_allowlist_parse_line(s, ret) == 1 ? 0 : -EINVAL;
}

/* The allowlist hash of an EK from its TPM2B_PUBLIC (or bare TPMT_PUBLIC) file. */
static int hash_of_public(const char *cmd, const char *path, uint8_t ret[32])
{
        _cleanup_free_ char *buf = NULL;
        uint8_t area[2 + 1024];
        struct tpm_public ek;
        struct verdict v;
        size_t size;
        int r;

        r = read_file_all(path, 1024, &buf, &size);
        if (r < 0)
                return complain(EXIT_FAILURE, cmd, "cannot read %s: %s", path, strerror(-r));
        r = tpm_public_parse((const uint8_t *) buf, size, &ek);
        if (r == -EBADMSG) {
                /* tpm2_readpublic -f tpmt writes the area without its size prefix. */
                area[0] = (uint8_t) (size >> 8);
                area[1] = (uint8_t) size;
                memcpy(area + 2, buf, size);
                r = tpm_public_parse(area, size + 2, &ek);
        }
        if (r < 0)
                return complain(EXIT_FAILURE, cmd,
                                "%s is not a TPM2B_PUBLIC of an RSA or ECC key%s", path,
                                r == -EOPNOTSUPP ? " nodegate takes" : "");
        if (ek_check_storage_key(&ek, &v) != REASON_OK)
                return complain(EXIT_FAILURE, cmd, "%s: %s", path, v.message);
        if (ek_spki_sha256(&ek, ret) < 0)
                return complain(EXIT_FAILURE, cmd, "%s: cannot hash the public key", path);
        return 0;
}

/* Whether the certificate's key is RSA with the ROCA fingerprint: such an EK is refused at
 * every attestation, so enrolling it would only hide the problem until then. */
static bool certificate_key_is_roca(X509 *cert)
{
        _cleanup_(BN_freep) BIGNUM *n = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = ek_certificate_get_pubkey(cert);
        uint8_t bytes[TPMW_RSA_MAX];
        int size;

        if (!key || !EVP_PKEY_is_a(key, "RSA") ||
            EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1) {
                ERR_clear_error();
                return false;
        }
        size = BN_num_bytes(n);
        if (size <= 0 || (size_t) size > sizeof(bytes))
                return false;
        BN_bn2bin(n, bytes);
        return ek_rsa_modulus_has_roca_fingerprint(bytes, (size_t) size);
}

static int hash_of_certificate(const char *cmd, const char *path, uint8_t ret[32])
{
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *certs = NULL;
        char err[512] = "";
        int r;

        r = ek_read_certificates(path, &certs, err, sizeof(err));
        if (r < 0)
                return complain(EXIT_FAILURE, cmd, "%s", err);
        if (sk_X509_num(certs) != 1)
                return complain(EXIT_FAILURE, cmd,
                                "%s holds %d certificates: give the EK certificate alone", path,
                                sk_X509_num(certs));
        if (certificate_key_is_roca(sk_X509_value(certs, 0)))
                return complain(EXIT_FAILURE, cmd,
                                "%s: the RSA modulus has the ROCA fingerprint (CVE-2017-15361): "
                                "its private key can be computed from it",
                                path);
        if (ek_certificate_spki_sha256(sk_X509_value(certs, 0), ret) < 0)
                return complain(EXIT_FAILURE, cmd, "%s: cannot hash the certificate's public key",
                                path);
        return 0;
}

static int ek_allow(int argc, char **argv)
{
        static const struct option options[] = {
            {"hash", required_argument, NULL, 'h'},
            {"public", required_argument, NULL, 'p'},
            {"certificate", required_argument, NULL, 'c'},
            {"comment", required_argument, NULL, 'm'},
            {},
        };
        const char *hash = NULL, *pub = NULL, *cert = NULL, *comment = NULL, *file;
        _cleanup_free_ char *text = NULL, *out = NULL;
        uint8_t h[32];
        char hex[65];
        size_t size;
        bool found;
        unsigned bad;
        int c, r;

        optind = 0; /* glibc: start over, main may have used getopt already */
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        hash = optarg;
                        break;
                case 'p':
                        pub = optarg;
                        break;
                case 'c':
                        cert = optarg;
                        break;
                case 'm':
                        comment = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return complain(EXIT_USAGE, "ek allow", "expected one FILE (see --help)");
        file = argv[optind];
        if (!!hash + !!pub + !!cert != 1)
                return complain(EXIT_USAGE, "ek allow",
                                "give exactly one of --hash, --public, --certificate");
        if (comment && strpbrk(comment, "\n\r"))
                return complain(EXIT_USAGE, "ek allow", "--comment must be one line");

        if (hash && parse_hex_hash(hash, h) < 0)
                return complain(EXIT_USAGE, "ek allow", "--hash %s: expected 64 hex digits", hash);
        if (pub && (r = hash_of_public("ek allow", pub, h)) != 0)
                return r;
        if (cert && (r = hash_of_certificate("ek allow", cert, h)) != 0)
                return r;
        hex_encode(h, 32, hex);

        r = read_allowlist("ek allow", file, true, &text, &size);
        if (r != 0)
                return r;
        if (scan_allowlist(text, h, &found, &bad) < 0)
                return complain(EXIT_FAILURE, "ek allow",
                                "%s:%u: not an allowlist line; fix it first", file, bad);
        if (found) {
                printf("%s already on %s\n", hex, file);
                return 0;
        }
        if (asprintf(&out, "%s%s%s%s%s\n", text, size > 0 && text[size - 1] != '\n' ? "\n" : "",
                     hex, comment ? "  # " : "", comment ? comment : "") < 0) {
                out = NULL;
                return complain(EXIT_FAILURE, "ek allow", "out of memory");
        }
        r = write_file_atomic(file, out, strlen(out), file_mode(file, 0644), (uid_t) -1,
                              (gid_t) -1);
        if (r < 0)
                return complain(EXIT_FAILURE, "ek allow", "cannot write %s: %s", file,
                                strerror(-r));
        printf("%s\n", hex);
        return 0;
}

static int ek_list(int argc, char **argv)
{
        _cleanup_free_ char *text = NULL;
        size_t size;
        unsigned bad;
        int r;

        if (argc != 3)
                return complain(EXIT_USAGE, "ek list", "expected FILE");
        r = read_allowlist("ek list", argv[2], false, &text, &size);
        if (r != 0)
                return r;
        if (scan_allowlist(text, NULL, NULL, &bad) < 0)
                return complain(EXIT_FAILURE, "ek list", "%s:%u: not an allowlist line", argv[2],
                                bad);
        for (char *p = text, *line; (line = strsep(&p, "\n"));) {
                uint8_t h[32];
                char hex[65];
                const char *comment;

                if (ek_allowlist_parse_line(line, h) != 1)
                        continue;
                hex_encode(h, 32, hex);
                comment = strchr(line, '#');
                printf("%s%s%s\n", hex, comment ? "  " : "", comment ? comment : "");
        }
        return 0;
}

static int ek_remove(int argc, char **argv)
{
        _cleanup_free_ char *text = NULL, *out = NULL;
        size_t size, o = 0, removed = 0;
        uint8_t want[32];
        unsigned bad;
        int r;

        if (argc != 4)
                return complain(EXIT_USAGE, "ek remove", "expected FILE HEX");
        if (parse_hex_hash(argv[3], want) < 0)
                return complain(EXIT_USAGE, "ek remove", "%s: expected 64 hex digits", argv[3]);
        r = read_allowlist("ek remove", argv[2], false, &text, &size);
        if (r != 0)
                return r;
        if (scan_allowlist(text, NULL, NULL, &bad) < 0)
                return complain(EXIT_FAILURE, "ek remove",
                                "%s:%u: not an allowlist line; fix it first", argv[2], bad);
        out = malloc(size + 1);
        if (!out)
                return complain(EXIT_FAILURE, "ek remove", "out of memory");
        /* Every other line stays as it was, comments included. */
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) + 1 : strlen(p);
                char line[1024];
                uint8_t h[32];

                memcpy(line, p, len < sizeof(line) ? len : sizeof(line) - 1);
                line[len < sizeof(line) ? len : sizeof(line) - 1] = '\0';
                if (ek_allowlist_parse_line(line, h) == 1 && memcmp(h, want, 32) == 0)
                        removed++;
                else {
                        memcpy(out + o, p, len);
                        o += len;
                }
                p += len;
        }
        if (removed == 0)
                return complain(EXIT_FAILURE, "ek remove", "%s is not on %s", argv[3], argv[2]);
        r = write_file_atomic(argv[2], out, o, file_mode(argv[2], 0644), (uid_t) -1, (gid_t) -1);
        if (r < 0)
                return complain(EXIT_FAILURE, "ek remove", "cannot write %s: %s", argv[2],
                                strerror(-r));
        return 0;
}

int ek_cli(int argc, char **argv)
{
        const char *sub = argc > 1 ? argv[1] : NULL;

        if (!sub || streq(sub, "--help") || streq(sub, "-h")) {
                fprintf(sub ? stdout : stderr,
                        "Usage: nodegate-verifier ek allow FILE (--hash HEX | --public "
                        "TPM2B_PUBLIC | --certificate CERT) [--comment TEXT]\n"
                        "       nodegate-verifier ek list FILE\n"
                        "       nodegate-verifier ek remove FILE HEX\n"
                        "HEX is the SHA-256 of the EK's DER SubjectPublicKeyInfo.\n");
                return sub ? 0 : EXIT_USAGE;
        }
        if (streq(sub, "allow"))
                return ek_allow(argc - 1, argv + 1);
        if (streq(sub, "list"))
                return ek_list(argc, argv);
        if (streq(sub, "remove"))
                return ek_remove(argc, argv);
        return complain(EXIT_USAGE, "ek", "unknown subcommand '%s' (allow, list, remove)", sub);
}

static int ca_add(int argc, char **argv)
{
        _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *certs = NULL;
        char err[512] = "";
        const char *dir, *pem;
        int r;

        if (argc != 4)
                return complain(EXIT_USAGE, "ca add", "expected DIR PEM");
        dir = argv[2];
        pem = argv[3];
        r = ek_read_certificates(pem, &certs, err, sizeof(err));
        if (r < 0)
                return complain(EXIT_FAILURE, "ca add", "%s", err);
        /* All or nothing: check every certificate before writing any. */
        for (int i = 0; i < sk_X509_num(certs); i++) {
                char subject[256];

                if (!ek_certificate_is_ca(sk_X509_value(certs, i), NULL)) {
                        X509_NAME_oneline(X509_get_subject_name(sk_X509_value(certs, i)), subject,
                                          sizeof(subject));
                        return complain(EXIT_FAILURE, "ca add",
                                        "%s: certificate %d (%s) is not a CA certificate "
                                        "(basicConstraints CA:TRUE)",
                                        pem, i + 1, subject);
                }
        }
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return complain(EXIT_FAILURE, "ca add", "cannot create %s: %m", dir);

        for (int i = 0; i < sk_X509_num(certs); i++) {
                X509 *x = sk_X509_value(certs, i);
                _cleanup_(BIO_freep) BIO *mem = BIO_new(BIO_s_mem());
                unsigned char *der = NULL;
                uint8_t h[32];
                char hex[65], path[4096], subject[256];
                const char *kind = "";
                char *data;
                long len;
                int n;

                n = i2d_X509(x, &der);
                if (n <= 0 || !mem || PEM_write_bio_X509(mem, x) != 1) {
                        OPENSSL_free(der);
                        ERR_clear_error();
                        return complain(EXIT_FAILURE, "ca add", "cannot encode certificate %d",
                                        i + 1);
                }
                SHA256(der, (size_t) n, h);
                OPENSSL_free(der);
                hex_encode(h, 32, hex);
                if (pathf(path, sizeof(path), "%s/%s.pem", dir, hex) < 0)
                        return complain(EXIT_FAILURE, "ca add", "%s: path too long", dir);
                len = BIO_get_mem_data(mem, &data);
                r = write_file_atomic(path, data, (size_t) len, 0644, (uid_t) -1, (gid_t) -1);
                if (r < 0)
                        return complain(EXIT_FAILURE, "ca add", "cannot write %s: %s", path,
                                        strerror(-r));
                (void) ek_certificate_is_ca(x, &kind);
                X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
                printf("%s\t%s\t%s\n", path, kind, subject);
        }
        return 0;
}

static int ca_list(int argc, char **argv)
{
        char **names = NULL;
        size_t n = 0;
        int r, status = 0;

        if (argc != 3)
                return complain(EXIT_USAGE, "ca list", "expected DIR");
        r = ek_list_ca_files(argv[2], &names, &n);
        if (r < 0)
                return complain(EXIT_FAILURE, "ca list", "cannot list %s: %s", argv[2],
                                strerror(-r));
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *certs = NULL;
                char path[4096], err[512] = "";

                if (pathf(path, sizeof(path), "%s/%s", argv[2], names[i]) < 0 ||
                    ek_read_certificates(path, &certs, err, sizeof(err)) < 0) {
                        fprintf(stderr, "nodegate-verifier ca list: %s\n", err[0] ? err : path);
                        status = 1;
                        continue;
                }
                for (int j = 0; j < sk_X509_num(certs); j++) {
                        X509 *x = sk_X509_value(certs, j);
                        _cleanup_(BIO_freep) BIO *mem = BIO_new(BIO_s_mem());
                        const char *kind = "not a CA";
                        char subject[256], *until = NULL;
                        long len = 0;

                        (void) ek_certificate_is_ca(x, &kind);
                        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
                        if (mem && ASN1_TIME_print(mem, X509_get0_notAfter(x)) == 1)
                                len = BIO_get_mem_data(mem, &until);
                        printf("%s\t%s\t%s\tuntil %.*s\n", names[i], kind, subject, (int) len,
                               until ? until : "");
                }
        }
        ek_free_names(names, n);
        return status;
}

int ca_cli(int argc, char **argv)
{
        const char *sub = argc > 1 ? argv[1] : NULL;

        if (!sub || streq(sub, "--help") || streq(sub, "-h")) {
                fprintf(sub ? stdout : stderr, "Usage: nodegate-verifier ca add DIR PEM\n"
                                               "       nodegate-verifier ca list DIR\n");
                return sub ? 0 : EXIT_USAGE;
        }
        if (streq(sub, "add"))
                return ca_add(argc, argv);
        if (streq(sub, "list"))
                return ca_list(argc, argv);
        return complain(EXIT_USAGE, "ca", "unknown subcommand '%s' (add, list)", sub);
}
