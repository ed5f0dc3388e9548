#!/usr/bin/python3
"""Differentiable structure-preserving layers for training (torch autograd).

The Python twins of mlcfd::LinearConstraint and mlcfd::DirichletLift
(common/include/mlcfd/): a network trained through these layers sees the same
constrained output as the C++ core produces at inference. bounded_update
(one conservation law with bounds) has no C++ twin yet: it serves the
Python benchmarks (training/porousMedium).

ProbConserv update (Hansen et al., ICML 2023) of u ~ N(mu, Sigma), Sigma =
diag(variance) or the identity, under G u = b + N(0, sigma2 I):

    mu_new    = mu - Sigma G^T (G Sigma G^T + sigma2 I)^{-1} (G mu - b)
    Sigma_new = Sigma - Sigma G^T (G Sigma G^T + sigma2 I)^{-1} G Sigma

sigma2 = 0 enforces G u = b to round-off; variance=None (Sigma = I) is the
orthogonal projection. Gradients flow to mean, variance and b on both
solvers, and to G's values on the dense one.

    import mlcfd_constraints as mc
    G = mc.SparseMatrix.from_csr(row_start, column, value, (m, n))
    u = mc.project(u_net, G, b)                          # hard constraint
    mean, var = mc.probconserv_update(mu, G, b, variance=var,
                                      constraint_variance=0.0,
                                      return_variance=True)
    u = mc.dirichlet_lift(u_net, boundary_dofs, boundary_values)
    u = mc.bounded_update(mu, w, b, lower, upper, variance=var)   # w . u = b and bounds

Run with /usr/bin/python3 (torch 1.13). Tensors may carry leading batch
dimensions (..., n); G is shared by the batch.
"""
import torch

DENSE_ROW_LIMIT = 500
# Pivot relative to its diagonal entry below which the dense factor is
# treated as singular (rank-deficient G): the solve falls back to CG.
SINGULAR_PIVOT_RATIO = 1e-13
# Halvings of bounded_update's bracket on lambda: enough to find the
# entries held at their bounds (lambda itself is then recomputed exactly).
BOUND_BISECTIONS = 60


class SparseMatrix:
    """An m x n sparse matrix as COO index arrays (row, column, value)."""

    def __init__(self, row, column, value, shape):
        self.row = torch.as_tensor(row, dtype=torch.long)
        self.column = torch.as_tensor(column, dtype=torch.long)
        self.value = torch.as_tensor(value)
        self.shape = (int(shape[0]), int(shape[1]))
        if not (self.row.shape == self.column.shape == self.value.shape) or self.row.dim() != 1:
            raise ValueError("SparseMatrix: row, column and value must be 1-d of equal length")
        if self.row.numel():
            if int(self.row.min()) < 0 or int(self.row.max()) >= self.shape[0]:
                raise ValueError(f"SparseMatrix: a row index is outside [0, {self.shape[0]})")
            if int(self.column.min()) < 0 or int(self.column.max()) >= self.shape[1]:
                raise ValueError(f"SparseMatrix: a column index is outside [0, {self.shape[1]})")
        if not torch.isfinite(self.value).all():
            raise ValueError("SparseMatrix: a value is not finite")

    @classmethod
    def from_csr(cls, row_start, column, value, shape):
        row_start = torch.as_tensor(row_start, dtype=torch.long)
        counts = row_start[1:] - row_start[:-1]
        row = torch.repeat_interleave(torch.arange(len(counts)), counts)
        return cls(row, column, value, shape)

    @classmethod
    def from_dense(cls, dense):
        row, column = torch.nonzero(dense, as_tuple=True)
        return cls(row, column, dense[row, column], dense.shape)

    @classmethod
    def from_torch(cls, sparse):
        sparse = sparse.coalesce()
        return cls(sparse.indices()[0], sparse.indices()[1], sparse.values(), sparse.shape)

    def matvec(self, x):
        """G x for x of shape (..., n)."""
        out = x.new_zeros(x.shape[:-1] + (self.shape[0],))
        return out.index_add(-1, self.row, x[..., self.column]*self.value.to(x.dtype))

    def rmatvec(self, y):
        """G^T y for y of shape (..., m)."""
        out = y.new_zeros(y.shape[:-1] + (self.shape[1],))
        return out.index_add(-1, self.column, y[..., self.row]*self.value.to(y.dtype))

    def dense(self, dtype=torch.float64):
        out = torch.zeros(self.shape, dtype=dtype)
        return out.index_put((self.row, self.column), self.value.to(dtype), accumulate=True)


