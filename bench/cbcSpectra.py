#!/usr/bin/python3
"""Energy spectra of a decayIsoTurb case against Comte-Bellot & Corrsin (1971).

    cbcSpectra.py CASE_DIR CBC_FILE [--label NAME] [--png FILE]
    cbcSpectra.py --overlay PNG CBC_FILE LABEL=CASE_DIR [LABEL=CASE_DIR ...]
    cbcSpectra.py --summary TABLE CBC_FILE LABEL=CASE_DIR[:CASE_DIR ...] ...

Reads the spectra that boxTurbSpectrum wrote to
CASE_DIR/postProcessing/boxTurbSpectrum/<t>/boxTurbSpectrum.dat at t = 0.28 s
and 0.66 s (tU0/M = 98 and 171), and at t = 0 (tU0/M = 42, the initial field)
where there is one, and the measured spectra of CBC_FILE (k in 1/cm, E in
cm^3/s^2; the case is in m). Prints, per time, the error
mean |log10(E_LES(k)/E_CBC(k))| over the measured wavenumbers the grid resolves
(k <= pi N/L), with E_LES interpolated log-log at the measured k, and its split
at k = 50 1/m: below (k < 50 1/m, the energy-containing range that the initial
field and the box set) and above (k >= 50 1/m, where a subgrid model acts).
Writes that table to CASE_DIR/spectraError.md and plots both (PNG). --overlay
plots several cases (one panel per time). --summary writes one row per label
whose cases are runs of one model from different initial-field seeds: mean
[min, max] over them of each error, the best classical label per column, and
"tuned Smagorinsky", the Smagorinsky* label of the least mean error (a Ck
sweep judged on CBC_FILE: an upper bound on what tuning Smagorinsky can give,
the anchor a learned closure must beat, never a fitted model). Validation
only: nothing is fitted to CBC_FILE.
"""
import argparse
import os
import sys

import numpy as np

TIMES = {"0.28": 2, "0.66": 3}  # time -> column of CBC_FILE (98, 171)
INITIAL = ("0", 1)               # the initial field against tU0/M = 42
SPLIT_K = 50.0                   # 1/m: below it the box and initial field, above it the closure


def read_cbc(path):
    data = np.loadtxt(path, comments="#")
    return data[:, 0] * 100.0, data[:, 1:] * 1e-6  # 1/cm -> 1/m, cm^3/s^2 -> m^3/s^2


def spectrum_file(case, time):
    return os.path.join(case, "postProcessing", "boxTurbSpectrum", time, "boxTurbSpectrum.dat")


def read_spectrum(case, time):
    """Shells k, E(k) and pi N/L of boxTurbSpectrum's file at time."""
    path = spectrum_file(case, time)
    if not os.path.isfile(path):
        sys.exit(f"cbcSpectra: {path} is missing (run the case to t = 0.66 s and then"
                 f" 'boxTurbSpectrum -time 0,0.28,0.66' in {case})")
    kmax = None
    with open(path) as text:
        for line in text:
            if line.startswith("# kmax"):
                kmax = float(line.split()[2])
    if kmax is None:
        sys.exit(f"cbcSpectra: {path} has no '# kmax' line: write it with boxTurbSpectrum")
    data = np.loadtxt(path, comments="#", usecols=(0, 1))
    return data[:, 0], data[:, 1], kmax


def spectrum_error(k_les, e_les, k_cbc, e_cbc, kmax):
    """Mean |log10(E/E_CBC)| over all, below and above SPLIT_K (nan where a
    range holds no measured wavenumber), and the count."""
    positive = e_les > 0
    k_les, e_les = k_les[positive], e_les[positive]
    use = (e_cbc > 0) & (k_cbc <= kmax) & (k_cbc >= k_les[0])
    e_interp = np.exp(np.interp(np.log(k_cbc[use]), np.log(k_les), np.log(e_les)))
    misfit = np.abs(np.log10(e_interp / e_cbc[use]))
    below = k_cbc[use] < SPLIT_K
    return tuple(float(np.mean(part)) if part.size else float("nan")
                 for part in (misfit, misfit[below], misfit[~below])) + (int(use.sum()),)


