#!/usr/bin/python3
"""A differentiable LES of the periodic box with pimpleFoam's discretisation.

    diffles.py CASE [--end 0.66] [--dt DT] [--model smagorinsky|none]
               [--times 0,0.28,0.66] [--out DIR] [--threads T]

Reads CASE/0/U (an OpenFOAM field on the N^3 blockMesh box of the
decayIsoTurb tutorial, ascii or binary; the box length from
CASE/system/blockMeshDict, nu from CASE/constant/transportProperties), runs
to --end and writes the spectra at --times in boxTurbSpectrum's format to
DIR/postProcessing/boxTurbSpectrum/<t>/boxTurbSpectrum.dat (default DIR =
CASE/diffles), so that bench/cbcSpectra.py reads them as it reads a case's.

The discretisation is pimpleFoam's (v1912) with the tutorial's schemes, on a
uniform periodic grid where every finite-volume operator is a stencil:
- Gauss linear gradients, divergences and face interpolation (central, the
  face value the mean of its two cells); Gauss linear corrected Laplacians
  (the compact 3-point stencil per direction);
- backward (BDF2) in time, Euler on the first step (OpenFOAM's start);
- the momentum matrix: ddt, the implicit convection by the last face
  fluxes, the implicit Laplacian of nu + nu_t and the explicit
  div(nuEff dev2(T(grad U))); a momentum predictor with the old pressure;
- PISO with 2 correctors: HbyA = H/A, the face flux of HbyA plus
  interpolate(1/A) ddtCorr (OpenFOAM's coupling coefficient
  1 - min(|phi - flux(U)|/|phi|, 1) of the old time), the pressure equation
  laplacian(1/A, p) = div(phiHbyA), phi = phiHbyA - its pressure flux,
  U = HbyA - (1/A) grad p;
- nu_t from U at the end of each step, as turbulence->correct() does.
The linear solves take a few sweeps: Jacobi for the diagonally dominant
momentum matrix (3 by default), and for the variable-coefficient pressure
equation fixed-point sweeps preconditioned by the constant-coefficient FFT
solve (2); more change nothing measurable. pimpleFoam's first pressure
corrector stops at relTol 0.1, which is most of what differs: measured by
tests/openfoam/checkDiffles.py (20 steps) and bench/difflesPimpleFoam (whole
runs: bench/results/diffles_pimpleFoam_32.md, _64.md).

Every operation is a torch operation, so a loss of the final field (a
spectrum, say) back-propagates to a closure's parameters through the whole
run (LESStepper.run with checkpoint=True recomputes each step in the
backward pass instead of storing it).
"""
import argparse
import os
import re
import sys
import time

import torch
from torch.utils.checkpoint import checkpoint as torch_checkpoint

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "common", "python"))
import mlcfd_model  # noqa: E402

SMALL = 1e-15  # OpenFOAM's SMALL: guards |phi| in the ddtCorr coupling coefficient
TUTORIAL_LENGTH = 0.56548667765  # m, the decayIsoTurb tutorial's box


def default_time_step(n, length):
    """The decayIsoTurb time step [s] of N^3 cells in a box of @p length:
    0.002 down to the cell size of the tutorial's 32^3, 0.001 below
    (bench/lesValidation sets pimpleFoam's from it)."""
    return 0.002 if length/n > 0.99*TUTORIAL_LENGTH/32 else 0.001  # 0.99: rounding


# ---------------------------------------------------------------- OpenFOAM files

def read_entry(path, entry):
    """The number after 'entry' in an OpenFOAM dictionary (first match)."""
    with open(path) as file:
        text = file.read()
    match = re.search(r"^\s*" + re.escape(entry) + r"\s+([-+0-9.eE]+)\s*;", text, re.M)
    if match is None:
        sys.exit(f"diffles: {path} has no entry '{entry} <number>;'")
    return float(match.group(1))


