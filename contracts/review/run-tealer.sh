#!/usr/bin/env bash
# Run tealer (PyPI, crytic) on a BitFox approval program and write the raw report.
#
#   contracts/review/run-tealer.sh contracts/bitfox.teal    contracts/review/tealer-v2.txt
#   contracts/review/run-tealer.sh contracts/v1/bitfox.teal contracts/review/tealer-v1.txt
#
# tealer 0.1.2 (the newest release) cannot parse `#define` macros, so the report has four parts:
#   1. tealer on the file as it is (fails to parse: recorded as is);
#   2. go-algorand's assembler proves the macro-expanded copy assembles to the same bytecode;
#   3. `tealer detect` with every detector on the expanded copy (single-contract mode);
#   4. every detector in group-configuration mode, with the app's two group shapes
#      ([pay, appl] and [appl] alone; the payment signed by a plain account, no LogicSig).
# Needs python3.11; creates ${TEALER_VENV:-/tmp/tealer-venv} with tealer==0.1.2 if missing and
# uses the contract suite's venv (${BITFOX_VENV:-.venv}) for the assembler.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
program="$(realpath "$1")"; report="$(realpath -m "$2")"
here="$root/contracts/review"
tv="${TEALER_VENV:-/tmp/tealer-venv}"
bv="$root/${BITFOX_VENV:-.venv}"
if [[ ! -x "$tv/bin/tealer" ]]; then
    python3.11 -m venv "$tv"
    "$tv/bin/pip" install --quiet "tealer==0.1.2"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$program" "$work/program.teal"
python3 "$here/expand_defines.py" "$program" > "$work/expanded.teal"
cat > "$work/group.yaml" <<YAML
name: bitfox
contracts:
  - name: bitfox
    file_path: expanded.teal
    type: ApprovalProgram
    version: 9
    subroutines: []
    functions:
      - name: any_method
        dispatch_path: [B0]
groups:
  - operation: method_with_pay_argument
    transactions:
      - {txn_id: payment, txn_type: pay, has_logic_sig: false, absolute_index: 0}
      - {txn_id: call, txn_type: appl, application: {contract: bitfox, function: any_method}, absolute_index: 1}
  - operation: method_alone
    transactions:
      - {txn_id: call, txn_type: appl, application: {contract: bitfox, function: any_method}, absolute_index: 0}
YAML
{
    echo "# tealer report for ${program#$root/} ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
    echo "# $("$tv/bin/pip" show tealer 2>/dev/null | grep -E '^(Name|Version):' | tr '\n' ' ')"
    echo "# sha256 $(sha256sum "$program" | cut -d' ' -f1)"
    echo
    echo "## 1. tealer detect --contracts program.teal   (the file as it is)"
    (cd "$work" && "$tv/bin/tealer" detect --contracts program.teal 2>&1) || echo "[exit status $?]"
    echo
    echo "## 2. macro expansion: go-algorand assembles both to the same bytecode?"
    PYTHONPATH="$root/reference" "$bv/bin/python" -c '
import sys
from bitfox_ref import compile_teal
a, b = (compile_teal(open(p).read()).bytecode for p in sys.argv[1:3])
print(f"original {len(a)} bytes, expanded {len(b)} bytes, identical: {a == b}")
sys.exit(0 if a == b else 1)
' "$work/program.teal" "$work/expanded.teal"
    echo
    echo "## 3. tealer detect --contracts expanded.teal   (all detectors, single-contract mode)"
    (cd "$work" && "$tv/bin/tealer" detect --contracts expanded.teal 2>&1) || echo "[exit status $?]"
    for d in constant-gtxn self-access sender-access; do
        echo
        echo "## 3b. tealer detect --contracts expanded.teal --detectors $d"
        out="$(cd "$work" && "$tv/bin/tealer" detect --contracts expanded.teal --detectors "$d" 2>&1)" || echo "[exit status $?]"
        echo "$out"
        [[ "$(echo "$out" | wc -l)" -le 1 ]] && echo "[no instruction flagged: this detector prints only what it finds]"
    done
    echo
    echo "## 4. group-configuration mode: python contracts/review/tealer_group.py group.yaml"
    sed 's/^/#   /' "$work/group.yaml"
    (cd "$work" && "$tv/bin/python" "$here/tealer_group.py" group.yaml 2>&1) || echo "[exit status $?]"
    echo
    echo "## 5. sensitivity check: the same detectors on mutants of the expanded program"
    echo "##    (each mutant deletes one defence; the matching detector must now report it)"
    for mutant in "OnCompletion:txn OnCompletion\nint NoOp\n==\nassert" \
                  "RekeyTo:txn RekeyTo\nglobal ZeroAddress\n==\nassert" \
                  "GroupSize:global GroupSize\nint 2\n==\nassert"; do
        name="${mutant%%:*}"; pattern="${mutant#*:}"
        python3 -c 'import sys; s = open(sys.argv[1]).read(); p = sys.argv[2].encode().decode("unicode_escape"); assert p in s, p; open(sys.argv[3], "w").write(s.replace(p, "", 1))' \
            "$work/expanded.teal" "$pattern" "$work/mutant-$name.teal"
        echo "# mutant without the first '$(echo -e "$pattern" | tr '\n' ' ')':"
        (cd "$work" && "$tv/bin/tealer" detect --contracts "mutant-$name.teal" --exclude missing-fee-check 2>&1) \
            | grep -E '^Check:|results found' | sed 's/^/#   /' || true
        (cd "$work" && "$tv/bin/tealer" detect --contracts "mutant-$name.teal" --exclude missing-fee-check 2>&1) \
            | awk '/^Check:/{c=$2} /path:/{n[c]++} END{for (k in n) print "#   " k " vulnerable paths: " n[k]}'
    done
} > "$report"
echo "wrote $report"
