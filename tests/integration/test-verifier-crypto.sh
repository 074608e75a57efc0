#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The verifier's TPM cryptography (crypto-tool over verifier/tpm/tpm2b.c + tpmcrypto.c) held against
# a real swtpm driven by tpm2-tools: names, EK key hashes, MakeCredential → ActivateCredential,
# the Import blob → Import + Load + PolicyPCR + PolicyCounterTimer + Unseal, quotes, policies.
# Usage: test-verifier-crypto.sh path/to/crypto-tool
set -euo pipefail

tool=$(realpath "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/nodegate-crypto.XXXXXX")
swtpm_pid=
cleanup() {
        if [[ -n $swtpm_pid ]]; then
                kill "$swtpm_pid" 2>/dev/null || true
                wait "$swtpm_pid" 2>/dev/null || true
        fi
        rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

failures=0
checks=0
log=$work/log
pass() { checks=$((checks + 1)); echo "ok    $*"; }
flunk() {
        checks=$((checks + 1)) failures=$((failures + 1))
        echo "FAIL  $*"
        sed 's/^/        /' "$log" | tail -n 15
}
# expect_ok WHAT CMD…: CMD must succeed. expect_fail WHAT CMD…: CMD must fail.
expect_ok() {
        local what=$1
        shift
        if "$@" >"$log" 2>&1; then pass "$what"; else flunk "$what"; fi
}
expect_fail() {
        local what=$1
        shift
        if "$@" >"$log" 2>&1; then flunk "$what (it succeeded)"; else pass "$what"; fi
}
expect_eq() {
        if [[ $2 == "$3" ]]; then pass "$1"; else
                echo "got $2, want $3" >"$log"
                flunk "$1"
        fi
}
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }
sha256hex() { sha256sum "$1" | cut -c1-64; }
digest_of() { printf '%s' "$1" | sha256sum | cut -c1-64; }
# A TPM2B of a file: tpm2_quote -m writes the bare TPMS_ATTEST, the protocol sends its TPM2B.
tpm2b() {
        printf '%04x' "$(stat -c %s "$1")" | xxd -r -p >"$2"
        cat "$1" >>"$2"
}
flip() { # flip FILE OFFSET OUT: one bit changed
        python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 1; open(sys.argv[3], "wb").write(b)' "$@"
}
# swtpm has three transient object slots and no resource manager: flush after each step.
flush() { tpm2_flushcontext -t >/dev/null 2>&1 || true; }

# --- a manufactured TPM: EK certificates from a local CA in the work directory
mkdir -p state ca certs
cat >localca.conf <<EOF
statedir = $work/ca
signingkey = $work/ca/signkey.pem
issuercert = $work/ca/issuercert.pem
certserial = $work/ca/certserial
EOF
cat >setup.conf <<EOF
create_certs_tool = /usr/bin/swtpm_localca
create_certs_tool_config = $work/localca.conf
create_certs_tool_options = /etc/swtpm-localca.options
active_pcr_banks = sha256
EOF
swtpm_setup --tpm2 --tpmstate "$work/state" --create-ek-cert --create-platform-cert \
        --config "$work/setup.conf" --write-ek-cert-files "$work/certs" --overwrite >"$log" 2>&1 ||
        { cat "$log"; exit 1; }

# A free port pair: swtpm exits at once when it cannot bind, and writes its pid file only
# after it listens, so a pid file from a live process means the ports are ours.
for _ in $(seq 20); do
        port=$((20000 + RANDOM % 30000))
        rm -f swtpm.pid
        swtpm socket --tpm2 --tpmstate dir="$work/state" --pid file="$work/swtpm.pid" \
                --server type=tcp,bindaddr=127.0.0.1,port=$port \
                --ctrl type=tcp,bindaddr=127.0.0.1,port=$((port + 1)) \
                --flags not-need-init,startup-clear >swtpm.log 2>&1 &
        swtpm_pid=$!
        for _ in $(seq 100); do
                [[ -s swtpm.pid ]] && break
                kill -0 "$swtpm_pid" 2>/dev/null || break
                sleep 0.05
        done
        if [[ -s swtpm.pid ]] && kill -0 "$swtpm_pid" 2>/dev/null; then break; fi
        wait "$swtpm_pid" 2>/dev/null || true
        swtpm_pid=
