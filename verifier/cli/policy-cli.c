/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `nodegate-verifier policy …`: a policy from a reference event log, checked, shown, and one
 * digest allowed at a time — every file it writes has passed policy_parse() first. */

#include "cli/policy-cli.h"
#include "tpm/eventlog.h"
#include "common/fileutil.h"
#include "common/json-util.h"
#include "policy/policy.h"
#include "platform/platform.h"
#include "policy/predict.h"
#include "common/util-verifier.h"

#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>

#define EXIT_USAGE    2
#define MAX_LOG_SIZE  (16u << 20)
#define MAX_FILE_SIZE (16u << 20)
#define MAX_UKI_SIZE  (1u << 30) /* a UKI with a big initrd; the file is read whole */
#define PROG          "nodegate-verifier policy"

static const char help_main[] =
    "Usage: " PROG " COMMAND [ARGS...]\n"
    "\n"
    "Manages the policy file (docs/PROTOCOL.md, \"The policy file\"): which PCRs the node\n"
    "quotes and the token is sealed to, and which event digests are allowed in the pinned ones.\n"
    "\n"
    "Commands:\n"
    "  from-log LOG [--pin LIST] [--quote LIST] [--cap N] [--allow LIST]\n"
    "                  print a policy allowing exactly the events of a reference event log\n"
    "  from-uki UKI [--platform-log LOG] [--platform-pcrs LIST] [--allow LIST] [--events]\n"
    "                  print the policy a good boot of UKI meets, predicted from the file\n"
    "  from-evidence REPORT [--vcek FILE] [--time UNIX] [--allow-debug]\n"
    "                  print the \"platform\" section learnt from one known-good SEV-SNP\n"
    "                  report or Azure HCL blob (docs/cvm.md)\n"
    "  check POLICY    validate a policy file and summarize it\n"
    "  show POLICY     print a policy file in canonical form\n"
    "  allow POLICY --pcr N --type TYPE --sha256 HEX [--required]\n"
    "                  allow one more digest, rewriting the file atomically\n"
    "  merge A B       print a policy accepting the images of both (a rolling update)\n"
    "  retire POLICY LABEL\n"
    "                  stop accepting an image: its boots are refused as image-retired\n"
    "from-log and from-uki take --label NAME: the image's name in merge, retire and refusals.\n"
    "\n"
    "COMMAND --help describes each. Exit status: 0 done, 1 failed, 2 usage error.\n";

static const char help_from_log[] =
    "Usage: " PROG " from-log LOG [--pin LIST] [--quote LIST] [--cap N] [--allow LIST]\n"
    "       [--label NAME]\n"
    "\n"
    "Reads a TCG event log (crypto-agile, with a SHA-256 bank; on a node it is\n"
    "/sys/kernel/security/tpm0/binary_bios_measurements) and prints, on stdout, a policy that\n"
    "pins the PCRs of --pin and allows in each exactly the (event type, SHA-256) pairs the\n"
    "reference log has there. Nothing is marked required.\n"
    "\n"
    "  --pin LIST     PCRs whose events are judged (default 2,4,7,9,11: boot-time drivers,\n"
    "                 the boot application, Secure Boot, the kernel's initrd and command line,\n"
    "                 the UKI's sections); the cap PCR is always pinned, empty\n"
    "  --quote LIST   PCRs quoted and sealed to (default 0,1,2,3,4,5,6,7,9,11,15); must\n"
    "                 include every pinned PCR and the cap PCR, never 10\n"
    "  --cap N        the PCR the gate extends after Unseal (default 15; never 16-23)\n"
    "  --label NAME   the image's name ([a-z0-9][a-z0-9._-]{0,62}) for merge, retire and\n"
    "                 the image-retired refusal (default img-<12 hex of its rules' SHA-256>)\n"
    "  --allow LIST   opt-ins, written into the policy: firmware-unjudged (PCRs 2 and 7 need\n"
    "                 not be pinned), secure-boot-off (a boot without Secure Boot passes; a\n"
    "                 reference log with SecureBoot=0 is refused without it)\n"
    "\n"
    "Trade-offs of a policy taken from one reference boot:\n"
    "  - It admits that boot and nothing else in the pinned PCRs: a new UKI, command line,\n"
    "    initrd or Secure Boot database is refused until `allow` adds its digests (or a new\n"
    "    reference log is merged in). Pin only what must not change without review; the\n"
    "    quoted but unpinned PCRs (firmware 0, 1, 3, 5, 6) are replayed and sealed to, not\n"
    "    judged, so a firmware update does not lock the fleet out.\n"
    "  - Every event of the reference is allowed, incidental ones too (boot variables,\n"
    "    an option ROM, ...): machines of the same kind that differ there need their own\n"
    "    digests added.\n"
    "  - Nothing is required: a boot whose pinned PCRs hold only allowed events passes even\n"
    "    if some reference event is absent (the replay must still match the quote). Mark the\n"
    "    UKI's digest required with `allow POLICY --pcr 4 --type\n"
    "    EV_EFI_BOOT_SERVICES_APPLICATION --sha256 HEX --required`.\n";

