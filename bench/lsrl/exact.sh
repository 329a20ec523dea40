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
# The inputs both read: 1,000 random bits for more_ones, 200 tokens for the counter, and for
# the universal approximation program a query and a 16 x 16 table of f(x, y) = (x y, x - y)
# at the cells' centres (257 tokens; the example's 4 x 4 table is 17 tokens).
python3 -c "
import json, random
r = random.Random(7)
json.dump([[r.randint(0, 1)] for _ in range(1000)], open('bench/.data/exact/more_ones.json', 'w'))
json.dump([[1]] * 200, open('bench/.data/exact/modulo_counter.json', 'w'))
n = 16
cells = [[1 / n, i / n, j / n, (i + 0.5) * (j + 0.5) / n ** 2, (i - j) / n] for i in range(n) for j in range(n)]
json.dump([[0.61, 0.27, 0, 0, 0]] + cells, open('bench/.data/exact/universal_approximation.json', 'w'))"
LSRL_DIR="$lsrl" "$venv/bin/python" bench/lsrl/exact.py 2>/dev/null | grep '^{' > bench/.data/exact/lsrl.jsonl
python3 bench/lsrl/exact_table.py bench/.data/exact/lsrl.jsonl .build/release/rnnc > bench/lsrl/exact.md
echo "wrote bench/lsrl/exact.md"
