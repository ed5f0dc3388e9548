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
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "training", "neuralOperator"))
import foamFields  # noqa: E402


def fail(message):
    sys.exit("FAIL: " + message)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["fields", "boundary", "conservation"])
    parser.add_argument("case")
    parser.add_argument("time")
    parser.add_argument("output")
    parser.add_argument("like", nargs="?", default="U")
    parser.add_argument("--rtol", type=float, default=1e-12)
    args = parser.parse_args()
    d = os.path.join(args.case, args.time)

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
