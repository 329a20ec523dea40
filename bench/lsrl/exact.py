"""LSRL's exact (symbolic, sympy) mode on its own programs, timed, for bench/lsrl/exact.sh to
set beside `rnnc run --dtype exact` on the same inputs. Prints one JSON line per program: the
token count, the seconds LSRL's ForEach took to run the sequence (the program built before),
and each output as a string (sympy's exact value).

    LSRL_DIR=bench/.data/LSRL python bench/lsrl/exact.py [PROGRAM...]

LSRL is not part of rnnc: bench/lsrl/README.md says how to fetch it.
"""
import json
import os
import sys
import time

LSRL_DIR = os.path.abspath(os.environ.get("LSRL_DIR", "bench/.data/LSRL"))
sys.path.insert(0, LSRL_DIR)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lsrl  # noqa: E402
import sympy  # noqa: E402
from lsrl.matrix_tools import Matrix, MatrixMode, matrix_mode  # noqa: E402
from layer_widths import from_test, more_ones, modulo_counter  # noqa: E402

# Each program with the input it reads (a JSON list of tokens, made by bench/lsrl/exact.sh).
PROGRAMS = {
    "more_ones": (more_ones, "bench/.data/exact/more_ones.json"),
    "modulo_counter": (lambda: modulo_counter(5), "bench/.data/exact/modulo_counter.json"),
    "key_value optimized": (lambda: lsrl.ForEach(from_test("test_ua_tok2tok", "TestUATok2TokBuldingSteps", "optimized", "output",
                                                           MatrixMode.SYMBOLIC)),
                            "examples/lsrl/key_value.json"),
    **{f"universal_approximation {m}": ((lambda m=m: from_test("test_ua_vec2vec", "TestUAVec2Vec", m, "loop", MatrixMode.SYMBOLIC)),
                                        "bench/.data/exact/universal_approximation.json")
       for m in ["optimized", "direct", "multiplicative"]},
    **{f"key_value {m}": ((lambda m=m: lsrl.ForEach(from_test("test_ua_tok2tok", "TestUATok2TokBuldingSteps", m, "output",
                                                               MatrixMode.SYMBOLIC))),
                          "examples/lsrl/key_value.json")
       for m in ["direct", "multiplicative"]},
}


def tokens(path):
    data = json.load(open(path))
    return [t if isinstance(t, list) else [t] for t in data]


def main(names):
    for name in names or PROGRAMS:
        build, path = PROGRAMS[name]
        sequence = tokens(path)
        with matrix_mode(MatrixMode.SYMBOLIC):
            loop = build()
            x = Matrix(sympy.Matrix([[sympy.Rational(str(v)) for v in token] for token in sequence]).T)
            start = time.perf_counter()
            out = loop(x)
            seconds = time.perf_counter() - start
        values = [[str(sympy.nsimplify(out.matrix[i, t])) for i in range(out.matrix.rows)] for t in range(out.matrix.cols)]
        print(json.dumps({"program": name, "input": path, "tokens": len(sequence), "seconds": round(seconds, 3), "outputs": values}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
