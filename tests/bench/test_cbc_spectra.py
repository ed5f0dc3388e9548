#!/usr/bin/python3
"""The spectra comparison reads the repository's Comte-Bellot & Corrsin table.

    test_cbc_spectra.py MLCFD_DIR SCRATCH_DIR

Writes fake decayIsoTurb cases whose boxTurbSpectrum.dat at t = 0.28 / 0.66 s
is the measured spectrum itself (error 0), twice the measured one (error
log10(2) = 0.301), and twice the measured one below 50 1/m only (error 0.301
below, 0 above the split), runs bench/cbcSpectra.py on each and checks the
printed errors, spectraError.md and spectra.png. A comparison that read the
wrong column, the wrong units, the wrong side of the split or no file would
miss these values. Then --summary over "seeds" of three labels: the mean and
[min, max] over the cases of a label, the best classical label per column in
bold (a learned label with error 0 is never the best), the tuned Smagorinsky
the Smagorinsky* label of the least mean total error, and the error of the
seeds' mean spectrum.
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


def expected_total(below, above, column):
    k = data[data[:, column] > 0, 0] * 100.0
    k = k[k <= 355.6]
    return (np.log10(below) * (k < 50).sum() + np.log10(above) * (k >= 50).sum()) / k.size


# --summary: "Smagorinsky" seeds (1, 1) and (2, 2); "Smagorinsky-Ck0.2" seeds
# (2, 1) twice; "neuralZero" (1, 1): exact but learned.
case = lambda below, above: os.path.join(scratch, f"cbcSpectra_{below:g}_{above:g}")
fake_case(case(2.0, 1.0) + "_again", 2.0, 1.0)
summary = os.path.join(scratch, "cbcSpectra_summary.md")
subprocess.run(["/usr/bin/python3", os.path.join(mlcfd, "bench", "cbcSpectra.py"), "--summary", summary, cbc,
                f"Smagorinsky={case(1.0, 1.0)}:{case(2.0, 2.0)}",
                f"Smagorinsky-Ck0.2={case(2.0, 1.0)}:{case(2.0, 1.0)}_again",
                f"neuralZero={case(1.0, 1.0)}"], check=True, capture_output=True, text=True)
table = open(summary).read()
rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:8]]
        for line in table.split("averaged over the seeds")[0].splitlines()
        if line.startswith("| ") and not line.startswith("| model")}
log2 = np.log10(2.0)
half = f"{log2 / 2:.3f} [0.000, {log2:.3f}]"
assert [cell.strip("*") for cell in rows["Smagorinsky"]] == [half] * 6, table
# Column 'k >= 50' at both times: Ck0.2 has 0 there, the best classical (bold);
# column 'k < 50': Smagorinsky's mean 0.151 beats Ck0.2's 0.301 (bold).
assert rows["Smagorinsky-Ck0.2"][2] == "**0.000 [0.000, 0.000]**", table
assert rows["Smagorinsky-Ck0.2"][5] == "**0.000 [0.000, 0.000]**", table
assert rows["Smagorinsky"][1] == f"**{half}**" and rows["Smagorinsky"][4] == f"**{half}**", table
assert not any("**" in cell for cell in rows["neuralZero"]), table
totals = [expected_total(2.0, 1.0, column) for column in (2, 3)]
tuned = "Smagorinsky-Ck0.2" if np.mean(totals) < log2 / 2 else "Smagorinsky"
assert f"Tuned Smagorinsky: {tuned}," in table, (totals, table)
# The seeds' mean spectrum of Smagorinsky is 1.5 times the measured one.
averaged = table[table.index("averaged over the seeds"):]
row = next(line for line in averaged.splitlines() if line.startswith("| Smagorinsky |"))
assert row.count(f" {np.log10(1.5):.3f} |") == 6, averaged
bad = subprocess.run(["/usr/bin/python3", os.path.join(mlcfd, "bench", "cbcSpectra.py"), "--summary", summary,
                      cbc, case(1.0, 1.0)], capture_output=True, text=True)
assert bad.returncode != 0 and "LABEL=CASE_DIR" in bad.stderr, bad
print("cbcSpectra: the repository's CBC table read and scored as expected, split at 50 1/m; seed summary checked")
