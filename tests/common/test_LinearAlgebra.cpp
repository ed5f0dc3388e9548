// Tests of the core's linear algebra: CSRMatrix, poissonMatrix,
// ConjugateGradient and DICPreconditioner.
#include "mlcfd/CSRMatrix.h"
#include "mlcfd/ConjugateGradient.h"
#include "mlcfd/DICPreconditioner.h"
#include "mlcfd/GridMatrices.h"

#include <gtest/gtest.h>

#include "LinearAlgebraTestUtils.h"

#include <cmath>
#include <iostream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using mlcfd::CSRMatrix;
using mlcfd::PoissonBoundary;
using Vector = std::vector<double>;
using mlcfd_test::randomVector;
using mlcfd_test::relativeResidual;

namespace
{

mlcfd::ConjugateGradient::Operator multiplyBy(const CSRMatrix& A)
{
    return [&A](const Vector& x, Vector& y) { A.multiply(x.data(), y.data()); };
}

} // namespace

TEST(PoissonMatrix, DirichletAndNeumannEntries)
{
    const CSRMatrix D = mlcfd::poissonMatrix({4, 3}, PoissonBoundary::dirichlet);
    const CSRMatrix N = mlcfd::poissonMatrix({4, 3}, PoissonBoundary::neumann);
    ASSERT_EQ(D.rows, 12u);
    D.check();
    // Corner cell: two neighbours, two Dirichlet faces of 2 each.
    EXPECT_EQ(D.diagonal(0), 6.0);
    EXPECT_EQ(N.diagonal(0), 2.0);
    // Interior cell (1, 1): four neighbours.
    EXPECT_EQ(D.diagonal(5), 4.0);
    // Neumann rows sum to zero; Dirichlet rows to 2 per boundary face.
    for (std::size_t i = 0; i < N.rows; ++i)
    {
        double sum = 0;
        for (auto k = N.rowStart[i]; k < N.rowStart[i + 1]; ++k) sum += N.value[k];
        EXPECT_EQ(sum, 0.0) << "row " << i;
    }
    // Symmetric, columns ascending.
    for (std::size_t i = 0; i < D.rows; ++i)
    {
        for (auto k = D.rowStart[i]; k < D.rowStart[i + 1]; ++k)
        {
            if (k > D.rowStart[i]) EXPECT_LT(D.column[k - 1], D.column[k]);
            const auto j = static_cast<std::size_t>(D.column[k]);
            bool found = false;
            for (auto l = D.rowStart[j]; l < D.rowStart[j + 1]; ++l)
            {
                if (D.column[l] == static_cast<std::int64_t>(i))
                {
                    EXPECT_EQ(D.value[l], D.value[k]);
                    found = true;
                }
            }
            EXPECT_TRUE(found) << "(" << i << ", " << j << ") has no transpose";
        }
    }
}

TEST(PoissonMatrix, HarmonicFaceCoefficients)
{
    // Two cells with k = 1 and 3: face 2*1*3/4 = 1.5.
    const CSRMatrix A = mlcfd::poissonMatrix({2}, PoissonBoundary::dirichlet, {1.0, 3.0});
    ASSERT_EQ(A.nonzeros(), 4u);
    EXPECT_DOUBLE_EQ(A.value[1], -1.5);
    EXPECT_DOUBLE_EQ(A.diagonal(0), 1.5 + 2 * 1.0);
    EXPECT_DOUBLE_EQ(A.diagonal(1), 1.5 + 2 * 3.0);
    const CSRMatrix B = mlcfd::poissonMatrix({2, 2, 2}, PoissonBoundary::neumann);
    EXPECT_EQ(B.diagonal(0), 3.0);
}

TEST(PoissonMatrix, BadInputIsRejected)
{
    EXPECT_THROW(mlcfd::poissonMatrix({}, PoissonBoundary::dirichlet), std::invalid_argument);
    EXPECT_THROW(mlcfd::poissonMatrix({2, 0}, PoissonBoundary::dirichlet), std::invalid_argument);
    EXPECT_THROW(mlcfd::poissonMatrix({2}, PoissonBoundary::dirichlet, {1.0}), std::invalid_argument);
    EXPECT_THROW(mlcfd::poissonMatrix({2}, PoissonBoundary::dirichlet, {1.0, -1.0}), std::invalid_argument);
}

