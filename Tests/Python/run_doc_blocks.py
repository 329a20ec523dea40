"""Runs a document's ```sh and ```python blocks in order, as a reader would from the
repository root, in a scratch folder holding a copy of examples/ and stdlib/.

    python3 Tests/Python/run_doc_blocks.py docs/export.md BIN_DIR

BIN_DIR holds the rnnc binary the shell blocks call. Exits with the first failing
block's status, after printing it.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def blocks(text):
    return re.findall(r"^```(sh|python)\n(.*?)^```$", text, flags=re.M | re.S)


def main(document, bin_dir):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(document) as f:
        found = blocks(f.read())
    with tempfile.TemporaryDirectory() as scratch:
        for folder in ("examples", "stdlib"):
            shutil.copytree(os.path.join(root, folder), os.path.join(scratch, folder))
        env = dict(os.environ, PATH=os.path.abspath(bin_dir) + os.pathsep + os.environ["PATH"], RNNC_STDLIB=os.path.join(scratch, "stdlib"))
        for k, (language, code) in enumerate(found):
            # A Python block runs as a file of its own, so multiprocessing can import its functions.
            script = os.path.join(scratch, f"doc_block_{k}.py")
            if language == "python":
                with open(script, "w") as f:
                    f.write(code)
            command = ["bash", "-euo", "pipefail", "-c", code] if language == "sh" else [sys.executable, script]
            result = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True)
            sys.stdout.write(result.stdout)
            if result.returncode != 0:
                print(f"this {language} block of {document} failed ({result.returncode}):\n{code}\n{result.stderr}")
                return result.returncode
    print(f"{document}: {len(found)} blocks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
