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

/// The locally owned rows of a sparse matrix in compressed-row form, with
/// local column indices. Entries that couple to other processes (processor
/// interfaces, ghost columns) are left out by the adaptors.
struct CSRMatrix
{
    std::size_t rows = 0;
    /// rows + 1 offsets into column/value
    std::vector<std::int64_t> rowStart;
    std::vector<std::int64_t> column;
    std::vector<double> value;

    std::size_t nonzeros() const { return value.size(); }

    /// Throws std::invalid_argument if the arrays are inconsistent (sizes,
    /// offsets not increasing, columns out of [0, rows)).
    void check() const;

    /// y = A x (both of size rows).
    void multiply(const double* x, double* y) const;
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
