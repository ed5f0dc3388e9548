#!/usr/bin/python3
"""Checks of the neuralOperator function object on written (ASCII) fields.

    checkNeuralOperator.py fields CASE TIME OUTPUT
        the output, its raw twin and both fluxes were written
    checkNeuralOperator.py boundary CASE TIME OUTPUT LIKE
        every fixedValue patch of the output holds the prescribed value text
        exactly; wall fluxes of the projected flux are exactly 0; the raw
        output misses the prescribed values
    checkNeuralOperator.py conservation CASE TIME OUTPUT [--rtol 1e-12]
        per-cell net flux of <OUTPUT>Flux, recomputed here from the mesh:
        max|net| <= rtol * max|phi| and <= rtol * max|net of the raw flux|,
        while the raw flux's max|net| is far above round-off
    checkNeuralOperator.py twin CASE TIME OUTPUT [--rtol 1e-8]
        the Python layer (common/python/mlcfd_constraints.py) projecting the
        same flux (Sigma = I, walls held) gives the function object's
        projected flux: |python - C++| <= rtol |python - raw| (weights unit,
        projection global)
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "training", "neuralOperator"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "common", "python"))
import foamFields  # noqa: E402


def fail(message):
    sys.exit("FAIL: " + message)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["fields", "boundary", "conservation", "twin"])
    parser.add_argument("case")
    parser.add_argument("time")
    parser.add_argument("output")
    parser.add_argument("like", nargs="?", default="U")
    parser.add_argument("--rtol", type=float)
    args = parser.parse_args()
    d = os.path.join(args.case, args.time)
    if args.rtol is None:
        args.rtol = 1e-8 if args.mode == "twin" else 1e-12

    if args.mode == "fields":
        for name in (args.output, args.output + "Raw", args.output + "Flux",
                     args.output + "RawFlux"):
            if not os.path.isfile(os.path.join(d, name)):
                fail(f"{d}/{name} was not written")
        internal, _ = foamFields.read_field(os.path.join(d, args.output))
        if internal.shape[0] < 2 or not np.all(np.isfinite(internal)):
            fail("the output is not a finite nonuniform field")
        print(f"OK: {args.output}, {args.output}Raw, {args.output}Flux and "
              f"{args.output}RawFlux written in {d} ({internal.shape[0]} cells)")

    elif args.mode == "boundary":
        _, like = foamFields.read_field(os.path.join(d, args.like))
        _, out = foamFields.read_field(os.path.join(d, args.output))
        _, raw = foamFields.read_field(os.path.join(d, args.output + "Raw"))
        _, flux = foamFields.read_field(os.path.join(d, args.output + "Flux"))
        checked = 0
        for name, info in like.items():
            if info["type"] != out[name]["type"]:
                fail(f"patch {name}: type {out[name]['type']}, not {info['type']}")
            if info["type"] == "fixedValue":
                if out[name]["valueText"] != info["valueText"]:
                    fail(f"patch {name}: {out[name]['valueText'][:80]} != {info['valueText'][:80]}")
                err_raw = np.abs(raw[name]["value"] - info["value"]).max()
                print(f"patch {name} (fixedValue): output == prescribed exactly; "
                      f"raw output off by up to {err_raw:.3e}")
                if err_raw == 0:
                    fail("the raw output already holds the prescribed values: the check proves nothing")
                checked += 1
            if info["type"] in ("fixedValue", "noSlip"):
                v = flux[name]["value"]
                if np.abs(v).max() != 0:
                    fail(f"patch {name}: projected wall flux {np.abs(v).max():.3e} != 0")
                where = "uniform" if flux[name]["uniform"] else f"on {v.shape[0]} faces"
                print(f"patch {name} ({info['type']}): projected flux exactly 0 ({where})")
        if not checked:
            fail("no fixedValue patch checked")

    elif args.mode == "twin":
        import torch
        import mlcfd_constraints
        mesh = os.path.join(args.case, "constant", "polyMesh")
        owner = foamFields.read_list(os.path.join(mesh, "owner")).astype(int)
        neighbour = foamFields.read_list(os.path.join(mesh, "neighbour")).astype(int)
        n_int, n_cells = neighbour.size, owner.max() + 1
        _, projected = foamFields.cell_net_flux(args.case, os.path.join(d, args.output + "Flux"))
        net_raw, raw = foamFields.cell_net_flux(args.case, os.path.join(d, args.output + "RawFlux"))
        # The held boundary fluxes are the projected field's (walls, lid).
        held = np.zeros(n_cells)
        np.add.at(held, owner[n_int:], projected[n_int:])
        faces = np.arange(n_int)
        G = mlcfd_constraints.SparseMatrix(np.concatenate([owner[:n_int], neighbour]),
                                           np.concatenate([faces, faces]),
                                           np.concatenate([np.ones(n_int), -np.ones(n_int)]),
                                           (n_cells, n_int))
        python = mlcfd_constraints.project(torch.tensor(raw[:n_int]), G, torch.tensor(-held),
                                           solver="cg").numpy()
        correction = np.linalg.norm(python - raw[:n_int])
        difference = np.linalg.norm(python - projected[:n_int])
        print(f"{d}: |Python layer - raw| = {correction:.3e}, |Python layer - function object| = "
              f"{difference:.3e} ({difference/correction:.2e} of the correction)")
        if not difference <= args.rtol*correction:
            fail(f"the function object's projection differs from the Python layer's by "
                 f"{difference/correction:.3e} of the correction > {args.rtol:g}")
        print("OK")

    else:
        net, phi = foamFields.cell_net_flux(args.case, os.path.join(d, args.output + "Flux"))
        net_raw, _ = foamFields.cell_net_flux(args.case, os.path.join(d, args.output + "RawFlux"))
        scale = np.abs(phi).max()
        after, raw = np.abs(net).max(), np.abs(net_raw).max()
        print(f"{d}: {net.size} cells, max|phi| = {scale:.3e}; max per-cell |net flux|: "
              f"projected {after:.3e} ({after/scale:.2e} of max|phi|, {after/raw:.2e} of raw), "
              f"raw {raw:.3e} ({raw/scale:.2e} of max|phi|); global sum: projected "
              f"{net.sum():.3e}, raw {net_raw.sum():.3e}")
        if not after <= args.rtol*scale:
            fail(f"projected flux: per-cell imbalance {after/scale:.3e} of max|phi| > {args.rtol:g}")
        if not after <= args.rtol*raw:
            fail(f"projected flux: per-cell imbalance {after/raw:.3e} of the raw one > {args.rtol:g}")
        if not raw > 1e-6*scale:
            fail("the raw flux is conservative already: the check proves nothing")
        print("OK")


if __name__ == "__main__":
    main()