done
[[ -n $swtpm_pid ]] || { echo "could not start swtpm" >&2; cat swtpm.log >&2; exit 1; }
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"

# --- EKs from the standard templates; names, and the SPKI hash of the allowlist
ek_types=(rsa ecc ecc384)
for t in "${ek_types[@]}"; do
        tpm2_createek -G "$t" -c "ek-$t.ctx" -u "ek-$t.pub" >"$log" 2>&1 || { cat "$log"; exit 1; }
        tpm2_readpublic -c "ek-$t.ctx" -n "ek-$t.name" -f pem -o "ek-$t.pem" >/dev/null
        flush
        expect_eq "EK $t: name as tpm2_readpublic -n" "$("$tool" name "ek-$t.pub")" \
                "$(hexof "ek-$t.name")"
        openssl pkey -pubin -in "ek-$t.pem" -outform DER -out "ek-$t.der"
        expect_eq "EK $t: SPKI SHA-256 as openssl pkey -outform DER" \
                "$("$tool" spki-sha256 "ek-$t.pub")" "$(sha256hex "ek-$t.der")"
done
# swtpm_setup's EKs are the ones the templates give, and its certificates are for them.
for pair in rsa:0x81010001:ek-rsa2048 ecc384:0x81010016:ek-secp384r1; do
        IFS=: read -r t handle cert <<<"$pair"
        tpm2_readpublic -c "$handle" -n "persistent-$t.name" >/dev/null
        expect_eq "EK $t: tpm2_createek -G $t gives swtpm_setup's EK at $handle" \
                "$(hexof "persistent-$t.name")" "$(hexof "ek-$t.name")"
        openssl x509 -inform DER -in "certs/$cert.crt" -noout -pubkey |
                openssl pkey -pubin -outform DER -out "cert-$t.der"
        expect_eq "EK $t: SPKI SHA-256 as its certificate's key" \
                "$("$tool" spki-sha256 "ek-$t.pub")" "$(sha256hex "cert-$t.der")"
done
# The EK Credential Profile's high-range template H-3: SHA-384, AES-256, userWithAuth set, and
# PolicyB (below) as its policy.
tpm2_readpublic -c 0x81010016 >ek-p384.yaml
expect_eq "swtpm_setup's P-384 EK: template H-3" \
        "$(grep -E '^ *(raw|sym-keybits|authorization policy):' ek-p384.yaml | tr -s ' \n' ' ')" \
        " raw: 0xc raw: 0x300f2 raw: 0x23 raw: 0x4 raw: 0x10 raw: 0x0 raw: 0x10 raw: 0x0 raw: 0x6 raw: 0x43 sym-keybits: 256 authorization policy: b26e7d28d11a50bc53d882bcf5fd3a1a074148bb35d3b4e4cb1c0ad9bde419cacb47ba09699646150f9fc000f3f80e12 "

# A session that satisfies the EK's policy: PolicySecret(endorsement) for the low-range
# templates; the high-range P-384 template's policy is PolicyOR(PolicySecret, PolicyAuthorizeNV)
# in SHA-384 (EK Credential Profile "PolicyB"), so the OR follows.
policy_a_384=8bbf2266537c171cb56e403c4dc1d4b64f432611dc386e6f532050c3278c930e143e8bb1133824ccb431053871c6db53
policy_c_384=d6032ce61f2fb3c240eb3cf6a33237ef2b6a16f4293c22b455e261cffd217ad5b4947c2d73e63005eed2dc2b3593d165
xxd -r -p <<<"$policy_a_384" >policy-a-384
xxd -r -p <<<"$policy_c_384" >policy-c-384
ek_session() {
        local hash=sha256
        [[ $1 == ecc384 ]] && hash=sha384
        tpm2_startauthsession --policy-session -g "$hash" -S ek-session.ctx &&
                tpm2_policysecret -S ek-session.ctx -c e &&
                if [[ $1 == ecc384 ]]; then
                        tpm2_policyor -S ek-session.ctx -l sha384:policy-a-384,policy-c-384
                fi
}
end_session() {
        tpm2_flushcontext "$1" >/dev/null 2>&1 || true
        flush
}

