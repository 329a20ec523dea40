"""Writes the small binary fixtures the Swift tests read, with the reference libraries.

Run from the repository root:  python3 Tests/Fixtures/make_fixtures.py
Needs: numpy, safetensors (pip install numpy safetensors). The outputs are committed.
"""
import os
import numpy as np
from safetensors.numpy import save_file

here = os.path.dirname(os.path.abspath(__file__))

# Weights for Tests: a 2x3 matrix, a bias, mixed dtypes.
save_file(
    {
        "W": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32),
        "b": np.array([0.5, -0.5], dtype=np.float64),
    },
    os.path.join(here, "affine.safetensors"),
)
save_file(
    {"W": np.arange(6, dtype=np.int32).reshape(2, 3), "b": np.zeros(2, dtype=np.float16)},
    os.path.join(here, "int_weights.safetensors"),
    metadata={"note": "W has an integer dtype"},
)
save_file({"h": np.array([1.5, -2.25, 3.0], dtype=np.float16)}, os.path.join(here, "half.safetensors"))
# A weight with a NaN and an infinity (warning W0501).
save_file({"W": np.array([np.nan, 1.0, np.inf], dtype=np.float32)}, os.path.join(here, "nonfinite.safetensors"))

# Input data as .npy: one [T, n] float32 sequence and one [B, T, n] float64 batch.
np.save(os.path.join(here, "seq_f4.npy"), np.array([[0], [1], [1], [0]], dtype=np.float32))
np.save(os.path.join(here, "batch_f8.npy"), np.array([[[1], [1], [0]], [[0], [0], [1]]], dtype=np.float64))
