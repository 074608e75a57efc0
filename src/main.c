/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot sequence of nodegate as /init: each step either succeeds or ends the boot. No
 * token, no switch_root: the root is entered only after the verifier released the kubelet's
 * token to this TPM, the token was unsealed, the PCR capped and the token handed over. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "attest/attest.h"
#include "boot/cli.h"
#include "config/cmdline.h"
#include "config/config.h"
#include "storage/devices.h"
#include "attest/eventlog.h"
#include "boot/failure.h"
#include "lib/fileio.h"
#include "boot/initrd-args.h"
#include "net/ip-config.h"
#include "lib/log.h"
#include "storage/modules.h"
#include "storage/mounts.h"
#include "net/net.h"
#include "config/settings.h"
#include "boot/switchroot.h"
#include "attest/token.h"
#include "attest/tpm.h"
#include "storage/verity.h"
#include "boot/watchdog.h"
#include "platform/azure.h"
#include "platform/configfs-tsm.h"
#include "platform/detect.h"

#define VERITY_NAME "root"
#define MAX_STEPS   13

/* How long a TPM device node may take to appear once the attest step looks for it (its driver
 * probes asynchronously); a machine without a TPM fails after this, not at the deadline. */
#define TPM_WAIT_USEC (2U * 1000000U)
/* Kept free of verifier retries at the end of nodegate.timeout: unseal, cap, handover and the
 * checks of the new init still have to fit. */
#define ATTEST_RESERVE_USEC (2U * 1000000U)
/* How long the Azure paravisor may take to regenerate its report after the binding was written
 * (Microsoft's sample sleeps 3 s; the gate polls and stops as soon as the report carries it). */
#define AZURE_WAIT_USEC (3U * 1000000U)
/* The cap before the verifier said otherwise (docs/PROTOCOL.md, "The cap"). */
#define CAP_DEFAULT_PCR    15U
#define CAP_DEFAULT_FAILED "nodegate: failed"
/* The watchdog (watchdog.c) fires this long after nodegate.timeout: the gate's own checks end
 * the boot at the deadline and cap; the watchdog is for what blocks them (a TPM that stopped
 * answering), so it must not cut a failure path that is capping right at the deadline. */
#define WATCHDOG_GRACE_USEC (1U * 1000000U)
/* What a failed boot allows for opening the TPM and capping: a TPM that answers needs a few ms. */
#define FAILURE_CAP_USEC (5U * 1000000U)
#define FAILURE_CAP_WHY  "the 5 s a failed boot allows for the cap"
/* nodegate --cap-failed: the driver may just have been loaded by the hook, then the cap. */
#define CAP_FAILED_USEC   (10U * 1000000U)
#define CAP_FAILED_WHY    "the 10 s nodegate --cap-failed allows"
#define HOSTNAME_FALLBACK "nodegate"
#define HOSTNAME_MAX      253U

struct boot {
        const char *root;    /* "/" as PID 1; the directory of a --attest-only run */
        const char *sysroot; /* where the verified root is mounted: /sysroot, or --sysroot= */
        bool own_network;    /* the gate brings up ip= itself (standalone; --network) */
        uint64_t start_usec; /* when /init started: every figure of the timeline counts from it */
        uint64_t deadline_usec; /* start + nodegate.timeout */
        uint64_t step_start_usec;
        struct {
                const char *name;
                uint64_t usec;
        } timeline[MAX_STEPS];
        unsigned n_steps;
        struct settings settings;
        struct verity_options verity_options;
        struct devspec data, hash;
        char *data_node, *hash_node, *root_node;
        char hostname[HOSTNAME_MAX + 1]; /* the node claim; "" until known */

        struct tpm *tpm;   /* open from the attest step until just before the switch */
        char *failure_tpm; /* nodegate.tpm= of a command line the parse refused, for the cap */
        uint64_t tpm_commands;
        struct tpm_ek ek;
        struct tpm_blob ak_public;
        enum platform platform; /* found with the TPM open, before round 1 */
        char tsm_dir[512];      /* configfs-tsm's report directory below root */
        struct protocol_attest_answer answer;
        bool have_answer, handed_over;
        uint8_t token[TPM_UNSEALED_MAX]; /* the unsealed token, wiped after the handover */
        size_t token_size;
        char token_id[TOKEN_ID_SIZE + 1];

        /* Phases inside the steps, for the timeline (µs). */
        uint64_t network_usec, tpm_usec, verifier_usec, round1_usec, round2_usec, unseal_usec,
            handover_usec;
        unsigned verifier_attempts;
        /* TPM commands per phase: keys + quote + activation, unseal (Import, Load, policy,
         * Unseal), cap. */
        uint64_t tpm_commands_keys, tpm_commands_unseal, tpm_commands_cap;
};

/* A path below the gate's root: the path itself as PID 1, <root><path> in --attest-only. */
static int root_path(const struct boot *b, const char *path, char *buf, size_t size)
{
        return pathf(buf, size, "%s%s", streq(b->root, "/") ? "" : b->root, path);
}

static void step_begin(struct boot *b, const char *name)
{
        log_set_step(name);
        b->step_start_usec = now_usec();
}

static void print_ms(char *buf, size_t size, uint64_t usec)
{
        snprintf(buf, size, "%llu.%03llu", (unsigned long long) (usec / 1000U),
                 (unsigned long long) (usec % 1000U));
}

static int step_end(struct boot *b)
{
        uint64_t now = now_usec(), took = now - b->step_start_usec;
        char ms[32];

        if (b->n_steps < MAX_STEPS) {
                b->timeline[b->n_steps].name = log_get_step();
                b->timeline[b->n_steps].usec = took;
                b->n_steps++;
        }
        print_ms(ms, sizeof(ms), took);
        log_info("done in %s ms", ms);
        if (b->deadline_usec && now > b->deadline_usec)
                return fail(FAILURE_DEADLINE, ETIMEDOUT,
                            "nodegate.timeout=%u passed during this step", b->settings.timeout_sec);
        return 0;
}

static uint64_t tpm_commands(const struct boot *b)
{
        return b->tpm ? tpm_command_count(b->tpm) : b->tpm_commands;
}

