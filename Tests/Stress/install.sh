#!/usr/bin/env bash
# The README's install steps, then rnnc run from an unrelated folder through PATH, with an
# environment that names nothing of the checkout: the installed standard library must be
# the one found (a function only the installed copy defines proves it). Also the man page
# and shell completions of the README's install section, and `--version`. Needs a release
# build (.build/release/rnnc).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
install -D "$root/.build/release/rnnc" "$prefix/bin/rnnc"
mkdir -p "$prefix/share/rnnc" && cp -R "$root/stdlib" "$prefix/share/rnnc/"
mkdir -p "$prefix/share/man/man1" "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions"
(cd "$root" && swift package --allow-writing-to-directory "$prefix/share/man/man1" \
    generate-manual -o "$prefix/share/man/man1" >/dev/null)
"$prefix/bin/rnnc" --generate-completion-script bash > "$prefix/share/bash-completion/completions/rnnc"
"$prefix/bin/rnnc" --generate-completion-script zsh > "$prefix/share/zsh/site-functions/_rnnc"
grep -q '^\.Nm rnnc' "$prefix/share/man/man1/rnnc.1" || { echo "install: no man page"; exit 1; }
grep -q 'export' "$prefix/share/man/man1/rnnc.1" || { echo "install: the man page lacks subcommands"; exit 1; }
bash -c "source '$prefix/share/bash-completion/completions/rnnc' && complete -p rnnc" >/dev/null \
    || { echo "install: bash completion does not load"; exit 1; }
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
version=$(env -i PATH="$prefix/bin:/usr/bin:/bin" rnnc --version)
echo "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[a-z0-9.]+)? \(commit ([0-9a-f]{12}|unknown)\)$' \
    || { echo "install: unexpected --version: $version"; exit 1; }
echo "install: ok (stdlib from $prefix/share/rnnc)"
