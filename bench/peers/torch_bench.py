"""PyTorch peers (CPU, 2 threads) on the same workloads and weights as rnnc-bench.
Prints one JSON line per result."""
import json
import os
import sys

import torch
from safetensors.torch import load_file
from timing import best

torch.set_num_threads(2)
torch.manual_seed(0)
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".data")
quick = "--quick" in sys.argv


def report(workload, impl, tokens, seconds, **extra):
    print(json.dumps({"workload": workload, "impl": impl, "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds, **extra}), flush=True)


with torch.inference_mode():
    # W2: minGRU, sequential loop and the log-space parallel form (cumsum / logcumsumexp).
    w = load_file(os.path.join(data, "w2_mingru.safetensors"))
    T, d = (512 if quick else 4096), 1024
    x = torch.randn(T, d)

    def mingru_loop():
        z = torch.sigmoid(x @ w["W_z"].T + w["b_z"])
        cand = x @ w["W_h"].T + w["b_h"]
        h = torch.zeros(d)
        out = torch.empty(T, d)
        for t in range(T):
            h = (1 - z[t]) * h + z[t] * cand[t]
            out[t] = h
        return out

    def mingru_parallel():
        # h_t = a_t h_{t-1} + b_t with a = 1 - z, b = z * cand, in log space (Feng et al. 2024, appendix).
        k = x @ w["W_z"].T + w["b_z"]
        cand = x @ w["W_h"].T + w["b_h"]
        log_a = -torch.nn.functional.softplus(k)
        log_z = -torch.nn.functional.softplus(-k)
        a_star = torch.cumsum(log_a, dim=0)
        # log of b requires positive values: split cand by sign.
        pos = torch.logcumsumexp(log_z + torch.log(cand.clamp(min=1e-30)) - a_star, dim=0)
        neg = torch.logcumsumexp(log_z + torch.log((-cand).clamp(min=1e-30)) - a_star, dim=0)
        return torch.exp(a_star + pos) - torch.exp(a_star + neg)

    report("W2", "torch sequential loop", T, best(mingru_loop))
    report("W2", "torch log-space parallel", T, best(mingru_parallel))

    # W3: nn.GRU and nn.LSTM, B=1 and B=8.
    T = 1024 if quick else 16384
    for name, cls in [("GRU", torch.nn.GRU), ("LSTM", torch.nn.LSTM)]:
        layer = cls(256, 256)
        layer.load_state_dict(load_file(os.path.join(data, f"w3_{name.lower()}.safetensors")))
        for B in [1, 8]:
            inp = torch.randn(T, B, 256)
            report(f"W3 {name} B={B}", f"torch.nn.{name}", T * B, best(lambda: layer(inp), repeats=2))

    # W4: per-token latency of a GRUCell loop with the same weights.
    state = load_file(os.path.join(data, "w3_gru.safetensors"))
    cell = torch.nn.GRUCell(256, 256)
    cell.load_state_dict({k.replace("_l0", ""): v for k, v in state.items()})
    T = 200 if quick else 2000
    tokens = torch.randn(T, 1, 256)

    def cell_loop():
        h = torch.zeros(1, 256)
        for t in range(T):
            h = cell(tokens[t], h)

    seconds = best(cell_loop)
    report("W4", "torch.nn.GRUCell loop", T, seconds, us_per_token=seconds / T * 1e6)