static const char help_from_uki[] =
    "Usage: " PROG " from-uki UKI [--platform-log LOG] [--platform-pcrs LIST] [--quote LIST]\n"
    "                [--cap N] [--allow LIST] [--events]\n"
    "\n"
    "Predicts, from the UKI file alone, every event a good boot of it extends into PCRs 4, 9\n"
    "and 11 (docs/measure.md), and prints a policy that pins those PCRs to exactly them:\n"
    "  PCR 4   the boot manager's \"Calling EFI Application from Boot Option\" and separator,\n"
    "          the UKI's Authenticode SHA-256, the embedded kernel's (252, 257: systemd-stub\n"
    "          LoadImage()s it; 262 starts it itself, unmeasured)\n"
    "  PCR 11  systemd-stub: each section's name and content in the stub's order; the\n"
    "          UKI's .sdmagic says which stub: 252 (.linux .osrel .cmdline .initrd .splash\n"
    "          .dtb .pcrpkey), 257 (also .ucode .uname .sbat .profile .hwids) or 262\n"
    "          (257's; .efifw refused); any other version, and multi-profile UKIs, are\n"
    "          refused\n"
    "  PCR 9   the Linux (6.1+) EFI stub: the command line as UTF-16 (257, 262: whitespace\n"
    "          mangled; 262: refused without a console=, to which the stub would add one),\n"
    "          then the initrd (257, 262: with the /.extra cpio archives the stub adds)\n"
    "The UKI's authenticode, section and PCR 9 rules are marked required.\n"
    "\n"
    "  --platform-log LOG  a TCG event log of one boot of the platform (the firmware and its\n"
    "                      variables; any image, e.g. last week's): the events of\n"
    "                      --platform-pcrs are allowed as it has them. Under Secure Boot\n"
    "                      (SecureBoot=1 in it) the UKI's EV_EFI_VARIABLE_AUTHORITY is\n"
    "                      predicted from its signature and the log's db; the log's own\n"
    "                      authority events are not taken. Without it, only 4, 9 and 11 are\n"
    "                      pinned, which needs --allow firmware-unjudged: PCR 2 (drivers) and\n"
    "                      7 (Secure Boot) are then quoted, sealed to, not judged.\n"
    "  --platform-pcrs LIST  PCRs taken from the platform log (default 2,7; never 4, 9, 11)\n"
    "  --label NAME   the image's name for merge, retire and the image-retired refusal\n"
    "  --allow LIST   opt-ins, written into the policy: firmware-unjudged, secure-boot-off\n"
    "                 (needed when the platform log says SecureBoot=0)\n"
    "  --quote LIST   PCRs quoted and sealed to (default 0,1,2,3,4,5,6,7,9,11,15)\n"
    "  --cap N        the PCR the gate extends after Unseal (default 15)\n"
    "  --events       print the predicted events and PCR values instead of the policy:\n"
    "                 \"event PCR TYPE SHA256 WHAT\" and \"pcr N SHA256\" lines\n"
    "\n"
    "The prediction assumes what the UKI cannot decide: a boot entry without load options, no\n"
    "credentials or system extensions beside the UKI on the ESP (systemd-stub would add them to\n"
    "the initrd), firmware that logs PCR 4 as the TCG PC Client spec says. Anything else makes\n"
    "the verifier refuse the boot, which is the safe side.\n";

static const char help_check[] = "Usage: " PROG " check POLICY\n"
                                 "\n"
                                 "Validates POLICY as the verifier would load it and prints "
                                 "what it quotes, pins and requires, and its opt-ins.\n"
                                 "Exit status 1 and the offending key on stderr if invalid.\n";

static const char help_merge[] =
    "Usage: " PROG " merge A B\n"
    "\n"
    "Prints, on stdout, one policy that accepts a boot meeting all the rules of any image of\n"
    "A or of B — for a fleet rolling from image A to image B, so nodes of both join meanwhile.\n"
    "Rules of two images are never mixed: a boot is one image's. Each image keeps its label\n"
    "(\"label\" from from-log/from-uki --label, or img-<12 hex> derived from its rules);\n"
    "quote_pcrs is the union; cap_pcr and the opt-ins must be equal. Retired images of both\n"
    "stay retired; an image retired in one and accepted in the other is refused.\n";

static const char help_retire[] =
    "Usage: " PROG " retire POLICY LABEL\n"
    "\n"
    "Moves image LABEL of POLICY from \"images\" to \"retired\", rewriting the file atomically:\n"
    "a node booting it is then refused with image-retired, naming LABEL, and gets no token.\n"
    "Refuses to retire the last accepted image. A running verifier reads the policy at\n"
    "startup: restart (roll) the replicas to apply it.\n";

static const char help_show[] = "Usage: " PROG " show POLICY\n"
                                "\n"
                                "Prints POLICY in canonical form: PCRs ascending, rules by "
                                "event type, digests sorted, one rule a line.\n";

static const char help_allow[] =
    "Usage: " PROG " allow POLICY --pcr N --type TYPE --sha256 HEX [--required]\n"
    "\n"
    "Adds HEX to the rule for TYPE in PCR N (creating the rule, and pinning N if it was not\n"
    "pinned), then rewrites POLICY in canonical form through a temporary file and rename(2),\n"
    "so a verifier reading it sees the old or the new file, never half of one.\n"
    "\n"
    "  --pcr N        the PCR (0-23, quoted by the policy)\n"
    "  --type TYPE    TCG event type name (EV_EFI_BOOT_SERVICES_APPLICATION) or 0x + hex\n"
    "  --sha256 HEX   the event's SHA-256 digest, 64 hex digits\n"
    "  --required     the rule must then be matched by at least one event of every boot\n";

static void policy_freep(struct policy **p)
{
        policy_free(*p);
}

static int usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);
static int usage_error(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, PROG " %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see " PROG " %s --help)\n", cmd);
        return EXIT_USAGE;
}

static int failed(const char *cmd, const char *fmt, ...) _printf_(2, 3);
static int failed(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, PROG " %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_FAILURE;
}

/* "4,7,9,11" into a mask: PCRs 0-23, each once. */
static int parse_pcr_list(const char *s, uint32_t *ret)
{
        uint32_t mask = 0;

        if (!*s)
                return -EINVAL;
        for (const char *p = s;;) {
                unsigned n = 0, digits = 0;

                for (; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
                        n = n * 10 + (unsigned) (*p - '0');
                if (digits == 0 || n >= EVENTLOG_PCRS || (mask & 1u << n))
                        return -EINVAL;
                mask |= 1u << n;
                if (*p == '\0')
                        break;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }
        *ret = mask;
        return 0;
}

static int parse_pcr(const char *s, unsigned *ret)
{
        uint32_t mask;

        if (strchr(s, ',') || parse_pcr_list(s, &mask) < 0)
                return -EINVAL;
        *ret = (unsigned) __builtin_ctz(mask);
        return 0;
}

/* "firmware-unjudged,secure-boot-off" into POLICY_ALLOW_* bits. @return 0 or -EINVAL */
static int parse_allow_list(const char *s, uint32_t *ret)
{
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL;
        uint32_t mask = 0;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                uint32_t bit = policy_opt_in_from_name(w);
                if (!bit)
                        return -EINVAL;
                mask |= bit;
        }
        if (!mask)
                return -EINVAL;
        *ret = mask;
        return 0;
}

