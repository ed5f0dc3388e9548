#!/usr/bin/python3
"""Train an eddy-viscosity closure a posteriori, through the differentiable LES.

    train_aposteriori.py REFERENCE.pt [REFERENCE.pt ...] --init MODEL.pt --out MODEL.pt
        [--grids 32] [--unrolls 0.08,0.16,0.32] [--iterations 30] [--lr 1e-3]
        [--regime] [--state FILE] [--seed 0] [--threads T]

Each REFERENCE is the output of 'diffles.py CASE --reference FILE' on a
fine grid (the spectrum of a finer LES every --every s, and the case whose
0/U it started from). For each LES grid N of --grids, the fine initial field
is cut to the modes N^3 resolves, made divergence-free for central
differences and rescaled to the fine spectrum shell by shell; the LES
(diffles.LESStepper, pimpleFoam's discretisation) runs from it with the
closure, and the loss is the mean over the reference's times up to the
unroll length and over shells 1 ... N/2 - 1 of
(log E_LES - log E_reference)^2. Gradients flow through every step
(recomputed per step in the backward pass, so memory stays at one step).
The unroll lengthens through --unrolls as training goes (equal shares of
the iterations), from short runs, where the gradient is informative, to
the whole run.

The network is the a-priori model of --init (warm start: its weights, its
input normalisation). With --regime it also reads nuRatio = nu/(delta^2
|grad U|) (the weights of that input start at zero, so training starts
from the a-priori model exactly). The result is saved as an eddyViscosity
model file for LESModel neuralEddyViscosity, with its training range
(the closure inputs of the unrolled LES).

Progress (iteration, unroll, loss per grid, time) goes to stdout. --state
FILE saves the optimiser and model after each iteration and resumes from it.
Seeds are fixed (--seed). The Comte-Bellot & Corrsin measurements are
never read: they validate (bench/lesValidation), the references train.
"""
import argparse
import json
import math
import os
import sys
import time

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "common", "python"))
import mlcfd_model  # noqa: E402
import diffles  # noqa: E402
import sgsdata  # noqa: E402
import train_closures  # noqa: E402


# ---------------------------------------------------------------- the closure

class NeuralNut(torch.nn.Module):
    """EddyViscosityClosure's nu_t = max(0, nutStar) delta^2 s, nutStar the
    network of the normalised invariants (and nuRatio), s = |grad U|."""

    def __init__(self, net, mean, std, nu, regime):
        super().__init__()
        self.net = net
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.nu, self.regime = nu, regime
        self.inputs = []  # the last call's input rows, for the training range

    def forward(self, G, delta):
        # In the field's precision: float64 for the comparisons with OpenFOAM,
        # float32 in training (a float64 copy of every gradient costs as much
        # as the network at 64^3).
        shape = G[0][0].shape
        grad = torch.stack([G[i][j].reshape(-1) for i in range(3) for j in range(3)], dim=1)
        features, s = sgsdata.invariants(grad)
        if self.regime:
            safe = torch.where(s > 0, s, torch.ones_like(s))
            ratio = torch.where(s > 0, self.nu/(delta**2*safe), torch.zeros_like(s))
            features = torch.cat((features, ratio.view(-1, 1)), dim=1)
        self.inputs = features.detach()
        x = ((features - self.mean.to(features.dtype))/self.std.to(features.dtype))
        nut_star = torch.clamp(self.net(x.to(next(self.net.parameters()).dtype))[:, 0], min=0.0)
        return (nut_star.to(s.dtype)*delta**2*s).view(shape)


