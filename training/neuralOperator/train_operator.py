#!/usr/bin/python3
"""Train the neuralOperator emulator of the lid-driven cavity.

    train_operator.py CASE --out operator.pt [--lag 5] [--epochs 60] [--through-layer]

CASE holds an icoFoam run written at every time step (ASCII) and the cell
centres (0/C, from 'postProcess -func writeCellCentres'). A row is a cell at
time t: U (3), p, C (3); the target is U at t + lag steps. The network is
residual (U(t) + MLP), float64, fixed seed, one thread, Adam on mini-batches. Times that are multiples of the
function object's interval (every 'lag' steps, as the tutorial evaluates it)
are held out; the rest train.

--through-layer trains with the function object's flux projection in the
forward pass (common/python/mlcfd_constraints.py, the layer the C++ side
applies: tests/openfoam/checkNeuralOperator.py twin): beside every batch of
rows, one whole snapshot's prediction is interpolated to the faces
(OpenFOAM's linear weights), projected onto zero net flux per cell (walls
held, Sigma = I) and fitted to icoFoam's own phi at t + lag. Without it the
network is fitted to U only. Both print the held-out errors of U and of the
projected flux, so the two trainings compare side by side.
"""
import argparse
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "common", "python"))
import foamFields  # noqa: E402
import mlcfd_constraints  # noqa: E402
import mlcfd_model  # noqa: E402


