"""The `transformers` MambaForCausalLM that examples/lm/mamba_lm.rnn describes, and its tiny
checkpoint.

    python3 examples/lm/mamba_lm.py           # writes examples/lm/mamba_lm.safetensors

A tiny configuration, randomly initialised by transformers' own code with a fixed seed
(nothing is downloaded), saved in float32 under the model's state_dict keys; the embedding
and the head are tied, so the checkpoint has no lm_head.weight.
"""
import os
import sys

import torch
from transformers import MambaConfig, MambaForCausalLM

CONFIG = dict(vocab_size=64, hidden_size=16, state_size=4, num_hidden_layers=2, expand=2, conv_kernel=4,
              time_step_rank=2, use_bias=False, use_conv_bias=True, layer_norm_epsilon=1e-5, tie_word_embeddings=True)


def make(seed=0):
    torch.manual_seed(seed)
    model = MambaForCausalLM(MambaConfig(**CONFIG))
    with torch.no_grad():  # wider than the default initialisation, so outputs vary with the input
        for name, p in model.named_parameters():
            if not name.endswith("A_log"):
                p.normal_(0, 0.3)
    return model.eval()


if __name__ == "__main__":
    from safetensors.torch import save_file

    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "mamba_lm.safetensors")
    state = {k: v.contiguous() for k, v in make().state_dict().items() if k != "lm_head.weight"}
    save_file(state, out)
    print(f"wrote {out}")
