#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make check-cvm-verifier: `nodegate-verifier platform verify` on every SEV-SNP, Azure SNP, TDX
# quote and Azure TDX case of tests/fixtures/cvm/EXPECTED (the real reports, quotes and
# certificates and the oracle's derived negatives), at each case's pinned time; the verdict and
# the first reason must be EXPECTED's. The inputs of each case (VEK, substituted chain, TD
# quote, expected binding) come from the oracle's --cli-args, so the cases are defined once.
# Also checks that the compiled-in AMD roots and the Intel SGX Root CA pin are the fixtures'.
# Usage: check-cvm-verifier.sh VERIFIER WORKDIR
set -euo pipefail
verifier=$1
work=$2
cd "$(dirname "$0")/../.."

rm -rf "$work"
mkdir -p "$work"
sh tests/tools/gen-amd-roots.sh > "$work/amd-roots.c"
if ! diff -u verifier/platform/amd-roots.c "$work/amd-roots.c"; then
        echo "check-cvm-verifier: verifier/platform/amd-roots.c differs from the pinned roots" >&2
        exit 1
fi
# The Intel pin: intel-roots.c's bytes are the SHA-256 of the fixture root's DER.
intel=$(openssl x509 -in tests/fixtures/cvm/roots/gtg-intel-sgx-root-ca.pem -outform der |
        sha256sum | cut -d' ' -f1)
pinned=$(sed -n '/intel_sgx_root_sha256/,/};/p' verifier/platform/intel-roots.c |
        grep -o '0x[0-9a-f][0-9a-f]' | tr -d '\n' | sed 's/0x//g')
if [[ $intel != "$pinned" ]]; then
        echo "check-cvm-verifier: verifier/platform/intel-roots.c pins $pinned, the fixture is $intel" >&2
        exit 1
fi
python3 tests/tools/cvm-reference.py --write-negatives "$work"
python3 tests/tools/cvm-reference.py --cli-args "$work" > "$work/args"

pass=0
fail=0
while IFS=$'\t' read -r name args; do
        line=$(grep -F -m1 "$name kind=" tests/fixtures/cvm/EXPECTED || true)
        if [[ -z $line || ${line%% *} != "$name" ]]; then
                echo "FAIL $name: not in EXPECTED" >&2
                fail=$((fail + 1))
                continue
        fi
        verdict=$(sed -E 's/.* verdict=([a-z]+) .*/\1/' <<<"$line")
        reason=$(sed -E 's/.* reason=([a-z0-9-]+) .*/\1/' <<<"$line")
        want=accepted
        [[ $verdict == accepted ]] || want="refused: $reason"
        rc=0
        # shellcheck disable=SC2086 # the oracle's arguments: paths without blanks
        out=$("$verifier" platform verify $args 2>&1) || rc=$?
        got=$(tail -n1 <<<"$out")
        if [[ $got != "$want" ]] || { [[ $want == accepted ]] && ((rc != 0)); } ||
                { [[ $want != accepted ]] && ((rc != 1)); }; then
                echo "FAIL $name: want '$want', got '$got' (exit $rc)" >&2
                printf '    %s\n' "${out//$'\n'/$'\n'    }" >&2
                fail=$((fail + 1))
        else
                pass=$((pass + 1))
        fi
done < "$work/args"
# policy from-evidence: the section learnt from one good report admits it and refuses another
# guest (another measurement) and another kind of evidence.
f=tests/fixtures/cvm
t=1748736000
learn() { # NAME: the verdict line of platform verify under the learnt policy
        { "$verifier" platform verify --time "$t" --policy "$work/learnt.json" "$@" || true; } |
                tail -n1
}
"$verifier" policy from-evidence "$f/azure-snp/trustee-ev-genoa-hcl.bin" --time "$t" \
        --vcek "$f/azure-snp/trustee-vcek-genoa.pem" > "$work/learnt.json"