class Emulator(torch.nn.Module):
    """U(t + lag) = U(t) + scale * MLP((x - mean)/std); the normalisation of
    x travels in the model's metadata, so forward sees normalised rows."""

    def __init__(self, mean, std, scale, width=48):
        super().__init__()
        self.register_buffer("u_mean", torch.tensor(mean[:3]))
        self.register_buffer("u_std", torch.tensor(std[:3]))
        self.register_buffer("scale", torch.tensor(scale))
        self.net = torch.nn.Sequential(
            torch.nn.Linear(len(mean), width), torch.nn.Tanh(),
            torch.nn.Linear(width, width), torch.nn.Tanh(),
            torch.nn.Linear(width, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = x[:, 0:3]*self.u_std + self.u_mean
        return u + self.scale*self.net(x)


def load(case):
    times = sorted((d for d in os.listdir(case) if _is_time(d)), key=float)
    C, _ = foamFields.read_field(os.path.join(case, "0", "C"))
    fields = {}
    for t in times:
        U, _ = foamFields.read_field(os.path.join(case, t, "U"))
        p, _ = foamFields.read_field(os.path.join(case, t, "p"))
        n = C.shape[0]
        phi_file = os.path.join(case, t, "phi")
        phi = foamFields.read_field(phi_file)[0][:, 0] if os.path.isfile(phi_file) else None
        fields[t] = (np.broadcast_to(U, (n, 3)), np.broadcast_to(p, (n, 1)), phi)
    return times, C, fields


class FaceFlux:
    """Internal-face flux of a cell vector field, linear interpolation as
    OpenFOAM's 'linear' scheme, and G, the net outward flux of every cell."""

    def __init__(self, case, cell_centres):
        mesh = os.path.join(case, "constant", "polyMesh")
        owner = foamFields.read_list(os.path.join(mesh, "owner")).astype(int)
        neighbour = foamFields.read_list(os.path.join(mesh, "neighbour")).astype(int)
        n_int = neighbour.size
        areas, centres = foamFields.face_area_vectors(mesh, with_centres=True)
        S, Cf = areas[:n_int], centres[:n_int]
        P, N = cell_centres[owner[:n_int]], cell_centres[neighbour]
        # w_f = S.(C_N - C_f) / S.(C_N - C_P), the owner's weight.
        w = (S*(N - Cf)).sum(1)/(S*(N - P)).sum(1)
        self.owner, self.neighbour = torch.tensor(owner[:n_int]), torch.tensor(neighbour)
        self.w, self.S = torch.tensor(w), torch.tensor(S)
        # With every boundary flux held the rows sum to zero: the last row is
        # implied by the others and left out, so the dense factor exists.
        rows = np.concatenate([owner[:n_int], neighbour])
        faces = np.concatenate([np.arange(n_int), np.arange(n_int)])
        values = np.concatenate([np.ones(n_int), -np.ones(n_int)])
        kept = cell_centres.shape[0] - 1
        self.G = mlcfd_constraints.SparseMatrix(rows[rows < kept], faces[rows < kept],
                                                values[rows < kept], (kept, n_int))
        self.zero = torch.zeros(kept, dtype=torch.float64)

    def __call__(self, U):
        """U (..., cells, 3) -> flux (..., faces)."""
        w = self.w.unsqueeze(-1)
        Uf = w*U[..., self.owner, :] + (1 - w)*U[..., self.neighbour, :]
        return (Uf*self.S).sum(-1)

    def project(self, flux):
        """Zero net flux per cell with the walls' (zero) flux held, Sigma = I:
        the neuralOperator function object's projection (weights unit)."""
        return mlcfd_constraints.project(flux, self.G, self.zero, solver="dense")


def held_out_errors(model, Xtn, Ytj, phi_t, faces, n_cells):
    """Relative RMS errors of U, of the raw and of the projected flux."""
    with torch.no_grad():
        U = model(Xtn).reshape(-1, n_cells, 3)
        raw = faces(U)
        projected = faces.project(raw)
    true_U = Ytj.reshape(-1, n_cells, 3)

    def rel(a, b):
        return float(torch.linalg.norm(a - b)/torch.linalg.norm(b))
    return rel(U[..., :2], true_U[..., :2]), rel(raw, phi_t), rel(projected, phi_t)


def _is_time(name):
    try:
        float(name)
        return True
    except ValueError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("--out", required=True)
    parser.add_argument("--lag", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch", type=int, default=512, help="rows per batch")
    parser.add_argument("--through-layer", action="store_true",
                        help="fit the projected face flux as well, through the constraint layer")
    parser.add_argument("--record-range", action="store_true",
                        help="only write the training range of CASE's rows into the existing"
                             " model --out (network unchanged)")
    args = parser.parse_args()
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(1)

    times, C, fields = load(args.case)
    train_x, train_y, test_x, test_y, train_phi, test_phi = [], [], [], [], [], []
    for i in range(len(times) - args.lag):
        U, p, _ = fields[times[i]]
        x = np.hstack([U, p, C])
        y, _, phi = fields[times[i + args.lag]]
        held_out = i % args.lag == 0 and i > 0
        (test_x if held_out else train_x).append(x)
        (test_y if held_out else train_y).append(y)
        (test_phi if held_out else train_phi).append(phi)
    X, Y = np.vstack(train_x), np.vstack(train_y)
    Xt, Yt = np.vstack(test_x), np.vstack(test_y)
    if args.record_range:
        mlcfd_model.record_training_range(args.out, mlcfd_model.training_range(X))
        print(f"wrote the training range of {len(X)} rows into {args.out}")
        return
    mean, std = X.mean(0), X.std(0)
    std[std < 1e-12] = 1.0
    scale = float(np.abs(Y - X[:, :3]).std()) or 1.0
    print(f"rows: {len(X)} training, {len(Xt)} held out; lag {args.lag} steps; "
          f"residual scale {scale:.3g}")

    model = Emulator(mean, std, scale).double()
    Xn = torch.tensor((X - mean)/std)
    Xtn = torch.tensor((Xt - mean)/std)
    Yj, Ytj = torch.tensor(Y), torch.tensor(Yt)
    n_cells = C.shape[0]
    faces = FaceFlux(args.case, C)
    phi_j, phi_t = torch.tensor(np.stack(train_phi)), torch.tensor(np.stack(test_phi))
    flux_scale = float(phi_j.std())
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, args.epochs)
    for epoch in range(args.epochs):
        order = torch.randperm(len(Xn))
        for start in range(0, len(Xn), args.batch):
            batch = order[start:start + args.batch]
            optimiser.zero_grad()
            loss = torch.mean((model(Xn[batch]) - Yj[batch])**2)
            if args.through_layer:
                loss = loss/scale**2
                # One whole snapshot through the projection (it couples all
                # its cells), fitted to icoFoam's flux.
                k = int(torch.randint(len(train_x), (1,)))
                U = model(Xn[k*n_cells:(k + 1)*n_cells])
                projected = faces.project(faces(U.unsqueeze(0)))[0]
                loss = loss + torch.mean((projected - phi_j[k])**2)/flux_scale**2
            loss.backward()
            optimiser.step()
        schedule.step()
        if epoch % 10 == 0 or epoch == args.epochs - 1:
            with torch.no_grad():
                train = torch.mean((model(Xn) - Yj)**2)
                test = torch.mean((model(Xtn) - Ytj)**2)
                persistence = torch.mean((Xtn[:, 0:3]*model.u_std + model.u_mean - Ytj)**2)
            print(f"epoch {epoch:5d}: training MSE {train.item():.3e}, held-out MSE "
                  f"{test.item():.3e} (persistence U(t): {persistence.item():.3e})", flush=True)
    errors = held_out_errors(model, Xtn, Ytj, phi_t, faces, n_cells)
    persistence_flux = float(torch.linalg.norm(faces.project(faces(
        (Xtn[:, 0:3]*model.u_std + model.u_mean).reshape(-1, n_cells, 3))) - phi_t)/torch.linalg.norm(phi_t))
    print(f"held out ({'through the layer' if args.through_layer else 'fitted to U'}): relative error "
          f"of U {errors[0]:.4f}, of the raw flux {errors[1]:.4f}, of the projected flux {errors[2]:.4f} "
          f"(persistence, projected: {persistence_flux:.4f})")

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    names_in = ["Ux", "Uy", "Uz", "p", "Cx", "Cy", "Cz"]
    mlcfd_model.save(
        model, args.out, kind="operator",
        description=f"lid-driven cavity emulator: U(t + {args.lag} dt) from U, p, C "
                    "(icoFoam, 20x20, Re 10" + (", trained through the flux projection)"
                                                if args.through_layer else ")"),
        inputs=names_in, outputs=["Ux", "Uy", "Uz"],
        input_mean=mean.tolist(), input_std=std.tolist(),
        training_range=mlcfd_model.training_range(X),
        units={"Ux": "m/s", "Uy": "m/s", "Uz": "m/s"},
        constants={"lagSteps": args.lag, "deltaT": 0.005})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
