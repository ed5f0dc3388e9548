#!/usr/bin/python3
"""Learned time steppers for the generalised porous medium equation, with and
without the ProbConserv conservation layer (issue 16, part 1).

    porous_medium.py --variant stefan --dim 1 --table out.md [--plot out.png]
                     [--quick] [--seed 0] [--threads 1]
                     [--noise X] [--unroll N] [--kernel K] [--epochs E]
                     [--pushforward P] [--layer conservation|bounded|bounded-local]

Data come from gpme.py (our finite-volume solver): trajectories from random
boxes of u, zero flux on the boundary, so the mass of u never changes. The
operator maps u(t) and the equation's parameter to u(t + interval). Three
forms of the same convolutional network are compared on held-out parameters
and initial fields:

  unconstrained         mean and variance heads, trained with MSE on the
                        mean and Gaussian NLL on the variance; rolled out
                        with the mean.
  constrained after     the same network; each step's (mean, variance) goes
                        through the ProbConserv update to the input's mass.
  through the layer     trained with the ProbConserv update in the forward
                        pass (common/python/mlcfd_constraints.py), so the
                        variance head learns where a mass correction belongs.

--layer bounded makes both constrained forms also keep every step within the
range of the state before it, the maximum principle of the equation (and of
the reference solver), with mlcfd_constraints.bounded_update; --layer
bounded-local keeps each cell within the range of the previous state over
the cells one interval of the reference solver reaches.

Training unrolls a few steps (the same for all), optionally from starts
perturbed by zero-mean noise (--noise) or rolled out first by the network
itself without gradient (--pushforward), float32 network, float64
state and layer, fixed seeds. Reported on the held-out set: relative L2 error
over the training horizon and over the whole rollout, the mass error, the
front-position error (area between the {u > level} sets per unit front size,
as a fraction of the box), the number of steps a rollout stays within a
relative error of STABLE_ERROR, and the time per step.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "common", "python"))
import gpme  # noqa: E402
import mlcfd_constraints  # noqa: E402

FORMS = ("unconstrained", "constrained after", "through the layer")
LAYERS = ("conservation", "bounded", "bounded-local")
# A rollout is counted stable while its relative L2 error stays below this.
STABLE_ERROR = 0.25
MIN_VARIANCE = 1e-8
# |u| beyond which a rollout counts as blown up and is stopped (u is O(1)).
BLOWN_UP = 1e6


class Settings:
    """Sizes of one benchmark; --quick shrinks them for the test."""

    def __init__(self, variant, dim, quick):
        self.variant, self.dim = variant, dim
        self.cells = (128 if dim == 1 else 32) if not quick else (32 if dim == 1 else 16)
        self.interval = {"stefan": 5e-4, "pme": 4e-3}[variant]*(1 if dim == 1 else 0.5)
        self.train_trajectories = (64 if dim == 1 else 32) if not quick else 6
        self.test_trajectories = 32 if not quick else 4
        self.train_steps = 40 if not quick else 8
        self.rollout_steps = 1200 if not quick else 24
        self.unroll = 4 if not quick else 2
        self.epochs = 60 if not quick else 2
        # About 4400 optimiser steps in both dimensions.
        self.batch = (32 if dim == 1 else 16) if not quick else 8
        self.width = (32 if dim == 1 else 24) if not quick else 8
        # 5 cells wide in 1D, 3 x 3 in 2D (the cost of a 2D step).
        self.kernel = 5 if dim == 1 else 3
        # Training-input noise (--noise), in units of the RMS change of one
        # step. Off by default, as in the tables of bench/porousMedium; in 2D
        # 1.0 keeps stefan rollouts from blowing up (without it every form
        # blew up within 60 steps, with it none did in 1200:
        # bench/results/porous_medium_stefan_2d_noise.md).
        self.noise = 0.0
        # Steps rolled out by the network itself, without gradient, before
        # the unrolled ones (--pushforward; Brandstetter et al., ICLR 2022):
        # the starts then carry the network's own errors.
        self.pushforward = 0
        # The layer of the constrained forms (--layer): "conservation", the
        # ProbConserv update to the mass; "bounded", the same with each
        # step kept within the previous state's range (maximum principle);
        # "bounded-local", each cell within the range of its neighbourhood.
        self.layer = "conservation"
        # Cells one interval of the reference solver reaches: its explicit
        # substeps per interval.
        self.reach = math.ceil(self.interval/gpme.stable_step(self.cells, dim))

    def front_level(self, parameter):
        """Where the front is read: half of u* (stefan), 0.1 (pme)."""
        return parameter/2 if self.variant == "stefan" else np.full_like(parameter, 0.1)


class StepNetwork(torch.nn.Module):
    """u(t + interval) = u + CNN(u, parameter), and a per-cell variance.
    Replicate padding is the zero-flux boundary's mirror."""

    def __init__(self, dim, width, parameter_range, depth=4, kernel=5):
        super().__init__()
        conv = torch.nn.Conv1d if dim == 1 else torch.nn.Conv2d
        layers, channels = [], 2
        for _ in range(depth - 1):
            layers += [conv(channels, width, kernel, padding=kernel//2, padding_mode="replicate"),
                       torch.nn.GELU()]
            channels = width
        layers.append(conv(channels, 2, kernel, padding=kernel//2, padding_mode="replicate"))
        self.net = torch.nn.Sequential(*layers)
        self.dim = dim
        lo, hi = parameter_range
        self.parameter_centre, self.parameter_scale = 0.5*(lo + hi), 0.5*(hi - lo)

    def forward(self, u, parameter):
        """u (batch, N[, N]) float64, parameter (batch,); returns the mean
        and variance, float64."""
        p = (parameter - self.parameter_centre)/self.parameter_scale
        p = p.reshape((-1, 1) + (1,)*self.dim).expand((-1, 1) + u.shape[1:])
        x = torch.cat([u.unsqueeze(1), p], 1).float()
        out = self.net(x).double()
        mean = u + out[:, 0]
        variance = torch.nn.functional.softplus(out[:, 1]) + MIN_VARIANCE
        return mean, variance


def mass_constraint(shape):
    """G = the cell volume on every cell: G u is the mass of u."""
    n = int(np.prod(shape))
    return mlcfd_constraints.SparseMatrix(torch.zeros(n, dtype=torch.long), torch.arange(n),
                                          torch.full((n,), 1.0/n, dtype=torch.float64), (1, n))


def conserve(mean, variance, previous, G, layer, reach):
    """ProbConserv update of a batch of predictions to the masses of the
    previous states; layer "bounded" also keeps each prediction within its
    previous state's minimum and maximum (the equation's maximum principle,
    which the explicit finite-volume reference obeys too), "bounded-local"
    each cell within the range of the previous state over the `reach` cells
    one interval of the reference solver spans (its explicit substeps are
    convex combinations of the neighbours, so the reference obeys this too)."""
    flat_mean, flat_variance = mean.reshape(mean.shape[0], -1), variance.reshape(variance.shape[0], -1)
    mass = mass_of(previous)
    if layer == "conservation":
        flat = mlcfd_constraints.probconserv_update(flat_mean, G, mass.reshape(-1, 1),
                                                    variance=flat_variance, solver="dense")
    else:
        if layer == "bounded":
            before = previous.reshape(previous.shape[0], -1)
            lower, upper = before.amin(-1, keepdim=True), before.amax(-1, keepdim=True)
        else:
            lower, upper = local_range(previous, reach)
            lower, upper = lower.reshape(flat_mean.shape), upper.reshape(flat_mean.shape)
        # G's one row is the cell-volume weights of the mass.
        flat = mlcfd_constraints.bounded_update(flat_mean, G.dense(mean.dtype)[0], mass, lower, upper,
                                                variance=flat_variance)
    return flat.reshape(mean.shape)


def local_range(u, reach):
    """Per cell, the minimum and maximum of u over the cells within `reach`
    in every direction (replicate padding: the boundary has zero flux)."""
    pool = torch.nn.functional.max_pool1d if u.dim() == 2 else torch.nn.functional.max_pool2d
    pad = (reach, reach)*(u.dim() - 1)
    x = torch.nn.functional.pad(u.unsqueeze(1), pad, mode="replicate")
    upper = pool(x, 2*reach + 1, stride=1).squeeze(1)
    lower = -pool(-x, 2*reach + 1, stride=1).squeeze(1)
    return lower, upper


def mass_of(u):
    return u.reshape(u.shape[0], -1).mean(-1)


def step(network, u, parameter, form, G, layer, reach):
    mean, variance = network(u, parameter)
    if form == "unconstrained":
        return mean, variance
    return conserve(mean, variance, u, G, layer, reach), variance


def train(network, data, parameters, settings, through_layer, G, seed, log):
    """Adam on unrolled windows: from a random start n, roll `unroll` steps
    and fit each to the reference. Unconstrained: MSE + NLL of the variance
    (the mean detached there); through the layer: MSE of the updated mean."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(network.parameters(), lr=2e-3)
    count, steps = data.shape[0], settings.train_steps
    ahead = settings.pushforward + settings.unroll
    if ahead > steps:
        raise SystemExit(f"porous_medium.py: --pushforward {settings.pushforward} plus --unroll "
                         f"{settings.unroll} exceeds the {steps} trained steps")
    windows = [(t, n) for t in range(count) for n in range(steps - ahead + 1)]
    batches = math.ceil(len(windows)/settings.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 2e-3, total_steps=settings.epochs*batches)
    data = torch.from_numpy(data)
    parameters = torch.from_numpy(parameters)
    scale = float(data[:, 1:steps + 1].sub(data[:, :steps]).pow(2).mean())
    form = "through the layer" if through_layer else "unconstrained"
    started = time.time()
    for epoch in range(settings.epochs):
        order = rng.permutation(len(windows))
        total = 0.0
        for b in range(batches):
            chosen = [windows[i] for i in order[b*settings.batch:(b + 1)*settings.batch]]
            t = torch.tensor([c[0] for c in chosen])
            n = torch.tensor([c[1] for c in chosen])
            u, p = data[t, n], parameters[t]
            if settings.noise > 0:
                # Perturbed starts teach the stepper to undo its own errors
                # in a rollout; zero-mean, so the mass stays the target's.
                kick = torch.randn(u.shape, generator=generator, dtype=u.dtype)
                kick -= kick.reshape(kick.shape[0], -1).mean(-1).reshape((-1,) + (1,)*settings.dim)
                u = u + settings.noise*math.sqrt(scale)*kick
            if settings.pushforward:
                with torch.no_grad():
                    for _ in range(settings.pushforward):
                        u = step(network, u, p, form, G, settings.layer, settings.reach)[0]
            loss = 0.0
            for r in range(settings.unroll):
                target = data[t, n + settings.pushforward + r + 1]
                u, variance = step(network, u, p, form, G, settings.layer, settings.reach)
                loss = loss + (u - target).pow(2).mean()/scale
                if not through_layer:
                    error2 = (u.detach() - target).pow(2)
                    loss = loss + 1e-2*(error2/variance + variance.log()).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss)
        if epoch == 0 or (epoch + 1) % max(1, settings.epochs//10) == 0 or epoch + 1 == settings.epochs:
            log(f"  {form}: epoch {epoch + 1}/{settings.epochs}, loss {total/batches:.4g}, "
                f"{time.time() - started:.0f} s")
    return network


def rollout(network, u0, parameters, steps, form, G, layer, reach):
    """States (count, steps + 1, ...) and the time per step per trajectory."""
    states = [torch.from_numpy(u0)]
    p = torch.from_numpy(parameters)
    started = time.perf_counter()
    with torch.no_grad():
        for _ in range(steps):
            # A rollout that blew up (not finite, or beyond BLOWN_UP) stays
            # there as inf; the others go on through the network and layer.
            u = states[-1]
            alive = torch.isfinite(u).flatten(1).all(1) & (u.abs().flatten(1).amax(1) < BLOWN_UP)
            following = torch.full_like(u, math.inf)
            if bool(alive.any()):
                following[alive] = step(network, u[alive], p[alive], form, G, layer, reach)[0]
            states.append(torch.where(torch.isfinite(following), following,
                                      torch.full_like(following, math.inf)))
    seconds = (time.perf_counter() - started)/(steps*u0.shape[0])
    return torch.stack(states, 1).numpy(), seconds


def metrics(states, reference, parameters, settings):
    axes = tuple(range(2, reference.ndim))
    difference = np.nan_to_num(states - reference, nan=np.inf)
    relative = np.sqrt((difference**2).sum(axes)/(reference**2).sum(axes))
    mass = states.reshape(states.shape[0], states.shape[1], -1).mean(-1)
    # Over the states before a rollout blew up (after it, there is no mass).
    mass_error = np.where(np.isfinite(mass), np.abs(mass/mass[:, :1] - 1), 0.0)
    level = settings.front_level(parameters).reshape((-1, 1) + (1,)*settings.dim)
    front = gpme.front_error(states, reference, level, settings.dim)
    unstable = ~(relative < STABLE_ERROR)
    stable_steps = np.where(unstable.any(1), unstable.argmax(1) - 1, settings.rollout_steps)
    h = settings.train_steps
    return {
        "error (training horizon)": float(relative[:, 1:h + 1].mean()),
        "error (whole rollout)": float(np.minimum(relative[:, 1:], 1e3).mean()),
        "front error (training horizon)": float(front[:, 1:h + 1].mean()),
        "front error (whole rollout)": float(front[:, 1:].mean()),
        "mass error (max)": float(mass_error.max()),
        "stable steps (median)": float(np.median(stable_steps)),
    }


def plot(path, reference, states, parameters, settings):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    times = [settings.train_steps, settings.rollout_steps//2, settings.rollout_steps]
    if settings.dim == 1:
        figure, axes = plt.subplots(1, len(times), figsize=(4*len(times), 3.2), sharey=True)
        x = (np.arange(settings.cells) + 0.5)/settings.cells
        for axis, n in zip(axes, times):
            axis.plot(x, reference[0, n], "k", lw=2, label="finite volumes")
            for form in FORMS:
                axis.plot(x, np.clip(states[form][0, n], -1, 2), lw=1, label=form)
            axis.set_title(f"step {n} (t = {n*settings.interval:.3g} s)")
            axis.set_xlabel("x")
        axes[0].set_ylabel("u")
        axes[0].legend(fontsize=7)
    else:
        rows = ["finite volumes"] + list(FORMS)
        figure, axes = plt.subplots(len(rows), len(times), figsize=(3*len(times), 3*len(rows)))
        for j, n in enumerate(times):
            for i, name in enumerate(rows):
                field = reference[0, n] if i == 0 else states[name][0, n]
                axes[i, j].imshow(np.clip(field, 0, 1), vmin=0, vmax=1, origin="lower")
                axes[i, j].set_xticks([])
                axes[i, j].set_yticks([])
                axes[i, j].set_title(f"{name}, step {n}", fontsize=8)
    figure.suptitle(f"{settings.variant} {settings.dim}D, held-out parameter {parameters[0]:.3g}")
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=gpme.VARIANTS, default="stefan")
    parser.add_argument("--dim", type=int, choices=(1, 2), default=1)
    parser.add_argument("--table", required=True, help="markdown table to write")
    parser.add_argument("--plot", help="PNG of one held-out rollout")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the tests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--noise", type=float, help="training-input noise (RMS step change units)")
    parser.add_argument("--unroll", type=int, help="steps unrolled in training")
    parser.add_argument("--kernel", type=int, help="convolution width (odd)")
    parser.add_argument("--epochs", type=int, help="training epochs")
    parser.add_argument("--pushforward", type=int,
                        help="steps the network rolls out without gradient before the unrolled ones")
    parser.add_argument("--layer", choices=LAYERS,
                        help="constraint of the constrained forms: the mass, or the mass and the bounds")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = Settings(args.variant, args.dim, args.quick)
    for name in ("noise", "unroll", "kernel", "epochs", "pushforward", "layer"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))

    def log(text):
        print(text, flush=True)

    rng = np.random.default_rng(args.seed)
    lo, hi = gpme.PARAMETER_RANGE[args.variant]
    # Held-out parameters lie between the training ones.
    train_p = lo + (hi - lo)*(np.arange(settings.train_trajectories) % 8 + 0.25)/8
    test_p = lo + (hi - lo)*(np.arange(settings.test_trajectories) % 8 + 0.75)/8
    started = time.time()
    train_data = gpme.trajectories(rng, len(train_p), settings.cells, args.dim, args.variant,
                                   train_p, settings.train_steps, settings.interval)
    test_data = gpme.trajectories(rng, len(test_p), settings.cells, args.dim, args.variant,
                                  test_p, settings.rollout_steps, settings.interval)
    log(f"{args.variant} {args.dim}D, {settings.cells} cells per direction: {len(train_p)} training and "
        f"{len(test_p)} held-out trajectories in {time.time() - started:.0f} s")

    G = mass_constraint((settings.cells,)*args.dim)
    networks = {}
    for through_layer in (False, True):
        torch.manual_seed(args.seed)
        network = StepNetwork(args.dim, settings.width, (lo, hi), kernel=settings.kernel)
        networks[through_layer] = train(network, train_data, train_p, settings, through_layer, G,
                                        args.seed, log)
    rows, states = {}, {}
    for form in FORMS:
        network = networks[form == "through the layer"]
        states[form], seconds = rollout(network, test_data[:, 0], test_p, settings.rollout_steps, form, G,
                                           settings.layer, settings.reach)
        rows[form] = metrics(states[form], test_data, test_p, settings)
        rows[form]["ms per step"] = 1e3*seconds
    started = time.perf_counter()
    gpme.advance(test_data[:, 0], args.variant, test_p, settings.interval)
    solver_ms = 1e3*(time.perf_counter() - started)/len(test_p)

    columns = list(rows["unconstrained"])
    with open(args.table, "w") as out:
        out.write(f"| {args.variant} {args.dim}D, {settings.cells} cells per direction | "
                  + " | ".join(columns) + " |\n")
        out.write("|---|" + "---:|"*len(columns) + "\n")
        for form in FORMS:
            out.write(f"| {form} | " + " | ".join(_format(rows[form][c]) for c in columns) + " |\n")
        out.write(f"| through the layer / unconstrained | "
                  + " | ".join(_format(rows["through the layer"][c]/max(rows["unconstrained"][c], 1e-300))
                               for c in columns) + " |\n")
        out.write(f"\nFinite-volume solver: {solver_ms:.3g} ms per step per trajectory "
                  f"({settings.rollout_steps} steps held out, {settings.train_steps} trained; "
                  f"stable = relative error below {STABLE_ERROR}; a rollout that blew up, |u| > "
                  f"{BLOWN_UP:g} or not finite, counts 1000 per step in the errors, and its mass "
                  f"error is taken over the states before).\n")
    print(open(args.table).read())
    if args.plot:
        plot(args.plot, test_data, states, test_p, settings)


def _format(value):
    if value == 0 or (1e-3 <= abs(value) < 1e4):
        return f"{value:.4g}"
    return f"{value:.2e}"


if __name__ == "__main__":
    main()