def _as_sparse(G):
    if isinstance(G, SparseMatrix):
        return G
    if isinstance(G, torch.Tensor) and G.is_sparse:
        return SparseMatrix.from_torch(G)
    if isinstance(G, torch.Tensor):
        return SparseMatrix.from_dense(G)
    raise TypeError("G must be a SparseMatrix, a torch sparse COO tensor or a dense tensor")


def _cg(G, d, sigma2, rhs, tol, max_iter):
    """Jacobi-preconditioned CG on (G D G^T + sigma2 I) x = rhs, batched over
    leading dimensions; no autograd (used inside _ConstraintSolve)."""
    diag = sigma2 + torch.zeros(rhs.shape[-1], dtype=rhs.dtype).index_add(
        0, G.row, G.value.to(rhs.dtype)**2*d[..., G.column]) if d.dim() == 1 else None
    if diag is None:  # batched variances
        diag = sigma2 + torch.zeros(d.shape[:-1] + (rhs.shape[-1],), dtype=rhs.dtype).index_add(
            -1, G.row, G.value.to(rhs.dtype)**2*d[..., G.column])
    inv_diag = torch.where(diag > 0, 1/diag, torch.ones_like(diag))

    def apply(x):
        return G.matvec(d*G.rmatvec(x)) + sigma2*x

    x = torch.zeros_like(rhs)
    r = rhs.clone()
    z = r*inv_diag
    p = z.clone()
    rz = (r*z).sum(-1, keepdim=True)
    target = tol*rhs.norm(dim=-1, keepdim=True)
    for _ in range(max_iter):
        if bool((r.norm(dim=-1, keepdim=True) <= target).all()):
            break
        q = apply(p)
        pq = (p*q).sum(-1, keepdim=True)
        alpha = torch.where(pq > 0, rz/torch.where(pq > 0, pq, torch.ones_like(pq)), torch.zeros_like(pq))
        x = x + alpha*p
        r = r - alpha*q
        z = r*inv_diag
        rz_new = (r*z).sum(-1, keepdim=True)
        beta = torch.where(rz != 0, rz_new/torch.where(rz != 0, rz, torch.ones_like(rz)), torch.zeros_like(rz))
        rz = rz_new
        p = z + beta*p
    return x


class _ConstraintSolve(torch.autograd.Function):
    """lambda = (G D G^T + sigma2 I)^{-1} r by matrix-free CG. The matrix is
    symmetric, so the adjoint is one more solve: w = A^{-1} grad_lambda,
    grad_r = w, grad_d = -(G^T w)(G^T lambda)."""

    @staticmethod
    def forward(ctx, r, d, G, sigma2, tol, max_iter):
        with torch.no_grad():
            lam = _cg(G, d, sigma2, r, tol, max_iter)
        ctx.save_for_backward(d, lam)
        ctx.G, ctx.sigma2, ctx.tol, ctx.max_iter = G, sigma2, tol, max_iter
        return lam

    @staticmethod
    def backward(ctx, grad_lambda):
        d, lam = ctx.saved_tensors
        G = ctx.G
        w = _cg(G, d, ctx.sigma2, grad_lambda, ctx.tol, ctx.max_iter)
        grad_d = None
        if ctx.needs_input_grad[1]:
            grad_d = -G.rmatvec(w)*G.rmatvec(lam)
            # Sum over batch dimensions that d was broadcast along.
            while grad_d.dim() > d.dim():
                grad_d = grad_d.sum(0)
            for i, size in enumerate(d.shape):
                if size == 1 and grad_d.shape[i] != 1:
                    grad_d = grad_d.sum(i, keepdim=True)
        return w, grad_d, None, None, None, None


def _dense_factor(Gd, d, sigma2):
    """Cholesky factor of G D G^T + sigma2 I, or None if it is singular."""
    A = (Gd*d.unsqueeze(-2)) @ Gd.transpose(-1, -2)
    A = A + sigma2*torch.eye(A.shape[-1], dtype=A.dtype)
    L, info = torch.linalg.cholesky_ex(A)
    if bool((info != 0).any()):
        return None
    pivots = torch.diagonal(L, dim1=-2, dim2=-1)**2
    diagonal = torch.diagonal(A, dim1=-2, dim2=-1)
    if bool(((pivots < SINGULAR_PIVOT_RATIO*diagonal) | (diagonal == 0)).any()):
        return None
    return L


