"""Writes the cell fixtures: weights, inputs and reference outputs, in float64.

Run from the repository root:  python3 Tests/Fixtures/cells/make_cell_fixtures.py
Needs: torch, safetensors, numpy. The outputs are committed; the Swift tests read them.

For each fixture NAME it writes
  NAME.safetensors     the weights (for nn.RNN/GRU/LSTM: the module's state_dict as saved)
  NAME_io.safetensors  x: [B, T, n] inputs and y: [B, T, m] reference outputs
The reference outputs come from torch.nn modules, or from the papers' equations written
below independently of rnnc's stdlib (complex arithmetic for LRU, a matrix exponential for
the zero-order hold of S4D, Mamba's reference selective-scan loop for S6).
"""
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
here = os.path.dirname(os.path.abspath(__file__))
B, T = 2, 7


def save(name, weights, x, y):
    save_file({k: v.detach().contiguous() for k, v in weights.items()}, os.path.join(here, f"{name}.safetensors"))
    save_file({"x": x.contiguous(), "y": y.detach().contiguous()}, os.path.join(here, f"{name}_io.safetensors"))


def torch_module(name, module, n):
    module = module.double()
    x = torch.randn(B, T, n)
    y = module(x)[0]
    save(name, module.state_dict(), x, y)


# PyTorch's recurrent layers, 1 and 2 layers; weights as nn.Module.state_dict() saves them.
torch_module("rnn_tanh_1", torch.nn.RNN(3, 4, num_layers=1, batch_first=True), 3)
torch_module("rnn_relu_2", torch.nn.RNN(3, 4, num_layers=2, nonlinearity="relu", batch_first=True), 3)
torch_module("gru_1", torch.nn.GRU(3, 4, num_layers=1, batch_first=True), 3)
torch_module("gru_2", torch.nn.GRU(3, 4, num_layers=2, batch_first=True), 3)
torch_module("lstm_1", torch.nn.LSTM(3, 4, num_layers=1, batch_first=True), 3)
torch_module("lstm_2", torch.nn.LSTM(3, 4, num_layers=2, batch_first=True), 3)


def scan(step, h0, x):
    """Runs step(h, x_t) -> (h, y_t) over the time axis of x: [B, T, n]."""
    ys, h = [], h0
    for t in range(x.shape[1]):
        h, y = step(h, x[:, t])
        ys.append(y)
    return torch.stack(ys, dim=1)


# minGRU and minLSTM (Feng et al. 2024), sequential forms.
n, d = 3, 4
w = {"W_z": torch.randn(d, n), "b_z": torch.randn(d), "W_h": torch.randn(d, n), "b_h": torch.randn(d)}
x = torch.randn(B, T, n)
def mingru_step(h, xt):
    z = torch.sigmoid(xt @ w["W_z"].T + w["b_z"])
    h = (1 - z) * h + z * (xt @ w["W_h"].T + w["b_h"])
    return h, h
save("mingru", w, x, scan(mingru_step, torch.zeros(B, d), x))

w = {k: torch.randn(d, n) if k.startswith("W") else torch.randn(d) for k in ["W_f", "b_f", "W_i", "b_i", "W_h", "b_h"]}
def minlstm_step(h, xt):
    f = torch.sigmoid(xt @ w["W_f"].T + w["b_f"])
    i = torch.sigmoid(xt @ w["W_i"].T + w["b_i"])
    h = f / (f + i) * h + i / (f + i) * (xt @ w["W_h"].T + w["b_h"])
    return h, h
save("minlstm", w, x, scan(minlstm_step, torch.zeros(B, d), x))

