"""W7 peers (CPU, 2 threads): one GLA layer and one DeltaNet layer of d_model 1024, 8 heads of
128 x 128, T = 8192, B = 1, Float32, on bench/workloads/w7_*.rnn's weights. The projections
run once over the whole sequence (GEMMs); the recurrence runs as flash-linear-attention's
pure-PyTorch reference functions (recurrent, and chunkwise where fla has one) and as a plain
torch loop. Prints one JSON line per result."""
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from timing import best, report

torch.set_num_threads(2)
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".data")
quick = "--quick" in sys.argv
T, H, dk = (512 if quick else 8192), 8, 128


def heads(t):
    return t.view(1, T, H, dk)


def loop(q, k, v, update):
    """A plain torch loop over time: S [H, dk, dv] per head, o_t = q_t S_t."""
    S = q.new_zeros(H, dk, dk)
    out = q.new_empty(T, H, dk)
    for t in range(T):
        S = update(S, t)
        out[t] = torch.einsum("hk,hkv->hv", q[0, t], S)
    return out


x = torch.randn(T, 1024)
with torch.inference_mode():
    from fla.ops.delta_rule.naive import delta_rule_chunkwise, delta_rule_recurrence
    from fla.ops.gla.naive import naive_recurrent_gla

    w = load_file(os.path.join(data, "w7_gla.safetensors"))

    def gla_projections():
        q, k, v = (heads(x @ w[n].T) for n in ("W_q", "W_k", "W_v"))
        return q, k, v, heads(F.logsigmoid(x @ w["W_g"].T) / 16)

    def gla(recurrence):
        def run():
            q, k, v, g = gla_projections()
            o = recurrence(q, k, v, g)
            return o.reshape(T, H * dk) @ w["W_o"].T
        return run

    fla_gla = gla(lambda q, k, v, g: naive_recurrent_gla(q, k, v, g)[0])
    alpha_of = lambda g: g.exp()
    torch_gla = gla(lambda q, k, v, g: loop(q * dk ** -0.5, k, v, lambda S, t: alpha_of(g[0, t])[..., None] * S + k[0, t, :, :, None] * v[0, t, :, None, :]))
    report("W7 GLA", "fla naive_recurrent_gla (torch)", T, best(fla_gla, repeats=1))
    report("W7 GLA", "torch loop", T, best(torch_gla, repeats=1))

    w = load_file(os.path.join(data, "w7_deltanet.safetensors"))

    def deltanet(recurrence):
        def run():
            q, k, v = (heads(x @ w[n].T) for n in ("W_q", "W_k", "W_v"))
            k = k / k.norm(dim=-1, keepdim=True)
            beta = torch.sigmoid(x @ w["W_b"].T).view(1, T, H)
            o = recurrence(q, k, v, beta)
            return o.reshape(T, H * dk) @ w["W_o"].T
        return run

    bhtd = lambda t: t.transpose(1, 2).contiguous()
    fla_delta = deltanet(lambda q, k, v, b: delta_rule_recurrence(bhtd(q), bhtd(k), bhtd(v), b.transpose(1, 2).contiguous())[0].transpose(1, 2))
    fla_delta_chunk = deltanet(lambda q, k, v, b: delta_rule_chunkwise(bhtd(q), bhtd(k), bhtd(v), b.transpose(1, 2).contiguous())[0].transpose(1, 2))

    def delta_update(q, k, v, beta):
        def update(S, t):
            kt = k[0, t]
            recalled = torch.einsum("hk,hkv->hv", kt, S)
            return S + kt[:, :, None] * (beta[0, t][:, None] * (v[0, t] - recalled))[:, None, :]
        return loop(q * dk ** -0.5, k, v, update)

    report("W7 DeltaNet", "fla delta_rule_recurrence (torch)", T, best(fla_delta, repeats=1))
    report("W7 DeltaNet", "fla delta_rule_chunkwise (torch)", T, best(fla_delta_chunk, repeats=1))
    report("W7 DeltaNet", "torch loop", T, best(deltanet(delta_update), repeats=1))