TEST(CSRMatrix, RectangularProductsAndChecks)
{
    const double dense[6] = {1, 0, 2, 0, 3, 0};
    CSRMatrix A = CSRMatrix::fromDense(dense, 2, 3);
    EXPECT_EQ(A.numCols(), 3u);
    EXPECT_EQ(A.nonzeros(), 3u);
    const double x[3] = {1, 2, 3};
    double y[2];
    A.multiply(x, y);
    EXPECT_EQ(y[0], 7.0);
    EXPECT_EQ(y[1], 6.0);
    const double v[2] = {1, 1};
    double w[3];
    A.multiplyTransposed(v, w);
    EXPECT_EQ(w[0], 1.0);
    EXPECT_EQ(w[1], 3.0);
    EXPECT_EQ(w[2], 2.0);
    A.column[1] = 3;
    try
    {
        A.check("G");
        FAIL() << "column 3 of a 3-column matrix accepted";
    }
    catch (const std::invalid_argument& e)
    {
        EXPECT_NE(std::string(e.what()).find("G: row 0 has column 3"), std::string::npos) << e.what();
    }
}

TEST(ConjugateGradient, ConvergesAndReportsHistory)
{
    const CSRMatrix A = mlcfd::poissonMatrix({32, 32}, PoissonBoundary::dirichlet);
    const Vector b = randomVector(A.rows, 1);
    Vector x(A.rows, 0.0);
    mlcfd::CGSettings settings;
    settings.relativeTolerance = 1e-8;
    const auto result = mlcfd::conjugateGradient(multiplyBy(A), {}, b, x, settings);
    EXPECT_TRUE(result.converged);
    EXPECT_FALSE(result.breakdown);
    ASSERT_EQ(result.history.size(), result.iterations + 1);
    EXPECT_DOUBLE_EQ(result.history.front(), 1.0);
    EXPECT_LE(result.history.back(), 1e-8);
    // The recursive residual has not drifted from the true one.
    EXPECT_LE(relativeResidual(A, b, x), 1.1e-8);
    // CG on n unknowns with distinct eigenvalues: at most n steps in exact
    // arithmetic; far fewer here, far more than one.
    EXPECT_GT(result.iterations, 10u);
    EXPECT_LT(result.iterations, A.rows);
}

TEST(ConjugateGradient, SolvesSingularConsistentSystems)
{
    const CSRMatrix A = mlcfd::poissonMatrix({16, 16}, PoissonBoundary::neumann);
    Vector b = randomVector(A.rows, 2);
    double mean = 0;
    for (double v : b) mean += v / b.size();
    for (double& v : b) v -= mean;
    Vector x(A.rows, 0.0);
    const auto result = mlcfd::conjugateGradient(multiplyBy(A), {}, b, x);
    EXPECT_TRUE(result.converged);
    EXPECT_LE(relativeResidual(A, b, x), 1.1e-6);
}

TEST(ConjugateGradient, IndefiniteOperatorBreaksDown)
{
    const CSRMatrix A = mlcfd::poissonMatrix({8, 8}, PoissonBoundary::dirichlet);
    const Vector b = randomVector(A.rows, 3);
    Vector x(A.rows, 0.0);
    const auto negative = [&A](const Vector& v, Vector& y)
    {
        A.multiply(v.data(), y.data());
        for (double& value : y) value = -value;
    };
    const auto result = mlcfd::conjugateGradient(negative, {}, b, x);
    EXPECT_TRUE(result.breakdown);
    EXPECT_FALSE(result.converged);
    Vector shortX(3, 0.0);
    EXPECT_THROW(mlcfd::conjugateGradient(multiplyBy(A), {}, b, shortX), std::invalid_argument);
}

