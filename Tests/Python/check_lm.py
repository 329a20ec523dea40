"""Reference runs of the language models in examples/lm, for LanguageModelTests.

    python3 Tests/Python/check_lm.py lstm_lm OUT.json

Builds the model with its own code and seed (examples/lm/<name>.py), checks that the committed
checkpoint is what that code makes, and writes, in float64: a seeded 64-token prompt, the
logits over it, the 64 ids greedy decoding makes after it (each fed back), and the states
after the prompt, named as rnnc names them.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples", "lm"))


def lstm_lm():
    import lstm_lm as example

    model = example.make().double().eval()
    saved = load_file(os.path.join(ROOT, "examples", "lm", "lstm_lm.safetensors"))
    for key, value in model.state_dict().items():
        assert torch.equal(saved[key].double(), value), f"{key}: the checkpoint is not what lstm_lm.py makes"
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


if __name__ == "__main__":
    name, out = sys.argv[1], sys.argv[2]
    with open(out, "w") as f:
        json.dump({"lstm_lm": lstm_lm}[name](), f)
