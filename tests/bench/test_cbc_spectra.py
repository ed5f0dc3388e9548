#!/usr/bin/python3
"""The spectra comparison reads the repository's Comte-Bellot & Corrsin table.

    test_cbc_spectra.py MLCFD_DIR SCRATCH_DIR

Writes fake decayIsoTurb cases whose boxTurbSpectrum.dat at t = 0.28 / 0.66 s
is the measured spectrum itself (error 0), twice the measured one (error
log10(2) = 0.301), and twice the measured one below 50 1/m only (error 0.301
below, 0 above the split), runs bench/cbcSpectra.py on each and checks the
printed errors, spectraError.md and spectra.png. A comparison that read the
wrong column, the wrong units, the wrong side of the split or no file would
miss these values.
"""
import os
import re
import shutil
import subprocess
import sys

import numpy as np

mlcfd, scratch = sys.argv[1], sys.argv[2]
cbc = os.path.join(mlcfd, "data", "cbc1971_spectra.txt")
assert os.path.isfile(cbc), f"{cbc} is missing"
data = np.loadtxt(cbc, comments="#")
header = open(cbc).readline()
assert "Comte-Bellot" in header and "Table 3" in header, "the table must cite its source"


def fake_case(path, factor_below, factor_above):
    """The measured spectra, times factor_below below 50 1/m and factor_above above."""
    shutil.rmtree(path, ignore_errors=True)
    for time, column in (("0.28", 2), ("0.66", 3)):
        measured = data[:, column] > 0
        k = data[measured, 0] * 100.0                      # 1/cm -> 1/m
        e = data[measured, column] * 1e-6 * np.where(k < 50.0, factor_below, factor_above)
        folder = os.path.join(path, "postProcessing", "boxTurbSpectrum", time)
        os.makedirs(folder)
        np.savetxt(os.path.join(folder, "boxTurbSpectrum.dat"), np.column_stack([k, e]),
                   header="boxTurbSpectrum (fake)\nkmax 355.6\nk E(k)")


pattern = (r"t = (0\.28|0\.66) s: mean \|log10\(E/E_CBC\)\| = ([0-9.]+)"
           r" \(k < 50: ([0-9.]+), k >= 50: ([0-9.]+)\)")
for below, above in ((1.0, 1.0), (2.0, 2.0), (2.0, 1.0)):
    case = os.path.join(scratch, f"cbcSpectra_{below:g}_{above:g}")
    fake_case(case, below, above)
    out = subprocess.run(["/usr/bin/python3", os.path.join(mlcfd, "bench", "cbcSpectra.py"), case, cbc],
                         check=True, capture_output=True, text=True).stdout
    rows = re.findall(pattern, out)
    assert len(rows) == 2, out
    for time, total, error_below, error_above in rows:
        column = 2 if time == "0.28" else 3
        k = data[data[:, column] > 0, 0] * 100.0
        k = k[k <= 355.6]
        expected_below, expected_above = np.log10(below), np.log10(above)
        expected = (expected_below * (k < 50).sum() + expected_above * (k >= 50).sum()) / k.size
        # Printed to 3 digits.
        for printed, value in ((total, expected), (error_below, expected_below),
                               (error_above, expected_above)):
            assert abs(float(printed) - value) < 1.5e-3, (below, above, out)
    table = open(os.path.join(case, "spectraError.md")).read()
    assert table.count(f"| {np.log10(below):.3f} | {np.log10(above):.3f} |") == 2, table
    assert os.path.getsize(os.path.join(case, "spectra.png")) > 1000
print("cbcSpectra: the repository's CBC table read and scored as expected, split at 50 1/m")
