// Unit tests of the structure-preserving layers: the ProbConserv constraint
// update (residual at round-off on the dense, CG and rank-deficient paths,
// the projection equals least squares, the variance update) and the
// Dirichlet lift.
#include "mlcfd/DirichletLift.h"
#include "mlcfd/GridMatrices.h"
#include "mlcfd/LinearConstraint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using mlcfd::ConstraintReport;
using mlcfd::ConstraintSolver;
using mlcfd::CSRMatrix;
using mlcfd::DirichletLift;
using mlcfd::LinearConstraint;
using mlcfd::LinearConstraintOptions;

namespace
{

std::vector<double> randomVector(std::size_t n, std::mt19937_64& rng, double lo = -1, double hi = 1)
{
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<double> x(n);
    for (double& v : x) v = dist(rng);
    return x;
}

// m x n with about @p perRow random entries per row (at least one).
CSRMatrix randomSparse(std::size_t m, std::size_t n, std::size_t perRow, std::mt19937_64& rng)
{
    std::vector<double> dense(m * n, 0.0);
    std::uniform_int_distribution<std::size_t> col(0, n - 1);
    std::normal_distribution<double> normal;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t e = 0; e < perRow; ++e) dense[i * n + col(rng)] = normal(rng);
    return CSRMatrix::fromDense(dense.data(), m, n);
}

CSRMatrix divergence(std::size_t nx, std::size_t ny)
{
    return mlcfd::faceDivergenceMatrix(nx, ny);
}

// G with one more row: the sum of all its rows (redundant, rank-deficient).
CSRMatrix withSumRow(const CSRMatrix& G, std::vector<double>& b)
{
    std::vector<double> sum(G.cols, 0.0);
    double bSum = 0;
    for (std::size_t i = 0; i < G.rows; ++i)
    {
        for (std::int64_t p = G.rowStart[i]; p < G.rowStart[i + 1]; ++p) sum[G.column[p]] += G.value[p];
        bSum += b[i];
    }
    CSRMatrix H = G;
    for (std::size_t k = 0; k < G.cols; ++k)
    {
        if (sum[k] != 0)
        {
            H.column.push_back(k);
            H.value.push_back(sum[k]);
        }
    }
    H.rowStart.push_back(H.column.size());
    ++H.rows;
    b.push_back(bSum);
    return H;
}

std::vector<double> toDense(const CSRMatrix& G)
{
    std::vector<double> A(G.rows * G.cols, 0.0);
    for (std::size_t i = 0; i < G.rows; ++i)
        for (std::int64_t p = G.rowStart[i]; p < G.rowStart[i + 1]; ++p)
            A[i * G.cols + G.column[p]] += G.value[p];
    return A;
}

// Solve the dense system M x = y by Gaussian elimination with partial pivoting.
std::vector<double> gaussSolve(std::vector<double> M, std::vector<double> y)
{
    const std::size_t N = y.size();
    for (std::size_t c = 0; c < N; ++c)
    {
        std::size_t pivot = c;
        for (std::size_t r = c + 1; r < N; ++r)
            if (std::abs(M[r * N + c]) > std::abs(M[pivot * N + c])) pivot = r;
        for (std::size_t k = 0; k < N; ++k) std::swap(M[c * N + k], M[pivot * N + k]);
        std::swap(y[c], y[pivot]);
        for (std::size_t r = c + 1; r < N; ++r)
        {
            const double f = M[r * N + c] / M[c * N + c];
            for (std::size_t k = c; k < N; ++k) M[r * N + k] -= f * M[c * N + k];
            y[r] -= f * y[c];
        }
    }
    std::vector<double> x(N);
    for (std::size_t c = N; c-- > 0;)
    {
        double s = y[c];
        for (std::size_t k = c + 1; k < N; ++k) s -= M[c * N + k] * x[k];
        x[c] = s / M[c * N + c];
    }
    return x;
}

