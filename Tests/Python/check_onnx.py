"""Runs rnnc's ONNX exports in onnxruntime and compares them with rnnc's expected outputs.

    python3 Tests/Python/check_onnx.py DIR

DIR/manifest.json lists cases (written by ExportTests): each has ONNX models (step and
sequence forms, Float32 and Float64), a batch of inputs x [B, T, n], the state names, and
runs to check: from the default initial states and from given ones, each with the expected
outputs y [B, T, m] and final states per precision. The step form runs token by token, feeding its state
outputs back. An output agrees when |got - want| <= tolerance * max(1, |want|) (NaN where
the expectation is NaN). Prints one line per disagreement; exits 1 if there is any.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = {"float32": 1e-5, "float64": 1e-10}


def load(directory, name):
    return np.load(os.path.join(directory, name))


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3  # the state defaults are initializers that are also inputs
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def run_sequence(sess, x, states, initial):
    feeds = {"x": x}
    if initial is not None:
        feeds.update({name: value for name, value in zip(states, initial)})
    outputs = sess.run(None, feeds)
    return outputs[0], outputs[1:]


def run_step(sess, x, states, initial):
    batch, steps = x.shape[0], x.shape[1]
    current = None if initial is None else list(initial)
    ys = []
    for t in range(steps):
        feeds = {"x": np.ascontiguousarray(x[:, t, :])}
        if current is not None:
            feeds.update({name: value for name, value in zip(states, current)})
        outputs = sess.run(None, feeds)
        ys.append(outputs[0])
        current = outputs[1:]
    width = sess.get_outputs()[0].shape[-1]
    y = np.stack(ys, axis=1) if ys else np.zeros((batch, 0, width), dtype=x.dtype)
    return y, current


def disagreement(got, want, tolerance):
    """The worst relative error, or None when the shapes differ."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        return None
    both_nan = np.isnan(got) & np.isnan(want)
    error = np.abs(got - want) / np.maximum(1.0, np.abs(want))
    error = np.where(both_nan, 0.0, np.nan_to_num(error, nan=np.inf))
    return float(error.max()) if error.size else 0.0


def check_case(directory, case):
    failures = []
    x64 = load(directory, case["x"])
    for model in case["models"]:
        path = os.path.join(directory, model["file"])
        onnx.checker.check_model(onnx.load(path), full_check=True)
        sess = session(path)
        dtype = np.float32 if model["precision"] == "float32" else np.float64
        run = run_step if model["form"] == "step" else run_sequence
        for check in case["runs"]:
            initial = None
            if check["initial"] is not None:
                initial = [load(directory, f).astype(dtype) for f in check["initial"]]
            y, finals = run(sess, x64.astype(dtype), case["states"], initial)
            precision = model["precision"]
            wanted = [("y", y, load(directory, check["y." + precision]))]
            if finals is not None:  # (a step model run over no tokens returns no states)
                wanted += [(f"{n} final", got, load(directory, f))
                           for n, got, f in zip(case["states"], finals, check["finals." + precision])]
            for what, got, want in wanted:
                error = disagreement(got, want, TOLERANCE[model["precision"]])
                if error is None or error > TOLERANCE[model["precision"]]:
                    shape = np.asarray(got).shape
                    failures.append(f"{case['name']}: {model['file']} ({check['name']}): {what} "
                                    + (f"has shape {shape}, expected {want.shape}" if error is None else f"is off by {error:.3g}"))
    return failures


def main(directory):
    with open(os.path.join(directory, "manifest.json")) as f:
        cases = json.load(f)
    failures = []
    for case in cases:
        try:
            failures += check_case(directory, case)
        except Exception as error:  # a model onnxruntime or the checker refuses
            failures.append(f"{case['name']}: {type(error).__name__}: {str(error)[:400]}")
    for line in failures:
        print(line)
    models = sum(len(c["models"]) for c in cases)
    print(f"{len(cases)} cases, {models} ONNX models: {len(failures)} disagreements")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
