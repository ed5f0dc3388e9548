#include "mlcfd/ConjugateGradient.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace mlcfd
{

double localDot(const std::vector<double>& a, const std::vector<double>& b)
{
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
    return sum;
}

ConjugateGradient::ConjugateGradient(Operator A, Preconditioner M, Dot dot)
    : A_(std::move(A)), M_(std::move(M)), dot_(dot ? std::move(dot) : Dot(localDot))
{
}

void ConjugateGradient::start(const Vector& b, const Vector& x)
{
    if (x.size() != b.size())
    {
        throw std::invalid_argument("ConjugateGradient: x has " + std::to_string(x.size())
                                    + " entries but b has " + std::to_string(b.size()));
    }
    const std::size_t n = b.size();
    b_ = &b;
    x_ = x;
    r_.resize(n);
    z_.resize(n);
    p_.resize(n);
    q_.resize(n);
    iterations_ = 0;
    normB_ = std::sqrt(dot_(b, b));
    recomputeResidual();
}

void ConjugateGradient::recomputeResidual()
{
    A_(x_, q_);
    for (std::size_t i = 0; i < r_.size(); ++i) r_[i] = (*b_)[i] - q_[i];
    normR_ = std::sqrt(dot_(r_, r_));
    // The next step forms its direction from the new residual.
    directionCurrent_ = false;
}

bool ConjugateGradient::step()
{
    const std::size_t n = r_.size();
    // The direction is formed lazily, so that a converged solve never calls
    // the preconditioner once more.
    if (!directionCurrent_)
    {
        if (M_)
            M_(r_, z_);
        else
            z_ = r_;
        const double rzNew = dot_(r_, z_);
        if (iterations_ == 0 || rz_ == 0)
        {
            p_ = z_;
        }
        else
        {
            const double beta = rzNew / rz_;
            for (std::size_t i = 0; i < n; ++i) p_[i] = z_[i] + beta * p_[i];
        }
        rz_ = rzNew;
        directionCurrent_ = true;
    }
    A_(p_, q_);
    const double pq = dot_(p_, q_);
    if (!(pq > 0) || !std::isfinite(pq)) return false;
    const double alpha = rz_ / pq;
    for (std::size_t i = 0; i < n; ++i)
    {
        x_[i] += alpha * p_[i];
        r_[i] -= alpha * q_[i];
    }
    normR_ = std::sqrt(dot_(r_, r_));
    ++iterations_;
    directionCurrent_ = false;
    return true;
}

CGResult conjugateGradient(const ConjugateGradient::Operator& A, const ConjugateGradient::Preconditioner& M,
    const std::vector<double>& b, std::vector<double>& x, const CGSettings& settings,
    const ConjugateGradient::Dot& dot)
{
    ConjugateGradient cg(A, M, dot);
    cg.start(b, x);
    CGResult result;
    const double normB = cg.rhsNorm();
    const double target = settings.relativeTolerance * normB;
    const auto relative = [normB](double normR) { return normB > 0 ? normR / normB : normR; };
    result.history.push_back(relative(cg.residualNorm()));
    result.converged = cg.residualNorm() <= target;
    while (!result.converged && cg.iterations() < settings.maxIterations)
    {
        if (!cg.step())
        {
            result.breakdown = true;
            break;
        }
        result.history.push_back(relative(cg.residualNorm()));
        result.converged = cg.residualNorm() <= target;
    }
    result.iterations = cg.iterations();
    x = cg.solution();
    return result;
}

} // namespace mlcfd
