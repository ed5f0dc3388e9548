// mlcfd: the cell-centred finite-volume Poisson matrix on a uniform grid,
// the test and benchmark system of the preconditioners.
#ifndef MLCFD_POISSON_MATRIX_H
#define MLCFD_POISSON_MATRIX_H

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

} // namespace mlcfd

#endif