TEST(DICPreconditioner, ExactOnATridiagonalMatrix)
{
    // A strip of cells: no fill-in to drop, DIC is the exact Cholesky factor.
    const CSRMatrix A = mlcfd::poissonMatrix({50}, PoissonBoundary::dirichlet);
    const mlcfd::DICPreconditioner dic(A);
    const Vector b = randomVector(A.rows, 4);
    Vector x(A.rows, 0.0);
    const auto result = mlcfd::conjugateGradient(
        multiplyBy(A), [&dic](const Vector& r, Vector& z) { dic.apply(r, z); }, b, x);
    EXPECT_TRUE(result.converged);
    EXPECT_EQ(result.iterations, 1u);
}

TEST(DICPreconditioner, FewerIterationsThanCGOnJumpingCoefficients)
{
    std::vector<double> k(48 * 48);
    for (std::size_t c = 0; c < k.size(); ++c) k[c] = (c % 48) < 24 ? 1.0 : 1000.0;
    const CSRMatrix A = mlcfd::poissonMatrix({48, 48}, PoissonBoundary::dirichlet, k);
    const mlcfd::DICPreconditioner dic(A);
    const Vector b = randomVector(A.rows, 5);
    Vector x(A.rows, 0.0), y(A.rows, 0.0);
    mlcfd::CGSettings settings;
    settings.maxIterations = 10000;
    const auto cg = mlcfd::conjugateGradient(multiplyBy(A), {}, b, x, settings);
    const auto pcg = mlcfd::conjugateGradient(
        multiplyBy(A), [&dic](const Vector& r, Vector& z) { dic.apply(r, z); }, b, y, settings);
    ASSERT_TRUE(cg.converged && pcg.converged);
    // IC(0) on a 5-point Laplacian needs roughly a third of CG's iterations.
    EXPECT_LT(2 * pcg.iterations, cg.iterations);
    EXPECT_LE(relativeResidual(A, b, y), 1.1e-6);
}

namespace
{

// PCG iterations with M = dic to 1e-6 from x = 0.
std::size_t pcgIterations(const CSRMatrix& A, const mlcfd::DICPreconditioner& dic, const Vector& b)
{
    Vector x(A.rows, 0.0);
    mlcfd::CGSettings settings;
    settings.maxIterations = 10000;
    const auto result = mlcfd::conjugateGradient(
        multiplyBy(A), [&dic](const Vector& r, Vector& z) { dic.apply(r, z); }, b, x, settings);
    EXPECT_TRUE(result.converged);
    EXPECT_LE(relativeResidual(A, b, x), 1.1e-6);
    return result.iterations;
}

std::vector<double> jumpingCoefficient(std::size_t nx, std::size_t ny)
{
    std::vector<double> k(nx * ny);
    for (std::size_t c = 0; c < k.size(); ++c) k[c] = (c % nx) < nx / 2 && (c / nx) < ny / 2 ? 1000.0 : 1.0;
    return k;
}

} // namespace

TEST(DICPreconditioner, MICMatchesTheTextbookRecurrence)
{
    // Gustafsson's MIC for the five-point stencil on an nx x ny grid, rows
    // x fastest: with b and c the west and south couplings of cell (i, j),
    // d(i,j) = a(i,j) - b (b + omega c') / d(i-1,j) - c (c + omega b') / d(i,j-1)
    // where c' couples (i-1,j) to (i-1,j+1) and b' couples (i,j-1) to (i+1,j-1).
    const std::size_t nx = 9, ny = 7;
    const CSRMatrix A =
        mlcfd::poissonMatrix({nx, ny}, PoissonBoundary::dirichlet, jumpingCoefficient(nx, ny));
    const auto entry = [&A](std::size_t row, std::size_t column)
    {
        for (auto k = A.rowStart[row]; k < A.rowStart[row + 1]; ++k)
            if (A.column[k] == static_cast<std::int64_t>(column)) return A.value[k];
        return 0.0;
    };
    for (const double omega : {0.0, 0.5, 0.97, 1.0})
    {
        std::vector<double> d(nx * ny);
        for (std::size_t j = 0; j < ny; ++j)
            for (std::size_t i = 0; i < nx; ++i)
            {
                const std::size_t c = i + nx * j;
                d[c] = A.diagonal(c);
                if (i > 0)
                {
                    const double b = entry(c, c - 1);
                    const double cNorth = j + 1 < ny ? entry(c - 1, c - 1 + nx) : 0.0;
                    d[c] -= b * (b + omega * cNorth) / d[c - 1];
                }
                if (j > 0)
                {
                    const double cs = entry(c, c - nx);
                    const double bEast = i + 1 < nx ? entry(c - nx, c - nx + 1) : 0.0;
                    d[c] -= cs * (cs + omega * bEast) / d[c - nx];
                }
            }
        const mlcfd::DICPreconditioner mic(A, omega);
        EXPECT_EQ(mic.replacedPivots(), 0u);
        for (std::size_t c = 0; c < d.size(); ++c)
        {
            ASSERT_NEAR(1 / mic.reciprocalDiagonal()[c], d[c], 1e-12 * d[c])
                << "omega " << omega << " row " << c;
        }
    }
}