/* One line the benchmark parses: the steps as before ("<step>=<ms> … total=<ms> since /init
 * started"), then "; phases (ms): …" inside the steps, then "; tpm_commands=N
 * verifier_attempts=N". */
static void log_timeline(const struct boot *b)
{
        const struct {
                const char *name;
                uint64_t usec;
        } phases[] = {
            {"network", b->network_usec},   {"tpm", b->tpm_usec},
            {"verifier", b->verifier_usec}, {"round1", b->round1_usec},
            {"round2", b->round2_usec},     {"unseal", b->unseal_usec},
            {"handover", b->handover_usec},
        };
        char line[768] = "", more[384] = "", ms[32];
        size_t l = 0, m = 0;

        for (unsigned i = 0; i < b->n_steps && l < sizeof(line); i++) {
                print_ms(ms, sizeof(ms), b->timeline[i].usec);
                l += (size_t) snprintf(line + l, sizeof(line) - l, "%s=%s ", b->timeline[i].name,
                                       ms);
        }
        for (unsigned i = 0; i < ELEMENTSOF(phases) && m < sizeof(more); i++) {
                print_ms(ms, sizeof(ms), phases[i].usec);
                m += (size_t) snprintf(more + m, sizeof(more) - m, "%s%s=%s", i ? " " : "",
                                       phases[i].name, ms);
        }
        print_ms(ms, sizeof(ms), now_usec() - b->start_usec);
        log_info("timeline (ms): %stotal=%s since /init started; phases (ms): %s; "
                 "tpm_commands=%" PRIu64 " verifier_attempts=%u; tpm_commands (phase): tpm=%" PRIu64
                 " unseal=%" PRIu64 " cap=%" PRIu64,
                 line, ms, more, tpm_commands(b), b->verifier_attempts, b->tpm_commands_keys,
                 b->tpm_commands_unseal, b->tpm_commands_cap);
}

static const char *ca_path(const struct boot *b)
{
        return b->settings.ca ? b->settings.ca : SETTINGS_DEFAULT_CA;
}

static int step_setup(struct boot *b)
{
        const char *what = NULL;
        int r;

        step_begin(b, "setup");
        r = mounts_early("/", &what);
        /* Without /dev there is no /dev/kmsg yet: the console still gets the message. */
        (void) log_open("/");
        if (r < 0)
                return fail(FAILURE_EARLY_MOUNT, r, "cannot mount %s: %m", strempty(what));
        return step_end(b);
}

/* When the settings cannot be parsed, a nodegate.on_failure= that is readable on the command
 * line still counts: every action stops the boot, so honouring that choice is safe. So does its
 * nodegate.tpm=: the failure caps that TPM, not whichever /dev/tpm* happens to exist. */
static void honour_failure_settings(struct boot *b, const char *text, size_t len)
{
        int action;

        if (cmdline_failure_settings(text, len, &action, &b->failure_tpm) < 0)
                return;
        if (action >= 0)
                b->settings.on_failure = (enum failure_action) action;
}

static void arm_watchdog(struct boot *b)
{
        char why[64];
        int r;

        snprintf(why, sizeof(why), "nodegate.timeout=%u s", b->settings.timeout_sec);
        r = watchdog_arm(b->deadline_usec + WATCHDOG_GRACE_USEC, b->settings.on_failure, why);
        if (r < 0)
                log_warning_errno(r, "cannot arm the watchdog: %m: a TPM that stops answering "
                                     "would hold the boot past nodegate.timeout");
}

static int step_parse(struct boot *b)
{
        _cleanup_free_ char *text = NULL;
        char err[256], path[4096];
        size_t len;
        int r;

        step_begin(b, "parse");
        if (root_path(b, "/proc/cmdline", path, sizeof(path)) < 0)
                return fail(FAILURE_CMDLINE_READ, ENAMETOOLONG, "root directory path too long");
        r = cmdline_read(path, &text, &len);
        if (r < 0)
                return fail(FAILURE_CMDLINE_READ, r, "cannot read /proc/cmdline: %m");

        /* The command line wins, so the config file is applied first. */
        if (root_path(b, CONFIG_PATH, path, sizeof(path)) < 0)
                return fail(FAILURE_CONFIG_INVALID, ENAMETOOLONG, "root directory path too long");
        r = config_load(path, &b->settings, err, sizeof(err));
        if (r < 0) {
                honour_failure_settings(b, text, len);
                return fail(FAILURE_CONFIG_INVALID, r, "%s", err);
        }
        r = cmdline_parse(text, len, &b->settings, err, sizeof(err));
        if (r < 0) {
                honour_failure_settings(b, text, len);
                return fail(FAILURE_CMDLINE_INVALID, r, "kernel command line: %s", err);
        }
        if (b->settings.debug)
                log_set_max_level(LOG_LEVEL_DEBUG);
        b->deadline_usec = b->start_usec + (uint64_t) b->settings.timeout_sec * 1000000U;
        arm_watchdog(b);

        if (b->settings.verity_enabled == 0)
                return fail(FAILURE_VERITY_DISABLED, EPERM,
                            "systemd.verity=no: nodegate only boots a verified root");
        if (!b->settings.roothash)
                return fail(FAILURE_ROOTHASH_MISSING, EINVAL,
                            "no roothash= on the kernel command line or in %s", CONFIG_PATH);
        /* Already validated when the key was applied; parsed again into its structure. */
        r = verity_options_parse(strempty(b->settings.verity_options), &b->verity_options, err,
                                 sizeof(err));
        if (r < 0)
                return fail(FAILURE_CMDLINE_INVALID, r, "systemd.verity_root_options=: %s", err);

        /* There is no unattested mode: without a verifier no token, and without a token no
         * switch_root, so a missing one is a configuration error found now, not at the end. */
        if (!b->settings.url)
                return fail(FAILURE_VERIFIER_CONFIG, EINVAL,
                            "no nodegate.url= on the kernel command line or in %s: nodegate "
                            "enters the root only after the verifier released its token",
                            CONFIG_PATH);
        if (root_path(b, ca_path(b), path, sizeof(path)) < 0)
                return fail(FAILURE_VERIFIER_CONFIG, ENAMETOOLONG, "nodegate.ca= path too long");
        if (access(path, R_OK) < 0)
                return fail(FAILURE_VERIFIER_CONFIG, errno,
                            "nodegate.ca=%s: %m: the verifier's CA bundle must be in the "
                            "initramfs",
                            ca_path(b));
        return step_end(b);
}