def read_vector_field(path):
    """The internalField of an OpenFOAM volVectorField file, ascii or binary,
    as an (n_cells, 3) float64 tensor in the mesh's cell order."""
    with open(path, "rb") as file:
        data = file.read()
    start = data.find(b"internalField")
    if start < 0:
        sys.exit(f"diffles: {path} has no internalField")
    header = data[start:start + 200]
    uniform = re.match(rb"internalField\s+uniform\s+\(([^)]*)\)", header)
    if uniform:
        sys.exit(f"diffles: {path} has a uniform internalField: write the initial"
                 " field first (boxTurbSpectrum -create)")
    match = re.match(rb"internalField\s+nonuniform\s+List<vector>\s+(\d+)\s*\(", header)
    if match is None:
        sys.exit(f"diffles: {path}: the internalField is not 'nonuniform List<vector> N (...)'")
    count = int(match.group(1))
    body = start + match.end()
    binary = re.search(rb"format\s+binary\s*;", data[:start]) is not None
    if binary:
        values = torch.frombuffer(bytearray(data[body:body + 24*count]), dtype=torch.float64)
        return values.view(count, 3).clone()
    end = data.find(b")\n;", body)
    numbers = re.findall(rb"[-+]?[0-9.]+(?:[eE][-+]?\d+)?", data[body:end])
    values = torch.tensor([float(x) for x in numbers], dtype=torch.float64)
    if values.numel() != 3*count:
        sys.exit(f"diffles: {path}: {values.numel()} numbers for {count} vectors")
    return values.view(count, 3)


def read_case(case):
    """U (3, N, N, N) on [z, y, x] (blockMesh's cell order: x fastest), the
    box length and nu of a decayIsoTurb case."""
    L = read_entry(os.path.join(case, "system", "blockMeshDict"), "L")
    nu = read_entry(os.path.join(case, "constant", "transportProperties"), "nu")
    cells = read_vector_field(os.path.join(case, "0", "U"))
    n = round(cells.shape[0] ** (1.0/3.0))
    if n**3 != cells.shape[0]:
        sys.exit(f"diffles: {case}/0/U has {cells.shape[0]} cells, not a cube N^3")
    return cells.t().reshape(3, n, n, n).contiguous(), L, nu


# ---------------------------------------------------------------- the box

class PeriodicGrid:
    """Stencils of a uniform periodic N^3 grid of spacing h. Cell fields are
    (..., N, N, N) on [z, y, x]; direction d = 0, 1, 2 (x, y, z) is tensor
    dimension -1 - d. Face field d holds the face between a cell and its
    neighbour in +d."""

    def __init__(self, n, length):
        self.n = n
        self.length = length
        self.h = length/n

    @staticmethod
    def up(f, d):
        """f at the neighbour in +d."""
        return torch.roll(f, -1, dims=-1 - d)

    @staticmethod
    def down(f, d):
        """f at the neighbour in -d."""
        return torch.roll(f, 1, dims=-1 - d)

    def to_face(self, f, d):
        """Linear interpolation to the +d faces."""
        return 0.5*(f + self.up(f, d))

    def grad(self, f, d):
        """Gauss linear cell gradient, component d."""
        return (self.up(f, d) - self.down(f, d))/(2*self.h)

    def face_grad(self, f, d):
        """snGrad on the +d faces."""
        return (self.up(f, d) - f)/self.h

    def div_faces(self, flux):
        """Divergence of face velocities flux[d] (phi/|Sf|)."""
        return sum((flux[d] - self.down(flux[d], d))/self.h for d in range(3))

    def velocity_gradient(self, U):
        """G[i][j] = d_i U_j (OpenFOAM's grad(U))."""
        return [[self.grad(U[j], i) for j in range(3)] for i in range(3)]

    def laplacian_symbol(self, dtype):
        """Fourier symbol of the compact Laplacian on rfftn's modes."""
        m = torch.fft.fftfreq(self.n, 1.0/self.n).to(dtype)
        mz = torch.fft.rfftfreq(self.n, 1.0/self.n).to(dtype)
        theta = 2*torch.pi/self.n
        sx = (2 - 2*torch.cos(theta*mz)).view(1, 1, -1)
        sy = (2 - 2*torch.cos(theta*m)).view(1, -1, 1)
        sz = (2 - 2*torch.cos(theta*m)).view(-1, 1, 1)
        return -(sx + sy + sz)/self.h**2


# ---------------------------------------------------------------- closures

def strain_invariants(G):
    """D = symm(grad U), tr D and dev(D) && D."""
    D = [[0.5*(G[i][j] + G[j][i]) for j in range(3)] for i in range(3)]
    trD = D[0][0] + D[1][1] + D[2][2]
    devDD = sum(D[i][j]*D[i][j] for i in range(3) for j in range(3)) - trD*trD/3
    return D, trD, devDD


