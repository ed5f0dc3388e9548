#!/usr/bin/python3
"""Train mlcfd's learned preconditioners self-supervised (after DCDM,
Kaneda et al. 2023): no solutions, only matrices and right-hand sides.

    train.py --models DIR --report DIR [--quick] [--seed 0]

Writes DIR/grid2d.pt, grid3d.pt (kind preconditionerGrid, dimension 2 / 3)
and graph.pt (kind preconditionerGraph) with mlcfd metadata, and the loss
histories to REPORT/losses.json.

Training vectors come from the low end of the spectrum of the Jacobi-scaled
matrix S A S (s = 1/sqrt(diag)), which the network sees: a Lanczos run gives
Ritz pairs (theta_i, v_i), and each right-hand side is b~ = sum c_i v_i with
random c_i weighted toward the lowest modes (the ones CG resolves last), plus
some white-noise vectors for the rest of the spectrum. For a singular
(Neumann) matrix the null space S^-1 1 is projected out, so b = S^-1 b~ has
zero sum.

Loss: after the exact line search along z = M b, the squared A-norm of the
error left, relative to the initial one, is
    1 - (b.z)^2 / (z.A z * b.A^-1 b)
(in [0, 1]; 0 when z is parallel to A^-1 b). It is invariant to the scale of
z and to the Jacobi scaling, and it is the quantity the flexible CG step
minimises, so it trains the network for exactly its use. One factor b.z is
taken as |b.z|, so that z pointing away from the descent direction (which
FlexibleCG rejects) is penalised instead of rewarded as much as the right
sign. b.A^-1 b =
sum c_i^2/theta_i from the Ritz pairs for the spectral vectors; for the
white-noise vectors it comes from a CG solve done once before training
(it only normalises each sample's loss, it gives no target for z).
"""
import argparse
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common", "python"))
import contract  # noqa: E402
import mlcfd_model  # noqa: E402
import models  # noqa: E402
import systems  # noqa: E402

INPUTS = ["residual", "diagRatio"]
OUTPUTS = ["z"]


def log(*args):
    print(*args, flush=True)


def scaled_operator(system):
    """x -> S A S x and the unit null vector of S A S (None if regular)."""
    s = system.diag.rsqrt()

    def op(x):
        return s.view(-1, *([1]*(x.dim() - 1)))*system.matvec(
            s.view(-1, *([1]*(x.dim() - 1)))*x)
    null = None
    if system.singular:
        null = system.diag.sqrt()
        null = null/null.norm()
    return op, null


def lanczos(system, steps, generator):
    """Ritz values (ascending) and Ritz vectors [k, n] of S A S, Lanczos with
    full reorthogonalisation, orthogonal to the null space."""
    op, null = scaled_operator(system)
    n = system.rows
    steps = min(steps, n - (1 if null is not None else 0))
    Q = torch.zeros(steps, n, dtype=torch.float64)
    alpha = torch.zeros(steps, dtype=torch.float64)
    beta = torch.zeros(steps, dtype=torch.float64)

    def clean(w, count):
        if null is not None:
            w = w - null.dot(w)*null
        for _ in range(2):
            w = w - Q[:count].t() @ (Q[:count] @ w)
        return w

    q = clean(torch.randn(n, dtype=torch.float64, generator=generator), 0)
    q = q/q.norm()
    used = steps
    for j in range(steps):
        Q[j] = q
        w = op(q)
        alpha[j] = q.dot(w)
        w = clean(w, j + 1)
        if j + 1 < steps:
            beta[j] = w.norm()
            if beta[j] < 1e-10:
                used = j + 1
                break
            q = w/beta[j]
    T = torch.diag(alpha[:used]) + torch.diag(beta[:used - 1], 1) + torch.diag(beta[:used - 1], -1)
    theta, U = torch.linalg.eigh(T)
    return theta, U.t() @ Q[:used]


