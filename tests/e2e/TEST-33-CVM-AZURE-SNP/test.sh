#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 13 end to end: the good image on an emulated Azure SEV-SNP CVM. swtpm is set up as the
# paravisor leaves its vTPM (NV 0x01400001 holding an HCL report, the HCL AK at 0x81000003),
# and tests/tools/azure-paravisor.py, between QEMU and swtpm, regenerates the report when the
# gate writes its binding to NV 0x01400002, as the paravisor does: synthetic SNP reports signed
# by a test VCEK under a test AMD chain, which the verifier is given as --platform-roots (the
# VCEK through --vcek-cache). The verifier's policy requires azure-snp and pins the PCRs.
# (a) the gate detects Azure by itself, the verifier accepts the report and issues the token,
#     the kubelet runs with it; (b) the same image and policy on a plain swtpm (no HCL report):
#     refused, platform-evidence-missing, no token, no switch_root; (c) the same image on an
#     emulated Azure TDX CVM: the paravisor's report holds a TDREPORT, and the gate asks the
#     metadata service (tests/tools/fake-imds.py on 169.254.169.254:80 in the test's network
#     namespace, which QEMU's user networking reaches as the guest asks) for the TD quote of it;
#     the verifier requires azure-tdx, with a test Intel root and PCS collateral.
set -euo pipefail
TEST_NAME=cvm-azure-snp
TEST_DESCRIPTION="emulated Azure SNP and TDX CVMs join; the same boot without the report is refused"
E2E_VERIFIER=manual
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PARAVISOR="$NG_TOP/tests/tools/azure-paravisor.py"
AMD=''

test_setup() {
        e2e_good_image_and_policy
        AMD="$E2E_OUT/amd"
        python3 "$PARAVISOR" chain --out "$AMD" >"$E2E_OUT/chain.log" 2>&1 ||
                { e2e_fail "the test AMD chain: $(tail -n 3 "$E2E_OUT/chain.log")"; return 1; }
        # The harness's PCR policy plus a platform section that requires Azure SNP evidence of
        # the test chain's measurement, the TPM vouched for by the report (tpm_trust tee).
        python3 - "$E2E_POLICY" "$E2E_OUT/policy-azure.json" "$NG_TOP/tests/tools" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[3])
import cvm_synth
p = json.load(open(sys.argv[1]))
p["platform"] = {"require": "azure-snp", "tpm_trust": "tee",
                 "snp": {"measurements": [cvm_synth.MEASUREMENT.hex()], "vmpl": 0,
                         "min_reported_tcb": {"Milan": cvm_synth.TCB}}}
json.dump(p, open(sys.argv[2], "w"), indent=1)
EOF
        "$(ng_verifier_bin)" policy check "$E2E_OUT/policy-azure.json" >"$E2E_OUT/policy-check.txt" \
                2>&1 || { e2e_fail "policy check: $(cat "$E2E_OUT/policy-check.txt")"; return 1; }
}

# The verifier of one boot, recording requests and answers, with the test AMD chain.
azure_verifier_start() {
        e2e_verifier_start "$1" record --policy "$E2E_OUT/policy-azure.json" \
                --verifier-arg=--platform-roots --verifier-arg="$AMD/roots" \
                --verifier-arg=--vcek-cache --verifier-arg="$AMD/vcek-cache"
}