static int add_allow(json_object *root, uint32_t mask)
{
        json_object *a;

        if (!mask)
                return 0;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (unsigned n = 0; policy_opt_in_name(n); n++)
                if (mask & 1u << n)
                        json_object_array_add(a, json_object_new_string(policy_opt_in_name(n)));
        return json_object_object_add(root, "allow", a) < 0 ? -ENOMEM : 0;
}

/* Serializes a tree, runs it through the real parser and gives the canonical text: the CLI
 * never writes or prints what the verifier would refuse. */
static int canonicalize(json_object *root, char **ret, char *err, size_t errlen)
{
        _cleanup_(policy_freep) struct policy *p = NULL;
        const char *s;
        char *out;
        int r;

        s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
        if (!s)
                return -ENOMEM;
        r = policy_parse(s, strlen(s), &p, err, errlen);
        if (r < 0)
                return r;
        out = policy_to_json(p);
        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}

/* out with "label" set (for merge, retire and refusals to name the image), canonical again.
 * @return 0 or an exit status */
static int apply_label(const char *cmd, const char *label, char **out)
{
        _cleanup_(json_object_putp) json_object *root = NULL;
        char err[512];
        int r;

        if (!label)
                return 0;
        if (policy_label_check(label) < 0)
                return usage_error(cmd, "--label %s: [a-z0-9][a-z0-9._-]{0,62}", label);
        root = json_tokener_parse(*out);
        if (!root || json_object_object_add(root, "label", json_object_new_string(label)) < 0)
                return failed(cmd, "out of memory");
        free(*out);
        *out = NULL;
        r = canonicalize(root, out, err, sizeof(err));
        if (r < 0)
                return failed(cmd, "%s", r == -EINVAL ? err : strerror(-r));
        return 0;
}

static int add_int_array(json_object *root, const char *key, uint32_t mask)
{
        json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        for (unsigned i = 0; i < EVENTLOG_PCRS; i++)
                if (mask & 1u << i)
                        json_object_array_add(a, json_object_new_int((int) i));
        return json_object_object_add(root, key, a) < 0 ? -ENOMEM : 0;
}

/* The rule for type in one PCR's array of rules, added with no digest when there is none.
 * Rules match by the type their name stands for: "EV_IPL" and "0x0000000d" are one rule. */
static json_object *find_or_add_rule(json_object *rules, uint32_t type)
{
        char tbuf[VERDICT_EVENT_TYPE_MAX];
        json_object *rule;

        for (size_t k = 0; k < json_object_array_length(rules); k++) {
                json_object *o = json_object_array_get_idx(rules, k), *t;
                uint32_t tt;

                if (json_object_object_get_ex(o, "type", &t) &&
                    eventlog_type_from_name(json_object_get_string(t), &tt) == 0 && tt == type)
                        return o;
        }
        rule = json_object_new_object();
        json_object_object_add(rule, "type",
                               json_object_new_string(eventlog_type_name(type, tbuf)));
        json_object_object_add(rule, "sha256", json_object_new_array());
        json_object_array_add(rules, rule);
        return rule;
}

/* Adds h (64 lowercase hex digits) to the rule's digests. @return true when it was not there */
static bool add_digest(json_object *rule, const char *h)
{
        json_object *list;

        json_object_object_get_ex(rule, "sha256", &list);
        for (size_t k = 0; k < json_object_array_length(list); k++)
                if (streq(json_object_get_string(json_object_array_get_idx(list, k)), h))
                        return false;
        json_object_array_add(list, json_object_new_string(h));
        return true;
}

static int cmd_from_log(int argc, char **argv)
{
        static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"pin", required_argument, NULL, 'p'},
            {"quote", required_argument, NULL, 'q'},
            {"cap", required_argument, NULL, 'c'},
            {"allow", required_argument, NULL, 'a'},
            {"label", required_argument, NULL, 'L'},
            {},
        };
        const char *label = NULL;
        uint32_t pin = 1u << 2 | 1u << 4 | 1u << 7 | 1u << 9 | 1u << 11;
        uint32_t quote = 0xffu | 1u << 9 | 1u << 11 | 1u << 15, allow = 0;
        unsigned cap = 15;
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_free_ char *buf = NULL, *out = NULL;
        struct eventlog log = {};
        struct verdict v;
        char err[512];
        size_t size;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(help_from_log, stdout);
                        return 0;
                case 'L':
                        label = optarg;
                        break;
                case 'p':
                        if (parse_pcr_list(optarg, &pin) < 0)
                                return usage_error("from-log", "--pin %s: not a list of PCRs",
                                                   optarg);
                        break;
                case 'q':
                        if (parse_pcr_list(optarg, &quote) < 0)
                                return usage_error("from-log", "--quote %s: not a list of PCRs",
                                                   optarg);
                        break;
                case 'c':
                        if (parse_pcr(optarg, &cap) < 0)
                                return usage_error("from-log", "--cap %s: not a PCR", optarg);
                        break;
                case 'a':
                        if (parse_allow_list(optarg, &allow) < 0)
                                return usage_error("from-log",
                                                   "--allow %s: not a list of firmware-unjudged, "
                                                   "secure-boot-off",
                                                   optarg);
                        break;
                default:
                        return usage_error("from-log", "bad option");
                }
        if (argc - optind != 1)
                return usage_error("from-log", "expects one event log");
        const char *path = argv[optind];

        r = read_file_all(path, MAX_LOG_SIZE, &buf, &size);
        if (r < 0)
                return failed("from-log", "%s: %s", path, strerror(-r));
        if (eventlog_parse((const uint8_t *) buf, size, &log, &v) < 0)
                return failed("from-log", "%s: %s", path, v.message);

        /* Built as JSON and handed to policy_parse(), like a file an operator wrote. */
        json_object *pcrs = NULL, *arrays[EVENTLOG_PCRS] = {};
        root = json_object_new_object();
        if (!root || json_object_object_add(root, "version", json_object_new_int(1)) < 0 ||
            add_int_array(root, "quote_pcrs", quote) < 0 ||
            json_object_object_add(root, "cap_pcr", json_object_new_int((int) cap)) < 0 ||
            add_allow(root, allow) < 0 || !(pcrs = json_object_new_object()) ||
            json_object_object_add(root, "pcrs", pcrs) < 0) {
                eventlog_done(&log);
                return failed("from-log", "out of memory");
        }
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++) {
                char key[4];

                if (!(pin & 1u << pcr))
                        continue;
                snprintf(key, sizeof(key), "%u", pcr);
                arrays[pcr] = json_object_new_array();
                json_object_object_add(pcrs, key, arrays[pcr]);
        }

        for (size_t i = 0; i < log.n_events; i++) {
                const struct eventlog_event *e = &log.events[i];
                char h[65];

                if (e->type == EV_NO_ACTION || !(pin & 1u << e->pcr))
                        continue;
                hex_encode(e->sha256, 32, h);
                (void) add_digest(find_or_add_rule(arrays[e->pcr], e->type), h);
        }
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++)
                if (arrays[pcr] && json_object_array_length(arrays[pcr]) == 0)
                        fprintf(stderr,
                                PROG " from-log: note: %s has no event in PCR %u; pinned empty, "
                                     "any event there will be refused\n",
                                path, pcr);
        r = canonicalize(root, &out, err, sizeof(err));
        if (r < 0) {
                eventlog_done(&log);
                return r == -EINVAL ? failed("from-log", "%s", err)
                                    : failed("from-log", "%s", strerror(-r));
        }
        /* The reference must pass its own policy: a boot the verifier would refuse (Secure
         * Boot off, a cap in the log) makes no reference, unless an opt-in says so. */
        {
                _cleanup_(policy_freep) struct policy *p = NULL;

                r = policy_parse(out, strlen(out), &p, err, sizeof(err));
                v.reason = REASON_OK;
                if (r == 0 && policy_check(p, &log, &v) != REASON_OK) {
                        eventlog_done(&log);
                        return failed("from-log",
                                      "%s: the reference boot fails its own policy: %s: %s%s", path,
                                      reason_name(v.reason), v.message,
                                      v.reason == REASON_SECURE_BOOT_OFF
                                          ? " (--allow secure-boot-off to accept such boots)"
                                          : "");
                }
        }
        eventlog_done(&log);
        r = apply_label("from-log", label, &out);
        if (r != 0)
                return r;
        fputs(out, stdout);
        return fflush(stdout) == 0 ? 0 : EXIT_FAILURE;
}

