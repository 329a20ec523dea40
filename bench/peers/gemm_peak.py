"""The machine's float32 GEMM peak with torch (2 threads), 2048 x 2048. Prints a JSON line."""
import json
import time

import torch

torch.set_num_threads(2)
n = 2048
a, b = torch.randn(n, n), torch.randn(n, n)
a @ b
best = min((lambda t0: (a @ b, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
print(json.dumps({"machine": "gemm_peak_GFLOPs", "value": 2 * n**3 / best / 1e9}))
