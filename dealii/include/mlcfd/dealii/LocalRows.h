// mlcfd: contiguous access to the locally owned rows of deal.II's matrices
// and vectors (deal.II's own, PETSc's and Trilinos'), as the core's
// framework-free classes need them.
#ifndef MLCFD_DEALII_LOCAL_ROWS_H
#define MLCFD_DEALII_LOCAL_ROWS_H

#include "mlcfd/CSRMatrix.h"
#include "mlcfd/petsc/LearnedPreconditioner.h" // petsc::localCSR

#include <deal.II/base/exceptions.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/trilinos_vector.h>
#include <deal.II/lac/vector.h>

#include <cstdint>
#include <string>
#include <utility>

namespace mlcfd
{
namespace dealii
{

namespace internal
{
/// Contiguous access to the locally owned entries of a vector.
template<typename VectorType> struct LocalValues;

template<> struct LocalValues<::dealii::Vector<double>>
{
    using VectorType = ::dealii::Vector<double>;
    static std::size_t size(const VectorType& v) { return v.size(); }
    static const double* read(const VectorType& v) { return v.begin(); }
    static void release(const VectorType&, const double*) {}
    static double* write(VectorType& v) { return v.begin(); }
    static void release(VectorType&, double*) {}
};

template<> struct LocalValues<::dealii::TrilinosWrappers::MPI::Vector>
{
    using VectorType = ::dealii::TrilinosWrappers::MPI::Vector;
    static std::size_t size(const VectorType& v) { return v.locally_owned_size(); }
    static const double* read(const VectorType& v) { return v.begin(); }
    static void release(const VectorType&, const double*) {}
    static double* write(VectorType& v) { return v.begin(); }
    static void release(VectorType&, double*) {}
};

template<> struct LocalValues<::dealii::PETScWrappers::MPI::Vector>
{
    using VectorType = ::dealii::PETScWrappers::MPI::Vector;
    static std::size_t size(const VectorType& v) { return v.locally_owned_size(); }
    static const double* read(const VectorType& v)
    {
        const PetscScalar* values = nullptr;
        const PetscErrorCode ierr = VecGetArrayRead(v, &values);
        AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
        return values;
    }
    static void release(const VectorType& v, const double* values)
    {
        const PetscErrorCode ierr = VecRestoreArrayRead(v, &values);
        AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
    }
    static double* write(VectorType& v)
    {
        PetscScalar* values = nullptr;
        const PetscErrorCode ierr = VecGetArray(v, &values);
        AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
        return values;
    }
    static void release(VectorType& v, double* values)
    {
        const PetscErrorCode ierr = VecRestoreArray(v, &values);
        AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
    }
};

/// First and one-past-last locally owned row.
inline std::pair<std::size_t, std::size_t> owned_rows(const ::dealii::SparseMatrix<double>& matrix)
{
    return {0, matrix.m()};
}

template<typename MatrixType> auto owned_rows(const MatrixType& matrix) -> decltype(matrix.local_range())
{
    return matrix.local_range();
}

/// Throws unless @p matrix is square.
template<typename MatrixType> void assert_square(const MatrixType& matrix)
{
    AssertThrow(matrix.m() == matrix.n(),
        ::dealii::ExcMessage("LearnedPreconditioner needs a square matrix, not " + std::to_string(matrix.m())
                             + " x " + std::to_string(matrix.n())));
}

/// The rows of @p matrix as the core's CSRMatrix: the locally owned rows
/// with the columns of the same process, numbered like the locally owned
/// entries of the vectors. Zero off-diagonal entries of the sparsity
/// pattern (assembly keeps them) are left out, so the network sees the
/// graph of the matrix; the diagonal is always kept.
inline CSRMatrix local_csr(const ::dealii::SparseMatrix<double>& matrix)
{
    assert_square(matrix);
    CSRMatrix csr;
    csr.rows = matrix.m();
    csr.rowStart.reserve(csr.rows + 1);
    csr.rowStart.push_back(0);
    for (std::size_t row = 0; row < csr.rows; ++row)
    {
        for (auto entry = matrix.begin(row); entry != matrix.end(row); ++entry)
        {
            if (entry->column() == row || entry->value() != 0.0)
            {
                csr.column.push_back(static_cast<std::int64_t>(entry->column()));
                csr.value.push_back(entry->value());
            }
        }
        csr.rowStart.push_back(static_cast<std::int64_t>(csr.column.size()));
    }
    return csr;
}

inline CSRMatrix local_csr(const ::dealii::PETScWrappers::MPI::SparseMatrix& matrix)
{
    assert_square(matrix);
    return petsc::localCSR(matrix);
}

/// Trilinos: straight from Epetra's local rows (deal.II's row iterators
/// copy each row: seconds for 10^4 rows).
inline CSRMatrix local_csr(const ::dealii::TrilinosWrappers::SparseMatrix& matrix)
{
    assert_square(matrix);
    const Epetra_CrsMatrix& A = matrix.trilinos_matrix();
    const Epetra_Map& rows = A.RowMap();
    const Epetra_Map& columns = A.ColMap();
    CSRMatrix csr;
    csr.rows = static_cast<std::size_t>(A.NumMyRows());
    csr.rowStart.reserve(csr.rows + 1);
    csr.rowStart.push_back(0);
    for (int row = 0; row < A.NumMyRows(); ++row)
    {
        int entries = 0;
        double* values = nullptr;
        int* indices = nullptr;
        const int error = A.ExtractMyRowView(row, entries, values, indices);
        AssertThrow(error == 0, ::dealii::TrilinosWrappers::SparseMatrix::ExcTrilinosError(error));
        for (int k = 0; k < entries; ++k)
        {
            // Local column index -> global -> local row (-1: other process).
            const int column = rows.LID(columns.GID(indices[k]));
            if (column >= 0 && (column == row || values[k] != 0.0))
            {
                csr.column.push_back(column);
                csr.value.push_back(values[k]);
            }
        }
        csr.rowStart.push_back(static_cast<std::int64_t>(csr.column.size()));
    }
    return csr;
}
} // namespace internal

} // namespace dealii
} // namespace mlcfd

#endif
