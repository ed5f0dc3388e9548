// mlcfd: flexible conjugate gradients for learned preconditioners
// (framework-free; after the Deep Conjugate Direction Method).
#ifndef MLCFD_FLEXIBLE_CG_H
#define MLCFD_FLEXIBLE_CG_H

#include <cstddef>
#include <functional>
#include <vector>

namespace mlcfd
{

/// Settings of FlexibleCG.
struct FlexibleCGSettings
{
    /// Previous search directions the new one is A-orthogonalised against
    /// (DCDM keeps 2; with a fixed SPD preconditioner 1 gives classical PCG).
    std::size_t keptDirections = 2;
    /// Stop when |r| <= relativeTolerance |b|.
    double relativeTolerance = 1e-6;
    std::size_t maxIterations = 1000;
    /// Recompute r = b - A x every this many iterations (0: never); guards
    /// against the drift of the recursively updated residual.
    std::size_t trueResidualEvery = 0;
    /// Safeguard: every step also evaluates the plain CG direction (the
    /// residual, A-orthogonalised; one more operator application) and takes
    /// whichever lowers the A-norm of the error more. Without it the
    /// preconditioner's direction is taken unless it is non-finite or not a
    /// descent direction.
    bool safeguard = true;
};

/// Outcome of FlexibleCG::solve.
struct FlexibleCGResult
{
    std::size_t iterations = 0;
    bool converged = false;
    /// |r|/|b| at the end (of the true residual).
    double relativeResidual = 0;
    /// Steps in which the preconditioner's direction was rejected.
    std::size_t fallbacks = 0;
    /// |r|/|b| after each iteration (first entry: the initial residual).
    std::vector<double> history;
};

/// Flexible CG for a symmetric positive definite operator A with any
/// preconditioner M, also a nonlinear or non-symmetric one such as a network:
/// each direction is M(r) A-orthogonalised against the last few directions,
/// and the step is the exact line search along it, so the A-norm of the error
/// never grows. With the safeguard each step takes the better of that
/// direction and the plain CG one (the error's A-norm drops by (r.p)^2/p.Ap
/// along p), so a bad network degrades the method to unpreconditioned CG,
/// not below it; a non-finite or wrongly sized output counts as useless.
///
/// Vectors are plain std::vector<double>; the dot product is a callback so
/// that distributed users can reduce it over their ranks.
class FlexibleCG
{
public:
    using Vector = std::vector<double>;
    /// y = A x
    using Operator = std::function<void(const Vector& x, Vector& y)>;
    /// z ~ A^-1 r
    using Preconditioner = std::function<void(const Vector& r, Vector& z)>;
    using Dot = std::function<double(const Vector& a, const Vector& b)>;
    /// Stopping test on the current residual after @p iteration steps
    /// (0: the initial residual); replaces the relative tolerance, e.g. to
    /// use a framework's own residual norm.
    using Converged = std::function<bool(const Vector& r, std::size_t iteration)>;

    explicit FlexibleCG(const FlexibleCGSettings& settings = FlexibleCGSettings());

    /// Solve A x = b from the initial guess in @p x. @p dot defaults to the
    /// local dot product, @p converged to |r| <= relativeTolerance |b|
    /// (maxIterations applies either way). Throws std::invalid_argument for
    /// size mismatches or non-finite b.
    FlexibleCGResult solve
    (
        const Operator& A,
        const Preconditioner& M,
        const Vector& b,
        Vector& x,
        const Dot& dot = Dot(),
        const Converged& converged = Converged()
    ) const;

    const FlexibleCGSettings& settings() const { return settings_; }

private:
    FlexibleCGSettings settings_;
};

} // namespace mlcfd

#endif
