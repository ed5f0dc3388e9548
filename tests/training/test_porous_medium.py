#!/usr/bin/python3
"""The porous-medium benchmark (training/porousMedium): the finite-volume
solver conserves mass and matches the Barenblatt solution, the front metric
measures a shift, and the quick benchmark's constrained forms conserve mass
to round-off where the unconstrained one does not.

    test_porous_medium.py SCRATCH_DIR
"""
import os
import subprocess
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
source = os.path.join(here, "..", "..", "training", "porousMedium")
sys.path.insert(0, source)
import gpme  # noqa: E402

failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def barenblatt(x, t, m, a=0.05):
    """u_t = (u^m u_x)_x in 1D centred at 0.5: t^-alpha [a - m alpha xi^2/2]_+^(1/m)."""
    alpha = 1.0/(m + 2)
    xi = (x - 0.5)*t**(-alpha)
    return t**(-alpha)*np.maximum(a - 0.5*m*alpha*xi**2, 0.0)**(1.0/m)


def main():
    scratch = sys.argv[1]
    os.makedirs(scratch, exist_ok=True)
    rng = np.random.default_rng(0)

    for variant in gpme.VARIANTS:
        for dim, n in ((1, 64), (2, 24)):
            lo, hi = gpme.PARAMETER_RANGE[variant]
            p = rng.uniform(lo, hi, 3)
            u = gpme.trajectories(rng, 3, n, dim, variant, p, 6, 1e-3)
            mass = u.reshape(3, 7, -1).mean(-1)
            check(np.abs(mass/mass[:, :1] - 1).max() < 1e-13,
                  f"{variant} {dim}D: mass conserved over 6 steps ({np.abs(mass/mass[:, :1] - 1).max():.1e})")
            check(np.abs(np.diff(u, axis=1)).max() > 1e-3, f"{variant} {dim}D: the solution moves")

    # Barenblatt: the solver against the exact solution, m = 1 and 2.
    n = 256
    x = (np.arange(n) + 0.5)/n
    for m in (1.0, 2.0):
        t0, t1 = 0.02, 0.2
        u = gpme.advance(barenblatt(x, t0, m)[None], "pme", [m], t1 - t0)[0]
        exact = barenblatt(x, t1, m)
        error = np.abs(u - exact).sum()/np.abs(exact).sum()
        front = x[exact > 0].max()
        front_num = x[u > 1e-3*u.max()].max()
        check(error < 0.02, f"pme m = {m:g}: L1 error against Barenblatt {error:.4f} < 0.02")
        check(abs(front_num - front) < 4.0/n,
              f"pme m = {m:g}: front at {front_num:.4f} against exact {front:.4f} (within 4 cells)")

    # The front metric: a box shifted by 3 cells is 3 cells off at each front.
    reference = np.zeros((1, 100))
    reference[0, 30:60] = 1
    shifted = np.roll(reference, 3, axis=1)
    check(abs(gpme.front_error(shifted, reference, 0.5, 1)[0] - 0.03) < 1e-12,
          "front error of a 3-cell shift is 3/N")
    square = np.zeros((1, 40, 40))
    square[0, 10:20, 10:20] = 1
    check(abs(gpme.front_error(np.roll(square, 2, axis=2), square, 0.5, 2)[0] - 2*2*10/(4*10)/40) < 1e-12,
          "2D front error of a 2-cell shift in x")

    # The bounds of --layer bounded-local hold the reference itself: every
    # interval of the solver stays within each cell's neighbourhood range.
    import torch
    import porous_medium
    for dim in (1, 2):
        settings = porous_medium.Settings("stefan", dim, quick=False)
        lo, hi = gpme.PARAMETER_RANGE["stefan"]
        parameters = lo + (hi - lo)*rng.uniform(size=3)
        data = torch.from_numpy(gpme.trajectories(rng, 3, settings.cells, dim, "stefan", parameters, 6,
                                                  settings.interval))
        lower, upper = porous_medium.local_range(data[:, :-1].flatten(0, 1), settings.reach)
        following = data[:, 1:].flatten(0, 1)
        # 1e-12: round-off only; a reach too small misses by O(0.1).
        check(bool((following >= lower - 1e-12).all()) and bool((following <= upper + 1e-12).all()),
              f"{dim}D: the reference stays within the local range (reach {settings.reach} cells)")
        check(bool((upper - lower < data[:, :-1].flatten(0, 1).amax() - 1e-3).any()),
              f"{dim}D: the local range is tighter than the global one somewhere")

    # The quick benchmark end to end, with each layer; in 2D also with the
    # network's own rollout before the unrolled steps.
    for dim, options in ((1, []), (1, ["--layer", "bounded-local"]),
                         (2, ["--layer", "bounded", "--pushforward", "2"])):
        table = os.path.join(scratch, f"porous_medium_{dim}d{'_'.join([''] + options[1:2])}.md")
        run = subprocess.run([sys.executable, os.path.join(source, "porous_medium.py"), "--quick",
                              "--dim", str(dim), "--table", table, "--plot", table[:-3] + ".png"] + options,
                             capture_output=True, text=True)
        print(run.stdout[-2000:], run.stderr[-2000:])
        check(run.returncode == 0, f"porous_medium.py --quick --dim {dim} {' '.join(options)} runs")
        if run.returncode:
            continue
        rows = {}
        header = None
        for line in open(table):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
            elif cells[0] in ("unconstrained", "constrained after", "through the layer"):
                rows[cells[0]] = dict(zip(header[1:], (float(c) for c in cells[1:])))
        check(len(rows) == 3, f"{dim}D: the table has the three forms")
        mass = {form: row["mass error (max)"] for form, row in rows.items()}
        check(mass["constrained after"] < 1e-12 and mass["through the layer"] < 1e-12,
              f"{dim}D: constrained forms conserve mass to round-off ({mass})")
        check(mass["unconstrained"] > 1e-6, f"{dim}D: the unconstrained network does not ({mass})")
        check(rows["through the layer"] != rows["unconstrained"], f"{dim}D: the layer changes the network")
        check(os.path.getsize(table[:-3] + ".png") > 1000, f"{dim}D: the plot is written")

    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