/* The predicted events as a policy: one rule per (PCR, type), the UKI's own ones required. */
static int prediction_policy(const struct prediction *pred, uint32_t quote, unsigned cap,
                             uint32_t allow, char **ret, char *err, size_t errlen)
{
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *pcrs = NULL, *arrays[EVENTLOG_PCRS] = {};

        root = json_object_new_object();
        if (!root || json_object_object_add(root, "version", json_object_new_int(1)) < 0 ||
            add_int_array(root, "quote_pcrs", quote) < 0 ||
            json_object_object_add(root, "cap_pcr", json_object_new_int((int) cap)) < 0 ||
            add_allow(root, allow) < 0 || !(pcrs = json_object_new_object()) ||
            json_object_object_add(root, "pcrs", pcrs) < 0)
                return -ENOMEM;
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++) {
                char key[4];

                if (!(pred->pcr_mask & 1u << pcr))
                        continue;
                snprintf(key, sizeof(key), "%u", pcr);
                arrays[pcr] = json_object_new_array();
                json_object_object_add(pcrs, key, arrays[pcr]);
        }
        for (size_t i = 0; i < pred->n_events; i++) {
                const struct predict_event *e = &pred->events[i];
                json_object *rule;
                char h[65];

                if (!arrays[e->pcr])
                        continue;
                hex_encode(e->sha256, 32, h);
                rule = find_or_add_rule(arrays[e->pcr], e->type);
                (void) add_digest(rule, h);
                /* What the image itself measures must be there, not just be allowed. */
                if ((e->type == EV_EFI_BOOT_SERVICES_APPLICATION && e->pcr == 4) ||
                    (e->type == EV_IPL && e->pcr == 11) || (e->type == EV_EVENT_TAG && e->pcr == 9))
                        json_object_object_add(rule, "required", json_object_new_boolean(1));
        }
        return canonicalize(root, ret, err, errlen);
}

