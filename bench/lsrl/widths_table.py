"""Sets LSRL's chains (bench/lsrl/layer_widths.py's JSON lines) beside rnnc's chains of the
same programs (rnnc compile ... --emit layers) as a markdown table.

    python3 bench/lsrl/widths_table.py LSRL_WIDTHS.jsonl RNNC_BINARY > bench/lsrl/widths.md
"""
import json
import re
import subprocess
import sys

# Each LSRL program and the rnnc source (with settings) of the same task.
RNNC = {
    "more_ones": ["examples/more_ones.rnn"],
    "modulo_counter": ["examples/lsrl/modulo_counter.rnn", "--set", "divisor=5"],
    **{f"key_value {m}": ["examples/lsrl/key_value.rnn", "--set", f"mode={m}", "--set", "T=3"] for m in ["optimized", "direct", "multiplicative"]},
    **{f"universal_approximation {m}": ["examples/lsrl/universal_approximation.rnn", "--set", f"mode={m}"]
       for m in ["optimized", "direct", "multiplicative"]},
}


def rnnc_chain(binary, args):
    """Layers, widest vector and parameters counted as LSRL counts them: every entry of every
    matrix and bias, zeros included (rnnc's report counts the stored ones)."""
    out = subprocess.run([binary, "compile", *args, "--emit", "layers"], check=True, capture_output=True, text=True).stdout
    m = re.match(r"layer chain of model \S+: (\d+) layers, input \d+, output \d+, widest (\d+)", out)
    dense = 0
    for kind, n_in, n_out in re.findall(r"^\s+\d+\s+(affine|state)\s+(\d+) -> (\d+)", out, flags=re.M):
        dense += int(n_in) * int(n_out) + int(n_out)
    return {"layers": int(m[1]), "widest": int(m[2]), "parameters": dense}


def main(lsrl_path, binary):
    rows = [json.loads(line) for line in open(lsrl_path) if line.strip()]
    print("| program | LSRL layers | LSRL widest | LSRL parameters | rnnc layers | rnnc widest | rnnc parameters | LSRL widest / rnnc widest |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        ours = rnnc_chain(binary, RNNC[row["program"]])
        print(f"| {row['program']} | {row['layers']} | {row['widest']:,} | {row['parameters']:,} | {ours['layers']} | {ours['widest']:,} "
              f"| {ours['parameters']:,} | {row['widest'] / ours['widest']:.1f}x |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
