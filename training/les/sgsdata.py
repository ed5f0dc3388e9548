#!/usr/bin/python3
"""Filtered DNS fields, exact subgrid stresses and closure inputs.

From a DNS velocity field (hitdns.py) on N^3 points and an LES grid of n^3
cells (N a multiple of n for the box filter):

- box filter: the average over a cube of width w h centred on each LES cell
  (h = L/n; w = 1: the cell average, as a finite-volume LES stores its
  unknowns; w = 2: the scales a second-order scheme resolves well, since
  central differences represent waves shorter than about 4 h poorly, so
  those belong to the subgrid model);
- spectral cut-off: Fourier modes |k_i| < n/2 in each direction, sampled on
  the LES grid (exact, the filtered field is band-limited).

The exact SGS stress is tau_ij = filter(u_i u_j) - filter(u_i) filter(u_j).
The velocity gradient of the filtered field is taken with second-order
central differences on the LES grid, as OpenFOAM's Gauss linear gradient on
a uniform mesh, in OpenFOAM's convention A_ij = d u_j / d x_i. The invariants
and the tensor basis are the same functions as the C++ core's
(mlcfd::EddyViscosityClosure::computeFeatures, mlcfd::TensorBasisClosure::basis);
tests check Python against C++.

Tensors of 3x3 are stored row-major (9 per row); symmetric ones as
xx xy xz yy yz zz (OpenFOAM's symmTensor order).
"""
import math

import torch

from hitdns import SpectralBox

SYMM_INDEX = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
# A symmetric tensor's double contraction counts the off-diagonal pairs twice.
SYMM_WEIGHT = torch.tensor([1.0, 2.0, 2.0, 1.0, 2.0, 1.0], dtype=torch.float64)


def _box_average(field, ratio, width=1):
    """Average over windows of width*ratio points centred on each block of
    ratio points (block i covers points i ratio .. i ratio + ratio - 1),
    sampled once per block, in each of the last three (periodic) dimensions."""
    if width == 1:
        n = field.shape[-1]//ratio
        shape = field.shape[:-3] + (n, ratio, n, ratio, n, ratio)
        return field.reshape(shape).mean(dim=(-5, -3, -1))
    window = width*ratio
    if (window - ratio) % 2:
        raise ValueError(f"box filter: width {width} x {ratio} points cannot be centred")
    first = -(window - ratio)//2
    for axis in (-3, -2, -1):
        total = sum(torch.roll(field, -shift, axis) for shift in range(first, first + window))
        field = (total/window).narrow(axis, 0, field.shape[axis])
        index = torch.arange(0, field.shape[axis], ratio)
        field = field.index_select(axis if axis >= 0 else field.dim() + axis, index)
    return field


def _spectral_cutoff(field, n_les):
    """Sharp cut-off to |k_i| < n_les/2 and sampling on n_les^3 points."""
    n = field.shape[-1]
    fh = torch.fft.rfftn(field, dim=(-3, -2, -1), norm="forward")
    h = n_les//2
    out = torch.zeros(field.shape[:-3] + (n_les, n_les, h + 1), dtype=fh.dtype)
    out[..., :h, :h, :h] = fh[..., :h, :h, :h]
    out[..., -h + 1:, :h, :h] = fh[..., -h + 1:, :h, :h]
    out[..., :h, -h + 1:, :h] = fh[..., :h, -h + 1:, :h]
    out[..., -h + 1:, -h + 1:, :h] = fh[..., -h + 1:, -h + 1:, :h]
    return torch.fft.irfftn(out, s=(n_les,)*3, dim=(-3, -2, -1), norm="forward")


