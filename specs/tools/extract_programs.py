"""Writes the inline program of every spec in the given YAML files to DIR/<file>-<n>.rnn.

Usage: python3 specs/tools/extract_programs.py SPEC.yaml... DIR  (used by Tests/Fuzz/run.sh for seeds)

Needs no YAML library: spec programs are written as double-quoted one-line scalars
(`program: "..."`) or literal blocks (`program: |`), the two forms specs/README.md uses.
"""
import json
import os
import re
import sys


def programs(text):
    lines = text.split("\n")
    for k, line in enumerate(lines):
        m = re.match(r'^(\s*)(?:- )?program:\s*(.*)$', line)
        if not m:
            continue
        value = m.group(2)
        if value.startswith('"'):
            # YAML double-quoted escapes used in specs (\n, \", \\, \t) read the same in JSON.
            try:
                yield json.loads(value)
            except json.JSONDecodeError:
                pass
        elif value.startswith("|"):
            body = []
            indent = None
            for next_line in lines[k + 1:]:
                if next_line.strip() == "":
                    body.append("")
                    continue
                width = len(next_line) - len(next_line.lstrip())
                if indent is None:
                    indent = width
                if width < indent:
                    break
                body.append(next_line[indent:])
            yield "\n".join(body).rstrip("\n") + "\n"


def main():
    *files, out = sys.argv[1:]
    count = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            for n, program in enumerate(programs(f.read())):
                name = os.path.join(out, f"{os.path.basename(path)}-{n}.rnn")
                with open(name, "w", encoding="utf-8") as g:
                    g.write(program)
                count += 1
    print(f"{count} spec programs")


if __name__ == "__main__":
    main()