# --- AKs: primaries in the endorsement hierarchy, restricted signing keys
ak_attrs='fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign'
declare -A ak_alg=([ecc]=ecc256:ecdsa-sha256:null [rsa]=rsa2048:rsassa-sha256:null)
for a in ecc rsa; do
        tpm2_createprimary -C e -g sha256 -G "${ak_alg[$a]}" -a "$ak_attrs" -c "ak-$a.ctx" \
                >"$log" 2>&1 || { cat "$log"; exit 1; }
        tpm2_readpublic -c "ak-$a.ctx" -o "ak-$a.pub" -n "ak-$a.name" >/dev/null
        flush
        expect_eq "AK $a: name as tpm2_readpublic -n" "$("$tool" name "ak-$a.pub")" \
                "$(hexof "ak-$a.name")"
done

# --- quotes: a PCR state of our own making, reproducible after a TPM reset
pcrs=0,1,2,7,15
extend_state() {
        tpm2_pcrextend "0:sha256=$(digest_of firmware)" "7:sha256=$(digest_of secureboot)" \
                "15:sha256=$(digest_of cap-before)"
}
extend_state
tpm2_pcrread "sha256:$pcrs" -o pcrs.bin >/dev/null
pcr_digest=$(sha256hex pcrs.bin)
reset_count=$(tpm2_readclock | sed -n 's/^ *reset_count: //p')

nonce=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
for a in ecc rsa; do
        tpm2_quote -c "ak-$a.ctx" -l "sha256:$pcrs" -q "$nonce" -g sha256 -m "quote-$a.msg" \
                -s "quote-$a.sig" >/dev/null
        flush
        tpm2b "quote-$a.msg" "quote-$a.attest"
        expect_ok "quote by AK $a: verifies, extraData is the nonce" \
                "$tool" verify-quote "ak-$a.pub" "quote-$a.attest" "quote-$a.sig" "$nonce"
        "$tool" quote-info "quote-$a.attest" >"quote-$a.info"
        expect_eq "quote by AK $a: pcrDigest = SHA-256 of tpm2_pcrread's values" \
                "$(sed -n 's/^pcr_digest=//p' "quote-$a.info")" "$pcr_digest"
        expect_eq "quote by AK $a: resetCount as tpm2_readclock (endorsement AK: not obfuscated)" \
                "$(sed -n 's/^reset_count=//p' "quote-$a.info")" "$reset_count"
        expect_eq "quote by AK $a: the PCR selection" \
                "$(sed -n 's/^pcr_mask=//p' "quote-$a.info")" 0x008087
        expect_fail "quote by AK $a: another nonce is refused" \
                "$tool" verify-quote "ak-$a.pub" "quote-$a.attest" "quote-$a.sig" "00$nonce"
        size=$(stat -c %s "quote-$a.attest")
        for off in 2 10 $((size - 40)) $((size - 1)); do
                flip "quote-$a.attest" "$off" tampered.attest
                expect_fail "quote by AK $a: one bit flipped at attest byte $off is refused" \
                        "$tool" verify-quote "ak-$a.pub" tampered.attest "quote-$a.sig"
        done
        flip "quote-$a.sig" $(($(stat -c %s "quote-$a.sig") - 1)) tampered.sig
        expect_fail "quote by AK $a: one bit flipped in the signature is refused" \
                "$tool" verify-quote "ak-$a.pub" "quote-$a.attest" tampered.sig
done
expect_fail "quote by AK ecc is refused with AK rsa's key" \
        "$tool" verify-quote ak-rsa.pub quote-ecc.attest quote-ecc.sig

# --- policy digests, as a trial session computes them
trial_policy() { # PCR_LIST VALUES_FILE RESET_COUNT → hex digest
        tpm2_startauthsession -S trial.ctx >/dev/null &&
                tpm2_policypcr -S trial.ctx -l "sha256:$1" -f "$2" >/dev/null &&
                tpm2_policycountertimer -S trial.ctx "resets=$3" >/dev/null &&
                tpm2_policycountertimer -S trial.ctx -L trial.policy restarts=0 >/dev/null
        end_session trial.ctx
        hexof trial.policy
}
expect_eq "policy digest = trial PolicyPCR($pcrs) + PolicyCounterTimer(resets=$reset_count) + PolicyCounterTimer(restarts=0)" \
        "$("$tool" policy "$pcrs" "$pcr_digest" "$reset_count")" \
        "$(trial_policy "$pcrs" pcrs.bin "$reset_count")"