// Least-change solution of G u = b from the KKT system [I G^T; G 0].
std::vector<double> leastSquaresReference(
    const CSRMatrix& G, const std::vector<double>& mu, const std::vector<double>& b)
{
    const std::size_t m = G.rows, n = G.cols, N = n + m;
    const std::vector<double> A = toDense(G);
    std::vector<double> K(N * N, 0.0), y(N);
    for (std::size_t k = 0; k < n; ++k) K[k * N + k] = 1;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t k = 0; k < n; ++k)
        {
            K[(n + i) * N + k] = A[i * n + k];
            K[k * N + n + i] = A[i * n + k];
        }
    for (std::size_t k = 0; k < n; ++k) y[k] = mu[k];
    for (std::size_t i = 0; i < m; ++i) y[n + i] = b[i];
    std::vector<double> x = gaussSolve(K, y);
    x.resize(n);
    return x;
}

double maxAbsDiff(const std::vector<double>& a, const std::vector<double>& b)
{
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
}

LinearConstraintOptions withSolver(ConstraintSolver solver)
{
    LinearConstraintOptions options;
    options.solver = solver;
    return options;
}

template<class F> void expectInvalidArgument(F&& f, const std::string& fragment)
{
    try
    {
        f();
        ADD_FAILURE() << "no std::invalid_argument (expected one mentioning '" << fragment << "')";
    }
    catch (const std::invalid_argument& e)
    {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

} // namespace

TEST(LinearConstraint, RandomSparseFewRowsDensePath)
{
    std::mt19937_64 rng(1);
    const std::size_t m = 12, n = 200;
    LinearConstraint constraint(randomSparse(m, n, 20, rng));
    const auto mu = randomVector(n, rng);
    const auto variance = randomVector(n, rng, 0.1, 2.0);
    const auto b = randomVector(m, rng);
    std::vector<double> mean = mu, var = variance;
    const ConstraintReport report = constraint.update(mean, var, b);
    EXPECT_EQ(report.solver, ConstraintSolver::cholesky);
    EXPECT_FALSE(report.rankDeficient);
    EXPECT_LE(report.constraintResidual, 1e-12);
    EXPECT_LE(constraint.residual(mean.data(), b.data()), 1e-12);
    // Without the layer the residual is O(1).
    EXPECT_GT(constraint.residual(mu.data(), b.data()), 0.1);
}

TEST(LinearConstraint, DivergenceManyRowsConjugateGradientPath)
{
    // Per-cell conservation of a face flux on 32 x 32 cells (m = 1024, forced
    // CG) and on 64 x 64 cells (m = 4096 > denseRowLimit: automatic picks CG).
    for (std::size_t cells : {32, 64})
    {
        std::mt19937_64 rng(cells);
        const CSRMatrix G = divergence(cells, cells);
        LinearConstraint constraint(
            G, withSolver(cells == 32 ? ConstraintSolver::conjugateGradient : ConstraintSolver::automatic));
        std::vector<double> flux = randomVector(G.cols, rng);
        const auto source = randomVector(G.rows, rng, -0.01, 0.01);
        const auto original = flux;
        const ConstraintReport report = constraint.project(flux, source);
        EXPECT_EQ(report.solver, ConstraintSolver::conjugateGradient) << cells;
        EXPECT_TRUE(report.converged);
        EXPECT_GT(report.iterations, 10u);
        EXPECT_LE(constraint.residual(flux.data(), source.data(), original.data()), 1e-12) << cells;
    }
}

TEST(LinearConstraint, DenseAndConjugateGradientAgree)
{
    std::mt19937_64 rng(2);
    const CSRMatrix G = divergence(16, 12);
    const auto mu = randomVector(G.cols, rng);
    const auto variance = randomVector(G.cols, rng, 0.5, 1.5);
    const auto b = randomVector(G.rows, rng);
    std::vector<double> dense = mu, cg = mu, denseVar = variance, cgVar = variance;
    LinearConstraint(G, withSolver(ConstraintSolver::cholesky)).update(dense, denseVar, b);
    LinearConstraint(G, withSolver(ConstraintSolver::conjugateGradient)).update(cg, cgVar, b);
    EXPECT_LE(maxAbsDiff(dense, cg), 1e-11);
    EXPECT_LE(maxAbsDiff(denseVar, cgVar), 1e-11);
}

TEST(LinearConstraint, RankDeficientFallsBackToConjugateGradient)
{
    // The divergence plus the redundant global balance (sum of all rows).
    std::mt19937_64 rng(3);
    std::vector<double> b = randomVector(20 * 20, rng);
    const CSRMatrix G = withSumRow(divergence(20, 20), b);
    LinearConstraint constraint(G, withSolver(ConstraintSolver::cholesky));
    std::vector<double> u = randomVector(G.cols, rng);
    const auto original = u;
    const ConstraintReport report = constraint.project(u, b);
    EXPECT_TRUE(report.rankDeficient);
    EXPECT_EQ(report.solver, ConstraintSolver::conjugateGradient);
    EXPECT_LE(report.constraintResidual, 1e-12);

    // Dropping the redundant row gives the same projection.
    CSRMatrix full = divergence(20, 20);
    std::vector<double> v = original, bFull(b.begin(), b.end() - 1);
    LinearConstraint(full).project(v, bFull);
    EXPECT_LE(maxAbsDiff(u, v), 1e-11);

    // A small dense rank-deficient case: two equal rows.
    std::vector<double> A = {1, 2, 0, 1, 1, 2, 0, 1, 0, 1, 1, 0};
    LinearConstraint small(CSRMatrix::fromDense(A.data(), 3, 4));
    std::vector<double> w = {1, 1, 1, 1}, c = {2, 2, -1};
    const ConstraintReport smallReport = small.project(w, c);
    EXPECT_TRUE(smallReport.rankDeficient);
    EXPECT_LE(smallReport.constraintResidual, 1e-12);
}

TEST(LinearConstraint, IdentityCovarianceIsLeastSquaresProjection)
{
    std::mt19937_64 rng(4);
    for (ConstraintSolver solver : {ConstraintSolver::cholesky, ConstraintSolver::conjugateGradient})
    {
        const CSRMatrix G = randomSparse(7, 30, 5, rng);
        const auto mu = randomVector(30, rng);
        const auto b = randomVector(7, rng);
        std::vector<double> u = mu;
        LinearConstraint(G, withSolver(solver)).project(u, b);
        EXPECT_LE(maxAbsDiff(u, leastSquaresReference(G, mu, b)), 1e-12) << mlcfd::solverName(solver);
    }
}

TEST(LinearConstraint, VarianceUpdateRemovesConstrainedDirections)
{
    std::mt19937_64 rng(5);
    const CSRMatrix G = randomSparse(6, 25, 6, rng);
    const auto variance = randomVector(25, rng, 0.2, 3.0);
    for (ConstraintSolver solver : {ConstraintSolver::cholesky, ConstraintSolver::conjugateGradient})
    {
        LinearConstraint constraint(G, withSolver(solver));
        std::vector<double> mean = randomVector(25, rng), var = variance;
        const auto b = randomVector(6, rng);
        constraint.update(mean, var, b);
        const std::vector<double> S = constraint.covariance(variance.data());
        const std::size_t n = 25;
        for (std::size_t k = 0; k < n; ++k)
        {
            EXPECT_GE(var[k], 0.0);
            EXPECT_LE(var[k], variance[k] + 1e-14);
            EXPECT_NEAR(S[k * n + k], var[k], 1e-12);
            for (std::size_t j = 0; j < n; ++j) EXPECT_NEAR(S[k * n + j], S[j * n + k], 1e-12);
        }
        // G Sigma_new G^T = 0 (relative to G Sigma G^T) and x^T Sigma_new x >= 0.
        const std::vector<double> A = toDense(G);
        double worst = 0, scale = 0;
        for (std::size_t p = 0; p < G.rows; ++p)
            for (std::size_t q = 0; q < G.rows; ++q)
            {
                double gsg = 0, gdg = 0;
                for (std::size_t i = 0; i < n; ++i)
                {
                    gdg += A[p * n + i] * variance[i] * A[q * n + i];
                    for (std::size_t j = 0; j < n; ++j) gsg += A[p * n + i] * S[i * n + j] * A[q * n + j];
                }
                worst = std::max(worst, std::abs(gsg));
                scale = std::max(scale, std::abs(gdg));
            }
        EXPECT_LE(worst, 1e-12 * scale) << mlcfd::solverName(solver);
        for (int trial = 0; trial < 20; ++trial)
        {
            const auto x = randomVector(n, rng);
            double quad = 0;
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j) quad += x[i] * S[i * n + j] * x[j];
            EXPECT_GE(quad, -1e-12);
        }
    }
}

