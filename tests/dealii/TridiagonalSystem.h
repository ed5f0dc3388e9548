// Shared by the deal.II bandit tests: a 1D Laplacian of n rows, split
// between the MPI ranks, and checks across the ranks.
#ifndef MLCFD_TESTS_DEALII_TRIDIAGONAL_SYSTEM_H
#define MLCFD_TESTS_DEALII_TRIDIAGONAL_SYSTEM_H

#include <deal.II/base/index_set.h>
#include <deal.II/base/mpi.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/vector_operation.h>

namespace tridiagonal_system
{
using namespace dealii;

constexpr unsigned int n = 400; // 1D Laplacian rows, split between ranks

inline unsigned int rank()
{
    return Utilities::MPI::this_mpi_process(MPI_COMM_WORLD);
}
inline unsigned int ranks()
{
    return Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD);
}

inline IndexSet owned()
{
    IndexSet set(n);
    const unsigned int chunk = n / ranks();
    const unsigned int begin = rank() * chunk, end = rank() + 1 == ranks() ? n : begin + chunk;
    set.add_range(begin, end);
    return set;
}

inline DynamicSparsityPattern tridiagonal()
{
    DynamicSparsityPattern dsp(n);
    for (unsigned int i = 0; i < n; ++i)
    {
        dsp.add(i, i);
        if (i > 0) dsp.add(i, i - 1);
        if (i + 1 < n) dsp.add(i, i + 1);
    }
    return dsp;
}

template<typename MatrixType> void fill(MatrixType& A, const IndexSet& rows, const double shift)
{
    for (const auto i : rows)
    {
        A.set(i, i, 2.0 + shift);
        if (i > 0) A.set(i, i - 1, -1.0);
        if (i + 1 < n) A.set(i, i + 1, -1.0);
    }
    A.compress(VectorOperation::insert);
}

// All ranks hold the same value?
inline bool sameOnAllRanks(const double value)
{
    return Utilities::MPI::max(value, MPI_COMM_WORLD) == Utilities::MPI::min(value, MPI_COMM_WORLD);
}

} // namespace tridiagonal_system

#endif