class SmagorinskyNut(torch.nn.Module):
    """OpenFOAM's Smagorinsky (mlcfd_model.smagorinsky_rate, the model file's
    formula, on the rates in 1/s): nu_t = delta^2 Ck g."""

    def __init__(self, Ck=0.094, Ce=1.048):
        super().__init__()
        self.Ck, self.Ce = Ck, Ce

    def forward(self, G, delta):
        _, trD, devDD = strain_invariants(G)
        return delta**2*mlcfd_model.smagorinsky_rate(trD, devDD, self.Ck, self.Ce)


class NoModel(torch.nn.Module):
    """No subgrid model (laminar)."""

    def forward(self, G, delta):
        return torch.zeros_like(G[0][0])


# ---------------------------------------------------------------- the solver

class LESState:
    """U and the face velocities (phi/|Sf|) of this and the previous step, p
    and nu_t; first: the next step is OpenFOAM's first (Euler)."""

    def __init__(self, U, U_old, flux, flux_old, p, nut, first):
        self.U, self.U_old, self.flux, self.flux_old = U, U_old, flux, flux_old
        self.p, self.nut, self.first = p, nut, first

    def tensors(self):
        return (self.U, self.U_old, self.flux, self.flux_old, self.p, self.nut)


class LESStepper(torch.nn.Module):
    """pimpleFoam's time step on the periodic box (see the module's doc).

    closure(G, delta) -> nu_t, with G[i][j] = d_i U_j; delta = h (cubeRootVol)."""

    def __init__(self, grid, nu, dt, closure, momentum_sweeps=3, pressure_sweeps=2,
                 correctors=2):
        super().__init__()
        self.grid, self.nu, self.dt = grid, nu, dt
        self.closure = closure
        self.momentum_sweeps = momentum_sweeps
        self.pressure_sweeps = pressure_sweeps
        self.correctors = correctors
        self._symbol = None

    def nut(self, U):
        return self.closure(self.grid.velocity_gradient(U), self.grid.h)

    def initial_state(self, U):
        """createPhi (phi = flux(U)), p = 0 and the turbulence model's
        validate() (nu_t of the initial U)."""
        g = self.grid
        flux = torch.stack([g.to_face(U[d], d) for d in range(3)])
        return LESState(U, U, flux, flux, torch.zeros_like(U[0]), self.nut(U), True)

    def _solve_pressure(self, rAUf, rhs):
        """laplacian(rAUf, p) = rhs: fixed-point sweeps preconditioned by the
        constant-coefficient FFT solve (1/A varies by well under 1%)."""
        g = self.grid
        if self._symbol is None or self._symbol.dtype != rhs.dtype:
            symbol = g.laplacian_symbol(rhs.dtype)
            symbol[0, 0, 0] = 1.0  # the mean of p is free: pRefCell fixes it
            self._symbol = symbol
        mean_coeff = sum(rAUf[d].mean() for d in range(3))/3

        def apply(p):
            return sum((rAUf[d]*(g.up(p, d) - p) - g.down(rAUf[d], d)*(p - g.down(p, d)))
                       for d in range(3))/g.h**2

        def precondition(r):
            rh = torch.fft.rfftn(r, dim=(-3, -2, -1))/(mean_coeff*self._symbol)
            rh[0, 0, 0] = 0
            return torch.fft.irfftn(rh, s=r.shape, dim=(-3, -2, -1))

        p = precondition(rhs)
        for _ in range(self.pressure_sweeps - 1):
            p = p + precondition(rhs - apply(p))
        return p

    def forward(self, U, U_old, flux, flux_old, p, nut, first: bool):
        g, dt, h = self.grid, self.dt, self.grid.h
        if first:
            ct, c0, c00 = 1.0, 1.0, 0.0
        else:
            ct, c0, c00 = 1.5, 2.0, 0.5
        nu_eff = self.nu + nut
        nu_face = [g.to_face(nu_eff, d) for d in range(3)]

        # -div(nuEff dev2(T(grad U))) goes to the source with U of the start.
        G = g.velocity_gradient(U)
        div_u = G[0][0] + G[1][1] + G[2][2]
        source = []
        for j in range(3):
            source.append(sum(g.grad(nu_eff*(G[j][i] - (2.0/3.0)*div_u*(i == j)), i)
                              for i in range(3)))
        b = torch.stack([(c0*U[j] - c00*U_old[j])/dt + source[j] for j in range(3)])

        # The momentum matrix: diagonal A and the neighbour coefficients.
        diag = torch.full_like(U[0], ct/dt)
        up_coeff, down_coeff = [], []
        for d in range(3):
            f_up, f_down = flux[d], g.down(flux[d], d)
            n_up, n_down = nu_face[d], g.down(nu_face[d], d)
            diag = diag + 0.5*(f_up - f_down)/h + (n_up + n_down)/h**2
            up_coeff.append(0.5*f_up/h - n_up/h**2)
            down_coeff.append(-0.5*f_down/h - n_down/h**2)

        def neighbours(V):
            return sum(up_coeff[d]*g.up(V, d) + down_coeff[d]*g.down(V, d) for d in range(3))

        # Momentum predictor with the old pressure (Jacobi sweeps: the
        # diagonal dominates by the ratio of 1/dt to the convective rate).
        grad_p = torch.stack([g.grad(p, d) for d in range(3)])
        V = U
        for _ in range(self.momentum_sweeps):
            V = (b - grad_p - neighbours(V))/diag

        rAU = 1.0/diag
        rAU_face = [g.to_face(rAU, d) for d in range(3)]
        # ddtCorr's coupling coefficient from the old U and phi.
        old_flux_of_U = [g.to_face(U[d], d) for d in range(3)]
        coupling = [1 - torch.clamp(torch.abs(flux[d] - old_flux_of_U[d])
                                    / (torch.abs(flux[d]) + SMALL), max=1.0) for d in range(3)]
        ddt_corr = [coupling[d]*((c0*flux[d] - c00*flux_old[d])
                                 - g.to_face(c0*U[d] - c00*U_old[d], d))/dt for d in range(3)]
        for _ in range(self.correctors):
            HbyA = rAU*(b - neighbours(V))
            flux_HbyA = [g.to_face(HbyA[d], d) + rAU_face[d]*ddt_corr[d] for d in range(3)]
            p = self._solve_pressure(rAU_face, g.div_faces(flux_HbyA))
            new_flux = torch.stack([flux_HbyA[d] - rAU_face[d]*g.face_grad(p, d)
                                    for d in range(3)])
            V = torch.stack([HbyA[d] - rAU*g.grad(p, d) for d in range(3)])
        return V, U, new_flux, flux, p, self.nut(V)

    def step(self, state):
        return LESState(*self.forward(*state.tensors(), state.first), first=False)

    def run(self, state, steps, checkpoint=False, callback=None):
        """steps time steps from state; callback(step, state) after each."""
        for i in range(steps):
            if checkpoint and torch.is_grad_enabled():
                # Bind first now: the backward pass calls the function again.
                tensors = torch_checkpoint(lambda *t, first=state.first: self.forward(*t, first),
                                           *state.tensors(), use_reentrant=False)
                state = LESState(*tensors, first=False)
            else:
                state = self.step(state)
            if callback is not None:
                callback(i + 1, state)
        return state


