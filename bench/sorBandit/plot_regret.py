#!/usr/bin/python3
"""Regret curves of the SOR bandits from laplace_shift's <out>_curves.csv.

    plot_regret.py sor_bandit_curves.csv sor_bandit_regret.png

Regret of a policy after t instances: its cumulative SOR iterations minus
those of the best fixed omega in hindsight (negative: better than any fixed
omega, which only a contextual policy can be).
"""
import sys

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

names = open(sys.argv[1]).readline().strip().split(",")
data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
column = {name: data[:, i] for i, name in enumerate(names)}
t = column["instance"]
best = column["best fixed omega"]
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for name in names[1:]:
    if name == "best fixed omega":
        continue
    ax.plot(t, (column[name] - best) / 1000, label=name)
ax.axhline(0, color="grey", lw=0.8)
ax.set_xlabel("instances solved")
ax.set_ylabel("regret vs best fixed omega [10^3 SOR iterations]")
ax.set_yscale("symlog", linthresh=1)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=120)
print(f"wrote {sys.argv[2]}")
