// Tests of mlcfd::FlexibleCG: exact CG without preconditioner, faster with a
// good one, never slower than CG with a bad one (the safeguard), errors.
#include "mlcfd/FlexibleCG.h"
#include "mlcfd/ConjugateGradient.h"
#include "mlcfd/GridMatrices.h"

#include <gtest/gtest.h>

#include "LinearAlgebraTestUtils.h"

#include <cmath>
#include <iostream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

using mlcfd::FlexibleCG;
using mlcfd::FlexibleCGSettings;
using Vector = FlexibleCG::Vector;

namespace
{

// -div(a grad u) on an m x m grid, Dirichlet boundaries, five-point stencil,
// coefficient jumping by 100 between the left and right halves.
struct Poisson2D
{
    explicit Poisson2D(int m)
        : matrix(mlcfd::poissonMatrix({m, m}, mlcfd::PoissonBoundary::dirichlet, coefficients(m)))
    {
    }

    static std::vector<double> coefficients(int m)
    {
        std::vector<double> k(m * m);
        for (int j = 0; j < m; ++j)
            for (int i = 0; i < m; ++i) k[j * m + i] = i < m / 2 ? 1.0 : 100.0;
        return k;
    }

    void apply(const Vector& x, Vector& y) const
    {
        y.resize(x.size());
        matrix.multiply(x.data(), y.data());
    }

    Vector diagonal() const
    {
        Vector d(matrix.rows);
        for (std::size_t k = 0; k < matrix.rows; ++k) d[k] = matrix.diagonal(k);
        return d;
    }

    mlcfd::CSRMatrix matrix;
};

// The core's classical CG, the reference FlexibleCG is measured against.
std::size_t plainCGIterations(const Poisson2D& A, const Vector& b, double tol)
{
    Vector x(b.size(), 0.0);
    mlcfd::CGSettings settings;
    settings.relativeTolerance = tol;
    settings.maxIterations = 10000;
    const auto result =
        mlcfd::conjugateGradient([&A](const Vector& v, Vector& Av) { A.apply(v, Av); }, {}, b, x, settings);
    EXPECT_TRUE(result.converged);
    return result.iterations;
}

class FlexibleCGTest : public ::testing::Test
{
protected:
    Poisson2D poisson{24};
    Vector b = mlcfd_test::randomVector(24 * 24, 3);
    FlexibleCG::Operator A = [this](const Vector& x, Vector& y) { poisson.apply(x, y); };
    double tol = 1e-8;
    std::size_t cgIterations = plainCGIterations(poisson, b, tol);

    FlexibleCGSettings settings(std::size_t kept = 2) const
    {
        FlexibleCGSettings s;
        s.relativeTolerance = tol;
        s.keptDirections = kept;
        return s;
    }

    /// Solve from x = 0 with @p M, check convergence to the tolerance of the
    /// true residual, return the result.
    mlcfd::FlexibleCGResult solveAndCheck(
        const FlexibleCG::Preconditioner& M, const FlexibleCGSettings& s, const std::string& what) const
    {
        Vector x(b.size(), 0.0);
        const auto result = FlexibleCG(s).solve(A, M, b, x);
        EXPECT_TRUE(result.converged) << what;
        EXPECT_LE(trueResidual(x), 1.01 * tol) << what;
        return result;
    }

    double trueResidual(const Vector& x) const { return mlcfd_test::relativeResidual(poisson.matrix, b, x); }
};

} // namespace

TEST_F(FlexibleCGTest, IdentityPreconditionerIsPlainCG)
{
    // Without the safeguard (itself classical CG) and the comparison, the
    // flexible recurrence alone.
    FlexibleCGSettings s = settings(1);
    s.safeguard = false;
    s.compareWithCG = false;
    const auto identity = [](const Vector& r, Vector& z) { z = r; };
    const auto result = solveAndCheck(identity, s, "identity");
    std::cout << "FlexibleCG with the identity: " << result.iterations
              << " iterations, classical CG: " << cgIterations << '\n';
    // Same method as classical CG; on this ill-conditioned problem round-off
    // shifts the count by a few (1% measured); a broken recurrence moves it
    // by a factor.
    EXPECT_LE(double(result.iterations), 1.03 * double(cgIterations));
    EXPECT_GE(double(result.iterations), 0.97 * double(cgIterations));
}