for want_args in \
        "accepted|--report $f/azure-snp/trustee-ev-genoa-hcl.bin --vcek $f/azure-snp/trustee-vcek-genoa.pem" \
        "refused: snp-measurement|--report $f/azure-snp/trustee-hcl-report.bin --vcek $f/azure-snp/trustee-vcek-chain.pem" \
        "refused: platform-kind-not-allowed|--report $f/snp/trustee-report.bin --vcek $f/snp/trustee-vcek.der"; do
        want=${want_args%%|*}
        # shellcheck disable=SC2086 # paths without blanks
        got=$(learn ${want_args#*|})
        if [[ $got == "$want" ]]; then
                pass=$((pass + 1))
        else
                echo "FAIL from-evidence policy: want '$want', got '$got' for ${want_args#*|}" >&2
                fail=$((fail + 1))
        fi
done
# The same for TDX: MRTD and RTMRs learnt from a verified quote (the chain is in the quote).
# The learnt policy wants the TCB status UpToDate from Intel's collateral, which the fixtures
# have for no time at which this quote's chain is valid: without collateral it is refused;
# with tcb_status "unchecked" the learnt MRTD and RTMRs alone decide.
"$verifier" policy from-evidence "$f/tdx/trustee-quote-5.dat" --time "$t" > "$work/learnt.json"
got=$(learn --report "$f/tdx/trustee-quote-5.dat")
if [[ $got == "refused: tdx-collateral-missing" ]]; then
        pass=$((pass + 1))
else
        echo "FAIL from-evidence TDX policy without collateral: got '$got'" >&2
        fail=$((fail + 1))
fi
unchecked() { # the learnt policy with tdx.tcb_status "unchecked"
        python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))
p["platform"]["tdx"]["tcb_status"] = "unchecked"; json.dump(p, open(sys.argv[1], "w"))' "$1"
}
unchecked "$work/learnt.json"
for want_args in \
        "accepted|--report $f/tdx/trustee-quote-5.dat" \
        "refused: tdx-mrtd|--report $f/tdx/trustee-quote-6.dat" \
        "refused: platform-kind-not-allowed|--report $f/snp/trustee-report.bin --vcek $f/snp/trustee-vcek.der"; do
        want=${want_args%%|*}
        # shellcheck disable=SC2086 # paths without blanks
        got=$(learn ${want_args#*|})
        if [[ $got == "$want" ]]; then
                pass=$((pass + 1))
        else
                echo "FAIL from-evidence TDX policy: want '$want', got '$got' for ${want_args#*|}" >&2
                fail=$((fail + 1))
        fi
done
"$verifier" policy from-evidence "$f/azure-tdx/trustee-hcl-report.bin" --time "$t" \
        --quote "$f/azure-tdx/trustee-td-quote.bin" > "$work/learnt.json"
unchecked "$work/learnt.json"
for want_args in \
        "accepted|--report $f/azure-tdx/trustee-hcl-report.bin --quote $f/azure-tdx/trustee-td-quote.bin" \
        "refused: platform-kind-not-allowed|--report $f/azure-tdx/trustee-td-quote.bin"; do
        want=${want_args%%|*}
        # shellcheck disable=SC2086 # paths without blanks
        got=$(learn ${want_args#*|})
        if [[ $got == "$want" ]]; then
                pass=$((pass + 1))
        else
                echo "FAIL from-evidence Azure TDX policy: want '$want', got '$got' for ${want_args#*|}" >&2
                fail=$((fail + 1))
        fi
done
# platform collateral: the operator's check of a --tdx-collateral directory on its own. The
# 2023 files of tdx/pcs (the 2026 TCB info left out): valid until the QE identity lapses;
# a day after that, refused by it; with a changed TCB info, refused by its signature.
pcs="$work/pcs-2023"
mkdir -p "$pcs"
cp "$f"/tdx/pcs/tcb-signing-chain.pem "$f"/tdx/pcs/tcbinfo-50806f000000.json \
        "$f"/tdx/pcs/qe-identity.json "$f"/tdx/pcs/*.der "$pcs"/
collateral() { # WANT TIME: the last line and exit status of platform collateral
        local out rc=0
        out=$("$verifier" platform collateral "$pcs" --time "$2" 2>&1) || rc=$?
        if [[ $(tail -n1 <<<"$out") == "$1" ]] && { [[ $1 == invalid:* ]] || ((rc == 0)); } &&
                { [[ $1 != invalid:* ]] || ((rc == 1)); }; then
                pass=$((pass + 1))
        else
                echo "FAIL platform collateral at $2: want '$1', got (exit $rc):" >&2
                printf '    %s\n' "${out//$'\n'/$'\n'    }" >&2
                fail=$((fail + 1))
        fi
}
collateral "collateral               ok: valid (until 2023-07-08T07:24:59Z)" 1688169600
collateral "invalid: tdx-qe-identity-expired" 1688947200
sed -i 's/"tcbEvaluationDataNumber":15/"tcbEvaluationDataNumber":16/' "$pcs/tcbinfo-50806f000000.json"
collateral "invalid: tdx-tcbinfo-signature-invalid" 1688169600
if "$verifier" policy from-evidence "$f/tdx/trustee-quote-4.dat" --time "$t" > /dev/null 2>&1; then
        echo "FAIL from-evidence learnt from a TD with DEBUG set" >&2
        fail=$((fail + 1))
else
        pass=$((pass + 1))
fi
if "$verifier" policy from-evidence "$f/snp/gsg-attestation.bin" > /dev/null 2>&1; then
        echo "FAIL from-evidence learnt from a DEBUG=1 report" >&2
        fail=$((fail + 1))
else
        pass=$((pass + 1))
fi

echo "check-cvm-verifier: $pass cases as EXPECTED, $fail failed"
((fail == 0 && pass > 0))
