"""Writes the benchmark weights shared by rnnc and the peers into bench/.data/."""
import os
import sys

import torch
from safetensors.torch import save_file

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".data")
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
d = 1024
save_file({"W_z": torch.randn(d, d) / d**0.5, "b_z": torch.zeros(d), "W_h": torch.randn(d, d) / d**0.5, "b_h": torch.zeros(d)},
          os.path.join(out, "w2_mingru.safetensors"))
save_file(dict(torch.nn.GRU(256, 256).state_dict()), os.path.join(out, "w3_gru.safetensors"))
save_file(dict(torch.nn.LSTM(256, 256).state_dict()), os.path.join(out, "w3_lstm.safetensors"))