def times_of(case):
    """The compared times: t = 0 too where the case has its spectrum."""
    times = dict(TIMES)
    if os.path.isfile(spectrum_file(case, INITIAL[0])):
        times = {INITIAL[0]: INITIAL[1], **times}
    return times


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
            k, e, kmax = read_spectrum(case, time)
            total, below, above, _ = spectrum_error(k, e, k_cbc, e_cbc[:, column - 1], kmax)
            ax.loglog(k, e, "-", label=f"{label} ({total:.3f}: {below:.3f} / {above:.3f})")
        ax.axvline(kmax, color="grey", lw=0.8, ls="--")
        ax.axvline(SPLIT_K, color="grey", lw=0.5, ls=":")
        ax.set_title(f"t = {time} s (error: k < {SPLIT_K:g} / k >= {SPLIT_K:g} 1/m)")
        ax.set_xlabel("k [1/m]")
        ax.set_ylim(1e-7, 1e-3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("E(k) [m^3/s^2]")
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    print(f"wrote {png}")


def wall_time(case):
    """pimpleFoam's last ExecutionTime in CASE/log.pimpleFoam (None without)."""
    path = os.path.join(case, "log.pimpleFoam")
    if not os.path.isfile(path):
        return None
    times = [float(line.split()[2]) for line in open(path) if line.startswith("ExecutionTime")]
    return times[-1] if times else None


def is_learned(label):
    return label.startswith("neural")


def summary(table, cbc, entries):
    """Seed statistics per model, the best classical model per column and the
    tuned Smagorinsky (see the module's doc); returns the rows."""
    k_cbc, e_cbc = read_cbc(cbc)
    columns = [(time, part) for time in TIMES for part in ("all", "k < 50", "k >= 50")]
    rows = {}
    for entry in entries:
        if "=" not in entry:
            sys.exit(f"cbcSpectra --summary: '{entry}' is not LABEL=CASE_DIR[:CASE_DIR ...]")
        label, cases = entry.split("=", 1)
        errors, spectra, shells = [], {time: [] for time in TIMES}, {}
        for case in cases.split(":"):
            per_case = []
            for time, column in TIMES.items():
                k, e, kmax = read_spectrum(case, time)
                spectra[time].append(e)
                shells[time] = (k, kmax)
                per_case.extend(spectrum_error(k, e, k_cbc, e_cbc[:, column - 1], kmax)[:3])
            errors.append(per_case)
        # The measurements are averages over the flow's realisations: the
        # seeds' mean spectrum is the comparable one (one field's lowest
        # shells hold a few dozen modes).
        averaged = []
        for time, column in TIMES.items():
            k, kmax = shells[time]
            averaged.extend(spectrum_error(k, np.mean(spectra[time], axis=0), k_cbc, e_cbc[:, column - 1],
                                           kmax)[:3])
        walls = [w for w in map(wall_time, cases.split(":")) if w is not None]
        rows[label] = (np.array(errors), float(np.median(walls)) if walls else None, np.array(averaged))
    classical = [label for label in rows if not is_learned(label)]
    best = {j: min(classical, key=lambda label: rows[label][0][:, j].mean()) for j in range(len(columns))} \
        if classical else {}
    smagorinsky = [label for label in classical if label.startswith("Smagorinsky")]
    tuned = min(smagorinsky, key=lambda label: rows[label][0][:, [0, 3]].mean()) if smagorinsky else None

    def cell(values, j, label):
        text = f"{values.mean():.3f}"
        if len(values) > 1:
            text += f" [{values.min():.3f}, {values.max():.3f}]"
        return f"**{text}**" if best.get(j) == label else text

    seeds = {len(row[0]) for row in rows.values()}
    with open(table, "w") as out:
        out.write(f"Error mean |log10(E/E_CBC)| against Comte-Bellot & Corrsin, mean [min, max] over"
                  f" {'/'.join(map(str, sorted(seeds)))} initial-field seeds; bold: the best classical model"
                  f" of the column.\n\n| model |"
                  + "".join(f" t = {time} s: {part} |" for time, part in columns)
                  + " wall time [s], median |\n|---|" + "---|" * (len(columns) + 1) + "\n")
        for label, (errors, wall, _) in rows.items():
            out.write(f"| {label} |" + "".join(f" {cell(errors[:, j], j, label)} |" for j in range(len(columns)))
                      + (f" {wall:.0f} |" if wall is not None else " |") + "\n")
        if max(seeds) > 1:
            out.write("\nError of the spectrum averaged over the seeds (the measurements are averages too):\n\n"
                      "| model |" + "".join(f" t = {time} s: {part} |" for time, part in columns)
                      + "\n|---|" + "---|" * len(columns) + "\n")
            for label, (_, _, averaged) in rows.items():
                out.write(f"| {label} |" + "".join(f" {value:.3f} |" for value in averaged) + "\n")
        if tuned:
            errors = rows[tuned][0]
            out.write(f"\nTuned Smagorinsky: {tuned}, mean total error {errors[:, [0, 3]].mean():.3f} over both"
                      f" times (the sweep of {', '.join(smagorinsky)}).\n")
        if classical:
            out.write("Best classical model per column: "
                      + "; ".join(f"{time} s {part}: {best[j]} ({rows[best[j]][0][:, j].mean():.3f})"
                                  for j, (time, part) in enumerate(columns)) + ".\n")
    print(open(table).read())
    return rows, best, tuned


def main():
    if len(sys.argv) > 3 and sys.argv[1] == "--overlay":
        return overlay(sys.argv[2], sys.argv[3], sys.argv[4:])
    if len(sys.argv) > 3 and sys.argv[1] == "--summary":
        summary(sys.argv[2], sys.argv[3], sys.argv[4:])
        return None
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("case")
    parser.add_argument("cbc")
    parser.add_argument("--label", default=None)
    parser.add_argument("--png", default=None)
    args = parser.parse_args()

    label = args.label or os.path.basename(os.path.abspath(args.case))
    k_cbc, e_cbc = read_cbc(args.cbc)
    errors = {}
    spectra = {}
    for time, column in times_of(args.case).items():
        k, e, kmax = read_spectrum(args.case, time)
        spectra[time] = (k, e)
        errors[time] = spectrum_error(k, e, k_cbc, e_cbc[:, column - 1], kmax)
        total, below, above, count = errors[time]
        print(f"{label}: t = {time} s: mean |log10(E/E_CBC)| = {total:.3f}"
              f" (k < {SPLIT_K:g}: {below:.3f}, k >= {SPLIT_K:g}: {above:.3f})"
              f" over {count} measured wavenumbers <= {kmax:.1f} 1/m")

    table = os.path.join(args.case, "spectraError.md")
    with open(table, "w") as out:
        out.write(f"{label}: spectra error mean |log10(E/E_CBC)| against Comte-Bellot & Corrsin"
                  f" (k <= {kmax:.1f} 1/m; t = 0 against tU0/M = 42)\n\n"
                  f"| t [s] | error | k < {SPLIT_K:g} 1/m | k >= {SPLIT_K:g} 1/m |\n|---|---|---|---|\n")
        for time, (total, below, above, _) in errors.items():
            out.write(f"| {time} | {total:.3f} | {below:.3f} | {above:.3f} |\n")
    print(f"wrote {table}")

    png = args.png or os.path.join(args.case, "spectra.png")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for (time, column), colour in zip(times_of(args.case).items(), ("C2", "C0", "C1")[-len(errors):]):
        measured = e_cbc[:, column - 1] > 0
        ax.loglog(k_cbc[measured], e_cbc[measured, column - 1], "o", color=colour,
                  label=f"CBC 1971, t = {time} s")
        k, e = spectra[time]
        ax.loglog(k, e, "-", color=colour,
                  label=f"{label}, t = {time} s (error {errors[time][0]:.3f})")
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