# A manufactured swtpm (EK certificates from the harness's CA) set up as Azure's paravisor
# leaves it, and the wrapper boot.sh starts as the TPM proxy. Usage: azure_tpm NAME [--tdx]
azure_tpm() {
        local mode=(--chain "$AMD")
        [[ ${2:-} == --tdx ]] && mode=(--tdx)
        local state="$E2E_OUT/$1.tpm" wrapper="$E2E_OUT/$1.paravisor.sh"
        mkdir -p "$state"
        swtpm_setup --tpm2 --tpmstate "$state" --config "$E2E_PKI/swtpm-ca/swtpm_setup.conf" \
                --create-ek-cert --overwrite --logfile "$E2E_OUT/$1.swtpm_setup.log" >/dev/null 2>&1 ||
                { e2e_fail "swtpm_setup: $(tail -n 3 "$E2E_OUT/$1.swtpm_setup.log")"; return 1; }
        python3 "$PARAVISOR" provision --state "$state" "${mode[@]}" >"$E2E_OUT/$1.provision.log" 2>&1 ||
                { e2e_fail "provisioning the vTPM: $(tail -n 3 "$E2E_OUT/$1.provision.log")"; return 1; }
        echo "  info  $(cat "$E2E_OUT/$1.provision.log")"
        # shellcheck disable=SC2016 # $1 and $2 are the wrapper's own arguments
        printf '#!/bin/sh\nexec python3 %q proxy --listen "$1" --swtpm "$2" %s --log %q\n' \
                "$PARAVISOR" "${mode[*]@Q}" "$E2E_OUT/$1.paravisor.log" >"$wrapper"
        chmod +x "$wrapper"
        E2E_TPM_ARGS=(--tpm-state "$state" --tpm-proxy "$wrapper")
}

# P of the recorded round 2 (docs/PROTOCOL.md, "The platform binding"), in upper-case hex.
request_binding() {
        python3 -c '
import base64, hashlib, json, sys
r = json.load(open(sys.argv[1]))
def name(pub):
    b = base64.b64decode(pub)[2:]       # TPM2B_PUBLIC -> TPMT_PUBLIC, nameAlg SHA-256
    return b[2:4] + hashlib.sha256(b).digest()
p = hashlib.sha512(b"nodegate platform v3\0" + base64.b64decode(r["challenge"]) +
                   name(r["ek_public"]) + name(r["ak_public"])).hexdigest().upper()
print(p)' "$1"
}

# The audit log's DECISION line names the platform evidence judged: KIND, or "-" for none.
# Usage: assert_audit_platform DECISION KIND
assert_audit_platform() {
        local got
        got=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    if a.get("decision") == sys.argv[2]:
        print(a.get("platform", "-"))' "$E2E_VDIR/audit.jsonl" "$1" 2>/dev/null || true)
        if [[ $got == "$2" ]]; then
                e2e_ok "the audit log's $1 line says platform: $2"
        else
                e2e_fail "the audit log's $1 line says platform: '${got//$'\n'/,}', expected $2"
        fi
}