TEST(DICPreconditioner, MICNeedsFewerIterationsThanDIC)
{
    const Vector b = randomVector(64 * 64, 6);
    for (const auto& k : {std::vector<double>(), jumpingCoefficient(64, 64)})
    {
        const CSRMatrix A = mlcfd::poissonMatrix({64, 64}, PoissonBoundary::dirichlet, k);
        const std::size_t dic = pcgIterations(A, mlcfd::DICPreconditioner(A), b);
        const std::size_t mic = pcgIterations(A, mlcfd::DICPreconditioner(A, 0.97), b);
        std::cout << (k.empty() ? "constant" : "jumping") << " coefficient: DIC " << dic << ", MIC(0.97) "
                  << mic << " iterations\n";
        EXPECT_LT(10 * mic, 8 * dic);
    }
}

TEST(DICPreconditioner, GivenDiagonalOfDICIsDIC)
{
    const CSRMatrix A = mlcfd::poissonMatrix({40, 30}, PoissonBoundary::neumann, jumpingCoefficient(40, 30));
    Vector b = randomVector(A.rows, 7);
    double mean = 0;
    for (double v : b) mean += v / b.size();
    for (double& v : b) v -= mean;
    const mlcfd::DICPreconditioner dic(A);
    Vector D(A.rows);
    for (std::size_t c = 0; c < A.rows; ++c) D[c] = 1 / dic.reciprocalDiagonal()[c];
    const auto given = mlcfd::DICPreconditioner::fromDiagonal(A, D);
    EXPECT_EQ(given.replacedPivots(), 0u);
    EXPECT_EQ(pcgIterations(A, given, b), pcgIterations(A, dic, b));
}

TEST(DICPreconditioner, BadGivenDiagonalsFallBackToDIC)
{
    const CSRMatrix A =
        mlcfd::poissonMatrix({40, 30}, PoissonBoundary::dirichlet, jumpingCoefficient(40, 30));
    const Vector b = randomVector(A.rows, 8);
    const std::size_t dic = pcgIterations(A, mlcfd::DICPreconditioner(A), b);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (const double bad : {-1.0, 0.0, nan, 1e300, std::numeric_limits<double>::infinity()})
    {
        const auto given = mlcfd::DICPreconditioner::fromDiagonal(A, Vector(A.rows, bad));
        EXPECT_EQ(given.replacedPivots(), A.rows) << bad;
        EXPECT_EQ(pcgIterations(A, given, b), dic) << bad;
    }
    EXPECT_THROW(mlcfd::DICPreconditioner::fromDiagonal(A, Vector(3, 1.0)), std::invalid_argument);
    EXPECT_THROW(mlcfd::DICPreconditioner(A, 1.5), std::invalid_argument);
}

TEST(DICPreconditioner, RejectsWhatItCannotFactorise)
{
    CSRMatrix A = mlcfd::poissonMatrix({4, 4}, PoissonBoundary::dirichlet);
    CSRMatrix negative = A;
    for (auto k = negative.rowStart[5]; k < negative.rowStart[6]; ++k)
    {
        if (negative.column[k] == 5) negative.value[k] = -1;
    }
    EXPECT_THROW(mlcfd::DICPreconditioner{negative}, std::invalid_argument);
    std::swap(A.column[1], A.column[2]);
    std::swap(A.value[1], A.value[2]);
    EXPECT_THROW(mlcfd::DICPreconditioner{A}, std::invalid_argument);
}