static int step_modules(struct boot *b)
{
        _cleanup_free_ char *failed = NULL;
        size_t bad_line = 0;
        int r;

        step_begin(b, "modules");
        r = modules_load("/", &failed, &bad_line);
        if (r < 0 && failed)
                return fail(FAILURE_MODULE_LOAD, r, "cannot load %s: %m", failed);
        if (r < 0 && bad_line > 0)
                return fail(FAILURE_MODULE_LIST, r, "%s:%zu: %s", MODULES_LIST_PATH, bad_line,
                            r == -E2BIG ? "more modules than nodegate loads"
                                        : "not an absolute path to a module");
        if (r < 0)
                return fail(FAILURE_MODULE_LIST, r, "cannot read %s: %m", MODULES_LIST_PATH);
        log_info("%d kernel modules loaded or already present", r);
        return step_end(b);
}

static int device_spec(const char *given, const char *derived, struct devspec *ret)
{
        char buf[64];

        if (given)
                return devspec_parse(given, ret);
        snprintf(buf, sizeof(buf), "PARTUUID=%s", derived);
        return devspec_parse(buf, ret);
}

static int wait_for(struct boot *b, const char *role, const struct devspec *spec, char **ret_node)
{
        _cleanup_free_ char *other = NULL;
        char what[128];
        int r;

        devspec_to_string(spec, what, sizeof(what));
        r = devices_wait("/", spec, b->deadline_usec, ret_node, &other);
        if (r == -ETIMEDOUT)
                return fail(FAILURE_DEVICE_TIMEOUT, r,
                            "%s device %s did not appear within nodegate.timeout=%u s", role, what,
                            b->settings.timeout_sec);
        if (r == -ENOTUNIQ)
                return fail(FAILURE_DEVICE_AMBIGUOUS, r,
                            "%s device %s matches more than one device: %s and %s", role, what,
                            strempty(*ret_node), strempty(other));
        if (r < 0)
                return fail(FAILURE_DEVICE_TIMEOUT, r, "cannot look for %s device %s: %m", role,
                            what);
        log_info("%s device %s is %s", role, what, *ret_node);
        return 0;
}

static int step_devices(struct boot *b)
{
        char data_uuid[DEVSPEC_UUID_STRING_MAX], hash_uuid[DEVSPEC_UUID_STRING_MAX];
        int r;

        step_begin(b, "devices");
        r = devices_partuuids_from_roothash(b->settings.roothash, data_uuid, hash_uuid);
        if (r < 0)
                return fail(FAILURE_CMDLINE_INVALID, r, "roothash= is shorter than 128 bits");
        r = device_spec(b->settings.verity_data, data_uuid, &b->data);
        if (r >= 0)
                r = device_spec(b->settings.verity_hash, hash_uuid, &b->hash);
        if (r < 0)
                return fail(FAILURE_CMDLINE_INVALID, r, "bad verity device name: %m");

        r = wait_for(b, "data", &b->data, &b->data_node);
        if (r < 0)
                return r;
        r = wait_for(b, "hash", &b->hash, &b->hash_node);
        if (r < 0)
                return r;
        return step_end(b);
}

/* dm-verity checks blocks only when they are read, and nothing has read one yet: read the
 * first, so a root hash that does not match the tree fails here, by name, and not later as a
 * puzzling mount error. */
static int read_first_block(const char *node)
{
        _cleanup_close_ int fd = -1;
        char block[4096];

        fd = open(node, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (read(fd, block, sizeof(block)) < 0)
                return negative_errno();
        return 0;
}

static int step_verity(struct boot *b)
{
        struct verity_request req = {
            .data_node = b->data_node,
            .hash_node = b->hash_node,
            .roothash_hex = b->settings.roothash,
            .options = &b->verity_options,
        };
        char err[VERITY_ERROR_MAX];
        int r;

        step_begin(b, "verity");
        r = verity_activate(&req, VERITY_NAME, &b->root_node, err, sizeof(err));
        if (r < 0)
                return fail(FAILURE_VERITY_ACTIVATE, r,
                            "cannot activate verity on %s (hash %s): %s%s%m", b->data_node,
                            b->hash_node, err, err[0] ? ": " : "");
        r = read_first_block(b->root_node);
        if (r < 0)
                return fail(FAILURE_VERITY_ACTIVATE, r,
                            "%s rejects its first block (%m): the root hash does not match the "
                            "hash tree, or the data was changed",
                            b->root_node);
        log_info("%s verified by root hash %.16s…", b->root_node, b->settings.roothash);
        return step_end(b);
}

/* init and its interpreter, read in full through verity: anything execve() would refuse,
 * or a block dm-verity refuses, ends the boot here. */
static int check_init(const struct boot *b)
{
        const char *init = b->settings.init ? b->settings.init : SWITCHROOT_DEFAULT_INIT;
        _cleanup_free_ char *failed = NULL;
        bool read_failed = false;
        int r;

        r = switchroot_verify_init(b->sysroot, init, &read_failed, &failed);
        if (r < 0 && read_failed)
                return fail(FAILURE_INIT_UNREADABLE, r,
                            "reading %s in the new root failed (%m): dm-verity found a block "
                            "that does not match the root hash",
                            failed ? failed : init);
        if (r < 0)
                return fail(FAILURE_INIT_MISSING, r, "%s in the new root: %m",
                            failed ? failed : init);
        return 0;
}

static int step_mount(struct boot *b)
{
        _cleanup_free_ char *fstype = NULL;
        char err[256];
        int r;

        step_begin(b, "mount");
        r = mounts_root(b->root_node, b->settings.rootfstype, b->settings.rootflags, b->sysroot,
                        &fstype, err, sizeof(err));
        if (r < 0)
                return fail(FAILURE_ROOT_MOUNT, r, "cannot mount %s at %s: %s%s%m", b->root_node,
                            b->sysroot, err, err[0] ? ": " : "");
        log_info("%s (%s) mounted read-only at %s", b->root_node, fstype, b->sysroot);
        /* Before attesting: a root that cannot boot must not cost the cluster a token. */
        r = check_init(b);
        if (r < 0)
                return r;
        return step_end(b);
}

static void lowercase(char *s)
{
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char) (*s - 'A' + 'a');
}