test_run() {
        local req p n
        # (a) The emulated Azure SNP CVM.
        azure_tpm azure || return 1
        azure_verifier_start verifier-azure
        e2e_boot azure "$E2E_GOOD_UKI" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_log "nodegate\\[attest\\]: platform: azure-snp \\(the vTPM has the Azure paravisor's report index 0x01400001 \\(2048 bytes\\)\\)" \
                "the gate detected Azure SNP by itself (NV 0x01400001, no nodegate.platform=)"
        assert_log "nodegate\\[attest\\]: TPM: EK rsa2048 \\(with its certificate in NV\\), the paravisor's HCL AK" \
                "the gate attests with the RSA EK (HCLEkPub's kind) and the HCL AK at 0x81000003"
        assert_log 'azure-snp evidence: azure-snp-hcl, 2048 bytes' "the gate collected the HCL report"
        assert_no_log "does not carry this round's binding" \
                "the report the gate read carries this round's binding (the paravisor regenerated it)"
        assert_no_log 'FAILED' "no failure logged"
        assert_log "$(e2e_done_re switch)" "the gate reached switch_root"
        assert_kubelet_ran
        assert_token_issued "$E2E_VDIR"
        assert_capped
        req=$(e2e_recorded "$E2E_VDIR" attest request | tail -n 1)
        if [[ -n $req ]] && python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(not (r.get("version") == 3 and r.get("platform", {}).get("kind") == "azure-snp-hcl"))' "$req"; then
                e2e_ok "round 2 was version 3 with platform evidence of kind azure-snp-hcl"
        else
                e2e_fail "round 2 ($req) is not version 3 with azure-snp-hcl evidence"
        fi
        if [[ $(e2e_audit "$E2E_VDIR" | cut -d' ' -f1 | tr '\n' ' ') == "challenged issued " ]]; then
                e2e_ok "the verifier, requiring azure-snp, issued on the first round 2 (audit: challenged issued)"
        else
                e2e_fail "audit log: $(e2e_audit "$E2E_VDIR" | tr '\n' ';')"
        fi
        assert_audit_platform issued azure-snp-hcl
        # Without another boot: the paravisor regenerated the report once, with exactly this
        # round's P as user-data, and the report the gate sent passes the offline check.
        n=$(grep -c '^[0-9.]* regenerated: ' "$E2E_OUT/azure.paravisor.log" 2>/dev/null || true)
        if [[ $n == 1 ]]; then
                e2e_ok "the emulated paravisor regenerated the report once"
        else
                e2e_fail "the emulated paravisor regenerated the report $n times ($E2E_OUT/azure.paravisor.log)"
        fi
        if [[ -n $req ]] && p=$(request_binding "$req") &&
                grep -q "regenerated: user-data=$p " "$E2E_OUT/azure.paravisor.log" 2>/dev/null; then
                e2e_ok "its user-data is P of the recorded round 2 (challenge, EK name, AK name)"
        else
                e2e_fail "no regeneration with user-data = P of the recorded round 2 (${p:-?})"
        fi
        if [[ -n $req ]] && python3 -c '
import base64, json, sys
open(sys.argv[2], "wb").write(base64.b64decode(json.load(open(sys.argv[1]))["platform"]["report"]))' \
                "$req" "$E2E_OUT/azure.hcl.bin" &&
                "$(ng_verifier_bin)" platform verify --report "$E2E_OUT/azure.hcl.bin" \
                        --kind azure-snp-hcl --vcek "$AMD/test-vcek.der" --roots "$AMD/roots" \
                        --binding "${p,,}" --policy "$E2E_OUT/policy-azure.json" \
                        >"$E2E_OUT/azure.platform-verify.txt" 2>&1; then
                e2e_ok "nodegate-verifier platform verify accepts the report the gate sent, bound to P"
        else
                e2e_fail "platform verify: $(tail -n 2 "$E2E_OUT/azure.platform-verify.txt" 2>/dev/null)"
        fi
        echo "  info  boot (a) took $((${BOOT_WALL_MS:-0} / 1000)) s"

        # (b) The same image and policy on a plain swtpm: no report, refused, fail closed.
        E2E_TPM_ARGS=(--tpm-ca "$E2E_PKI/swtpm-ca")
        azure_verifier_start verifier-plain
        e2e_boot plain "$E2E_GOOD_UKI" "$GOOD_DISK"
        e2e_verifier_stop
        assert_status poweroff
        assert_log 'nodegate\[attest\]: platform: none \(' "a plain swtpm: the gate detected no CVM platform"
        assert_refused platform-evidence-missing
        assert_audit_platform rejected -
        assert_kubelet_absent
        assert_marker_absent
        echo "  info  boot (b) took $((${BOOT_WALL_MS:-0} / 1000)) s"

        azure_tdx_boot
}

