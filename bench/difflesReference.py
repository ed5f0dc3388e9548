#!/usr/bin/python3
"""Closures on coarse grids against a finer LES of the same initial field,
and both against Comte-Bellot & Corrsin, through the differentiable LES.

    difflesReference.py REFERENCE.pt [REFERENCE.pt ...] [--grids 32,64]
        [--closures smagorinsky,smagorinsky-Ck0.13,none,MODEL.pt,...] [--out TABLE.md]
        [--max-shell S] [--cbc-grid G] [--develop C,T[,K]]

REFERENCE is 'training/les/diffles.py CASE --reference FILE' on a fine grid
(its spectra every 0.02 s); its case's 0/U is cut to each coarse grid as
train_aposteriori.py cuts it. Every closure runs from that field to
t = 0.66 s (diffles, pimpleFoam's discretisation; dt 0.002 down to the
cell size of the tutorial's 32^3, 0.001 below). Two errors per time, mean |log10(E/E_X)|:
- against the reference, over the coarse grid's shells 1 ... N/2 - 1 (what
  train_aposteriori.py trains towards), split at 50 1/m;
- against Comte-Bellot & Corrsin (bench/cbcSpectra.py's metric) over the
  measured wavenumbers the coarse grid resolves, split at 50 1/m; the
  reference itself gets the same row (its spectrum on the coarse grid's
  range).
Mean over the references. A closure is a built-in name (smagorinsky,
smagorinsky-Ck<value>, none) or an eddyViscosity model file. --max-shell S
compares with the reference over shells 1 ... S only (a grid's convergence
on the shells of a coarser one); --cbc-grid G compares with the
measurements over the wavenumbers a G^3 grid resolves. --develop C,T first
develops the cut field by C runs of T s with Smagorinsky, each followed by
rescaling every shell back to the cut field's spectrum (as
'boxTurbSpectrum -rescale' after pre-runs): the measured spectrum with the
correlations of developed turbulence; --develop C,T,K then gives the shells
below K [1/m] their cut-field (random-phase) modes back.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "training", "les"))
sys.path.insert(0, here)
import cbcSpectra  # noqa: E402
import diffles  # noqa: E402
import train_aposteriori  # noqa: E402

TIMES = {"0.28": 2, "0.66": 3}
CBC = os.path.join(here, "..", "data", "cbc1971_spectra.txt")


def closure_for(name, nu):
    if name == "none":
        return diffles.NoModel()
    if name == "smagorinsky":
        return diffles.SmagorinskyNut()
    if name.startswith("smagorinsky-Ck"):
        return diffles.SmagorinskyNut(Ck=float(name[len("smagorinsky-Ck"):]))
    if os.path.isfile(name):
        net, mean, std, _, regime = train_aposteriori.load_initial(name, False, torch.float32)
        return train_aposteriori.NeuralNut(net, mean, std, nu, regime)
    sys.exit(f"difflesReference: '{name}' is neither a built-in closure (none, smagorinsky,"
             " smagorinsky-Ck<value>) nor a model file")


def developed(U, cycles, duration, dt, nu, length, keep_below=0.0):
    """U after @p cycles runs of @p duration with Smagorinsky, each followed
    by rescaling every shell to the spectrum of U; the shells below
    @p keep_below [1/m] then take U's own modes back (each shell's modes are
    divergence-free and carry the target either way)."""
    n = U.shape[-1]
    target = diffles.spectrum(U, length)
    start = U
    for _ in range(cycles):
        stepper = diffles.LESStepper(diffles.PeriodicGrid(n, length), nu, dt,
                                     diffles.SmagorinskyNut(), momentum_sweeps=5)
        with torch.no_grad():
            U = stepper.run(stepper.initial_state(U.float()), round(duration/dt)).U.double()
        U = diffles.rescale_to_spectrum(U, target, length)
    if keep_below > 0:
        low = diffles.shells(n, U.dtype)*(2*math.pi/length) < keep_below
        dims = (-3, -2, -1)
        mixed = torch.where(low, torch.fft.fftn(start, dim=dims), torch.fft.fftn(U, dim=dims))
        U = torch.fft.ifftn(mixed, dim=dims).real
    return U


def errors(k, E, target_k, target_E):
    """cbcSpectra's mean |log10(E/target)| (all, below, above 50 1/m) at the
    target wavenumbers up to the last shell holding energy."""
    return cbcSpectra.spectrum_error(k, E, target_k, target_E, k[E > 0][-1])[:3]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("references", nargs="+")
    parser.add_argument("--grids", default="32")
    parser.add_argument("--closures", default="none,smagorinsky,smagorinsky-Ck0.13")
    parser.add_argument("--out")
    parser.add_argument("--max-shell", type=int, default=0,
                        help="compare with the reference over shells 1 ... S (default N/2 - 1)")
    parser.add_argument("--cbc-grid", type=int, default=0,
                        help="compare with CBC over the wavenumbers of this grid (default: the grid)")
    parser.add_argument("--develop", default="", metavar="C,T[,K]",
                        help="C pre-runs of T s, each rescaled to the initial spectrum; the"
                        " shells below K 1/m keep the cut field's modes")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    k_cbc, e_cbc = cbcSpectra.read_cbc(CBC)
    refs = [train_aposteriori.load_reference(path) for path in args.references]
    grids = [int(g) for g in args.grids.split(",")]
    closures = args.closures.split(",")
    rows = []
    for g in grids:
        table = {}
        for r, ref in enumerate(refs):
            length = ref["length"]
            dt = diffles.default_time_step(g, length)
            kappa0 = 2*math.pi/length
            kmax = math.pi*g/length
            cbc_kmax = math.pi*(args.cbc_grid or g)/length
            shells = np.arange(1, min(g//2, args.max_shell + 1) if args.max_shell else g//2)
            index = {f"{float(t):.2f}": i for i, t in enumerate(ref["times"])}
            U0 = train_aposteriori.coarse_initial_field(ref["U0"], g, length)
            if args.develop:
                cycles, duration, *keep = args.develop.split(",")
                U0 = developed(U0, int(cycles), float(duration), dt, ref["nu"], length,
                               float(keep[0]) if keep else 0.0)
            U0 = U0.float()
            for name in ["reference"] + closures:
                spectra = {}
                if name == "reference":
                    for t in TIMES:
                        full = ref["spectra"][index[t]].numpy()
                        spectra[t] = full[1:round(kmax/kappa0) + 1]
                else:
                    stepper = diffles.LESStepper(diffles.PeriodicGrid(g, length), ref["nu"], dt,
                                                 closure_for(name, ref["nu"]))
                    wanted = {round(float(t)/dt): t for t in TIMES}

                    def keep(step, state):
                        if step in wanted:
                            spectra[wanted[step]] = diffles.spectrum(state.U.double(),
                                                                     length)[1:].numpy()
                    with torch.no_grad():
                        stepper.run(stepper.initial_state(U0), round(0.66/dt), callback=keep)
                values = []
                for t, column in TIMES.items():
                    E = spectra[t]
                    k = np.arange(1, len(E) + 1)*kappa0
                    cbc_use = k_cbc <= cbc_kmax
                    values.extend(errors(k, E, k_cbc[cbc_use], e_cbc[cbc_use, column - 1]))
                    target = ref["spectra"][index[t]].numpy()[shells]
                    values.extend(errors(k[:len(shells)], E[:len(shells)],
                                         shells*kappa0, target))
                table.setdefault(name, []).append(values)
                print(f"{g}^3 {name} reference {r + 1}: " + " ".join(f"{v:.3f}" for v in values),
                      flush=True)
        for name, values in table.items():
            rows.append((g, name, np.mean(np.array(values), axis=0)))
    header = ("| grid | closure | CBC 0.28: all / k<50 / k>=50 | reference 0.28: all / k<50 / k>=50"
              " | CBC 0.66 | reference 0.66 |\n|---|---|---|---|---|---|\n")
    lines = []
    for g, name, v in rows:
        label = os.path.basename(name)
        cells = [" / ".join(f"{x:.3f}" for x in v[i:i + 3]) for i in (0, 3, 6, 9)]
        if name == "reference":
            cells[1] = cells[3] = "-"
            label = f"the reference ({refs[0]['n']}^3 {refs[0]['model']})"
        lines.append(f"| {g}^3 | {label} | " + " | ".join(cells) + " |")
    text = header + "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text)


if __name__ == "__main__":
    main()