TEST(LinearConstraint, ConstraintVarianceGivesPartialUpdate)
{
    // One constraint g.u = b with Sigma = I: the closed form is
    //   u = mu - g (g.mu - b)/(|g|^2 + sigma2),  var_k = 1 - g_k^2/(|g|^2 + sigma2).
    const std::vector<double> g = {1, -2, 0, 3}, mu = {0.5, 0.25, 2, -1};
    const double b = 0.3, sigma2 = 0.7;
    const double gg = 14, gmu = 0.5 - 0.5 - 3;
    LinearConstraintOptions options;
    options.constraintVariance = sigma2;
    LinearConstraint constraint(CSRMatrix::fromDense(g.data(), 1, 4), options);
    std::vector<double> mean = mu, var(4, 1.0);
    const ConstraintReport report = constraint.update(mean, var, {b});
    for (std::size_t k = 0; k < 4; ++k)
    {
        EXPECT_NEAR(mean[k], mu[k] - g[k] * (gmu - b) / (gg + sigma2), 1e-15);
        EXPECT_NEAR(var[k], 1 - g[k] * g[k] / (gg + sigma2), 1e-15);
    }
    // The constraint is only partly satisfied: residual sigma2/(|g|^2+sigma2) of the original.
    EXPECT_NEAR(report.constraintResidual * std::abs(gmu), std::abs(gmu - b) * sigma2 / (gg + sigma2), 1e-14);
    EXPECT_GT(report.constraintResidual, 1e-3);
}