static bool hostname_ok(const char *s)
{
        size_t l = strlen(s);

        if (l < 1 || l > HOSTNAME_MAX)
                return false;
        for (size_t i = 0; i < l; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
                      s[i] == '-'))
                        return false;
        return true;
}

/* ip= is parsed into settings only to fail early; here it becomes the network. */
static int step_network(struct boot *b)
{
        struct ip_config cfg;
        struct net_lease lease;
        char err[256], addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
        int r;

        step_begin(b, "network");
        r = ip_config_parse(b->settings.ip, &cfg, err, sizeof(err));
        if (r < 0)
                return fail(FAILURE_CMDLINE_INVALID, r, "ip=: %s", err);
        r = net_setup(b->root, &cfg, b->deadline_usec, &lease, err, sizeof(err));
        b->network_usec = now_usec() - b->step_start_usec;
        if (r < 0)
                return fail(FAILURE_NETWORK, r, "%s", err);
        if (cfg.method == IP_CONFIG_STATIC && cfg.hostname[0]) {
                snprintf(b->hostname, sizeof(b->hostname), "%s", cfg.hostname);
                lowercase(b->hostname);
        }
        inet_ntop(AF_INET, &lease.address, addr, sizeof(addr));
        inet_ntop(AF_INET, &lease.gateway, gw, sizeof(gw));
        log_info("%s: %s/%u%s%s (%s), %u DNS server(s), link up after %llu ms", lease.ifname, addr,
                 lease.prefix_len, lease.gateway.s_addr ? " via " : ", no default route",
                 lease.gateway.s_addr ? gw : "", lease.dhcp ? "DHCP" : "static", lease.n_dns,
                 (unsigned long long) (lease.link_usec / 1000U));
        return step_end(b);
}

/* A claim read from a file below the root (first line, lowercased), or "" when there is none. */
static void read_claim(const struct boot *b, const char *dir, const char *path, char *ret,
                       size_t size)
{
        _cleanup_free_ char *text = NULL;
        char in_dir[4096], p[4096];
        size_t len;

        ret[0] = 0;
        if (pathf(in_dir, sizeof(in_dir), "%s%s", dir, path) < 0 ||
            root_path(b, in_dir, p, sizeof(p)) < 0 || read_file_bounded(p, 512, &text, &len) < 0)
                return;
        text[strcspn(text, "\n")] = 0;
        snprintf(ret, size, "%s", text);
        lowercase(ret);
}

static bool all_of(const char *s, size_t len, const char *chars)
{
        return strlen(s) == len && strspn(s, chars) == len;
}

/* The node's identity claims (audit log and token description only, never trust): the hostname
 * of a static ip=, else the verified root's /etc/hostname; its /etc/machine-id; the DMI UUID. */
static void node_claims(struct boot *b, char machine_id[64], char product_uuid[64],
                        struct protocol_node *ret)
{
        if (!b->hostname[0]) {
                read_claim(b, b->sysroot, "/etc/hostname", b->hostname, sizeof(b->hostname));
                if (!hostname_ok(b->hostname))
                        snprintf(b->hostname, sizeof(b->hostname), HOSTNAME_FALLBACK);
        }
        read_claim(b, b->sysroot, "/etc/machine-id", machine_id, 64);
        read_claim(b, "", "/sys/class/dmi/id/product_uuid", product_uuid, 64);
        *ret = (struct protocol_node){
            .hostname = b->hostname,
            .machine_id = all_of(machine_id, 32, "0123456789abcdef") ? machine_id : NULL,
            .product_uuid = all_of(product_uuid, 36, "0123456789abcdef-") ? product_uuid : NULL,
        };
}

/* The device may still be on its way: its driver probes asynchronously. */
static int open_tpm(struct boot *b, char *err, size_t errlen)
{
        uint64_t until = now_usec() + TPM_WAIT_USEC;
        struct timespec pause = {.tv_nsec = 20 * 1000 * 1000};
        int r;

        if (until > b->deadline_usec)
                until = b->deadline_usec;
        for (;;) {
                r = tpm_open(b->settings.tpm, &b->tpm, err, errlen);
                if (r != -ENOENT || now_usec() >= until)
                        return r;
                nanosleep(&pause, NULL);
        }
}

static void attest_client_freep(struct attest_client **c)
{
        attest_client_free(*c);
}

/* Azure SNP and Azure TDX: the paravisor's vTPM, whose HCL report names its AK. */
static bool platform_is_azure(enum platform p)
{
        return p == PLATFORM_AZURE_SNP || p == PLATFORM_AZURE_TDX;
}

/* The confidential-VM platform, with the TPM open (Azure's sign is in its NV). On Azure (SNP
 * and TDX alike) the protocol's AK is the paravisor's HCL AK, which the report's claims name
 * (docs/PROTOCOL.md, "Which AK on Azure"): without it this is no Azure CVM vTPM, and the gate
 * stops. */
static int attest_platform(struct boot *b)
{
        struct platform_probe probe = {.tpm = b->tpm};
        char err[TPM_ERROR_MAX];
        int r;

        if (root_path(b, TSM_REPORT_DIR, b->tsm_dir, sizeof(b->tsm_dir)) < 0)
                return fail(FAILURE_PLATFORM_EVIDENCE, ENAMETOOLONG, "configfs-tsm path too long");
        probe.tsm_dir = b->tsm_dir;
        /* Only the real root gets configfs mounted; --attest-only's is a test directory. */
        probe.configfs = streq(b->root, "/") ? "/sys/kernel/config" : NULL;
        b->platform = platform_detect((enum platform_setting) b->settings.platform, &probe);
        log_info("platform: %s (%s)", platform_to_string(b->platform), probe.detail);
        if (!platform_is_azure(b->platform))
                return 0;
        r = tpm_use_persistent_ak(b->tpm, AZURE_HCL_AK, &b->ak_public, err, sizeof(err));
        if (r < 0)
                return fail(FAILURE_PLATFORM_EVIDENCE, r,
                            "Azure CVM: no usable HCL AK at 0x%08x: %s", AZURE_HCL_AK, err);
        return 0;
}

