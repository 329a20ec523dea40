#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a while (docs/testing.md). From anywhere:
#   bash Tests/Fuzz/run.sh              # 60 seconds per target (what CI runs)
#   bash Tests/Fuzz/run.sh 3600         # an hour per target
#   bash Tests/Fuzz/run.sh 600 source   # one target: source, artifact, input, plan or shape
# A crash leaves its input in Tests/Fuzz/crashes/ and makes this script fail.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
targets=${2:-"source artifact input plan shape"}
root=../..
work=.build/fuzz
mkdir -p "$work" crashes

swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
# The plain compiler makes the artifact seeds.
swift build --package-path "$root" --product rnnc
rnnc="$(swift build --package-path "$root" --show-bin-path)/rnnc"

# Seeds: every .rnn file, every spec's program, artifacts of the examples, and the
# project's input and weights files. The dictionary is the grammar's quoted terminals.
rm -rf "$work/seeds" && mkdir -p "$work/seeds"/{source,artifact,input,plan,shape}
# Plan mutations: a model number, then (field, action) byte pairs.
for m in 0 1 2 3 4 5 6 7 8; do printf "\\x0$m" > "$work/seeds/plan/model$m"; printf "\\x0$m\\x07\\x01\\x13\\x02" > "$work/seeds/plan/mutated$m"; done
# Shapes: a shape number, a size exponent and mantissa, then an optional `--set n=` value.
for shape in $(seq 0 10); do
    byte=$(printf '%02x' "$shape")
    printf "\\x$byte\\x04\\x00" > "$work/seeds/shape/small$shape"; printf "\\x$byte\\x0f\\x07" > "$work/seeds/shape/large$shape"
done
printf '\x06\x02\x00100000' > "$work/seeds/shape/set-eye"
find "$root"/{examples,stdlib,specs,bench/workloads,Tests/Fixtures} -name '*.rnn' -exec cp {} "$work/seeds/source/" \;
if command -v python3 >/dev/null; then
    python3 "$root/specs/tools/extract_programs.py" "$root"/specs/*.yaml "$work/seeds/source"
else
    echo "python3 not found: the specs' programs are not among the seeds"
fi
for f in "$root"/examples/*.rnn; do
    name=$(basename "$f" .rnn)
    weights=()
    [ -f "${f%.rnn}.safetensors" ] && weights=(--weights "${f%.rnn}.safetensors")
    "$rnnc" compile "$f" "${weights[@]}" -o "$work/seeds/artifact/$name.rnnc" || true
done
cp "$root"/examples/*.json "$root"/examples/*.safetensors "$root"/Tests/Fixtures/*.npy "$root"/Tests/Fixtures/*.safetensors "$work/seeds/input/"
printf '1,2,3\n4,5,6\n\n7,8,9\n' > "$work/seeds/input/batch.csv"
grep -o '"[^"]*"' "$root/grammar/rnn.ebnf" | sort -u > "$work/rnn.dict"

# -detect_leaks=0: LeakSanitizer reports arrays held by IR nodes as leaked, most likely
# because Swift packs enum tags into pointer bits it does not recognize; 24,000 compiles of
# 80 seed programs in one process keep a flat RSS (docs/testing.md).
# The same at exit: LeakSanitizer's final check would report a target's global seed models.
export ASAN_OPTIONS=detect_leaks=0
status=0
for target in $targets; do
    mkdir -p "$work/corpus/$target"
    dict=()
    [ "$target" = source ] && dict=(-dict="$work/rnn.dict")
    # ASan makes legitimate work about ten times slower: a 4097 x 4097 model (2.7 s in a
    # release build) or 65,000 chained states (1.5 s) pass 20 s under the source and shape
    # targets' full checks. 60 s still catches a hang.
    timeout=20
    case "$target" in source|shape) timeout=60 ;; esac
    echo "== fuzz-$target for ${seconds}s"
    .build/release/fuzz-$target "${dict[@]}" -max_total_time="$seconds" -max_len=1048576 -timeout=$timeout -rss_limit_mb=6144 -detect_leaks=0 \
        -print_final_stats=1 -artifact_prefix="crashes/$target-" "$work/corpus/$target" "$work/seeds/$target" \
        > "$work/$target.log" 2>&1 || { status=1; tail -60 "$work/$target.log"; }
    grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$work/$target.log" || true
done
exit $status