def filter_field(field, n_les, kind, width=1):
    """Filter the last three dimensions of @p field onto n_les^3 points
    (box filter of @p width LES cells, or spectral cut-off)."""
    n = field.shape[-1]
    if kind == "box":
        if n % n_les:
            raise ValueError(f"box filter: the DNS grid {n} is not a multiple of {n_les}")
        return _box_average(field, n//n_les, width)
    if kind == "spectral":
        return _spectral_cutoff(field, n_les)
    raise ValueError(f"unknown filter '{kind}' (box or spectral)")


def filtered_fields(u, n_les, kind="box", width=1):
    """Filtered velocity (3, n, n, n) and exact SGS stress (6, n, n, n) of the
    DNS velocity @p u (3, N, N, N), in float64."""
    u = u.to(torch.float64)
    ubar = filter_field(u, n_les, kind, width)
    tau = torch.stack([filter_field(u[i]*u[j], n_les, kind, width) - ubar[i]*ubar[j]
                       for i, j in SYMM_INDEX])
    return ubar, tau


def central_gradient(ubar, length=2*math.pi):
    """Velocity gradient (n^3, 9), A_ij = d u_j/d x_i, second-order central
    differences on the periodic grid."""
    n = ubar.shape[-1]
    h = length/n
    rows = []
    for i in range(3):
        axis = i + 1
        d = (torch.roll(ubar, -1, dims=axis) - torch.roll(ubar, 1, dims=axis))/(2*h)
        rows.append(d)
    # A[i][j] = d_i u_j
    grad = torch.stack([rows[i][j] for i in range(3) for j in range(3)])
    return grad.reshape(9, -1).T.contiguous()


def symm_rows(field):
    """(6, n, n, n) -> (n^3, 6)."""
    return field.reshape(6, -1).T.contiguous()


def sym_skew(grad):
    """S, W (rows, 3, 3) of gradients (rows, 9) and the rate scale s = |A|."""
    A = grad.reshape(-1, 3, 3)
    S = 0.5*(A + A.transpose(1, 2))
    W = 0.5*(A - A.transpose(1, 2))
    s = torch.sqrt((A*A).sum(dim=(1, 2)))
    return S, W, s


def invariants(grad):
    """The six closure inputs (rows, 6) and the rate scale s (rows) of
    velocity gradients (rows, 9): tr S/s, tr S^2/s^2, tr W^2/s^2,
    tr S^3/s^3, tr W^2 S/s^3, tr W^2 S^2/s^4 (zero where s = 0)."""
    S, W, s = sym_skew(grad)
    S2 = S @ S
    W2 = W @ W
    tr = lambda X: X.diagonal(dim1=1, dim2=2).sum(-1)
    safe = torch.where(s > 0, s, torch.ones_like(s))
    f = torch.stack((tr(S)/safe, tr(S2)/safe**2, tr(W2)/safe**2, tr(S2 @ S)/safe**3,
                     tr(W2 @ S)/safe**3, tr(W2 @ S2)/safe**4), dim=1)
    return torch.where((s > 0).unsqueeze(1), f, torch.zeros_like(f)), s


def tensor_basis(grad, count):
    """The first @p count of Pope's basis tensors (rows, count, 3, 3) of the
    normalised rates S/s, W/s (same order and signs as the C++ core)."""
    S, W, s = sym_skew(grad)
    safe = torch.where(s > 0, s, torch.ones_like(s)).view(-1, 1, 1)
    S = S/safe
    W = W/safe
    eye = torch.eye(3, dtype=S.dtype)

    def dev(X):
        return X - X.diagonal(dim1=1, dim2=2).sum(-1).view(-1, 1, 1)*eye/3

    S2, W2 = S @ S, W @ W
    T = [S, S @ W - W @ S, dev(S2), dev(W2), W @ S2 - S2 @ W, dev(W2 @ S + S @ W2),
         W @ S @ W2 - W2 @ S @ W, S @ W @ S2 - S2 @ W @ S, dev(W2 @ S2 + S2 @ W2),
         W @ S2 @ W2 - W2 @ S2 @ W]
    if not 1 <= count <= len(T):
        raise ValueError(f"tensor basis: count {count} outside 1..10")
    return torch.stack(T[:count], dim=1)


def to_symm(T):
    """(..., 3, 3) -> (..., 6) in symmTensor order."""
    return torch.stack([T[..., i, j] for i, j in SYMM_INDEX], dim=-1)


def deviatoric(tau):
    """Deviatoric part of symmTensor rows (rows, 6)."""
    trace = (tau[:, 0] + tau[:, 3] + tau[:, 5])/3
    out = tau.clone()
    out[:, 0] -= trace
    out[:, 3] -= trace
    out[:, 5] -= trace
    return out


def contract(a, b):
    """a:b of symmTensor rows (rows, 6)."""
    return (a*b*SYMM_WEIGHT.to(a.dtype)).sum(-1)


def strain_rows(grad):
    S, _, _ = sym_skew(grad)
    return to_symm(S)


def snapshot_rows(u, n_les, kind="box", width=1):
    """All training columns of one DNS field on one LES grid: a dict of
    gradU (rows, 9), tau (rows, 6, exact SGS stress), delta (rows: the grid
    spacing, OpenFOAM's cubeRootVol delta, whatever the filter width)."""
    ubar, tau = filtered_fields(u, n_les, kind, width)
    grad = central_gradient(ubar)
    delta = torch.full((grad.shape[0],), 2*math.pi/n_les, dtype=torch.float64)
    return {"gradU": grad, "tau": symm_rows(tau), "delta": delta, "ubar": ubar}


def velocity(uh):
    """Physical velocity (3, N, N, N) of a hitdns field."""
    n = uh.shape[-2]
    return SpectralBox(n, torch.float64).to_physical(uh.to(torch.complex128))
