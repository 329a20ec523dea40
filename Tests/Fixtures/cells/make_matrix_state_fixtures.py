"""Writes the fixture of the matrix-state cells (stdlib/cells/linear_attention.rnn).

Run from the repository root:  python3 Tests/Fixtures/cells/make_matrix_state_fixtures.py
Needs: torch, safetensors. The outputs are committed; CellFixtureTests reads them.

The reference is each paper's recurrent form written here in torch, float64, independently of
the stdlib (flash-linear-attention's naive recurrent functions compute the same; its package
needs triton, which does not install on every CPU machine). Layout as in fla: a state
S: [dk, dv], S_t = decay * S_{t-1} + k_t v_t^T, o_t = q_t S_t.
"""
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(1)
torch.set_default_dtype(torch.float64)
here = os.path.dirname(os.path.abspath(__file__))
B, T = 2, 7
d, H, dk, dv = 4, 2, 3, 2

w = {"W_q": torch.randn(H * dk, d), "W_k": torch.randn(H * dk, d), "W_v": torch.randn(H * dv, d),
     "W_g": torch.randn(H * dk, d), "b_g": torch.randn(H * dk), "W_b": torch.randn(H, d), "b_b": torch.randn(H),
     "W_a": torch.randn(H, d), "b_a": torch.randn(H)}
x = torch.randn(B, T, d)


def heads(t, width):
    """[B, T, H * width] -> [B, T, H, width]."""
    return t.reshape(B, T, H, width)


q = heads(x @ w["W_q"].T, dk) * dk ** -0.5
k = heads(x @ w["W_k"].T, dk)
v = heads(x @ w["W_v"].T, dv)
gamma = torch.tensor([1 - 2.0 ** (-5 - h) for h in range(H)])             # RetNet's decays
log_alpha = heads(F.logsigmoid(x @ w["W_g"].T + w["b_g"]) / 16, dk)       # GLA's gate, log space
beta = torch.sigmoid(x @ w["W_b"].T + w["b_b"])                            # [B, T, H]
decay = torch.exp(-F.softplus(x @ w["W_a"].T + w["b_a"]))                  # [B, T, H]
unit = k / k.norm(dim=-1, keepdim=True)                                    # DeltaNet's L2-normalised keys


def run(update, keys):
    """Runs S_t = update(S_{t-1}, t) per batch and head from S_0 = 0; returns o_t = q_t S_t, [B, T, H * dv]."""
    S = torch.zeros(B, H, dk, dv)
    out = []
    for t in range(T):
        S = update(S, t, keys[:, t])
        out.append(torch.einsum("bhk,bhkv->bhv", q[:, t], S).reshape(B, H * dv))
    return torch.stack(out, dim=1)


def outer(a, b):
    return a[..., :, None] * b[..., None, :]


retention = run(lambda S, t, kt: gamma[None, :, None, None] * S + outer(kt, v[:, t]), k)
gla = run(lambda S, t, kt: log_alpha[:, t].exp()[..., None] * S + outer(kt, v[:, t]), k)


def delta(S, t, kt, gated):
    a = decay[:, t][..., None, None] if gated else 1.0
    S = a * S
    old = torch.einsum("bhk,bhkv->bhv", kt, S)                          # what S recalls for k_t
    return S + outer(kt, beta[:, t][..., None] * (v[:, t] - old))


delta_rule = run(lambda S, t, kt: delta(S, t, kt, False), unit)
gated_delta = run(lambda S, t, kt: delta(S, t, kt, True), unit)
# The model's outputs: retention and gla over all heads, then per head the two delta rules.
per_head = [torch.cat([delta_rule[..., h * dv:(h + 1) * dv], gated_delta[..., h * dv:(h + 1) * dv]], -1) for h in range(H)]
y = torch.cat([retention, gla] + per_head, dim=-1)
name = "linear_attention_cells"
save_file({key: t.contiguous() for key, t in w.items()}, os.path.join(here, f"{name}.safetensors"))
save_file({"x": x.contiguous(), "y": y.contiguous()}, os.path.join(here, f"{name}_io.safetensors"))