static int cmd_from_uki(int argc, char **argv)
{
        static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {"platform-log", required_argument, NULL, 'l'},
            {"platform-pcrs", required_argument, NULL, 'p'},
            {"quote", required_argument, NULL, 'q'},
            {"cap", required_argument, NULL, 'c'},
            {"events", no_argument, NULL, 'e'},
            {"allow", required_argument, NULL, 'a'},
            {"label", required_argument, NULL, 'L'},
            {},
        };
        const char *label = NULL;
        uint32_t quote = 0xffu | 1u << 9 | 1u << 11 | 1u << 15, platform_pcrs = 1u << 2 | 1u << 7;
        uint32_t allow = 0;
        const char *platform_path = NULL;
        unsigned cap = 15;
        bool events = false;
        _cleanup_free_ char *uki = NULL, *logbuf = NULL, *out = NULL;
        struct eventlog log = {};
        struct prediction pred = {};
        struct predict_options po = {};
        struct verdict v;
        char err[512];
        size_t uki_size, log_size;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(help_from_uki, stdout);
                        return 0;
                case 'L':
                        label = optarg;
                        break;
                case 'l':
                        platform_path = optarg;
                        break;
                case 'p':
                        if (parse_pcr_list(optarg, &platform_pcrs) < 0 ||
                            (platform_pcrs & PREDICT_IMAGE_PCRS))
                                return usage_error("from-uki",
                                                   "--platform-pcrs %s: not a list of PCRs "
                                                   "without 4, 9 and 11",
                                                   optarg);
                        break;
                case 'q':
                        if (parse_pcr_list(optarg, &quote) < 0)
                                return usage_error("from-uki", "--quote %s: not a list of PCRs",
                                                   optarg);
                        break;
                case 'c':
                        if (parse_pcr(optarg, &cap) < 0)
                                return usage_error("from-uki", "--cap %s: not a PCR", optarg);
                        break;
                case 'e':
                        events = true;
                        break;
                case 'a':
                        if (parse_allow_list(optarg, &allow) < 0)
                                return usage_error("from-uki",
                                                   "--allow %s: not a list of firmware-unjudged, "
                                                   "secure-boot-off",
                                                   optarg);
                        break;
                default:
                        return usage_error("from-uki", "bad option");
                }
        if (argc - optind != 1)
                return usage_error("from-uki", "expects one UKI");
        const char *path = argv[optind];

        r = read_file_all(path, MAX_UKI_SIZE, &uki, &uki_size);
        if (r < 0)
                return failed("from-uki", "%s: %s", path, strerror(-r));
        if (platform_path) {
                r = read_file_all(platform_path, MAX_LOG_SIZE, &logbuf, &log_size);
                if (r < 0)
                        return failed("from-uki", "%s: %s", platform_path, strerror(-r));
                if (eventlog_parse((const uint8_t *) logbuf, log_size, &log, &v) < 0)
                        return failed("from-uki", "%s: %s", platform_path, v.message);
                po.platform = &log;
                po.platform_mask = platform_pcrs;
        }

        r = predict_uki((const uint8_t *) uki, uki_size, &po, &pred, err, sizeof(err));
        eventlog_done(&log);
        if (r < 0)
                return failed("from-uki", "%s: %s", path, err[0] ? err : strerror(-r));

        if (events) {
                char tbuf[VERDICT_EVENT_TYPE_MAX], h[65];

                printf("# %s: systemd-stub %s, Linux %s, %s%s\n", path, pred.stub_version,
                       pred.kernel_version, pred.signed_image ? "signed" : "unsigned",
                       po.platform ? (pred.secure_boot ? ", platform: Secure Boot on"
                                                       : ", platform: Secure Boot off")
                                   : "");
                for (size_t i = 0; i < pred.n_events; i++) {
                        const struct predict_event *e = &pred.events[i];

                        hex_encode(e->sha256, 32, h);
                        printf("event %u %s %s %s\n", e->pcr, eventlog_type_name(e->type, tbuf), h,
                               e->what);
                }
                for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++)
                        if (pred.pcr_mask & 1u << pcr) {
                                hex_encode(pred.pcr_sha256[pcr], 32, h);
                                printf("pcr %u %s\n", pcr, h);
                        }
                prediction_done(&pred);
                return fflush(stdout) == 0 ? 0 : EXIT_FAILURE;
        }

        if ((pred.pcr_mask & quote) != pred.pcr_mask || !(quote & 1u << cap)) {
                prediction_done(&pred);
                return usage_error("from-uki",
                                   "--quote must include every pinned PCR (%s) and "
                                   "the cap PCR",
                                   po.platform ? "4, 9, 11 and the platform's" : "4, 9, 11");
        }
        if (po.platform && !pred.secure_boot && !(allow & POLICY_ALLOW_SECURE_BOOT_OFF)) {
                prediction_done(&pred);
                return failed("from-uki",
                              "%s: the platform log says Secure Boot is off: a node booting "
                              "that way would be refused (--allow secure-boot-off to accept it)",
                              platform_path);
        }
        r = prediction_policy(&pred, quote, cap, allow, &out, err, sizeof(err));
        prediction_done(&pred);
        if (r == -EINVAL)
                return failed("from-uki", "%s", err);
        if (r < 0)
                return failed("from-uki", "%s", strerror(-r));
        r = apply_label("from-uki", label, &out);
        if (r != 0)
                return r;
        fputs(out, stdout);
        return fflush(stdout) == 0 ? 0 : EXIT_FAILURE;
}

static int load(const char *cmd, const char *path, struct policy **ret)
{
        char err[512];
        int r;

        r = policy_load(path, ret, err, sizeof(err));
        if (r < 0)
                return failed(cmd, "%s: %s", path, err[0] ? err : strerror(-r));
        return 0;
}

/* Only --help, then exactly one POLICY. @return the index of POLICY, or -exit status */
static int one_policy_argument(const char *cmd, const char *help, int argc, char **argv)
{
        static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},
            {},
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h') {
                        fputs(help, stdout);
                        return -0x100;
                }
                return -usage_error(cmd, "bad option");
        }
        if (argc - optind != 1)
                return -usage_error(cmd, "expects one policy file");
        return optind;
}

static int cmd_show(int argc, char **argv)
{
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_free_ char *out = NULL;
        int i;

        i = one_policy_argument("show", help_show, argc, argv);
        if (i < 0)
                return i == -0x100 ? 0 : -i;
        if (load("show", argv[i], &p) != 0)
                return EXIT_FAILURE;
        out = policy_to_json(p);
        if (!out)
                return failed("show", "out of memory");
        fputs(out, stdout);
        return fflush(stdout) == 0 ? 0 : EXIT_FAILURE;
}

static void print_pcrs(const char *label, uint32_t mask)
{
        bool any = false;

        printf("%s", label);
        for (unsigned pcr = 0; pcr < EVENTLOG_PCRS; pcr++)
                if (mask & 1u << pcr) {
                        printf(" %u", pcr);
                        any = true;
                }
        printf("%s\n", any ? "" : " none");
}

static json_object *images_of(const struct policy *p, json_object *root);
static const char *label_of(json_object *img);

/* One image's pinned PCRs, summarized. */
static void print_image(const struct policy *p, json_object *pcrs)
{
        uint32_t pinned = 0;

        json_object_object_foreach(pcrs, key, rules)
        {
                size_t n_rules = json_object_array_length(rules), n_digests = 0;

                pinned |= 1u << atoi(key);
                printf("  PCR %s pinned: ", key);
                if (n_rules == 0)
                        printf("no extended event allowed\n");
                for (size_t k = 0; k < n_rules; k++) {
                        json_object *rule = json_object_array_get_idx(rules, k), *sha256;
                        json_object_object_get_ex(rule, "sha256", &sha256);
                        n_digests += json_object_array_length(sha256);
                }
                if (n_rules > 0)
                        printf("%zu event type%s, %zu digest%s", n_rules, n_rules == 1 ? "" : "s",
                               n_digests, n_digests == 1 ? "" : "s");
                const char *sep = "; required:";
                for (size_t k = 0; k < n_rules; k++) {
                        json_object *rule = json_object_array_get_idx(rules, k), *t, *req;
                        if (!json_object_object_get_ex(rule, "required", &req))
                                continue;
                        json_object_object_get_ex(rule, "type", &t);
                        printf("%s %s", sep, json_object_get_string(t));
                        sep = ",";
                }
                if (n_rules > 0)
                        printf("\n");
        }
        print_pcrs("  quoted, replayed, not judged:", policy_quote_mask(p) & ~pinned);
}