static int attest_keys(struct boot *b)
{
        char err[TPM_ERROR_MAX];
        uint64_t t0 = now_usec();
        enum tpm_ek_type ek_type;
        int r;

        r = open_tpm(b, err, sizeof(err));
        if (r == -ENOENT)
                return fail(FAILURE_TPM_MISSING, r, "%s: nodegate attests with a TPM 2.0", err);
        if (r < 0)
                return fail(FAILURE_TPM, r, "cannot open the TPM: %s", err);
        r = attest_platform(b);
        if (r < 0)
                return r;
        /* On Azure the claims' HCLEkPub is the paravisor's RSA 2048 EK: with the L-1 template
         * the verifier can compare it as a second proof (PROTOCOL.md, "Which AK on Azure"). */
        ek_type = (enum tpm_ek_type) b->settings.ek_type;
        if (ek_type == TPM_EK_AUTO && platform_is_azure(b->platform))
                ek_type = TPM_EK_RSA_2048;
        r = tpm_create_ek(b->tpm, ek_type, &b->ek, err, sizeof(err));
        if (r < 0)
                return fail(FAILURE_TPM, r, "EK: %s", err);
        if (!platform_is_azure(b->platform)) {
                r = tpm_create_ak(b->tpm, &b->ak_public, err, sizeof(err));
                if (r < 0)
                        return fail(FAILURE_TPM, r, "AK: %s", err);
        }
        b->tpm_usec += now_usec() - t0;
        log_info("TPM: EK %s (%s certificate in NV), %s", tpm_ek_type_to_string(b->ek.type),
                 b->ek.certificate ? "with its" : "no",
                 platform_is_azure(b->platform) ? "the paravisor's HCL AK" : "AK created");
        return 0;
}

/* After a refused unseal: which of the sealed PCRs moved since the quote, for the message (the
 * verifier sealed to the quoted values). "" when none did or they cannot be read. */
static void pcrs_moved(struct boot *b, const struct attest_stats *stats, char *buf, size_t size)
{
        uint8_t now[TPM_PCRS][32];
        uint32_t mask = b->answer.sealed_pcr_mask & stats->quoted_mask;
        char err[TPM_ERROR_MAX];
        size_t l = 0;

        buf[0] = 0;
        if (!mask || tpm_pcr_read(b->tpm, mask, now, err, sizeof(err)) < 0)
                return;
        for (unsigned i = 0; i < TPM_PCRS && l < size; i++)
                if ((mask >> i & 1U) && memcmp(now[i], stats->quoted_pcrs[i], 32) != 0)
                        l += (size_t) snprintf(buf + l, size - l, "%s%u", l ? "," : "", i);
}

static int attest_unseal(struct boot *b, const struct attest_stats *stats)
{
        struct tpm_sealed sealed = {
            .public = b->answer.sealed_public.data,
            .public_size = b->answer.sealed_public.size,
            .duplicate = b->answer.sealed_duplicate.data,
            .duplicate_size = b->answer.sealed_duplicate.size,
            .encrypted_seed = b->answer.sealed_seed.data,
            .encrypted_seed_size = b->answer.sealed_seed.size,
            .pcr_mask = b->answer.sealed_pcr_mask,
            .reset_count = b->answer.reset_count,
            .restart_count = b->answer.restart_count,
        };
        char err[TPM_ERROR_MAX];
        uint64_t t0 = now_usec(), c0 = tpm_command_count(b->tpm);
        int r;

        b->tpm_commands_keys = c0;
        r = tpm_unseal_imported(b->tpm, &sealed, b->token, &b->token_size, err, sizeof(err));
        b->unseal_usec = now_usec() - t0;
        b->tpm_commands_unseal = tpm_command_count(b->tpm) - c0;
        if (r == -EACCES) {
                char moved[96];

                pcrs_moved(b, stats, moved, sizeof(moved));
                return fail(
                    FAILURE_UNSEAL, r,
                    "%s: the token is sealed to another boot or PCR state than this one%s%s", err,
                    moved[0] ? "; changed since the quote: PCR " : "", moved);
        }
        if (r == -EBADMSG)
                return fail(FAILURE_UNSEAL, r, "%s: the sealed token is not for this TPM's EK",
                            err);
        if (r < 0)
                return fail(FAILURE_UNSEAL, r, "%s", err);
        if (!token_is_valid(b->token, b->token_size, b->token_id))
                return fail(FAILURE_VERIFIER_ANSWER, EBADMSG,
                            "the unsealed data (%zu bytes) is not a kubeadm bootstrap token",
                            b->token_size);
        if (!streq(b->token_id, b->answer.token_id))
                return fail(FAILURE_VERIFIER_ANSWER, EBADMSG,
                            "the unsealed token is %s, the answer said %s", b->token_id,
                            b->answer.token_id);
        return 0;
}

