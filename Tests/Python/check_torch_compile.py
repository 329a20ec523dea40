"""Runs rnnc's PyTorch exports under torch.compile and compares them with eager mode.

    python3 Tests/Python/check_torch_compile.py DIR CLASS[,CLASS...]

DIR holds each class's module (CLASS.py, its weights beside it). For each, in Float64, a
batch of random sequences runs through `forward` and through `step` token by token, eagerly
and compiled with torch.compile (the default backend, inductor); the two agree within
1e-10. Prints one line per module; exits 1 on any disagreement or compile failure.
"""
import importlib.util
import os
import sys

import torch


def load(directory, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(directory, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)(dtype=torch.float64)


def largest_difference(a, b):
    return float((a.detach() - b.detach()).abs().max()) if a.numel() else 0.0


def main():
    directory, names = sys.argv[1], sys.argv[2].split(",")
    failed = False
    torch.manual_seed(0)
    for name in names:
        model = load(directory, name)
        x = torch.randn(2, 5, model.input_width, dtype=torch.float64)
        y, states = model(x)
        compiled_forward = torch.compile(model)
        y_compiled, states_compiled = compiled_forward(x)
        step = torch.compile(model.step)
        current = model.initial_state(x.shape[0])
        stepped = []
        for t in range(x.shape[1]):
            out, current = step(x[:, t], current)
            stepped.append(out)
        differences = [largest_difference(y, y_compiled), largest_difference(y, torch.stack(stepped, dim=1))]
        differences += [largest_difference(a, b) for a, b in zip(states, states_compiled)]
        worst = max(differences)
        ok = worst <= 1e-10
        failed |= not ok
        print(f"{name}: torch.compile forward and step {'agree' if ok else 'DISAGREE'} with eager mode (largest difference {worst:.3g})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
