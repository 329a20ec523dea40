"""Writes specs/stdlib_logic.yaml: every stdlib/logic.rnn function on a grid of inputs,
with expected outputs from LSRL's formulas (lsrl/sugar_blocks.py) computed here in Python,
independently of rnnc. Run from the repository root: python3 specs/tools/generate_logic_specs.py"""
import math
import os

SCALE, LARGE = 1000.0, 1e10


def relu(x): return max(0.0, x)
def step(x, s=SCALE): return relu(s * x) - s * relu(x - 1 / s)
def bump(x, lb, ub): return step(x - lb) - step(x - ub)
def eq(x, y): return step(-1 * (step(x - y) + step(y - x) - 1))
def neq(x, y): return step(step(x - y) + step(y - x))
def lnot(x): return 1 - x
def land(x, y): return relu(step(x) + step(y) - 1)
def lor(x, y): return step(x + y)
def larger(x, y): return step(x - y)
def smaller(x, y): return step(y - x)
def ifelse(c, t, f): return relu(c * -LARGE + f) + relu(lnot(c) * -LARGE + t) - relu(c * -LARGE - f) - relu(lnot(c) * -LARGE - t)
def ifelse_step(c, t, f):
    return (relu(-LARGE + LARGE * step(0.5 - c) + f) - relu(-LARGE + LARGE * step(0.5 - c) - f)
            + relu(-LARGE + LARGE * step(c - 0.5) + t) - relu(-LARGE + LARGE * step(c - 0.5) - t))
def ifelse_mul(c, t, f): return c * t + lnot(c) * f

grid = [-2, -0.5, -0.001, 0, 0.0004, 0.001, 0.25, 0.5, 1, 1.5, 3]
pairs = [(a, b) for a in [-1, 0, 0.0005, 0.5, 1, 2] for b in [-1, 0, 0.5, 1, 2]]
bits = [(a, b) for a in [0, 1] for b in [0, 1]]

cases = [
    ("step", "step(x)", [[x] for x in grid], lambda t: step(t[0])),
    ("step with scale 10", "step(x, 10)", [[x] for x in grid], lambda t: step(t[0], 10)),
    ("bump between -1 and 1", "bump(x, -1, 1)", [[x] for x in grid], lambda t: bump(t[0], -1, 1)),
    ("not", "not(x)", [[x] for x in [0, 1, 0.5]], lambda t: lnot(t[0])),
    ("constant", "constant(7) + 0 * x", [[x] for x in [0, 1]], lambda t: 7),
    ("eq", "eq(x[0], x[1])", [list(p) for p in pairs], lambda t: eq(*t)),
    ("neq", "neq(x[0], x[1])", [list(p) for p in pairs], lambda t: neq(*t)),
    ("larger", "larger(x[0], x[1])", [list(p) for p in pairs], lambda t: larger(*t)),
    ("smaller", "smaller(x[0], x[1])", [list(p) for p in pairs], lambda t: smaller(*t)),
    ("and on bits", "and(x[0], x[1])", [list(p) for p in bits], lambda t: land(*t)),
    ("or on bits", "or(x[0], x[1])", [list(p) for p in bits], lambda t: lor(*t)),
    ("and on a grid", "and(x[0], x[1])", [list(p) for p in pairs], lambda t: land(*t)),
    ("or on a grid", "or(x[0], x[1])", [list(p) for p in pairs], lambda t: lor(*t)),
    ("ifelse", "ifelse(x[0], x[1], -3)", [[c, v] for c in [0, 1] for v in [-2, 0, 5.25]], lambda t: ifelse(t[0], t[1], -3)),
    ("ifeq", "ifeq(x[0], 1, x[1], -3)", [[c, v] for c in [0, 1, 2] for v in [-2, 5.25]], lambda t: ifelse(eq(t[0], 1), t[1], -3)),
    ("ifelse_step", "ifelse_step(x[0], x[1], 4)", [[c, v] for c in [0, 0.2, 0.8, 1] for v in [-2, 5.25]], lambda t: ifelse_step(t[0], t[1], 4)),
    ("ifelse_mul", "ifelse_mul(x[0], x[1], 4)", [[c, v] for c in [0, 1, 0.5] for v in [-2, 5.25]], lambda t: ifelse_mul(t[0], t[1], 4)),
]

def number(v):
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))

out = ["# Written by specs/tools/generate_logic_specs.py from LSRL's formulas; do not edit.", "specs:"]
for name, expr, tokens, f in cases:
    width = len(tokens[0])
    out.append(f"  - name: logic {name}")
    out.append(f"    program: |\n      use logic\n      model M {{\n        input x: [{width}]\n        output {expr}\n      }}")
    out.append("    inputs: [" + ", ".join("[" + ", ".join(number(v) for v in t) + "]" for t in tokens) + "]")
    out.append("    expect:")
    out.append("      outputs: [" + ", ".join("[" + number(f(t)) + "]" for t in tokens) + "]")
    out.append("      tolerance: 1e-9")

# The modulo counter: the position modulo each divisor.
for divisor in [2, 3, 5, 7, 12, 30]:
    steps = 2 * divisor + 3
    out.append(f"  - name: logic modulo_counter({divisor})")
    out.append(f"    program: |\n      use logic\n      model M {{\n        input x: [1]\n        output modulo_counter({divisor})\n      }}")
    out.append("    inputs: [" + ", ".join("0" for _ in range(steps)) + "]")
    out.append("    expect:")
    out.append("      outputs: [" + ", ".join(f"[{t % divisor}]" for t in range(steps)) + "]")
    out.append("      tolerance: 1e-6")

with open(os.path.join(os.path.dirname(__file__), "..", "stdlib_logic.yaml"), "w") as fh:
    fh.write("\n".join(out) + "\n")