static int step_attest(struct boot *b)
{
        _cleanup_(attest_client_freep) struct attest_client *client = NULL;
        _cleanup_free_ uint8_t *log = NULL;
        char err[ATTEST_ERROR_MAX], ca[4096], machine_id[64], product_uuid[64], ms1[32], ms2[32];
        struct attest_evidence ev = {};
        struct attest_stats stats = {};
        enum failure failure = FAILURE_VERIFIER_UNREACHABLE;
        uint64_t deadline;
        size_t log_size = 0;
        int r;

        step_begin(b, "attest");
        r = attest_keys(b);
        if (r < 0)
                return r;
        r = eventlog_read(b->root, &log, &log_size, err, sizeof(err));
        if (r < 0)
                return fail(FAILURE_EVENTLOG, r, "%s", err);

        if (root_path(b, ca_path(b), ca, sizeof(ca)) < 0)
                return fail(FAILURE_VERIFIER_CONFIG, ENAMETOOLONG, "nodegate.ca= path too long");
        r = attest_client_new(b->settings.url, ca, &client, err, sizeof(err));
        if (r < 0)
                return fail(FAILURE_VERIFIER_CONFIG, r, "%s", err);
        ev = (struct attest_evidence){
            .tpm = b->tpm,
            .ek = &b->ek,
            .ak_public = &b->ak_public,
            .event_log = log,
            .event_log_size = log_size,
            .platform = b->platform,
            .tsm_dir = b->tsm_dir,
            .platform_wait_usec = AZURE_WAIT_USEC,
        };
        node_claims(b, machine_id, product_uuid, &ev.node);
        log_info("attesting to %s as %s (event log %zu bytes)", attest_client_where(client),
                 b->hostname, log_size);

        deadline =
            b->deadline_usec > ATTEST_RESERVE_USEC ? b->deadline_usec - ATTEST_RESERVE_USEC : 0;
        r = attest_run(client, &ev, deadline, &b->answer, &stats, &failure, err, sizeof(err));
        b->tpm_usec += stats.tpm_usec;
        b->verifier_usec = stats.verifier_usec + stats.backoff_usec;
        b->round1_usec = stats.round1_usec;
        b->round2_usec = stats.round2_usec;
        b->verifier_attempts = stats.attempts;
        if (r < 0)
                return fail(failure, r, "%s", err);
        b->have_answer = true;
        print_ms(ms1, sizeof(ms1), stats.round1_usec);
        print_ms(ms2, sizeof(ms2), stats.round2_usec);
        log_info("verifier issued token %s after %u request(s) (round 1 %s ms, round 2 %s ms), "
                 "sealed to PCRs %s",
                 b->answer.token_id, stats.attempts, ms1, ms2,
                 protocol_pcr_list(b->answer.sealed_pcr_mask, err, sizeof(err)));

        r = attest_unseal(b, &stats);
        if (r < 0)
                return r;
        print_ms(ms1, sizeof(ms1), b->unseal_usec);
        log_info("token %s unsealed by the TPM in %s ms (%" PRIu64 " TPM commands so far)",
                 b->token_id, ms1, tpm_command_count(b->tpm));
        return step_end(b);
}

/* After the unseal the PCR moves on, so the blob cannot be unsealed again in this boot. */
static int step_cap(struct boot *b)
{
        char err[TPM_ERROR_MAX];
        uint64_t c0 = tpm_command_count(b->tpm);
        int r;

        step_begin(b, "cap");
        r = tpm_pcr_extend_text(b->tpm, b->answer.cap_pcr, b->answer.cap_released, err,
                                sizeof(err));
        b->tpm_commands_cap = tpm_command_count(b->tpm) - c0;
        if (r < 0)
                return fail(FAILURE_CAP, r, "PCR %u: %s", b->answer.cap_pcr, err);
        log_info("PCR %u extended with \"%s\"", b->answer.cap_pcr, b->answer.cap_released);
        return step_end(b);
}

static int step_handover(struct boot *b)
{
        struct token_kubeconfig k = {
            .server = b->answer.server,
            .ca = (const uint8_t *) b->answer.ca_pem,
            .ca_size = b->answer.ca_pem_size,
            .token = b->token,
            .token_size = b->token_size,
        };
        char err[256];
        int r;

        step_begin(b, "handover");
        r = token_write_kubeconfig(b->root, &k, err, sizeof(err));
        explicit_bzero(b->token, sizeof(b->token));
        b->token_size = 0;
        b->handover_usec = now_usec() - b->step_start_usec;
        if (r < 0)
                return fail(FAILURE_HANDOVER, r, "%s", err);
        b->handed_over = true;
        log_info("%s written: API server %s, token %s", TOKEN_KUBECONFIG, b->answer.server,
                 b->token_id);
        return step_end(b);
}

static void close_tpm(struct boot *b)
{
        if (!b->tpm)
                return;
        b->tpm_commands = tpm_command_count(b->tpm);
        tpm_close(b->tpm);
        b->tpm = NULL;
}

/* Any failure, and before any shell: cap the PCR with the "failed" event, so nothing issued to
 * this boot can be unsealed any more, and wipe /run/nodegate (a kubeconfig already written).
 * The TPM is opened for this if the failure came before the attest step: a shell, or a
 * framework carrying on after the gate, must never meet an uncapped PCR (docs/security.md).
 * wait_usec: how long a TPM device may take to appear.
 * @return true when the PCR is capped or there is no TPM to cap, false otherwise */
static bool after_failure(struct boot *b, uint64_t wait_usec)
{
        unsigned pcr = b->have_answer ? b->answer.cap_pcr : CAP_DEFAULT_PCR;
        const char *text = b->have_answer ? b->answer.cap_failed : CAP_DEFAULT_FAILED;
        const char *device = b->settings.tpm ? b->settings.tpm : b->failure_tpm;
        char err[TPM_ERROR_MAX];
        int r;

        explicit_bzero(b->token, sizeof(b->token));
        b->token_size = 0;
        r = token_wipe_dir(b->root);
        if (r < 0)
                log_error_errno(r, "cannot wipe %s: %m", TOKEN_DIR);
        else if (b->handed_over)
                log_notice("%s removed", TOKEN_KUBECONFIG);
        log_set_step("cap");
        if (!b->tpm) {
                uint64_t until = now_usec() + wait_usec;

                for (;;) {
                        r = tpm_open(device, &b->tpm, err, sizeof(err));
                        if (r != -ENOENT || now_usec() >= until)
                                break;
                        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
                }
                if (r == -ENOENT) {
                        log_notice("%s: there is no TPM, so no PCR %u to cap", err, pcr);
                        return true;
                }
                if (r < 0) {
                        log_error_errno(r, "cannot open the TPM to cap PCR %u: %s", pcr, err);
                        return false;
                }
        }
        r = tpm_pcr_extend_text(b->tpm, pcr, text, err, sizeof(err));
        if (r < 0)
                log_error_errno(r, "cannot extend PCR %u with \"%s\": %s", pcr, text, err);
        else
                log_notice("PCR %u extended with \"%s\"", pcr, text);
        close_tpm(b);
        return r >= 0;
}

