#!/usr/bin/python3
"""Checks the table of 'bench/lesAposteriori --quick':

    check_les_aposteriori.py TABLE.md

Both sections (training fields, held-out field) have a row per closure, and
on the training fields the trained closure (aposteriori.pt) is nearer its
references than the a-priori model it started from (eddyViscosity.pt):
total error against the references at t = 0.28 s.
"""
import sys

CLOSURES = ("none", "smagorinsky", "smagorinsky-Ck0.13", "eddyViscosity.pt", "aposteriori.pt")


def section_rows(text):
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[2] in CLOSURES:
            rows[cells[2]] = float(cells[4].split("/")[0])
    return rows


def main():
    text = open(sys.argv[1]).read()
    if "## Held-out" not in text:
        sys.exit(f"FAIL: {sys.argv[1]} has no held-out section")
    training, held_out = (section_rows(part) for part in text.split("## Held-out"))
    for name, rows in (("training", training), ("held-out", held_out)):
        missing = [c for c in CLOSURES if c not in rows]
        if missing:
            sys.exit(f"FAIL: the {name} section lacks rows for {missing}")
    print(f"reference error at t = 0.28 s on the training fields: {training}")
    if not training["aposteriori.pt"] < training["eddyViscosity.pt"]:
        sys.exit("FAIL: training did not bring the closure nearer its references")
    print("OK")


if __name__ == "__main__":
    main()