def load_initial(path, regime, dtype):
    """The network (train_closures.EddyViscosityNet) and normalisation of
    the model file @p path; with @p regime, nuRatio added at zero weight."""
    files = {mlcfd_model.ARCHIVE_ENTRY: ""}
    try:
        scripted = torch.jit.load(path, _extra_files=files)
    except (RuntimeError, ValueError) as error:
        sys.exit(f"train_aposteriori: --init {path}: not a model file ({error})")
    meta = json.loads(files[mlcfd_model.ARCHIVE_ENTRY])
    if meta.get("kind") != "eddyViscosity":
        sys.exit(f"train_aposteriori: --init {path} is a '{meta.get('kind')}' model; an"
                 " eddyViscosity model (training/les/train_closures.py) is needed")
    state = {k: v.to(dtype) for k, v in scripted.state_dict().items()}
    width = state["mlp.0.weight"].shape[0]
    has_regime = len(meta["inputs"]) > len(mlcfd_model.EDDY_VISCOSITY_INPUTS)
    mean = torch.tensor(meta.get("input_mean", [0.0]*len(meta["inputs"])), dtype=torch.float64)
    std = torch.tensor(meta.get("input_std", [1.0]*len(meta["inputs"])), dtype=torch.float64)
    if has_regime:
        shift, scale = float(scripted.inputs.shift), float(scripted.inputs.scale)
        net = train_closures.EddyViscosityNet(width=width, scale=float(scripted.scale),
                                              regime=(shift, scale))
        net.load_state_dict(state)
    elif regime:
        # nuRatio in the CBC LES spans about 1e-3 ... 1e-1: standardise its log10 there.
        net = train_closures.EddyViscosityNet(width=width, scale=float(scripted.scale),
                                              regime=(-2.0, 1.0))
        first = state["mlp.0.weight"]
        state["mlp.0.weight"] = torch.cat((first, torch.zeros(width, 1, dtype=dtype)), dim=1)
        net.load_state_dict(state)
        mean = torch.cat((mean, torch.zeros(1, dtype=torch.float64)))
        std = torch.cat((std, torch.ones(1, dtype=torch.float64)))
    else:
        net = train_closures.EddyViscosityNet(width=width, scale=float(scripted.scale))
        net.load_state_dict(state)
    return net.to(dtype), mean, std, meta, has_regime or regime


# ---------------------------------------------------------------- the data

def coarse_initial_field(U, n, length):
    """U (3, M, M, M) cut to the modes of an n^3 grid, divergence-free for
    central differences (the projection with the symbol sin(k h)/h) and
    rescaled shell by shell to the spectrum of U."""
    m_fine = U.shape[-1]
    Uh = torch.fft.fftn(U, dim=(-3, -2, -1))/m_fine**3
    keep = torch.fft.fftfreq(n, 1.0/n).long() % m_fine  # the coarse modes' fine indices
    Uh = Uh[:, keep][:, :, keep][:, :, :, keep]
    m = torch.fft.fftfreq(n, 1.0/n).to(U.dtype)
    h = length/n
    symbol = torch.sin(2*math.pi*m*h/length)/h  # central differences' wavenumber
    k = [symbol.view(1, 1, -1).expand(n, n, n), symbol.view(1, -1, 1).expand(n, n, n),
         symbol.view(-1, 1, 1).expand(n, n, n)]  # x, y, z on [z, y, x]
    k2 = k[0]**2 + k[1]**2 + k[2]**2
    kdotu = (k[0]*Uh[0] + k[1]*Uh[1] + k[2]*Uh[2])/torch.where(k2 > 0, k2, torch.ones_like(k2))
    Uh = torch.stack([Uh[d] - k[d]*kdotu for d in range(3)])
    Uh[:, 0, 0, 0] = 0
    coarse = torch.fft.ifftn(Uh*n**3, dim=(-3, -2, -1)).real
    return diffles.rescale_to_spectrum(coarse, diffles.spectrum(U, length), length)


def load_reference(path):
    if not os.path.isfile(path):
        sys.exit(f"train_aposteriori: {path}: no such file (write it with"
                 " 'diffles.py CASE --reference FILE')")
    ref = torch.load(path)
    for entry in ("times", "spectra", "case", "length", "nu", "n"):
        if entry not in ref:
            sys.exit(f"train_aposteriori: {path} has no '{entry}': not a diffles --reference file")
    U, length, _ = diffles.read_case(ref["case"])
    if U.shape[-1] != ref["n"]:
        sys.exit(f"train_aposteriori: {path}: {ref['case']}/0/U has {U.shape[-1]}^3 cells, the"
                 f" reference {ref['n']}^3")
    ref["U0"] = U
    ref["spectra"] = torch.stack(ref["spectra"])
    ref["times"] = torch.tensor(ref["times"], dtype=torch.float64)
    return ref


# ---------------------------------------------------------------- training

