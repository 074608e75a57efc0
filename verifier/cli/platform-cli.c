/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The offline platform check and policy from-evidence (platform-cli.h). */
#include "cli/platform-cli.h"

#include "common/fileutil.h"
#include "common/json-util.h"
#include "common/openssl-util.h"
#include "common/util-verifier.h"
#include "platform/platform.h"
#include "platform/tdx-collateral.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PROG     "nodegate-verifier platform"
#define FILE_MAX (256 * 1024)

static const char verify_usage[] =
    "Usage: " PROG " verify --report FILE [--kind KIND] [--vcek FILE] [--chain FILE]\n"
    "           [--roots DIR] [--quote FILE] [--binding HEX] [--time UNIX] [--policy FILE]\n"
    "           [--tdx-collateral DIR]\n"
    "\n"
    "Checks one SEV-SNP report, Azure HCL blob (vTPM NV 0x01400001) or TDX quote in the\n"
    "verifier's order (SNP: parse, chain, VEK matches report, signature, policy, binding; TDX:\n"
    "parse, quote matches TDREPORT, PCK chain, QE report, signature, collateral, TCB, policy,\n"
    "binding), prints each check and then `accepted` or `refused: REASON`. Exit 0 only when\n"
    "accepted.\n"
    "  --kind KIND     snp-report, azure-snp-hcl, tdx-quote, azure-tdx-hcl (default: from the\n"
    "                  bytes), or vcek, vlek, vcek-chain (a certificate's chain alone)\n"
    "  --vcek FILE     the VCEK/VLEK (DER or PEM; the first certificate of a bundle)\n"
    "  --chain FILE    PEM: the ASK (or ASVK) then the ARK, instead of the pinned ones; the\n"
    "                  ARK must still be a pinned root\n"
    "  --roots DIR     the AMD roots to pin instead of the compiled-in ones\n"
    "  --quote FILE    azure-tdx-hcl: the TD quote of the HCL's TDREPORT (from the metadata\n"
    "                  service); TDX quotes carry their PCK chain to the pinned Intel root\n"
    "  --binding HEX   the expected 64-byte binding (REPORT_DATA, REPORTDATA, or the claims'\n"
    "                  user-data)\n"
    "  --time UNIX     verification time (default: now)\n"
    "  --policy FILE   a policy file (its \"platform\" section) or the section alone\n"
    "  --tdx-collateral DIR\n"
    "                  Intel's PCS collateral (docs/cvm.md): TDX quotes are then checked for\n"
    "                  their TCB status as the service does; without it and without --policy\n"
    "                  the TCB status is not evaluated\n"
    "  --kind tdx-tcb  a TDX quote's signatures and TCB status alone (needs --tdx-collateral)\n";

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, PROG ": ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n%s", verify_usage);
        return 2;
}

static int failed(const char *fmt, ...) _printf_(1, 2);
static int failed(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, PROG ": ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return 1;
}

static int read_bytes(const char *path, char **ret, size_t *ret_size)
{
        int r = read_file_all(path, FILE_MAX, ret, ret_size);

        if (r < 0)
                return failed("%s: %s", path, strerror(-r));
        return 0;
}

/* The policy file's "platform" section, or a file that is the section alone. */
static int load_policy(const char *path, struct platform_policy *ret)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *text = NULL;
        json_object *section;
        char err[256];
        size_t size;

        if (read_bytes(path, &text, &size) < 0)
                return -1;
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object))
                return failed("%s: not a JSON object", path), -1;
        if (!json_object_object_get_ex(o, "platform", &section))
                section = o;
        if (platform_policy_parse(section, ret, err, sizeof(err)) < 0)
                return failed("%s: %s", path, err), -1;
        return 0;
}

static void print_step(void *userdata, const char *step, enum reason r, const char *detail)
{
        (void) userdata;
        if (r == REASON_OK)
                printf("%-19s ok: %s\n", step, detail);
        else
                printf("%-19s FAILED %s: %s\n", step, reason_name(r), detail);
}