def probconserv_update(mean, G, b, variance=None, constraint_variance=0.0, solver="auto",
                       return_variance=False, dense_row_limit=DENSE_ROW_LIMIT,
                       tol=1e-14, max_iter=None):
    """The ProbConserv mean (and, with return_variance, the diagonal of the
    covariance) after conditioning on G u = b. solver: "auto" (dense for
    m <= dense_row_limit, else "cg"), "dense" or "cg". A singular dense factor
    (rank-deficient G, sigma2 = 0) falls back to CG for the mean; the variance
    then needs the dense factor and raises."""
    G = _as_sparse(G)
    m, n = G.shape
    if mean.shape[-1] != n:
        raise ValueError(f"probconserv_update: mean has {mean.shape[-1]} entries, G has {n} columns")
    if b.shape[-1] != m:
        raise ValueError(f"probconserv_update: b has {b.shape[-1]} entries, G has {m} rows")
    if constraint_variance < 0:
        raise ValueError(f"probconserv_update: constraint_variance = {constraint_variance} is negative")
    if not torch.isfinite(mean).all() or not torch.isfinite(b).all():
        raise ValueError("probconserv_update: mean or b is not finite")
    if variance is None:
        d = torch.ones(n, dtype=mean.dtype)
    else:
        if variance.shape[-1] != n:
            raise ValueError(f"probconserv_update: variance has {variance.shape[-1]} entries, expected {n}")
        if not torch.isfinite(variance).all() or bool((variance < 0).any()):
            raise ValueError("probconserv_update: variance must be finite and >= 0")
        d = variance
    if solver not in ("auto", "dense", "cg"):
        raise ValueError(f"probconserv_update: solver '{solver}' is not auto, dense or cg")
    use_dense = solver == "dense" or (solver == "auto" and m <= dense_row_limit)
    r = G.matvec(mean) - b

    L = None
    if use_dense:
        Gd = G.dense(mean.dtype)
        L = _dense_factor(Gd, d, constraint_variance)
    if L is not None:
        lam = torch.cholesky_solve(r.unsqueeze(-1), L).squeeze(-1)
        new_mean = mean - d*(lam.unsqueeze(-2) @ Gd).squeeze(-2)
        # One step of iterative refinement, as in the C++ layer, on the
        # residual of the m x m system: r - A lambda = G mu_new - b - sigma2 lambda.
        s = (new_mean.unsqueeze(-2) @ Gd.transpose(-1, -2)).squeeze(-2) - b - constraint_variance*lam
        delta = torch.cholesky_solve(s.unsqueeze(-1), L).squeeze(-1)
        new_mean = new_mean - d*(delta.unsqueeze(-2) @ Gd).squeeze(-2)
    else:
        iterations = max_iter if max_iter is not None else 2*m + 100
        lam = _ConstraintSolve.apply(r, d, G, float(constraint_variance), tol, iterations)
        new_mean = mean - d*G.rmatvec(lam)

    if not return_variance:
        return new_mean
    if L is None:
        raise ValueError("probconserv_update: the variance update needs a nonsingular dense "
                         f"factor (m = {m} rows; use solver='dense' and a full-rank G or sigma2 > 0)")
    Z = torch.cholesky_solve(Gd.expand(L.shape[:-2] + Gd.shape), L)  # A^{-1} G
    q = (Gd*Z).sum(-2)
    new_variance = torch.clamp(d - d*d*q, min=0.0)
    return new_mean, new_variance


