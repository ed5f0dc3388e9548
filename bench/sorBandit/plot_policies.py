#!/usr/bin/python3
"""The policies of bench/sorBanditPolicies at a glance, from its table.

    plot_policies.py sor_bandit_policies.md sor_bandit_policies.png

Left: the non-contextual policies against the best fixed omega in
hindsight (tsallisInf, 1.3x to 2x, left out for the scale); right: the
contextual ones against instance-optimal; top after the first 300 solves,
bottom after all; one group of bars per case, the median over the seeds with
its [min, max] as an error bar, the goals (1.05 and 1.10) as dashed lines.
"""
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

SPREAD = re.compile(r"([0-9.]+) \[([0-9.]+), ([0-9.]+)\]")


def read(path):
    """{case: {policy: [(median, lo, hi) per column]}} from the Markdown tables."""
    cases, case = {}, None
    for line in open(path):
        if line.startswith("## "):
            case = line[3:].strip()
            cases[case] = {}
        elif case and line.startswith("| ") and not line.startswith("| policy"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            spreads = [SPREAD.match(c) for c in cells[1:5]]
            if all(spreads):
                cases[case][cells[0]] = [tuple(float(x) for x in m.groups()) for m in spreads]
    if not cases:
        sys.exit(f"plot_policies.py: no tables in {path}")
    return cases


def panel(ax, cases, policies, column, goal, ylabel):
    names = list(cases)
    width = 0.8 / len(policies)
    for p, policy in enumerate(policies):
        values = [cases[c][policy][column] for c in names]
        median = np.array([v[0] for v in values])
        lo = median - np.array([v[1] for v in values])
        hi = np.array([v[2] for v in values]) - median
        ax.bar(np.arange(len(names)) + (p - (len(policies) - 1) / 2) * width, median, width,
               yerr=[lo, hi], capsize=2, label=policy)
    ax.axhline(goal, color="k", ls="--", lw=0.8)
    ax.set_xticks(np.arange(len(names)))
    ax.set_xticklabels([n.replace(", shifts ", "\n") for n in names], fontsize=7)
    ax.set_ylim(0.95, None)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)


cases = read(sys.argv[1])
some = next(iter(cases.values()))
plain = [p for p in some if "omega only" in p or p in ("tsallisInf", "epsilonGreedy")]
contextual = [p for p in some if "(context)" in p]
fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
first = "after the first 300 solves"
panel(axes[0, 0], cases, [p for p in plain if p != "tsallisInf"], 0, 1.05, "cost / best fixed omega")
panel(axes[0, 1], cases, contextual, 1, 1.10, "cost / instance-optimal")
panel(axes[1, 0], cases, [p for p in plain if p != "tsallisInf"], 2, 1.05, "cost / best fixed omega")
panel(axes[1, 1], cases, contextual, 3, 1.10, "cost / instance-optimal")
axes[0, 0].set_title(f"without context (goal 1.05), {first}")
axes[0, 1].set_title(f"with the shift as context (goal 1.10), {first}")
axes[1, 0].set_title("without context, all solves")
axes[1, 1].set_title("with the shift as context, all solves")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
print("wrote", sys.argv[2])
