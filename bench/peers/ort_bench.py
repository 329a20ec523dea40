"""onnxruntime peers (CPU, 2 intra-op threads) on W3 and W4, with the same weights as
rnnc-bench: torch.onnx.export of nn.GRU / nn.LSTM / a GRU step, and rnnc's own ONNX exports
of the same workloads, plain and with ONNX's own cell ops (bench/run.sh writes them to DATA). Prints one JSON line per result.

    python3 bench/peers/ort_bench.py DATA [--quick]
"""
import io
import json
import os
import sys

import numpy as np
import onnxruntime as ort
import torch
from safetensors.torch import load_file
from timing import best

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".data")
quick = "--quick" in sys.argv
rng = np.random.default_rng(0)


def session(model):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def report(workload, impl, tokens, seconds, **extra):
    print(json.dumps({"workload": workload, "impl": impl, "tokens": tokens, "seconds": seconds,
                      "tokens_per_s": tokens / seconds, **extra}), flush=True)


def torch_onnx(module, inputs, names, dynamic):
    """The module as torch's TorchScript-based exporter writes it (opset 17)."""
    buffer = io.BytesIO()
    torch.onnx.export(module, inputs, buffer, dynamo=False, opset_version=17, input_names=names, dynamic_axes=dynamic)
    return buffer.getvalue()


# W3: whole sequences through one layer, B=1 and B=8.
T = 1024 if quick else 16384
for name, cls in [("GRU", torch.nn.GRU), ("LSTM", torch.nn.LSTM)]:
    layer = cls(256, 256)
    layer.load_state_dict(load_file(os.path.join(data, f"w3_{name.lower()}.safetensors")))
    exported = session(torch_onnx(layer, (torch.zeros(4, 2, 256),), ["x"], {"x": {0: "T", 1: "B"}}))
    ours = session(os.path.join(data, f"w3_{name.lower()}_rnnc.onnx"))
    native = session(os.path.join(data, f"w3_{name.lower()}_rnnc_native.onnx"))
    for B in [1, 8]:
        x = rng.standard_normal((T, B, 256), dtype=np.float32)
        batch_major = np.ascontiguousarray(x.transpose(1, 0, 2))
        report(f"W3 {name} B={B}", "onnxruntime (torch.onnx.export)", T * B, best(lambda: exported.run(None, {"x": x}), repeats=2))
        report(f"W3 {name} B={B}", "onnxruntime (rnnc export)", T * B, best(lambda: ours.run(None, {"x": batch_major}), repeats=2))
        report(f"W3 {name} B={B}", "onnxruntime (rnnc export, native cells)", T * B,
               best(lambda: native.run(None, {"x": batch_major}), repeats=2))


# W4: per-token latency of one GRU step, with every buffer allocated before the loop: the
# token and state inputs are bound once per step to preallocated OrtValues and the new state
# is written into the other of two state buffers.
class GRUStep(torch.nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x, h):
        return self.cell(x, h)


def step_latency(model, x_name, h_name, outputs, tokens):
    sess = session(model)
    xs = [ort.OrtValue.ortvalue_from_numpy(t) for t in tokens]
    h = [ort.OrtValue.ortvalue_from_numpy(np.zeros((1, 256), np.float32)) for _ in range(2)]
    others = {name: ort.OrtValue.ortvalue_from_numpy(np.zeros((1, 256), np.float32)) for name in outputs if name != outputs[-1]}
    binding = sess.io_binding()
    for name, value in others.items():
        binding.bind_ortvalue_output(name, value)

    def loop():
        for t in range(len(xs)):
            binding.bind_ortvalue_input(x_name, xs[t])
            binding.bind_ortvalue_input(h_name, h[t % 2])
            binding.bind_ortvalue_output(outputs[-1], h[(t + 1) % 2])
            sess.run_with_iobinding(binding)

    return best(loop)


state = load_file(os.path.join(data, "w3_gru.safetensors"))
cell = torch.nn.GRUCell(256, 256)
cell.load_state_dict({k.replace("_l0", ""): v for k, v in state.items()})
T = 200 if quick else 2000
tokens = [rng.standard_normal((1, 256), dtype=np.float32) for _ in range(T)]
exported = torch_onnx(GRUStep(cell), (torch.zeros(1, 256), torch.zeros(1, 256)), ["x", "h"], None)
seconds = step_latency(exported, "x", "h", [session(exported).get_outputs()[0].name], tokens)
report("W4", "onnxruntime GRU step (torch.onnx.export)", T, seconds, us_per_token=seconds / T * 1e6)
ours = os.path.join(data, "w3_gru_rnnc_step.onnx")
names = [o.name for o in session(ours).get_outputs()]  # y, then the state's next value
state_input = [i.name for i in session(ours).get_inputs() if i.name != "x"]
state_input = state_input[0] if state_input else session(ours).get_overridable_initializers()[0].name
seconds = step_latency(ours, "x", state_input, names, tokens)
report("W4", "onnxruntime GRU step (rnnc export)", T, seconds, us_per_token=seconds / T * 1e6)