def bounded_update(mean, weights, b, lower, upper, variance=None, bisections=BOUND_BISECTIONS):
    """The ProbConserv mean for one conservation law w . u = b (w > 0) and
    bounds lower <= u <= upper, such as a maximum principle: the minimiser of
    sum (u - mean)^2 / variance under them, which is

        u_i = clip(mean_i + lambda variance_i w_i, lower_i, upper_i)

    with lambda found by bisection (w . u is monotone in lambda), then
    recomputed in closed form on the entries left inside their bounds, so
    that w . u = b holds to round-off and gradients flow to mean, variance,
    b and the bounds the result sits on. Without active bounds this equals
    probconserv_update with G = w. mean, variance, lower and upper are
    (..., n); weights (n,); b (...) or (..., 1)."""
    weights = torch.as_tensor(weights, dtype=mean.dtype)
    n = mean.shape[-1]
    if weights.shape != (n,):
        raise ValueError(f"bounded_update: weights has shape {tuple(weights.shape)}, expected ({n},)")
    if not bool((weights > 0).all()):
        raise ValueError("bounded_update: every weight must be > 0 (one conservation law)")
    b = torch.as_tensor(b, dtype=mean.dtype)
    if b.dim() == mean.dim() and b.shape[-1] == 1:
        b = b.squeeze(-1)
    b = b.expand(mean.shape[:-1])
    lower = torch.as_tensor(lower, dtype=mean.dtype).expand(mean.shape)
    upper = torch.as_tensor(upper, dtype=mean.dtype).expand(mean.shape)
    d = torch.ones_like(mean) if variance is None else variance
    if d.shape != mean.shape:
        raise ValueError(f"bounded_update: variance has shape {tuple(d.shape)}, mean {tuple(mean.shape)}")
    for name, value in (("mean", mean), ("b", b), ("lower", lower), ("upper", upper), ("variance", d)):
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"bounded_update: {name} is not finite")
    if bool((d <= 0).any()):
        raise ValueError("bounded_update: variance must be > 0")
    if bool((lower > upper).any()):
        raise ValueError("bounded_update: a lower bound exceeds its upper bound")
    low_mass, high_mass = (lower*weights).sum(-1), (upper*weights).sum(-1)
    slack = 1e-12*torch.maximum(low_mass.abs(), high_mass.abs()).clamp(min=1.0)
    if bool(((b < low_mass - slack) | (b > high_mass + slack)).any()):
        raise ValueError("bounded_update: b is outside [w . lower, w . upper]: no u satisfies both "
                         "the conservation law and the bounds")
    step = d*weights
    with torch.no_grad():
        lo = ((lower - mean)/step).amin(-1)
        hi = ((upper - mean)/step).amax(-1)
        for _ in range(bisections):
            middle = 0.5*(lo + hi)
            below = ((mean + middle.unsqueeze(-1)*step).clamp(lower, upper)*weights).sum(-1) < b
            lo, hi = torch.where(below, middle, lo), torch.where(below, hi, middle)
        trial = mean + (0.5*(lo + hi)).unsqueeze(-1)*step
        at_lower, at_upper = trial <= lower, trial >= upper
        free = ~(at_lower | at_upper)
    held = torch.where(at_lower, lower, torch.where(at_upper, upper, torch.zeros_like(mean)))
    free_mass = torch.where(free, mean, torch.zeros_like(mean))
    denominator = torch.where(free, step*weights, torch.zeros_like(mean)).sum(-1)
    lam = (b - (held*weights).sum(-1) - (free_mass*weights).sum(-1))/denominator.clamp(min=torch.finfo(mean.dtype).tiny)
    return torch.where(free, mean + lam.unsqueeze(-1)*step, held)


def project(u, G, b, **kwargs):
    """Orthogonal projection of u onto {G u = b} (Sigma = I, sigma2 = 0)."""
    return probconserv_update(u, G, b, variance=None, constraint_variance=0.0, **kwargs)


def dirichlet_lift(u_net, constrained, values):
    """u = u_net with u[..., constrained] = values exactly. The gradient with
    respect to u_net is zero on the constrained entries (they are replaced).
    values is (k,) or, one set per sample, (..., k)."""
    constrained = torch.as_tensor(constrained, dtype=torch.long)
    if constrained.numel() and (int(constrained.min()) < 0 or int(constrained.max()) >= u_net.shape[-1]):
        raise ValueError(f"dirichlet_lift: a constrained index is outside [0, {u_net.shape[-1]})")
    if constrained.unique().numel() != constrained.numel():
        raise ValueError("dirichlet_lift: a DoF is constrained twice")
    values = torch.as_tensor(values, dtype=u_net.dtype)
    if values.shape[-1:] != constrained.shape:
        raise ValueError(f"dirichlet_lift: {values.shape[-1] if values.dim() else 0} values for "
                         f"{constrained.numel()} constrained entries")
    mask = torch.ones(u_net.shape[-1], dtype=u_net.dtype)
    mask[constrained] = 0
    lifted = torch.zeros(values.shape[:-1] + (u_net.shape[-1],), dtype=u_net.dtype)
    lifted[..., constrained] = values
    return u_net*mask + lifted


def residual(u, G, b, reference=None):
    """|G u - b| / max(|b|, |G reference|), as mlcfd::LinearConstraint::residual."""
    G = _as_sparse(G)
    scale = b.norm()
    if reference is not None:
        scale = torch.maximum(scale, G.matvec(reference).norm())
    return float((G.matvec(u) - b).norm()/torch.clamp(scale, min=torch.finfo(u.dtype).tiny))
