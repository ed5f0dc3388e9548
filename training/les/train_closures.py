#!/usr/bin/python3
"""Train mlcfd's LES closures on filtered DNS and write the a-priori report.

    train_closures.py DATASET --models DIR --report DIR [--epochs 40] [--seed 0] [--regime]

DATASET comes from make_dataset.py. Two models are trained on the rows
marked "train" (box filter, every LES grid, each grid weighted equally):

- eddyViscosity.pt (kind eddyViscosity, for LESModel neuralEddyViscosity):
  nutStar = 0.05 softplus(MLP(invariants)) >= 0 (MLP: 2 hidden tanh layers of
  --width neurons; saved in --dtype), trained so that the
  predicted SGS dissipation 2 nu_t S:S matches the exact -tau:S (the
  conditional mean of the dissipation given the local invariants: the
  model drains the right amount of energy where the resolved flow looks
  the same);
- tensorBasis.pt (kind tensorBasis, for LESModel neuralSGSStress):
  g_1 = -0.1 softplus(.) <= 0 and g_2..g_N free (N = --basis-count),
  tau = delta^2 s^2 sum g_n T_n, trained on the deviatoric stress plus the
  same dissipation term.

With --regime both models also read nuRatio = nu/(delta^2 s), the inverse
Reynolds number of the filter scale (mlcfd::EddyViscosityClosure's seventh
input; the networks see its log10, standardised inside them).

The report (apriori.md, loss curves and scatter PNGs) evaluates them on the
held-out rows beside Smagorinsky (OpenFOAM's coefficients) and dynamic
Smagorinsky (Germano identity, Lilly's least squares over the box, test
filter [1 2 1]/4 per direction, width ratio sqrt(6)) on the same data.
"""
import argparse
import copy
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common", "python"))
import mlcfd_model  # noqa: E402
import sgsdata  # noqa: E402

FEATURES_USED = [1, 3, 4, 5]  # trS2, trS3, trW2S, trW2S2; trS ~ 0, trW2 = trS2 - 1


REGIME_COLUMN = len(mlcfd_model.EDDY_VISCOSITY_INPUTS)


class ClosureInputs(torch.nn.Module):
    """The invariants the networks use and, with a regime (shift, scale of
    log10 nuRatio over the training rows), its standardised logarithm: nuRatio
    spans decades, so the file's own normalisation of it is the identity."""

    def __init__(self, regime=None):
        super().__init__()
        self.regime = regime is not None
        self.shift, self.scale = regime if regime is not None else (0.0, 1.0)
        self.count = len(FEATURES_USED) + (1 if self.regime else 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x[:, [1, 3, 4, 5]]
        if self.regime:
            r = (torch.log10(torch.clamp(x[:, 6:7], min=1e-30)) - self.shift)/self.scale
            z = torch.cat((z, r), dim=1)
        return z


class EddyViscosityNet(torch.nn.Module):
    """nutStar = scale softplus(MLP(invariants [, log nuRatio])) >= 0."""

    def __init__(self, width=16, scale=0.05, regime=None):
        super().__init__()
        self.scale = scale
        self.inputs = ClosureInputs(regime)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(self.inputs.count, width), torch.nn.Tanh(),
            torch.nn.Linear(width, width), torch.nn.Tanh(),
            torch.nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.mlp(self.inputs(x))
        return self.scale*torch.nn.functional.softplus(z)


class TensorBasisNet(torch.nn.Module):
    """g_1 = -scale softplus(.) <= 0 (dissipative eddy viscosity), g_2.. free."""

    def __init__(self, count, width=16, scale=0.1, regime=None):
        super().__init__()
        self.scale = scale
        self.inputs = ClosureInputs(regime)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(self.inputs.count, width), torch.nn.Tanh(),
            torch.nn.Linear(width, width), torch.nn.Tanh(),
            torch.nn.Linear(width, count))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.mlp(self.inputs(x))
        g1 = -self.scale*torch.nn.functional.softplus(z[:, 0:1])
        return torch.cat((g1, self.scale*z[:, 1:]), dim=1)


