#!/usr/bin/python3
"""Train the SPON processors of the deal.II tutorial (tutorials/dealii/spon).

    train_spon.py DATA --models DIR --report DIR [--epochs 80] [--seed 0] [--threads 1]
                  [--without-layers]

DATA is written by `spon spon.prm` in generate mode (one JSON header line,
then float64 arrays). Two models are trained and saved with
mlcfd_model.save (kind "sponOperator", float64, one row per sample):

- spon_single.pt: processor on the fine space (the output space), input row
  (a, f, g DoF values), output row u DoF values;
- spon_multigrid.pt: the same network on the coarse space (one refinement
  less); the C++ decoder prolongs its output with deal.II's grid transfer.

The network (GraphSPON) acts on the DoF graph: the sparsity pattern of the
FE matrix is stored in the model as buffers, so a graph convolution mixes
each DoF with its FE neighbours; a low-rank global path (per-DoF channels
flattened through a small MLP) carries the non-local coupling of the
elliptic problem. Per-DoF features: log a, f, g (normalised with training
statistics, stored as buffers), the DoF's support point and a boundary flag.

Both models are trained through the layers the C++ decoder applies: the
multigrid output is prolonged to the fine space (the prolongation spon
writes with the data, the decoder's own transfer), then the boundary DoFs
take their prescribed values (mlcfd_constraints.dirichlet_lift, the Python
twin of the decoder's step). The loss is on the fine interior DoFs alone.
--without-layers trains the network alone instead: a mean-squared loss on
all DoFs of its own space (the multigrid model against the FE solution at
the coarse nodes), the baseline of bench/results/spon_through_layers.md.

Both models are judged on the validation samples in the fine space, as the
`spon` program judges them: the multigrid output prolonged, the relative
error in the L2 norm of the FE function (the fine mass matrix of the data).
training.json holds those errors and the validation seeds, so that `spon`
can be run on the same samples (Held-out offset = the first validation
index, Held-out samples = their count) and compared.

One thread by default: on a shared 2-core machine LibTorch's two-thread
kernels for these small per-DoF tensors were 3-4x slower than one thread.
With the fixed seed, one thread and the same data the models are
reproducible.

Writes DIR/spon_single.pt, DIR/spon_multigrid.pt and, in the report
directory, loss curves (spon_loss.png), training.md (validation errors)
and training.json (the same, for scripts).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "common", "python"))
import mlcfd_constraints  # noqa: E402
import mlcfd_model  # noqa: E402


def read_data(path):
    with open(path, "rb") as f:
        header = json.loads(f.readline().decode())
        data = {}
        for entry in header["arrays"]:
            count = int(np.prod(entry["shape"]))
            data[entry["name"]] = np.frombuffer(f.read(8*count), dtype="<f8").reshape(entry["shape"])
    return header, data


class GraphConv(torch.nn.Module):
    """gelu(W_self h + W_nb (A h)) (+ h when the widths agree), A the
    row-normalised DoF graph."""

    def __init__(self, width_in: int, width_out: int):
        super().__init__()
        self.residual = width_in == width_out
        self.self_weight = torch.nn.Linear(width_in, width_out)
        self.neighbour_weight = torch.nn.Linear(width_in, width_out, bias=False)

    def forward(self, h: torch.Tensor, aggregated: torch.Tensor) -> torch.Tensor:
        out = torch.nn.functional.gelu(self.self_weight(h) + self.neighbour_weight(aggregated))
        if self.residual:
            out = out + h
        return out


class GraphSPON(torch.nn.Module):
    """Processor on the DoF graph of one FE space (see the module doc):
    graph convolutions (encoder), a global low-rank MLP on a few channels
    per DoF, graph convolutions (decoder), a per-DoF readout."""

    def __init__(self, points, boundary, edges, input_shift, input_scale,
                 width=8, channels=4, latent=64):
        super().__init__()
        n = points.shape[0]
        self.n = n
        rows = torch.as_tensor(edges[:, 0], dtype=torch.long)
        cols = torch.as_tensor(edges[:, 1], dtype=torch.long)
        degree = torch.bincount(rows, minlength=n).to(torch.float32)
        self.register_buffer("graph", torch.stack((rows, cols)))
        self.register_buffer("weights", 1.0/degree[rows])
        static = np.concatenate([points, boundary.reshape(-1, 1)], axis=1)
        self.register_buffer("static", torch.as_tensor(static, dtype=torch.float32))
        self.register_buffer("input_shift", torch.as_tensor(input_shift, dtype=torch.float32))
        self.register_buffer("input_scale", torch.as_tensor(input_scale, dtype=torch.float32))
        self.channels = channels
        self.lift = GraphConv(3 + static.shape[1], width)
        self.encoder = GraphConv(width, width)
        self.to_global = torch.nn.Linear(width, channels)
        self.global_mlp = torch.nn.Sequential(
            torch.nn.Linear(channels*n, latent), torch.nn.GELU(),
            torch.nn.Linear(latent, latent), torch.nn.GELU(),
            torch.nn.Linear(latent, channels*n))
        self.decoder = GraphConv(width + channels, width + channels)
        self.readout = torch.nn.Sequential(torch.nn.Linear(width + channels, 16), torch.nn.GELU(),
                                           torch.nn.Linear(16, 1))

    def aggregate(self, h: torch.Tensor) -> torch.Tensor:
        """(A h)_i = mean of h over the FE neighbours j of i (row i of the
        sparsity pattern, i included), one sparse product for the batch."""
        batch, n, width = h.shape[0], h.shape[1], h.shape[2]
        A = torch.sparse_coo_tensor(self.graph, self.weights.to(h.dtype), (n, n))
        product = torch.mm(A, h.transpose(0, 1).reshape(n, batch*width))
        return product.view(n, batch, width).transpose(0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        x = x.view(batch, 3, self.n).transpose(1, 2)
        features = torch.cat((torch.log(x[:, :, 0:1]), x[:, :, 1:3]), dim=2)
        features = (features - self.input_shift.to(x.dtype))/self.input_scale.to(x.dtype)
        static = self.static.to(x.dtype).unsqueeze(0).expand(batch, self.n, self.static.shape[1])
        h = torch.cat((features, static), dim=2)
        h = self.lift(h, self.aggregate(h))
        h = self.encoder(h, self.aggregate(h))
        z = self.global_mlp(self.to_global(h).reshape(batch, self.n*self.channels))
        h = torch.cat((h, z.view(batch, self.n, self.channels)), dim=2)
        h = self.decoder(h, self.aggregate(h))
        return self.readout(h).squeeze(2)


def validation_count(samples):
    """The last 1/6 of the samples (at least one) are held for validation."""
    return max(1, samples//6)


def sparse_from_triples(data, name, shape, path):
    """A (row, column, value) array of DATA as an mlcfd_constraints.SparseMatrix."""
    if name not in data:
        raise SystemExit(f"train_spon.py: {path} has no '{name}' array: it was written by an older spon. "
                         "Regenerate it (spon with 'set Mode = generate').")
    triples = data[name]
    return mlcfd_constraints.SparseMatrix(triples[:, 0].astype(np.int64), triples[:, 1].astype(np.int64),
                                          torch.as_tensor(np.array(triples[:, 2])), shape)


class FineOutput:
    """The decoder's layers from a network output (normalised, on the
    processor's space) to the fine space: prolongation for the multigrid
    model, then, constrained, the Dirichlet lift to the fine boundary
    values. Normalised values: the rows of the prolongation sum to one, so
    it commutes with the output's shift and scale."""

    def __init__(self, prolongation, fine_boundary):
        self.prolongation = prolongation
        self.boundary_dofs = torch.nonzero(torch.as_tensor(fine_boundary > 0.5)).flatten()

    def __call__(self, prediction, fine_target, constrained):
        if self.prolongation is not None:
            prediction = self.prolongation.matvec(prediction)
        if constrained:
            prediction = mlcfd_constraints.dirichlet_lift(prediction, self.boundary_dofs,
                                                          fine_target[:, self.boundary_dofs])
        return prediction


