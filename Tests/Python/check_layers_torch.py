"""Runs layer-chain PyTorch modules (rnnc export --format torch --target layers) on their
cases and compares them with rnnc's outputs.

    python3 Tests/Python/check_layers_torch.py DIR

DIR holds manifest.json: a list of cases, each with "module" (a .py file beside its weights
file), "class", "x" and "y" (.npy, [B, T, n] and [B, T, m]) and "tolerance". Each module
must load its weights file as its state_dict (the same names), and give y for x in float64;
in float32 too where the case says so. Prints one line per failure and a summary.
"""
import importlib.util
import json
import os
import sys

import numpy as np
import torch


def load(directory, case):
    spec = importlib.util.spec_from_file_location(case["class"], os.path.join(directory, case["module"]))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(directory):
    with open(os.path.join(directory, "manifest.json")) as f:
        cases = json.load(f)
    failures = 0
    for case in cases:
        module = load(directory, case)
        weights = module.read_safetensors(os.path.join(directory, case["weights"]))
        x = torch.from_numpy(np.load(os.path.join(directory, case["x"])))
        want = np.load(os.path.join(directory, case["y"]))
        for dtype, tolerance in [(torch.float64, case["tolerance"])] + ([(torch.float32, 1e-4)] if case.get("float32") else []):
            model = getattr(module, case["class"])(dtype=dtype)
            if set(model.state_dict()) != set(weights):
                print(f"FAIL {case['name']}: state_dict keys {sorted(model.state_dict())} are not the weights file's {sorted(weights)}")
                failures += 1
                break
            with torch.no_grad():
                got, _ = model(x.to(dtype))
            got = got.to(torch.float64).numpy()
            error = np.abs(got - want) / np.maximum(1, np.abs(want))
            if got.shape != want.shape or (error.size and error.max() > tolerance):
                worst = error.max() if got.shape == want.shape and error.size else "shape"
                print(f"FAIL {case['name']} [{dtype}]: largest relative error {worst} (tolerance {tolerance})")
                failures += 1
    print(f"{len(cases)} chain modules, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1])