TEST(LinearConstraint, ZeroVarianceEntriesAreKept)
{
    std::mt19937_64 rng(6);
    const CSRMatrix G = randomSparse(3, 10, 4, rng);
    std::vector<double> mean = randomVector(10, rng), var(10, 1.0);
    var[0] = var[1] = 0;
    const auto mu = mean;
    const auto b = randomVector(3, rng);
    const ConstraintReport report = LinearConstraint(G).update(mean, var, b);
    EXPECT_EQ(mean[0], mu[0]);
    EXPECT_EQ(mean[1], mu[1]);
    EXPECT_EQ(var[0], 0.0);
    EXPECT_LE(report.constraintResidual, 1e-12);
}

TEST(LinearConstraint, RepeatedProjectionWithTheKeptFactorIsIdentical)
{
    std::mt19937_64 rng(7);
    LinearConstraint constraint(randomSparse(300, 1000, 10, rng));
    const auto b = randomVector(300, rng);
    std::vector<double> u = randomVector(1000, rng), v = u;
    const ConstraintReport first = constraint.project(u, b);
    const ConstraintReport second = constraint.project(v, b);
    EXPECT_EQ(u, v);
    EXPECT_LE(first.constraintResidual, 1e-12);
    EXPECT_LE(second.constraintResidual, 1e-12);
}

TEST(LinearConstraint, BadInputIsRejected)
{
    CSRMatrix G = divergence(3, 3);
    CSRMatrix badColumn = G;
    badColumn.column[5] = G.cols;
    expectInvalidArgument([&] { LinearConstraint c(badColumn); }, "row 1 has column 24");
    CSRMatrix badRowStart = G;
    badRowStart.rowStart.pop_back();
    expectInvalidArgument([&] { LinearConstraint c(badRowStart); }, "rowStart has 9 entries");
    CSRMatrix badValue = G;
    badValue.value[2] = NAN;
    expectInvalidArgument([&] { LinearConstraint c(badValue); }, "is not finite");
    LinearConstraintOptions negative;
    negative.constraintVariance = -1;
    expectInvalidArgument([&] { LinearConstraint c(G, negative); }, "constraintVariance");

    LinearConstraint constraint(G);
    std::vector<double> u(G.cols, 0.0), b(G.rows, 0.0), var(G.cols, 1.0);
    std::vector<double> shortU(G.cols - 1, 0.0);
    expectInvalidArgument([&] { constraint.project(shortU, b); }, "u has 23 entries (expected 24)");
    std::vector<double> shortB(G.rows + 1, 0.0);
    expectInvalidArgument([&] { constraint.update(u, var, shortB); }, "b has 10 (expected 9)");
    var[7] = -0.5;
    expectInvalidArgument([&] { constraint.update(u, var, b); }, "variance[7] = -0.5 is negative");
    var[7] = 1;
    u[3] = INFINITY;
    expectInvalidArgument([&] { constraint.project(u, b); }, "mean[3] = inf is not finite");
    u[3] = 0;
    b[2] = NAN;
    expectInvalidArgument([&] { constraint.project(u, b); }, "b[2]");
}

