#!/usr/bin/python3
"""Table of bench/neuralOperatorOpenFOAM: CASE_UNIT CASE_AREA (finished runs)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "training", "neuralOperator"))
import foamFields  # noqa: E402

LAG = 0.025


def times(case):
    names = [d for d in os.listdir(case) if d.replace(".", "").isdigit() and float(d) > 0]
    return sorted(names, key=float)


def dat(case):
    rows = [line.split() for line in open(os.path.join(
        case, "postProcessing", "velocityOperator", "0", "neuralOperator.dat"))
        if not line.startswith("#")]
    return {f"{float(r[0]):g}": [float(x) for x in r[1:]] for r in rows}


def flux_vector(case, path):
    net, phi = foamFields.cell_net_flux(case, path)
    return net, phi


def bc_error(case, t, name):
    _, like = foamFields.read_field(os.path.join(case, t, "U"))
    _, out = foamFields.read_field(os.path.join(case, t, name))
    error = 0.0
    for patch, info in like.items():
        if info["type"] == "fixedValue":
            error = max(error, np.abs(out[patch]["value"] - info["value"]).max())
        elif info["type"] == "noSlip":
            error = max(error, np.abs(out[patch]["value"]).max())
    return error


def main():
    unit, area = sys.argv[1], sys.argv[2]
    all_times = times(unit)
    held_out = [t for t in all_times
                if f"{float(t) + LAG:g}" in all_times and os.path.isfile(os.path.join(unit, t, "UPredicted"))]
    stats = {}

    def add(row, key, value):
        stats.setdefault(row, {}).setdefault(key, []).append(value)

    for t in held_out:
        later = f"{float(t) + LAG:g}"
        U_ref, _ = foamFields.read_field(os.path.join(unit, later, "U"))
        U_now, _ = foamFields.read_field(os.path.join(unit, t, "U"))
        _, phi_ref = flux_vector(unit, os.path.join(unit, later, "phi"))
        norm_U, norm_phi = np.linalg.norm(U_ref), np.linalg.norm(phi_ref)
        scale = np.abs(phi_ref).max()
        early = float(t) <= 0.1 + 1e-9
        add("persistence", "U", np.linalg.norm(U_now - U_ref)/norm_U)
        if early:
            add("persistence", "Uearly", np.linalg.norm(U_now - U_ref)/norm_U)
        net_ref, _ = flux_vector(unit, os.path.join(unit, later, "phi"))
        add("solver", "cell", np.abs(net_ref).max()/scale)
        add("solver", "global", abs(net_ref.sum())/scale)
        for row, case, field, flux in (("raw", unit, "UPredictedRaw", "UPredictedRawFlux"),
                                       ("unit", unit, "UPredicted", "UPredictedFlux"),
                                       ("area", area, "UPredicted", "UPredictedFlux")):
            U, _ = foamFields.read_field(os.path.join(case, t, field))
            net, phi = flux_vector(case, os.path.join(case, t, flux))
            add(row, "U", np.linalg.norm(U - U_ref)/norm_U)
            if early:
                add(row, "Uearly", np.linalg.norm(U - U_ref)/norm_U)
            add(row, "flux", np.linalg.norm(phi - phi_ref)/norm_phi)
            add(row, "cell", np.abs(net).max()/scale)
            add(row, "global", abs(net.sum())/scale)
            if row == "raw":
                add(row, "bc", bc_error(case, t, field))
            d = dat(case)[f"{float(t):g}"]
            # networkSeconds projectionSeconds bcError ... iterations
            add(row, "network", d[0]*1e3)
            if row != "raw":
                add(row, "bc", d[2])
                add(row, "projection", d[1]*1e3)
                add(row, "iterations", d[9])

    def mean(row, key, fmt="{:.3g}"):
        values = stats[row].get(key)
        return fmt.format(np.mean(values)) if values else "–"

    def worst(row, key):
        values = stats[row].get(key)
        return f"{np.max(values):.1e}" if values else "–"

    print(f"Lid-driven cavity (icoFoam, 20x20), emulator U(t) -> U(t + {LAG} s), "
          f"{len(held_out)} held-out times t = {held_out[0]} .. {held_out[-1]} s; "
          "errors against icoFoam's U and phi at t + 0.025 s (mean over times); "
          "conservation: max over cells and times of |sum of face fluxes| / max|phi|; "
          "times per evaluation (mean).\n")
    print("| output | rel. L2 error U | same, t <= 0.1 s | rel. L2 error flux | BC error (max) | per-cell conservation | "
          "global conservation | network [ms] | projection [ms] | PCG iterations |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = {"raw": "unconstrained (network as is, patches = adjacent cells)",
             "unit": "constrained, weights unit (Sigma = I)",
             "area": "constrained, weights area (Sigma_f = abs(S_f)/abs(d_f))"}
    for row in ("raw", "unit", "area"):
        print(f"| {names[row]} | {mean(row, 'U')} | {mean(row, 'Uearly')} | {mean(row, 'flux')} | {worst(row, 'bc')} | "
              f"{worst(row, 'cell')} | {worst(row, 'global')} | {mean(row, 'network', '{:.2f}')} | "
              f"{mean(row, 'projection', '{:.2f}')} | {mean(row, 'iterations', '{:.0f}')} |")
    print(f"| persistence U(t) (no network) | {mean('persistence', 'U')} | {mean('persistence', 'Uearly')} | – | – | – | – | – | – | – |")
    print(f"| icoFoam's own phi (reference) | – | – | – | – | {worst('solver', 'cell')} | "
          f"{worst('solver', 'global')} | – | – | – |")


if __name__ == "__main__":
    main()
