#!/usr/bin/python3
"""Training and held-out rows of filtered DNS for train_closures.py.

    make_dataset.py --out dataset.pt --grids 16 32 64 RUN.pt [RUN.pt ...]

RUN files come from hitdns.py (with --snapshots). Of every run the last
snapshot is held out (a-priori report), the others are training data. Each
snapshot is filtered with the box filter and the spectral cut-off onto every
LES grid (sgsdata.py); training rows are subsampled to --max-rows per
snapshot and grid.
"""
import argparse
import os
import sys

import torch

import sgsdata


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--grids", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--filter-width", type=int, default=1,
                        help="box filter width in LES cells (1: cell average)")
    parser.add_argument("--max-rows", type=int, default=32768)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    filters = ["box", "spectral"]
    columns = {k: [] for k in ("features", "gradU", "tau", "delta", "rate", "scale", "nu", "weight",
                               "split", "filter", "grid", "snapshot")}
    ubar_store = {}
    labels = []
    generator = torch.Generator().manual_seed(args.seed)
    describe = []
    for run_path in args.runs:
        if not os.path.isfile(run_path):
            sys.exit(f"make_dataset: {run_path}: no such file (write it with hitdns.py --out)")
        run = torch.load(run_path)
        snapshots = run["snapshots"]
        if not snapshots:
            raise SystemExit(f"make_dataset: {run_path} holds no snapshots (hitdns.py --snapshots)")
        kind = "forced" if run["force"] > 0 else "decaying"
        describe.append(f"{kind} {run['n']}^3 nu {run['nu']:g} ({len(snapshots)} snapshots)")
        for index, uh in enumerate(snapshots):
            split = 1 if index == len(snapshots) - 1 else 0
            snapshot_id = len(labels)
            labels.append(f"{kind} #{index + 1}")
            u = sgsdata.velocity(uh)
            for f_index, f_name in enumerate(filters):
                for grid in args.grids:
                    data = sgsdata.snapshot_rows(u, grid, f_name, args.filter_width)
                    features, rate = sgsdata.invariants(data["gradU"])
                    n = features.shape[0]
                    keep = torch.arange(n)
                    if split == 0 and n > args.max_rows:
                        keep = torch.randperm(n, generator=generator)[:args.max_rows]
                    elif split == 1:
                        ubar_store[(snapshot_id, grid, f_name)] = data["ubar"]
                    m = len(keep)
                    delta = data["delta"][keep]
                    scale = delta**2*(rate**2).mean()
                    columns["features"].append(features[keep])
                    columns["gradU"].append(data["gradU"][keep])
                    columns["tau"].append(data["tau"][keep])
                    columns["delta"].append(delta)
                    columns["rate"].append(rate[keep])
                    columns["scale"].append(scale)
                    # The DNS viscosity: train_closures.py --regime derives nuRatio.
                    columns["nu"].append(torch.full((m,), float(run["nu"]), dtype=torch.float64))
                    # Every (snapshot, grid) weighs the same in the loss.
                    columns["weight"].append(torch.full((m,), 1.0/m, dtype=torch.float64))
                    for name, value in (("split", split), ("filter", f_index), ("grid", grid),
                                        ("snapshot", snapshot_id)):
                        columns[name].append(torch.full((m,), value, dtype=torch.long))
                    print(f"make_dataset: {run_path} {labels[-1]} {f_name} {grid}^3:"
                          f" {m} rows ({'held-out' if split else 'train'})", flush=True)
    rows = {k: torch.cat(v) for k, v in columns.items()}
    torch.save({"rows": rows, "ubar": ubar_store, "filters": filters, "grids": args.grids,
                "snapshot_labels": labels,
                "description": "; ".join(describe) + f"; LES grids {args.grids}; box filter"
                                f" width {args.filter_width} cell(s)"}, args.out)
    print(f"make_dataset: wrote {args.out} ({rows['features'].shape[0]} rows)")


if __name__ == "__main__":
    sys.exit(main())
