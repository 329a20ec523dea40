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

# W6: a Mamba language model of mamba-130m's shape, randomly initialised by transformers' own
# code (nothing is downloaded); the head is tied to the embedding, so it is not saved.
w6 = os.path.join(out, "w6_mamba.safetensors")
if not os.path.exists(w6):
    from transformers import MambaConfig, MambaForCausalLM

    torch.manual_seed(0)
    config = MambaConfig(vocab_size=50280, hidden_size=768, state_size=16, num_hidden_layers=24, expand=2, conv_kernel=4,
                         time_step_rank=48, tie_word_embeddings=True)
    state = MambaForCausalLM(config).state_dict()
    save_file({k: v.contiguous() for k, v in state.items() if k != "lm_head.weight"}, w6)

# W7: one gated-linear-attention layer and one DeltaNet layer of d_model 1024 with 8 heads of
# 128 x 128 (bench/workloads/w7_*.rnn), projections scaled by 1/sqrt(d).
torch.manual_seed(7)
d, heads, dk = 1024, 8, 128
projection = lambda rows: torch.randn(rows, d) / d**0.5
w7 = {"W_q": projection(heads * dk), "W_k": projection(heads * dk), "W_v": projection(heads * dk), "W_o": torch.randn(d, heads * dk) / d**0.5}
save_file(dict(w7, W_g=projection(heads * dk)), os.path.join(out, "w7_gla.safetensors"))
save_file(dict(w7, W_b=projection(heads)), os.path.join(out, "w7_deltanet.safetensors"))
