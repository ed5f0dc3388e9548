#!/usr/bin/python3
"""The training's Python twins of the core's numerics against the C++ ones
(ctest dealii.bench.learnedPreconditioner, after the bench's --quick run).

    check_python_twins.py QUICK.csv SYSTEMS_DIR GRID2D_MODEL [SHIPPED.csv SHIPPED_GRID2D]

The training keeps its own Poisson matrices (systems.poisson), DIC and CG
(solvers.py) because it needs them in torch. Here they meet the core's
mlcfd::poissonMatrix, mlcfd::DICPreconditioner, mlcfd::conjugateGradient and
mlcfd::FlexibleCG, through the systems the bench wrote (--write-systems) and
the iteration counts it recorded:
  - every matrix entry equal (unit coefficients: integers, exact);
  - CG and DIC-PCG iterations within 1 of the C++ counts (round-off of a
    different summation order; a wrong stencil or factorisation moves them
    by a factor, as CG against DIC-PCG shows);
  - FlexibleCG with the 2D grid model (the bench's Jacobi reference) within 1;
  - optionally the shipped grid2d.pt on 64x64 Dirichlet (SHIPPED.csv, a bench
    run with that model alone): the training's evaluation and the bench agree
    on the same system and right-hand side (float32 networks: within 2).
"""
import csv
import os
import sys

import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "training", "preconditioner"))
import contract  # noqa: E402
import solvers  # noqa: E402
import systems  # noqa: E402

torch.set_num_threads(1)
TOLERANCE = 1e-6


# Bench solver labels by the prefix they start with.
LABELS = {"CG": "CG", "DIC-PCG": "DIC-PCG (", "FlexibleCG + grid": "FlexibleCG + grid CNN"}


def counts(quick_csv):
    out = {}
    with open(quick_csv, newline="") as f:
        for row in csv.DictReader(f):
            for solver, prefix in LABELS.items():
                if row["solver"] == prefix or (prefix.endswith(("(", "CNN"))
                                               and row["solver"].startswith(prefix)):
                    out[(row["system"], solver)] = int(row["iterations"])
    return out


def main(quick_csv, directory, grid2d_model, shipped_csv=None, shipped_model=None):
    recorded = counts(quick_csv)
    failures, checked = [], 0
    model = torch.jit.load(grid2d_model).eval()
    for grid, bc, name in (((64, 64), systems.DIRICHLET, "64x64 Dirichlet"),
                           ((64, 64), systems.NEUMANN, "64x64 Neumann"),
                           ((16, 16, 16), systems.DIRICHLET, "16x16x16 Dirichlet"),
                           ((16, 16, 16), systems.NEUMANN, "16x16x16 Neumann")):
        path = os.path.join(directory, name.replace(" ", "_") + ".csr")
        dumped, b = systems.read_system(path, grid=grid)
        twin = systems.poisson(grid, bc)
        for field in ("row_start", "column", "value"):
            if not (getattr(dumped, field) == getattr(twin, field)).all():
                failures.append(f"{name}: systems.poisson differs from mlcfd::poissonMatrix in {field}")
        python = {
            "CG": solvers.pcg(dumped, b, contract.identity, tolerance=TOLERANCE,
                              max_iterations=20000)[0],
            "DIC-PCG": solvers.pcg(dumped, b, solvers.DIC(dumped), tolerance=TOLERANCE,
                                   max_iterations=20000)[0],
        }
        if len(grid) == 2:
            M = contract.learned_preconditioner(model, "grid", dumped)
            python["FlexibleCG + grid"] = solvers.flexible_cg(dumped, b, M, tolerance=TOLERANCE)[0]
        for solver, count in python.items():
            cpp = recorded.get((name, solver))
            print(f"{name:20s} {solver:18s} Python {count:5d}  C++ {cpp}")
            checked += 1
            if cpp is None:
                failures.append(f"{name} {solver}: no C++ count in {quick_csv}")
            elif abs(count - cpp) > 1:
                failures.append(f"{name} {solver}: Python {count} iterations, C++ {cpp}")
    if shipped_csv:
        dumped, b = systems.read_system(os.path.join(directory, "64x64_Dirichlet.csr"), grid=(64, 64))
        M = contract.learned_preconditioner(torch.jit.load(shipped_model).eval(), "grid", dumped)
        count = solvers.flexible_cg(dumped, b, M, tolerance=TOLERANCE)[0]
        cpp = counts(shipped_csv).get(("64x64 Dirichlet", "FlexibleCG + grid"))
        print(f"64x64 Dirichlet      shipped grid2d.pt  Python {count:5d}  C++ {cpp}")
        checked += 1
        if cpp is None or abs(count - cpp) > 2:
            failures.append(f"shipped grid2d.pt: Python {count} iterations, C++ {cpp}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"Python twins agree with the core: 4 matrices, {checked} iteration counts")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 6):
        sys.exit(__doc__)
    main(*sys.argv[1:])
