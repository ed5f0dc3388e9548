#!/usr/bin/python3
"""Checks of boxTurbSpectrum on a periodic box case (ASCII fields).

    checkBoxTurbSpectrum.py target CASE TIME      E equals the target on every complete
                                                  shell, the target equals the table
    checkBoxTurbSpectrum.py divergence CASE       0/U is divergence-free for central differences
    checkBoxTurbSpectrum.py subgridEnergy CASE    0/k is the table's energy beyond pi N/L
    checkBoxTurbSpectrum.py writeModes CASE       0/U: two Fourier modes of known shells
    checkBoxTurbSpectrum.py modes CASE            their spectrum: each mode's energy in its shell
    checkBoxTurbSpectrum.py samePhases A B        two U files differ by less than a shell rescaling

Everything here is computed independently of the utility (numpy FFT, the
table's linear interpolation), so a utility that binned, scaled or projected
wrongly fails.
"""
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compareFields import read_internal_field  # noqa: E402

AMPLITUDES = (0.3, 0.2)  # writeModes: u_y = A cos(k0 x), u_z = B cos(k0 (2x + y))


def fail(message):
    sys.exit(f"FAIL: {message}")


def box(case):
    """N and L from blockMeshDict."""
    text = open(os.path.join(case, "system", "blockMeshDict")).read()
    n = int(re.search(r"^N\s+(\d+);", text, re.M).group(1))
    length = float(re.search(r"^L\s+([0-9.eE+-]+);", text, re.M).group(1))
    return n, length


def table(case):
    text = open(os.path.join(case, "constant", "boxTurbDict")).read()
    body = re.search(r"Ek\s+table\s*\((.*?)\n\);", text, re.S).group(1)
    pairs = re.findall(r"\(\s*([0-9.eE+-]+)\s+([0-9.eE+-]+)\s*\)", body)
    return np.array(pairs, dtype=float).T


def read_spectrum(case, time):
    path = os.path.join(case, "postProcessing", "boxTurbSpectrum", time, "boxTurbSpectrum.dat")
    rows = [line.split() for line in open(path) if not line.startswith("#")]
    return rows


def velocity_array(path, n):
    """U of a blockMesh box (x fastest) as u[component, z, y, x]."""
    values = read_internal_field(path)
    if values.shape != (n ** 3, 3):
        fail(f"{path}: {values.shape} values, expected {n ** 3} vectors")
    return values.T.reshape(3, n, n, n)


def shells(n):
    m = np.fft.fftfreq(n, 1.0 / n)
    mz, my, mx = np.meshgrid(m, m, m, indexing="ij")
    return np.floor(np.sqrt(mx ** 2 + my ** 2 + mz ** 2) + 0.5).astype(int), (mx, my, mz)


def spectrum(u, n, length):
    coefficients = np.fft.fftn(u, axes=(1, 2, 3)) / n ** 3
    energy = 0.5 * (np.abs(coefficients) ** 2).sum(axis=0)
    shell, _ = shells(n)
    return np.bincount(shell.ravel(), energy.ravel()) / (2 * np.pi / length)


