#!/usr/bin/python3
"""Evaluate learned preconditioners against CG, Jacobi-CG and DIC-PCG with
the Python twin of mlcfd::FlexibleCG, and write the report.

    evaluate.py --models DIR --report DIR [--quick] [--seed 0]

Iterations to |r| <= 1e-6 |b| from x = 0 for a white-noise right-hand side
(zero mean for Neumann) on finite-volume Poisson matrices. CG, Jacobi and
DIC (OpenFOAM's DIC = IC(0) for these stencils) run as classical PCG; the
learned models run as FlexibleCG does by default (2 kept directions, exact
line search, safeguard). Also the time per network application. Writes
REPORT/report.md, REPORT/results.json and REPORT/loss_curves.png (the last
from REPORT/losses.json written by train.py).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract  # noqa: E402
import solvers  # noqa: E402
import systems  # noqa: E402

TOLERANCE = 1e-6
MAX_ITERATIONS = 3000
# The graph model costs ~10 matrix products per application in Python; on
# larger systems its runs would dominate the report's time.
GRAPH_MAX_ROWS = 40000


def log(*args):
    print(*args, flush=True)


def right_hand_side(system, seed):
    generator = torch.Generator().manual_seed(seed)
    return system.project(torch.randn(system.rows, dtype=torch.float64, generator=generator))


def load(path):
    model = torch.jit.load(path)
    model.eval()
    return model


def iterations(system, b, method, model=None, kind=None):
    """(iterations or None if not converged, seconds) of one method."""
    start = time.time()
    if method == "CG":
        result = solvers.pcg(system, b, contract.identity, tolerance=TOLERANCE,
                             max_iterations=MAX_ITERATIONS)
    elif method == "Jacobi-CG":
        result = solvers.pcg(system, b, contract.jacobi(system), tolerance=TOLERANCE,
                             max_iterations=MAX_ITERATIONS)
    elif method == "DIC-PCG":
        result = solvers.pcg(system, b, solvers.DIC(system), tolerance=TOLERANCE,
                             max_iterations=MAX_ITERATIONS)
    else:
        M = contract.learned_preconditioner(model, kind, system)
        result = solvers.flexible_cg(system, b, M, tolerance=TOLERANCE,
                                     max_iterations=MAX_ITERATIONS)
    count, converged = result[0], result[1]
    return (count if converged else None), time.time() - start


def application_seconds(model, kind, system, repeat=3):
    """Wall time of one preconditioner application (scaling + network)."""
    M = contract.learned_preconditioner(model, kind, system)
    r = right_hand_side(system, 1)
    M(r)
    start = time.time()
    for _ in range(repeat):
        M(r)
    return (time.time() - start)/repeat


def cases(quick):
    # 128^3 is left out: the grid model needs ~3 s per application there in
    # Python on one thread, and its count already doubles from 32^3 to 64^3.
    if quick:
        return [(32, 32), (12, 12, 12)]
    return [(64, 64), (128, 128), (256, 256), (32, 32, 32), (64, 64, 64)]


def plot_losses(report):
    path = os.path.join(report, "losses.json")
    if not os.path.exists(path):
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(path) as f:
        losses = json.load(f)
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, history in losses.items():
        window = max(1, len(history)//50)
        smooth = [sum(history[i:i + window])/window for i in range(0, len(history) - window + 1)]
        ax.plot(range(window, len(history) + 1), smooth, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("1 - (b.z)^2/(z.Az b.A^-1b)  (running mean)")
    ax.set_yscale("log")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    out = os.path.join(report, "loss_curves.png")
    fig.savefig(out, dpi=100)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    os.makedirs(args.report, exist_ok=True)
    learned = {}
    for name, kind in (("grid2d", "grid"), ("grid3d", "grid"), ("graph", "graph")):
        path = os.path.join(args.models, f"{name}.pt")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such model (run training/preconditioner/Allrun)")
        learned[name] = (load(path), kind)

    rows = []
    for grid in cases(args.quick):
        for bc in systems.BOUNDARY_CONDITIONS:
            system = systems.poisson(grid, bc)
            b = right_hand_side(system, args.seed)
            grid_model = "grid2d" if len(grid) == 2 else "grid3d"
            methods = ["CG", "Jacobi-CG", "DIC-PCG", grid_model, "graph"]
            if system.rows > GRAPH_MAX_ROWS:
                methods.remove("graph")
            row = {"grid": list(grid), "bc": bc}
            for method in methods:
                model, kind = learned.get(method, (None, None))
                count, seconds = iterations(system, b, method, model, kind)
                row[method if method in ("CG", "Jacobi-CG", "DIC-PCG") else
                    f"{kind} model"] = count
                row[f"seconds {method}"] = seconds
                log(f"  {system.name}: {method} {count if count is not None else 'not converged'}"
                    f" iterations ({seconds:.1f} s)")
            rows.append(row)

    timing = []
    for grid in ([(64, 64, 64), (128, 128, 128)] if not args.quick else [(16, 16, 16)]):
        system = systems.poisson(grid, systems.DIRICHLET)
        entry = {"grid": list(grid),
                 "grid3d": application_seconds(*learned["grid3d"], system)}
        if system.rows <= 64**3:
            entry["graph"] = application_seconds(*learned["graph"], system)
        start = time.time()
        b = right_hand_side(system, 1)
        for _ in range(10):
            system.matvec(b)
        entry["matvec"] = (time.time() - start)/10
        timing.append(entry)
        log(f"  time per application at {grid}: {entry}")

    with open(os.path.join(args.report, "results.json"), "w") as f:
        json.dump({"iterations": rows, "timing": timing}, f, indent=1)
    plot = plot_losses(args.report)
    write_report(args.report, rows, timing, plot)
    log(f"wrote {args.report}/report.md")


def write_report(report, rows, timing, plot):
    def cell(value):
        return "—" if value is None else str(value)

    lines = ["# Learned preconditioners: iterations (training/preconditioner)", "",
             "Regenerated by `training/preconditioner/Allrun` (training, then `evaluate.py`).",
             f"Iterations to |r| <= {TOLERANCE:g} |b| from x = 0, white-noise right-hand side",
             "(zero mean for Neumann), finite-volume Poisson matrix with unit spacing.",
             "The right-hand side is evaluate.right_hand_side's; the benchmark",
             "bench/learnedPreconditionerPoisson draws another, so its counts differ by a few",
             "percent. On one system and right-hand side the two agree (ctest",
             "dealii.bench.learnedPreconditioner).",
             "CG / Jacobi-CG / DIC-PCG: classical PCG (DIC = OpenFOAM's DIC = IC(0) here).",
             "grid / graph: the shipped models in the Python twin of mlcfd::FlexibleCG",
             "with its defaults (2 kept directions, exact line search, per step the",
             "better of the network's and the CG direction, plain CG alongside: each",
             "step costs one network application and three matrix products).",
             f"— = not run (graph model: systems over {GRAPH_MAX_ROWS} rows), or not converged",
             "in 3000.", "",
             "| grid | BC | CG | Jacobi-CG | DIC-PCG | grid model | graph model | grid / DIC |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        ratio = "—"
        if row.get("grid model") is not None and row.get("DIC-PCG"):
            ratio = f"{row['grid model']/row['DIC-PCG']:.2f}"
        lines.append(f"| {'x'.join(map(str, row['grid']))} | {row['bc']} | {cell(row.get('CG'))} | "
                     f"{cell(row.get('Jacobi-CG'))} | {cell(row.get('DIC-PCG'))} | "
                     f"{cell(row.get('grid model'))} | {cell(row.get('graph model'))} | {ratio} |")
    lines += ["", "Time per application (one thread, this machine; Python, float32 model):", "",
              "| grid | grid3d model [s] | graph model [s] | one matrix product [s] |",
              "|---|---|---|---|"]
    for entry in timing:
        graph = f"{entry['graph']:.3f}" if "graph" in entry else "—"
        lines.append(f"| {'x'.join(map(str, entry['grid']))} | {entry['grid3d']:.3f} | {graph} | "
                     f"{entry['matvec']:.4f} |")
    if plot:
        lines += ["", "Training losses: ![loss curves](loss_curves.png)"]
    with open(os.path.join(report, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
