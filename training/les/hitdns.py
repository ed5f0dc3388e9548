#!/usr/bin/python3
"""Pseudo-spectral DNS of homogeneous isotropic turbulence on LibTorch FFTs.

Incompressible Navier-Stokes in a periodic box [0, 2 pi)^3, rotational form

    du/dt = P[u x omega + f] - nu k^2 u,    P = I - k k / k^2,

with the 2/3 rule against aliasing, the viscous term integrated exactly
(integrating factor) and the strong-stability-preserving RK3 of Shu & Osher.
Forcing (optional) injects energy at a fixed rate eps into the shells
0 < |k| <= kForce: f = eps/(2 E_f) u there (E_f: energy in those shells), so
a forced run settles at a dissipation rate eps.

Run with Debian's interpreter, /usr/bin/python3 (it has torch):

    hitdns.py --n 128 --nu 0.006 --time 10 --force 0.1 --out run.pt
    hitdns.py --restart run.pt --n 128 --time 2 --snapshots 4 --out decay.pt

Progress goes to stdout (time, energy, dissipation, k_max eta, CFL).
"""
import argparse
import math
import os
import sys
import time

import torch


class SpectralBox:
    """Wavenumbers, dealiasing mask and FFT helpers of an N^3 periodic box."""

    def __init__(self, n, dtype=torch.float64):
        self.n = n
        self.dtype = dtype
        k = torch.fft.fftfreq(n, 1.0/n).to(dtype)
        kz = torch.fft.rfftfreq(n, 1.0/n).to(dtype)
        self.kx = k.view(n, 1, 1)
        self.ky = k.view(1, n, 1)
        self.kz = kz.view(1, 1, n//2 + 1)
        self.k2 = self.kx**2 + self.ky**2 + self.kz**2
        self.k2safe = torch.where(self.k2 == 0, torch.ones_like(self.k2), self.k2)
        cutoff = n/3.0
        self.dealias = ((self.kx.abs() < cutoff) & (self.ky.abs() < cutoff)
                        & (self.kz.abs() < cutoff))
        # rfft keeps half of the kz modes: the others are conjugates.
        weight = torch.full((1, 1, n//2 + 1), 2.0, dtype=dtype)
        weight[..., 0] = 1.0
        if n % 2 == 0:
            weight[..., -1] = 1.0
        self.weight = weight
        self.kmag = self.k2.sqrt()

    def to_physical(self, uh):
        return torch.fft.irfftn(uh, s=(self.n,)*3, dim=(-3, -2, -1), norm="forward")

    def to_spectral(self, u):
        return torch.fft.rfftn(u, dim=(-3, -2, -1), norm="forward")

    def project(self, fh):
        """Remove the gradient part (divergence-free projection)."""
        kdotf = self.kx*fh[0] + self.ky*fh[1] + self.kz*fh[2]
        kdotf = kdotf/self.k2safe
        return torch.stack((fh[0] - self.kx*kdotf, fh[1] - self.ky*kdotf, fh[2] - self.kz*kdotf))

    def curl(self, uh):
        i = 1j
        return torch.stack((i*(self.ky*uh[2] - self.kz*uh[1]),
                            i*(self.kz*uh[0] - self.kx*uh[2]),
                            i*(self.kx*uh[1] - self.ky*uh[0])))

    def energy(self, uh, mask=None):
        """Kinetic energy 1/2 <u.u> (of the modes in @p mask if given)."""
        e = (uh.real**2 + uh.imag**2).sum(0)*self.weight
        if mask is not None:
            e = e*mask
        return 0.5*float(e.sum())

    def enstrophy(self, uh):
        """1/2 <omega.omega> = sum k^2 E(k)."""
        e = (uh.real**2 + uh.imag**2).sum(0)*self.weight*self.k2
        return 0.5*float(e.sum())

    def spectrum(self, uh):
        """Shell-summed energy spectrum E(k), k = 0 .. n/2."""
        e = 0.5*(uh.real**2 + uh.imag**2).sum(0)*self.weight
        shells = torch.round(self.kmag).long().clamp(max=self.n//2)
        return torch.zeros(self.n//2 + 1, dtype=self.dtype).index_add_(0, shells.flatten(), e.flatten())


def random_field(box, energy, k_peak, seed):
    """Solenoidal random field with E(k) ~ k^4 exp(-2 (k/k_peak)^2), random
    phases, total energy @p energy."""
    gen = torch.Generator().manual_seed(seed)
    shape = (3,) + tuple(box.k2.shape)
    uh = torch.complex(torch.randn(shape, generator=gen, dtype=box.dtype),
                       torch.randn(shape, generator=gen, dtype=box.dtype))
    # Go through physical space once so the field is exactly real.
    uh = box.to_spectral(box.to_physical(uh))
    uh = box.project(uh)*box.dealias
    k = box.kmag
    target = k**4*torch.exp(-2*(k/k_peak)**2)
    current = box.spectrum(uh)
    shells = torch.round(k).long().clamp(max=box.n//2)
    ratio = torch.where(current > 0, 1.0/current.clamp(min=1e-300), torch.zeros_like(current))
    # Shell-wise rescaling to the target spectrum (per mode: E_target(k)/E_shell(k)).
    uh = uh*torch.sqrt(target*ratio[shells])
    return uh*math.sqrt(energy/box.energy(uh))


def resample(uh, box_from, box_to):
    """Spectral interpolation (zero padding) or truncation to another grid."""
    n, m = box_from.n, box_to.n
    out = torch.zeros((3,) + tuple(box_to.k2.shape), dtype=uh.dtype)
    h = min(n, m)//2
    kz = min(n, m)//2
    out[:, :h, :h, :kz] = uh[:, :h, :h, :kz]
    out[:, -h + 1:, :h, :kz] = uh[:, -h + 1:, :h, :kz]
    out[:, :h, -h + 1:, :kz] = uh[:, :h, -h + 1:, :kz]
    out[:, -h + 1:, -h + 1:, :kz] = uh[:, -h + 1:, -h + 1:, :kz]
    return out*box_to.dealias


class HITSolver:
    """IF-SSPRK3 time stepping of the Fourier coefficients uh (3, n, n, n/2+1)."""

    def __init__(self, box, nu, force_rate=0.0, force_shells=2.0):
        self.box = box
        self.nu = nu
        self.force_rate = force_rate
        self.force_mask = (box.kmag > 0) & (box.kmag <= force_shells + 0.5)

    def rhs(self, uh):
        box = self.box
        u = box.to_physical(uh)
        omega = box.to_physical(box.curl(uh))
        nonlinear = torch.stack((u[1]*omega[2] - u[2]*omega[1],
                                 u[2]*omega[0] - u[0]*omega[2],
                                 u[0]*omega[1] - u[1]*omega[0]))
        fh = box.to_spectral(nonlinear)*box.dealias
        if self.force_rate > 0:
            e_force = box.energy(uh, self.force_mask)
            if e_force > 0:
                fh = fh + (self.force_rate/(2*e_force))*uh*self.force_mask
        return box.project(fh), u

    def stable_dt(self, u, cfl):
        dx = 2*math.pi/self.box.n
        umax = float(u.abs().amax(dim=(1, 2, 3)).sum())
        return cfl*dx/max(umax, 1e-12)

    def step(self, uh, dt):
        decay = torch.exp(-self.nu*self.box.k2*dt)
        half = torch.exp(-self.nu*self.box.k2*0.5*dt)
        n0, _ = self.rhs(uh)
        u1 = decay*(uh + dt*n0)
        n1, _ = self.rhs(u1)
        u2 = 0.75*half*uh + 0.25/half*(u1 + dt*n1)
        n2, _ = self.rhs(u2)
        return (decay*uh + 2.0*half*(u2 + dt*n2))/3.0

    def statistics(self, uh):
        box = self.box
        energy = box.energy(uh)
        eps = 2*self.nu*box.enstrophy(uh)
        eta = (self.nu**3/max(eps, 1e-300))**0.25
        kmax = math.sqrt(2)*box.n/3
        return energy, eps, kmax*eta

    def run(self, uh, t_end, cfl=0.5, snapshots=0, log_every=20, log=print):
        """Advance to t_end; return the final field and @p snapshots fields
        equally spaced in time (the last one at t_end)."""
        t = 0.0
        saved = []
        marks = [t_end*(i + 1)/snapshots for i in range(snapshots)]
        step = 0
        wall = time.time()
        while t < t_end - 1e-12:
            dt = self.stable_dt(self.box.to_physical(uh), cfl)
            next_mark = marks[len(saved)] if len(saved) < len(marks) else t_end
            at_mark = dt >= next_mark - t
            dt = min(dt, next_mark - t)
            uh = self.step(uh, dt)
            if not torch.isfinite(uh.real).all():
                raise RuntimeError(f"hitdns: the solution is not finite at t = {t:.4g}"
                                   " (time step too large or resolution too low)")
            t = next_mark if at_mark else t + dt
            step += 1
            if at_mark and len(saved) < len(marks):
                saved.append(uh.clone())
            if step % log_every == 0 or t >= t_end - 1e-12:
                energy, eps, kmax_eta = self.statistics(uh)
                log(f"  step {step:5d}  t {t:8.4f}  dt {dt:.3e}  E {energy:.5f}  eps {eps:.5f}"
                    f"  kmax eta {kmax_eta:.2f}  wall {time.time() - wall:7.1f} s", flush=True)
        return uh, saved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=64, help="grid points per direction")
    parser.add_argument("--nu", type=float, required=True, help="kinematic viscosity")
    parser.add_argument("--time", type=float, required=True, help="time to simulate")
    parser.add_argument("--force", type=float, default=0.0,
                        help="energy injection rate (0: decaying turbulence)")
    parser.add_argument("--restart", help="start from the last field of this file"
                        " (resampled to --n)")
    parser.add_argument("--energy", type=float, default=0.5, help="initial energy (new run)")
    parser.add_argument("--kpeak", type=float, default=3.0, help="initial spectrum peak (new run)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--snapshots", type=int, default=0, help="fields to store, equally spaced")
    parser.add_argument("--cfl", type=float, default=0.5)
    parser.add_argument("--single", action="store_true",
                        help="float32 arithmetic (twice as fast; float64 otherwise)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--out", required=True, help="output file (torch.save)")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    box = SpectralBox(args.n, torch.float32 if args.single else torch.float64)
    if args.restart:
        if not os.path.isfile(args.restart):
            sys.exit(f"hitdns: --restart {args.restart}: no such file (write it with hitdns.py --out)")
        previous = torch.load(args.restart)
        uh = resample(previous["final"], SpectralBox(previous["n"]), box).to(
            torch.complex64 if args.single else torch.complex128)
        print(f"hitdns: {args.n}^3 from {args.restart} ({previous['n']}^3)")
    else:
        uh = random_field(SpectralBox(args.n), args.energy, args.kpeak, args.seed).to(
            torch.complex64 if args.single else torch.complex128)
        print(f"hitdns: {args.n}^3, random field E = {args.energy}, k_peak = {args.kpeak},"
              f" seed {args.seed}")
    solver = HITSolver(box, args.nu, args.force)
    uh, saved = solver.run(uh, args.time, args.cfl, args.snapshots)
    torch.save({"n": args.n, "nu": args.nu, "force": args.force, "final": uh,
                "snapshots": saved}, args.out)
    print(f"hitdns: wrote {args.out} ({len(saved)} snapshots)")


if __name__ == "__main__":
    sys.exit(main())