static int parse_hex64(const char *s, uint8_t out[64])
{
        char lower[129];
        size_t len = strlen(s);

        if (len != 128)
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                lower[i] = (char) (s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
        lower[len] = '\0';
        return unhex_lower(lower, len, out, 64);
}

struct inputs {
        char *report, *quote;
        size_t report_size, quote_size;
        X509 *vek, *ask, *ark;
        struct amd_roots *roots;
};

static void inputs_done(struct inputs *in)
{
        free(in->report);
        free(in->quote);
        X509_free(in->vek);
        X509_free(in->ask);
        X509_free(in->ark);
        amd_roots_free(in->roots);
}

/* --kind tdx-tcb: a quote's signatures, then its TCB status from the collateral, the
 * policy's statuses accepted; the TD itself (debug, MRTD, binding) is not looked at. */
static enum reason verify_tdx_tcb(struct inputs *in, const struct platform_policy *pol, int64_t t,
                                  struct verdict *v)
{
        _cleanup_(tdx_collateral_done) struct tdx_collateral c = {};
        _cleanup_(X509_freep) X509 *pck = NULL, *pck_ca = NULL;
        const uint8_t *pin =
            in->roots->has_intel_pin ? in->roots->intel_pin : intel_sgx_root_sha256;
        struct tdx_tcb_result res;
        struct tdx_quote q;
        char ca[64];
        enum reason r;

        r = tdx_quote_parse((const uint8_t *) in->report, in->report_size, &q, v);
        print_step(NULL, "parse", r, r == REASON_OK ? "TDX quote" : v->message);
        if (r != REASON_OK)
                return r;
        r = tdx_pck_chain_verify(&q, pin, t, &pck, &pck_ca, ca, sizeof(ca), v);
        if (r == REASON_OK)
                r = tdx_qe_report_verify(&q, pck, v);
        if (r == REASON_OK)
                r = tdx_quote_signature_verify(&q, v);
        print_step(NULL, "signatures", r,
                   r == REASON_OK ? "PCK chain, QE report, quote" : v->message);
        if (r != REASON_OK)
                return r;
        r = tdx_collateral_load(in->roots->tdx_collateral, pck, pck_ca, pin, t, &c, v);
        print_step(NULL, "collateral", r,
                   r == REASON_OK ? "signed by Intel SGX TCB Signing; CRLs current, nothing "
                                    "revoked"
                                  : v->message);
        if (r != REASON_OK)
                return r;
        r = tdx_tcb_evaluate(&q, pck, c.tcb_info, c.qe_identity, t, &res, v);
        if (r == REASON_OK)
                r = tdx_tcb_status_check(pol, res.tcb_status, res.qe_status, v);
        if (r == REASON_OK)
                printf("%-19s ok: FMSPC %s: platform %s, TCB %s, QE %s\n", "tcb", c.fmspc,
                       res.platform_status, res.tcb_status, res.qe_status);
        else
                print_step(NULL, "tcb", r, v->message);
        return r;
}

/* The kind of evidence from its bytes: an HCL blob by its header and report type, a TDX quote
 * by its version and TEE type, else an SNP report. */
static enum platform_kind kind_of(const uint8_t *b, size_t size)
{
        if (size >= HCL_VAR_OFFSET && memcmp(b, "HCLA", 4) == 0)
                return b[HCL_REQ_OFFSET + 8] == HCL_REPORT_TDX ? PLATFORM_KIND_AZURE_TDX_HCL
                                                               : PLATFORM_KIND_AZURE_SNP_HCL;
        if (size >= 8 && (b[0] == 4 || b[0] == 5) && b[1] == 0 && b[4] == TDX_TEE_TYPE &&
            b[5] == 0 && b[6] == 0 && b[7] == 0)
                return PLATFORM_KIND_TDX_QUOTE;
        if (size >= 4 && memcmp(b, "HCLA", 4) == 0)
                return PLATFORM_KIND_AZURE_SNP_HCL;
        return PLATFORM_KIND_SNP_REPORT;
}

/* --kind vcek|vlek|vcek-chain: the certificate alone (the first of a bundle), chained to the
 * pinned roots of its product extension, or to --chain. */
static enum reason verify_certificate(struct inputs *in, enum amd_vek_kind kind, int64_t t,
                                      struct verdict *v)
{
        X509 *cert = amd_cert_load((const uint8_t *) in->report, in->report_size);
        struct amd_vek_ext ext;
        char chain[160];
        enum reason r;

        if (!cert) {
                printf("%-19s FAILED: not a certificate\n", "parse");
                return verdict_set(v, REASON_BAD_REQUEST, "not a certificate");
        }
        amd_vek_ext_parse(cert, &ext);
        printf("%-19s ok: %s, product %s, hwID %zu bytes\n", "parse", amd_vek_kind_name(kind),
               ext.product[0] ? ext.product : "-", ext.hwid_len);
        r = amd_chain_verify(in->roots, snp_product_from_name(ext.product), cert, kind, in->ask,
                             in->ark, t, chain, sizeof(chain), v);
        print_step(NULL, "chain", r, r == REASON_OK ? chain : v->message);
        X509_free(cert);
        return r;
}

static int cmd_verify(int argc, char **argv)
{
        static const struct option options[] = {
            {"report", required_argument, NULL, 'r'},
            {"kind", required_argument, NULL, 'k'},
            {"vcek", required_argument, NULL, 'v'},
            {"chain", required_argument, NULL, 'c'},
            {"roots", required_argument, NULL, 'R'},
            {"binding", required_argument, NULL, 'b'},
            {"time", required_argument, NULL, 't'},
            {"policy", required_argument, NULL, 'p'},
            {"quote", required_argument, NULL, 'q'},
            {"tdx-collateral", required_argument, NULL, 'T'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        const char *collateral_dir = NULL;
        bool tdx_tcb = false;
        const char *report_path = NULL, *vek_path = NULL, *chain_path = NULL, *roots_dir = NULL,
                   *policy_path = NULL, *quote_path = NULL;
        struct platform_evidence ev = {};
        struct platform_expect ex = {};
        struct platform_policy pol;
        struct inputs in = {};
        struct verdict v;
        enum amd_vek_kind cert_kind = AMD_VEK_UNKNOWN;
        bool have_kind = false;
        int64_t t = (int64_t) time(NULL);
        char err[256], *end;
        enum reason r;
        int c, rc = 1;

        platform_policy_default(&pol);
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        report_path = optarg;
                        break;
                case 'k':
                        if (streq(optarg, "tdx-tcb"))
                                tdx_tcb = true;
                        else if (streq(optarg, "vcek") || streq(optarg, "vcek-chain"))
                                cert_kind = AMD_VEK_VCEK;
                        else if (streq(optarg, "vlek"))
                                cert_kind = AMD_VEK_VLEK;
                        else if (platform_kind_from_name(optarg, &ev.kind) < 0)
                                return usage_error("--kind %s: not snp-report, azure-snp-hcl, "
                                                   "tdx-quote, azure-tdx-hcl, vcek, vlek or "
                                                   "vcek-chain",
                                                   optarg);
                        have_kind = true;
                        break;
                case 'v':
                        vek_path = optarg;
                        break;
                case 'c':
                        chain_path = optarg;
                        break;
                case 'R':
                        roots_dir = optarg;
                        break;
                case 'b':
                        if (parse_hex64(optarg, ex.binding) < 0)
                                return usage_error("--binding: not 128 hex digits");
                        ex.check_binding = true;
                        break;
                case 't':
                        errno = 0;
                        t = strtoll(optarg, &end, 10);
                        if (errno || *end || end == optarg || t < 0)
                                return usage_error("--time %s: not Unix seconds", optarg);
                        break;
                case 'p':
                        policy_path = optarg;
                        break;
                case 'q':
                        quote_path = optarg;
                        break;
                case 'T':
                        collateral_dir = optarg;
                        break;
                case 'h':
                        fputs(verify_usage, stdout);
                        return 0;
                default:
                        return usage_error("bad option");
                }
        }
        if (!report_path || optind != argc)
                return usage_error("verify needs --report FILE and nothing else");

        if (policy_path && load_policy(policy_path, &pol) < 0)
                goto out;
        /* A quote alone can still be checked for being genuine: without collateral and a
         * policy the TCB status is not evaluated (its line says so); the service never does
         * that unless its policy says tdx.tcb_status "unchecked". */
        if (!policy_path && !collateral_dir && !tdx_tcb)
                pol.tdx_tcb_unchecked = true;
        if (amd_roots_load(roots_dir, &in.roots, err, sizeof(err)) < 0) {
                failed("%s", err);
                goto out;
        }
        in.roots->tdx_collateral = collateral_dir;
        if (read_bytes(report_path, &in.report, &in.report_size) < 0)
                goto out;
        if (!have_kind)
                ev.kind = kind_of((const uint8_t *) in.report, in.report_size);
        if (quote_path) {
                if (ev.kind != PLATFORM_KIND_AZURE_TDX_HCL) {
                        rc = usage_error("--quote is for azure-tdx-hcl evidence only");
                        goto out;
                }
                if (read_bytes(quote_path, &in.quote, &in.quote_size) < 0)
                        goto out;
                ev.tdx_quote = (const uint8_t *) in.quote;
                ev.tdx_quote_size = in.quote_size;
        }
        if (vek_path) {
                _cleanup_free_ char *data = NULL;
                size_t size;

                if (read_bytes(vek_path, &data, &size) < 0)
                        goto out;
                in.vek = amd_cert_load((const uint8_t *) data, size);
                if (!in.vek) {
                        failed("%s: not a certificate", vek_path);
                        goto out;
                }
        }
        if (chain_path) {
                _cleanup_(sk_X509_pop_freep) STACK_OF(X509) *certs = NULL;
                _cleanup_free_ char *data = NULL;
                size_t size;

                if (read_bytes(chain_path, &data, &size) < 0)
                        goto out;
                certs = amd_certs_load((const uint8_t *) data, size);
                if (!certs || sk_X509_num(certs) != 2) {
                        failed("%s: not two certificates (ASK or ASVK, then ARK)", chain_path);
                        goto out;
                }
                in.ask = sk_X509_shift(certs);
                in.ark = sk_X509_shift(certs);
        }
        ev.report = (const uint8_t *) in.report;
        ev.report_size = in.report_size;
        ev.vek = in.vek;
        ev.ask = in.ask;
        ev.ark = in.ark;

        if (tdx_tcb) {
                r = verify_tdx_tcb(&in, &pol, t, &v);
        } else if (cert_kind != AMD_VEK_UNKNOWN) {
                r = verify_certificate(&in, cert_kind, t, &v);
        } else {
                printf("%-19s %s, %zu bytes, time %" PRId64 "\n", "evidence",
                       platform_kind_name(ev.kind), in.report_size, t);
                r = platform_verify(in.roots, &pol, &ev, &ex, t, print_step, NULL, NULL, &v);
        }
        if (r == REASON_OK) {
                printf("accepted\n");
                rc = 0;
        } else
                printf("refused: %s\n", reason_name(r));
out:
        inputs_done(&in);
        return rc;
}

static const char collateral_usage[] =
    "Usage: " PROG " collateral DIR [--time UNIX] [--roots DIR]\n"
    "\n"
    "Checks a --tdx-collateral directory on its own (docs/cvm.md, \"TDX collateral\"), as the\n"
    "refresh job should before it moves new files into place: the TCB signing chain to the\n"
    "pinned Intel root, every tcbinfo-FMSPC.json and qe-identity.json signed and current, the\n"
    "root CA's CRL signed and current, the PCK CRLs current. Prints a line per file with its\n"
    "expiry, then `valid until DATE` or `invalid: REASON`; exit 0 only when valid. --time\n"
    "checks at another moment (e.g. tomorrow's, to refresh before anything lapses).\n";

static void print_collateral_line(const char *name, enum reason r, const char *detail,
                                  int64_t until)
{
        char date[32] = "";
        struct tm tm;
        time_t u = (time_t) until;

        if (until >= 0 && gmtime_r(&u, &tm))
                strftime(date, sizeof(date), " (until %Y-%m-%dT%H:%M:%SZ)", &tm);
        if (r == REASON_OK)
                printf("%-24s ok: %s%s\n", name, detail, date);
        else
                printf("%-24s FAILED %s: %s\n", name, reason_name(r), detail);
}

static int cmd_collateral(int argc, char **argv)
{
        static const struct option options[] = {
            {"time", required_argument, NULL, 't'},
            {"roots", required_argument, NULL, 'R'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        struct amd_roots *roots = NULL;
        const char *roots_dir = NULL;
        int64_t t = (int64_t) time(NULL), until = -1;
        char err[256], *end;
        struct verdict v;
        enum reason r;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 't':
                        errno = 0;
                        t = strtoll(optarg, &end, 10);
                        if (errno || *end || end == optarg || t < 0) {
                                fprintf(stderr, PROG ": --time %s: not Unix seconds\n%s", optarg,
                                        collateral_usage);
                                return 2;
                        }
                        break;
                case 'R':
                        roots_dir = optarg;
                        break;
                case 'h':
                        fputs(collateral_usage, stdout);
                        return 0;
                default:
                        fputs(collateral_usage, stderr);
                        return 2;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, PROG ": collateral needs one directory\n%s", collateral_usage);
                return 2;
        }
        if (amd_roots_load(roots_dir, &roots, err, sizeof(err)) < 0)
                return failed("%s", err);
        r = tdx_collateral_audit(argv[optind],
                                 roots->has_intel_pin ? roots->intel_pin : intel_sgx_root_sha256, t,
                                 print_collateral_line, &until, &v);
        amd_roots_free(roots);
        if (r != REASON_OK) {
                printf("invalid: %s\n", reason_name(r));
                return 1;
        }
        print_collateral_line("collateral", REASON_OK, "valid", until);
        return 0;
}

int platform_cli(int argc, char **argv)
{
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fputs(verify_usage, argc < 2 ? stderr : stdout);
                fputs("\n", argc < 2 ? stderr : stdout);
                fputs(collateral_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        if (streq(argv[1], "verify"))
                return cmd_verify(argc - 1, argv + 1);
        if (streq(argv[1], "collateral"))
                return cmd_collateral(argc - 1, argv + 1);
        fprintf(stderr, PROG ": unknown subcommand '%s'\n", argv[1]);
        return 2;
}

static const char from_evidence_usage[] =
    "Usage: nodegate-verifier policy from-evidence REPORT [--kind KIND] [--vcek FILE]\n"
    "           [--roots DIR] [--quote FILE] [--time UNIX] [--allow-debug]\n"
    "\n"
    "Prints, on stdout, {\"platform\": …}: the policy section (docs/PROTOCOL.md, \"The platform\n"
    "policy\") that admits this report's guest — its MEASUREMENT, ID and author key digests,\n"
    "VMPL, policy bits, REPORTED_TCB as the minimum of its product and GUEST_SVN as the\n"
    "minimum. require is azure-snp for an Azure HCL blob (tpm_trust tee: the claims name the\n"
    "vTPM's AK), snp for a bare report (tpm_trust cloud-ca: it does not say where the TPM\n"
    "runs). Merge it into a policy file with jq -s '.[0] * .[1]' policy.json platform.json.\n"
    "With --vcek the report is verified first (chain, VEK, signature; no binding); without,\n"
    "it is read as is and a note says so. A report with DEBUG=1 is refused unless\n"
    "--allow-debug: the host can read such a guest's memory.\n"
    "TDX (a tdx-quote, or an azure-tdx-hcl blob with --quote, its TD quote): the quote is always\n"
    "verified (its PCK chain to the pinned Intel root, at --time); the section pins MRTD and\n"
    "RTMR0-3, require tdx (tpm_trust cloud-ca) or azure-tdx (tpm_trust tee), and tcb_status\n"
    "UpToDate: the service then needs --tdx-collateral. A TD with DEBUG set is refused unless\n"
    "--allow-debug.\n";

/* from-evidence for the TDX kinds: verified (the quote carries its chain), then MRTD and the
 * RTMRs as the allowlists. */
static int learn_tdx(const char *path, struct inputs *in, struct platform_evidence *ev, int64_t t,
                     bool allow_debug, struct platform_policy *learnt)
{
        struct platform_policy pol;
        struct platform_expect ex = {};
        struct platform_facts facts;
        struct verdict v;
        char err[256];
        enum reason k;

        if (amd_roots_load(NULL, &in->roots, err, sizeof(err)) < 0)
                return failed("%s", err);
        platform_policy_default(&pol);
        pol.tdx_allow_debug = true;
        /* What is learnt is the TD; its platform's TCB is judged at each attestation against
         * the collateral of that day (the learnt section keeps tcb_status UpToDate). */
        pol.tdx_tcb_unchecked = true;
        k = platform_verify(in->roots, &pol, ev, &ex, t, NULL, NULL, &facts, &v);
        if (k != REASON_OK)
                return failed("%s: refused: %s: %s", path, reason_name(k), v.message);
        if ((facts.quote.td.td_attributes[0] & TDX_ATTR_DEBUG) && !allow_debug)
                return failed("%s: the TD has DEBUG set; refused without --allow-debug", path);
        platform_policy_default(learnt);
        learnt->require = ev->kind == PLATFORM_KIND_AZURE_TDX_HCL ? PLATFORM_REQUIRE_AZURE_TDX
                                                                  : PLATFORM_REQUIRE_TDX;
        learnt->tpm_trust =
            ev->kind == PLATFORM_KIND_AZURE_TDX_HCL ? PLATFORM_TPM_TEE : PLATFORM_TPM_CLOUD_CA;
        learnt->tdx_allow_debug = (facts.quote.td.td_attributes[0] & TDX_ATTR_DEBUG) != 0;
        memcpy(learnt->mrtds[learnt->n_mrtds++], facts.quote.td.mrtd, 48);
        for (int i = 0; i < 4; i++)
                memcpy(learnt->rtmrs[i][learnt->n_rtmrs[i]++], facts.quote.td.rtmr[i], 48);
        return 0;
}

int platform_cli_from_evidence(int argc, char **argv)
{
        static const struct option options[] = {
            {"kind", required_argument, NULL, 'k'},  {"vcek", required_argument, NULL, 'v'},
            {"roots", required_argument, NULL, 'R'}, {"time", required_argument, NULL, 't'},
            {"allow-debug", no_argument, NULL, 'd'}, {"quote", required_argument, NULL, 'q'},
            {"help", no_argument, NULL, 'h'},        {},
        };
        _cleanup_(json_object_putp) json_object *out = NULL;
        const char *vek_path = NULL, *roots_dir = NULL, *quote_path = NULL;
        struct platform_evidence ev = {};
        struct platform_expect ex = {};
        struct platform_policy pol, learnt;
        struct platform_facts facts;
        struct inputs in = {};
        struct verdict v;
        struct snp_tcb tcb;
        bool have_kind = false, allow_debug = false;
        int64_t t = (int64_t) time(NULL);
        const struct snp_report *r;
        char err[256], *end;
        enum reason k;
        int c, rc = 1;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'k':
                        if (platform_kind_from_name(optarg, &ev.kind) < 0)
                                return usage_error("--kind %s: not snp-report, azure-snp-hcl, "
                                                   "tdx-quote or azure-tdx-hcl",
                                                   optarg);
                        have_kind = true;
                        break;
                case 'v':
                        vek_path = optarg;
                        break;
                case 'R':
                        roots_dir = optarg;
                        break;
                case 't':
                        errno = 0;
                        t = strtoll(optarg, &end, 10);
                        if (errno || *end || end == optarg || t < 0)
                                return usage_error("--time %s: not Unix seconds", optarg);
                        break;
                case 'd':
                        allow_debug = true;
                        break;
                case 'q':
                        quote_path = optarg;
                        break;
                case 'h':
                        fputs(from_evidence_usage, stdout);
                        return 0;
                default:
                        fputs(from_evidence_usage, stderr);
                        return 2;
                }
        }
        if (optind != argc - 1) {
                fputs(from_evidence_usage, stderr);
                return 2;
        }
        if (read_bytes(argv[optind], &in.report, &in.report_size) < 0)
                goto out;
        if (!have_kind)
                ev.kind = kind_of((const uint8_t *) in.report, in.report_size);
        ev.report = (const uint8_t *) in.report;
        ev.report_size = in.report_size;
        if (quote_path && ev.kind != PLATFORM_KIND_AZURE_TDX_HCL) {
                fputs(from_evidence_usage, stderr);
                rc = 2;
                goto out;
        }
        if (quote_path) {
                if (read_bytes(quote_path, &in.quote, &in.quote_size) < 0)
                        goto out;
                ev.tdx_quote = (const uint8_t *) in.quote;
                ev.tdx_quote_size = in.quote_size;
        }
        if (platform_kind_is_tdx(ev.kind)) {
                if (learn_tdx(argv[optind], &in, &ev, t, allow_debug, &learnt) != 0)
                        goto out;
                goto print;
        }

        if (vek_path) {
                _cleanup_free_ char *data = NULL;
                size_t size;

                if (amd_roots_load(roots_dir, &in.roots, err, sizeof(err)) < 0) {
                        failed("%s", err);
                        goto out;
                }
                if (read_bytes(vek_path, &data, &size) < 0)
                        goto out;
                in.vek = amd_cert_load((const uint8_t *) data, size);
                if (!in.vek) {
                        failed("%s: not a certificate", vek_path);
                        goto out;
                }
                ev.vek = in.vek;
                /* Judge it by everything but the policy it is to become: allow what it has. */
                platform_policy_default(&pol);
                pol.allow_debug = pol.allow_migrate_ma = true;
                pol.vmpl = UINT32_MAX;
                k = platform_verify(in.roots, &pol, &ev, &ex, t, NULL, NULL, &facts, &v);
                if (k == REASON_SNP_VMPL)
                        /* The only policy check that cannot be switched off: redo with the
                         * report's own VMPL, which the section then pins. */
                        pol.vmpl = facts.report.vmpl,
                        k = platform_verify(in.roots, &pol, &ev, &ex, t, NULL, NULL, &facts, &v);
                if (k != REASON_OK) {
                        failed("%s: refused: %s: %s", argv[optind], reason_name(k), v.message);
                        goto out;
                }
        } else {
                struct hcl_report h;
                const uint8_t *snp = ev.report;
                size_t snp_size = ev.report_size;

                memset(&facts, 0, sizeof(facts));
                if (ev.kind == PLATFORM_KIND_AZURE_SNP_HCL) {
                        if (hcl_parse(ev.report, ev.report_size, &h, &v) != REASON_OK) {
                                failed("%s: %s", argv[optind], v.message);
                                goto out;
                        }
                        snp = h.hw;
                        snp_size = HCL_HW_SIZE;
                }
                if (snp_report_parse(snp, snp_size, &facts.report, &v) != REASON_OK) {
                        failed("%s: %s", argv[optind], v.message);
                        goto out;
                }
                facts.product = facts.report.product;
                fprintf(stderr,
                        "nodegate-verifier policy from-evidence: note: no --vcek, the report is "
                        "not verified: learn only from a report you trust\n");
        }
        r = &facts.report;
        if ((r->policy & (UINT64_C(1) << SNP_POLICY_DEBUG)) && !allow_debug) {
                failed("%s: the guest policy allows debugging (DEBUG=1); refused without "
                       "--allow-debug",
                       argv[optind]);
                goto out;
        }

        platform_policy_default(&learnt);
        learnt.require = ev.kind == PLATFORM_KIND_AZURE_SNP_HCL ? PLATFORM_REQUIRE_AZURE_SNP
                                                                : PLATFORM_REQUIRE_SNP;
        learnt.tpm_trust =
            ev.kind == PLATFORM_KIND_AZURE_SNP_HCL ? PLATFORM_TPM_TEE : PLATFORM_TPM_CLOUD_CA;
        memcpy(learnt.measurements[learnt.n_measurements++], r->measurement, 48);
        {
                static const uint8_t zero[48];

                if (memcmp(r->id_key_digest, zero, 48) != 0)
                        memcpy(learnt.id_keys[learnt.n_id_keys++], r->id_key_digest, 48);
                if (memcmp(r->author_key_digest, zero, 48) != 0)
                        memcpy(learnt.author_keys[learnt.n_author_keys++], r->author_key_digest,
                               48);
        }
        learnt.allow_debug = (r->policy & (UINT64_C(1) << SNP_POLICY_DEBUG)) != 0;
        learnt.allow_migrate_ma = (r->policy & (UINT64_C(1) << SNP_POLICY_MIGRATE_MA)) != 0;
        learnt.vmpl = r->vmpl;
        learnt.min_guest_svn = r->guest_svn;
        if (facts.product > SNP_PRODUCT_NONE && facts.product < SNP_PRODUCT_UNKNOWN) {
                snp_tcb_decode(r->reported_tcb, facts.product, &tcb);
                learnt.min_reported[facts.product] = (struct platform_min_tcb){true, tcb};
        } else
                fprintf(stderr, "nodegate-verifier policy from-evidence: note: the report names "
                                "no product (version 2 without --vcek): no minimum TCB learnt\n");

print:
        out = json_object_new_object();
        if (!out || json_add(out, "platform", platform_policy_to_json(&learnt)) < 0) {
                failed("out of memory");
                goto out;
        }
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_SPACED |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        rc = 0;
out:
        inputs_done(&in);
        return rc;
}