def check_target(case, time):
    n, length = box(case)
    k_table, e_table = table(case)
    rows = read_spectrum(case, time)
    complete = [row for row in rows if len(row) == 4]
    if len(complete) != n // 2 - 1:
        fail(f"{len(complete)} shells with a target, expected N/2 - 1 = {n // 2 - 1}")
    k = np.array([float(row[0]) for row in complete])
    if not np.allclose(k, 2 * np.pi / length * np.arange(1, n // 2), rtol=1e-6):
        fail(f"shell wavenumbers {k[:3]} ... are not n 2 pi/L")
    target = np.array([float(row[2]) for row in complete])
    expected = np.interp(k, k_table, e_table)
    if not np.allclose(target, expected, rtol=1e-6):
        fail(f"the target {target[:3]} ... is not the table's {expected[:3]} ...")
    ratio = np.array([float(row[3]) for row in complete])
    worst = np.abs(ratio - 1).max()
    if not worst < 1e-6:
        fail(f"E/E_target is off by {worst:.3e} (max over the complete shells)")
    # The file's E against an independent FFT of the field.
    u = velocity_array(os.path.join(case, time, "U"), n)
    e_numpy = spectrum(u, n, length)[1:n // 2]
    e_file = np.array([float(row[1]) for row in complete])
    if not np.allclose(e_file, e_numpy, rtol=1e-6):
        fail(f"the file's E {e_file[:3]} ... differs from numpy's {e_numpy[:3]} ...")
    print(f"OK: {n // 2 - 1} complete shells at t = {time} equal the target to {worst:.1e},"
          f" and numpy's spectrum of U")


def check_divergence(case):
    n, length = box(case)
    u = velocity_array(os.path.join(case, "0", "U"), n)
    delta = length / n
    # Central differences: x is the last axis, y the middle, z the first.
    div = sum((np.roll(u[c], -1, axis=2 - c) - np.roll(u[c], 1, axis=2 - c)) / (2 * delta)
              for c in range(3))
    scale = max(np.abs((np.roll(u[0], -1, axis=2) - np.roll(u[0], 1, axis=2)) / (2 * delta)).max(),
                1e-300)
    if not np.abs(div).max() < 1e-8 * scale:
        fail(f"central-difference divergence {np.abs(div).max():.3e} against |du/dx| {scale:.3e}")
    if abs(u.mean(axis=(1, 2, 3))).max() > 1e-10 * np.abs(u).max():
        fail(f"mean velocity {u.mean(axis=(1, 2, 3))} is not zero")
    print(f"OK: max |div U| = {np.abs(div).max():.2e} (|du/dx| up to {scale:.2e}), zero mean")


def check_subgrid_energy(case):
    n, length = box(case)
    k_table, e_table = table(case)
    kmax = np.pi * n / length
    k = np.r_[kmax, k_table[k_table > kmax]]
    expected = np.trapz(np.interp(k, k_table, e_table), k)
    text = open(os.path.join(case, "0", "k")).read()
    value = float(re.search(r"internalField\s+uniform\s+([0-9.eE+-]+);", text).group(1))
    if not abs(value - expected) < 1e-6 * expected:
        fail(f"0/k = {value}, the table's energy beyond pi N/L = {kmax:.2f} is {expected}")
    print(f"OK: 0/k = {value:.6g} = the table's energy beyond {kmax:.1f} 1/m")


def write_modes(case):
    n, length = box(case)
    x = (np.arange(n) + 0.5) * length / n
    z, y, x = np.meshgrid(x, x, x, indexing="ij")
    k0 = 2 * np.pi / length
    u = np.zeros((3, n, n, n))
    u[1] = AMPLITUDES[0] * np.cos(k0 * x)
    u[2] = AMPLITUDES[1] * np.cos(k0 * (2 * x + y))
    cells = u.reshape(3, -1).T
    lines = "\n".join(f"({a:.17g} {b:.17g} {c:.17g})" for a, b, c in cells)
    os.makedirs(os.path.join(case, "0"), exist_ok=True)
    with open(os.path.join(case, "0", "U"), "w") as out:
        out.write("FoamFile { version 2.0; format ascii; class volVectorField; object U; }\n"
                  "dimensions [0 1 -1 0 0 0 0];\n"
                  f"internalField nonuniform List<vector> {n ** 3}\n(\n{lines}\n)\n;\n"
                  "boundaryField { \".*\" { type cyclic; } }\n")


def check_modes(case):
    n, length = box(case)
    k0 = 2 * np.pi / length
    rows = read_spectrum(case, "0")
    e = np.array([float(row[1]) for row in rows])  # shells 1, 2, ...
    # cos(k0 x) is the modes m = (+-1, 0, 0), shell 1; cos(k0 (2x + y)) the
    # modes (+-2, +-1, 0), |m| = 2.24, shell 2. Energy A^2/4 each.
    expected = np.zeros_like(e)
    expected[0] = AMPLITUDES[0] ** 2 / 4 / k0
    expected[1] = AMPLITUDES[1] ** 2 / 4 / k0
    if not np.allclose(e, expected, rtol=1e-8, atol=1e-14 * expected.max()):
        fail(f"shells 1-4 hold {e[:4]}, expected {expected[:4]}")
    print(f"OK: cos(k0 x) in shell 1 ({e[0]:.6g}), cos(k0 (2x + y)) in shell 2 ({e[1]:.6g}),"
          f" nothing elsewhere")


def check_same_phases(path_a, path_b, case):
    n, length = box(case)
    a = np.fft.fftn(velocity_array(path_a, n), axes=(1, 2, 3))
    b = np.fft.fftn(velocity_array(path_b, n), axes=(1, 2, 3))
    shell, _ = shells(n)
    worst = 0.0
    for s in range(1, n // 2):
        inside = shell == s
        ca, cb = a[:, inside].ravel(), b[:, inside].ravel()
        # b = factor * a on the shell: the normalised inner product is 1.
        worst = max(worst, 1 - abs(np.vdot(ca, cb)) / (np.linalg.norm(ca) * np.linalg.norm(cb)))
    if not worst < 1e-10:
        fail(f"the fields differ by more than one factor per shell (1 - correlation {worst:.3e})")
    print(f"OK: {path_b} is {path_a} scaled shell by shell (1 - correlation <= {worst:.1e})")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "target":
        check_target(sys.argv[2], sys.argv[3])
    elif command == "divergence":
        check_divergence(sys.argv[2])
    elif command == "subgridEnergy":
        check_subgrid_energy(sys.argv[2])
    elif command == "writeModes":
        write_modes(sys.argv[2])
    elif command == "modes":
        check_modes(sys.argv[2])
    elif command == "samePhases":
        check_same_phases(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