def with_regime(rows):
    """@p rows with nuRatio = nu/(delta^2 s) appended to the features."""
    if "nu" not in rows:
        sys.exit("train_closures: --regime needs the DNS viscosity per row, which this dataset"
                 " lacks: rebuild it with make_dataset.py")
    rows = dict(rows)
    rate = rows["rate"]
    ratio = torch.where(rate > 0, rows["nu"]/(rows["delta"]**2*torch.clamp(rate, min=1e-300)),
                        torch.zeros_like(rate))
    rows["features"] = torch.cat((rows["features"], ratio.view(-1, 1)), dim=1)
    return rows


# --- closures as functions of the data columns -------------------------------

def eddy_stress(nut, grad):
    """tau = -2 nu_t dev(S) (rows, 6)."""
    return -2*nut.view(-1, 1)*sgsdata.deviatoric(sgsdata.strain_rows(grad))


def basis_stress(g, grad, delta):
    """tau = delta^2 s^2 sum g_n T_n (rows, 6)."""
    T = sgsdata.tensor_basis(grad, g.shape[1])
    _, _, s = sgsdata.sym_skew(grad)
    tau = (g.view(-1, g.shape[1], 1, 1)*T).sum(1)
    return (delta**2*s**2).view(-1, 1)*sgsdata.to_symm(tau)


def model_stress(kind, module, features, grad, delta, mean, std):
    """Deviatoric SGS stress of a learned closure (the isotropic part goes
    into the pressure, as in OpenFOAM's devRhoReff)."""
    out = module((features - mean)/std)
    _, _, s = sgsdata.sym_skew(grad)
    if kind == "eddyViscosity":
        return eddy_stress(out[:, 0]*delta**2*s, grad)
    return sgsdata.deviatoric(basis_stress(out, grad, delta))


def smagorinsky_stress(grad, delta, Ck=0.094, Ce=1.048):
    """OpenFOAM's Smagorinsky (the reference model of mlcfd_model.py)."""
    features, s = sgsdata.invariants(grad)
    nut_star = mlcfd_model.Smagorinsky(Ck, Ce)(features)[:, 0]
    return eddy_stress(nut_star*delta**2*s, grad)


def _test_filter(field):
    """[1 2 1]/4 in each direction of the last three (periodic) dimensions."""
    for axis in (-3, -2, -1):
        field = 0.25*(torch.roll(field, 1, axis) + 2*field + torch.roll(field, -1, axis))
    return field


def dynamic_smagorinsky_stress(ubar, delta):
    """Germano-Lilly dynamic Smagorinsky with one coefficient for the box
    (homogeneous turbulence): tau = -2 C delta^2 |S| dev(S), |S| = sqrt(2 S:S)."""
    alpha2 = 6.0
    n = ubar.shape[-1]

    def strain_and_norm(u):
        grad = sgsdata.central_gradient(u)
        S = sgsdata.deviatoric(sgsdata.strain_rows(grad))
        return S, torch.sqrt(2*sgsdata.contract(S, S))

    def to_field(rows):
        return rows.T.reshape(-1, n, n, n)

    S, norm = strain_and_norm(ubar)
    uhat = _test_filter(ubar)
    Shat, normhat = strain_and_norm(uhat)
    L = torch.stack([_test_filter(ubar[i]*ubar[j]) - uhat[i]*uhat[j]
                     for i, j in sgsdata.SYMM_INDEX]).reshape(6, -1).T
    L = sgsdata.deviatoric(L)
    hat_normS = _test_filter(to_field(norm.view(-1, 1)*S)).reshape(6, -1).T
    M = -2*delta**2*(alpha2*normhat.view(-1, 1)*Shat - hat_normS)
    C = float(sgsdata.contract(L, M).mean()/sgsdata.contract(M, M).mean())
    return -2*C*delta**2*norm.view(-1, 1)*S, C


# --- metrics -----------------------------------------------------------------

def correlation(a, b):
    a = a - a.mean()
    b = b - b.mean()
    return float((a*b).sum()/torch.sqrt((a*a).sum()*(b*b).sum()))


def apriori_metrics(tau_pred, tau_exact, grad):
    """Correlation of the deviatoric stress (mean over the six components),
    of the SGS dissipation -tau:S, and the ratio of mean dissipations."""
    exact = sgsdata.deviatoric(tau_exact)
    pred = sgsdata.deviatoric(tau_pred)
    S = sgsdata.strain_rows(grad)
    diss_exact = -sgsdata.contract(exact, S)
    diss_pred = -sgsdata.contract(pred, S)
    return {"corr_tau": sum(correlation(pred[:, c], exact[:, c]) for c in range(6))/6,
            "corr_diss": correlation(diss_pred, diss_exact),
            "diss_ratio": float(diss_pred.mean()/diss_exact.mean())}


