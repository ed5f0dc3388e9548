#!/usr/bin/python3
"""Python twin of mlcfd::FlexibleCG (common/src/FlexibleCG.cpp) and the
classical preconditioners the learned ones are compared with.

flexible_cg: each direction is M(r) A-orthogonalised against the last
`kept` directions, exact line search; with `safeguard` every step also
evaluates the plain CG direction and takes whichever lowers the error's
A-norm more (the C++ default). kept = 1 without safeguard and a fixed SPD M
is classical PCG.
"""
import math

import numpy as np
import torch


def flexible_cg(system, b, precondition, tolerance=1e-6, max_iterations=2000,
                kept=2, safeguard=True):
    """Solve A x = b from x = 0; returns (iterations, converged, history of
    |r|/|b|, fallbacks)."""
    A = system.matvec
    b = system.project(b)
    x = torch.zeros_like(b)
    r = b.clone()
    norm_b = float(b.norm())
    history = [1.0]
    if norm_b == 0:
        return 0, True, history, 0
    directions = []
    fallbacks = 0
    iterations = 0

    def orthogonalise(p):
        for d, Ad, dAd in directions:
            p = p - (p.dot(Ad)/dAd)*d
        return p

    while history[-1] > tolerance and iterations < max_iterations:
        z = precondition(r)
        useful = bool(torch.isfinite(z).all())
        rz = pAp = 0.0
        Az = None
        if useful:
            z = orthogonalise(z)
            rz = float(r.dot(z))
            useful = math.isfinite(rz) and rz > 0
        if useful:
            Az = A(z)
            pAp = float(z.dot(Az))
            useful = math.isfinite(pAp) and pAp > 0
        if not useful or safeguard:
            c = orthogonalise(r.clone())
            Ac = A(c)
            rc = float(r.dot(c))
            cAc = float(c.dot(Ac))
            if not cAc > 0:
                raise RuntimeError(f"p.A p = {cAc} <= 0: the operator is not positive definite")
            if not useful or rc*rc/cAc > rz*rz/pAp:
                fallbacks += 1
                z, Az, pAp = c, Ac, cAc
        alpha = float(r.dot(z))/pAp
        x = x + alpha*z
        r = r - alpha*Az
        iterations += 1
        directions.append((z, Az, pAp))
        if len(directions) > kept:
            directions.pop(0)
        history.append(float(r.norm())/norm_b)
    converged = history[-1] <= tolerance
    return iterations, converged, history, fallbacks


def pcg(system, b, precondition, **options):
    """Classical preconditioned CG (fixed SPD M)."""
    return flexible_cg(system, b, precondition, kept=1, safeguard=False, **options)


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