TEST_F(FlexibleCGTest, JacobiNeedsFewerIterationsThanCG)
{
    const Vector diag = poisson.diagonal();
    const auto jacobi = [&](const Vector& r, Vector& z)
    {
        z.resize(r.size());
        for (std::size_t i = 0; i < r.size(); ++i) z[i] = r[i] / diag[i];
    };
    EXPECT_LT(solveAndCheck(jacobi, settings(), "Jacobi").iterations, cgIterations);
}

TEST_F(FlexibleCGTest, NonlinearPreconditionerConverges)
{
    const Vector diag = poisson.diagonal();
    // A network-like map: not linear, not symmetric.
    const auto nonlinear = [&](const Vector& r, Vector& z)
    {
        z.resize(r.size());
        for (std::size_t i = 0; i < r.size(); ++i)
            z[i] =
                r[i] / diag[i] * (1 + 0.3 * std::tanh(5 * r[i])) + (i > 0 ? 0.1 * r[i - 1] / diag[i] : 0.0);
    };
    EXPECT_LE(solveAndCheck(nonlinear, settings(), "nonlinear").iterations, cgIterations);
}

TEST_F(FlexibleCGTest, BadPreconditionersFallBackToCG)
{
    std::mt19937_64 rng(11);
    std::normal_distribution<double> normal;
    const std::vector<FlexibleCG::Preconditioner> bad{
        [](const Vector& r, Vector& z) { z.assign(r.size(), 0.0); },
        [](const Vector& r, Vector& z)
        {
            z = r;
            for (double& v : z) v = -v;
        },
        [](const Vector& r, Vector& z) { z.assign(r.size(), std::numeric_limits<double>::quiet_NaN()); },
        [&](const Vector& r, Vector& z)
        {
            z.resize(r.size());
            for (double& v : z) v = normal(rng);
        },
        [](const Vector& r, Vector& z) { z.assign(r.size() - 1, 1.0); },
    };
    // Unpreconditioned runs of the same method (keptDirections 2): within
    // round-off of classical CG on this ill-conditioned problem.
    const auto identity = [](const Vector& r, Vector& z) { z = r; };
    const std::size_t unpreconditioned = solveAndCheck(identity, settings(), "identity").iterations;
    EXPECT_LE(double(unpreconditioned), 1.02 * double(cgIterations));
    for (std::size_t k = 0; k < bad.size(); ++k)
    {
        const std::string what = "bad preconditioner " + std::to_string(k);
        const auto result = solveAndCheck(bad[k], settings(), what);
        EXPECT_LE(result.iterations, unpreconditioned) << what;
        // Rejected outright, or beaten by the safeguard's CG.
        EXPECT_TRUE(result.fallbacks > 0 || result.plainCG) << what;
    }
}

TEST_F(FlexibleCGTest, ResidualHistoryAndTrueResidual)
{
    FlexibleCGSettings s = settings();
    s.trueResidualEvery = 10;
    Vector x(b.size(), 0.0);
    const auto identity = [](const Vector& r, Vector& z) { z = r; };
    const auto result = FlexibleCG(s).solve(A, identity, b, x);
    ASSERT_EQ(result.history.size(), result.iterations + 1);
    EXPECT_DOUBLE_EQ(result.history.front(), 1.0);
    EXPECT_LE(result.history.back(), tol);
    EXPECT_NEAR(result.relativeResidual, trueResidual(x), 1e-12);
}

TEST_F(FlexibleCGTest, BadInputIsRejected)
{
    const auto identity = [](const Vector& r, Vector& z) { z = r; };
    Vector x(3, 0.0);
    EXPECT_THROW(FlexibleCG().solve(A, identity, b, x), std::invalid_argument);
    Vector nanB = b;
    nanB[5] = std::numeric_limits<double>::quiet_NaN();
    Vector y(b.size(), 0.0);
    EXPECT_THROW(FlexibleCG().solve(A, identity, nanB, y), std::invalid_argument);
    const FlexibleCG::Operator negative = [&](const Vector& v, Vector& w)
    {
        poisson.apply(v, w);
        for (double& value : w) value = -value;
    };
    EXPECT_THROW(FlexibleCG().solve(negative, identity, b, y), std::runtime_error);
    FlexibleCGSettings zeroKept;
    zeroKept.keptDirections = 0;
    EXPECT_THROW(FlexibleCG{zeroKept}, std::invalid_argument);
}
