"""Turns bench/.data/results.jsonl into BENCHMARKS.md: tokens/s side by side, ratios
rnnc/peer measured in the same run, the issue's targets, and the machine's measured limits."""
import json
import os
import platform
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
# run.sh makes several interleaved passes over every implementation; each keeps its best
# (this machine is shared, and a slow phase should not decide a ratio).
machine = {}
bounds = {}  # the best (fastest) bound measured in any pass
for r in rows:
    if "bound" in r and r["tokens_per_s"] > bounds.get(r["bound"], {}).get("tokens_per_s", 0):
        bounds[r["bound"]] = r
for r in rows:
    if "machine" in r:
        machine[r["machine"]] = max(machine.get(r["machine"], r["value"]), r["value"])
passes = max(1, sum(1 for r in rows if r.get("machine") == "gemm_peak_GFLOPs"))
results = defaultdict(dict)
for r in rows:
    if "workload" in r:
        best = results[r["workload"]].get(r["impl"])
        if best is None or r["tokens_per_s"] > best["tokens_per_s"]:
            results[r["workload"]][r["impl"]] = r

# (workload, rnnc impl, peer impl, target ratio)
targets = [
    ("W1", "rnnc scan", "C loop -O3, 2 threads", 0.8),
    ("W1", "rnnc scan", "jax.lax.scan", 2.0),
    ("W1", "rnnc scan", "jax.lax.associative_scan", None),
    ("W2", "rnnc scan", "best peer", 1.1),
    ("W3 GRU B=1", "rnnc scan", "torch.nn.GRU", 1.5),
    ("W3 GRU B=8", "rnnc scan", "torch.nn.GRU", 1.0),
    ("W3 LSTM B=1", "rnnc scan", "torch.nn.LSTM", 1.5),
    ("W3 LSTM B=8", "rnnc scan", "torch.nn.LSTM", 1.0),
    # onnxruntime (issue #15): the best of torch and onnxruntime running torch's export.
    ("W3 GRU B=1", "rnnc scan", ["torch.nn.GRU", "onnxruntime (torch.onnx.export)"], 1.5),
    ("W3 GRU B=8", "rnnc scan", ["torch.nn.GRU", "onnxruntime (torch.onnx.export)"], 1.2),
    ("W3 LSTM B=1", "rnnc scan", ["torch.nn.LSTM", "onnxruntime (torch.onnx.export)"], 1.5),
    ("W3 LSTM B=8", "rnnc scan", ["torch.nn.LSTM", "onnxruntime (torch.onnx.export)"], 1.2),
    ("W3 GRU B=1", "rnnc scan", "onnxruntime (rnnc export)", None),
    ("W3 LSTM B=1", "rnnc scan", "onnxruntime (rnnc export)", None),
    ("W4", "rnnc step", "torch.nn.GRUCell loop", 20.0),
    ("W4", "rnnc step", "onnxruntime GRU step (torch.onnx.export)", 2.0),
    ("W4", "rnnc step", "onnxruntime GRU step (rnnc export)", None),
    ("W5", "rnnc step sparse", "rnnc step dense", 10.0),
    ("WA", "rnnc scan, A diagonalized", "rnnc scan, matrix recurrence", None),
    # W6 (issue #17): a Mamba LM of mamba-130m's shape, beside transformers and llama.cpp.
    ("W6 prefill", "rnnc", "transformers (CPU, slow path)", 2.0),
    ("W6 prefill", "rnnc", "llama.cpp (F32 GGUF)", 1.0),
    ("W6 decode", "rnnc", "transformers (CPU, slow path)", None),
    ("W6 decode", "rnnc", "llama.cpp (F32 GGUF)", 1.0),
    # W7 (issue #20): matrix states, the scan program's chunkwise form against the best peer
    # and against rnnc's own recurrent form.
    ("W7 GLA", "rnnc chunked scan", "best peer", 3.0),
    ("W7 GLA", "rnnc chunked scan", "rnnc step", 2.0),
    ("W7 DeltaNet", "rnnc chunked scan", "best peer", 3.0),
    ("W7 DeltaNet", "rnnc chunked scan", "rnnc step", 2.0),
]

out = ["# Benchmarks", "",
       "Written by `bash bench/run.sh` (do not edit by hand). Float32, CPU, 2 threads; tokens/s = batch x T / seconds,",
       f"best of several runs in each of {passes} interleaved passes over all implementations, compute only. "
       "Ratios compare rnnc with each peer **measured in the same run**.",
       f"Machine: {platform.machine()}, {platform.system()}; "
       f"float32 GEMM peak (torch, 2048^3, 2 threads): {machine.get('gemm_peak_GFLOPs', float('nan')):.0f} GFLOP/s; "
       f"STREAM triad (2 threads): {machine.get('stream_triad_GBps', float('nan')):.1f} GB/s.", "",
       "## Throughput", "", "| workload | implementation | tokens/s |", "|---|---|---|"]
for workload in sorted(results):
    for impl, r in sorted(results[workload].items(), key=lambda kv: -kv[1]["tokens_per_s"]):
        extra = f" ({r['us_per_token']:.1f} µs/token)" if "us_per_token" in r else ""
        out.append(f"| {workload} | {impl} | {r['tokens_per_s']:,.0f}{extra} |")

