// mlcfd: a network that approximates A^-1 r, for FlexibleCG and the
// framework adaptors (OpenFOAM neuralPCG, deal.II, PETSc PCSHELL).
#ifndef MLCFD_LEARNED_PRECONDITIONER_H
#define MLCFD_LEARNED_PRECONDITIONER_H

#include "mlcfd/CSRMatrix.h"
#include "mlcfd/ModelMetadata.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlcfd
{

/// How a LearnedPreconditioner runs.
struct LearnedPreconditionerOptions
{
    /// "cpu" or "cuda" (CPU fallback with a warning).
    std::string device = "cpu";
    /// LibTorch intra-op threads (0: as mlcfd::ModelOptions).
    int threads = 0;
    /// Cells per direction, x fastest (row = i + nx*(j + ny*k)); required by
    /// grid models (kind "preconditionerGrid"), ignored by graph models.
    std::vector<std::int64_t> grid;
    /// Margin of the training-range check (see mlcfd::ModelOptions).
    double rangeMargin = RangeCheck::defaultMargin;
};

/// z ~ A^-1 r computed by a TorchScript network with mlcfd metadata.
///
/// Both kinds see the symmetrically Jacobi-scaled system, so that they are
/// independent of units and of the scale of r: with s_i = 1/sqrt(A_ii),
/// rs = s*r and rho = rms(rs), the network gets rs/rho and its output y is
/// returned as z = rho*s*y. Node channels, named by the metadata `inputs`
/// (first one `residual`): `residual` (rs/rho) and `diagRatio`
/// (A_ii/mean(A_ii), marks boundary rows). `outputs` is one name.
///
/// - kind "preconditionerGrid" (a CNN on a uniform grid), constant
///   `dimension` 2 or 3:
///   forward(x: Tensor[1, C, ny, nx] or [1, C, nz, ny, nx]) -> Tensor of
///   the same spatial shape with one channel.
/// - kind "preconditionerGraph" (a network on the matrix graph, any mesh):
///   forward(x: Tensor[n, C], edgeIndex: Tensor[2, E] (int64; row i, column
///   j of each stored off-diagonal entry), edgeWeight: Tensor[E] (A_ij s_i
///   s_j)) -> Tensor[n] or Tensor[n, 1].
///
/// A network may be nonlinear and non-symmetric: use it in a flexible
/// method (mlcfd::FlexibleCG, deal.II SolverFlexibleCG, PETSc KSPFCG).
/// If the network returns non-finite values, apply() returns Jacobi's
/// z = r/diag instead and counts a fallback, so a solver never sees NaN.
/// Load errors throw ModelError naming the file; matrix errors
/// (non-positive diagonal, grid size mismatch) std::invalid_argument.
///
/// @code
///   mlcfd::LearnedPreconditioner M("p.pt", csr, options);
///   M.apply(r.data(), z.data());
/// @endcode
class LearnedPreconditioner
{
public:
    static const char* const gridKind;  // "preconditionerGrid"
    static const char* const graphKind; // "preconditionerGraph"

    LearnedPreconditioner(const std::string& modelFile, const CSRMatrix& matrix,
        const LearnedPreconditionerOptions& options = LearnedPreconditionerOptions());
    ~LearnedPreconditioner();
    LearnedPreconditioner(LearnedPreconditioner&&) noexcept;
    LearnedPreconditioner& operator=(LearnedPreconditioner&&) noexcept;
    LearnedPreconditioner(const LearnedPreconditioner&) = delete;
    LearnedPreconditioner& operator=(const LearnedPreconditioner&) = delete;

    /// New values for a matrix with the same rows (and, for speed, usually
    /// the same pattern), e.g. a pressure matrix that changes every time
    /// step: recomputes the scaling, diagRatio and the edges without
    /// loading the network again. Throws std::invalid_argument as the
    /// constructor does (row count changed, non-positive diagonal).
    void setMatrix(const CSRMatrix& matrix);

    /// z = M r for the rows() local entries of r and z (may not alias).
    /// Returns false when the network's output was not finite (z is then
    /// the Jacobi step).
    bool apply(const double* r, double* z) const;
    bool apply(const std::vector<double>& r, std::vector<double>& z) const;

    std::size_t rows() const;
    const std::string& path() const;
    const ModelMetadata& metadata() const;
    bool isGrid() const;
    /// Device actually used.
    const std::string& device() const;

    /// Applications, the wall time spent in them (network inference plus
    /// scaling), and non-finite outputs replaced by Jacobi, since
    /// construction or resetStatistics().
    std::size_t applications() const;
    double inferenceSeconds() const;
    std::size_t fallbacks() const;
    void resetStatistics();

    /// The network's inputs (residual and diagRatio channels) against the
    /// training range the model file records: the check, and the rows
    /// counted since construction, resetStatistics() or the last
    /// takeRangeCount() (one row per unknown and application; see
    /// TrainingRange.h).
    const RangeCheck& rangeCheck() const;
    RangeCount takeRangeCount() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

namespace referenceModels
{
/// A graph model returning its residual channel: in the scaled variables
/// this is Jacobi's method (z = r/diag).
void writeGraphJacobi(const std::string& path);
/// The same as a grid model for @p dimension 2 or 3.
void writeGridJacobi(const std::string& path, int dimension);
} // namespace referenceModels

} // namespace mlcfd

#endif
