#!/usr/bin/python3
"""Compare a program's summary with its stored .output, iteration counts within a band.

    compare_iterations.py EXPECTED ACTUAL

Every line must match the stored one word for word, except the numbers
written as "N iterations": those may differ by max(2, 3% of N). Krylov
iteration counts in floating point move between CPUs (vector paths of BLAS
dot products, reduction order): by one or two with a preconditioner, by up
to 2% for plain CG (341 on one machine, 335 on another, 2D tutorial); a
broken preconditioner moves them by a factor (e.g. 36 -> 181 for Jacobi against plain CG on the
3D tutorial), which stays outside the band.
"""
import math
import re
import sys

ITERATIONS = re.compile(r"(\d+) iterations")


def band(expected):
    return max(2, math.ceil(0.03 * expected))


def main(expected_path, actual_path):
    expected = open(expected_path).read().splitlines()
    actual = open(actual_path).read().splitlines()
    problems = []
    if len(expected) != len(actual):
        problems.append(f"{len(actual)} lines, expected {len(expected)}")
    for number, (want, got) in enumerate(zip(expected, actual), start=1):
        if ITERATIONS.sub("N iterations", want) != ITERATIONS.sub("N iterations", got):
            problems.append(f"line {number}: '{got}', expected '{want}'")
            continue
        for w, g in zip(ITERATIONS.findall(want), ITERATIONS.findall(got)):
            if abs(int(g) - int(w)) > band(int(w)):
                problems.append(f"line {number}: {g} iterations, expected {w} +- {band(int(w))}: '{got}'")
    if problems:
        print(f"{actual_path} differs from {expected_path}:")
        print("\n".join("  " + p for p in problems))
        return 1
    print(f"{actual_path} matches {expected_path} (iterations within max(2, 3%))")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
