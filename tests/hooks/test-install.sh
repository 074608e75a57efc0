#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hooks/install/nodegate's build() against a recorder of mkinitcpio's add_* functions, one
# build per row, and the modules the runtime hook loads checked against those build() adds.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
cleanup() {
    rm -rf "$work"
}
trap cleanup EXIT

# A real static binary for the gate: the gate itself when it has been built.
static=build/nodegate
[[ -x $static ]] || static=$(command -v busybox)
if LC_ALL=C readelf -lWd "$static" | grep -qE '^[[:space:]]*INTERP[[:space:]]|\(NEEDED\)'; then
    echo "test-install: $static is not static; build the gate or install busybox-static" >&2
    exit 1
fi
static=$(realpath "$static")
dynamic=$(type -P true)
if ! LC_ALL=C readelf -lW "$dynamic" | grep -qE '^[[:space:]]*INTERP[[:space:]]'; then
    echo "test-install: $dynamic was expected to be dynamic" >&2
    exit 1
fi
script=$PWD/tests/hooks/fixture/nodegate
printf '%s\n' '-----BEGIN CERTIFICATE-----' 'MIIB' '-----END CERTIFICATE-----' >"$work/ca.pem"
printf '%s\n' 'not a certificate' >"$work/not-pem"
printf '%s\n' 'nodegate.on_failure=poweroff' >"$work/nodegate.conf"
mkdir "$work/empty-path" "$work/no-kmod-path"
# What build() needs besides kmod, for the row without it.
for tool in readelf grep; do
    ln -s "$(type -P "$tool")" "$work/no-kmod-path/$tool"
done
kmod_path=$(type -P kmod) || {
    echo "test-install: kmod is needed (the install hook adds it)" >&2
    exit 1
}

# name | settings (NAME=VALUE;…, @NAME@ as below) | HOOKS (- for none) | status | expect
# Expect: add (the full list below), conf (with nodegate.conf), net=a,b (those NICs instead
# of the default ones), error=TEXT (the build stops with it, nothing added), warning=TEXT.
rows=(
    'static gate, CA, config|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=@CONF@|base udev block nodegate|0|add conf'
    'no config (empty NODEGATE_CONF)|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=|base udev nodegate|0|add'
    'no HOOKS to check|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=|-|0|add'
    'own NIC list|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=;NODEGATE_NET_MODULES=virtio_net igb|base udev nodegate|0|add net=virtio_net,igb'
    'CA missing|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@MISSING@;NODEGATE_CONF=|base udev nodegate|1|error=no CA bundle at'
    'CA not PEM|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@NOTPEM@;NODEGATE_CONF=|base udev nodegate|1|error=holds no PEM certificate'
    'config named but missing|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=@MISSING@|base udev nodegate|1|error=does not exist or cannot be read'
    'gate missing|NODEGATE_BINARY=@MISSING@;NODEGATE_CA=@CA@;NODEGATE_CONF=|base udev nodegate|1|error=no executable gate at'
    'gate dynamic|NODEGATE_BINARY=@DYNAMIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=|base udev nodegate|1|error=is not statically linked'
    'gate not ELF|NODEGATE_BINARY=@SCRIPT@;NODEGATE_CA=@CA@;NODEGATE_CONF=|base udev nodegate|1|error=is not an ELF executable'
    'no readelf|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=;PATH=@EMPTYPATH@|base udev nodegate|1|error=readelf (binutils) is needed'
    'systemd initrd|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=|base systemd nodegate|1|error=would never run'
    'not last|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=|base udev nodegate keyboard|0|add warning=put '"'"'nodegate'"'"' last'
    'fsck hook|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=|base udev fsck nodegate|1|error=since mkinitcpio v39 fsck_root reads root= from'
    'fsck hook, added with -A|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=;_hooks=base udev nodegate fsck|base udev nodegate|1|error=the '"'"'fsck'"'"' hook'
    'usr hook|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=|base udev usr nodegate|0|add warning=the '"'"'usr'"'"' hook acts on disks'
    'no kmod|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=;PATH=@NOKMODPATH@|base udev nodegate|1|error=kmod is needed'
    'no udev|NODEGATE_BINARY=@STATIC@;NODEGATE_CA=@CA@;NODEGATE_CONF=|base block nodegate|0|add warning=without the '"'"'udev'"'"' hook'
)

