#!/usr/bin/python3
"""Linear systems for training and evaluating learned preconditioners.

Cell-centred finite-volume Poisson matrices on uniform grids with unit
spacing, the matrices OpenFOAM's laplacian assembles for a pressure equation
(up to sign):

- 2D 5-point or 3D 7-point stencil, off-diagonal -k_f per interior face,
  diagonal = sum of the cell's face coefficients;
- Dirichlet boundary (fixedValue): each boundary face adds 2 k_cell to the
  diagonal (the face centre is half a cell away); Neumann (zeroGradient): it
  adds nothing, the matrix is singular with the constants as null space, and
  right-hand sides must have zero mean;
- optional variable coefficient: random cell coefficients k (log-normal,
  smoothed), face coefficient k_f = harmonic mean of the two cells' k.

Cells are ordered x fastest: row = i + nx*(j + ny*k).

A System holds the CSR arrays (float64), a torch sparse matrix and what the
preconditioner contract needs (diagonal, off-diagonal edges). The text format
of dumped systems (mlcfd::readCSRSystem / writeCSRSystem) is read and written
by read_system / write_system.
"""
import math

import numpy as np
import torch

DIRICHLET = "dirichlet"
NEUMANN = "neumann"
BOUNDARY_CONDITIONS = (DIRICHLET, NEUMANN)
FORMAT_HEADER = "mlcfd-csr-system 1"


class System:
    """A sparse symmetric positive (semi-)definite matrix in CSR form.

    grid: (nx, ny) or (nx, ny, nz) for structured systems, else None.
    singular: True if the constants are the null space (pure Neumann).
    """

    def __init__(self, row_start, column, value, grid=None, singular=False, name=""):
        self.row_start = np.asarray(row_start, dtype=np.int64)
        self.column = np.asarray(column, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.float64)
        self.rows = len(self.row_start) - 1
        self.grid = tuple(int(n) for n in grid) if grid is not None else None
        self.singular = singular
        self.name = name
        self._scipy = None
        self._check()
        counts = np.diff(self.row_start)
        self.row = np.repeat(np.arange(self.rows, dtype=np.int64), counts)
        # COO: this torch (no MKL) multiplies CSR tensors only with MKL.
        self.matrix = torch.sparse_coo_tensor(
            torch.from_numpy(np.stack((self.row, self.column))),
            torch.from_numpy(self.value), size=(self.rows, self.rows)).coalesce()
        on_diagonal = self.row == self.column
        self.diag = torch.zeros(self.rows, dtype=torch.float64)
        self.diag.index_add_(0, torch.from_numpy(self.row[on_diagonal]),
                             torch.from_numpy(self.value[on_diagonal]))
        if not bool((self.diag > 0).all()):
            raise ValueError(f"system '{name}': the diagonal must be positive")
        off = ~on_diagonal
        # Off-diagonal entries as graph edges (row i, column j), as the C++
        # core passes them to graph models.
        self.edge_index = torch.from_numpy(np.stack((self.row[off], self.column[off])))
        self.edge_value = torch.from_numpy(self.value[off])

    def _check(self):
        if self.row_start[0] != 0 or self.row_start[-1] != len(self.column) \
                or len(self.column) != len(self.value) or (np.diff(self.row_start) < 0).any():
            raise ValueError(f"system '{self.name}': inconsistent CSR arrays")
        if len(self.column) and (self.column.min() < 0 or self.column.max() >= self.rows):
            raise ValueError(f"system '{self.name}': column index out of range")
        if self.grid is not None and math.prod(self.grid) != self.rows:
            raise ValueError(f"system '{self.name}': grid {self.grid} does not have {self.rows} cells")

    def matvec(self, x):
        """A x for x of shape [n] or [n, B] (float64)."""
        if not x.requires_grad and x.dtype == torch.float64:
            # scipy's CSR product is several times faster than torch's COO one.
            if self._scipy is None:
                self._scipy = self.to_scipy()
            return torch.from_numpy(self._scipy @ x.numpy())
        if x.dim() == 1:
            return torch.sparse.mm(self.matrix, x.unsqueeze(1))[:, 0]
        return torch.sparse.mm(self.matrix, x)

    def to_scipy(self):
        import scipy.sparse
        return scipy.sparse.csr_matrix((self.value, self.column, self.row_start),
                                       shape=(self.rows, self.rows))

    def project(self, b):
        """b without its component in the null space (zero mean), if singular."""
        if not self.singular:
            return b
        return b - b.mean(dim=0, keepdim=True)


def cell_coefficients(shape, contrast, seed, smoothing=2):
    """Random log-normal cell coefficients, exp of smoothed noise scaled so
    that max/min is about @p contrast (1: constant coefficient)."""
    if contrast <= 1:
        return np.ones(shape)
    rng = np.random.default_rng(seed)
    field = rng.standard_normal(shape)
    for _ in range(smoothing):
        for axis in range(len(shape)):
            field = (np.roll(field, 1, axis) + 2*field + np.roll(field, -1, axis))/4
    field = (field - field.mean())/(field.max() - field.min() + 1e-30)
    return np.exp(field*math.log(contrast))