static int cmd_check(int argc, char **argv)
{
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL, *images = NULL;
        _cleanup_free_ char *out = NULL;
        json_object *retired = NULL;
        int i;

        i = one_policy_argument("check", help_check, argc, argv);
        if (i < 0)
                return i == -0x100 ? 0 : -i;
        if (load("check", argv[i], &p) != 0)
                return EXIT_FAILURE;

        /* The summary reads the canonical form: type names as the verifier prints them. */
        out = policy_to_json(p);
        root = out ? json_tokener_parse(out) : NULL;
        images = root ? images_of(p, root) : NULL;
        if (!images)
                return failed("check", "out of memory");
        json_object_object_get_ex(root, "retired", &retired);

        printf("%s: valid\n", argv[i]);
        print_pcrs("quoted and sealed to:", policy_quote_mask(p));
        printf("cap PCR: %u\n", policy_cap_pcr(p));
        for (int which = 0; which < 2; which++) {
                json_object *list = which ? retired : images;

                for (size_t k = 0; list && k < json_object_array_length(list); k++) {
                        json_object *img = json_object_array_get_idx(list, k), *pcrs;

                        printf("image %s: %s\n", label_of(img),
                               which ? "retired (refused as image-retired)" : "accepted");
                        if (json_object_object_get_ex(img, "pcrs", &pcrs))
                                print_image(p, pcrs);
                }
        }
        printf("opt-ins:");
        if (!policy_opt_ins(p))
                printf(" none (PCRs 2 and 7 judged, Secure Boot required)");
        if (policy_opt_ins(p) & POLICY_ALLOW_FIRMWARE_UNJUDGED)
                printf(" firmware-unjudged (PCR 2 drivers and PCR 7 Secure Boot state may go "
                       "unjudged)");
        if (policy_opt_ins(p) & POLICY_ALLOW_SECURE_BOOT_OFF)
                printf("%s secure-boot-off (a boot without Secure Boot passes)",
                       policy_opt_ins(p) & POLICY_ALLOW_FIRMWARE_UNJUDGED ? ";" : "");
        printf("\n");
        {
                static const char *const require[] = {"none", "SEV-SNP (bare or Azure)",
                                                      "Azure SEV-SNP HCL"};
                static const char *const trust[] = {"cloud-ca", "tee", "none"};
                const struct platform_policy *pp = policy_platform(p);

                printf("platform evidence required: %s; TPM trust: %s%s; %zu measurements, %zu "
                       "ID keys pinned%s\n",
                       require[pp->require], trust[pp->tpm_trust],
                       pp->admit_unenrolled_ek ? "; unenrolled EKs admitted" : "",
                       pp->n_measurements, pp->n_id_keys,
                       pp->allow_debug ? "; DEBUG guests allowed" : "");
        }
        return fflush(stdout) == 0 ? 0 : EXIT_FAILURE;
}

/* Replaces path's target with text, keeping the file's mode and owner. @return 0 or negative
 * errno */
static int write_atomic(const char *path, const char *text)
{
        _cleanup_free_ char *target = NULL;
        struct stat st;

        /* Through a symlink, the file it points to is what the verifier reads. */
        target = realpath(path, NULL);
        if (!target)
                return negative_errno();
        if (stat(target, &st) < 0)
                return negative_errno();
        return write_file_atomic(target, text, strlen(text), st.st_mode & 07777, st.st_uid,
                                 st.st_gid);
}

static int cmd_allow(int argc, char **argv)
{
        static const struct option options[] = {
            {"help", no_argument, NULL, 'h'},       {"pcr", required_argument, NULL, 'p'},
            {"type", required_argument, NULL, 't'}, {"sha256", required_argument, NULL, 's'},
            {"required", no_argument, NULL, 'r'},   {},
        };
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_free_ char *text = NULL, *out = NULL;
        const char *pcr_arg = NULL, *type_arg = NULL, *hex_arg = NULL;
        char key[4], h[65], tbuf[VERDICT_EVENT_TYPE_MAX], err[512];
        json_object *pcrs, *rules, *rule;
        bool required = false, changed = false, newly_pinned = false;
        unsigned pcr;
        uint32_t type;
        size_t size;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(help_allow, stdout);
                        return 0;
                case 'p':
                        pcr_arg = optarg;
                        break;
                case 't':
                        type_arg = optarg;
                        break;
                case 's':
                        hex_arg = optarg;
                        break;
                case 'r':
                        required = true;
                        break;
                default:
                        return usage_error("allow", "bad option");
                }
        if (argc - optind != 1)
                return usage_error("allow", "expects one policy file");
        const char *path = argv[optind];
        if (!pcr_arg || !type_arg || !hex_arg)
                return usage_error("allow", "--pcr, --type and --sha256 are required");
        if (parse_pcr(pcr_arg, &pcr) < 0)
                return usage_error("allow", "--pcr %s: not a PCR (0-23)", pcr_arg);
        if (eventlog_type_from_name(type_arg, &type) < 0)
                return usage_error("allow", "--type %s: not a TCG event type name or 0x…",
                                   type_arg);
        if (type == EV_NO_ACTION)
                return usage_error("allow", "--type: EV_NO_ACTION events are never extended");
        if (strlen(hex_arg) != 64 || strspn(hex_arg, "0123456789abcdefABCDEF") != 64)
                return usage_error("allow", "--sha256: not 64 hex digits");
        for (size_t i = 0; i < 64; i++)
                h[i] = (char) (hex_arg[i] >= 'A' && hex_arg[i] <= 'F' ? hex_arg[i] - 'A' + 'a'
                                                                      : hex_arg[i]);
        h[64] = '\0';
        const char *name = eventlog_type_name(type, tbuf);

        /* Never rewrite a file the verifier would refuse as it stands: say why instead. */
        r = read_file_all(path, MAX_FILE_SIZE, &text, &size);
        if (r < 0)
                return failed("allow", "%s: %s", path, strerror(-r));
        r = policy_parse(text, size, &p, err, sizeof(err));
        if (r < 0)
                return failed("allow", "%s: %s", path, r == -EINVAL ? err : strerror(-r));
        if (policy_n_images(p) > 1 || strstr(text, "\"images\""))
                return failed("allow",
                              "%s lists several images: allow the digest in that image's own "
                              "policy and merge again",
                              path);
        root = json_tokener_parse(text);
        if (!root || !json_object_object_get_ex(root, "pcrs", &pcrs))
                return failed("allow", "%s: out of memory", path);

        snprintf(key, sizeof(key), "%u", pcr);
        if (!json_object_object_get_ex(pcrs, key, &rules)) {
                rules = json_object_new_array();
                json_object_object_add(pcrs, key, rules);
                newly_pinned = true;
        }
        rule = find_or_add_rule(rules, type);
        changed = add_digest(rule, h);
        if (required) {
                json_object *req;
                if (!json_object_object_get_ex(rule, "required", &req) ||
                    !json_object_get_boolean(req)) {
                        json_object_object_add(rule, "required", json_object_new_boolean(1));
                        changed = true;
                }
        }
        if (!changed) {
                printf("%s: PCR %u %s sha256 %s was already allowed%s\n", path, pcr, name, h,
                       required ? " and required" : "");
                return 0;
        }

        r = canonicalize(root, &out, err, sizeof(err));
        if (r == -EINVAL)
                return failed("allow", "%s: the result would be refused: %s", path, err);
        if (r < 0)
                return failed("allow", "%s: %s", path, strerror(-r));
        r = write_atomic(path, out);
        if (r < 0)
                return failed("allow", "%s: cannot write: %s", path, strerror(-r));
        printf("%s: PCR %u %s sha256 %s allowed%s\n", path, pcr, name, h,
               required ? ", required" : "");
        if (newly_pinned)
                fprintf(stderr,
                        PROG " allow: note: PCR %u was not pinned; now it is, and only the events "
                             "allowed for it pass\n",
                        pcr);
        return 0;
}

