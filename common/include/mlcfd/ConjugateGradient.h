// mlcfd: preconditioned conjugate gradients for a fixed symmetric positive
// definite preconditioner (framework-free).
#ifndef MLCFD_CONJUGATE_GRADIENT_H
#define MLCFD_CONJUGATE_GRADIENT_H

#include <cstddef>
#include <functional>
#include <vector>

namespace mlcfd
{

/// The dot product of the local entries (the default of the CG methods).
double localDot(const std::vector<double>& a, const std::vector<double>& b);

/// Settings of conjugateGradient().
struct CGSettings
{
    /// Stop when |r| <= relativeTolerance |b| (2-norm).
    double relativeTolerance = 1e-6;
    std::size_t maxIterations = 1000;
};

/// Outcome of conjugateGradient().
struct CGResult
{
    std::size_t iterations = 0;
    bool converged = false;
    /// p.A p <= 0 or not finite stopped the iteration: A or M is not
    /// positive definite (or the system is inconsistent).
    bool breakdown = false;
    /// |r|/|b| of the recursively updated residual: the first entry before
    /// any iteration, then one per iteration.
    std::vector<double> history;
};

/**
 * Preconditioned CG as OpenFOAM's PCG and deal.II's SolverCG do it
 * (z = M r, p = z + beta p), one step at a time, so that a caller can
 * interleave it with another method (FlexibleCG's safeguard) or stop on its
 * own test. conjugateGradient() below is the loop around it.
 *
 * M must be a fixed symmetric positive definite operator; for a network or
 * another nonlinear preconditioner use FlexibleCG.
 *
 * @code
 *   mlcfd::ConjugateGradient cg(A, M);
 *   cg.start(b, x);
 *   while (cg.residualNorm() > tolerance*cg.rhsNorm() && cg.step()) {}
 *   x = cg.solution();
 * @endcode
 */
class ConjugateGradient
{
public:
    using Vector = std::vector<double>;
    /// y = A x
    using Operator = std::function<void(const Vector& x, Vector& y)>;
    /// z = M r; an empty function is the identity (plain CG).
    using Preconditioner = std::function<void(const Vector& r, Vector& z)>;
    /// Dot product; empty: the local one (distributed callers reduce).
    using Dot = std::function<double(const Vector& a, const Vector& b)>;

    ConjugateGradient(Operator A, Preconditioner M = Preconditioner(), Dot dot = Dot());

    /// Start from the initial guess @p x: r = b - A x.
    void start(const Vector& b, const Vector& x);

    /// One iteration. Returns false, changing nothing, at a breakdown
    /// (p.A p <= 0 or not finite).
    bool step();

    /// r = b - A x, against the drift of the recursively updated residual.
    void recomputeResidual();

    const Vector& solution() const { return x_; }
    Vector& solution() { return x_; }
    const Vector& residual() const { return r_; }
    double residualNorm() const { return normR_; }
    double rhsNorm() const { return normB_; }
    std::size_t iterations() const { return iterations_; }

private:
    Operator A_;
    Preconditioner M_;
    Dot dot_;
    const Vector* b_ = nullptr;
    Vector x_, r_, z_, p_, q_;
    double rz_ = 0, normR_ = 0, normB_ = 0;
    std::size_t iterations_ = 0;
    bool directionCurrent_ = false;
};

/// Solve A x = b from the initial guess in @p x until |r| <= tolerance |b|
/// or maxIterations. Throws std::invalid_argument for size mismatches.
CGResult conjugateGradient(const ConjugateGradient::Operator& A, const ConjugateGradient::Preconditioner& M,
    const std::vector<double>& b, std::vector<double>& x, const CGSettings& settings = CGSettings(),
    const ConjugateGradient::Dot& dot = ConjugateGradient::Dot());

} // namespace mlcfd

#endif
