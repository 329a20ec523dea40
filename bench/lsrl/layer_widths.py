"""LSRL's own layer chains of its programs: builds each with LSRL (its API, or its tests'
own setUp for the two universal-approximation programs), runs LSRL's ForEach.simplify(),
and prints one JSON line per program with the chain's layer count, widest layer and
parameter count, for bench/lsrl/compare.sh to set beside rnnc's --emit layers.

    LSRL_DIR=bench/.data/LSRL python bench/lsrl/layer_widths.py [PROGRAM...]

LSRL is not part of rnnc: bench/lsrl/README.md says how to fetch it.
"""
import json
import os
import sys
import tempfile
import time

LSRL_DIR = os.path.abspath(os.environ.get("LSRL_DIR", "bench/.data/LSRL"))
sys.path.insert(0, LSRL_DIR)

import lsrl  # noqa: E402
from lsrl.matrix_tools import Matrix, MatrixMode, matrix_mode  # noqa: E402


def chain_shape(loop):
    """Layers, the widest layer output and the parameters of a simplified ForEach."""
    layers = [n for n in loop.topological_sort() if not isinstance(n, lsrl.Input)]
    return {"layers": len(layers), "widest": max(n.dim for n in loop.topological_sort()), "parameters": int(loop.parameter_count)}


def more_ones():
    x = lsrl.Input(dim=1)
    ones = lsrl.LinState(x, A=Matrix.ones(1, 1), B=Matrix.ones(1, 1), init_state=Matrix.zeros(1, 1), name="ones")
    zeros = lsrl.LinState(lsrl.f_not(x), A=Matrix.ones(1, 1), B=Matrix.ones(1, 1), init_state=Matrix.zeros(1, 1), name="zeros")
    return lsrl.ForEach(lsrl.f_larger(ones, zeros))


def modulo_counter(divisor=5):
    x = lsrl.Input(dim=1)
    return lsrl.ForEach(lsrl.f_modulo_counter(x, divisor))


def from_test(module_name, class_name, conditional_mode, attribute, mode=MatrixMode.NUMERIC):
    """The model a test of LSRL's builds in its setUp (run in a scratch folder: it saves files)."""
    sys.path.insert(0, os.path.join(LSRL_DIR, "tests"))
    module = __import__(module_name)
    cls = getattr(module, class_name)
    test = cls.__new__(cls)
    test.mode, test.conditional_mode, test.make_plots, test.no_save = mode, conditional_mode, False, True
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            test.setUp()
        finally:
            os.chdir(cwd)
            test._mode_manager.__exit__(None, None, None)
    return getattr(test, attribute)


PROGRAMS = {
    "more_ones": lambda: more_ones(),
    "modulo_counter": lambda: modulo_counter(5),
    # The tests' setUp builds the program; the key -> value map's simplification is the
    # comparison the paper's chain widths come from.
    **{f"key_value {m}": (lambda m=m: lsrl.ForEach(from_test("test_ua_tok2tok", "TestUATok2TokBuldingSteps", m, "output")))
       for m in ["optimized", "direct", "multiplicative"]},
    **{f"universal_approximation {m}": (lambda m=m: from_test("test_ua_vec2vec", "TestUAVec2Vec", m, "loop"))
       for m in ["optimized", "direct", "multiplicative"]},
}


def main(names):
    for name in names or PROGRAMS:
        with matrix_mode(MatrixMode.NUMERIC):
            loop = PROGRAMS[name]()
            start = time.perf_counter()
            loop.simplify()
            seconds = time.perf_counter() - start
            print(json.dumps({"program": name, **chain_shape(loop), "simplify_seconds": round(seconds, 2)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
