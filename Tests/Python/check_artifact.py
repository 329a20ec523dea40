"""Opens an rnnc artifact with Python's safetensors library (as a user would) and checks
that the tensors carry the params' names and the metadata says format version 3.

    python3 Tests/Python/check_artifact.py MODEL.rnnc NAME...
"""
import sys

from safetensors import safe_open


def main(path, names):
    with safe_open(path, framework="np") as f:
        keys = set(f.keys())
        metadata = f.metadata()
        missing = [n for n in names if n not in keys]
        assert not missing, f"tensors {missing} missing from {sorted(keys)}"
        for n in names:
            f.get_tensor(n)  # the bytes are readable, with the dtype and shape the header gives
    assert metadata["format"] == "rnnc" and metadata["format_version"] == "4", metadata
    print(f"{path}: safetensors reads {len(keys)} tensors, params {', '.join(names)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