tpm2_pcrread sha256:4,23 -o pcrs-b.bin >/dev/null
expect_eq "policy digest = trial PolicyPCR(4,23) + PolicyCounterTimer(resets=4294967295)" \
        "$("$tool" policy 4,23 "$(sha256hex pcrs-b.bin)" 4294967295)" \
        "$(trial_policy 4,23 pcrs-b.bin 4294967295)"

# --- MakeCredential → ActivateCredential, for every EK type
secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
credential_file() { # ID SECRET OUT: tpm2-tools' file: magic, version 1, the two TPM2Bs
        {
                printf '\xba\xdc\xc0\xde\x00\x00\x00\x01'
                cat "$1" "$2"
        } >"$3"
}
activate() { # EK_TYPE AK CREDENTIAL_FILE
        rm -f activated.bin
        ek_session "$1" >/dev/null &&
                tpm2_activatecredential -c "ak-$2.ctx" -C "ek-$1.ctx" -i "$3" -o activated.bin \
                        -P session:ek-session.ctx
        local r=$?
        end_session ek-session.ctx
        return $r
}
for t in "${ek_types[@]}"; do
        for a in ecc rsa; do
                "$tool" make-credential "ek-$t.pub" "$(hexof "ak-$a.name")" "$secret" id.bin \
                        encrypted.bin
                credential_file id.bin encrypted.bin cred.bin
                expect_ok "credential to EK $t for AK $a: ActivateCredential" activate "$t" "$a" \
                        cred.bin
                expect_eq "credential to EK $t for AK $a: the secret comes back" \
                        "$(hexof activated.bin)" "$secret"
        done
        "$tool" make-credential "ek-$t.pub" "$(hexof ak-rsa.name)" "$secret" id.bin encrypted.bin
        credential_file id.bin encrypted.bin cred.bin
        expect_fail "credential to EK $t for AK rsa: refused to AK ecc" activate "$t" ecc cred.bin
        flip id.bin 20 id-tampered.bin
        credential_file id-tampered.bin encrypted.bin cred.bin
        expect_fail "credential to EK $t: one bit flipped in the credential blob is refused" \
                activate "$t" rsa cred.bin
        flip encrypted.bin 12 encrypted-tampered.bin
        credential_file id.bin encrypted-tampered.bin cred.bin
        expect_fail "credential to EK $t: one bit flipped in the encrypted seed is refused" \
                activate "$t" rsa cred.bin
done

# --- the sealed token: Import + Load under the EK, then the policy, then Unseal
token=abcdef.0123456789abcdef
import_load() { # EK_TYPE PREFIX: PREFIX.{pub,dup,seed} → PREFIX.priv, PREFIX.ctx
        ek_session "$1" >/dev/null &&
                tpm2_import -C "ek-$1.ctx" -u "$2.pub" -i "$2.dup" -s "$2.seed" -r "$2.priv" \
                        -P session:ek-session.ctx
        local r=$?
        end_session ek-session.ctx
        [[ $r == 0 ]] || return $r
        load "$1" "$2"
}
load() {
        ek_session "$1" >/dev/null &&
                tpm2_load -C "ek-$1.ctx" -u "$2.pub" -r "$2.priv" -c "$2.ctx" \
                        -P session:ek-session.ctx
        local r=$?
        end_session ek-session.ctx
        return $r
}
unseal() { # PREFIX RESET_COUNT: the node's policy session, then Unseal into unsealed.bin
        rm -f unsealed.bin
        tpm2_startauthsession --policy-session -S unseal.ctx >/dev/null &&
                tpm2_policypcr -S unseal.ctx -l "sha256:$pcrs" >/dev/null &&
                tpm2_policycountertimer -S unseal.ctx "resets=$2" >/dev/null &&
                tpm2_policycountertimer -S unseal.ctx restarts=0 >/dev/null &&
                tpm2_unseal -c "$1.ctx" -p session:unseal.ctx -o unsealed.bin
        local r=$?
        end_session unseal.ctx
        return $r
}
seal() { # EK_TYPE PREFIX RESET_COUNT
        "$tool" seal "ek-$1.pub" "$pcrs" "$pcr_digest" "$3" "$token" "$2.pub" "$2.dup" "$2.seed"
}
for t in "${ek_types[@]}"; do
        seal "$t" "sealed-$t" "$reset_count"
        expect_ok "sealed to EK $t: Import and Load" import_load "$t" "sealed-$t"
        expect_ok "sealed to EK $t: PolicyPCR + PolicyCounterTimer + Unseal" \
                unseal "sealed-$t" "$reset_count"
        expect_eq "sealed to EK $t: the token comes back" "$(cat unsealed.bin)" "$token"
        expect_eq "sealed to EK $t: object name as the TPM's" "$("$tool" name "sealed-$t.pub")" \
                "$(tpm2_readpublic -c "sealed-$t.ctx" | sed -n 's/^name: //p')"
        flush
        flip "sealed-$t.dup" 40 tampered.dup
        cp "sealed-$t.pub" tampered.pub
        cp "sealed-$t.seed" tampered.seed
        expect_fail "sealed to EK $t: one bit flipped in the duplicate is refused by Import" \
                import_load "$t" tampered
