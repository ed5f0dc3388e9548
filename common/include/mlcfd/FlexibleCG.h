// mlcfd: flexible conjugate gradients for learned preconditioners
// (framework-free; after the Deep Conjugate Direction Method).
#ifndef MLCFD_FLEXIBLE_CG_H
#define MLCFD_FLEXIBLE_CG_H

#include "mlcfd/ConjugateGradient.h"

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
    /// Each step also evaluates the CG direction (the residual,
    /// A-orthogonalised; one more operator application) and takes it where
    /// it lowers the error's A-norm more than the preconditioner's
    /// direction. It rescues networks that are good only in part (see
    /// docs/preconditioners.md for a measurement) and costs iterations with
    /// a good linear preconditioner. Not a guarantee by itself: see
    /// safeguard.
    bool compareWithCG = true;
    /// Safeguard: plain CG runs alongside from the same initial guess (one
    /// more operator application per iteration) and the solve returns
    /// whichever of the two converges first, so it never takes more
    /// iterations than unpreconditioned CG. The step-by-step comparison
    /// above does not give that: a mildly nonlinear preconditioner whose
    /// every direction beats the CG direction locally can still lose CG's
    /// global (Krylov) optimality.
    /// Without the safeguard and the comparison, the preconditioner's
    /// direction is replaced by the residual only when it is non-finite or
    /// orthogonal to the residual.
    bool safeguard = true;
    /// With the safeguard: once CG's residual is this many times smaller than
    /// the preconditioned one, the preconditioner is no longer called (its
    /// inference time saved); 0 keeps it to the end.
    double abandonRatio = 10;
};

/// Outcome of FlexibleCG::solve.
struct FlexibleCGResult
{
    std::size_t iterations = 0;
    bool converged = false;
    /// |r|/|b| at the end (of the true residual).
    double relativeResidual = 0;
    /// Steps in which the preconditioner's output was useless (non-finite,
    /// wrong size, orthogonal to the residual) and the residual was used.
    std::size_t fallbacks = 0;
    /// Steps in which the CG direction was taken for lowering the error
    /// more (compareWithCG).
    std::size_t cgSteps = 0;
    /// With the safeguard: x is the plain CG solution (CG converged first).
    bool plainCG = false;
    /// Iteration after which the preconditioner was abandoned (0: never).
    std::size_t abandonedAt = 0;
    /// |r|/|b| after each iteration (first entry: the initial residual); with
    /// the safeguard the smaller of the two methods' residuals.
    std::vector<double> history;
};

/// Flexible CG for a symmetric positive definite operator A with any
/// preconditioner M, also a nonlinear or non-symmetric one such as a network:
/// each direction is M(r) A-orthogonalised against the last few directions,
/// and the step is the exact line search along it, so the A-norm of the error
/// never grows. The safeguard runs plain CG alongside and returns the
/// solution of whichever converges first, so a bad network degrades the
/// method to unpreconditioned CG (at the price of one operator application
/// per iteration), not below it; a non-finite or wrongly sized output counts
/// as useless.
///
/// Vectors are plain std::vector<double>; the dot product is a callback so
/// that distributed users can reduce it over their ranks.
class FlexibleCG
{
public:
    // The types of the classical CG (ConjugateGradient.h).
    using Vector = ConjugateGradient::Vector;
    /// y = A x
    using Operator = ConjugateGradient::Operator;
    /// z ~ A^-1 r (required here)
    using Preconditioner = ConjugateGradient::Preconditioner;
    using Dot = ConjugateGradient::Dot;
    /// Stopping test on the current residual after @p iteration steps
    /// (0: the initial residual); replaces the relative tolerance, e.g. to
    /// use a framework's own residual norm.
    using Converged = std::function<bool(const Vector& r, std::size_t iteration)>;

    explicit FlexibleCG(const FlexibleCGSettings& settings = FlexibleCGSettings());

    /// Solve A x = b from the initial guess in @p x. @p dot defaults to the
    /// local dot product, @p converged to |r| <= relativeTolerance |b|
    /// (maxIterations applies either way). Throws std::invalid_argument for
    /// size mismatches or non-finite b.
    FlexibleCGResult solve(const Operator& A, const Preconditioner& M, const Vector& b, Vector& x,
        const Dot& dot = Dot(), const Converged& converged = Converged()) const;

    const FlexibleCGSettings& settings() const { return settings_; }

private:
    FlexibleCGSettings settings_;
};

} // namespace mlcfd

#endif