/* The image list of a canonical policy: its "images", or its one image as {label, pcrs}.
 * @return a new array, or NULL */
static json_object *images_of(const struct policy *p, json_object *root)
{
        json_object *images, *pcrs, *a, *img;

        if (json_object_object_get_ex(root, "images", &images))
                return json_object_get(images);
        if (!json_object_object_get_ex(root, "pcrs", &pcrs))
                return NULL;
        a = json_object_new_array();
        img = json_object_new_object();
        if (!a || !img) {
                json_object_put(a);
                json_object_put(img);
                return NULL;
        }
        json_object_object_add(img, "label",
                               json_object_new_string(policy_image_label(p, 0, NULL)));
        json_object_object_add(img, "pcrs", json_object_get(pcrs));
        json_object_array_add(a, img);
        return a;
}

static const char *label_of(json_object *img)
{
        json_object *l;

        return json_object_object_get_ex(img, "label", &l) ? json_object_get_string(l) : "";
}

/* The image labelled label in the array, or NULL. */
static json_object *find_image(json_object *list, const char *label, size_t *ret_index)
{
        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
                json_object *img = json_object_array_get_idx(list, i);

                if (streq(label_of(img), label)) {
                        if (ret_index)
                                *ret_index = i;
                        return img;
                }
        }
        return NULL;
}

static bool same_rules(json_object *a, json_object *b)
{
        json_object *pa, *pb;

        return json_object_object_get_ex(a, "pcrs", &pa) &&
               json_object_object_get_ex(b, "pcrs", &pb) &&
               streq(json_object_to_json_string_ext(pa, JSON_C_TO_STRING_PLAIN),
                     json_object_to_json_string_ext(pb, JSON_C_TO_STRING_PLAIN));
}

/* A policy file, loaded and as its canonical JSON. @return 0 or an exit status */
static int load_canonical(const char *cmd, const char *path, struct policy **ret_p,
                          json_object **ret_root)
{
        _cleanup_free_ char *out = NULL;

        if (load(cmd, path, ret_p) != 0)
                return EXIT_FAILURE;
        out = policy_to_json(*ret_p);
        *ret_root = out ? json_tokener_parse(out) : NULL;
        if (!*ret_root)
                return failed(cmd, "out of memory");
        return 0;
}

