#!/usr/bin/env bash
# LSRL's exact (sympy) mode beside `rnnc run --dtype exact` on LSRL's programs and the same
# inputs: writes bench/lsrl/exact.md, which bench/report.py puts in BENCHMARKS.md. From the
# repository root:
#   bash bench/lsrl/exact.sh
# LSRL comes from LSRL_DIR (default bench/.data/LSRL), as for bench/lsrl/compare.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lsrl/setup.sh
mkdir -p bench/.data/exact
# The inputs both read: 1,000 random bits for more_ones, 200 tokens for the counter.
python3 -c "
import json, random
r = random.Random(7)
json.dump([[r.randint(0, 1)] for _ in range(1000)], open('bench/.data/exact/more_ones.json', 'w'))
json.dump([[1]] * 200, open('bench/.data/exact/modulo_counter.json', 'w'))"
LSRL_DIR="$lsrl" "$venv/bin/python" bench/lsrl/exact.py 2>/dev/null | grep '^{' > bench/.data/exact/lsrl.jsonl
python3 bench/lsrl/exact_table.py bench/.data/exact/lsrl.jsonl .build/release/rnnc > bench/lsrl/exact.md
echo "wrote bench/lsrl/exact.md"
