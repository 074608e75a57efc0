/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one list of every way a boot through nodegate can stop, and what happens then. */
#pragma once

#include "util.h"

/* X(enum suffix, stable name printed on the console, step, what it means).
 * The names are an interface: tests and operators match on them, so never rename one. */
#define NODEGATE_FAILURES(X)                                                                       \
        X(CMDLINE_READ, "cmdline-read", "parse", "the kernel command line cannot be read")         \
        X(CMDLINE_INVALID, "cmdline-invalid", "parse",                                             \
          "the kernel command line is malformed, has an unknown nodegate.* key or a bad value")    \
        X(CONFIG_INVALID, "config-invalid", "parse",                                               \
          "/etc/nodegate/nodegate.conf cannot be read or is malformed")                            \
        X(ROOTHASH_MISSING, "roothash-missing", "parse",                                           \
          "no roothash= (or systemd.verity_root_hash is given without it)")                        \
        X(VERITY_DISABLED, "verity-disabled", "parse",                                             \
          "systemd.verity=no asks for an unverified root, which nodegate refuses")                 \
        X(EARLY_MOUNT, "early-mount", "setup",                                                     \
          "/proc, /sys, /dev or /run cannot be mounted in the initramfs")                          \
        X(MODULE_LIST, "module-list", "modules",                                                   \
          "the initramfs's module list cannot be read or is malformed")                            \
        X(MODULE_LOAD, "module-load", "modules", "a kernel module failed to load")                 \
        X(NETWORK, "network", "network",                                                           \
          "ip= was given, but the link, the address or the route could not be set up in time")     \
        X(VERIFIER_CONFIG, "verifier-config", "parse",                                             \
          "no nodegate.url= (the verifier), or the CA bundle nodegate.ca= names is not readable")  \
        X(DEADLINE, "deadline", "any", "nodegate.timeout expired before the boot finished")        \
        X(DEVICE_TIMEOUT, "device-timeout", "devices",                                             \
          "the data or hash device did not appear before the deadline")                            \
        X(DEVICE_AMBIGUOUS, "device-ambiguous", "devices",                                         \
          "more than one block device matches the data or hash device")                            \
        X(VERITY_ACTIVATE, "verity-activate", "verity",                                            \
          "dm-verity refused the devices: wrong root hash, bad superblock or I/O error")           \
        X(ROOT_MOUNT, "root-mount", "mount", "the verity device cannot be mounted at /sysroot")    \
        X(TPM_MISSING, "tpm-missing", "attest",                                                    \
          "no TPM device: neither nodegate.tpm= nor /dev/tpmrm0 or /dev/tpm0 exists")              \
        X(TPM, "tpm", "attest",                                                                    \
          "a TPM command failed: EK, AK, credential activation, PCR read or quote")                \
        X(PLATFORM_EVIDENCE, "platform-evidence", "attest",                                        \
          "the node is a confidential VM (detected, or nodegate.platform=) but its TEE evidence "  \
          "cannot be collected: Azure's HCL AK or report, or the configfs-tsm report")             \
        X(IMDS_UNREACHABLE, "imds-unreachable", "attest",                                          \
          "Azure TDX: the instance metadata service (IMDS, http://169.254.169.254/acc/tdquote) "   \
          "could not be reached or did not answer in time, so there is no TD quote")               \
        X(IMDS_STATUS, "imds-status", "attest",                                                    \
          "Azure TDX: the instance metadata service answered the TD quote request with an HTTP "   \
          "status other than 200")                                                                 \
        X(IMDS_ANSWER, "imds-answer", "attest",                                                    \
          "Azure TDX: the instance metadata service's answer is too large, not JSON, has no "      \
          "\"quote\", or its quote is not base64url or not a TD quote's size")                     \
        X(EVENTLOG, "eventlog", "attest",                                                          \
          "the firmware's TPM event log cannot be read from securityfs")                           \
        X(VERIFIER_UNREACHABLE, "verifier-unreachable", "attest",                                  \
          "the verifier could not be reached (name lookup, connection, timeout) before the "       \
          "deadline")                                                                              \
        X(VERIFIER_TLS, "verifier-tls", "attest",                                                  \
          "the TLS handshake with the verifier failed: its certificate is not trusted by the "     \
          "nodegate.ca= bundle, is not for its host, or has expired")                              \
        X(VERIFIER_UNAVAILABLE, "verifier-unavailable", "attest",                                  \
          "the verifier answered with server errors (5xx) until the deadline")                     \
        X(VERIFIER_REFUSED, "verifier-refused", "attest",                                          \
          "the verifier refused this node's evidence; its reason is printed")                      \
        X(VERIFIER_ANSWER, "verifier-answer", "attest",                                            \
          "the verifier's answer is not what docs/PROTOCOL.md defines: the gate fails closed")     \
        X(UNSEAL, "unseal", "attest",                                                              \
          "the TPM refused to import or unseal the token: the answer was sealed for another TPM, " \
          "PCR state or boot")                                                                     \
        X(CAP, "cap", "cap", "extending the cap PCR after the unseal failed")                      \
        X(HANDOVER, "handover", "handover",                                                        \
          "the kubelet bootstrap kubeconfig could not be written to the /run tmpfs")               \
        X(ROOT_NOT_VERIFIED, "root-not-verified", "sysroot",                                       \
          "nodegate --phase=attest found no dm-verity root of this roothash= mounted read-only "   \
          "at the sysroot (dracut, mkinitcpio)")                                                   \
        X(INIT_MISSING, "init-missing", "mount", "the new root has no executable init")            \
        X(INIT_UNREADABLE, "init-unreadable", "mount",                                             \
          "init (or its interpreter) cannot be read through verity: the root was tampered with")   \
        X(SWITCH_ROOT, "switch-root", "switch", "moving into the new root failed")                 \
        X(EXEC_INIT, "exec-init", "switch", "the new root's init could not be executed")