# --- training ----------------------------------------------------------------

def loss_terms(kind, module, batch, mean, std):
    """Relative squared errors of the stress and of the dissipation, both
    in units of the batch's grid scale (delta^2 <s^2>, see make_dataset)."""
    tau_pred = model_stress(kind, module, batch["features"], batch["gradU"], batch["delta"],
                            mean, std)
    scale = batch["scale"].view(-1, 1)
    pred = tau_pred/scale
    exact = sgsdata.deviatoric(batch["tau"])/scale
    S = sgsdata.strain_rows(batch["gradU"])/batch["rate"].view(-1, 1)
    diss_err = -sgsdata.contract(pred - exact, S)
    w = batch["weight"]
    stress = (w*sgsdata.contract(pred - exact, pred - exact)).sum()/batch["stress_norm"]
    dissipation = (w*diss_err**2).sum()/batch["diss_norm"]
    return stress, dissipation


def total_loss(kind, stress, dissipation):
    return dissipation if kind == "eddyViscosity" else stress + dissipation


def select(rows, mask):
    return {k: v[mask] for k, v in rows.items()}


def with_norms(rows):
    """Per-row weights summing to 1 and the loss normalisations."""
    rows = dict(rows)
    scale = rows["scale"].view(-1, 1)
    exact = sgsdata.deviatoric(rows["tau"])/scale
    S = sgsdata.strain_rows(rows["gradU"])/rows["rate"].view(-1, 1)
    diss = -sgsdata.contract(exact, S)
    w = rows["weight"]/rows["weight"].sum()
    rows["weight"] = w
    rows["stress_norm"] = (w*sgsdata.contract(exact, exact)).sum()
    mean_diss = (w*diss).sum()
    rows["diss_norm"] = (w*(diss - mean_diss)**2).sum() + mean_diss**2
    return rows


