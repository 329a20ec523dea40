#!/usr/bin/env bash
# The shape fuzzer's large sizes (docs/testing.md): every shape of fuzz-shape at every power
# of two from 1 to 2^20, in a release build without AddressSanitizer (`-D SHAPE_SWEEP`), each
# with the fuzzer's checks (a located error or a model that compiles and runs), a time limit
# and a memory limit. CI runs it; from anywhere:
#   bash Tests/Fuzz/sweep.sh
set -euo pipefail
cd "$(dirname "$0")"
[[ -x /usr/bin/time ]] || { apt-get update -q && apt-get install -y -q time; } > /dev/null
scratch=.build/sweep
swift build -c release --scratch-path "$scratch" --product fuzz-shape \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DSHAPE_SWEEP
# An input is a shape number, a size exponent and a fraction (fuzz-shape's main.swift);
# numbers past the last shape are skipped there, so new shapes join the sweep by themselves.
inputs=$scratch/inputs
rm -rf "$inputs" && mkdir -p "$inputs" crashes
for shape in $(seq 0 15); do
    for exponent in $(seq 0 20); do
        printf "$(printf '\\x%02x\\x%02x\\x00' "$shape" "$exponent")" > "$inputs/$(printf "shape%02d-size2^%02d" "$shape" "$exponent")"
    done
done
# Limits: the slowest case took 35 s and the largest 5.5 GB on the 2-core machine of
# 2026-12-03 (2^20 chained states; a 4096 x 4096 matrix state).
seconds=180 megabytes=10240
failures=0
for input in "$inputs"/*; do
    name=$(basename "$input")
    if /usr/bin/time -f "%e %M" -o "$scratch/usage" timeout "$seconds" \
        "$scratch/release/fuzz-shape" -rss_limit_mb=$megabytes -timeout=$seconds \
        -artifact_prefix="crashes/sweep-$name-" "$input" > "$scratch/log" 2>&1; then
        read -r wall kilobytes < <(tail -1 "$scratch/usage")
        if (( ${wall%.*} >= 1 )); then echo "ok   $name: $wall s, $((kilobytes / 1024)) MB"; fi
    else
        echo "FAIL $name (exit status $?, limits $seconds s and $megabytes MB)"
        tail -20 "$scratch/log"
        failures=$((failures + 1))
    fi
done
if [[ $failures -gt 0 ]]; then echo "$failures sweep case(s) failed"; exit 1; fi
echo "shape sweep: all $(ls "$inputs" | wc -l) cases passed (those of a second or more are listed)"
