#!/usr/bin/python3
"""The two learned-preconditioner networks (TorchScript-able).

GridVCycle (kind "preconditionerGrid"): a learned V-cycle, linear in the
residual (as multigrid is; a linear network also trained much faster and
better than a ReLU one here). A 1x1 lift of the residual to `channels`
features, then down the levels: a residual 3x3 convolution block, kept as
skip, 2x average pooling; at the coarsest level a convolution block; back
up: nearest-neighbour prolongation times a learned gain (a unit-spacing
Poisson correction on the 2x coarser grid is 4x too small), plus the skip,
a convolution block; a 1x1 projection to z. The blocks are shared by all
levels and the depth grows with the grid (down to 2-3 cells), so one model
covers every grid size and its reach stays global, as for multigrid. The
boundary enters through gates: features of diagRatio (which tells Dirichlet
boundary cells, ratio > 1, from Neumann ones, ratio < 1), max-pooled to the
coarse levels, scale each block's input per cell and channel (1 + tanh),
so the network stays linear in the residual but its stencils differ at
Dirichlet and Neumann boundaries. Any grid size: zero-padded inside forward
to a multiple of 2^levels (padding has diagRatio 0: "no cell") and cropped.

GraphNet (kind "preconditionerGraph"): message passing on the matrix graph.
Node features (residual, diagRatio) are lifted to `hidden` features; each
layer aggregates neighbour features weighted by the scaled off-diagonal
entries (index_add_, so it scripts) and updates the node through a small
MLP with a residual connection; the output adds a learned combination to
the scaled residual (the network starts from Jacobi). Works for any sparse
matrix; reach = `layers` graph hops.
"""
from typing import List

import torch
import torch.nn.functional as F


class GridVCycle(torch.nn.Module):
    def __init__(self, dimension: int, channels: int = 8, max_levels: int = 12):
        super().__init__()
        if dimension not in (2, 3):
            raise ValueError(f"dimension must be 2 or 3, not {dimension}")
        conv = torch.nn.Conv2d if dimension == 2 else torch.nn.Conv3d
        self.dimension = dimension
        self.channels = channels
        self.max_levels = max_levels
        self.lift = conv(1, channels, 1, bias=False)
        self.down = conv(channels, channels, 3, padding=1, bias=False)
        self.coarse = conv(channels, channels, 3, padding=1, bias=False)
        self.up = conv(channels, channels, 3, padding=1, bias=False)
        self.project = conv(channels, 1, 1, bias=False)
        # Boundary features from the diagonal ratio, max-pooled to the coarse
        # levels (averaging would fade them), and the gates they set: 3 maps
        # (down, coarse, up) per level.
        self.boundary = conv(1, channels, 3, padding=1)
        self.geometry = conv(channels, 3*channels, 3, padding=1)
        torch.nn.init.zeros_(self.geometry.weight)
        torch.nn.init.zeros_(self.geometry.bias)
        self.gain = torch.nn.Parameter(torch.tensor(4.0))

    def _pool(self, h):
        if self.dimension == 2:
            return F.avg_pool2d(h, 2)
        return F.avg_pool3d(h, 2)

    def _max_pool(self, h):
        if self.dimension == 2:
            return F.max_pool2d(h, 2)
        return F.max_pool3d(h, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial: List[int] = x.shape[2:]
        smallest = min(spatial)
        levels = 0
        while levels < self.max_levels and (smallest >> (levels + 1)) >= 2:
            levels += 1
        block = 1 << levels
        pad: List[int] = []
        for axis in range(len(spatial) - 1, -1, -1):  # F.pad starts at the last axis
            pad += [0, (block - spatial[axis] % block) % block]
        x = F.pad(x, pad)
        h = self.lift(x[:, 0:1])
        ratio = F.relu(self.boundary(x[:, 1:2]))
        gates: List[List[torch.Tensor]] = []
        skips: List[torch.Tensor] = []
        for _ in range(levels):
            g = (1 + torch.tanh(self.geometry(ratio))).chunk(3, dim=1)
            gates.append(g)
            h = h + self.down(g[0]*h)
            skips.append(h)
            h = self._pool(h)
            ratio = self._max_pool(ratio)
        g = (1 + torch.tanh(self.geometry(ratio))).chunk(3, dim=1)
        h = h + self.coarse(g[1]*h)
        for level in range(levels - 1, -1, -1):
            h = self.gain*F.interpolate(h, scale_factor=2.0, mode="nearest") + skips[level]
            h = h + self.up(gates[level][2]*h)
        y = self.project(h)
        if self.dimension == 2:
            return y[:, :, :spatial[0], :spatial[1]]
        return y[:, :, :spatial[0], :spatial[1], :spatial[2]]


class GraphNet(torch.nn.Module):
    def __init__(self, hidden: int = 16, layers: int = 8):
        super().__init__()
        self.hidden = hidden
        self.lift = torch.nn.Linear(2, hidden)
        self.updates = torch.nn.ModuleList(
            [torch.nn.Sequential(torch.nn.Linear(2*hidden, hidden), torch.nn.ReLU(),
                                 torch.nn.Linear(hidden, hidden)) for _ in range(layers)])
        self.project = torch.nn.Linear(hidden, 1)
        torch.nn.init.zeros_(self.project.weight)
        torch.nn.init.zeros_(self.project.bias)

    def forward(self, x: torch.Tensor, edgeIndex: torch.Tensor,
                edgeWeight: torch.Tensor) -> torch.Tensor:
        # x: [n, C] or [n, B, C] (B right-hand sides, for training)
        batched = x.dim() == 3
        if not batched:
            x = x.unsqueeze(1)
        row = edgeIndex[0]
        col = edgeIndex[1]
        weight = edgeWeight.to(x.dtype).view(-1, 1, 1)
        h = torch.relu(self.lift(x))
        for update in self.updates:
            aggregate = torch.zeros_like(h).index_add_(0, row, weight*h.index_select(0, col))
            h = h + update(torch.cat((h, aggregate), dim=-1))
        y = x[:, :, 0] + self.project(h)[:, :, 0]
        if not batched:
            y = y[:, 0]
        return y