def train_one(name, data, prefix, args, report):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    inputs = torch.as_tensor(np.array(data[prefix + "inputs"]), dtype=torch.float32)
    targets = torch.as_tensor(np.array(data[prefix + "solutions"]), dtype=torch.float32)
    fine = torch.as_tensor(np.array(data["fine_solutions"]), dtype=torch.float32)
    points, boundary = data[prefix + "points"], data[prefix + "boundary"]
    edges = data[prefix + "edges"].astype(np.int64)
    samples, n = targets.shape
    nf = fine.shape[1]
    validation = validation_count(samples)
    train_x, valid_x = inputs[:-validation], inputs[-validation:]
    train_y, valid_y = targets[:-validation], targets[-validation:]
    train_fine, valid_fine = fine[:-validation], fine[-validation:]

    per_dof = train_x.view(-1, 3, n)
    features = torch.stack((torch.log(per_dof[:, 0]), per_dof[:, 1], per_dof[:, 2]), dim=1)
    shift = features.mean(dim=(0, 2)).numpy()
    scale = features.std(dim=(0, 2)).numpy()
    out_mean, out_std = float(train_y.mean()), float(train_y.std())

    prolongation = (sparse_from_triples(data, "prolongation", (nf, n), args.data)
                    if name == "multigrid" else None)
    to_fine = FineOutput(prolongation, data["fine_boundary"])
    mass = sparse_from_triples(data, "fine_mass", (nf, nf), args.data)

    model = GraphSPON(points, boundary, edges, shift, scale, width=args.width, latent=args.latent)
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    batches = math.ceil(train_x.shape[0]/args.batch)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr,
                                                    total_steps=args.epochs*batches)

    def loss_of(x, y, y_fine):
        prediction = model(x)
        if args.layers:
            target = (y_fine - out_mean)/out_std
            return torch.mean((to_fine(prediction, target, constrained=True) - target)**2)
        return torch.mean((prediction - (y - out_mean)/out_std)**2)

    history = {"train": [], "validation": []}
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(train_x.shape[0])
        total = 0.0
        for b in range(batches):
            index = order[b*args.batch:(b + 1)*args.batch]
            loss = loss_of(train_x[index], train_y[index], train_fine[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            total += float(loss)*len(index)
        model.eval()
        with torch.no_grad():
            valid = float(loss_of(valid_x, valid_y, valid_fine))
        history["train"].append(total/train_x.shape[0])
        history["validation"].append(valid)
        if epoch % 10 == 0 or epoch == args.epochs - 1:
            print(f"{name}: epoch {epoch:4d} train {history['train'][-1]:.3e} "
                  f"validation {valid:.3e} ({time.time() - start:.0f} s)", flush=True)

    # Validation errors in the fine space, in double precision as the C++
    # decoder computes them: relative L2 norm of the FE function, with and
    # without the constraint step, and the largest raw boundary error.
    model = model.double()
    with torch.no_grad():
        target = np.array(data["fine_solutions"])[-validation:]
        target = torch.as_tensor(target, dtype=torch.float64)
        raw = model(torch.as_tensor(np.array(data[prefix + "inputs"])[-validation:]))

        def relative_l2(constrained):
            u = to_fine(raw, (target - out_mean)/out_std, constrained)*out_std + out_mean
            error = u - target
            return float(torch.mean(torch.sqrt(torch.sum(error*mass.matvec(error), dim=1)
                                               / torch.sum(target*mass.matvec(target), dim=1))))
        raw_fine = to_fine(raw, target, constrained=False)*out_std + out_mean
        errors = {"constrained": relative_l2(True), "unconstrained": relative_l2(False),
                  "bc": float(torch.max(torch.abs(raw_fine - target)[:, to_fine.boundary_dofs]))}

    names = [f"{field}_{i}" for field in ("a", "f", "g") for i in range(n)]
    path = os.path.join(args.models, f"spon_{name}.pt")
    mlcfd_model.save(model, path, kind="sponOperator",
                     description=f"SPON processor ({name}) for -div(a grad u) = f on the L-shape, "
                                 f"Q1, {n} DoFs, refinements {report['refinements'] - (name == 'multigrid')}; "
                                 + ("trained through the decoder's layers; " if args.layers else "")
                                 + "written by tutorials/dealii/spon/train_spon.py",
                     inputs=names, outputs=[f"u_{i}" for i in range(n)],
                     output_mean=[out_mean]*n, output_std=[out_std]*n,
                     training_range=mlcfd_model.training_range(train_x),
                     constants={"dofs": n, "refinements": report["refinements"] - (name == "multigrid"),
                                "degree": 1, "seed": args.seed, "epochs": args.epochs,
                                "throughLayers": int(args.layers)})
    print(f"wrote {path}: validation relative L2 error {errors['constrained']:.4f} constrained, "
          f"{errors['unconstrained']:.4f} unconstrained, max BC error {errors['bc']:.3e}", flush=True)
    return history, errors, sum(p.numel() for p in model.parameters()), time.time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("--models", default=os.path.join(here, "..", "..", "..", "models", "spon"))
    parser.add_argument("--report", default=os.path.join(here, "results"))
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--without-layers", dest="layers", action="store_false",
                        help="train the network alone, not through the decoder's layers"
                             " (prolongation for the multigrid model, Dirichlet lift)")
    parser.add_argument("--record-range", action="store_true",
                        help="only write the training range of DATA into the existing"
                             " spon_single.pt and spon_multigrid.pt of --models (networks unchanged)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.models, exist_ok=True)
    os.makedirs(args.report, exist_ok=True)

    header, data = read_data(args.data)
    if args.record_range:
        for name, prefix in (("single", "fine_"), ("multigrid", "coarse_")):
            inputs = torch.as_tensor(np.array(data[prefix + "inputs"]), dtype=torch.float64)
            path = os.path.join(args.models, f"spon_{name}.pt")
            mlcfd_model.record_training_range(
                path, mlcfd_model.training_range(inputs[:-validation_count(inputs.shape[0])]))
            print(f"wrote the training range into {path}")
        return
    results = {}
    for name, prefix in (("single", "fine_"), ("multigrid", "coarse_")):
        results[name] = train_one(name, data, prefix, args, header)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (history, _, _, _) in results.items():
        ax.semilogy(history["train"], label=f"{name}: train")
        ax.semilogy(history["validation"], "--", label=f"{name}: validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (normalised u)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.report, "spon_loss.png"), dpi=120)

    samples = len(data["fine_solutions"])
    validation = validation_count(samples)
    with open(os.path.join(args.report, "training.md"), "w") as f:
        f.write(f"train_spon.py, {args.epochs} epochs, seed {args.seed}, "
                + ("both models through the decoder's layers (prolongation, Dirichlet lift), "
                   if args.layers else "")
                + f"{samples} samples (the last {validation} for validation); errors on the fine space, "
                "relative L2 norm of the FE function, as `spon` measures them\n\n")
        f.write("| model | parameters | training time [s] | validation rel. L2 error, constrained "
                "| unconstrained | max BC error (raw) |\n|---|---:|---:|---:|---:|---:|\n")
        for name, (_, errors, count, seconds) in results.items():
            f.write(f"| {name} | {count} | {seconds:.0f} | {errors['constrained']:.4f} "
                    f"| {errors['unconstrained']:.4f} | {errors['bc']:.3e} |\n")
    with open(os.path.join(args.report, "training.json"), "w") as f:
        json.dump({"seed": header["seed"], "validation offset": samples - validation,
                   "validation samples": validation, "through layers": args.layers,
                   "errors": {name: errors for name, (_, errors, _, _) in results.items()}}, f, indent=1)
    print(open(os.path.join(args.report, "training.md")).read())


if __name__ == "__main__":
    main()
