#!/usr/bin/python3
"""Compare the internal fields of two OpenFOAM ASCII field files.

    compareFields.py FILE_A FILE_B --rtol 1e-10 [--min-max 1e-12] [--minus X]

Passes (exit 0) when max|a - b| <= rtol * max|b|; prints the numbers either
way. --minus X compares a with max(0, b - X) instead (a viscosity lowered by
X and clipped at 0; X may be an expression such as 2*1e-05). Fails when a field is uniform zero (max|b| < --min-max), since equality
of two zero fields proves nothing.
"""
import argparse
import re
import sys

import numpy as np


def read_internal_field(path):
    text = open(path).read()
    match = re.search(r"internalField\s+nonuniform\s+List<(\w+)>\s*(\d+)\s*\(", text)
    if not match:
        sys.exit(f"{path}: no nonuniform ASCII internalField (write with 'writeFormat ascii')")
    count = int(match.group(2))
    body = text[match.end():]
    numbers = re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", body.split("\n)\n")[0])
    values = np.array(numbers, dtype=float)
    if values.size % count != 0:
        sys.exit(f"{path}: cannot read {count} values of {match.group(1)}")
    return values.reshape(count, -1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rtol", type=float, required=True)
    parser.add_argument("--min-max", type=float, default=1e-300)
    parser.add_argument("--minus", default=None)
    args = parser.parse_args()

    a, b = read_internal_field(args.a), read_internal_field(args.b)
    if args.minus is not None:
        factors = [float(x) for x in args.minus.split("*")]
        b = np.maximum(0.0, b - np.prod(factors))
        print(f"comparing with max(0, b - {np.prod(factors):g})")
    if a.shape != b.shape:
        sys.exit(f"shapes differ: {a.shape} vs {b.shape}")
    scale = np.abs(b).max()
    diff = np.abs(a - b).max()
    rel = diff / scale if scale > 0 else float("inf")
    print(f"{args.a} vs {args.b}: {a.shape[0]} cells, max|b| = {scale:.6e}, "
          f"max|a-b| = {diff:.3e}, relative {rel:.3e} (tolerance {args.rtol:g})")
    if scale < args.min_max:
        sys.exit("FAIL: reference field is (near) zero; the comparison proves nothing")
    if not rel <= args.rtol:
        sys.exit("FAIL: fields differ")
    print("OK")


if __name__ == "__main__":
    main()