# ---------------------------------------------------------------- spectra

def spectrum(U, length):
    """boxTurbSpectrum's E(n 2 pi/L), n = 0 ... N - 1: every Fourier mode of
    the cell field (normalised so that the mean of |u|^2 is the sum of
    |u_m|^2) in shell round(|m|)."""
    n = U.shape[-1]
    coefficients = torch.fft.fftn(U, dim=(-3, -2, -1))/n**3
    energy = 0.5*(coefficients.abs()**2).sum(0)
    shell = shells(n, U.dtype)
    E = torch.zeros(n, dtype=U.dtype).index_add(0, shell.flatten(), energy.flatten())
    return E/(2*torch.pi/length)


def shells(n, dtype):
    """The shell round(|m|) of each mode of fftn on an n^3 grid."""
    m = torch.fft.fftfreq(n, 1.0/n).to(dtype)
    return torch.round(torch.sqrt(m.view(-1, 1, 1)**2 + m.view(1, -1, 1)**2
                                  + m.view(1, 1, -1)**2)).long()


def rescale_to_spectrum(U, target, length):
    """U with every complete shell (1 ... N/2 - 1) scaled to the spectrum
    @p target, the modes beyond by the last complete shell's factor (as
    boxTurbSpectrum -rescale; the phases, and a discrete divergence of zero,
    are kept)."""
    n = U.shape[-1]
    E = spectrum(U, length)
    factor = torch.ones(n, dtype=U.dtype)
    complete = torch.arange(1, n//2)
    factor[complete] = torch.sqrt(target[complete]/E[complete])
    factor[n//2:] = factor[n//2 - 1]
    return torch.fft.ifftn(torch.fft.fftn(U, dim=(-3, -2, -1))*factor[shells(n, U.dtype)],
                           dim=(-3, -2, -1)).real


def write_spectrum(directory, label, U, length):
    """DIR/postProcessing/boxTurbSpectrum/<label>/boxTurbSpectrum.dat."""
    n = U.shape[-1]
    E = spectrum(U.detach(), length)
    kappa0 = 2*torch.pi/length
    path = os.path.join(directory, "postProcessing", "boxTurbSpectrum", label)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "boxTurbSpectrum.dat"), "w") as out:
        out.write(f"# diffles spectrum of U at t = {label}\n# N {n}\n# L {length}\n"
                  f"# kmax {torch.pi*n/length}\n# k [1/m]  E [m^3/s^2]\n")
        for shell in range(1, n):
            out.write(f"{shell*kappa0}\t{float(E[shell]):.10g}\n")
    return path


