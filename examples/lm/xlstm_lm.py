"""The `transformers` xLSTMForCausalLM that examples/lm/xlstm_lm.rnn describes, and its tiny
checkpoint.

    python3 examples/lm/xlstm_lm.py           # writes examples/lm/xlstm_lm.safetensors

A tiny configuration (2 blocks of 4 heads, each a 16 x 16 matrix memory; transformers rounds
the q/k and v widths up to multiples of 64, so d = 64), randomly initialised by transformers'
own code with a fixed seed (nothing is downloaded), saved in float32 under the model's
state_dict keys. The kernels run in float32 (the default autocasts them to bfloat16).
"""
import os
import sys

import torch
from transformers import xLSTMConfig, xLSTMForCausalLM

CONFIG = dict(vocab_size=64, hidden_size=64, num_heads=4, num_hidden_layers=2, qk_dim_factor=1.0, v_dim_factor=1.0,
              chunk_size=16, tie_word_embeddings=False, use_bias=False, autocast_kernel_dtype="float32")


def make(seed=0):
    torch.manual_seed(seed)
    model = xLSTMForCausalLM(xLSTMConfig(**CONFIG))
    with torch.no_grad():  # wider than the default initialisation, so outputs vary with the input
        for name, p in model.named_parameters():
            p.normal_(0, 0.3)
    return model.eval()


if __name__ == "__main__":
    from safetensors.torch import save_file

    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "xlstm_lm.safetensors")
    save_file({k: v.contiguous() for k, v in make().state_dict().items()}, out)
    print(f"wrote {out}")