# LRU (Orvieto et al. 2023) with complex arithmetic and the paper's initialization.
n, d, m = 3, 4, 2
r_min, r_max = 0.4, 0.9
u1, u2 = torch.rand(d), torch.rand(d)
nu_log = torch.log(-0.5 * torch.log(u1 * (r_max**2 - r_min**2) + r_min**2))
theta_log = torch.log(u2 * math.pi * 2)
lam = torch.exp(-torch.exp(nu_log) + 1j * torch.exp(theta_log))
gamma_log = torch.log(torch.sqrt(1 - torch.abs(lam) ** 2))
w = {"nu_log": nu_log, "theta_log": theta_log, "gamma_log": gamma_log,
     "B_re": torch.randn(d, n) / math.sqrt(2 * n), "B_im": torch.randn(d, n) / math.sqrt(2 * n),
     "C_re": torch.randn(m, d) / math.sqrt(d), "C_im": torch.randn(m, d) / math.sqrt(d), "D": torch.randn(m, n)}
Bc = (w["B_re"] + 1j * w["B_im"]) * torch.exp(gamma_log)[:, None]
Cc = w["C_re"] + 1j * w["C_im"]
def lru_step(h, xt):
    h = lam * h + xt.to(torch.complex128) @ Bc.T
    return h, (h @ Cc.T).real + xt @ w["D"].T
save("lru", w, x, scan(lru_step, torch.zeros(B, d, dtype=torch.complex128), x))

# S4D-Real with a zero-order hold computed by matrix exponentials of [[a, b], [0, 0]] dt.
H, N = 3, 2
w = {"A_log": torch.log(0.5 * torch.ones(H, N) + torch.rand(H, N)), "B": torch.randn(H, N),
     "C": torch.randn(H, N), "D": torch.randn(H), "log_dt": torch.log(0.01 + 0.1 * torch.rand(H))}
A = -torch.exp(w["A_log"])
dt = torch.exp(w["log_dt"])
A_bar, B_bar = torch.empty(H, N), torch.empty(H, N)
for k in range(H):
    for j in range(N):
        block = torch.linalg.matrix_exp(torch.tensor([[A[k, j], w["B"][k, j]], [0.0, 0.0]]) * dt[k])
        A_bar[k, j], B_bar[k, j] = block[0, 0], block[0, 1]
x = torch.randn(B, T, H)
def s4d_step(h, ut):
    h = A_bar * h + B_bar * ut[:, :, None]
    return h, (h * w["C"]).sum(-1) + w["D"] * ut
save("s4d", w, x, scan(s4d_step, torch.zeros(B, H, N), x))

# S6 (Mamba), following the reference selective scan (selective_scan_ref).
Dm, N = 3, 2
w = {"W_dt": torch.randn(Dm, Dm) * 0.5, "b_dt": torch.randn(Dm), "W_B": torch.randn(N, Dm),
     "W_C": torch.randn(N, Dm), "A_log": torch.log(torch.arange(1, N + 1).repeat(Dm, 1).double()), "D_skip": torch.randn(Dm)}
x = torch.randn(B, T, Dm)
delta = F.softplus(x @ w["W_dt"].T + w["b_dt"]).transpose(1, 2)   # b d l
Bs, Cs = (x @ w["W_B"].T).transpose(1, 2), (x @ w["W_C"].T).transpose(1, 2)   # b n l
u = x.transpose(1, 2)
A = -torch.exp(w["A_log"])
deltaA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
deltaB_u = torch.einsum("bdl,bnl,bdl->bdln", delta, Bs, u)
state, ys = torch.zeros(B, Dm, N), []
for i in range(T):
    state = deltaA[:, :, i] * state + deltaB_u[:, :, i]
    ys.append(torch.einsum("bdn,bn->bd", state, Cs[:, :, i]))
y = torch.stack(ys, dim=2) + u * w["D_skip"][None, :, None]
save("s6", w, x, y.transpose(1, 2))

# RG-LRU (De et al. 2024), c = 8.
d = 4
w = {"W_a": torch.randn(d, d) * 0.5, "b_a": torch.randn(d), "W_x": torch.randn(d, d) * 0.5, "b_x": torch.randn(d),
     "Lambda": torch.randn(d) + 2}