default_net='virtio_net hv_netvsc vmxnet3 xen_netfront ena gve e1000 e1000e igb igc ixgbe i40e ice bnxt_en tg3 r8169 mlx5_core'

# Runs build() as mkinitcpio does (its functions sourced into bash, no errexit, no nounset)
# with recorders in place of mkinitcpio's functions; the log is $1, the row's settings follow.
# shellcheck disable=SC2317 # every recorder mkinitcpio offers, called only if build() does
run_build() (
    log=$1
    shift
    set +euo pipefail
    shopt -s extglob
    record() { printf '%s\n' "$*" >>"$log"; }
    add_binary() {
        [[ -f $1 ]] || { error "binary not found: '%s'" "$1"; return 1; }
        record add_binary "$@"
    }
    add_file() {
        [[ -f $1 ]] || { error "file not found: '%s'" "$1"; return 1; }
        record add_file "$@"
    }
    add_module() { record add_module "$@"; }
    add_all_modules() { record add_all_modules "$@"; }
    add_checked_modules() { record add_checked_modules "$@"; }
    add_dir() { record add_dir "$@"; }
    add_symlink() { record add_symlink "$@"; }
    # The runtime hook mkinitcpio would find is named after the install hook that asks.
    add_runscript() { record add_runscript "${BASH_SOURCE[1]##*/}"; }
    # shellcheck disable=SC2059 # mkinitcpio's take a format, as these do
    error() { record error "$(printf "$@")"; return 1; }
    # shellcheck disable=SC2059
    warning() { record warning "$(printf "$@")"; }
    msg() { :; }
    msg2() { :; }
    plain() { :; }
    quiet() { :; }
    # mkinitcpio's die: error, then its cleanup, which exits 1. Recorded: an error that only
    # returns from build() lets mkinitcpio write the image anyway, without the gate.
    die() {
        error "$@"
        record die
        exit 1
    }

    local setting
    for setting in "$@"; do
        case $setting in
        HOOKS=-) ;;
        HOOKS=*) read -r -a HOOKS <<<"${setting#HOOKS=}" ;;
        # mkinitcpio's own list, after -A and -S
        _hooks=*) read -r -a _hooks <<<"${setting#_hooks=}" ;;
        *) printf -v "${setting%%=*}" '%s' "${setting#*=}" ;;
        esac
    done
    # shellcheck source=hooks/install/nodegate
    . hooks/install/nodegate
    build
)

