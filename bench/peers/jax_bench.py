"""JAX peers (CPU, jit) for the diagonal scan (W1) and minGRU (W2). Prints JSON lines."""
import json
import os
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2")
import jax
import jax.numpy as jnp
from safetensors.numpy import load_file

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".data")
quick = "--quick" in sys.argv


def best(fn, repeats=3):
    jax.block_until_ready(fn())  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def report(workload, impl, tokens, seconds):
    print(json.dumps({"workload": workload, "impl": impl, "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}), flush=True)


key = jax.random.PRNGKey(0)
T, d = (4096 if quick else 65536), 1024
a = jax.random.uniform(key, (T, d), minval=0.5, maxval=1.0)
b = jax.random.normal(key, (T, d))


@jax.jit
def scan_seq(a, b):
    def step(h, ab):
        h = ab[0] * h + ab[1]
        return h, h
    return jax.lax.scan(step, jnp.zeros(d), (a, b))[1]


@jax.jit
def scan_assoc(a, b):
    def combine(x, y):
        return (x[0] * y[0], y[0] * x[1] + y[1])
    return jax.lax.associative_scan(combine, (a, b))[1]


report("W1", "jax.lax.scan", T, best(lambda: scan_seq(a, b)))
report("W1", "jax.lax.associative_scan", T, best(lambda: scan_assoc(a, b)))

w = load_file(os.path.join(data, "w2_mingru.safetensors"))
T = 512 if quick else 4096
x = jax.random.normal(key, (T, 1024))


@jax.jit
def mingru(x):
    z = jax.nn.sigmoid(x @ w["W_z"].T + w["b_z"])
    cand = x @ w["W_h"].T + w["b_h"]

    def step(h, zc):
        h = (1 - zc[0]) * h + zc[0] * zc[1]
        return h, h
    return jax.lax.scan(step, jnp.zeros(1024), (z, cand))[1]


report("W2", "jax.lax.scan", T, best(lambda: mingru(x)))
