"""The PyTorch module examples/lm/lstm_lm.rnn describes, and its tiny checkpoint.

    python3 examples/lm/lstm_lm.py            # writes examples/lm/lstm_lm.safetensors

Randomly initialised with a fixed seed (nothing is downloaded); saved in float32 under the
module's own state_dict keys, which the .rnn file binds as they are.
"""
import os
import sys

import torch
from torch import nn


class LSTMLM(nn.Module):
    def __init__(self, vocabulary=64, width=32, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, width)
        self.lstm = nn.LSTM(width, width, num_layers=layers, batch_first=True)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, ids, state=None):
        """ids [B, T] -> logits [B, T, V] and the LSTM's (h_n, c_n)."""
        hidden, state = self.lstm(self.embedding(ids), state)
        return self.head(hidden), state


def make(seed=0):
    """The tiny model, its weights drawn from N(0, 0.5^2) (wider than PyTorch's default
    initialisation, so greedy decoding does not settle on one id and tests see varied ids)."""
    torch.manual_seed(seed)
    model = LSTMLM()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
    return model


if __name__ == "__main__":
    from safetensors.torch import save_file

    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "lstm_lm.safetensors")
    save_file({k: v.contiguous() for k, v in make().state_dict().items()}, out)
    print(f"wrote {out}")
