// mlcfd: diagonal incomplete Cholesky preconditioners on a CSR matrix: OpenFOAM's
// DIC, the modified variant (MIC) and a diagonal given from outside
// (framework-free).
#ifndef MLCFD_DIC_PRECONDITIONER_H
#define MLCFD_DIC_PRECONDITIONER_H

#include "mlcfd/CSRMatrix.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mlcfd
{

/**
 * M = (D + L) D^-1 (D + L)^T with L the strict lower triangle of a
 * symmetric A and D a positive diagonal: the form of OpenFOAM's
 * DICPreconditioner (src/OpenFOAM/matrices/lduMatrix/preconditioners/
 * DICPreconditioner). M is symmetric positive definite for every positive D,
 * and one application costs two triangular sweeps, as DIC's. D is
 *
 * - DIC, i.e. IC(0) (omega = 0): D_u = A_uu - sum_{l<u} A_lu^2/D_l, which
 *   makes diag(M) = diag(A);
 * - MIC, modified IC (0 < omega <= 1): the fill-in that the form drops,
 *   A_lu A_lv/D_l for every pair u != v of upper neighbours of l, is moved to
 *   the diagonal times omega (Gustafsson 1978; Saad, Iterative Methods, 10.3.5):
 *   D_u = A_uu - sum_{l<u} A_lu (A_lu + omega sum_{v>l, v!=u} A_lv)/D_l,
 *   so that M's row sums equal A's at omega = 1. On Poisson matrices MIC
 *   needs far fewer iterations than DIC; omega = 1 makes M singular where A
 *   is (pure Neumann), so use omega < 1 there (0.95 to 0.99 is common);
 * - given (fromDiagonal()): e.g. by a network.
 *
 * A modified or given pivot outside (0, A_uu] (not finite, not positive,
 * or larger than DIC's bound: a huge D makes M Jacobi's) is replaced by
 * DIC's pivot, or by A_uu if that is not positive either, and counted
 * (replacedPivots()), so a factorisation exists for every A with a positive
 * diagonal and whatever a network returns.
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
 *   mlcfd::DICPreconditioner mic(A, 0.97);
 *   mlcfd::conjugateGradient(multiply, [&](auto& r, auto& z) { mic.apply(r, z); }, b, x);
 * @endcode
 */
class DICPreconditioner
{
public:
    /// Factorise @p A (copied: the factor keeps its own triangles) with
    /// the modification @p omega in [0, 1] (0: DIC). Throws
    /// std::invalid_argument for unsorted columns, a bad omega or a
    /// non-positive diagonal entry of A (naming the row).
    explicit DICPreconditioner(const CSRMatrix& A, double omega = 0);

    /// M with the given diagonal @p D (one per row of @p A).
    static DICPreconditioner fromDiagonal(const CSRMatrix& A, const std::vector<double>& D);

    /// w = M^-1 r (r and w of A.rows entries; they may not alias).
    void apply(const double* r, double* w) const;
    void apply(const std::vector<double>& r, std::vector<double>& w) const;

    std::size_t rows() const { return reciprocalDiagonal_.size(); }

    /// 1/D, one per row.
    const std::vector<double>& reciprocalDiagonal() const { return reciprocalDiagonal_; }

    /// Rows whose modified or given pivot was replaced (see above).
    std::size_t replacedPivots() const { return replacedPivots_; }

private:
    DICPreconditioner(const CSRMatrix& A, double omega, const std::vector<double>* given);

    /// The strict lower and upper triangles, row by row, with 32-bit
    /// columns: the sweeps read only what they need (as OpenFOAM's face
    /// loops do).
    struct Triangle
    {
        std::vector<std::size_t> start;
        std::vector<std::int32_t> column;
        std::vector<double> value;
    };
    Triangle lower_, upper_;
    std::vector<double> reciprocalDiagonal_;
    std::size_t replacedPivots_ = 0;
};

} // namespace mlcfd

#endif
