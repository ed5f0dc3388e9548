#!/usr/bin/python3
"""Tests of common/python/mlcfd_constraints.py: gradients against finite
differences (torch.autograd.gradcheck, double), constraint residuals at
round-off, the closed-form one-row case, and a case file that the C++ test
LinearConstraint.AgreesWithPython reads.

    test_constraints.py SCRATCH_DIR
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "common", "python"))
import mlcfd_constraints as mc  # noqa: E402

torch.manual_seed(0)
dtype = torch.float64
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def random_sparse(m, n, per_row):
    dense = torch.zeros(m, n, dtype=dtype)
    for i in range(m):
        dense[i, torch.randint(0, n, (per_row,))] = torch.randn(per_row, dtype=dtype)
    return dense


def divergence(nx, ny):
    """Cell divergence of a face flux (same numbering as the C++ test)."""
    rows, cols, vals = [], [], []
    y_faces = (nx + 1)*ny
    for j in range(ny):
        for i in range(nx):
            c = j*nx + i
            for col, v in ((j*(nx + 1) + i, -1.0), (j*(nx + 1) + i + 1, 1.0),
                           (y_faces + j*nx + i, -1.0), (y_faces + (j + 1)*nx + i, 1.0)):
                rows.append(c)
                cols.append(col)
                vals.append(v)
    return mc.SparseMatrix(rows, cols, torch.tensor(vals, dtype=dtype),
                           (nx*ny, (nx + 1)*ny + nx*(ny + 1)))


# Residuals at round-off: dense, CG, rank-deficient (redundant sum row).
A = random_sparse(8, 60, 10)
G = mc.SparseMatrix.from_dense(A)
mu, b = torch.randn(60, dtype=dtype), torch.randn(8, dtype=dtype)
var = torch.rand(60, dtype=dtype) + 0.1
for solver in ("dense", "cg"):
    u = mc.probconserv_update(mu, G, b, variance=var, solver=solver)
    check(mc.residual(u, G, b, mu) <= 1e-12, f"random G, {solver}: residual {mc.residual(u, G, b, mu):.1e}")

D = divergence(32, 32)
flux, source = torch.randn(D.shape[1], dtype=dtype), 0.01*torch.randn(D.shape[0], dtype=dtype)
u = mc.project(flux, D, source, solver="cg")
check(mc.residual(u, D, source, flux) <= 1e-12,
      f"32x32 divergence, cg: residual {mc.residual(u, D, source, flux):.1e}")
u_dense = mc.project(flux, D, source, solver="dense")
check(float((u - u_dense).abs().max()) <= 1e-11, "32x32 divergence: cg == dense")

Ad = D.dense()
Ar = torch.cat([Ad, Ad.sum(0, keepdim=True)])
br = torch.cat([source, source.sum().reshape(1)])
u = mc.project(flux, Ar, br, solver="dense")   # singular factor: falls back to CG
check(mc.residual(u, Ar, br, flux) <= 1e-12,
      f"rank-deficient divergence: residual {mc.residual(u, Ar, br, flux):.1e}")
check(float((u - u_dense).abs().max()) <= 1e-11, "rank-deficient: same projection as full-rank G")

# Closed form, one row, Sigma = I, sigma2 > 0.
g = torch.tensor([[1.0, -2.0, 0.0, 3.0]], dtype=dtype)
m0 = torch.tensor([0.5, 0.25, 2.0, -1.0], dtype=dtype)
mean, variance = mc.probconserv_update(m0, g, torch.tensor([0.3], dtype=dtype),
                                       constraint_variance=0.7, return_variance=True)
expected = m0 - g[0]*(float(g[0] @ m0) - 0.3)/(14 + 0.7)
check(torch.allclose(mean, expected, rtol=0, atol=1e-15), "one row, sigma2 = 0.7: closed-form mean")
check(torch.allclose(variance, 1 - g[0]**2/14.7, rtol=0, atol=1e-15), "one row: closed-form variance")

# Gradients against finite differences.
A = random_sparse(5, 12, 4)
G = mc.SparseMatrix.from_dense(A)
mu = torch.randn(3, 12, dtype=dtype, requires_grad=True)   # a batch of 3
b = torch.randn(5, dtype=dtype, requires_grad=True)
var = (torch.rand(12, dtype=dtype) + 0.5).requires_grad_()
for solver in ("dense", "cg"):
    check(torch.autograd.gradcheck(
        lambda mu, var, b: mc.probconserv_update(mu, G, b, variance=var, solver=solver),
        (mu, var, b)), f"gradcheck mean update ({solver}): d/d mean, variance, b")
    check(torch.autograd.gradcheck(
        lambda mu, var, b: mc.probconserv_update(mu, G, b, variance=var, solver=solver,
                                                 constraint_variance=0.3),
        (mu, var, b)), f"gradcheck soft update, sigma2 = 0.3 ({solver})")
check(torch.autograd.gradcheck(
    lambda mu, var, b: mc.probconserv_update(mu, G, b, variance=var, return_variance=True,
                                             constraint_variance=0.1),
    (mu, var, b)), "gradcheck (mean, variance) update (dense)")
values = A[A != 0].clone().requires_grad_()
rows, cols = torch.nonzero(A, as_tuple=True)
check(torch.autograd.gradcheck(
    lambda v: mc.project(mu.detach(), mc.SparseMatrix(rows, cols, v, A.shape), b.detach(), solver="dense"),
    (values,)), "gradcheck projection w.r.t. G's values (dense)")

# Dirichlet lift: exact values, zero gradient on constrained entries.
u_net = torch.randn(10, dtype=dtype, requires_grad=True)
dofs, g_values = [0, 4, 9], torch.tensor([1.0, -2.0, 1/3], dtype=dtype)
lifted = mc.dirichlet_lift(u_net, dofs, g_values)
check(bool((lifted[dofs] == g_values).all()), "dirichlet_lift: constrained values exact")
lifted.sum().backward()
check(u_net.grad.tolist() == [0.0 if k in dofs else 1.0 for k in range(10)],
      "dirichlet_lift: gradient zero on constrained entries, one elsewhere")
check(torch.autograd.gradcheck(lambda u: mc.dirichlet_lift(u, dofs, g_values), (u_net.detach().requires_grad_(),)),
      "gradcheck dirichlet_lift")
batch = torch.randn(2, 10, dtype=dtype)
per_sample = torch.stack([g_values, -g_values])
lifted = mc.dirichlet_lift(batch, dofs, per_sample)
check(bool((lifted[:, dofs] == per_sample).all()) and
      bool((lifted[:, [1, 2, 3, 5, 6, 7, 8]] == batch[:, [1, 2, 3, 5, 6, 7, 8]]).all()),
      "dirichlet_lift: one set of values per sample, the rest kept")

# bounded_update: one conservation law with bounds (a maximum principle).
n, batch_size = 40, 3
w = torch.rand(n, dtype=dtype) + 0.5
raw = 1.6*torch.rand(batch_size, n, dtype=dtype) - 0.3   # leaves [0, 1] on both sides
var = torch.rand(batch_size, n, dtype=dtype) + 0.1
lower, upper = torch.zeros(n, dtype=dtype), torch.ones(n, dtype=dtype)
b = w.sum()*torch.tensor([0.3, 0.5, 0.7], dtype=dtype)
u = mc.bounded_update(raw, w, b, lower, upper, variance=var)
check(float(((u*w).sum(-1) - b).abs().max()/b.abs().max()) <= 1e-14,
      f"bounded_update: w . u = b to {float(((u*w).sum(-1) - b).abs().max()/b.abs().max()):.1e}")
check(bool((u >= lower - 1e-15).all()) and bool((u <= upper + 1e-15).all()), "bounded_update: bounds hold")
active = (u <= lower) | (u >= upper)
check(bool(active.any(1).all()) and bool((~active).any(1).all()), "bounded_update: the case has active and free entries")
# KKT: one lambda on the free entries; an entry held at a bound would move
# beyond it with that lambda.
lam = (u - raw)/(var*w)
free_lam = torch.where(~active, lam, torch.nan)
spread = (free_lam.nan_to_num(-1e300).amax(1) - free_lam.nan_to_num(1e300).amin(1)).abs().max()
common = free_lam.nanmean(1, keepdim=True)
beyond = (raw + common*var*w)
check(float(spread) <= 1e-10 and bool((beyond[u <= lower] <= 1e-12).all()) and bool((beyond[u >= upper] >= 1 - 1e-12).all()),
      f"bounded_update: KKT conditions hold (lambda spread {float(spread):.1e})")
inside = 0.25 + 0.5*torch.rand(batch_size, n, dtype=dtype)
near = (inside*w).sum(-1) + 0.01*w.sum()
check(float((mc.bounded_update(inside, w, near, lower, upper, variance=var) -
             mc.probconserv_update(inside, w.reshape(1, -1), near.reshape(-1, 1), variance=var)).abs().max()) <= 1e-14,
      "bounded_update: equals probconserv_update when no bound is active")
check(torch.autograd.gradcheck(lambda m, v, c: mc.bounded_update(m, w, c, lower, upper, variance=v),
                               (raw.clone().requires_grad_(), var.clone().requires_grad_(), b.clone().requires_grad_())),
      "gradcheck bounded_update w.r.t. mean, variance and b")
try:
    mc.bounded_update(raw, w, 2*w.sum()*torch.ones(batch_size, dtype=dtype), lower, upper)
    check(False, "bounded_update: infeasible b refused")
except ValueError as error:
    check("no u satisfies" in str(error), f"bounded_update: infeasible b refused ({error})")

# The case the C++ test reads: G, mu, variance, b, sigma2 and our results.
A = random_sparse(6, 20, 5)
mu, b = torch.randn(20, dtype=dtype), torch.randn(6, dtype=dtype)
var = torch.rand(20, dtype=dtype) + 0.2
sigma2 = 0.05
mean, variance = mc.probconserv_update(mu, A, b, variance=var, constraint_variance=sigma2,
                                       return_variance=True)
projection = mc.project(mu, A, b)
os.makedirs(sys.argv[1], exist_ok=True)
with open(os.path.join(sys.argv[1], "constraint_case.txt"), "w") as f:
    f.write(f"6 20 {sigma2!r}\n")
    for t in (A.flatten(), mu, var, b, mean, variance, projection):
        f.write(" ".join(repr(float(x)) for x in t) + "\n")
print("wrote", os.path.join(sys.argv[1], "constraint_case.txt"))

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
