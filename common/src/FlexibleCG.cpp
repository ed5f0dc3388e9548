#include "mlcfd/FlexibleCG.h"

#include <cmath>
#include <deque>
#include <stdexcept>
#include <string>

namespace mlcfd
{

namespace
{

double localDot(const FlexibleCG::Vector& a, const FlexibleCG::Vector& b)
{
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) sum += a[i]*b[i];
    return sum;
}

bool allFinite(const FlexibleCG::Vector& v)
{
    for (double value : v)
    {
        if (!std::isfinite(value)) return false;
    }
    return true;
}

// A kept search direction p with A p and p.A p.
struct Direction
{
    FlexibleCG::Vector p, Ap;
    double pAp;
};

} // namespace


FlexibleCG::FlexibleCG(const FlexibleCGSettings& settings)
:
    settings_(settings)
{
    if (settings_.keptDirections < 1)
    {
        throw std::invalid_argument("FlexibleCG: keptDirections must be >= 1");
    }
    if (!(settings_.relativeTolerance > 0))
    {
        throw std::invalid_argument("FlexibleCG: relativeTolerance must be > 0");
    }
}


FlexibleCGResult FlexibleCG::solve
(
    const Operator& A,
    const Preconditioner& M,
    const Vector& b,
    Vector& x,
    const Dot& userDot,
    const Converged& userConverged
) const
{
    const Dot dot = userDot ? userDot : Dot(localDot);
    const std::size_t n = b.size();
    if (x.size() != n)
    {
        throw std::invalid_argument("FlexibleCG: x has " + std::to_string(x.size())
            + " entries but b has " + std::to_string(n));
    }
    if (!allFinite(b)) throw std::invalid_argument("FlexibleCG: b holds a non-finite value");

    FlexibleCGResult result;
    const double normB = std::sqrt(dot(b, b));
    // Work vectors, allocated once (c, Ac: the plain CG candidate).
    Vector r(n), Ax(n), z(n), Ap(n), c(n), Ac(n);

    auto trueResidual = [&]()
    {
        A(x, Ax);
        for (std::size_t i = 0; i < n; ++i) r[i] = b[i] - Ax[i];
    };
    trueResidual();
    if (normB == 0)
    {
        // b = 0: x = 0 is the solution.
        std::fill(x.begin(), x.end(), 0.0);
        result.converged = true;
        result.history.push_back(0);
        return result;
    }
    double normR = std::sqrt(dot(r, r));
    result.history.push_back(normR/normB);
    const auto converged = [&]()
    {
        return userConverged
            ? userConverged(r, result.iterations)
            : normR <= settings_.relativeTolerance*normB;
    };

    std::deque<Direction> kept;
    while (!converged() && result.iterations < settings_.maxIterations)
    {
        auto orthogonalise = [&](Vector& p)
        {
            for (const Direction& d : kept)
            {
                const double beta = dot(p, d.Ap)/d.pAp;
                for (std::size_t i = 0; i < n; ++i) p[i] -= beta*d.p[i];
            }
        };
        auto positiveCurvature = [](double pAp)
        {
            if (!(pAp > 0))
            {
                throw std::runtime_error("FlexibleCG: p.A p = " + std::to_string(pAp)
                    + " <= 0: the operator is not positive definite");
            }
            return pAp;
        };

        // Candidate direction from the preconditioner, A-orthogonalised.
        M(r, z);
        bool useful = z.size() == n && allFinite(z);
        double rz = 0, pAp = 0;
        if (useful)
        {
            orthogonalise(z);
            rz = dot(r, z);
            useful = std::isfinite(rz) && rz > 0;
        }
        if (useful)
        {
            A(z, Ap);
            pAp = dot(z, Ap);
            useful = std::isfinite(pAp) && pAp > 0;
        }
        if (!useful || settings_.safeguard)
        {
            // The plain CG direction: the residual, A-orthogonalised.
            c = r;
            orthogonalise(c);
            A(c, Ac);
            const double rc = dot(r, c);
            const double cAc = positiveCurvature(dot(c, Ac));
            // Decrease of the error's A-norm squared along each direction.
            if (!useful || rc*rc/cAc > rz*rz/pAp)
            {
                ++result.fallbacks;
                z.swap(c);
                Ap.swap(Ac);
                pAp = cAc;
            }
        }
        positiveCurvature(pAp);

        const double alpha = dot(r, z)/pAp;
        for (std::size_t i = 0; i < n; ++i)
        {
            x[i] += alpha*z[i];
            r[i] -= alpha*Ap[i];
        }
        ++result.iterations;

        // Recycle the oldest direction's storage once all slots are used.
        if (kept.size() == settings_.keptDirections)
        {
            kept.push_back(std::move(kept.front()));
            kept.pop_front();
            kept.back().p = z;
            kept.back().Ap = Ap;
            kept.back().pAp = pAp;
        }
        else
        {
            kept.push_back(Direction{z, Ap, pAp});
        }

        if (settings_.trueResidualEvery > 0 && result.iterations % settings_.trueResidualEvery == 0)
        {
            trueResidual();
        }
        normR = std::sqrt(dot(r, r));
        result.history.push_back(normR/normB);
    }

    const bool recursiveConverged = converged();
    trueResidual();
    normR = std::sqrt(dot(r, r));
    result.relativeResidual = normR/normB;
    result.converged = recursiveConverged || converged();
    return result;
}

} // namespace mlcfd
