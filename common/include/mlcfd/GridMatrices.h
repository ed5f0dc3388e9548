// mlcfd: finite-volume matrices on uniform grids, the test and benchmark
// systems of the preconditioners and the constraint layers.
#ifndef MLCFD_GRID_MATRICES_H
#define MLCFD_GRID_MATRICES_H

#include "mlcfd/CSRMatrix.h"

#include <cstdint>
#include <vector>

namespace mlcfd
{

enum class PoissonBoundary
{
    /// Fixed value on every boundary face (OpenFOAM's fixedValue: the face
    /// value sits half a cell away, so the face adds 2 k to the diagonal).
    dirichlet,
    /// Zero gradient everywhere: singular, the constants span the null space.
    neumann
};

/// The matrix of -div(k grad u) on @p cells (cells per direction, x first;
/// one to three entries) with unit spacing, rows numbered x fastest
/// (row = i + nx (j + ny k)), columns sorted ascending. Off-diagonals are
/// minus the face coefficient 2 k_a k_b/(k_a + k_b) (harmonic mean) and the
/// diagonal is the sum of the face coefficients, plus 2 k per Dirichlet face.
/// @p cellCoefficient: k per cell in row order, empty for k = 1 (then every
/// entry is an integer). The training's systems.poisson is the same matrix
/// (tested). Throws std::invalid_argument for bad sizes or a non-positive k.
CSRMatrix poissonMatrix(const std::vector<std::int64_t>& cells, PoissonBoundary boundary,
    const std::vector<double>& cellCoefficient = {});

/// The cell divergence of a face flux on @p nx x @p ny unit cells, the
/// per-cell conservation constraint G u = b of the structure-preserving
/// layers: one row per cell (x fastest), the sum of its outward face fluxes.
/// Columns: the (nx + 1) ny x-normal faces first (x fastest), then the
/// nx (ny + 1) y-normal ones; a flux is positive in +x or +y.
CSRMatrix faceDivergenceMatrix(std::size_t nx, std::size_t ny);

} // namespace mlcfd

#endif
