#!/usr/bin/python3
"""The scaling contract of mlcfd::LearnedPreconditioner (LearnedPreconditioner.h)
in Python, shared by training and evaluation.

With s = 1/sqrt(diag(A)), rs = s*r and rho = rms(rs), the network sees
rs/rho and diagRatio = diag/mean(diag), and its output y becomes z = rho*s*y.
Graph models also get the off-diagonal entries as edges (row i, column j)
with weights A_ij s_i s_j.
"""
import torch


def precondition(diag, r, network):
    """z = M r by the contract. @p r: [n] or [n, B] (one column per
    right-hand side); @p network(residual [n, B], diagRatio [n]) -> y [n, B]
    evaluates the model. Columns with r = 0 give z = 0."""
    single = r.dim() == 1
    if single:
        r = r.unsqueeze(1)
    s = diag.rsqrt().unsqueeze(1)
    rs = s*r
    rho = rs.square().mean(dim=0, keepdim=True).sqrt()
    safe_rho = torch.where(rho > 0, rho, torch.ones_like(rho))
    y = network(rs/safe_rho, diag/diag.mean())
    z = torch.where(rho > 0, safe_rho*s*y.to(r.dtype), torch.zeros_like(r))
    return z[:, 0] if single else z


def edge_weights(system):
    """Graph-model edge weights A_ij s_i s_j of the off-diagonal entries."""
    s = system.diag.rsqrt()
    return system.edge_value*s[system.edge_index[0]]*s[system.edge_index[1]]


def model_dtype(model):
    for p in model.parameters():
        return p.dtype
    return torch.float64


def grid_network(model, grid):
    """The network callable for a grid model (forward(x[B, C, (nz,) ny, nx]))."""
    spatial = tuple(grid[::-1])
    dtype = model_dtype(model)

    def network(residual, diag_ratio):
        batch = residual.shape[1]
        res = residual.t().reshape((batch, 1) + spatial)
        ratio = diag_ratio.reshape((1, 1) + spatial).expand((batch, 1) + spatial)
        y = model(torch.cat((res, ratio), dim=1).to(dtype))
        return y.reshape(batch, -1).t()
    return network


def graph_network(model, system):
    """The network callable for a graph model (forward(x[n, C], edgeIndex,
    edgeWeight)); several right-hand sides go in as x[n, B, C]."""
    dtype = model_dtype(model)
    weight = edge_weights(system).to(dtype)
    edges = system.edge_index

    def network(residual, diag_ratio):
        x = torch.stack((residual, diag_ratio.unsqueeze(1).expand_as(residual)), dim=-1)
        if x.shape[1] == 1:
            y = model(x[:, 0].to(dtype), edges, weight).reshape(-1, 1)
        else:
            y = model(x.to(dtype), edges, weight).reshape(residual.shape)
        return y
    return network


def network_for(model, kind, system):
    if kind == "grid":
        if system.grid is None:
            raise ValueError(f"system '{system.name}' has no grid for a grid model")
        return grid_network(model, system.grid)
    return graph_network(model, system)


def learned_preconditioner(model, kind, system):
    """r -> z for FlexibleCG (float64 vectors), the model in eval mode."""
    network = network_for(model, kind, system)

    def apply(r):
        with torch.no_grad():
            return precondition(system.diag, r, network)
    return apply


def jacobi(system):
    inverse = 1/system.diag
    return lambda r: inverse*r if r.dim() == 1 else inverse.unsqueeze(1)*r


def identity(r):
    return r

