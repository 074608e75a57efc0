/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot sequence of nodegate as /init: each step either succeeds or ends the boot. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmdline.h"
#include "config.h"
#include "devices.h"
#include "failure.h"
#include "log.h"
#include "modules.h"
#include "mounts.h"
#include "settings.h"
#include "switchroot.h"
#include "verity.h"

#define VERITY_NAME "root"
#define MAX_STEPS   8

struct boot {
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
};

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

static void log_timeline(const struct boot *b)
{
        char line[512] = "", ms[32];
        size_t l = 0;

        for (unsigned i = 0; i < b->n_steps && l < sizeof(line); i++) {
                print_ms(ms, sizeof(ms), b->timeline[i].usec);
                l += (size_t) snprintf(line + l, sizeof(line) - l, "%s=%s ", b->timeline[i].name,
                                       ms);
        }
        print_ms(ms, sizeof(ms), now_usec() - b->start_usec);
        log_info("timeline (ms): %stotal=%s since /init started", line, ms);
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
 * line still counts: every action stops the boot, so honouring that choice is safe. */
static void honour_failure_action(struct boot *b, const char *text, size_t len)
{
        int action = cmdline_failure_action(text, len);

        if (action >= 0)
                b->settings.on_failure = (enum failure_action) action;
}

static int step_parse(struct boot *b)
{
        _cleanup_free_ char *text = NULL;
        char err[256];
        size_t len;
        int r;

        step_begin(b, "parse");
        r = cmdline_read("/proc/cmdline", &text, &len);
        if (r < 0)
                return fail(FAILURE_CMDLINE_READ, r, "cannot read /proc/cmdline: %m");

        /* The command line wins, so the config file is applied first. */
        r = config_load(CONFIG_PATH, &b->settings, err, sizeof(err));
        if (r < 0) {
                honour_failure_action(b, text, len);
                return fail(FAILURE_CONFIG_INVALID, r, "%s", err);
        }
        r = cmdline_parse(text, len, &b->settings, err, sizeof(err));
        if (r < 0) {
                honour_failure_action(b, text, len);
                return fail(FAILURE_CMDLINE_INVALID, r, "kernel command line: %s", err);
        }
        if (b->settings.debug)
                log_set_max_level(LOG_LEVEL_DEBUG);
        b->deadline_usec = b->start_usec + (uint64_t) b->settings.timeout_sec * 1000000U;

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

static int step_mount(struct boot *b)
{
        _cleanup_free_ char *fstype = NULL;
        char err[256];
        int r;

        step_begin(b, "mount");
        r = mounts_root(b->root_node, b->settings.rootfstype, b->settings.rootflags,
                        MOUNTS_NEW_ROOT, &fstype, err, sizeof(err));
        if (r < 0)
                return fail(FAILURE_ROOT_MOUNT, r, "cannot mount %s at %s: %s%s%m", b->root_node,
                            MOUNTS_NEW_ROOT, err, err[0] ? ": " : "");
        log_info("%s (%s) mounted read-only at %s", b->root_node, fstype, MOUNTS_NEW_ROOT);
        return step_end(b);
}

static int step_switch(struct boot *b, char **argv)
{
        _cleanup_free_ char *failed = NULL;
        const char *init = b->settings.init ? b->settings.init : SWITCHROOT_DEFAULT_INIT;
        bool read_failed = false;
        int r;

        step_begin(b, "switch");
        r = switchroot_verify_init(MOUNTS_NEW_ROOT, init, &read_failed, &failed);
        if (r < 0 && read_failed)
                return fail(FAILURE_INIT_UNREADABLE, r,
                            "reading %s in the new root failed (%m): dm-verity found a block "
                            "that does not match the root hash",
                            failed ? failed : init);
        if (r < 0)
                return fail(FAILURE_INIT_MISSING, r, "%s in the new root: %m",
                            failed ? failed : init);

        /* The last chance to stop inside the initramfs: after the move there is no way back. */
        if (now_usec() > b->deadline_usec)
                return fail(FAILURE_DEADLINE, ETIMEDOUT,
                            "nodegate.timeout=%u passed before the switch to the new root",
                            b->settings.timeout_sec);
        r = switchroot_move(MOUNTS_NEW_ROOT);
        if (r < 0)
                return fail(FAILURE_SWITCH_ROOT, r, "cannot switch root to %s: %m",
                            MOUNTS_NEW_ROOT);

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
        settings_done(&b->settings);
        devspec_done(&b->data);
        devspec_done(&b->hash);
        free(b->data_node);
        free(b->hash_node);
        free(b->root_node);
}

int main(int argc, char **argv)
{
        struct boot b = {.start_usec = now_usec()};
        int r;

        /* Arguments of PID 1 come from the kernel command line: never treat them as commands. */
        if (getpid() != 1)
                return cli_main(argc, argv);

        umask(0022);
        settings_init(&b.settings);
        r = step_setup(&b);
        if (r >= 0)
                r = step_parse(&b);
        if (r >= 0)
                r = step_modules(&b);
        if (r >= 0)
                r = step_devices(&b);
        if (r >= 0)
                r = step_verity(&b);
        if (r >= 0)
                r = step_mount(&b);
        if (r >= 0)
                r = step_switch(&b, argv);

        /* Only failures get here: step_switch() does not return when it succeeds. */
        enum failure_action action = b.settings.on_failure;
        boot_done(&b);
        failure_stop_boot(action);
}
