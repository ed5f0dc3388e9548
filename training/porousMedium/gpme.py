#!/usr/bin/python3
"""The generalised porous medium equation (GPME) on the unit interval or
square, by finite volumes: the reference solver of the porous-medium
benchmark (bench/porousMedium) and its training data.

    du/dt = div(k(u) grad u),   zero flux on the boundary, so the mass
    integral of u stays what it was at t = 0.

Variants (ProbConserv, Hansen et al., ICML 2023, section 4):
  pme     k(u) = u^m: degenerate where u = 0, fronts move at finite speed;
          parameter m.
  stefan  k(u) = 1 where u >= u*, 0 below: a Stefan-like problem, the front is
          a jump from above u* to 0; parameter u*.

Scheme: cell averages on N (1D) or N x N (2D) cells, face conductivity the
mean of its two cells' k, explicit Euler at 0.45 of the stability limit.
Every face flux leaves one cell and enters its neighbour, so the mass is
conserved to round-off.

    /usr/bin/python3 gpme.py --variant stefan --dim 1   # prints a check
"""
import argparse
import math

import numpy as np

VARIANTS = ("pme", "stefan")
# The parameter ranges the data are drawn from (training and held out).
PARAMETER_RANGE = {"pme": (1.0, 3.0), "stefan": (0.3, 0.7)}
STABILITY_FRACTION = 0.45


def conductivity(u, variant, parameter):
    """k(u); parameter is m (pme) or u* (stefan), broadcast over the batch."""
    p = np.asarray(parameter, dtype=float).reshape((-1,) + (1,)*(u.ndim - 1))
    if variant == "pme":
        return np.maximum(u, 0.0)**p
    if variant == "stefan":
        return (u >= p).astype(float)
    raise ValueError(f"gpme: variant '{variant}' is not one of {', '.join(VARIANTS)}")


def divergence_of_flux(u, k, dx):
    """div(k grad u) with zero flux through the boundary; u is (batch, N) or
    (batch, N, N)."""
    out = np.zeros_like(u)
    for axis in range(1, u.ndim):
        lo = [slice(None)]*u.ndim
        hi = [slice(None)]*u.ndim
        lo[axis] = slice(0, -1)
        hi[axis] = slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        flux = 0.5*(k[lo] + k[hi])*(u[hi] - u[lo])/dx  # from cell i to cell i+1, negated
        out[lo] += flux/dx
        out[hi] -= flux/dx
    return out


def stable_step(n, dim, kmax=1.0):
    dx = 1.0/n
    return STABILITY_FRACTION*dx*dx/(2*dim*kmax)


def advance(u, variant, parameter, duration):
    """u after `duration` seconds (explicit Euler, equal substeps)."""
    n, dim = u.shape[-1], u.ndim - 1
    steps = max(1, math.ceil(duration/stable_step(n, dim)))
    dt, dx = duration/steps, 1.0/n
    for _ in range(steps):
        u = u + dt*divergence_of_flux(u, conductivity(u, variant, parameter), dx)
    return u


def initial_fields(rng, count, n, dim, variant, parameter):
    """Zero background with 1 to 3 boxes (1D) or rectangles (2D) of height
    between max(u*, 0) + 0.1 and 1: the sharp fronts of the hard variant."""
    x = (np.arange(n) + 0.5)/n
    u = np.zeros((count,) + (n,)*dim)
    p = np.broadcast_to(np.asarray(parameter, dtype=float), (count,))
    for s in range(count):
        low = p[s] + 0.1 if variant == "stefan" else 0.3
        for _ in range(rng.integers(1, 4)):
            mask = np.ones((n,)*dim, dtype=bool)
            for axis in range(dim):
                centre, half = rng.uniform(0.25, 0.75), rng.uniform(0.04, 0.12)
                shape = [1]*dim
                shape[axis] = n
                mask &= (np.abs(x - centre) < half).reshape(shape)
            u[s][mask] = np.maximum(u[s][mask], rng.uniform(low, 1.0))
    return u


def trajectories(rng, count, n, dim, variant, parameters, steps, interval):
    """(count, steps + 1, N[, N]) snapshots every `interval` seconds from the
    initial fields above; parameters has one entry per trajectory."""
    u = initial_fields(rng, count, n, dim, variant, parameters)
    out = [u]
    for _ in range(steps):
        u = advance(u, variant, parameters, interval)
        out.append(u)
    return np.stack(out, axis=1)


def front_error(u, reference, level, dim):
    """The area between the {u > level} sets of u and of the reference, per
    unit of the reference's front size (number of crossings in 1D, contour
    length in 2D): the mean displacement of the front, in units of the box.
    u and reference are (..., N) in 1D, (..., N, N) in 2D; returns (...)."""
    n = reference.shape[-1]
    inside, inside_ref = u > level, reference > level
    axes = tuple(range(-dim, 0))
    area = np.abs(inside.astype(float) - inside_ref).sum(axis=axes)/n**dim
    size = np.zeros(area.shape)
    for axis in axes:
        # Faces across which the reference indicator changes: crossings in 1D,
        # contour length (in faces of size 1/N) in 2D.
        size += (np.diff(inside_ref.astype(int), axis=axis) != 0).sum(axis=axes)/n**(dim - 1)
    return area/np.maximum(size, 1.0/n**(dim - 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=VARIANTS, default="stefan")
    parser.add_argument("--dim", type=int, choices=(1, 2), default=1)
    parser.add_argument("--cells", type=int, default=128)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    lo, hi = PARAMETER_RANGE[args.variant]
    p = rng.uniform(lo, hi, 4)
    u = trajectories(rng, 4, args.cells, args.dim, args.variant, p, 10, 2e-3)
    axes = tuple(range(2, u.ndim))
    mass = u.sum(axis=axes)/args.cells**args.dim
    print(f"{args.variant} {args.dim}D: relative mass change {np.abs(mass/mass[:, :1] - 1).max():.2e}, "
          f"support {np.mean(u[:, 0] > 0):.3f} -> {np.mean(u[:, -1] > 0):.3f}")


if __name__ == "__main__":
    main()
