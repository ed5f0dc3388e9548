#!/usr/bin/python3
"""How far can a factor of DIC's form, M = (D + L) D^-1 (D + L)^T on A's own
pattern, get below the best constant MIC? Upper bounds for a learned
incomplete factorisation (issue 13), fitted to one matrix:

  1. per-row MIC: omega_i = clip(p0 + p1 log10 c_i + p2 [boundary row]
     + p3 log10(A_ii / mean A_ii)) (c_i: the ratio of the row's largest to
     smallest coupling), the four p fitted by Nelder-Mead;
  2. the oracle: D and every off-diagonal of L on A's pattern free, fitted
     by Adam from MIC(0.99).

Both minimise the log A-norm error after a few PCG steps over random
right-hand sides; iterations to 1e-6 are counted on a held-out one. The
system: the training's finite-volume Poisson matrix (systems.poisson) on an
n x n (--dim 2) or n x n x n (--dim 3) grid, Dirichlet, with log-normal cell
coefficients of the given contrast (systems.cell_coefficients, seed 3).
Dense triangular solves: keep n^dim below about 2500 (32 to 48 in 2D, 12
in 3D).

    bench/learnedFactorOracle.py [--n 32] [--dim 2] [--contrast 1e3] [--steps 600]
        [--output bench/results/learned_factor_oracle.md]
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import scipy.optimize
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "training", "preconditioner"))
import systems  # noqa: E402

torch.set_num_threads(1)


def mic_diagonal(A, L, omega):
    """D of the DIC form by the MIC recurrence for the strict lower L and per-row omega."""
    n = A.shape[0]
    D = np.zeros(n)
    upper_sum = L.T.sum(axis=1)
    for u in range(n):
        cols = np.nonzero(L[u, :u])[0]
        a = L[u, cols]
        d = A[u, u] - np.sum(a * (a + omega[u] * (upper_sum[cols] - a)) / D[cols])
        if not 0 < d <= A[u, u]:
            d = A[u, u] - np.sum(a * a / D[cols])
        D[u] = d
    return D


def apply(L, D, R):
    F = torch.diag(D) + L
    Y = torch.linalg.solve_triangular(F, R, upper=False)
    return torch.linalg.solve_triangular(F.T, D[:, None] * Y, upper=True)


def pcg_iterations(A, L, D, b, tol=1e-6, limit=5000):
    x = torch.zeros_like(b)
    r = b.clone()
    z = apply(L, D, r[:, None])[:, 0]
    p, rz = z.clone(), r @ z
    for it in range(1, limit):
        q = A @ p
        alpha = rz / (p @ q)
        x, r = x + alpha * p, r - alpha * q
        if r.norm() <= tol * b.norm():
            return it
        z = apply(L, D, r[:, None])[:, 0]
        rz_new = r @ z
        p, rz = z + rz_new / rz * p, rz_new
    return limit


def energy_loss(A, Ainv, L, D, B, steps):
    """Mean log of the A-norm error after `steps` PCG steps, relative to x = 0's."""
    X = torch.zeros_like(B)
    R = B.clone()
    Z = apply(L, D, R)
    P, RZ = Z.clone(), (R * Z).sum(0)
    for _ in range(steps):
        Q = A @ P
        alpha = RZ / (P * Q).sum(0)
        X, R = X + alpha * P, R - alpha * Q
        Z = apply(L, D, R)
        RZ_new = (R * Z).sum(0)
        P, RZ = Z + RZ_new / RZ * P, RZ_new
    E = X - Ainv @ B
    X0 = Ainv @ B
    return torch.log((E * (A @ E)).sum(0) / (X0 * (A @ X0)).sum(0)).mean()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--dim", type=int, choices=(2, 3), default=2)
    parser.add_argument("--contrast", type=float, default=1e3)
    parser.add_argument("--steps", type=int, default=600, help="Adam steps of the oracle")
    parser.add_argument("--output", default=os.path.join(HERE, "results", "learned_factor_oracle.md"))
    args = parser.parse_args(argv)
    start = time.time()

    n = args.n
    grid = (n,) * args.dim
    k = systems.cell_coefficients(grid, args.contrast, seed=3)
    S = systems.poisson(grid, systems.DIRICHLET, coefficient=k)
    N = n ** args.dim
    A = np.zeros((N, N))
    for i in range(N):
        for e in range(S.row_start[i], S.row_start[i + 1]):
            A[i, S.column[e]] = S.value[e]
    L0 = np.tril(A, -1)
    At, L0t = torch.tensor(A), torch.tensor(L0)
    Ainv = torch.linalg.inv(At)
    mask = torch.tensor(L0 != 0)
    generator = torch.Generator().manual_seed(0)
    b_test = torch.rand(N, dtype=torch.float64, generator=generator) * 2 - 1

    rows = []

    def record(label, D, L=L0t):
        iterations = pcg_iterations(At, L, torch.as_tensor(D), b_test)
        rows.append((label, iterations))
        print(f"  {label}: {iterations} iterations ({time.time() - start:.0f} s)", flush=True)
        return iterations

    for omega in (0.0, 0.9, 0.95, 0.97, 0.99, 1.0):
        record(f"{'DIC' if omega == 0 else 'MIC'} omega {omega:g}", mic_diagonal(A, L0, np.full(N, omega)))

    # 1. Per-row omega from local features, fitted.
    off = -np.where(np.eye(N, dtype=bool), 0, A)
    largest = off.max(axis=1)
    smallest = np.where(off > 0, off, np.inf).min(axis=1)
    features = np.stack([np.log10(largest / smallest), (A.sum(axis=1) > 1e-12 * np.diag(A)).astype(float),
                         np.log10(np.diag(A) / np.diag(A).mean())], axis=1)
    B_fit = torch.rand(N, 8, dtype=torch.float64, generator=generator) * 2 - 1

    def omegas(p):
        return np.clip(p[0] + features @ p[1:], 0, 1)

    def objective(p):
        return float(energy_loss(At, Ainv, L0t, torch.tensor(mic_diagonal(A, L0, omegas(p))), B_fit, 12))

    fit = scipy.optimize.minimize(objective, [0.99, 0, 0, 0], method="Nelder-Mead",
                                  options={"maxfev": 80, "initial_simplex": [[0.99, 0, 0, 0], [0.95, 0, 0, 0],
                                           [0.99, -0.02, 0, 0], [0.99, 0, -0.05, 0], [0.99, 0, 0, -0.05]]})
    record("per-row MIC, 4 parameters fitted (p = " + ", ".join(f"{v:.3f}" for v in fit.x) + ")",
           mic_diagonal(A, L0, omegas(fit.x)))

    # 2. The oracle: D and L on A's pattern free.
    log_D = torch.log(torch.tensor(mic_diagonal(A, L0, np.full(N, 0.99)))).requires_grad_(True)
    L = L0t.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([log_D, L], lr=3e-3)
    best = math.inf
    for step in range(1, args.steps + 1):
        B = torch.rand(N, 8, dtype=torch.float64, generator=generator) * 2 - 1
        optimiser.zero_grad()
        loss = energy_loss(At, Ainv, L * mask, torch.exp(log_D), B, 12)
        loss.backward()
        optimiser.step()
        if step % 100 == 0 or step == args.steps:
            with torch.no_grad():
                iterations = pcg_iterations(At, L * mask, torch.exp(log_D), b_test)
            best = min(best, iterations)
            print(f"  oracle step {step}: {iterations} iterations ({time.time() - start:.0f} s)", flush=True)
    rows.append((f"oracle: D and L on A's pattern, {args.steps} Adam steps (best of the checkpoints)", best))

    dic = rows[0][1]
    best_mic = min(it for label, it in rows if label.startswith("MIC"))
    lines = ["# How far below MIC can a factor of DIC's form go? (issue 13)", "",
             f"`bench/learnedFactorOracle.py --n {n} --dim {args.dim} --contrast {args.contrast:g}"
             f" --steps {args.steps}` ({time.time() - start:.0f} s): {n}^{args.dim} finite-volume Poisson,"
             f" Dirichlet, log-normal cell"
             f" coefficients of contrast {args.contrast:g}; PCG to 1e-6 on a held-out right-hand side."
             " The fits see this one matrix (upper bounds for a model that must generalise).", "",
             "| factor | iterations | / DIC | / best constant MIC |", "|---|---:|---:|---:|"]
    for label, it in rows:
        lines.append(f"| {label} | {it} | {it / dic:.2f} | {it / best_mic:.2f} |")
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
