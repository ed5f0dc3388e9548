#!/usr/bin/python3
"""Train the neuralOperator emulator of the lid-driven cavity.

    train_operator.py CASE --out operator.pt [--lag 5] [--epochs 3000]

CASE holds an icoFoam run written at every time step (ASCII) and the cell
centres (0/C, from 'postProcess -func writeCellCentres'). A row is a cell at
time t: U (3), p, C (3); the target is U at t + lag steps. The network is
residual (U(t) + MLP), float64, fixed seed, one thread, Adam on mini-batches. Times that are multiples of the
function object's interval (every 'lag' steps, as the tutorial evaluates it)
are held out; the rest train.
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
        fields[t] = (np.broadcast_to(U, (n, 3)), np.broadcast_to(p, (n, 1)))
    return times, C, fields


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
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--record-range", action="store_true",
                        help="only write the training range of CASE's rows into the existing"
                             " model --out (network unchanged)")
    args = parser.parse_args()
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(1)

    times, C, fields = load(args.case)
    train_x, train_y, test_x, test_y = [], [], [], []
    for i in range(len(times) - args.lag):
        U, p = fields[times[i]]
        x = np.hstack([U, p, C])
        y = fields[times[i + args.lag]][0]
        held_out = i % args.lag == 0 and i > 0
        (test_x if held_out else train_x).append(x)
        (test_y if held_out else train_y).append(y)
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
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, args.epochs)
    for epoch in range(args.epochs):
        order = torch.randperm(len(Xn))
        for start in range(0, len(Xn), args.batch):
            batch = order[start:start + args.batch]
            optimiser.zero_grad()
            loss = torch.mean((model(Xn[batch]) - Yj[batch])**2)
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

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    names_in = ["Ux", "Uy", "Uz", "p", "Cx", "Cy", "Cz"]
    mlcfd_model.save(
        model, args.out, kind="operator",
        description=f"lid-driven cavity emulator: U(t + {args.lag} dt) from U, p, C "
                    "(icoFoam, 20x20, Re 10)",
        inputs=names_in, outputs=["Ux", "Uy", "Uz"],
        input_mean=mean.tolist(), input_std=std.tolist(),
        training_range=mlcfd_model.training_range(X),
        units={"Ux": "m/s", "Uy": "m/s", "Uz": "m/s"},
        constants={"lagSteps": args.lag, "deltaT": 0.005})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