CLOSURES = {"smagorinsky": SmagorinskyNut, "none": NoModel}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", help="a decayIsoTurb case with its initial field in 0/U")
    parser.add_argument("--end", type=float, default=0.66, help="end time [s]")
    parser.add_argument("--dt", type=float, default=None,
                        help="time step [s] (default: 0.002 down to the cell size of the tutorial's"
                        " 32^3, 0.001 below)")
    parser.add_argument("--model", choices=sorted(CLOSURES), default="smagorinsky")
    parser.add_argument("--Ck", type=float, default=0.094, help="Smagorinsky's Ck")
    parser.add_argument("--times", default="0,0.28,0.66", help="times of the spectra")
    parser.add_argument("--out", help="output folder (default CASE/diffles)")
    parser.add_argument("--write-fields", action="store_true",
                        help="also save U at --times to OUT/U_<t>.pt")
    parser.add_argument("--reference", metavar="FILE",
                        help="also save the spectrum every --every s to FILE (torch.save: the"
                        " targets of train_aposteriori.py)")
    parser.add_argument("--every", type=float, default=0.02, help="interval of --reference [s]")
    parser.add_argument("--momentum-sweeps", type=int, default=3,
                        help="Jacobi sweeps of the momentum predictor (more where the CFL"
                        " number is larger)")
    parser.add_argument("--single", action="store_true", help="float32 (default float64)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or os.path.join(args.case, "diffles")
    U, length, nu = read_case(args.case)
    if args.single:
        U = U.float()
    grid = PeriodicGrid(U.shape[-1], length)
    if args.dt is None:
        args.dt = default_time_step(grid.n, length)
    closure = SmagorinskyNut(Ck=args.Ck) if args.model == "smagorinsky" else NoModel()
    stepper = LESStepper(grid, nu, args.dt, closure, momentum_sweeps=args.momentum_sweeps)
    steps = round(args.end/args.dt)
    wanted = {round(float(t)/args.dt): t for t in args.times.split(",")}
    every = max(1, round(args.every/args.dt))
    reference = {"times": [], "spectra": [], "n": grid.n, "length": length, "nu": nu,
                 "model": args.model, "case": os.path.abspath(args.case)}
    state = stepper.initial_state(U)
    start = time.time()

    def report(step, state):
        if args.reference and step % every == 0:
            reference["times"].append(step*args.dt)
            reference["spectra"].append(spectrum(state.U.double(), length))
            torch.save(reference, args.reference)
        if step in wanted:
            write_spectrum(out, wanted[step], state.U, length)
            if args.write_fields:
                torch.save(state.U, os.path.join(out, f"U_{wanted[step]}.pt"))
        if step % max(1, steps//10) == 0 or step == steps:
            energy = 0.5*float((state.U**2).sum(0).mean())
            print(f"diffles: step {step}/{steps}, t = {step*args.dt:.4g} s, kinetic energy"
                  f" {energy:.6g} m^2/s^2, {time.time() - start:.1f} s", flush=True)

    with torch.no_grad():
        report(0, state)
        stepper.run(state, steps, callback=report)
    print(f"diffles: spectra in {os.path.join(out, 'postProcessing', 'boxTurbSpectrum')}")


if __name__ == "__main__":
    main()