def train(kind, train_rows, valid_rows, mean, std, epochs, seed, basis_count, width, log, regime=None):
    torch.manual_seed(seed)
    module = (EddyViscosityNet(width, regime=regime) if kind == "eddyViscosity"
              else TensorBasisNet(basis_count, width, regime=regime)).double()
    optimiser = torch.optim.Adam(module.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
    n = train_rows["features"].shape[0]
    batch_size = 4096
    history = []
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        start = time.time()
        order = torch.randperm(n, generator=generator)
        module.train()
        for first in range(0, n, batch_size):
            index = order[first:first + batch_size]
            batch = {k: (v[index] if v.dim() > 0 else v) for k, v in train_rows.items()}
            # Batch weights re-normalised so each batch estimates the full loss.
            batch["weight"] = batch["weight"]/batch["weight"].sum()
            optimiser.zero_grad()
            loss = total_loss(kind, *loss_terms(kind, module, batch, mean, std))
            loss.backward()
            optimiser.step()
        schedule.step()
        module.eval()
        with torch.no_grad():
            train_loss = [float(x) for x in loss_terms(kind, module, train_rows, mean, std)]
            valid_loss = [float(x) for x in loss_terms(kind, module, valid_rows, mean, std)]
        history.append((epoch + 1, total_loss(kind, *train_loss), total_loss(kind, *valid_loss)))
        log(f"  {kind:14s} epoch {epoch + 1:3d}/{epochs}  loss train {history[-1][1]:.4f}"
            f"  held-out {history[-1][2]:.4f}  (stress {valid_loss[0]:.4f},"
            f" dissipation {valid_loss[1]:.4f})  {time.time() - start:.1f} s", flush=True)
    return module, history


# The networks ignore trS (the discrete divergence) and trW2 (= trS2 - 1):
# identity normalisation keeps their noise harmless, and the training range
# does not report them.
UNUSED_INPUTS = (0, 2)


def input_names(rows):
    """The models' inputs: the invariants, and nuRatio where the rows have it."""
    names = list(mlcfd_model.EDDY_VISCOSITY_INPUTS)
    if rows["features"].shape[1] > REGIME_COLUMN:
        names.append(mlcfd_model.REGIME_INPUT)
    return names


def training_range(train_rows):
    """The "training_range" metadata entry of the inputs the closures were
    trained on."""
    names = input_names(train_rows)
    return mlcfd_model.training_range(train_rows["features"],
                                      unchecked=[names[i] for i in UNUSED_INPUTS])


def save_model(kind, module, path, mean, std, description, basis_count, dtype, input_range, inputs):
    """Save @p module (trained in float64) in @p dtype: float32 halves the
    inference time inside the LES (Debian's LibTorch uses the reference BLAS)."""
    outputs = (["nutStar"] if kind == "eddyViscosity"
               else [f"g{i + 1}" for i in range(basis_count)])
    if dtype == "float32":
        module = copy.deepcopy(module).float()
    units = {name: "1" for name in inputs}
    units.update({name: "1" for name in outputs})
    mlcfd_model.save(module, path, kind=kind, description=description,
                     inputs=inputs, outputs=outputs,
                     input_mean=mean.tolist(), input_std=std.tolist(), units=units,
                     dtype=dtype, training_range=input_range)


def plot_losses(histories, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for kind, history in histories.items():
        epochs = [h[0] for h in history]
        ax.semilogy(epochs, [h[1] for h in history], label=f"{kind} train")
        ax.semilogy(epochs, [h[2] for h in history], "--", label=f"{kind} held-out")
    ax.set_xlabel("epoch")
    ax.set_ylabel("relative loss")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_scatter(samples, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(samples), figsize=(3.2*len(samples), 3.2), squeeze=False)
    for ax, (name, (exact, pred)) in zip(axes[0], samples.items()):
        ax.plot(exact, pred, ",", alpha=0.3)
        lo, hi = float(exact.min()), float(exact.max())
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.5)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("exact -tau:S")
    axes[0][0].set_ylabel("predicted -tau:S")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("--models", help="directory for the .pt files")
    parser.add_argument("--report", help="directory for apriori.md and PNGs")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--basis-count", type=int, default=2,
                        help="tensor-basis terms (2: S and SW - WS)")
    parser.add_argument("--width", type=int, default=16, help="neurons per hidden layer")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                        help="precision of the saved models")
    parser.add_argument("--kinds", nargs="+", default=["eddyViscosity", "tensorBasis"],
                        choices=["eddyViscosity", "tensorBasis"])
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--regime", action="store_true",
                        help="the models also read nuRatio = nu/(delta^2 |grad U|)")
    parser.add_argument("--record-range", nargs="+", metavar="MODEL",
                        help="only write the training range of DATASET into these existing"
                             " model files (networks unchanged) and stop")
    args = parser.parse_args(argv)
    if not args.record_range and not (args.models and args.report):
        parser.error("--models and --report are needed to train")
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    if not os.path.isfile(args.dataset):
        sys.exit(f"train_closures: {args.dataset}: no such file (write it with make_dataset.py)")
    data = torch.load(args.dataset)
    if args.regime:
        data["rows"] = with_regime(data["rows"])
    rows = data["rows"]
    train_mask = (rows["split"] == 0) & (rows["filter"] == 0)
    valid_mask = (rows["split"] == 1) & (rows["filter"] == 0)
    train_rows = with_norms(select(rows, train_mask))
    valid_rows = with_norms(select(rows, valid_mask))
    input_range = training_range(train_rows)
    if args.record_range:
        for path in args.record_range:
            mlcfd_model.record_training_range(path, input_range)
            print(f"train_closures: wrote the training range of {input_range['rows']} rows"
                  f" into {path}", flush=True)
        return
    os.makedirs(args.models, exist_ok=True)
    os.makedirs(args.report, exist_ok=True)
    mean = train_rows["features"].mean(0)
    std = train_rows["features"].std(0)
    for unused in UNUSED_INPUTS:
        mean[unused], std[unused] = 0.0, 1.0
    regime = None
    if args.regime:
        mean[REGIME_COLUMN], std[REGIME_COLUMN] = 0.0, 1.0
        logs = torch.log10(torch.clamp(train_rows["features"][:, REGIME_COLUMN], min=1e-30))
        regime = (float(logs.mean()), max(float(logs.std()), 0.1))
        print(f"train_closures: nuRatio from {10**float(logs.min()):.3g} to {10**float(logs.max()):.3g}"
              f" in the training rows", flush=True)
    print(f"train_closures: {int(train_mask.sum())} training rows, {int(valid_mask.sum())}"
          f" held-out rows (box filter; grids {data['grids']})", flush=True)

    histories = {}
    models = {}
    source = data["description"]
    for kind in args.kinds:
        module, history = train(kind, train_rows, valid_rows, mean, std, args.epochs,
                                args.seed, args.basis_count, args.width, print, regime)
        histories[kind] = history
        models[kind] = module
        path = os.path.join(args.models, f"{kind}.pt")
        save_model(kind, module, path, mean, std,
                   f"learned {kind} closure, trained by training/les/train_closures.py"
                   f" (seed {args.seed}, {args.epochs} epochs{', regime input' if regime else ''})"
                   f" on {source}",
                   args.basis_count, args.dtype, input_range, input_names(train_rows))
        print(f"train_closures: wrote {path}", flush=True)
    plot_losses(histories, os.path.join(args.report, "loss_curves.png"))
    write_report(data, models, mean, std, histories, args)


