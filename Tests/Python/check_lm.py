"""Reference runs of the language models in examples/lm, for LanguageModelTests.

    python3 Tests/Python/check_lm.py lstm_lm OUT.json

Builds the model with its own code and seed (examples/lm/<name>.py), checks that the committed
checkpoint is what that code makes, and writes, in float64: a seeded 64-token prompt, the
logits over it, the 64 ids greedy decoding makes after it (each fed back), and the states
after the prompt, named as rnnc names them.
"""
import importlib
import json
import os
import sys

import torch
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples", "lm"))


def checked_model(name, example, skip=()):
    """The example's model in float64, after checking the committed checkpoint is what the
    example's own code makes (keys in `skip`, tied weights, are not saved)."""
    model = example.make().double().eval()
    saved = load_file(os.path.join(ROOT, "examples", "lm", f"{name}.safetensors"))
    for key, value in model.state_dict().items():
        if key not in skip:
            assert torch.equal(saved[key].double(), value), f"{key}: the checkpoint is not what {name}.py makes"
    return model


def lstm_lm():
    import lstm_lm as example

    model = checked_model("lstm_lm", example)
    vocabulary = model.head.out_features
    prompt = torch.randint(0, vocabulary, (1, 64), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits, state = model(prompt)
        greedy, step_logits, step_state = [], logits[0, -1], state
        for _ in range(64):
            next_id = int(torch.argmax(step_logits))
            greedy.append(next_id)
            out, step_state = model(torch.tensor([[next_id]]), step_state)
            step_logits = out[0, -1]
    h_n, c_n = state
    states = {}
    for layer in range(h_n.shape[0]):
        states[f"lstm#{layer + 1}.h"] = h_n[layer, 0].tolist()
        states[f"lstm#{layer + 1}.c"] = c_n[layer, 0].tolist()
    return {"prompt": prompt[0].tolist(), "logits": logits[0].tolist(), "greedy": greedy, "states": states}


def float64_throughout():
    """Makes `.float()` and `.to(torch.float32)` leave float64 tensors as they are.

    transformers' Mamba casts parts of its computation to float32 whatever the model's dtype
    (A_log.float(), its RMSNorm's .to(torch.float32)), and RWKV keeps its state in float32
    buffers; a float64 reference needs them kept in float64. Without this the Mamba reference
    agrees with rnnc's Float64 run to 2e-7; with it, to 4e-16.
    """
    original_float, original_to = torch.Tensor.float, torch.Tensor.to

    def keep_float(self, *args, **kwargs):
        return self if self.dtype == torch.float64 else original_float(self, *args, **kwargs)

    def keep_to(self, *args, **kwargs):
        if self.dtype == torch.float64:
            args = tuple(torch.float64 if a is torch.float32 else a for a in args)
            if kwargs.get("dtype") is torch.float32:
                kwargs["dtype"] = torch.float64
        return original_to(self, *args, **kwargs)

    torch.Tensor.float, torch.Tensor.to = keep_float, keep_to

    # RWKV keeps its recurrent state in buffers made as float32 zeros.
    def float64_buffers(make):
        def made(*args, **kwargs):
            if kwargs.get("dtype") is torch.float32:
                kwargs["dtype"] = torch.float64
            return make(*args, **kwargs)
        return made

    torch.zeros, torch.zeros_like = float64_buffers(torch.zeros), float64_buffers(torch.zeros_like)


def transformers_run(model):
    """A seeded 64-token prompt, the model's output over it (with its cache: the states), and
    the 64 ids transformers' greedy generate makes after it."""
    prompt = torch.randint(0, model.config.vocab_size, (1, 64), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(prompt, use_cache=True)
        generated = model.generate(prompt, max_new_tokens=64, do_sample=False)
    return prompt, out, generated[0, 64:].tolist()


def transformers_reference(name, states_of, skip=()):
    """examples/lm/<name>.py's transformers model run in float64 (transformers_run), with the
    states after the prompt as `states_of(model, out)` names them for rnnc."""
    example = importlib.import_module(name)
    float64_throughout()
    model = checked_model(name, example, skip=skip)
    prompt, out, greedy = transformers_run(model)
    return {"prompt": prompt[0].tolist(), "logits": out.logits[0].tolist(), "greedy": greedy, "states": states_of(model, out)}


def mamba_states(model, out):
    states = {}
    for layer in range(model.config.num_hidden_layers):
        conv = out.cache.get_conv_state(layer)[0]  # [E, k], the newest input last
        states[f"mamba_mixer#{layer + 1}.causal_conv1d#1.window"] = conv[:, 1:].T.flatten().tolist()
        states[f"mamba_mixer#{layer + 1}.selective_scan#1.h"] = out.cache.get_recurrent_state(layer)[0].flatten().tolist()
    return states


def mamba2_states(model, out):
    states = {}
    for layer in range(model.config.num_hidden_layers):
        conv = out.cache.get_conv_state(layer)[0]  # [C, k], the newest input last
        states[f"mamba2_mixer#{layer + 1}.causal_conv1d#1.window"] = conv[:, 1:].T.flatten().tolist()
        ssm = out.cache.get_recurrent_state(layer)[0]  # [H, P, N]
        for head in range(ssm.shape[0]):
            states[f"mamba2_mixer#{layer + 1}.ssd_head#{head + 1}.S"] = ssm[head].flatten().tolist()
    return states


def xlstm_states(model, out):
    states = {}
    for layer in range(model.config.num_hidden_layers):
        C, n, m = (s[0] for s in out.cache.rnn_state[layer])  # [H, dk, dv], [H, dk], [H, 1]
        for head in range(C.shape[0]):
            name = f"mlstm_layer#{layer + 1}.mlstm#{head + 1}"
            states[f"{name}.C"] = C[head].flatten().tolist()
            states[f"{name}.n"] = n[head].tolist()
            states[f"{name}.m"] = m[head].tolist()
    return states


def rwkv_states(model, out):
    # transformers' state: [feed-forward shift, attention shift, num, den, max], each [B, n, L].
    shift_ffn, shift_att, num, den, top = (s[0] for s in out.state)
    states = {}
    for layer in range(model.config.num_hidden_layers):
        time_mix = channel_mix = layer + 1  # each function counts its own calls
        states[f"rwkv4_time_mix#{time_mix}.token_shift#1.last"] = shift_att[:, layer].tolist()
        states[f"rwkv4_time_mix#{time_mix}.num"] = num[:, layer].tolist()
        states[f"rwkv4_time_mix#{time_mix}.den"] = den[:, layer].tolist()
        states[f"rwkv4_time_mix#{time_mix}.top"] = top[:, layer].tolist()
        states[f"rwkv4_channel_mix#{channel_mix}.token_shift#1.last"] = shift_ffn[:, layer].tolist()
    return states


REFERENCES = {
    "lstm_lm": lstm_lm,
    "mamba_lm": lambda: transformers_reference("mamba_lm", mamba_states, skip=("lm_head.weight",)),  # head tied to the embedding
    "mamba2_lm": lambda: transformers_reference("mamba2_lm", mamba2_states, skip=("lm_head.weight",)),
    "rwkv_lm": lambda: transformers_reference("rwkv_lm", rwkv_states),
    "xlstm_lm": lambda: transformers_reference("xlstm_lm", xlstm_states),
}


if __name__ == "__main__":
    name, out = sys.argv[1], sys.argv[2]
    with open(out, "w") as f:
        json.dump(REFERENCES[name](), f)
