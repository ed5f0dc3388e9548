// mlcfd: a sparse matrix in compressed-row form, and the text format in
// which solvers dump their linear systems for benchmarks and training.
#ifndef MLCFD_CSR_MATRIX_H
#define MLCFD_CSR_MATRIX_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mlcfd
{

/// A sparse rows x cols matrix in compressed-row form: row i holds the
/// entries rowStart[i] .. rowStart[i+1]-1 of @c column and @c value. The
/// layout of OpenFOAM's owner/neighbour addressing turned into rows and of
/// deal.II's SparsityPattern. A linear system's matrix is square (cols ==
/// rows, the default) and holds the locally owned rows with local column
/// indices: the adaptors leave out entries that couple to other processes.
struct CSRMatrix
{
    std::size_t rows = 0;
    /// Columns; 0 means square (numCols() is rows then).
    std::size_t cols = 0;
    /// rows + 1 offsets into column/value, from 0 to nonzeros()
    std::vector<std::int64_t> rowStart;
    std::vector<std::int64_t> column;
    std::vector<double> value;

    std::size_t nonzeros() const { return value.size(); }
    std::size_t numCols() const { return cols ? cols : rows; }

    /// Throws std::invalid_argument, naming @p name and the bad entry, if
    /// the arrays are inconsistent (sizes, offsets not increasing, columns
    /// out of [0, numCols())) or a value is not finite.
    void check(const std::string& name = "CSRMatrix") const;

    /// y = A x (x has numCols() entries, y rows).
    void multiply(const double* x, double* y) const;

    /// x = A^T y (y has rows entries, x numCols()).
    void multiplyTransposed(const double* y, double* x) const;

    /// A^T (numCols() x rows), rows sorted by column.
    CSRMatrix transposed() const;

    /// Sort the entries of every row by column (deal.II stores the diagonal
    /// first; DICPreconditioner needs ascending columns).
    void sortRows();

    /// The entry (row, row), 0 where the row stores none.
    double diagonal(std::size_t row) const;

    /// A from a dense row-major rows x cols array, dropping exact zeros.
    static CSRMatrix fromDense(const double* dense, std::size_t rows, std::size_t cols);
};

/// Write @p matrix and @p rhs as a text system file:
/// @code
///   mlcfd-csr-system 1
///   rows N nonzeros NNZ
///   rowStart <N+1 integers>
///   column <NNZ integers>
///   value <NNZ doubles>
///   rhs <N doubles>
/// @endcode
/// Throws std::runtime_error if the file cannot be written.
void writeCSRSystem(const std::string& path, const CSRMatrix& matrix, const std::vector<double>& rhs);

/// Read a file written by writeCSRSystem; throws std::runtime_error naming
/// the file and the entry that is missing or malformed.
void readCSRSystem(const std::string& path, CSRMatrix& matrix, std::vector<double>& rhs);

} // namespace mlcfd

#endif
