#!/usr/bin/env bash
# LSRL's layer chains of its own programs beside rnnc's (--emit layers): writes
# bench/lsrl/widths.md, which bench/report.py puts in BENCHMARKS.md. From the repository root:
#   bash bench/lsrl/compare.sh
# LSRL_DIR (default bench/.data/LSRL) is a checkout of github.com/AleksandarPetrov/LSRL; it is
# cloned there when missing (LSRL's code is never part of this repository).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lsrl/setup.sh
# LSRL's simplification of the key -> value map takes minutes per variant on two cores.
LSRL_DIR="$lsrl" "$venv/bin/python" bench/lsrl/layer_widths.py 2>/dev/null | grep '^{' > bench/.data/lsrl_widths.jsonl
python3 bench/lsrl/widths_table.py bench/.data/lsrl_widths.jsonl .build/release/rnnc > bench/lsrl/widths.md
echo "wrote bench/lsrl/widths.md"
