// mlcfd: exact linear-equality constraints on a prediction (ProbConserv).
#ifndef MLCFD_LINEAR_CONSTRAINT_H
#define MLCFD_LINEAR_CONSTRAINT_H

#include "mlcfd/CSRMatrix.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace mlcfd
{

/// How the m x m system G Sigma G^T + sigma2 I is solved.
enum class ConstraintSolver
{
    automatic,        ///< Cholesky for m <= denseRowLimit, else CG
    cholesky,         ///< dense Cholesky (LAPACK through LibTorch), factor reused
    conjugateGradient ///< matrix-free Jacobi-preconditioned CG
};

/// Name of @p solver ("automatic", "cholesky", "conjugateGradient").
const char* solverName(ConstraintSolver solver);

struct LinearConstraintOptions
{
    /// sigma2, the variance of the constraint itself: 0 enforces G u = b
    /// exactly (hard constraint); sigma2 > 0 only pulls u towards it.
    double constraintVariance = 0;

    ConstraintSolver solver = ConstraintSolver::automatic;

    /// Largest m for which `automatic` forms and factorises the dense
    /// m x m matrix (O(m^2) memory, O(m^3) flops once per Sigma). Above a
    /// few hundred rows the factorisation costs more than CG does (see
    /// bench/constraintLayer); the dense factor pays off for small m, for
    /// the variance update (CG needs one solve per unknown) and for
    /// ill-conditioned G Sigma G^T.
    std::size_t denseRowLimit = 500;

    /// CG stops when |A lambda - r| <= relativeTolerance |r|.
    double relativeTolerance = 1e-14;

    /// CG iteration cap; 0 means 2 m + 100.
    std::size_t maxIterations = 0;
};

/// What one application of the constraint cost and achieved.
struct ConstraintReport
{
    ConstraintSolver solver = ConstraintSolver::automatic; ///< path used
    std::size_t iterations = 0;                            ///< CG iterations (all solves), 0 for Cholesky
    bool converged = true;                                 ///< false if CG hit maxIterations
    /// The Cholesky factor was numerically singular (rank-deficient G with
    /// sigma2 = 0, e.g. a redundant row): the mean was computed by CG instead.
    bool rankDeficient = false;
    /// |G u - b| / max(|b|, |G mu|, tiny) after the update.
    double constraintResidual = 0;
    double seconds = 0; ///< wall time of the call
};

/// The ProbConserv update (Hansen et al., "Learning physical models that can
/// respect conservation laws", ICML 2023) of a prediction u ~ N(mu, Sigma)
/// conditioned on the linear constraint G u = b + noise, noise ~ N(0, sigma2 I):
///
///     mu_new    = mu - Sigma G^T (G Sigma G^T + sigma2 I)^{-1} (G mu - b)
///     Sigma_new = Sigma - Sigma G^T (G Sigma G^T + sigma2 I)^{-1} G Sigma
///
/// Sigma is diagonal (the network's per-entry variances) or the identity
/// (variance == nullptr). With sigma2 = 0 the constraint holds to round-off;
/// with Sigma = I the mean update is the orthogonal (least-change) projection
/// onto {u : G u = b}. Entries with zero variance are never changed.
///
/// The m x m system is solved by a dense Cholesky factorisation when m is
/// small (the factor is kept and reused while Sigma and sigma2 stay the same,
/// so repeated inference costs two triangular solves) and by matrix-free CG
/// (products with G, Sigma, G^T only) when m is large, e.g. G the cell
/// divergence of a face flux, where the system is a Poisson problem.
///
/// Rank-deficient G (redundant rows such as the sum of all per-cell
/// divergences) with sigma2 = 0: the dense factor is singular; when Cholesky
/// fails or a pivot falls below 1e-13 of its diagonal entry the solve falls
/// back to CG, which converges on the consistent singular system (b in the
/// range of G), and the report says so. No regularisation is added, so the
/// residual stays at round-off.
///
/// Not thread-safe: the cached factor is shared state.
///
/// @code
///   mlcfd::CSRMatrix G = ...;               // m x n, e.g. cell divergence
///   mlcfd::LinearConstraint constraint(G);  // hard constraint, automatic solver
///   constraint.project(flux, source);       // Sigma = I, flux updated in place
///   auto report = constraint.update(mean, variance, source);  // ProbConserv
/// @endcode
class LinearConstraint
{
public:
    explicit LinearConstraint(CSRMatrix G, const LinearConstraintOptions& options = {});
    ~LinearConstraint();
    LinearConstraint(LinearConstraint&&) noexcept;
    LinearConstraint& operator=(LinearConstraint&&) noexcept;
    LinearConstraint(const LinearConstraint&) = delete;
    LinearConstraint& operator=(const LinearConstraint&) = delete;

    const CSRMatrix& matrix() const;
    const LinearConstraintOptions& options() const;
    std::size_t rows() const { return matrix().rows; }
    std::size_t cols() const { return matrix().numCols(); }

    /// The general update on raw arrays. @p mean, @p variance (nullptr: the
    /// identity) and @p newMean/@p newVariance have cols() entries, @p b has
    /// rows(). @p newVariance may be nullptr (mean only; the variance update
    /// costs one solve per unknown on the CG path). Output may alias input.
    ConstraintReport apply(
        const double* mean, const double* variance, const double* b, double* newMean, double* newVariance);

    /// Sigma = I: project @p u in place onto G u = b.
    ConstraintReport project(std::vector<double>& u, const std::vector<double>& b);

    /// Diagonal Sigma: update @p mean and @p variance in place (the new
    /// variance is the diagonal of Sigma_new).
    ConstraintReport update(
        std::vector<double>& mean, std::vector<double>& variance, const std::vector<double>& b);

    /// The full n x n Sigma_new (row-major) for diagonal Sigma (@p variance,
    /// nullptr: identity). Dense: only for n <= 4000.
    std::vector<double> covariance(const double* variance);

    /// |G u - b| / max(|b|, |G reference|, tiny) (reference may be nullptr).
    double residual(const double* u, const double* b, const double* reference = nullptr) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace mlcfd

#endif
