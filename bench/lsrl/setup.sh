# Sourced by bench/lsrl/compare.sh and exact.sh, from the repository root: sets $lsrl to a
# checkout of github.com/AleksandarPetrov/LSRL (LSRL_DIR, default bench/.data/LSRL; cloned
# there when missing: LSRL's code is never part of this repository) and $venv to a virtual
# environment with what LSRL needs, then builds rnnc in release.
lsrl=${LSRL_DIR:-bench/.data/LSRL}
if [ ! -d "$lsrl/lsrl" ]; then
    git clone --depth 1 https://github.com/AleksandarPetrov/LSRL "$lsrl" || { echo "put a checkout of LSRL in $lsrl (or set LSRL_DIR)"; exit 1; }
fi
venv=bench/.data/lsrl-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r bench/lsrl/requirements.txt
fi
swift build -c release --product rnnc
