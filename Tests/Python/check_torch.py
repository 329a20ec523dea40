"""Runs rnnc's PyTorch exports and compares them with rnnc's reference interpreter.

    python3 Tests/Python/check_torch.py DIR

DIR/manifest.json lists cases (written by ExportTests): each has an exported module (a
Python file and its safetensors beside it), its class name, a batch of inputs x [B, T, n],
and runs from the initial states and from given ones with the interpreter's outputs and
final states. Each module runs in Float64 (within 1e-10 of the interpreter) and, for models
meant to run in Float32 (weights from a file; random programs), in Float32 (within 1e-4;
see docs/export.md), through forward and token by token through step; cases
marked "script" also run under torch.jit.script. Cases marked "tune" take one SGD step on a
loss and write the tuned params with save_weights and the tuned module's outputs, for the
Swift test to run through rnnc --weights. An output agrees when
|got - want| <= tolerance * max(1, |want|). Prints one line per disagreement; exits 1 if any.
"""
import importlib.util
import json
import os
import sys

import numpy as np
import torch

TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-4}


def load_module(path, class_name):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, class_name)


def error(got, want):
    got = got.detach().to(torch.float64).numpy()
    if got.shape != want.shape:
        return None
    both_nan = np.isnan(got) & np.isnan(want)
    e = np.abs(got - want) / np.maximum(1.0, np.abs(want))
    e = np.where(both_nan, 0.0, np.nan_to_num(e, nan=np.inf))
    return float(e.max()) if e.size else 0.0


def stepwise(model, x, state):
    current = model.initial_state(x.shape[0]) if state is None else state
    ys = []
    for t in range(x.shape[1]):
        y, current = model.step(x[:, t], current)
        ys.append(y)
    y = torch.stack(ys, dim=1) if ys else x.new_zeros(x.shape[0], 0, model.output_width)
    return y, current


def check_case(directory, case):
    failures = []
    Model = load_module(os.path.join(directory, case["module"]), case["class"])
    x64 = torch.from_numpy(np.load(os.path.join(directory, case["x"])))
    for dtype in (torch.float64, torch.float32) if case["float32"] else (torch.float64,):
        model = Model(dtype=dtype)
        runners = [("forward", lambda x, s: model(x, s)), ("step", lambda x, s: stepwise(model, x, s))]
        if case.get("script") and dtype == torch.float64:
            scripted = torch.jit.script(model)
            runners.append(("script", lambda x, s: scripted(x, s)))
        for run in case["runs"]:
            for how, runner in runners:
                state = None
                if run["initial"] is not None:
                    state = [torch.from_numpy(np.load(os.path.join(directory, f))).to(dtype) for f in run["initial"]]
                y, finals = runner(x64.to(dtype), state)
                wanted = [("y", y, np.load(os.path.join(directory, run["y"])))]
                wanted += [(f"state {k} final", got, np.load(os.path.join(directory, f))) for k, (got, f) in enumerate(zip(finals, run["finals"]))]
                for what, got, want in wanted:
                    e = error(got, want)
                    if e is None or e > TOLERANCE[dtype]:
                        failures.append(f"{case['name']}: {dtype} {how} ({run['name']}): {what} "
                                        + (f"has shape {tuple(got.shape)}, expected {want.shape}" if e is None else f"is off by {e:.3g}"))
    if case.get("tune"):
        failures += tune(directory, case, Model, x64)
    return failures


def tune(directory, case, Model, x):
    """One SGD step on the outputs' squared sum; the tuned params and outputs are written."""
    model = Model(dtype=torch.float64)
    y, _ = model(x)
    (y ** 2).sum().backward()
    params = dict(model.named_parameters())
    if not params:
        return [f"{case['name']}: no parameters to tune"]
    if any(p.grad is None for p in params.values()):
        return [f"{case['name']}: no gradient reaches {[n for n, p in params.items() if p.grad is None]}"]
    with torch.no_grad():
        for p in params.values():
            p -= 0.05 * p.grad
    model.save_weights(os.path.join(directory, case["tune"]["weights"]))
    tuned, _ = model(x)
    np.save(os.path.join(directory, case["tune"]["y"]), tuned.detach().numpy())
    return []


def main(directory):
    with open(os.path.join(directory, "manifest.json")) as f:
        cases = json.load(f)
    failures = []
    for case in cases:
        try:
            failures += check_case(directory, case)
        except Exception as e:
            failures.append(f"{case['name']}: {type(e).__name__}: {str(e)[:600]}")
    for line in failures:
        print(line)
    print(f"{len(cases)} modules: {len(failures)} disagreements")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
