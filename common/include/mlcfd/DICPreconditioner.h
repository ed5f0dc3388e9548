// mlcfd: OpenFOAM's diagonal incomplete Cholesky preconditioner on a CSR
// matrix (framework-free).
#ifndef MLCFD_DIC_PRECONDITIONER_H
#define MLCFD_DIC_PRECONDITIONER_H

#include "mlcfd/CSRMatrix.h"

#include <vector>

namespace mlcfd
{

/**
 * DIC, i.e. IC(0) in the form M = (D + L) D^-1 (D + L)^T with L the strict
 * lower triangle of A and D the diagonal that makes diag(M) = diag(A), as
 * OpenFOAM's DICPreconditioner (src/OpenFOAM/matrices/lduMatrix/
 * preconditioners/DICPreconditioner).
 *
 * OpenFOAM walks the faces (l, u), l < u, sorted by l then u. Taking the rows
 * in ascending order and, within a row, the lower-triangle columns in
 * ascending order performs the same floating-point operations in the same
 * order for every entry: each update of row u by face (l, u) happens after
 * row l is final in both orderings. The backward sweep walks the faces in
 * reverse, i.e. rows descending and upper columns descending. The columns of
 * each row must be sorted ascending.
 *
 * @code
 *   mlcfd::DICPreconditioner dic(A);
 *   mlcfd::conjugateGradient(multiply, [&](auto& r, auto& z) { dic.apply(r, z); }, b, x);
 * @endcode
 */
class DICPreconditioner
{
public:
    /// Factorise @p A (kept by reference: it must outlive this object).
    /// Throws std::invalid_argument for unsorted columns and
    /// std::runtime_error naming the row of a non-positive pivot.
    explicit DICPreconditioner(const CSRMatrix& A);

    /// w = M^-1 r.
    void apply(const std::vector<double>& r, std::vector<double>& w) const;

    /// 1/D, one per row.
    const std::vector<double>& reciprocalDiagonal() const { return reciprocalDiagonal_; }

private:
    const CSRMatrix& A_;
    std::vector<double> reciprocalDiagonal_;
};

} // namespace mlcfd

#endif