def write_report(data, models, mean, std, histories, args):
    rows = data["rows"]
    filters = data["filters"]
    lines = ["# A-priori report of the learned LES closures", "",
             f"Data: {data['description']}.", "",
             "Held-out snapshots only (not used in training). corr tau: correlation of"
             " predicted and exact deviatoric SGS stress, mean over the six components;"
             " corr diss: correlation of the SGS dissipation -tau:S; diss ratio: mean"
             " predicted / mean exact dissipation (1 is right).", "",
             f"Command: `training/les/Allrun` (train_closures.py seed {args.seed},"
             f" {args.epochs} epochs).", "",
             "| filter | LES grid | model | corr tau | corr diss | diss ratio |",
             "|---|---|---|---|---|---|"]
    scatter = {}
    with torch.no_grad():
        for f_index, f_name in enumerate(filters):
            for grid in data["grids"]:
                for snap_index in sorted(set(rows["snapshot"][(rows["split"] == 1)].tolist())):
                    mask = ((rows["split"] == 1) & (rows["filter"] == f_index)
                            & (rows["grid"] == grid) & (rows["snapshot"] == snap_index))
                    if not mask.any():
                        continue
                    r = select(rows, mask)
                    ubar = data["ubar"][(snap_index, grid, f_name)]
                    delta = r["delta"]
                    candidates = {
                        "Smagorinsky": smagorinsky_stress(r["gradU"], delta),
                    }
                    dyn, C = dynamic_smagorinsky_stress(ubar, float(delta[0]))
                    candidates[f"dynamic Smagorinsky (C = {C:.4f})"] = dyn
                    for kind, module in models.items():
                        candidates[f"learned {kind}"] = model_stress(
                            kind, module, r["features"], r["gradU"], delta, mean, std)
                    label = data["snapshot_labels"][snap_index]
                    for name, tau in candidates.items():
                        m = apriori_metrics(tau, r["tau"], r["gradU"])
                        lines.append(f"| {f_name} | {grid}^3 ({label}) | {name} |"
                                     f" {m['corr_tau']:.3f} | {m['corr_diss']:.3f} |"
                                     f" {m['diss_ratio']:.3f} |")
                        if f_name == "box" and grid == min(data["grids"]) and not scatter.get(name):
                            S = sgsdata.strain_rows(r["gradU"])
                            scatter[name.split(" (")[0]] = (
                                -sgsdata.contract(sgsdata.deviatoric(r["tau"]), S),
                                -sgsdata.contract(sgsdata.deviatoric(tau), S))
    lines += ["", "Final losses (relative; train / held-out):", ""]
    for kind, history in histories.items():
        lines.append(f"- {kind}: {history[-1][1]:.4f} / {history[-1][2]:.4f}")
    lines += ["", "![loss curves](loss_curves.png)",
              "", f"![dissipation scatter, box filter {min(data['grids'])}^3](scatter.png)", ""]
    plot_scatter(scatter, os.path.join(args.report, "scatter.png"))
    path = os.path.join(args.report, "apriori.md")
    with open(path, "w") as out:
        out.write("\n".join(lines))
    print("\n".join(lines[8:]))
    print(f"train_closures: wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