static int step_switch(struct boot *b, char **argv)
{
        const char *init = b->settings.init ? b->settings.init : SWITCHROOT_DEFAULT_INIT;
        int r;

        step_begin(b, "switch");
        /* Checked once already right after the mount; again here because the switch must
         * never exec something that was not read through verity just now. */
        r = check_init(b);
        if (r < 0)
                return r;

        /* The last chance to stop inside the initramfs: after the move there is no way back. */
        if (now_usec() > b->deadline_usec)
                return fail(FAILURE_DEADLINE, ETIMEDOUT,
                            "nodegate.timeout=%u passed before the switch to the new root",
                            b->settings.timeout_sec);
        /* The resource manager would flush our objects anyway; closing now frees them before
         * the new init's TPM users start. Nothing below talks to the TPM, and a timer must not
         * outlive the exec into the new init. */
        close_tpm(b);
        watchdog_disarm();
        r = switchroot_move(b->sysroot);
        if (r < 0)
                return fail(FAILURE_SWITCH_ROOT, r, "cannot switch root to %s: %m", b->sysroot);

        r = step_end(b);
        if (r < 0)
                return r;
        log_timeline(b);
        log_info("executing %s", init);
        log_restore_kernel_settings();
        argv[0] = (char *) init;
        execv(init, argv);
        return fail(FAILURE_EXEC_INIT, errno, "cannot execute %s: %m", init);
}

static void boot_done(struct boot *b)
{
        explicit_bzero(b->token, sizeof(b->token));
        close_tpm(b);
        tpm_ek_done(&b->ek);
        protocol_attest_answer_done(&b->answer);
        settings_done(&b->settings);
        devspec_done(&b->data);
        devspec_done(&b->hash);
        free(b->data_node);
        free(b->hash_node);
        free(b->root_node);
        free(b->failure_tpm);
}

/* The verified root at the sysroot: devices, dm-verity, the read-only mount, init checked. */
static int boot_root(struct boot *b)
{
        int r = step_devices(b);

        if (r >= 0)
                r = step_verity(b);
        if (r >= 0)
                r = step_mount(b);
        return r;
}

/* The token: attestation, unseal, the cap, the kubeconfig on /run. */
static int boot_attest(struct boot *b)
{
        int r = step_attest(b);

        if (r >= 0)
                r = step_cap(b);
        if (r >= 0)
                r = step_handover(b);
        return r;
}

/* Only failures get here: cap, take back what was handed over, then stop the boot. */
_noreturn_ static void boot_failed(struct boot *b)
{
        enum failure_action action = b->settings.on_failure;
        bool capped;

        /* The deadline's watchdog would cut the cap short; this one covers a TPM that hangs in
         * it, and the action stays the same. */
        (void) watchdog_arm(now_usec() + FAILURE_CAP_USEC, action, FAILURE_CAP_WHY);
        capped = after_failure(b, 0);
        watchdog_disarm();
        if (action == FAILURE_ACTION_SHELL && !capped) {
                log_error("no emergency shell while PCR %u is not capped: halting instead",
                          b->have_answer ? b->answer.cap_pcr : CAP_DEFAULT_PCR);
                action = FAILURE_ACTION_HALT;
        }
        boot_done(b);
        failure_stop_boot(action);
}

/* nodegate --attest-only ROOT: the attestation steps alone, outside a boot, for the integration
 * tests (tests/integration/test-gate-attest.py): the command line is ROOT/proc/cmdline, the
 * config ROOT/etc/nodegate/nodegate.conf, the CA bundle, the event log and /run below ROOT;
 * the TPM is nodegate.tpm= (a swtpm pty). Network (when ip= is given), attest, cap and
 * handover run exactly as in the boot; a failure ends with the same lines and exit status 1. */
static int attest_only(const char *root)
{
        struct boot b = {.root = root,
                         .sysroot = MOUNTS_NEW_ROOT,
                         .own_network = true,
                         .start_usec = now_usec()};
        int r;

        settings_init(&b.settings);
        r = step_parse(&b);
        if (r >= 0 && b.settings.ip)
                r = step_network(&b);
        if (r >= 0)
                r = boot_attest(&b);
        if (r >= 0) {
                watchdog_disarm();
                close_tpm(&b);
                log_timeline(&b);
                boot_done(&b);
                return EXIT_SUCCESS;
        }
        boot_failed(&b); /* not PID 1: prints the verdict and exits 1 */
}

/* nodegate --cap-failed [ROOT]: what the hooks of dracut and mkinitcpio run before any shell
 * (emergency, rescue, debug shell, nodegate.on_failure=shell): PCR 15 capped with "nodegate:
 * failed" on the TPM of nodegate.tpm= (else /dev/tpmrm0, /dev/tpm0) and /run/nodegate wiped, so
 * that neither the gate nor its kubeconfig can yield a token from that shell. Capping twice is
 * harmless. ROOT (default /) is for the tests, as for --attest-only.
 * @return 0 when capped or when there is no TPM, 1 otherwise: then the hook allows no shell */
