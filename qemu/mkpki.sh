#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Throwaway keys and certificates for the attestation scenarios: the verifier's TLS CA (the
# bundle the test initramfs trusts), its server certificate for 10.0.2.2, a stand-in cluster CA
# and the swtpm_localca CA that signs the EK certificates of every manufactured swtpm.
# Usage: mkpki.sh --out DIR
# Writes DIR/ca.pem, ca.key, server.pem, server.key, cluster-ca.pem, and DIR/swtpm-ca/ with
# swtpm_setup.conf (for boot.sh --tpm-ca) and the EK CA certificates (for the verifier's --ek-ca).
# Not reproducible (fresh keys): the images that embed ca.pem are reproducible given it, and
# the directory is made once per build directory, so the test UKIs stay the same across runs.
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out=''
while (($#)); do
        case $1 in
        --out) out=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $out ]] || ng_die "usage: mkpki.sh --out DIR"
ng_need openssl swtpm_setup swtpm_localca

tmp=''
cleanup() { [[ -z $tmp ]] || rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$(dirname "$out")"
out=$(realpath -m "$out")
# Built beside the target and renamed at the end: a half-made directory is never used.
tmp=$(mktemp -d "$out.XXXXXX")
p="$tmp/pki"
mkdir -p "$p/swtpm-ca"
# Keys are secret even when throwaway: nothing else on the machine needs to read them.
umask 077

days=3650
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$p/ca.key" -out "$p/ca.pem" -days "$days" \
        -subj '/CN=nodegate e2e verifier CA' \
        -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
        2>"$tmp/openssl.log" || { cat "$tmp/openssl.log" >&2; ng_die "cannot make the CA"; }
# The guest reaches the host's loopback as 10.0.2.2 (QEMU user networking); 127.0.0.1 lets
# host-side tools talk to the same verifier.
openssl req "${ec[@]}" -keyout "$p/server.key" -out "$tmp/server.csr" -subj '/CN=10.0.2.2' \
        2>"$tmp/openssl.log" || { cat "$tmp/openssl.log" >&2; ng_die "cannot make the server key"; }
cat >"$tmp/server.ext" <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:10.0.2.2,IP:127.0.0.1
EOF
openssl x509 -req -in "$tmp/server.csr" -CA "$p/ca.pem" -CAkey "$p/ca.key" -CAcreateserial \
        -CAserial "$tmp/ca.srl" -out "$p/server.pem" -days "$days" -extfile "$tmp/server.ext" \
        2>"$tmp/openssl.log" || { cat "$tmp/openssl.log" >&2; ng_die "cannot sign the server certificate"; }
# The kubeconfig's CA: any certificate does, the stand-in kubelet never talks to an API server.
openssl req -x509 "${ec[@]}" -keyout "$tmp/cluster-ca.key" -out "$p/cluster-ca.pem" -days "$days" \
        -subj '/CN=nodegate e2e cluster CA' 2>"$tmp/openssl.log" \
        || { cat "$tmp/openssl.log" >&2; ng_die "cannot make the cluster CA"; }

# swtpm_localca keeps its CA in its statedir and makes it on first use: one manufacture of a
# scratch TPM here creates it, so the verifier can trust it before the first boot.
ca="$out/swtpm-ca"
cat >"$p/swtpm-ca/localca.conf" <<EOF
statedir = $ca
signingkey = $ca/signkey.pem
issuercert = $ca/issuercert.pem
certserial = $ca/certserial
EOF
# Only the SHA-256 bank, as on the nodes the protocol is written for (docs/PROTOCOL.md).
cat >"$p/swtpm-ca/swtpm_setup.conf" <<EOF
create_certs_tool = $(command -v swtpm_localca)
create_certs_tool_config = $ca/localca.conf
create_certs_tool_options = /etc/swtpm-localca.options
active_pcr_banks = sha256
EOF
# The paths above name the final directory: move into place first, then make the CA there.
rm -rf "$out"
mv "$p" "$out"
mkdir "$tmp/tpm"
swtpm_setup --tpm2 --tpmstate "$tmp/tpm" --config "$ca/swtpm_setup.conf" --create-ek-cert \
        --overwrite --logfile "$tmp/swtpm_setup.log" >/dev/null 2>&1 \
        || { cat "$tmp/swtpm_setup.log" >&2; rm -rf "$out"; ng_die "swtpm_setup failed"; }
for f in swtpm-localca-rootca-cert.pem issuercert.pem; do
        [[ -s $ca/$f ]] || { rm -rf "$out"; ng_die "swtpm_localca did not write $f"; }
done
chmod 0644 "$out"/{ca,server,cluster-ca}.pem "$ca"/{swtpm-localca-rootca-cert,issuercert}.pem \
        "$ca"/*.conf
ng_log "throwaway PKI in $out (verifier CA, server certificate for 10.0.2.2, swtpm EK CA)"
