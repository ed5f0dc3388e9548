// The test problem of the deal.II preconditioner tests: a 5-point Laplacian
// on an n x n grid with a variable diagonal shift (so that Jacobi differs
// from unpreconditioned CG), and its right-hand side.
#ifndef MLCFD_TEST_LAPLACE_TEST_MATRIX_H
#define MLCFD_TEST_LAPLACE_TEST_MATRIX_H

#include <deal.II/base/index_set.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/vector_operation.h>

#include <utility>
#include <vector>

namespace mlcfd_test
{

constexpr unsigned int n = 40;

inline const dealii::SparsityPattern& laplaceSparsity()
{
    static dealii::SparsityPattern pattern;
    if (pattern.n_rows() == 0)
    {
        dealii::DynamicSparsityPattern dsp(n * n);
        for (unsigned int i = 0; i < n; ++i)
            for (unsigned int j = 0; j < n; ++j)
            {
                const unsigned int row = i * n + j;
                dsp.add(row, row);
                if (i > 0) dsp.add(row, row - n);
                if (i + 1 < n) dsp.add(row, row + n);
                if (j > 0) dsp.add(row, row - 1);
                if (j + 1 < n) dsp.add(row, row + 1);
            }
        pattern.copy_from(dsp);
    }
    return pattern;
}

/// The entries (column, value) of one row; @p shift scales the variable
/// part of the diagonal.
inline std::vector<std::pair<unsigned int, double>> laplaceRow(unsigned int row, double shift = 10.0)
{
    const unsigned int i = row / n, j = row % n;
    std::vector<std::pair<unsigned int, double>> entries{{row, 4.0 + shift * ((i * 7 + j * 3) % 11) / 10.0}};
    if (i > 0) entries.emplace_back(row - n, -1.0);
    if (i + 1 < n) entries.emplace_back(row + n, -1.0);
    if (j > 0) entries.emplace_back(row - 1, -1.0);
    if (j + 1 < n) entries.emplace_back(row + 1, -1.0);
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
