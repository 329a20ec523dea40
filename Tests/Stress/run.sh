#!/usr/bin/env bash
# Hostile inputs too large for unit tests (issue #14): each must end within its time limit,
# with the expected exit status, and within a memory limit — never a signal, a hang or a
# blow-up. Uses a release build of rnnc. From the repository root:
#   swift build -c release --product rnnc && bash Tests/Stress/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
rnnc=${RNNC:-.build/release/rnnc}
# GNU time measures each case's peak memory (Debian package "time").
[[ -x /usr/bin/time ]] || { apt-get update -q && apt-get install -y -q time; } > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect NAME STATUS SECONDS MAX_RSS_MB COMMAND...
expect() {
    local name=$1 status=$2 seconds=$3 rss=$4; shift 4
    local start=$SECONDS
    /usr/bin/time -f "%M" -o "$work/rss" timeout "$seconds" "$@" > "$work/out" 2> "$work/err"
    local got=$?
    local used=$(( $(tail -1 "$work/rss" 2>/dev/null || echo 0) / 1024 ))
    if [[ $got -ne $status || $used -gt $rss ]]; then
        echo "FAIL $name: exit $got (expected $status), ${used} MB (limit $rss), $((SECONDS - start)) s"
        head -c 600 "$work/err"; echo
        failures=$((failures + 1))
    else
        echo "ok   $name: exit $got, ${used} MB, $((SECONDS - start)) s"
    fi
}

python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
def model(body, inputs="  input x: [1]\n"):
    return "model M {\n" + inputs + body + "}\n"
open(f"{w}/chain.rnn", "w").write(model("  output " + " + ".join(["x"] * 3_000_000) + "\n"))
open(f"{w}/postfix.rnn", "w").write(model("  output x" + "[0]" * 100_000 + "\n"))
open(f"{w}/bytes.rnn", "w").write("$" * 30_000_000)
open(f"{w}/eye.rnn", "w").write("model M(n = 3) {\n  input x: [1]\n  output x + sum(eye(n))[0:1]\n}\n")
calls = "".join(f"  y{i} = acc(x * {i + 1})\n" for i in range(20_000))
open(f"{w}/states.rnn", "w").write("fn acc(v) {\n  state s: [1] = 0\n  s <- s * 0.5 + v\n  return s\n}\n"
                                   + model(calls + "  output [" + ", ".join(f"y{i}" for i in range(20_000)) + "]\n"))
open(f"{w}/wide.rnn", "w").write(model("  state s: [30000] = 0\n  s <- 0.5 * [s[1:30000], s[0:1]] + x\n  output s[0:1]\n"))
open(f"{w}/fusion.rnn", "w").write(model("  param A: [4096, 4096] = normal(4096, 4096, seed: 1), B: [4096, 4096] = normal(4096, 4096, seed: 2)\n"
                                         "  output (B @ (A @ x))[0:1]\n", inputs="  input x: [4096]\n"))
# The shape fuzzer's timeout of 2026-12-02: 304 chained states 100,000 wide (30M diagonal
# entries fused pass after pass; 28 s while products kept an array per matrix row).
states = "".join(f"  state s{i}: [n] = 0\n" for i in range(304))
updates = "".join(f"  s{i} <- {'x' if i == 0 else f's{i - 1}'} * 0.5\n" for i in range(304))
open(f"{w}/wide_chain.rnn", "w").write("model M(n = 1) {\n  input x: [n]\n" + states + updates + "  output s303\n}\n")
open(f"{w}/huge_state.rnn", "w").write(model("  state s: [1000000] = 0\n  s <- s * 0.5 + x\n  output s[0:1]\n"))
open(f"{w}/tokens.json", "w").write("[" + ", ".join(["[1]"] * 1000) + "]\n")
bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
for k in range(1, 10):
    bomb += f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 10) + "]\n"
open(f"{w}/bomb.yaml", "w").write(bomb)
PY

expect "3M-term chain is E0108"            65 60  2000 "$rnnc" check "$work/chain.rnn"
expect "100k subscripts (fmt) is E0108"    65 60  1000 "$rnnc" fmt "$work/postfix.rnn"
expect "30 MB of bad bytes"                65 120 2000 "$rnnc" check "$work/bytes.rnn"
expect "eye(100000) through --set"         65 30  1000 "$rnnc" check "$work/eye.rnn" --set n=100000
expect "20,000 stateful calls"             0  120 2000 "$rnnc" check "$work/states.rnn"
expect "30,000-wide affine state"          0  60  1500 "$rnnc" check "$work/wide.rnn"
expect "B @ (A @ x) at 4096 is not fused"  0  120 2500 "$rnnc" check "$work/fusion.rnn"
expect "304 chained states 100,000 wide"   0  30  3000 "$rnnc" check "$work/wide_chain.rnn" --set n=100000
expect "10^6-wide state, auto mode"        0  300 3000 "$rnnc" run "$work/huge_state.rnn" --input "$work/tokens.json" --output "$work/y.json"
expect "10^6-wide state, scan refuses"     65 60  3000 "$rnnc" run "$work/huge_state.rnn" --input "$work/tokens.json" --mode scan
expect "YAML alias bomb"                   1  30  1000 "$rnnc" test "$work/bomb.yaml"

if [[ $failures -gt 0 ]]; then echo "$failures stress case(s) failed"; exit 1; fi
echo "stress: all cases passed"
