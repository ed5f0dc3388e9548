#include "mlcfd/FlexibleCG.h"
#include "mlcfd/ConjugateGradient.h"

#include <cmath>
#include <deque>
#include <stdexcept>
#include <string>

namespace mlcfd
{

namespace
{

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

FlexibleCG::FlexibleCG(const FlexibleCGSettings& settings) : settings_(settings)
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

FlexibleCGResult FlexibleCG::solve(const Operator& A, const Preconditioner& M, const Vector& b, Vector& x,
    const Dot& userDot, const Converged& userConverged) const
{
    const Dot dot = userDot ? userDot : Dot(localDot);
    const std::size_t n = b.size();
    if (x.size() != n)
    {
        throw std::invalid_argument(
            "FlexibleCG: x has " + std::to_string(x.size()) + " entries but b has " + std::to_string(n));
    }
    if (!allFinite(b)) throw std::invalid_argument("FlexibleCG: b holds a non-finite value");

    FlexibleCGResult result;
    const double normB = std::sqrt(dot(b, b));
    // Work vectors, allocated once.
    Vector r(n), Ax(n), z(n), Ap(n), c(n), Ac(n);

    const auto residualOf = [&](const Vector& xk, Vector& rk)
    {
        A(xk, Ax);
        for (std::size_t i = 0; i < n; ++i) rk[i] = b[i] - Ax[i];
    };
    residualOf(x, r);
    if (normB == 0)
    {
        // b = 0: x = 0 is the solution.
        std::fill(x.begin(), x.end(), 0.0);
        result.converged = true;
        result.history.push_back(0);
        return result;
    }
    const auto converged = [&](const Vector& rk, double normRk)
    {
        return userConverged ? userConverged(rk, result.iterations)
                             : normRk <= settings_.relativeTolerance * normB;
    };
    const auto positiveCurvature = [](double pAp)
    {
        if (!(pAp > 0))
        {
            throw std::runtime_error("FlexibleCG: p.A p = " + std::to_string(pAp)
                                     + " <= 0: the operator is not positive definite");
        }
        return pAp;
    };

    // The safeguard's plain CG from the same x0.
    const bool shadow = settings_.safeguard;
    ConjugateGradient shadowCG(A, ConjugateGradient::Preconditioner(), dot);
    if (shadow) shadowCG.start(b, x);

    double normR = std::sqrt(dot(r, r)), normRCG = normR;
    bool preconditioned = true;
    result.history.push_back(normR / normB);

    std::deque<Direction> kept;
    const auto orthogonalise = [&](Vector& p)
    {
        for (const Direction& d : kept)
        {
            const double beta = dot(p, d.Ap) / d.pAp;
            for (std::size_t i = 0; i < n; ++i) p[i] -= beta * d.p[i];
        }
    };

    bool done = converged(r, normR);
    while (!done && result.iterations < settings_.maxIterations)
    {
        if (preconditioned)
        {
            // The preconditioner's direction, A-orthogonalised. Either sign
            // is fine: the exact line search lowers the error's A-norm
            // squared by (r.z)^2/z.Az along z.
            M(r, z);
            bool useful = z.size() == n && allFinite(z);
            double rz = 0, pAp = 0;
            if (useful)
            {
                orthogonalise(z);
                rz = dot(r, z);
                useful = std::isfinite(rz) && rz != 0;
            }
            if (useful)
            {
                A(z, Ap);
                pAp = dot(z, Ap);
                useful = std::isfinite(pAp) && pAp > 0;
            }
            if (!useful || settings_.compareWithCG)
            {
                // The CG direction: the residual, A-orthogonalised.
                c.assign(r.begin(), r.end());
                orthogonalise(c);
                A(c, Ac);
                const double rc = dot(r, c);
                const double cAc = positiveCurvature(dot(c, Ac));
                if (!useful || rc * rc / cAc > rz * rz / pAp)
                {
                    ++(useful ? result.cgSteps : result.fallbacks);
                    z.swap(c);
                    Ap.swap(Ac);
                    pAp = cAc;
                }
            }
            positiveCurvature(pAp);

            const double alpha = dot(r, z) / pAp;
            for (std::size_t i = 0; i < n; ++i)
            {
                x[i] += alpha * z[i];
                r[i] -= alpha * Ap[i];
            }

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
        }
        if (shadow && !shadowCG.step())
        {
            throw std::runtime_error("FlexibleCG: the safeguard's CG found p.A p <= 0:"
                                     " the operator is not positive definite");
        }
        ++result.iterations;

        if (settings_.trueResidualEvery > 0 && result.iterations % settings_.trueResidualEvery == 0)
        {
            if (preconditioned) residualOf(x, r);
            if (shadow) shadowCG.recomputeResidual();
        }
        if (preconditioned) normR = std::sqrt(dot(r, r));
        if (shadow) normRCG = shadowCG.residualNorm();

        if (preconditioned && converged(r, normR))
        {
            done = true;
        }
        else if (shadow && converged(shadowCG.residual(), normRCG))
        {
            done = true;
            result.plainCG = true;
        }
        else if (shadow && preconditioned && settings_.abandonRatio > 0
                 && normRCG * settings_.abandonRatio < normR)
        {
            preconditioned = false;
            result.abandonedAt = result.iterations;
        }
        const double best = !shadow ? normR : !preconditioned ? normRCG : std::min(normR, normRCG);
        result.history.push_back(best / normB);
    }

    if (!done && shadow && (!preconditioned || normRCG < normR))
    {
        // Not converged in maxIterations: return the better of the two.
        result.plainCG = true;
    }
    if (result.plainCG)
    {
        x.swap(shadowCG.solution());
    }
    residualOf(x, r);
    normR = std::sqrt(dot(r, r));
    result.relativeResidual = normR / normB;
    result.converged = done || converged(r, normR);
    return result;
}

} // namespace mlcfd
