#!/usr/bin/python3
"""Python twin of mlcfd::FlexibleCG (common/src/FlexibleCG.cpp) and the
classical preconditioners the learned ones are compared with.

flexible_cg: each direction is M(r) A-orthogonalised against the last
`kept` directions, exact line search (either sign of r.z); with
`compare_with_cg` every step also evaluates the plain CG direction and takes
whichever lowers the error's A-norm more; with `safeguard` plain CG runs
alongside and the first of the two to converge wins (never more iterations
than CG). These are the C++ defaults. kept = 1 with neither and a fixed SPD M
is classical PCG.
"""
import math

import numpy as np
import torch


def flexible_cg(system, b, precondition, tolerance=1e-6, max_iterations=2000,
                kept=2, compare_with_cg=True, safeguard=True, abandon_ratio=10.0):
    """Solve A x = b from x = 0; returns (iterations, converged, history of
    |r|/|b| (with the safeguard the smaller of the two methods'), steps that
    took the CG direction)."""
    A = system.matvec
    b = system.project(b)
    x = torch.zeros_like(b)
    r = b.clone()
    norm_b = float(b.norm())
    history = [1.0]
    if norm_b == 0:
        return 0, True, history, 0
    directions = []
    cg_steps = 0
    iterations = 0
    # The safeguard's plain CG.
    r_cg = r.clone()
    p_cg = r.clone()
    rr_cg = float(r.dot(r))
    norm_r = norm_r_cg = norm_b
    preconditioned = True

    def orthogonalise(p):
        for d, Ad, dAd in directions:
            p = p - (p.dot(Ad)/dAd)*d
        return p

    def positive(pAp):
        if not pAp > 0:
            raise RuntimeError(f"p.A p = {pAp} <= 0: the operator is not positive definite")
        return pAp

    while iterations < max_iterations:
        if preconditioned:
            z = precondition(r)
            useful = bool(torch.isfinite(z).all())
            rz = pAp = 0.0
            Az = None
            if useful:
                z = orthogonalise(z)
                rz = float(r.dot(z))
                useful = math.isfinite(rz) and rz != 0
            if useful:
                Az = A(z)
                pAp = float(z.dot(Az))
                useful = math.isfinite(pAp) and pAp > 0
            if not useful or compare_with_cg:
                c = orthogonalise(r.clone())
                Ac = A(c)
                rc = float(r.dot(c))
                cAc = positive(float(c.dot(Ac)))
                if not useful or rc*rc/cAc > rz*rz/pAp:
                    cg_steps += 1
                    z, Az, pAp = c, Ac, cAc
            alpha = float(r.dot(z))/positive(pAp)
            x = x + alpha*z
            r = r - alpha*Az
            directions.append((z, Az, pAp))
            if len(directions) > kept:
                directions.pop(0)
            norm_r = float(r.norm())
        if safeguard:
            Ap_cg = A(p_cg)
            alpha = rr_cg/positive(float(p_cg.dot(Ap_cg)))
            r_cg = r_cg - alpha*Ap_cg
            rr_new = float(r_cg.dot(r_cg))
            p_cg = r_cg + (rr_new/rr_cg)*p_cg
            rr_cg = rr_new
            norm_r_cg = math.sqrt(rr_cg)
        iterations += 1
        best = min(norm_r, norm_r_cg) if safeguard else norm_r
        history.append(best/norm_b)
        if history[-1] <= tolerance:
            break
        if safeguard and preconditioned and abandon_ratio > 0 and norm_r_cg*abandon_ratio < norm_r:
            preconditioned = False
            norm_r = math.inf
    converged = history[-1] <= tolerance
    return iterations, converged, history, cg_steps


def pcg(system, b, precondition, **options):
    """Classical preconditioned CG (fixed SPD M)."""
    return flexible_cg(system, b, precondition, kept=1, compare_with_cg=False,
                       safeguard=False, **options)


class DIC:
    """Diagonal incomplete Cholesky, OpenFOAM's DIC: M = (D + L) D^-1 (D + U)
    with L, U the strict triangles of A and D_c = A_cc - sum_{n<c} A_cn^2/D_n.
    For 5- and 7-point stencils this is IC(0). The triangular sweeps run
    level by level (cells of one level depend only on earlier levels; on a
    structured grid the levels are the diagonals i+j+k), vectorised."""

    def __init__(self, system):
        row, col, val = system.row, system.column, system.value
        lower = col < row
        self.n = system.rows
        lr, lc, lv = row[lower], col[lower], val[lower]
        upper = col > row
        ur, uc, uv = row[upper], col[upper], val[upper]
        # level = 1 + the largest level of the lower neighbours (0 without
        # any), by fixed-point iteration; lr is sorted (CSR order).
        level = np.zeros(self.n, dtype=np.int64)
        if system.grid is not None:
            # Structured grid, x fastest: the levels are the diagonals i+j+k.
            index = np.indices(system.grid[::-1]).reshape(len(system.grid), -1)
            level = index.sum(0)
        elif len(lr):
            starts = np.flatnonzero(np.r_[True, lr[1:] != lr[:-1]])
            rows_with_lower = lr[starts]
            while True:
                candidate = np.zeros(self.n, dtype=np.int64)
                candidate[rows_with_lower] = np.maximum.reduceat(level[lc], starts) + 1
                if (candidate == level).all():
                    break
                level = candidate
        self.levels = []
        order_lower = np.argsort(level[lr], kind="stable")
        order_upper = np.argsort(level[ur], kind="stable")
        lower_split = np.searchsorted(level[lr][order_lower], np.arange(level.max() + 2))
        upper_split = np.searchsorted(level[ur][order_upper], np.arange(level.max() + 2))
        cells_order = np.argsort(level, kind="stable")
        cell_split = np.searchsorted(level[cells_order], np.arange(level.max() + 2))
        # Position of each cell within its level: the sweeps sum each level's
        # couplings with bincount over the level's cells only.
        position = np.empty(self.n, dtype=np.int64)
        diag = system.diag.numpy().copy()
        for L in range(level.max() + 1):
            cells = cells_order[cell_split[L]:cell_split[L + 1]]
            position[cells] = np.arange(len(cells))
            lo = order_lower[lower_split[L]:lower_split[L + 1]]
            up = order_upper[upper_split[L]:upper_split[L + 1]]
            lower_entries = (position[lr[lo]], lc[lo], lv[lo])
            upper_entries = (position[ur[up]], uc[up], uv[up])
            diag[cells] -= np.bincount(lower_entries[0], lv[lo]**2/diag[lc[lo]],
                                       minlength=len(cells))
            self.levels.append((cells, lower_entries, upper_entries))
        self.diag = diag

    def __call__(self, r):
        y = r.numpy().copy()
        for cells, (local, col, val), _ in self.levels:
            y[cells] = (y[cells] - np.bincount(local, val*y[col], minlength=len(cells)))/self.diag[cells]
        z = y
        for cells, _, (local, col, val) in reversed(self.levels):
            z[cells] -= np.bincount(local, val*z[col], minlength=len(cells))/self.diag[cells]
        return torch.from_numpy(z)
