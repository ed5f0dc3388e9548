"""Checks a --quick run of learned_preconditioner_bench (ctest
dealii.bench.learnedPreconditioner).

    python3 check_learned_preconditioner_bench.py QUICK.csv STRIP.csv DUMPED.csv

QUICK.csv: the 2D and 3D, Dirichlet and Neumann systems with every solver.
Each system has all seven solvers, each converged with a true residual near
the tolerance; DIC-PCG needs fewer iterations than CG; FlexibleCG with the
reference (Jacobi) models takes no more iterations than CG (the safeguard
runs CG alongside).
STRIP.csv: CG and DIC-PCG on a one-cell-thick strip, a tridiagonal matrix on
which incomplete Cholesky has no fill-in to drop, so DIC is the exact
factorisation and DIC-PCG must converge in one iteration.
DUMPED.csv: the 16x16x16 Neumann system of the quick run written with
--write-systems and read back with --csr: the same iteration counts as the
original (the file keeps every digit), and detected as singular (GAMG gets
the null space).
"""
import csv
import sys
from collections import defaultdict

TOLERANCE = 1e-6
SOLVERS = ("CG", "DIC-PCG", "Trilinos ML", "PETSc GAMG", "hypre BoomerAMG",
           "FlexibleCG + grid CNN", "FlexibleCG + graph net")


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no solves recorded")
    return rows


def solver_of(label):
    # longest prefix first: "CG" is a prefix of nothing else but be explicit
    for name in sorted(SOLVERS, key=len, reverse=True):
        if label.startswith(name):
            return name
    sys.exit(f"unknown solver label '{label}'")


def main(quick_csv, strip_csv, dumped_csv):
    failures = []
    systems = defaultdict(dict)
    for row in read(quick_csv):
        systems[row["system"]][solver_of(row["solver"])] = row
    if len(systems) != 4:
        failures.append(f"{quick_csv}: {len(systems)} systems, 4 expected")
    for system, solves in systems.items():
        missing = set(SOLVERS) - set(solves)
        if missing:
            failures.append(f"{system}: no result for {sorted(missing)}")
        for solver, row in solves.items():
            residual = float(row["true_residual"])
            print(f"{system:20s} {solver:24s} {row['iterations']:>5s} iterations, "
                  f"true |r|/|b| {residual:.2g}")
            if row["converged"] != "1":
                failures.append(f"{system} {solver}: not converged")
            if not residual <= 10 * TOLERANCE:
                failures.append(f"{system} {solver}: true |r|/|b| {residual:.3g}")
        if "CG" in solves and "DIC-PCG" in solves:
            cg, dic = int(solves["CG"]["iterations"]), int(solves["DIC-PCG"]["iterations"])
            if not dic < cg:
                failures.append(f"{system}: DIC-PCG {dic} iterations, CG {cg}")
            for learned in SOLVERS[-2:]:
                if learned in solves and int(solves[learned]["iterations"]) > cg:
                    failures.append(f"{system} {learned}: {solves[learned]['iterations']} "
                                    f"iterations, CG {cg}")

    strip = {solver_of(row["solver"]): row for row in read(strip_csv)}
    if strip.get("DIC-PCG", {}).get("iterations") != "1" or strip["DIC-PCG"]["converged"] != "1":
        failures.append(f"strip: DIC-PCG (exact factorisation) took "
                        f"{strip.get('DIC-PCG', {}).get('iterations')} iterations, 1 expected")
    if int(strip.get("CG", {}).get("iterations", 0)) <= 1:
        failures.append("strip: CG converged in one iteration: the strip test is void")

    original = systems.get("16x16x16 Neumann", {})
    dumped = read(dumped_csv)
    for row in dumped:
        solver = solver_of(row["solver"])
        if solver not in original:
            failures.append(f"dumped: {solver} missing from the quick run")
        elif row["iterations"] != original[solver]["iterations"] or row["converged"] != "1":
            failures.append(f"dumped 16x16x16 Neumann {solver}: {row['iterations']} iterations, "
                            f"original {original[solver]['iterations']}")
        if solver == "PETSc GAMG" and "MatSetNullSpace" not in row["note"]:
            failures.append("dumped 16x16x16 Neumann: not detected as singular")
    if len(dumped) != 5:
        failures.append(f"dumped: {len(dumped)} solves, 5 expected (CG, DIC-PCG, GAMG, grid, graph)")

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("all solvers converged; DIC-PCG < CG on every system; DIC exact on the strip; "
          "dumped system solves as the original")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])