out += ["", "## Ratios and targets", "", "| workload | rnnc / peer | ratio | target | met |", "|---|---|---|---|---|"]
for workload, mine, peer, target in targets:
    group = results.get(workload, {})
    if mine not in group:
        continue
    if peer == "best peer" or isinstance(peer, list):
        peers = {k: v for k, v in group.items() if (not k.startswith("rnnc") if peer == "best peer" else k in peer)}
        if not peers:
            continue
        peer = max(peers, key=lambda k: peers[k]["tokens_per_s"])
    if peer not in group:
        continue
    ratio = group[mine]["tokens_per_s"] / group[peer]["tokens_per_s"]
    met = "—" if target is None else ("yes" if ratio >= target else "**no**")
    out.append(f"| {workload} | {mine} / {peer} | {ratio:.2f}x | {'' if target is None else f'{target}x'} | {met} |")

gemm = results.get("GEMM", {}).get("rnnc scan")
if gemm and "gemm_peak_GFLOPs" in machine:
    share = gemm["gflops"] / machine["gemm_peak_GFLOPs"]
    out.append(f"| GEMM 2048^3 | rnnc dense kernel / torch peak | {share:.0%} of peak ({gemm['gflops']:.0f} GFLOP/s) | 60% | {'yes' if share >= 0.6 else '**no**'} |")

for workload, bound in sorted(bounds.items()):
    # A recurrence's two products alone, on rnnc's kernel: the matrix-vector product of a
    # step from each core's L2 and the input product per token (bench/peers/w3_bound.c).
    mine = results.get(workload, {}).get("rnnc scan")
    if mine:
        out.append(f"| {workload} | rnnc scan / its two products alone ({bound['step_product_us']:.2f} us a step from L2, "
                   f"{bound['weight_GBps_per_core']:.0f} GB/s a core, + {bound['input_product_us_per_token']:.2f} us a token: "
                   f"{bound['tokens_per_s']:,.0f} tokens/s) | {mine['tokens_per_s'] / bound['tokens_per_s']:.2f}x | | — |")

for layer in ["W7 GLA", "W7 DeltaNet"]:
    chunked = results.get(layer, {}).get("rnnc chunked scan")
    if chunked and "gflops" in chunked and "gemm_peak_GFLOPs" in machine:
        # The chunked form's matrix products (projections and chunk products) against the peaks.
        rnnc_peak = gemm["gflops"] if gemm else float("nan")
        out.append(f"| {layer} | rnnc chunked scan: matrix-product work / measured GEMM peak | {chunked['gflops']:.0f} GFLOP/s: "
                   f"{chunked['gflops'] / machine['gemm_peak_GFLOPs']:.0%} of torch's, {chunked['gflops'] / rnnc_peak:.0%} of rnnc's kernel | | — |")

decode = results.get("W6 decode", {}).get("rnnc")
if decode and "stream_triad_GBps" in machine and "weight_bytes" in decode:
    # Decoding streams every weight once per token: the bandwidth bound in tokens/s.
    bound = machine["stream_triad_GBps"] * 1e9 / decode["weight_bytes"]
    share = decode["tokens_per_s"] / bound
    out.append(f"| W6 decode | rnnc / weight-streaming bound ({decode['weight_bytes'] / 1e6:.0f} MB a token at the STREAM triad rate: {bound:.1f} tokens/s) | {share:.2f}x | 0.8x | {'yes' if share >= 0.8 else '**no**'} |")

def lsrl_section(name, title, intro):
    """A section from a table bench/lsrl/ wrote, when it is there."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsrl", name)
    return ["", f"## {title}", "", *intro, "", open(path).read().rstrip()] if os.path.exists(path) else []


# Sizes, not speeds: LSRL's layer chains beside rnnc's (bash bench/lsrl/compare.sh writes them).
out += lsrl_section("widths.md", "Layer chains: rnnc and LSRL", [
    "LSRL's `ForEach.simplify()` and rnnc's `--target layers` (docs/layers.md) on LSRL's programs, built by LSRL from its own",
    "tests and notebook and by rnnc from examples/lsrl; widest = the widest vector between two layers; parameters as LSRL's",
    "`parameter_count` counts them: every entry of every matrix and bias, zeros included. rnnc's chains keep every answer",
    "exact where LSRL's fused constants reach 1e13 (docs/layers.md). Written by `bash bench/lsrl/compare.sh`."])

# Exact arithmetic: LSRL's sympy mode beside rnnc's --dtype exact (bash bench/lsrl/exact.sh writes them).
out += lsrl_section("exact.md", "Exact arithmetic: rnnc and LSRL", [
    "LSRL's symbolic mode (sympy matrices) and `rnnc run --dtype exact` (docs/exact.md) on LSRL's programs and the same inputs;",
    "LSRL's time is its ForEach over the sequence (the program built before); rnnc's is the whole process (start-up and compile",
    "included), and its run alone (less the same command on the first token only), best of 3. Outputs agree value by value",
    "(sympy's exact value against rnnc's fraction, or the Double its enclosure decides). The modulo counters' cosines are",
    "exact in a cyclotomic field (docs/exact.md), so the key -> value map's exact zeros are decided at 64 bits. The universal",
    "approximation program reads a query and a 16 x 16 table (257 tokens). There is no hardware bound to state: both are",
    "exact-arithmetic interpreters. Written by `bash bench/lsrl/exact.sh`."])

notes = open(sys.argv[2]).read() if len(sys.argv) > 2 else ""
print("\n".join(out) + "\n" + ("\n" + notes if notes else ""))
