"""W6 in transformers: MambaForCausalLM of mamba-130m's shape on CPU, 2 threads, float32.

    python3 bench/peers/w6_transformers.py DATA_DIR [--quick]

Prefill: one forward pass over a 512-token prompt. Decode: greedy generate of 128 new tokens
after a one-token prompt (with transformers' cache), so the time is the step-by-step path.
Same weights as rnnc (DATA_DIR/w6_mamba.safetensors, from make_weights.py). Prints JSON lines.
"""
import sys

from timing import best, report
import torch
from safetensors.torch import load_file
from transformers import MambaConfig, MambaForCausalLM
from transformers.utils import logging

logging.set_verbosity_error()  # the missing CUDA kernels' fallback notice
data, quick = sys.argv[1], "--quick" in sys.argv
torch.set_num_threads(2)
config = MambaConfig(vocab_size=50280, hidden_size=768, state_size=16, num_hidden_layers=24, expand=2, conv_kernel=4,
                     time_step_rank=48, tie_word_embeddings=True)
model = MambaForCausalLM(config).eval()
model.load_state_dict(load_file(f"{data}/w6_mamba.safetensors"), strict=False)
model.tie_weights()
prompt_length, new_tokens = (64, 16) if quick else (512, 128)
prompt = torch.randint(0, config.vocab_size, (1, prompt_length), generator=torch.Generator().manual_seed(0))


with torch.no_grad():
    report("W6 prefill", "transformers (CPU, slow path)", prompt_length, best(lambda: model(prompt, use_cache=False), repeats=2))
    one = prompt[:, :1]
    decode = lambda: model.generate(one, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
    report("W6 decode", "transformers (CPU, slow path)", new_tokens, best(decode, repeats=2))