passed=0
failed=0
n=0
for row in "${rows[@]}"; do
    IFS='|' read -r name settings hooks status expect <<<"$row"
    n=$((n + 1))
    log=$work/log$n
    : >"$log"
    settings=${settings//@STATIC@/$static}
    settings=${settings//@DYNAMIC@/$dynamic}
    settings=${settings//@SCRIPT@/$script}
    settings=${settings//@CA@/$work/ca.pem}
    settings=${settings//@NOTPEM@/$work/not-pem}
    settings=${settings//@CONF@/$work/nodegate.conf}
    settings=${settings//@MISSING@/$work/missing}
    settings=${settings//@EMPTYPATH@/$work/empty-path}
    settings=${settings//@NOKMODPATH@/$work/no-kmod-path}
    IFS=';' read -r -a assignments <<<"$settings"

    rc=0
    run_build "$log" "${assignments[@]}" "HOOKS=$hooks" >"$work/out$n" 2>&1 || rc=$?

    problems=()
    ((rc == status)) || problems+=("build() returned $rc, expected $status")
    [[ -s $work/out$n ]] && problems+=("printed outside mkinitcpio's functions: $(cat "$work/out$n")")
    want_adds=0 want_conf=0 net=$default_net
    want_error='' want_warning=''
    for token in $expect; do
        case $token in
        add) want_adds=1 ;;
        conf) want_conf=1 ;;
        net=*) net=${token#net=} net=${net//,/ } ;;
        *) ;;
        esac
    done
    [[ $expect == *error=* ]] && want_error=${expect#*error=}
    [[ $expect == *warning=* ]] && want_warning=${expect#*warning=}

    if ((want_adds)); then
        binary=$static ca=$work/ca.pem
        {
            echo "add_binary $binary /usr/bin/nodegate"
            echo "add_binary $kmod_path /usr/lib/nodegate/modprobe"
            echo "add_file $ca /etc/nodegate/ca.pem"
            ((want_conf)) && echo "add_file $work/nodegate.conf /etc/nodegate/nodegate.conf"
            echo "add_module dm_mod"
            echo "add_module dm_verity"
            for mod in crypto-sha256 crc32c_generic crypto-crc32c libcrc32c erofs squashfs ext4 \
                tpm_tis tpm_crb sev_guest tdx_guest $net; do
                echo "add_module $mod?"
            done
            echo "add_runscript nodegate"
        } >"$work/want$n"
        if ! diff -u "$work/want$n" <(grep '^add_' "$log") >"$work/diff$n"; then
            problems+=("add_* calls differ: $(cat "$work/diff$n")")
        fi
    elif grep -q '^add_' "$log"; then
        problems+=("added despite the error: $(grep '^add_' "$log" | tr '\n' ';')")
    fi
    errors=$(grep -c '^error ' "$log" || true)
    if [[ -n $want_error ]]; then
        ((errors == 1)) || problems+=("$errors error lines, expected 1")
        grep -qF -- "error nodegate: " "$log" && grep -qF -- "$want_error" "$log" ||
            problems+=("no error saying '$want_error'")
        [[ $(tail -n1 "$log") == die ]] || problems+=("the build was not stopped with die")
    else
        ((errors == 0)) || problems+=("unexpected error: $(grep '^error ' "$log")")
        grep -qx die "$log" && problems+=("stopped with die")
    fi
    warnings=$(grep -c '^warning ' "$log" || true)
    if [[ -n $want_warning ]]; then
        ((warnings == 1)) && grep -qF -- "$want_warning" "$log" ||
            problems+=("expected exactly one warning saying '$want_warning', got $warnings")
    elif ((warnings)); then
        problems+=("unexpected warning: $(grep '^warning ' "$log")")
    fi

    if ((${#problems[@]})); then
        failed=$((failed + 1))
        echo "FAIL: $name"
        printf '  %s\n' "${problems[@]}"
        sed 's/^/  log: /' "$log"
    else
        passed=$((passed + 1))
        echo "ok: $name"
    fi
done

# What the early hook and run_hook load must be in the image: their module lists, taken from
# a run of the hook functions themselves (they only load modules and set variables), against
# the add_module calls of row 1. They load through the kmod the install hook adds, never with a
# plain "modprobe", which busybox ash may hand to busybox's own applet (see hooks/README.md).
n=$((n + 1))
loaded=$(busybox ash -c '
    modprobe() { echo "plain modprobe $*"; }
    msg() { :; }
    . hooks/hooks/nodegate
    nodegate_modprobe() { printf "%s\n" "$@"; }
    run_earlyhook
    run_hook' | sort -u)
plain=$(grep '^plain modprobe' <<<"$loaded" || true)
loaded=$(grep -v '^plain modprobe' <<<"$loaded" || true)
missing=()
for mod in $loaded; do
    grep -qxE "add_module $mod\??" "$work/log1" || missing+=("$mod")
done
if [[ -z $loaded || -n $plain ]] || ((${#missing[@]})); then
    failed=$((failed + 1))
    echo "FAIL: runtime modules in the image: not added: ${missing[*]:-none};" \
        "loaded with a plain modprobe: ${plain:-none}"
else
    passed=$((passed + 1))
    echo "ok: runtime modules in the image ($(echo "$loaded" | wc -l) modules)"
fi

echo "mkinitcpio install hook: $passed passed, $failed failed"
((failed == 0))
