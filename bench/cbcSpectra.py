#!/usr/bin/python3
"""Energy spectra of a decayIsoTurb case against Comte-Bellot & Corrsin (1971).

    cbcSpectra.py CASE_DIR CBC_FILE [--label NAME] [--png FILE]
    cbcSpectra.py --overlay PNG CBC_FILE LABEL=CASE_DIR [LABEL=CASE_DIR ...]

Reads CASE_DIR/postProcessing/energySpectrum/<t>/energySpectrum.dat at
t = 0.28 s and 0.66 s (tU0/M = 98 and 171) and the measured spectra of
CBC_FILE (k in 1/cm, E in cm^3/s^2; the case is in m). Prints, per time,
the error  mean |log10(E_LES(k)/E_CBC(k))|  over the measured wavenumbers the
grid resolves (k <= pi N/L), with E_LES interpolated log-log at the measured
k, writes that table to CASE_DIR/spectraError.md and plots both (PNG). --overlay plots several cases (one panel per time). Validation only: nothing is fitted to CBC_FILE.
"""
import argparse
import os
import sys

import numpy as np

TIMES = {"0.28": 2, "0.66": 3}  # time -> column of CBC_FILE (98, 171)


def read_cbc(path):
    data = np.loadtxt(path, comments="#")
    return data[:, 0] * 100.0, data[:, 1:] * 1e-6  # 1/cm -> 1/m, cm^3/s^2 -> m^3/s^2


def read_spectrum(case, time):
    path = os.path.join(case, "postProcessing", "energySpectrum", time, "energySpectrum.dat")
    if not os.path.isfile(path):
        sys.exit(f"cbcSpectra: {path} is missing (run the case to t = 0.66 with the"
                 " energySpectrum function object)")
    data = np.loadtxt(path, comments="#")
    return data[1:, 0], data[1:, 1]  # drop k = 0


def resolved_kmax(case):
    """pi N / L from createBoxTurbDict."""
    text = open(os.path.join(case, "constant", "createBoxTurbDict")).read()
    import re
    n = int(re.search(r"^N\s*\(\s*(\d+)", text, re.M).group(1))
    length = float(re.search(r"^L\s*\(\s*([0-9.eE+-]+)", text, re.M).group(1))
    return np.pi * n / length


def spectrum_error(k_les, e_les, k_cbc, e_cbc, kmax):
    positive = e_les > 0
    k_les, e_les = k_les[positive], e_les[positive]
    use = (e_cbc > 0) & (k_cbc <= kmax) & (k_cbc >= k_les[0])
    e_interp = np.exp(np.interp(np.log(k_cbc[use]), np.log(k_les), np.log(e_les)))
    return float(np.mean(np.abs(np.log10(e_interp / e_cbc[use])))), int(use.sum())


def overlay(png, cbc, cases):
    """All cases' spectra beside the measurements, one panel per time."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    k_cbc, e_cbc = read_cbc(cbc)
    fig, axes = plt.subplots(1, len(TIMES), figsize=(11, 4.5), sharey=True)
    for ax, (time, column) in zip(axes, TIMES.items()):
        measured = e_cbc[:, column - 1] > 0
        ax.loglog(k_cbc[measured], e_cbc[measured, column - 1], "ko", label="CBC 1971")
        for entry in cases:
            label, case = entry.split("=", 1)
            k, e = read_spectrum(case, time)
            error, _ = spectrum_error(k, e, k_cbc, e_cbc[:, column - 1], resolved_kmax(case))
            ax.loglog(k, e, "-", label=f"{label} ({error:.3f})")
        ax.axvline(resolved_kmax(case), color="grey", lw=0.8, ls="--")
        ax.set_title(f"t = {time} s")
        ax.set_xlabel("k [1/m]")
        ax.set_ylim(1e-7, 1e-3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("E(k) [m^3/s^2]")
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    print(f"wrote {png}")


def main():
    if len(sys.argv) > 3 and sys.argv[1] == "--overlay":
        return overlay(sys.argv[2], sys.argv[3], sys.argv[4:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("case")
    parser.add_argument("cbc")
    parser.add_argument("--label", default=None)
    parser.add_argument("--png", default=None)
    args = parser.parse_args()

    label = args.label or os.path.basename(os.path.abspath(args.case))
    k_cbc, e_cbc = read_cbc(args.cbc)
    kmax = resolved_kmax(args.case)
    errors = {}
    spectra = {}
    for time, column in TIMES.items():
        k, e = read_spectrum(args.case, time)
        spectra[time] = (k, e)
        errors[time], count = spectrum_error(k, e, k_cbc, e_cbc[:, column - 1], kmax)
        print(f"{label}: t = {time} s: mean |log10(E/E_CBC)| = {errors[time]:.3f}"
              f" over {count} measured wavenumbers <= {kmax:.1f} 1/m")

    table = os.path.join(args.case, "spectraError.md")
    with open(table, "w") as out:
        out.write(f"{label}: spectra error mean |log10(E/E_CBC)| against Comte-Bellot & Corrsin"
                  f" (k <= {kmax:.1f} 1/m)\n\n| t [s] | error |\n|---|---|\n")
        for time in TIMES:
            out.write(f"| {time} | {errors[time]:.3f} |\n")
    print(f"wrote {table}")

    png = args.png or os.path.join(args.case, "spectra.png")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for (time, column), colour in zip(TIMES.items(), ("C0", "C1")):
        measured = e_cbc[:, column - 1] > 0
        ax.loglog(k_cbc[measured], e_cbc[measured, column - 1], "o", color=colour,
                  label=f"CBC 1971, t = {time} s")
        k, e = spectra[time]
        ax.loglog(k, e, "-", color=colour,
                  label=f"{label}, t = {time} s (error {errors[time]:.3f})")
    ax.axvline(kmax, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("k [1/m]")
    ax.set_ylabel("E(k) [m^3/s^2]")
    ax.set_ylim(1e-7, 1e-3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    print(f"wrote {png}")


if __name__ == "__main__":
    main()