def rollout_loss(stepper, U0, ref, unroll, n, record=None):
    """Mean squared log-spectrum misfit over the reference times <= unroll."""
    dt = stepper.dt
    targets = {round(float(t)/dt): i for i, t in enumerate(ref["times"]) if t <= unroll + 1e-9}
    shells = slice(1, n//2)
    losses = []

    def compare(step, state):
        if step in targets:
            E = diffles.spectrum(state.U.double(), ref["length"])[shells]
            target = ref["spectra"][targets[step]][shells]
            losses.append(((torch.log(E) - torch.log(target))**2).mean())
            if record is not None:
                record.append(stepper.closure.inputs)

    steps = max(targets) if targets else 0
    stepper.run(stepper.initial_state(U0), steps, checkpoint=True, callback=compare)
    return torch.stack(losses).mean()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("references", nargs="+")
    parser.add_argument("--init", required=True, help="the a-priori eddyViscosity model file")
    parser.add_argument("--out", required=True, help="the trained model file")
    parser.add_argument("--grids", default="32", help="LES grids N (comma-separated)")
    parser.add_argument("--dt", default="", help="time step per grid (default 0.002 down to the"
                        " cell size of the tutorial's 32^3, 0.001 below, as bench/lesValidation)")
    parser.add_argument("--unrolls", default="0.08,0.16,0.32", help="unroll lengths [s]")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--regime", action="store_true", help="add the nuRatio input")
    parser.add_argument("--state", help="checkpoint file: saved each iteration, resumed from")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    grids = [int(g) for g in args.grids.split(",")]
    unrolls = [float(u) for u in args.unrolls.split(",")]
    refs = [load_reference(path) for path in args.references]
    if len({ref["length"] for ref in refs}) > 1:
        sys.exit("train_aposteriori: the references are of different boxes ("
                 + ", ".join(f"{path}: L = {ref['length']:.6g} m"
                             for path, ref in zip(args.references, refs)) + ")")
    dts = ([float(x) for x in args.dt.split(",")] if args.dt
           else [diffles.default_time_step(g, refs[0]["length"]) for g in grids])
    net, mean, std, meta, regime = load_initial(args.init, args.regime, torch.float32)
    initial = {(r, g): coarse_initial_field(ref["U0"], g, ref["length"]).float()
               for r, ref in enumerate(refs) for g in grids}

    optimiser = torch.optim.Adam(net.parameters(), lr=args.lr)
    history, start_iteration = [], 0
    if args.state and os.path.isfile(args.state):
        saved = torch.load(args.state)
        net.load_state_dict(saved["net"])
        optimiser.load_state_dict(saved["optimiser"])
        history, start_iteration = saved["history"], saved["iteration"]
        print(f"train_aposteriori: resumed from {args.state} at iteration {start_iteration}",
              flush=True)

    def stepper_for(ref, g, dt):
        closure = NeuralNut(net, mean, std, ref["nu"], regime)
        return diffles.LESStepper(diffles.PeriodicGrid(g, ref["length"]), ref["nu"], dt, closure)

    start = time.time()
    for iteration in range(start_iteration, args.iterations):
        unroll = unrolls[min(len(unrolls) - 1, iteration*len(unrolls)//args.iterations)]
        optimiser.zero_grad()
        parts = {}
        for r, ref in enumerate(refs):
            for g, dt in zip(grids, dts):
                loss = rollout_loss(stepper_for(ref, g, dt), initial[(r, g)], ref, unroll, g)
                (loss/(len(refs)*len(grids))).backward()
                parts.setdefault(g, []).append(float(loss))
        optimiser.step()
        entry = {"iteration": iteration + 1, "unroll": unroll,
                 "loss": {g: sum(v)/len(v) for g, v in parts.items()}}
        history.append(entry)
        print(f"train_aposteriori: iteration {iteration + 1}/{args.iterations}, unroll"
              f" {unroll:g} s, loss " + ", ".join(f"{g}^3 {v:.4e}" for g, v in
                                                 entry["loss"].items())
              + f", {time.time() - start:.0f} s", flush=True)
        if args.state:
            torch.save({"net": net.state_dict(), "optimiser": optimiser.state_dict(),
                        "history": history, "iteration": iteration + 1}, args.state)

    # The training range: the closure inputs of the whole unrolled runs.
    rows = []
    with torch.no_grad():
        for r, ref in enumerate(refs):
            for g, dt in zip(grids, dts):
                record = []
                rollout_loss(stepper_for(ref, g, dt), initial[(r, g)], ref, unrolls[-1], g,
                             record=record)
                rows.extend(record)
    features = torch.cat(rows)
    names = list(meta["inputs"]) + ([mlcfd_model.REGIME_INPUT] if regime and
                                     len(meta["inputs"]) == len(mlcfd_model.EDDY_VISCOSITY_INPUTS)
                                     else [])
    input_range = mlcfd_model.training_range(
        features, unchecked=[names[i] for i in train_closures.UNUSED_INPUTS])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    sources = ", ".join(f"{r['n']}^3 {r['model']}" for r in refs)
    description = (f"eddyViscosity closure trained a posteriori by training/les/train_aposteriori.py"
                   f" (seed {args.seed}, {args.iterations} iterations, unrolls {args.unrolls} s,"
                   f" grids {args.grids}{', regime input' if regime else ''}) through diffles on"
                   f" the spectra of {sources};"
                   f" warm start: {os.path.basename(args.init)}")
    train_closures.save_model("eddyViscosity", net.double(), args.out, mean, std, description,
                              1, "float32", input_range, names)
    print(f"train_aposteriori: wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
