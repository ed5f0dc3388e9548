#!/usr/bin/python3
"""training/les/diffles.py against pimpleFoam on a decayIsoTurb case.

    checkDiffles.py CASE TIME [--model MODEL.pt] [--rtol R] [--spectrum-tol S]

CASE holds 0/U and pimpleFoam's TIME/U (ascii, the tutorial's schemes, with
Smagorinsky or, given --model, neuralEddyViscosity with that model file).
diffles runs from 0/U to TIME with the case's deltaT, once with the same
closure (train_aposteriori.NeuralNut for a model file) and once without a
model. Passes when
- the run with the closure differs from pimpleFoam's by less than R
  (||U_diffles - U_pimpleFoam|| / ||U_pimpleFoam - U_0||: relative to the
  change over the run, so a solver that did nothing fails);
- every shell of its spectrum is within S (relative) of pimpleFoam's;
- the run without a model differs by more than 3 R: the comparison sees the
  closure.
"""
import argparse
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "training", "les"))
import diffles  # noqa: E402
import train_aposteriori  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case")
    parser.add_argument("time")
    parser.add_argument("--model", help="an eddyViscosity model file (default: Smagorinsky)")
    parser.add_argument("--rtol", type=float, default=0.01)
    parser.add_argument("--spectrum-tol", type=float, default=0.01)
    args = parser.parse_args()
    U0, length, nu = diffles.read_case(args.case)
    n = U0.shape[-1]
    dt = diffles.read_entry(os.path.join(args.case, "system", "controlDict"), "deltaT")
    steps = round(float(args.time)/dt)
    foam = diffles.read_vector_field(os.path.join(args.case, args.time, "U"))
    foam = foam.t().reshape(3, n, n, n)
    grid = diffles.PeriodicGrid(n, length)
    change = float((foam - U0).norm())

    def difference(closure):
        stepper = diffles.LESStepper(grid, nu, dt, closure)
        with torch.no_grad():
            U = stepper.run(stepper.initial_state(U0), steps).U
        return U, float((U - foam).norm())/change

    if args.model:
        net, mean, std, _, regime = train_aposteriori.load_initial(args.model, False,
                                                                   torch.float32)
        closure = train_aposteriori.NeuralNut(net, mean, std, nu, regime)
    else:
        closure = diffles.SmagorinskyNut()
    U, smagorinsky = difference(closure)
    _, laminar = difference(diffles.NoModel())
    E, E_foam = diffles.spectrum(U, length), diffles.spectrum(foam, length)
    shells = slice(1, n//2)
    spectrum = float(((E[shells] - E_foam[shells])/E_foam[shells]).abs().max())
    print(f"{steps} steps of {dt} s on {n}^3: |U - U_pimpleFoam| / |U_pimpleFoam - U_0| ="
          f" {smagorinsky:.3e} (no model: {laminar:.3e}); largest relative spectrum"
          f" difference over shells 1 to {n//2 - 1}: {spectrum:.3e}")
    failures = []
    if not smagorinsky < args.rtol:
        failures.append(f"U differs by {smagorinsky:.3e} >= {args.rtol}")
    if not spectrum < args.spectrum_tol:
        failures.append(f"the spectrum differs by {spectrum:.3e} >= {args.spectrum_tol}")
    if not laminar > 3*args.rtol:
        failures.append(f"without a model U differs by only {laminar:.3e}: the test cannot"
                        " see the closure")
    if failures:
        sys.exit("FAIL: " + "; ".join(failures))
    print("OK")


if __name__ == "__main__":
    main()