static int cmd_merge(int argc, char **argv)
{
        _cleanup_(policy_freep) struct policy *pa = NULL, *pb = NULL;
        _cleanup_(json_object_putp) json_object *ra = NULL, *rb = NULL, *images = NULL,
                                                *retired = NULL, *root = NULL;
        _cleanup_free_ char *out = NULL;
        json_object *lists[2][2] = {}, *allow_a = NULL, *allow_b = NULL, *platform_a = NULL,
                    *platform_b = NULL;
        char err[512];
        int r;

        optind = 0;
        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                fputs(help_merge, stdout);
                return 0;
        }
        if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
                return usage_error("merge", "expects two policy files");
        if ((r = load_canonical("merge", argv[1], &pa, &ra)) != 0 ||
            (r = load_canonical("merge", argv[2], &pb, &rb)) != 0)
                return r;
        if (policy_cap_pcr(pa) != policy_cap_pcr(pb))
                return failed("merge",
                              "cap_pcr differs (%u in %s, %u in %s): one fleet has one "
                              "cap PCR",
                              policy_cap_pcr(pa), argv[1], policy_cap_pcr(pb), argv[2]);
        /* Opt-ins weaken every image's check: a merge must not weaken A's by B's. */
        if (policy_opt_ins(pa) != policy_opt_ins(pb))
                return failed("merge",
                              "the opt-ins (\"allow\") of %s and %s differ: make them "
                              "equal first, deliberately",
                              argv[1], argv[2]);
        json_object_object_get_ex(ra, "allow", &allow_a);
        json_object_object_get_ex(rb, "allow", &allow_b);
        /* The platform section binds every image: a merge that dropped it or took B's would
         * stop requiring A's TEE evidence without anyone deciding so. */
        json_object_object_get_ex(ra, "platform", &platform_a);
        json_object_object_get_ex(rb, "platform", &platform_b);
        if (!json_object_equal(platform_a, platform_b))
                return failed("merge",
                              "the platform sections of %s and %s differ: make them equal "
                              "first, deliberately",
                              argv[1], argv[2]);
        lists[0][0] = images_of(pa, ra);
        lists[1][0] = images_of(pb, rb);
        json_object_object_get_ex(ra, "retired", &lists[0][1]);
        json_object_object_get_ex(rb, "retired", &lists[1][1]);
        images = json_object_new_array();
        retired = json_object_new_array();
        root = json_object_new_object();
        if (!lists[0][0] || !lists[1][0] || !images || !retired || !root) {
                json_object_put(lists[0][0]);
                json_object_put(lists[1][0]);
                return failed("merge", "out of memory");
        }
        for (int k = 0; k < 2; k++) {
                for (int which = 0; which < 2; which++) {
                        json_object *list = lists[k][which], *into = which ? retired : images;

                        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
                                json_object *img = json_object_array_get_idx(list, i), *have;
                                const char *label = label_of(img);

                                if ((have = find_image(into, label, NULL))) {
                                        if (same_rules(have, img))
                                                continue; /* the same image in both */
                                        r = failed("merge",
                                                   "two different images are labelled \"%s\": "
                                                   "relabel one (from-log/from-uki --label)",
                                                   label);
                                        goto out;
                                }
                                if (find_image(which ? images : retired, label, NULL) ||
                                    find_image(lists[!k][!which], label, NULL)) {
                                        r = failed("merge",
                                                   "image \"%s\" is retired in one policy and "
                                                   "accepted in the other",
                                                   label);
                                        goto out;
                                }
                                json_object_array_add(into, json_object_get(img));
                        }
                }
        }
        r = json_object_object_add(root, "version", json_object_new_int(1));
        r |= add_int_array(root, "quote_pcrs", policy_quote_mask(pa) | policy_quote_mask(pb));
        r |= json_object_object_add(root, "cap_pcr", json_object_new_int((int) policy_cap_pcr(pa)));
        if (allow_a)
                r |= json_object_object_add(root, "allow", json_object_get(allow_a));
        r |= json_object_object_add(root, "images", json_object_get(images));
        if (platform_a)
                r |= json_object_object_add(root, "platform", json_object_get(platform_a));
        if (json_object_array_length(retired) > 0)
                r |= json_object_object_add(root, "retired", json_object_get(retired));
        if (r < 0) {
                r = failed("merge", "out of memory");
                goto out;
        }
        r = canonicalize(root, &out, err, sizeof(err));
        if (r < 0) {
                r = failed("merge", "the merged policy would be refused: %s",
                           r == -EINVAL ? err : strerror(-r));
                goto out;
        }
        fputs(out, stdout);
        r = fflush(stdout) == 0 ? 0 : EXIT_FAILURE;
out:
        json_object_put(lists[0][0]);
        json_object_put(lists[1][0]);
        return r;
}

static int cmd_retire(int argc, char **argv)
{
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL, *images = NULL;
        _cleanup_free_ char *out = NULL;
        json_object *retired = NULL, *img;
        char err[512];
        size_t index;
        int r;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                fputs(help_retire, stdout);
                return 0;
        }
        if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
                return usage_error("retire", "expects a policy file and an image label");
        const char *path = argv[1], *label = argv[2];
        if ((r = load_canonical("retire", path, &p, &root)) != 0)
                return r;
        json_object_object_get_ex(root, "retired", &retired);
        if (find_image(retired, label, NULL)) {
                printf("%s: image %s was already retired\n", path, label);
                return 0;
        }
        images = images_of(p, root);
        if (!images)
                return failed("retire", "out of memory");
        img = find_image(images, label, &index);
        if (!img) {
                fprintf(stderr, PROG " retire: %s has no image \"%s\"; its images:", path, label);
                for (size_t i = 0; i < json_object_array_length(images); i++)
                        fprintf(stderr, " %s", label_of(json_object_array_get_idx(images, i)));
                fprintf(stderr, "\n");
                return EXIT_FAILURE;
        }
        if (json_object_array_length(images) == 1)
                return failed("retire",
                              "%s: \"%s\" is its only image: retiring it would refuse "
                              "every boot (merge the new image's policy first)",
                              path, label);
        if (!retired) {
                retired = json_object_new_array();
                if (!retired || json_object_object_add(root, "retired", retired) < 0)
                        return failed("retire", "out of memory");
        }
        json_object_array_add(retired, json_object_get(img));
        json_object_array_del_idx(images, index, 1);
        json_object_object_del(root, "pcrs");
        json_object_object_del(root, "label");
        json_object_object_add(root, "images", json_object_get(images));
        r = canonicalize(root, &out, err, sizeof(err));
        if (r < 0)
                return failed("retire", "%s: the result would be refused: %s", path,
                              r == -EINVAL ? err : strerror(-r));
        r = write_atomic(path, out);
        if (r < 0)
                return failed("retire", "%s: cannot write: %s", path, strerror(-r));
        printf("%s: image %s retired; accepted:", path, label);
        for (size_t i = 0; i < json_object_array_length(images); i++)
                printf(" %s", label_of(json_object_array_get_idx(images, i)));
        printf("\n");
        return 0;
}

int policy_cli(int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*run)(int argc, char **argv);
        } commands[] = {
            {"from-log", cmd_from_log}, {"from-uki", cmd_from_uki}, {"check", cmd_check},
            {"show", cmd_show},         {"allow", cmd_allow},       {"merge", cmd_merge},
            {"retire", cmd_retire},
        };
        const char *cmd = argc > 1 ? argv[1] : NULL;

        if (!cmd) {
                fputs(help_main, stderr);
                return EXIT_USAGE;
        }
        if (streq(cmd, "--help") || streq(cmd, "-h") || streq(cmd, "help")) {
                fputs(help_main, stdout);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(cmd, commands[i].name))
                        return commands[i].run(argc - 1, argv + 1);
        fprintf(stderr, PROG ": unknown command '%s' (see " PROG " --help)\n", cmd);
        return EXIT_USAGE;
}
