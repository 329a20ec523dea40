"""Runs `rnnc run --dtype exact` on each program LSRL's exact mode ran (bench/lsrl/exact.py's
JSON lines), checks that the outputs agree, and prints a Markdown table of both times.

    python bench/lsrl/exact_table.py LSRL.jsonl RNNC
"""
import json
import subprocess
import sys
import time
from fractions import Fraction

SOURCES = {
    "more_ones": ["examples/more_ones.rnn"],
    "modulo_counter": ["examples/lsrl/modulo_counter.rnn"],
    "key_value optimized": ["examples/lsrl/key_value.rnn", "--set", "mode=optimized"],
}


def agree(lsrl, rnnc):
    """sympy's exact value and rnnc's (a fraction, or the Double its enclosure decides)."""
    exact = Fraction(lsrl)
    if "." in rnnc or "e" in rnnc:
        return float(exact) == float(rnnc)
    return exact == Fraction(rnnc)


def main(lines_path, rnnc):
    print("| program | tokens | LSRL exact (sympy) | rnnc `--dtype exact` | ratio | outputs |")
    print("|---|---|---|---|---|---|")
    for line in open(lines_path):
        row = json.loads(line)
        command = [rnnc, "run", *SOURCES[row["program"]], "--input", row["input"], "--dtype", "exact"]
        best = None
        for _ in range(3):
            start = time.perf_counter()
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            best = min(best or 1e9, time.perf_counter() - start)
        mine = [l.split() for l in out.strip().split("\n")]
        same = len(mine) == len(row["outputs"]) and all(
            len(a) == len(b) and all(agree(x, y) for x, y in zip(a, b)) for a, b in zip(row["outputs"], mine))
        exact_points = sum(1 for r in mine for v in r if "." not in v and "e" not in v)
        total = sum(len(r) for r in mine)
        print(f"| {row['program']} | {row['tokens']} | {row['seconds']:.2f} s | {best:.3f} s | {row['seconds'] / best:.0f}x | "
              f"{'agree' if same else '**differ**'}; {exact_points} of {total} exact in rnnc |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
