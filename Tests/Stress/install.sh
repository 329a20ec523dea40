#!/usr/bin/env bash
# The README's install steps, then rnnc run from an unrelated folder through PATH, with an
# environment that names nothing of the checkout: the installed standard library must be
# the one found (a function only the installed copy defines proves it). Needs a release
# build (.build/release/rnnc).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
install -D "$root/.build/release/rnnc" "$prefix/bin/rnnc"
mkdir -p "$prefix/share/rnnc" && cp -R "$root/stdlib" "$prefix/share/rnnc/"
printf '\n# Only in the installed copy.\nfn installed_copy(x) = x\n' >> "$prefix/share/rnnc/stdlib/logic.rnn"
cat > "$work/model.rnn" <<'RNN'
use logic
use cells.gru

model M {
  input x: [1]
  output installed_copy(gru(x, ones(3, 1), ones(3, 1), zeros(3), zeros(3)))
}
RNN
echo '[[1], [0]]' > "$work/in.json"
cd "$work"
out=$(env -i PATH="$prefix/bin:/usr/bin:/bin" HOME="$work" rnnc run model.rnn --input in.json)
echo "$out" | grep -q . || { echo "install: no output"; exit 1; }
echo "install: ok (stdlib from $prefix/share/rnnc)"