enum failure {
#define FAILURE_ENUM(id, name, step, what) FAILURE_##id,
        NODEGATE_FAILURES(FAILURE_ENUM)
#undef FAILURE_ENUM
            _FAILURE_MAX,
};

enum failure_action {
        FAILURE_ACTION_HALT,
        FAILURE_ACTION_POWEROFF,
        FAILURE_ACTION_REBOOT,
        /* Only where an initramfs framework (dracut, mkinitcpio) owns a shell: the gate exits
         * with status 1 and the framework's emergency shell takes over. As PID 1 there is no
         * shell, and it means halt. */
        FAILURE_ACTION_SHELL,
        _FAILURE_ACTION_MAX,
};

/* The exit status of nodegate --mode=initrd for nodegate.on_failure=shell, and only for it:
 * the framework's hook opens its emergency shell for this status and stops the boot for any
 * other (a crash, a reboot(2) that failed). */
#define FAILURE_EXIT_SHELL 3

/* Who ends a failed boot. PID 1 (standalone) and a gate run by an initramfs framework
 * (nodegate --mode=initrd) both carry out the action themselves, so no hook can carry on by
 * mistake; anything else (--attest-only, tests) only exits 1. */
enum failure_owner {
        FAILURE_OWNER_PID1,
        FAILURE_OWNER_INITRD,
        FAILURE_OWNER_CALLER,
};

const char *failure_name(enum failure f);
const char *failure_description(enum failure f);

const char *failure_action_to_string(enum failure_action a);
/* @return the action, or -EINVAL for anything but "halt", "poweroff", "reboot", "shell". */
int failure_action_from_string(const char *s);

/* Logs why the boot stops, under the failed step, and returns -abs(err) (-EIO for 0). */
int fail(enum failure f, int err, const char *fmt, ...) _printf_(3, 4);

/* The failure recorded by the last fail(), or _FAILURE_MAX if none. */
enum failure failure_last(void);

/* Who carries out failure_stop_boot(); FAILURE_OWNER_CALLER unless set (PID 1 sets PID1). */
void failure_set_owner(enum failure_owner owner);
/* Async-signal-safe. */
enum failure_owner failure_get_owner(void);

/* Never returns: prints the final verdict, then halts, powers off or reboots. As PID 1 it
 * never exits (exiting would panic the kernel); under an initramfs framework it exits only
 * with FAILURE_EXIT_SHELL for FAILURE_ACTION_SHELL, or 1 when reboot(2) failed, so the
 * framework's hook stops the boot. */
_noreturn_ void failure_stop_boot(enum failure_action action);
