"""Writes the fixture of the matrix-state cells (stdlib/cells/linear_attention.rnn).

Run from the repository root:  python3 Tests/Fixtures/cells/make_matrix_state_fixtures.py
        or, to check the committed fixture against flash-linear-attention:  ... --check
Needs: torch, safetensors; fla-core and einops (pip install --no-deps fla-core einops) for
the fla references. The outputs are committed; CellFixtureTests reads them.

Two references, which must agree: each paper's recurrent form written here in torch, and
flash-linear-attention's own pure-PyTorch recurrent functions (naive_recurrent_simple_gla for
RetNet's constant decay, naive_recurrent_gla, delta_rule_recurrence,
naive_recurrent_gated_delta_rule), both in float64 (fla's functions cast to float32; that
cast is kept in float64 here). Layout as in fla: a state S: [dk, dv],
S_t = decay * S_{t-1} + k_t v_t^T, o_t = q_t S_t.
"""
import os
import sys

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


def fla_reference():
    """The same outputs from flash-linear-attention's naive recurrent functions, in float64."""
    original_float, original_to = torch.Tensor.float, torch.Tensor.to
    torch.Tensor.float = lambda self, *a, **k: self if self.dtype == torch.float64 else original_float(self, *a, **k)
    torch.Tensor.to = lambda self, *a, **k: self if (self.dtype == torch.float64 and (torch.float32 in a or k.get("dtype") is torch.float32)) else original_to(self, *a, **k)
    try:
        from fla.ops.delta_rule.naive import delta_rule_recurrence
        from fla.ops.gated_delta_rule.naive import naive_recurrent_gated_delta_rule
        from fla.ops.gla.naive import naive_recurrent_gla
        from fla.ops.simple_gla.naive import naive_recurrent_simple_gla

        raw_q = heads(x @ w["W_q"].T, dk)  # fla scales q by dk ** -0.5 itself
        log_gamma = torch.log(gamma)[None, None, :].expand(B, T, H).contiguous()
        flat = lambda o: o.reshape(B, T, H * dv)
        retention_fla = flat(naive_recurrent_simple_gla(raw_q, k, v, log_gamma)[0])
        gla_fla = flat(naive_recurrent_gla(raw_q, k, v, log_alpha)[0])
        bhtd = lambda t: t.transpose(1, 2).contiguous()
        delta_fla = flat(delta_rule_recurrence(bhtd(raw_q), bhtd(unit), bhtd(v), beta.transpose(1, 2).contiguous())[0].transpose(1, 2))
        gated_fla = flat(naive_recurrent_gated_delta_rule(raw_q, unit, v, beta, torch.log(decay))[0])
    finally:
        torch.Tensor.float, torch.Tensor.to = original_float, original_to
    per = [torch.cat([delta_fla[..., h * dv:(h + 1) * dv], gated_fla[..., h * dv:(h + 1) * dv]], -1) for h in range(H)]
    return torch.cat([retention_fla, gla_fla] + per, dim=-1)


def largest_relative_error(a, b):
    return float((a - b).abs().max() / b.abs().max())


name = "linear_attention_cells"
if "--check" in sys.argv:
    from safetensors.torch import load_file

    committed = load_file(os.path.join(here, f"{name}_io.safetensors"))["y"]
    error = largest_relative_error(committed, fla_reference())
    print(f"committed fixture against fla: {error:.2e}")
    sys.exit(0 if error <= 1e-12 else 1)
try:
    error = largest_relative_error(y, fla_reference())
    print(f"the papers' loops against fla: {error:.2e}")
    assert error <= 1e-12, "the two references disagree"
except ImportError:
    print("fla-core is not installed: the fixture is checked against the papers' loops only")
save_file({key: t.contiguous() for key, t in w.items()}, os.path.join(here, f"{name}.safetensors"))
save_file({"x": x.contiguous(), "y": y.contiguous()}, os.path.join(here, f"{name}_io.safetensors"))