def poisson(grid, bc=DIRICHLET, coefficient=None, name=None):
    """The finite-volume Poisson matrix on a uniform grid (nx, ny[, nz]) with
    unit spacing; @p coefficient: None or cell coefficients of shape
    (nz, ny, nx) / (ny, nx)."""
    if bc not in BOUNDARY_CONDITIONS:
        raise ValueError(f"boundary condition '{bc}' is not one of {BOUNDARY_CONDITIONS}")
    grid = tuple(int(n) for n in grid)
    if len(grid) not in (2, 3) or min(grid) < 1:
        raise ValueError(f"grid {grid} must be 2 or 3 positive sizes")
    shape = grid[::-1]  # (nz, ny, nx): x fastest in C order
    n = math.prod(grid)
    k = np.ones(shape) if coefficient is None else np.asarray(coefficient, dtype=np.float64)
    if k.shape != shape:
        raise ValueError(f"coefficient shape {k.shape} does not match grid {grid}")
    index = np.arange(n).reshape(shape)
    rows, cols, vals = [], [], []
    diag = np.zeros(shape)
    for axis in range(len(shape)):
        lo = [slice(None)]*len(shape)
        hi = [slice(None)]*len(shape)
        lo[axis] = slice(0, -1)
        hi[axis] = slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        face = 2*k[lo]*k[hi]/(k[lo] + k[hi])
        diag[lo] += face
        diag[hi] += face
        for a, b in ((lo, hi), (hi, lo)):
            rows.append(index[a].ravel())
            cols.append(index[b].ravel())
            vals.append(-face.ravel())
        if bc == DIRICHLET:
            for end in (0, -1):
                boundary = [slice(None)]*len(shape)
                boundary[axis] = end
                boundary = tuple(boundary)
                diag[boundary] += 2*k[boundary]
    rows.append(index.ravel())
    cols.append(index.ravel())
    vals.append(diag.ravel())
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    row_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=row_start[1:])
    if name is None:
        name = f"{'x'.join(map(str, grid))} {bc}" + ("" if coefficient is None else " variable")
    return System(row_start, cols, vals, grid=grid, singular=(bc == NEUMANN), name=name)


def write_system(path, system, rhs):
    """Write @p system and @p rhs in mlcfd's dumped-system text format."""
    rhs = np.asarray(rhs, dtype=np.float64).ravel()
    if len(rhs) != system.rows:
        raise ValueError(f"rhs has {len(rhs)} entries for {system.rows} rows")
    with open(path, "w") as f:
        f.write(FORMAT_HEADER + "\n")
        f.write(f"rows {system.rows} nonzeros {len(system.value)}\n")
        f.write("rowStart " + " ".join(map(str, system.row_start)) + "\n")
        f.write("column " + " ".join(map(str, system.column)) + "\n")
        f.write("value " + " ".join("%.17g" % v for v in system.value) + "\n")
        f.write("rhs " + " ".join("%.17g" % v for v in rhs) + "\n")


def read_system(path, grid=None, singular=None):
    """Read a dumped system; returns (System, rhs as float64 tensor).
    @p singular: None guesses it from the row sums (all zero: Neumann)."""
    with open(path) as f:
        lines = f.read().split("\n")
    if not lines or lines[0].strip() != FORMAT_HEADER:
        raise ValueError(f"{path}: first line must be '{FORMAT_HEADER}'")

    def entry(line_no, name, count, convert):
        words = lines[line_no].split() if line_no < len(lines) else []
        if not words or words[0] != name:
            raise ValueError(f"{path}: line {line_no + 1} must start with '{name}'")
        if len(words) - 1 != count:
            raise ValueError(f"{path}: '{name}' has {len(words) - 1} values, expected {count}")
        return np.array([convert(w) for w in words[1:]])

    sizes = lines[1].split() if len(lines) > 1 else []
    if len(sizes) != 4 or sizes[0] != "rows" or sizes[2] != "nonzeros":
        raise ValueError(f"{path}: line 2 must be 'rows N nonzeros NNZ'")
    rows, nnz = int(sizes[1]), int(sizes[3])
    row_start = entry(2, "rowStart", rows + 1, int)
    column = entry(3, "column", nnz, int)
    value = entry(4, "value", nnz, float)
    rhs = entry(5, "rhs", rows, float)
    if singular is None:
        row_sum = np.add.reduceat(value, row_start[:-1]) if nnz else np.zeros(rows)
        singular = bool(np.abs(row_sum).max() <= 1e-12*np.abs(value).max())
    system = System(row_start, column, value, grid=grid, singular=singular, name=path)
    return system, torch.from_numpy(rhs)