def batched_cg(op, b, null=None, tolerance=1e-10, max_iterations=5000):
    """Solve (S A S) x = b for the columns of b (for the loss normalisers)."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rr = (r*r).sum(0)
    target = tolerance**2*rr
    for _ in range(max_iterations):
        if bool((rr <= target).all()):
            break
        Ap = op(p)
        alpha = rr/(p*Ap).sum(0)
        x += alpha*p
        r -= alpha*Ap
        if null is not None:
            r -= null.unsqueeze(1)*(null @ r)
        rr_new = (r*r).sum(0)
        p = r + (rr_new/rr)*p
        rr = rr_new
    return x


class TrainingSet:
    """Right-hand sides b (original variables, [n, count]) and b.A^-1 b of
    one system."""

    def __init__(self, system, spectral, noise, ritz, lanczos_steps, generator):
        self.system = system
        theta, V = lanczos(system, lanczos_steps, generator)
        theta, V = theta[:ritz], V[:ritz]
        # Weight toward the low end: the lowest half of the Ritz modes gets
        # 9x the amplitude (as DCDM), the others amplitude 1.
        weight = torch.ones(len(theta), dtype=torch.float64)
        weight[:max(1, len(theta)//2)] = 9
        c = torch.randn(len(theta), spectral, dtype=torch.float64, generator=generator)*weight.unsqueeze(1)
        bs = V.t() @ c
        energy = (c*c/theta.unsqueeze(1)).sum(0)
        op, null = scaled_operator(system)
        if noise:
            white = torch.randn(system.rows, noise, dtype=torch.float64, generator=generator)
            if null is not None:
                white -= null.unsqueeze(1)*(null @ white)
            x = batched_cg(op, white, null)
            bs = torch.cat((bs, white), 1)
            energy = torch.cat((energy, (white*x).sum(0)))
        norm = bs.norm(dim=0)
        self.b = (bs/norm)*system.diag.sqrt().unsqueeze(1)  # b = S^-1 b~
        self.energy = energy/norm**2
        self.theta = theta


def line_search_loss(system, b, z, energy):
    """Mean over the columns of 1 - (b.z)|b.z|/(z.A z * b.A^-1 b): the
    error left after the line search, where a direction with b.z < 0 (which
    FlexibleCG rejects as no descent direction) counts worse than none."""
    Az = system.matvec(z)
    bz = (b*z).sum(0)
    zAz = (z*Az).sum(0).clamp_min(1e-300)
    return (1 - bz*bz.abs()/(zAz*energy)).mean()


def train(model, kind, sets, steps, batch, lr, generator, label):
    """Adam with cosine decay over @p steps; each step one system (in turn)
    and @p batch of its vectors. Returns the loss history (per step)."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    networks = [contract.network_for(model, kind, s.system) for s in sets]
    history = []
    start = time.time()
    for step in range(steps):
        index = step % len(sets)
        data = sets[index]
        pick = torch.randint(data.b.shape[1], (batch,), generator=generator)
        b, energy = data.b[:, pick], data.energy[pick]
        z = contract.precondition(data.system.diag, b, networks[index])
        loss = line_search_loss(data.system, b, z, energy)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        history.append(float(loss))
        if step % max(1, steps//10) == 0 or step == steps - 1:
            recent = history[-len(sets):]
            log(f"  {label} step {step + 1}/{steps}: loss {sum(recent)/len(recent):.4f}"
                f" ({time.time() - start:.0f} s)")
    return history


def build_sets(specs, quick, generator, label):
    sets = []
    for grid, bc, contrast in specs:
        coefficient = None
        if contrast > 1:
            coefficient = systems.cell_coefficients(
                tuple(grid[::-1]), contrast, int(torch.randint(1 << 30, (1,), generator=generator)))
        system = systems.poisson(grid, bc, coefficient)
        start = time.time()
        sets.append(TrainingSet(system, spectral=32 if quick else 192, noise=8 if quick else 64,
                                ritz=24 if quick else 64, lanczos_steps=60 if quick else 150,
                                generator=generator))
        log(f"  {label} vectors: {system.name}, lowest Ritz value {float(sets[-1].theta[0]):.3g}"
            f" ({time.time() - start:.1f} s)")
    return sets


def grid_specs(dimension, quick):
    if dimension == 2:
        sizes = [(32, 32)] if quick else [(64, 64), (48, 40)]
    else:
        sizes = [(12, 12, 12)] if quick else [(24, 24, 24), (20, 16, 12)]
    specs = []
    for size in sizes:
        for bc in systems.BOUNDARY_CONDITIONS:
            specs.append((size, bc, 1))
            if not quick:
                specs.append((size, bc, 10))
    return specs


def graph_specs(quick):
    if quick:
        return [((24, 24), bc, c) for bc in systems.BOUNDARY_CONDITIONS for c in (1, 10)]
    specs = []
    for size in ((32, 32), (40, 24), (16, 16, 16), (14, 10, 12)):
        for bc in systems.BOUNDARY_CONDITIONS:
            for contrast in (1, 10):
                specs.append((size, bc, contrast))
    return specs


def training_range(sets):
    """The "training_range" entry of the network inputs the training vectors
    give by the contract: the residual channel rs/rho and diagRatio, one row
    per unknown and vector."""
    rows = []
    for data in sets:
        diag = data.system.diag
        rs = diag.rsqrt().unsqueeze(1)*data.b
        residual = rs/rs.square().mean(dim=0, keepdim=True).sqrt()
        ratio = (diag/diag.mean()).unsqueeze(1).expand_as(residual)
        rows.append(torch.stack((residual.flatten(), ratio.flatten()), dim=1))
    return mlcfd_model.training_range(torch.cat(rows))


def save_grid(model, path, input_range):
    mlcfd_model.save(model, path, kind="preconditionerGrid",
                     description=f"Learned V-cycle preconditioner ({model.dimension}D grid, "
                                 "self-supervised on finite-volume Poisson systems; "
                                 "training/preconditioner)",
                     inputs=INPUTS, outputs=OUTPUTS, dtype="float32",
                     constants={"dimension": model.dimension, "channels": model.channels,
                                "levels": model.max_levels},
                     training_range=input_range)


def save_graph(model, path, layers, input_range):
    mlcfd_model.save(model, path, kind="preconditionerGraph",
                     description="Message-passing preconditioner on the matrix graph "
                                 "(self-supervised on finite-volume Poisson systems; "
                                 "training/preconditioner)",
                     inputs=INPUTS, outputs=OUTPUTS, dtype="float32",
                     constants={"layers": layers, "channels": model.hidden},
                     training_range=input_range)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", required=True, help="output folder of the .pt files")
    parser.add_argument("--report", required=True, help="output folder of losses.json")
    parser.add_argument("--quick", action="store_true", help="tiny run for tests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record-range", action="store_true",
                        help="only write the training range into the existing grid2d.pt,"
                             " grid3d.pt and graph.pt of --models (networks unchanged; the"
                             " training vectors are drawn afresh from the same distribution)")
    args = parser.parse_args(argv)
    if args.record_range:
        for label, specs in (("grid2d", grid_specs(2, args.quick)), ("grid3d", grid_specs(3, args.quick)),
                             ("graph", graph_specs(args.quick))):
            generator = torch.Generator().manual_seed(args.seed)
            path = os.path.join(args.models, f"{label}.pt")
            entry = training_range(build_sets(specs, args.quick, generator, label))
            mlcfd_model.record_training_range(path, entry)
            log(f"wrote the training range ({entry['rows']} rows) into {path}")
        return
    os.makedirs(args.models, exist_ok=True)
    os.makedirs(args.report, exist_ok=True)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    quick = args.quick
    losses = {}

    for dimension in (2, 3):
        label = f"grid{dimension}d"
        log(f"== {label}")
        sets = build_sets(grid_specs(dimension, quick), quick, generator, label)
        model = models.GridVCycle(dimension, channels=8)
        steps = (40 if dimension == 2 else 20) if quick else (600 if dimension == 2 else 300)
        losses[label] = train(model, "grid", sets, steps, batch=16 if dimension == 2 else 8,
                              lr=3e-3, generator=generator, label=label)
        save_grid(model.eval(), os.path.join(args.models, f"{label}.pt"), training_range(sets))

    log("== graph")
    sets = build_sets(graph_specs(quick), quick, generator, "graph")
    layers = 8
    model = models.GraphNet(hidden=16, layers=layers)
    steps = 40 if quick else 500
    losses["graph"] = train(model, "graph", sets, steps, batch=16, lr=3e-3,
                            generator=generator, label="graph")
    save_graph(model.eval(), os.path.join(args.models, "graph.pt"), layers, training_range(sets))

    with open(os.path.join(args.report, "losses.json"), "w") as f:
        json.dump(losses, f)
    log(f"wrote {args.models}/grid2d.pt, grid3d.pt, graph.pt and {args.report}/losses.json")


if __name__ == "__main__":
    sys.exit(main())