static int cap_failed(const char *root)
{
        struct boot b = {.root = root, .start_usec = now_usec()};
        _cleanup_free_ char *text = NULL;
        char path[4096], err[256];
        size_t len;
        int action;
        bool capped;

        settings_init(&b.settings);
        if (streq(root, "/"))
                (void) log_open("/");
        /* Best effort: whatever names the TPM is used, nothing refused stops the cap. */
        if (root_path(&b, CONFIG_PATH, path, sizeof(path)) >= 0)
                (void) config_load(path, &b.settings, err, sizeof(err));
        if (root_path(&b, "/proc/cmdline", path, sizeof(path)) >= 0 &&
            cmdline_read(path, &text, &len) >= 0)
                (void) cmdline_failure_settings(text, len, &action, &b.failure_tpm);
        if (b.failure_tpm) {
                free(b.settings.tpm);
                b.settings.tpm = TAKE_PTR(b.failure_tpm);
        }
        (void) watchdog_arm(now_usec() + CAP_FAILED_USEC, FAILURE_ACTION_HALT, CAP_FAILED_WHY);
        capped = after_failure(&b, TPM_WAIT_USEC);
        watchdog_disarm();
        log_set_step(NULL);
        if (capped)
                log_notice("%s wiped, PCR %u capped or no TPM: a shell may follow", TOKEN_DIR,
                           CAP_DEFAULT_PCR);
        else
                log_error("PCR %u is not capped: no shell may follow", CAP_DEFAULT_PCR);
        log_restore_kernel_settings();
        boot_done(&b);
        return capped ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The framework mounted /dev, /proc, /sys and /run, and another tmpfs over its /run would hide
 * its state: only securityfs (the event log) may still be missing. */
static int step_setup_initrd(struct boot *b)
{
        int r;

        step_begin(b, "setup");
        (void) log_open("/");
        r = mounts_securityfs("/");
        if (r < 0)
                log_warning_errno(r, "cannot mount securityfs: %m");
        return step_end(b);
}

/* --phase=attest runs after other hooks of the initramfs: attest only the root that this
 * boot's own --phase=root set up, still read-only at the sysroot, with an init verity reads. */
static int step_sysroot(struct boot *b)
{
        char err[VERITY_ERROR_MAX];
        int r;

        step_begin(b, "sysroot");
        r = verity_verify_active(VERITY_NAME, b->settings.roothash, &b->root_node, err,
                                 sizeof(err));
        if (r == -ENODEV)
                return fail(FAILURE_ROOT_NOT_VERIFIED, r,
                            "no dm-verity device /dev/mapper/%s: nodegate --phase=root did not "
                            "run in this boot",
                            VERITY_NAME);
        if (r == -EPERM)
                return fail(FAILURE_ROOT_NOT_VERIFIED, r,
                            "/dev/mapper/%s was activated with another root hash than roothash=",
                            VERITY_NAME);
        if (r < 0)
                return fail(FAILURE_ROOT_NOT_VERIFIED, r, "/dev/mapper/%s: %s%s%m", VERITY_NAME,
                            err, err[0] ? ": " : "");
        r = mounts_check_root(b->sysroot, b->root_node);
        if (r < 0)
                return fail(FAILURE_ROOT_NOT_VERIFIED, r, "%s is not %s mounted read-only: %s",
                            b->sysroot, b->root_node,
                            r == -EXDEV    ? "another file system is mounted there"
                            : r == -EACCES ? "it was remounted writable"
                                           : strerror(-r));
        r = check_init(b);
        if (r < 0)
                return r;
        log_info("%s is %s, verified by root hash %.16s…", b->sysroot, b->root_node,
                 b->settings.roothash);
        return step_end(b);
}

static bool in_initramfs(void)
{
        struct statfs sf;

        return statfs("/", &sf) == 0 && (sf.f_type == (__typeof__(sf.f_type)) RAMFS_MAGIC ||
                                         sf.f_type == (__typeof__(sf.f_type)) TMPFS_MAGIC);
}

/* nodegate --mode=initrd: the gate as a step of dracut or mkinitcpio, which load the modules,
 * bring up the network (unless --network) and switch root themselves once it exits 0. A
 * failure ends the boot here exactly as PID 1 would (failure_stop_boot()). */
static int initrd_main(int argc, char **argv)
{
        struct boot b = {.root = "/", .start_usec = now_usec()};
        struct initrd_args args;
        char err[256];
        int r;

        r = initrd_args_parse(argc, argv, &args, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "nodegate: %s\n", err);
                return 2;
        }
        /* Its failures power the machine off: never on a host by mistake. */
        if (!in_initramfs()) {
                fprintf(stderr, "nodegate: --mode=initrd runs only in an initramfs (/ is not "
                                "ramfs or tmpfs)\n");
                return 2;
        }
        failure_set_owner(FAILURE_OWNER_INITRD);
        b.sysroot = args.sysroot;
        b.own_network = args.network;
        umask(0022);
        settings_init(&b.settings);
        r = step_setup_initrd(&b);
        if (r >= 0)
                r = step_parse(&b);
        if (r >= 0)
                r = args.phase == INITRD_PHASE_ATTEST ? step_sysroot(&b) : boot_root(&b);
        if (args.phase != INITRD_PHASE_ROOT) {
                /* --network means the framework has no network of its own: without ip= the
                 * verifier could only time out. */
                if (r >= 0 && b.own_network && !b.settings.ip)
                        r = fail(FAILURE_NETWORK, EINVAL,
                                 "--network: no ip= on the kernel command line or in %s: the gate "
                                 "brings up the network it attests over only from ip=",
                                 CONFIG_PATH);
                if (r >= 0 && b.own_network)
                        r = step_network(&b);
                if (r >= 0)
                        r = boot_attest(&b);
        }
        if (r >= 0) {
                watchdog_disarm();
                close_tpm(&b);
                log_timeline(&b);
                log_info("the initramfs may switch root into %s now", b.sysroot);
                log_restore_kernel_settings();
                boot_done(&b);
                return EXIT_SUCCESS;
        }
        boot_failed(&b);
}

int main(int argc, char **argv)
{
        struct boot b = {
            .root = "/", .sysroot = MOUNTS_NEW_ROOT, .own_network = true, .start_usec = now_usec()};
        int r;

        /* Arguments of PID 1 come from the kernel command line: never treat them as commands. */
        if (getpid() != 1) {
                if (argc == 3 && streq(argv[1], "--attest-only"))
                        return attest_only(argv[2]);
                if ((argc == 2 || argc == 3) && streq(argv[1], "--cap-failed"))
                        return cap_failed(argc == 3 ? argv[2] : "/");
                if (argc >= 2 && startswith(argv[1], "--mode="))
                        return initrd_main(argc, argv);
                return cli_main(argc, argv);
        }

        failure_set_owner(FAILURE_OWNER_PID1);
        umask(0022);
        settings_init(&b.settings);
        r = step_setup(&b);
        if (r >= 0)
                r = step_parse(&b);
        if (r >= 0)
                r = step_modules(&b);
        if (r >= 0 && b.settings.ip) /* standalone mode; without ip= nothing to bring up */
                r = step_network(&b);
        if (r >= 0)
                r = boot_root(&b);
        if (r >= 0)
                r = boot_attest(&b);
        if (r >= 0)
                r = step_switch(&b, argv);

        /* step_switch() does not return when it succeeds. */
        boot_failed(&b);
}