x = torch.randn(B, T, d)
def rglru_step(h, xt):
    r = torch.sigmoid(xt @ w["W_a"].T + w["b_a"])
    i = torch.sigmoid(xt @ w["W_x"].T + w["b_x"])
    a = torch.sigmoid(w["Lambda"]) ** (8 * r)
    h = a * h + torch.sqrt(1 - a**2) * (i * xt)
    return h, h
save("rglru", w, x, scan(rglru_step, torch.zeros(B, d), x))

# Norms against torch.nn.functional.
d = 5
w = {"g": torch.randn(d), "b": torch.randn(d)}
x = torch.randn(B, T, d) * 3 + 1
y = torch.cat([F.layer_norm(x, (d,), w["g"], w["b"], eps=1e-5), F.rms_norm(x, (d,), w["g"], eps=1e-5)], dim=-1)
save("norms", w, x, y)


# ---- Examples with weights: examples/NAME.{safetensors,json,expected} ----------------------
examples = os.path.join(here, "..", "..", "..", "examples")


def write_example(name, weights, x, y):
    """One sequence: inputs as JSON, torch's outputs as text (one token per line)."""
    save_file({k: v.detach().contiguous() for k, v in weights.items()}, os.path.join(examples, f"{name}.safetensors"))
    with open(os.path.join(examples, f"{name}.json"), "w") as f:
        f.write("[\n" + ",\n".join("  [" + ", ".join(repr(float(v)) for v in row) + "]" for row in x) + "\n]\n")
    with open(os.path.join(examples, f"{name}.expected"), "w") as f:
        f.write("".join(" ".join(repr(float(v)) for v in row) + "\n" for row in y.detach()))


# A 2-layer nn.GRU, loaded from its state_dict as saved.
torch.manual_seed(1)
gru = torch.nn.GRU(3, 4, num_layers=2, batch_first=True).double()
x = torch.randn(1, 6, 3)
write_example("gru2", gru.state_dict(), x[0], gru(x)[0][0])


# A small Mamba-style block: RMSNorm, an input projection to a value and a gate, the S6 scan,
# a SiLU gate, an output projection, and a residual connection. Dotted module names in the
# state_dict map to params with '.' replaced by '_'.
class S6(torch.nn.Module):
    def __init__(self, D, N):
        super().__init__()
        self.W_dt = torch.nn.Parameter(torch.randn(D, D) * 0.5)
        self.b_dt = torch.nn.Parameter(torch.randn(D))
        self.W_B = torch.nn.Parameter(torch.randn(N, D))
        self.W_C = torch.nn.Parameter(torch.randn(N, D))
        self.A_log = torch.nn.Parameter(torch.log(torch.arange(1, N + 1).repeat(D, 1).double()))
        self.D_skip = torch.nn.Parameter(torch.ones(D))

    def forward(self, x):  # x: [T, D]
        h, ys = torch.zeros(self.A_log.shape), []
        A = -torch.exp(self.A_log)
        for xt in x:
            delta = F.softplus(self.W_dt @ xt + self.b_dt)
            h = torch.exp(delta[:, None] * A) * h + (delta * xt)[:, None] * (self.W_B @ xt)[None, :]
            ys.append(h @ (self.W_C @ xt) + self.D_skip * xt)
        return torch.stack(ys)


class MambaBlock(torch.nn.Module):
    def __init__(self, n, D, N):
        super().__init__()
        self.norm = torch.nn.RMSNorm(n, eps=1e-5)
        self.norm.weight.data = torch.rand(n) + 0.5
        self.in_proj = torch.nn.Linear(n, 2 * D, bias=False)
        self.mixer = S6(D, N)
        self.out_proj = torch.nn.Linear(D, n, bias=False)

    def forward(self, x):
        value, gate = self.in_proj(self.norm(x)).chunk(2, dim=-1)
        return x + self.out_proj(self.mixer(value) * F.silu(gate))


block = MambaBlock(4, 3, 2).double()
x = torch.randn(6, 4)
write_example("mamba_block", block.state_dict(), x, block(x))