done
seal ecc sealed-other "$((reset_count + 1))"
expect_ok "sealed for resetCount+1: Import and Load" import_load ecc sealed-other
expect_fail "sealed for resetCount+1: PolicyCounterTimer refuses it in this boot" \
        unseal sealed-other "$((reset_count + 1))"
expect_fail "sealed to EK ecc: the RSA EK cannot import it" \
        import_load rsa sealed-ecc

# The cap: once PCR 15 moves, no sealed object opens in this boot.
tpm2_pcrextend "15:sha256=$(digest_of 'nodegate: token released')"
for t in "${ek_types[@]}"; do
        expect_fail "sealed to EK $t: Unseal refused after the cap PCR is extended" \
                unseal "sealed-$t" "$reset_count"
done

# A TPM reset (a reboot): same PCR values again, resetCount one higher. The old blob must fail,
# a blob sealed for the new resetCount must open: the difference is the boot, nothing else.
swtpm_ioctl --tcp "127.0.0.1:$((port + 1))" -i >/dev/null
tpm2_startup -c
extend_state
tpm2_pcrread "sha256:$pcrs" -o pcrs-after-reset.bin >/dev/null
expect_eq "after a TPM reset: the same PCR values" "$(sha256hex pcrs-after-reset.bin)" \
        "$pcr_digest"
new_reset_count=$(tpm2_readclock | sed -n 's/^ *reset_count: //p')
expect_eq "after a TPM reset: resetCount one higher" "$new_reset_count" "$((reset_count + 1))"
tpm2_createek -G ecc -c ek-ecc.ctx >/dev/null
flush
expect_ok "after a TPM reset: the earlier blob still loads under the EK" load ecc sealed-ecc
expect_fail "after a TPM reset: the earlier blob does not unseal" \
        unseal sealed-ecc "$reset_count"
seal ecc sealed-new "$new_reset_count"
expect_ok "after a TPM reset: a blob for the new resetCount imports" import_load ecc sealed-new
expect_ok "after a TPM reset: a blob for the new resetCount unseals" \
        unseal sealed-new "$new_reset_count"

# A TPM Restart (Shutdown(STATE), then Startup(CLEAR)): the PCRs reset, resetCount stays. Root
# can extend the logged digests again and so reach the quoted PCR values without the cap: only
# restartCount, which the Restart raised, keeps this boot's blob shut.
tpm2_shutdown >/dev/null
swtpm_ioctl --tcp "127.0.0.1:$((port + 1))" -i >/dev/null
tpm2_startup -c
extend_state
tpm2_pcrread "sha256:$pcrs" -o pcrs-after-restart.bin >/dev/null
expect_eq "after a TPM Restart: the same PCR values" "$(sha256hex pcrs-after-restart.bin)" \
        "$pcr_digest"
expect_eq "after a TPM Restart: resetCount unchanged, restartCount 1" \
        "$(tpm2_readclock | sed -n 's/^ *\(reset\|restart\)_count: //p' | tr '\n' ' ')" \
        "$new_reset_count 1 "
tpm2_createek -G ecc -c ek-ecc.ctx >/dev/null
flush
expect_ok "after a TPM Restart: the blob of this boot still loads under the EK" \
        load ecc sealed-new
expect_fail "after a TPM Restart: the blob of this boot does not unseal (restartCount)" \
        unseal sealed-new "$new_reset_count"

echo "test-verifier-crypto: $((checks - failures))/$checks checks passed"
[[ $failures == 0 ]]
