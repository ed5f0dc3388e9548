#!/usr/bin/python3
"""The spectra comparison reads the repository's Comte-Bellot & Corrsin table.

    test_cbc_spectra.py MLCFD_DIR SCRATCH_DIR

Writes a fake decayIsoTurb case whose energySpectrum.dat at t = 0.28 / 0.66 s
is the measured spectrum itself (error 0) and then twice the measured one
(error log10(2) = 0.301), runs bench/cbcSpectra.py on both and checks the
error table, spectraError.md and spectra.png. A comparison that read the wrong
column, the wrong units or no file would miss these values.
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


def fake_case(path, factor):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.join(path, "constant"))
    shutil.copy(os.path.join(mlcfd, "tutorials/openfoam/decayIsoTurb/constant/createBoxTurbDict"),
                os.path.join(path, "constant"))
    for time, column in (("0.28", 2), ("0.66", 3)):
        measured = data[:, column] > 0
        k = data[measured, 0] * 100.0                      # 1/cm -> 1/m
        e = data[measured, column] * 1e-6 * factor          # cm^3/s^2 -> m^3/s^2
        folder = os.path.join(path, "postProcessing", "energySpectrum", time)
        os.makedirs(folder)
        np.savetxt(os.path.join(folder, "energySpectrum.dat"),
                   np.column_stack([np.r_[0.0, k], np.r_[0.0, e]]), header="k E(k)")


for factor, expected in ((1.0, 0.0), (2.0, np.log10(2.0))):
    case = os.path.join(scratch, f"cbcSpectra_{factor:g}")
    fake_case(case, factor)
    out = subprocess.run(["/usr/bin/python3", os.path.join(mlcfd, "bench", "cbcSpectra.py"), case, cbc],
                         check=True, capture_output=True, text=True).stdout
    errors = [float(x) for x in re.findall(r"mean \|log10\(E/E_CBC\)\| = ([0-9.]+)", out)]
    assert len(errors) == 2, out
    # Printed to 3 digits: exact data gives 0.000, twice the data 0.301.
    assert all(abs(err - expected) < 1.5e-3 for err in errors), (factor, out)
    table = open(os.path.join(case, "spectraError.md")).read()
    assert table.count(f"| {expected:.3f} |") == 2, table
    assert os.path.getsize(os.path.join(case, "spectra.png")) > 1000
print("cbcSpectra: the repository's CBC table read and scored as expected")
