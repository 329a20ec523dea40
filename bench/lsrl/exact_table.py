"""Runs `rnnc run --dtype exact` on each program LSRL's exact mode ran (bench/lsrl/exact.py's
JSON lines), checks that the outputs agree, and prints a Markdown table of both times: rnnc's
whole process, and its run alone (less the same command on the first token only, which is
start-up and compiling), as LSRL's time is its run alone.

    python bench/lsrl/exact_table.py LSRL.jsonl RNNC
"""
import json
import os
import subprocess
import tempfile
import sys
import time
from fractions import Fraction

SOURCES = {
    "more_ones": ["examples/more_ones.rnn"],
    "modulo_counter": ["examples/lsrl/modulo_counter.rnn"],
    **{f"key_value {m}": ["examples/lsrl/key_value.rnn", "--set", f"mode={m}"] for m in ["optimized", "direct", "multiplicative"]},
    **{f"universal_approximation {m}": ["examples/lsrl/universal_approximation.rnn", "--set", f"mode={m}"]
       for m in ["optimized", "direct", "multiplicative"]},
}


# The universal approximation program's answer is its output after the last token (LSRL's
# test reads `outputs[:, -1]`); what it outputs before is not defined, and the two differ there.
ANSWER_ONLY = {f"universal_approximation {m}" for m in ["optimized", "direct", "multiplicative"]}


def agree(lsrl, rnnc):
    """sympy's exact value and rnnc's (a fraction, or the Double its enclosure decides)."""
    exact = Fraction(lsrl)
    if "." in rnnc or "e" in rnnc:
        return float(exact) == float(rnnc)
    return exact == Fraction(rnnc)


def best_of_3(command):
    """The fastest of three runs, in seconds, and the output."""
    best = None
    for _ in range(3):
        start = time.perf_counter()
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        best = min(best or 1e9, time.perf_counter() - start)
    return best, out


def main(lines_path, rnnc):
    print("| program | tokens | LSRL exact (sympy) | rnnc `--dtype exact` | ratio | rnnc's run alone | ratio | outputs |")
    print("|---|---|---|---|---|---|---|---|")
    for line in open(lines_path):
        row = json.loads(line)
        command = [rnnc, "run", *SOURCES[row["program"]], "--dtype", "exact", "--input"]
        best, out = best_of_3(command + [row["input"]])
        # Start-up and compiling: the same command on the sequence's first token alone.
        first = os.path.join(tempfile.mkdtemp(), "first.json")
        json.dump(json.load(open(row["input"]))[:1], open(first, "w"))
        startup, _ = best_of_3(command + [first])
        run_alone = max(best - startup, 1e-4)
        mine = [l.split() for l in out.strip().split("\n")]
        theirs = row["outputs"]
        if row["program"] in ANSWER_ONLY:
            theirs, compared = theirs[-1:], mine[-1:]
        else:
            compared = mine
        same = len(mine) == len(row["outputs"]) and all(
            len(a) == len(b) and all(agree(x, y) for x, y in zip(a, b)) for a, b in zip(theirs, compared))
        exact_points = sum(1 for r in mine for v in r if "." not in v and "e" not in v)
        total = sum(len(r) for r in mine)
        print(f"| {row['program']} | {row['tokens']} | {row['seconds']:.2f} s | {best:.3f} s | {row['seconds'] / best:.0f}x | "
              f"{run_alone:.3f} s | {row['seconds'] / run_alone:.0f}x | "
              f"{'agree' if same else '**differ**'}{' (the answer)' if row['program'] in ANSWER_ONLY else ''}; "
              f"{exact_points} of {total} exact in rnnc |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
