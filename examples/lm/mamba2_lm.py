"""The `transformers` Mamba2ForCausalLM that examples/lm/mamba2_lm.rnn describes, and its tiny
checkpoint.

    python3 examples/lm/mamba2_lm.py          # writes examples/lm/mamba2_lm.safetensors

A tiny configuration (4 heads of 8 channels in 2 groups, a state of 4 per channel), randomly
initialised by transformers' own code with a fixed seed (nothing is downloaded), saved in
float32 under the model's state_dict keys; the embedding and the head are tied, so the
checkpoint has no lm_head.weight.
"""
import os
import sys

import torch
from transformers import Mamba2Config, Mamba2ForCausalLM

CONFIG = dict(vocab_size=64, hidden_size=16, state_size=4, num_hidden_layers=2, expand=2, conv_kernel=4,
              num_heads=4, head_dim=8, n_groups=2, chunk_size=16, use_bias=False, use_conv_bias=True,
              layer_norm_epsilon=1e-5, tie_word_embeddings=True)


def make(seed=0):
    torch.manual_seed(seed)
    model = Mamba2ForCausalLM(Mamba2Config(**CONFIG))
    with torch.no_grad():  # wider than the default initialisation, so outputs vary with the input
        for name, p in model.named_parameters():
            if not name.endswith("A_log"):
                p.normal_(0, 0.3)
    return model.eval()


if __name__ == "__main__":
    from safetensors.torch import save_file

    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "mamba2_lm.safetensors")
    state = {k: v.contiguous() for k, v in make().state_dict().items() if k != "lm_head.weight"}
    save_file(state, out)
    print(f"wrote {out}")