# (c) Azure TDX. QEMU's user networking opens the guest's connections from the test's own
# network namespace (tests/e2e/lib.sh), where 169.254.169.254 is made a local address for the
# fake metadata service: the gate's fixed IMDS URL works unchanged.
azure_tdx_boot() {
        local imds_pid req
        if [[ ${NG_NETNS:-} != private ]]; then
                echo "  info  boot (c) skipped: no network namespace of the test's own for 169.254.169.254"
                return 0
        fi
        { ip addr add 169.254.169.254/32 dev lo 2>/dev/null ||
                busybox ip addr add 169.254.169.254/32 dev lo; } ||
                { e2e_fail "cannot make 169.254.169.254 a local address"; return 1; }
        mkdir -p "$E2E_OUT/intel"
        python3 "$NG_TOP/tests/tools/fake-imds.py" --listen 169.254.169.254:80 \
                --root-out "$E2E_OUT/intel/intel-sgx-root-ca.pem" \
                --collateral-out "$E2E_OUT/tdx-collateral" --log "$E2E_OUT/imds.jsonl" \
                >"$E2E_OUT/imds.out" 2>&1 &
        imds_pid=$!
        for _ in $(seq 50); do
                grep -q '^fake IMDS on' "$E2E_OUT/imds.out" 2>/dev/null && break
                sleep 0.2
        done
        grep -q '^fake IMDS on' "$E2E_OUT/imds.out" ||
                { e2e_fail "the fake IMDS did not start: $(tail -n 3 "$E2E_OUT/imds.out")"; kill "$imds_pid"; return 1; }
        python3 - "$E2E_POLICY" "$E2E_OUT/policy-azure-tdx.json" "$NG_TOP/tests/tools" <<'EOF2'
import json, sys
sys.path.insert(0, sys.argv[3])
import cvm_synth
p = json.load(open(sys.argv[1]))
p["platform"] = {"require": "azure-tdx", "tpm_trust": "tee",
                 "tdx": {"mrtds": [cvm_synth.MRTD.hex()], "tcb_status": ["UpToDate"]}}
json.dump(p, open(sys.argv[2], "w"), indent=1)
EOF2
        azure_tpm azure-tdx --tdx || { kill "$imds_pid"; return 1; }
        e2e_verifier_start verifier-azure-tdx record --policy "$E2E_OUT/policy-azure-tdx.json" \
                --verifier-arg=--platform-roots --verifier-arg="$E2E_OUT/intel" \
                --verifier-arg=--tdx-collateral --verifier-arg="$E2E_OUT/tdx-collateral"
        e2e_boot azure-tdx "$E2E_GOOD_UKI" "$GOOD_DISK"
        e2e_verifier_stop
        kill "$imds_pid" 2>/dev/null || true
        wait "$imds_pid" 2>/dev/null || true
        assert_status poweroff
        assert_log "nodegate\\[attest\\]: platform: azure-tdx \\(the vTPM's Azure report index 0x01400001 holds a TDX report\\)" \
                "the gate detected Azure TDX by itself"
        assert_log 'azure-tdx evidence: azure-tdx-hcl, [0-9]+ bytes, with the TD quote from IMDS \([0-9]+ bytes\)' \
                "the gate collected the HCL report and the TD quote from the metadata service"
        assert_no_log 'FAILED' "no failure logged"
        assert_kubelet_ran
        assert_token_issued "$E2E_VDIR"
        assert_capped
        assert_audit_platform issued azure-tdx-hcl
        req=$(e2e_recorded "$E2E_VDIR" attest request | tail -n 1)
        if [[ -n $req ]] && python3 - "$req" "$E2E_OUT/imds.jsonl" <<'EOF2'
import base64, json, sys
r = json.load(open(sys.argv[1]))
calls = [json.loads(line) for line in open(sys.argv[2])]
p = r.get("platform", {})
hcl = base64.b64decode(p.get("report", ""))
quote = base64.b64decode(p.get("td_quote", ""))
# One POST, of the TDREPORT of the report round 2 carries; its answer is round 2's td_quote.
sys.exit(not (r.get("version") == 3 and p.get("kind") == "azure-tdx-hcl" and len(calls) == 1
              and bytes.fromhex(calls[0]["report"]) == hcl[0x20:0x20 + 1024]
              and bytes.fromhex(calls[0]["quote"]) == quote))
EOF2
        then
                e2e_ok "one IMDS call, of the TDREPORT round 2 carries; its quote is round 2's td_quote"
        else
                e2e_fail "round 2 ($req) and the IMDS log ($E2E_OUT/imds.jsonl) do not match"
        fi
        echo "  info  boot (c) took $((${BOOT_WALL_MS:-0} / 1000)) s"
}

e2e_main
