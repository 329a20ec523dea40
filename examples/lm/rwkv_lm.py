"""The `transformers` RwkvForCausalLM (RWKV-4) that examples/lm/rwkv_lm.rnn describes, and its
tiny checkpoint.

    python3 examples/lm/rwkv_lm.py            # writes examples/lm/rwkv_lm.safetensors

A tiny configuration, randomly initialised by transformers' own code with a fixed seed
(nothing is downloaded), saved in float32 under the model's state_dict keys. rescale_every=0:
inference-time rescaling (halving every few layers) is off, as it changes nothing for two
layers anyway.
"""
import os
import sys

import torch
from transformers import RwkvConfig, RwkvForCausalLM

CONFIG = dict(vocab_size=64, context_length=128, hidden_size=16, num_hidden_layers=2, attention_hidden_size=16,
              intermediate_size=64, layer_norm_epsilon=1e-5, rescale_every=0, tie_word_embeddings=False)


def make(seed=0):
    torch.manual_seed(seed)
    model = RwkvForCausalLM(RwkvConfig(**CONFIG))
    with torch.no_grad():  # wider than the default initialisation, so outputs vary with the input
        for name, p in model.named_parameters():
            if "time_mix" in name:
                p.uniform_(0, 1)
            elif not name.endswith(("time_decay", "time_first")):
                p.normal_(0, 0.3)
            else:
                p.normal_(0, 1)
    return model.eval()


if __name__ == "__main__":
    from safetensors.torch import save_file

    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "rwkv_lm.safetensors")
    save_file({k: v.contiguous() for k, v in make().state_dict().items()}, out)
    print(f"wrote {out}")
