"""W6 in llama.cpp (through llama-cpp-python): the same Mamba checkpoint as rnnc, as F32 GGUF.

    python3 bench/peers/w6_llamacpp.py DATA_DIR CONVERTER [--quick]

CONVERTER is llama.cpp's convert_hf_to_gguf.py (bench/run.sh takes it from the
llama-cpp-python source distribution it builds, so converter and engine are one version).
The checkpoint DATA_DIR/w6_mamba.safetensors (make_weights.py) gets a transformers-style
directory (config.json beside the weights) and is converted once with --outtype f32, so
both sides multiply the same Float32 weights. With no tokenizer files the converter uses
llama.cpp's bundled GPT-NeoX vocabulary, mamba-130m's own.

Prefill: one llama_decode of a 512-token prompt (n_batch 512, 2 threads). Decode: 128 greedy
tokens after a one-token prompt, one llama_decode each. Prints JSON lines.
"""
import os
import subprocess
import sys

import numpy as np
from llama_cpp import Llama
from timing import best, report

data, converter, quick = sys.argv[1], sys.argv[2], "--quick" in sys.argv
gguf = os.path.join(data, "w6_mamba_f32.gguf")
if not os.path.exists(gguf):
    from transformers import MambaConfig

    hf = os.path.join(data, "w6_hf")
    os.makedirs(hf, exist_ok=True)
    MambaConfig(vocab_size=50280, hidden_size=768, state_size=16, num_hidden_layers=24, expand=2, conv_kernel=4,
                time_step_rank=48, tie_word_embeddings=True, architectures=["MambaForCausalLM"]).save_pretrained(hf)
    weights = os.path.join(hf, "model.safetensors")
    if not os.path.exists(weights):
        os.symlink(os.path.abspath(os.path.join(data, "w6_mamba.safetensors")), weights)
    subprocess.run([sys.executable, converter, hf, "--outtype", "f32", "--outfile", gguf], check=True,
                   stdout=subprocess.DEVNULL)

prompt_length, new_tokens = (64, 16) if quick else (512, 128)
llm = Llama(model_path=gguf, n_ctx=1024, n_batch=prompt_length, n_ubatch=prompt_length, n_threads=2, n_threads_batch=2,
            verbose=False)
prompt = [(t * 7919) % 50280 for t in range(prompt_length)]


def prefill():
    llm.reset()
    llm.eval(prompt)


def decode():
    llm.reset()
    llm.eval(prompt[:1])
    for _ in range(new_tokens):
        llm.eval([int(np.argmax(llm.scores[llm.n_tokens - 1]))])


report("W6 prefill", "llama.cpp (F32 GGUF)", prompt_length, best(prefill, repeats=2))
report("W6 decode", "llama.cpp (F32 GGUF)", new_tokens, best(decode, repeats=2))
