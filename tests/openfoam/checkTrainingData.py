#!/usr/bin/python3
"""Checks a CSV written by the sgsTrainingData function object.

    checkTrainingData.py FILE ROWS

- ROWS rows, the documented columns;
- the subgrid stress of a positive filter is realizable (positive
  semi-definite) and not zero;
- the invariants agree with the written gradient of the filtered velocity
  (the columns are in the order the closures expect);
- delta and s are positive.
"""
import sys

import numpy as np

path, rows = sys.argv[1], int(sys.argv[2])
header = open(path).readline().strip().split(",")
expected = (["x", "y", "z", "delta", "s", "trS", "trS2", "trW2", "trS3", "trW2S", "trW2S2"]
            + ["gradU" + c for c in ("xx", "xy", "xz", "yx", "yy", "yz", "zx", "zy", "zz")]
            + ["tauXX", "tauXY", "tauXZ", "tauYY", "tauYZ", "tauZZ"])
if header != expected:
    sys.exit(f"FAIL: columns {header}")
data = np.loadtxt(path, delimiter=",", skiprows=1)
col = {name: data[:, i] for i, name in enumerate(header)}
if data.shape[0] != rows:
    sys.exit(f"FAIL: {data.shape[0]} rows, expected {rows}")

tau = np.stack([np.stack([col["tauXX"], col["tauXY"], col["tauXZ"]], -1),
                np.stack([col["tauXY"], col["tauYY"], col["tauYZ"]], -1),
                np.stack([col["tauXZ"], col["tauYZ"], col["tauZZ"]], -1)], -2)
eig = np.linalg.eigvalsh(tau)
scale = np.abs(eig).max()
if scale <= 0:
    sys.exit("FAIL: the subgrid stress is zero")
if eig.min() < -1e-10 * scale:
    sys.exit(f"FAIL: not realizable: smallest eigenvalue {eig.min():.3e} (max {scale:.3e})")

A = np.stack([col["gradU" + c] for c in ("xx", "xy", "xz", "yx", "yy", "yz", "zx", "zy", "zz")], -1)
A = A.reshape(-1, 3, 3)
S = 0.5 * (A + A.transpose(0, 2, 1))
s = np.sqrt((A * A).sum(axis=(1, 2)))
trS2 = np.einsum("nij,nji->n", S, S) / s**2
if not np.allclose(s, col["s"], rtol=1e-9) or not np.allclose(trS2, col["trS2"], rtol=1e-8, atol=1e-12):
    sys.exit("FAIL: invariants disagree with the written gradient")
if (col["delta"] <= 0).any() or (col["s"] <= 0).any():
    sys.exit("FAIL: non-positive delta or s")
print(f"OK: {rows} rows, tau realizable (eigenvalues >= {eig.min():.2e}, max {scale:.2e}),"
      " invariants consistent with grad(filter(U))")