// The case written by tests/common/test_constraints.py (ctest fixture): the
// Python layer's results for the same G, mu, variance, b and sigma2.
TEST(LinearConstraint, AgreesWithPythonLayer)
{
    std::ifstream in(std::string(MLCFD_TEST_SCRATCH_DIR) + "/constraint_case.txt");
    ASSERT_TRUE(in) << "run core.python.constraints first";
    std::size_t m, n;
    double sigma2;
    in >> m >> n >> sigma2;
    auto read = [&in](std::size_t count)
    {
        std::vector<double> x(count);
        for (double& v : x) in >> v;
        return x;
    };
    const auto A = read(m * n), mu = read(n), variance = read(n), b = read(m);
    const auto pyMean = read(n), pyVariance = read(n), pyProjection = read(n);
    ASSERT_TRUE(in) << "constraint_case.txt is truncated";
    LinearConstraintOptions options;
    options.constraintVariance = sigma2;
    LinearConstraint soft(CSRMatrix::fromDense(A.data(), m, n), options);
    std::vector<double> mean = mu, var = variance;
    soft.update(mean, var, b);
    EXPECT_LE(maxAbsDiff(mean, pyMean), 1e-12);
    EXPECT_LE(maxAbsDiff(var, pyVariance), 1e-12);
    LinearConstraint hard(CSRMatrix::fromDense(A.data(), m, n));
    std::vector<double> u = mu;
    hard.project(u, b);
    EXPECT_LE(maxAbsDiff(u, pyProjection), 1e-12);
}

TEST(DirichletLift, ConstrainedValuesAreExactAndFreeValuesKept)
{
    std::mt19937_64 rng(8);
    const std::vector<std::size_t> dofs = {0, 7, 3, 19};
    const std::vector<double> values = {1.0 / 3, -2.5, 1e-300, 7e12};
    DirichletLift lift(20, dofs, values);
    std::vector<double> u = randomVector(20, rng);
    const auto network = u;
    lift.apply(u);
    EXPECT_EQ(lift.maxViolation(u.data()), 0.0);
    for (std::size_t i = 0; i < dofs.size(); ++i) EXPECT_EQ(u[dofs[i]], values[i]);
    for (std::size_t k : {1, 2, 4, 5, 6, 8, 18}) EXPECT_EQ(u[k], network[k]);

    // Adjoint: no gradient reaches the network on constrained entries.
    std::vector<double> gradient(20, 1.0);
    lift.backward(gradient.data());
    for (std::size_t k = 0; k < 20; ++k)
    {
        const bool constrained = k == 0 || k == 7 || k == 3 || k == 19;
        EXPECT_EQ(gradient[k], constrained ? 0.0 : 1.0) << k;
    }

    lift.setValues({0, 0, 0, 0});
    lift.apply(u);
    EXPECT_EQ(u[7], 0.0);
}

TEST(DirichletLift, BadInputIsRejected)
{
    expectInvalidArgument(
        [] {
            DirichletLift(5, {1, 5}, {0, 0});
        },
        "constrained[1] = 5 is not below size = 5");
    expectInvalidArgument([] { DirichletLift(5, {1, 1}, {0, 0}); }, "DoF 1 is constrained twice");
    expectInvalidArgument([] { DirichletLift(5, {1, 2}, {0}); }, "2 constrained DoFs but 1 values");
    expectInvalidArgument([] { DirichletLift(5, {2}, {NAN}); }, "the value of DoF 2");
    DirichletLift lift(5, {2}, {1});
    std::vector<double> u(4);
    expectInvalidArgument([&] { lift.apply(u); }, "u has 4 entries, expected 5");
}
