"""Convergence plots of bench/learnedPreconditionerPoisson: relative residual
against iteration, one PNG per system, all solvers on it.

    /usr/bin/python3 plot_convergence.py HISTORY.csv OUTPUT_PREFIX

reads the <prefix>_history.csv written by learned_preconditioner_bench and
writes OUTPUT_PREFIX_<system>.png (system name with spaces as underscores).
"""
import csv
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(history_file, output_prefix):
    curves = OrderedDict()
    with open(history_file, newline="") as f:
        for row in csv.DictReader(f):
            system = curves.setdefault(row["system"], OrderedDict())
            system.setdefault(row["solver"], []).append(float(row["relative_residual"]))
    for system, solvers in curves.items():
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for solver, history in solvers.items():
            ax.semilogy(range(len(history)), history, label=solver)
        ax.axhline(1e-6, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("iteration")
        ax.set_ylabel("|r| / |b|")
        ax.set_title(system)
        ax.set_xscale("symlog", linthresh=10)
        ax.legend(fontsize=7)
        ax.grid(True, which="both", lw=0.3)
        fig.tight_layout()
        name = f"{output_prefix}_{system.replace(' ', '_')}.png"
        fig.savefig(name, dpi=110)
        plt.close(fig)
        print("wrote", name)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
