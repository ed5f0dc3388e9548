// The test problem of the deal.II preconditioner tests: the core's 5-point
// finite-volume Poisson matrix on an n x n grid with a variable diagonal
// shift (so that Jacobi differs from unpreconditioned CG), and its
// right-hand side.
#ifndef MLCFD_TEST_LAPLACE_TEST_MATRIX_H
#define MLCFD_TEST_LAPLACE_TEST_MATRIX_H

#include "mlcfd/GridMatrices.h"

#include <deal.II/base/index_set.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/vector_operation.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace mlcfd_test
{

constexpr unsigned int n = 40;

/// The core's finite-volume Poisson matrix on the n x n grid (Dirichlet,
/// row = j + n i with j the x index), whose rows the tests shift.
inline const mlcfd::CSRMatrix& laplaceCore()
{
    static const mlcfd::CSRMatrix A = mlcfd::poissonMatrix({n, n}, mlcfd::PoissonBoundary::dirichlet);
    return A;
}

inline const dealii::SparsityPattern& laplaceSparsity()
{
    static dealii::SparsityPattern pattern;
    if (pattern.n_rows() == 0)
    {
        const mlcfd::CSRMatrix& A = laplaceCore();
        dealii::DynamicSparsityPattern dsp(A.rows);
        for (std::size_t row = 0; row < A.rows; ++row)
            for (auto k = A.rowStart[row]; k < A.rowStart[row + 1]; ++k) dsp.add(row, A.column[k]);
        pattern.copy_from(dsp);
    }
    return pattern;
}

/// The entries (column, value) of one row, the diagonal first; @p shift
/// scales a variable addition to the diagonal (so that Jacobi differs from
/// unpreconditioned CG).
inline std::vector<std::pair<unsigned int, double>> laplaceRow(unsigned int row, double shift = 10.0)
{
    const mlcfd::CSRMatrix& A = laplaceCore();
    const unsigned int i = row / n, j = row % n;
    std::vector<std::pair<unsigned int, double>> entries{
        {row, A.diagonal(row) + shift * ((i * 7 + j * 3) % 11) / 10.0}};
    for (auto k = A.rowStart[row]; k < A.rowStart[row + 1]; ++k)
    {
        if (A.column[k] != static_cast<std::int64_t>(row))
            entries.emplace_back(static_cast<unsigned int>(A.column[k]), A.value[k]);
    }
    return entries;
}

/// Set the rows @p rows of @p A (all of them with dealii::complete_index_set).
template<typename MatrixType>
void fillLaplace(MatrixType& A, const dealii::IndexSet& rows, double shift = 10.0)
{
    for (const auto row : rows)
    {
        for (const auto& [column, value] : laplaceRow(row, shift)) A.set(row, column, value);
    }
    A.compress(dealii::VectorOperation::insert);
}

template<typename VectorType> void fillRhs(VectorType& b, const dealii::IndexSet& rows)
{
    for (const auto row : rows) b(row) = 1.0 + (row % 13) / 13.0;
    b.compress(dealii::VectorOperation::insert);
}

} // namespace mlcfd_test

#endif
