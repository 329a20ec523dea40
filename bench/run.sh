#!/usr/bin/env bash
# Runs every benchmark side by side and writes BENCHMARKS.md. From the repository root:
#   bash bench/run.sh            # full sizes (several minutes)
#   bash bench/run.sh --quick    # small sizes, to check the pipeline
# BENCH_PASSES=N sets the number of interleaved passes (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${1:-}
data=bench/.data
mkdir -p "$data"

python3 -c "import numpy, torch, jax, safetensors, onnx, onnxruntime, transformers, einops" 2>/dev/null || python3 -m pip install -q numpy torch jax safetensors onnx onnxruntime transformers einops
python3 -c "import fla" 2>/dev/null || python3 -m pip install -q --no-deps fla-core
command -v cc >/dev/null || { apt-get update -q && apt-get install -y -q gcc; }
# llama.cpp for W6, built from llama-cpp-python's source distribution (about 30 minutes on two
# cores the first time); its convert_hf_to_gguf.py, of the same version, makes the GGUF.
llama=llama_cpp_python-0.3.36
if ! python3 -c "import llama_cpp" 2>/dev/null || [ ! -d "$data/$llama" ]; then
    python3 -m pip install -q scikit-build-core cmake ninja
    python3 -m pip download -q --no-deps --no-binary llama-cpp-python --no-build-isolation "llama-cpp-python==0.3.36" -d "$data"
    tar -xzf "$data/$llama.tar.gz" -C "$data"
    CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF" python3 -m pip install -q --no-build-isolation "$data/$llama"
fi

python3 bench/peers/make_weights.py "$data"
# A fresh build: SwiftPM keeps a path dependency's file list in bench/.build and misses
# files added to the main package since (seen here: a new source file reported missing).
rm -rf bench/.build
(cd bench && swift build -c release)
cc -O3 -march=native -fopenmp bench/peers/c_scan.c -o "$data/c_scan"
# W3's bound: its two products alone on rnnc's dense kernel (the same source SwiftPM builds).
cc -O3 -march=native -fopenmp -I Sources/RNNKernels/include bench/peers/w3_bound.c \
    Sources/RNNKernels/gemm_avx512.c Sources/RNNKernels/kernels.c -o "$data/w3_bound" -lm
# rnnc's own ONNX exports of W3 and W4, for onnxruntime to run beside rnnc.
swift build -c release --product rnnc
for cell in gru lstm; do
    .build/release/rnnc export bench/workloads/w3_$cell.rnn --weights "$data/w3_$cell.safetensors" -o "$data/w3_${cell}_rnnc.onnx"
    .build/release/rnnc export bench/workloads/w3_$cell.rnn --weights "$data/w3_$cell.safetensors" --onnx-native-cells -o "$data/w3_${cell}_rnnc_native.onnx"
done
.build/release/rnnc export bench/workloads/w3_gru.rnn --weights "$data/w3_gru.safetensors" --form step -o "$data/w3_gru_rnnc_step.onnx"

results="$data/results.jsonl"
: > "$results"
# Two passes, each over every implementation; the report keeps each one's best, so a slow
# phase of this shared machine does not land on one side of a ratio only.
passes=${BENCH_PASSES:-2}
for pass in $(seq "$passes"); do
    echo "pass $pass of $passes"
    bench/.build/release/rnnc-bench --data "$data" $quick | tee -a "$results"
    "$data/c_scan" $quick | tee -a "$results"
    "$data/w3_bound" $quick | tee -a "$results"
    python3 bench/peers/jax_bench.py "$data" $quick | tee -a "$results"
    python3 bench/peers/torch_bench.py "$data" $quick | tee -a "$results"
    python3 bench/peers/ort_bench.py "$data" $quick | tee -a "$results"
    python3 bench/peers/w6_transformers.py "$data" $quick | tee -a "$results"
    python3 bench/peers/w6_llamacpp.py "$data" "$data/$llama/vendor/llama.cpp/convert_hf_to_gguf.py" $quick | tee -a "$results"
    python3 bench/peers/w7_torch.py "$data" $quick | tee -a "$results"
    python3 bench/peers/gemm_peak.py | tee -a "$results"
done

python3 bench/report.py "$results" bench/NOTES.md > BENCHMARKS.md.tmp
mv BENCHMARKS.md.tmp BENCHMARKS.md
echo "wrote BENCHMARKS.md"
