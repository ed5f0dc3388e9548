// Tests of mlcfd::LearnedPreconditioner (the scaling contract, both model
// kinds, cell ordering, edges, fallbacks, errors), the CSR system files, and
// FlexibleCG with learned preconditioners (never worse than CG).
#include "mlcfd/FlexibleCG.h"
#include "mlcfd/LearnedPreconditioner.h"
#include "mlcfd/GridMatrices.h"
#include "mlcfd/ModelWriter.h"

#include "TestModels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <stdexcept>

using mlcfd::CSRMatrix;
using mlcfd::LearnedPreconditioner;
using mlcfd::LearnedPreconditionerOptions;
using Vector = std::vector<double>;

namespace
{

// Finite-volume Poisson on nx x ny x nz cells (x fastest), Dirichlet faces,
// with a cell coefficient varying over the domain so that the diagonal is not
// constant (unless @p variable is false).
CSRMatrix poisson(int nx, int ny, int nz = 1, bool variable = true)
{
    std::vector<double> k;
    for (int kz = 0; variable && kz < nz; ++kz)
        for (int j = 0; j < ny; ++j)
            for (int i = 0; i < nx; ++i) k.push_back(1.0 + 0.5 * ((i + 2 * j + 3 * kz) % 3));
    std::vector<std::int64_t> cells{nx, ny};
    if (nz > 1) cells.push_back(nz);
    return mlcfd::poissonMatrix(cells, mlcfd::PoissonBoundary::dirichlet, k);
}

Vector diagonalOf(const CSRMatrix& A)
{
    Vector d(A.rows);
    for (std::size_t i = 0; i < A.rows; ++i)
        for (auto k = A.rowStart[i]; k < A.rowStart[i + 1]; ++k)
            if (A.column[k] == static_cast<std::int64_t>(i)) d[i] = A.value[k];
    return d;
}

Vector randomVector(std::size_t n, unsigned seed = 7)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    Vector v(n);
    for (double& x : v) x = u(rng);
    return v;
}

// A model of the given kind from TorchScript source.
std::string writePreconditioner(const std::string& name, const std::string& kind, const std::string& body,
    const std::vector<std::string>& inputs = {"residual"}, int dimension = 0)
{
    mlcfd::ModelMetadata m;
    m.kind = kind;
    m.inputs = inputs;
    m.outputs = {"z"};
    if (dimension) m.constants["dimension"] = dimension;
    const std::string signature =
        kind == LearnedPreconditioner::graphKind
            ? "def forward(self, x: Tensor, edgeIndex: Tensor, edgeWeight: Tensor) -> Tensor:\n"
            : "def forward(self, x: Tensor) -> Tensor:\n";
    const std::string path = mlcfd_test::scratchFile(name);
    mlcfd::writeModel(path, signature + body, m);
    return path;
}

double rmsOfScaled(const Vector& r, const Vector& d)
{
    double sum = 0;
    for (std::size_t i = 0; i < r.size(); ++i) sum += r[i] * r[i] / d[i];
    return std::sqrt(sum / r.size());
}

} // namespace

TEST(LearnedPreconditioner, JacobiReferenceModelsAreJacobi)
{
    const CSRMatrix A2 = poisson(12, 9), A3 = poisson(6, 5, 4);
    const std::string graph = mlcfd_test::scratchFile("graphJacobi.pt");
    const std::string grid2 = mlcfd_test::scratchFile("gridJacobi2.pt");
    const std::string grid3 = mlcfd_test::scratchFile("gridJacobi3.pt");
    mlcfd::referenceModels::writeGraphJacobi(graph);
    mlcfd::referenceModels::writeGridJacobi(grid2, 2);
    mlcfd::referenceModels::writeGridJacobi(grid3, 3);

    LearnedPreconditionerOptions options2, options3;
    options2.grid = {12, 9};
    options3.grid = {6, 5, 4};
    const std::vector<std::pair<LearnedPreconditioner, const CSRMatrix*>> cases = [&]()
    {
        std::vector<std::pair<LearnedPreconditioner, const CSRMatrix*>> c;
        c.emplace_back(LearnedPreconditioner(graph, A3), &A3);
        c.emplace_back(LearnedPreconditioner(grid2, A2, options2), &A2);
        c.emplace_back(LearnedPreconditioner(grid3, A3, options3), &A3);
        return c;
    }();
    for (const auto& c : cases)
    {
        const Vector d = diagonalOf(*c.second), r = randomVector(d.size());
        Vector z;
        EXPECT_TRUE(c.first.apply(r, z));
        for (std::size_t i = 0; i < d.size(); ++i) EXPECT_NEAR(z[i], r[i] / d[i], 1e-14) << c.first.path();
        EXPECT_EQ(c.first.applications(), 1u);
        EXPECT_GE(c.first.inferenceSeconds(), 0.0);
    }
}

TEST(LearnedPreconditioner, ScaleAndUnitInvariantWithANonlinearNetwork)
{
    // tanh makes the network nonlinear: only the contract's scaling can make
    // z scale with r and with 1/A.
    const std::string path = writePreconditioner(
        "tanh.pt", LearnedPreconditioner::graphKind, "    return torch.tanh(x[:, 0]) + 0.1*x[:, 0]\n");
    CSRMatrix A = poisson(8, 7, 3);
    const Vector r = randomVector(A.rows);
    Vector r7 = r, z, z7, z5;
    for (double& v : r7) v *= 7;
    const LearnedPreconditioner M(path, A);
    M.apply(r, z);
    M.apply(r7, z7);
    for (double& v : A.value) v *= 5;
    LearnedPreconditioner(path, A).apply(r, z5);
    for (std::size_t i = 0; i < A.rows; ++i)
    {
        EXPECT_NEAR(z7[i], 7 * z[i], 1e-12 * std::abs(z7[i]) + 1e-15);
        EXPECT_NEAR(z5[i], z[i] / 5, 1e-13 * std::abs(z[i]) + 1e-15);
    }
}

TEST(LearnedPreconditioner, GridOrderIsXFastest)
{
    // Flipping the last tensor axis must mirror x: z(i, j, k) uses r(nx-1-i, j, k).
    const int nx = 5, ny = 4, nz = 3;
    const CSRMatrix A = poisson(nx, ny, nz);
    const std::string path = writePreconditioner("flipx.pt", LearnedPreconditioner::gridKind,
        "    return torch.flip(x[:, 0:1], [4])\n", {"residual"}, 3);
    LearnedPreconditionerOptions options;
    options.grid = {nx, ny, nz};
    const Vector d = diagonalOf(A), r = randomVector(A.rows);
    Vector z;
    LearnedPreconditioner(path, A, options).apply(r, z);
    const double rho = rmsOfScaled(r, d);
    for (int k = 0; k < nz; ++k)
        for (int j = 0; j < ny; ++j)
            for (int i = 0; i < nx; ++i)
            {
                const int row = i + nx * (j + ny * k), mirror = (nx - 1 - i) + nx * (j + ny * k);
                const double expected = rho / std::sqrt(d[row]) * (r[mirror] / std::sqrt(d[mirror])) / rho;
                EXPECT_NEAR(z[row], expected, 1e-13);
            }
}

TEST(LearnedPreconditioner, ChannelsAndEdgesFollowTheContract)
{
    const CSRMatrix A = poisson(6, 6, 2);
    const Vector d = diagonalOf(A), r = randomVector(A.rows);
    double mean = 0;
    for (double v : d) mean += v;
    mean /= d.size();
    const double rho = rmsOfScaled(r, d);

    // z = rho s (diagRatio): the second channel.
    Vector z;
    LearnedPreconditioner(writePreconditioner("diagRatio.pt", LearnedPreconditioner::graphKind,
                              "    return x[:, 1]\n", {"residual", "diagRatio"}),
        A)
        .apply(r, z);
    for (std::size_t i = 0; i < A.rows; ++i) EXPECT_NEAR(z[i], rho / std::sqrt(d[i]) * d[i] / mean, 1e-13);

    // z = rho s (sum_j w_ij x_j) with w_ij = A_ij s_i s_j: the edges are the
    // off-diagonal entries, oriented (row, column).
    LearnedPreconditioner(writePreconditioner("offDiagonal.pt", LearnedPreconditioner::graphKind,
                              "    y = torch.zeros_like(x[:, 0])\n"
                              "    return y.index_add(0, edgeIndex[0], edgeWeight*x[:, 0][edgeIndex[1]])\n"),
        A)
        .apply(r, z);
    for (std::size_t i = 0; i < A.rows; ++i)
    {
        double expected = 0;
        for (auto k = A.rowStart[i]; k < A.rowStart[i + 1]; ++k)
        {
            const auto j = A.column[k];
            if (j == static_cast<std::int64_t>(i)) continue;
            expected += A.value[k] / std::sqrt(d[i] * d[j]) * r[j] / std::sqrt(d[j]) / rho;
        }
        EXPECT_NEAR(z[i], rho / std::sqrt(d[i]) * expected, 1e-13);
    }
}

TEST(LearnedPreconditioner, SetMatrixEqualsANewPreconditioner)
{
    // New values (as a pressure matrix every time step): the scaling, the
    // diagRatio channel and the edge weights follow them, no reload.
    CSRMatrix A = poisson(6, 5, 3);
    CSRMatrix B = A;
    for (std::size_t k = 0; k < B.value.size(); ++k) B.value[k] *= 1 + 0.1 * std::sin(double(k));
    const Vector r = randomVector(A.rows);
    const std::string graph = writePreconditioner("setMatrixGraph.pt", LearnedPreconditioner::graphKind,
        "    y = torch.zeros_like(x[:, 0])\n"
        "    return x[:, 1] + y.index_add(0, edgeIndex[0], edgeWeight*x[:, 0][edgeIndex[1]])\n",
        {"residual", "diagRatio"});
    const std::string grid = writePreconditioner("setMatrixGrid.pt", LearnedPreconditioner::gridKind,
        "    return x[:, 0:1]*x[:, 1:2]\n", {"residual", "diagRatio"}, 3);
    LearnedPreconditionerOptions options;
    options.grid = {6, 5, 3};
    for (const std::string& path : {graph, grid})
    {
        LearnedPreconditioner M(path, A, options);
        M.setMatrix(B);
        Vector z, expected;
        M.apply(r, z);
        LearnedPreconditioner(path, B, options).apply(r, expected);
        for (std::size_t i = 0; i < A.rows; ++i) EXPECT_NEAR(z[i], expected[i], 1e-13) << path;
    }
    LearnedPreconditioner M(graph, A);
    EXPECT_THROW(M.setMatrix(poisson(4, 4)), std::invalid_argument);
}

TEST(LearnedPreconditioner, NonFiniteOutputFallsBackToJacobi)
{
    const CSRMatrix A = poisson(7, 7);
    const Vector d = diagonalOf(A), r = randomVector(A.rows);
    const LearnedPreconditioner M(
        writePreconditioner("nan.pt", LearnedPreconditioner::graphKind, "    return x[:, 0]*float('nan')\n"),
        A);
    Vector z;
    EXPECT_FALSE(M.apply(r, z));
    EXPECT_EQ(M.fallbacks(), 1u);
    for (std::size_t i = 0; i < A.rows; ++i) EXPECT_DOUBLE_EQ(z[i], r[i] / d[i]);
}

TEST(LearnedPreconditioner, BadModelsAndMatricesAreNamed)
{
    const CSRMatrix A = poisson(4, 4);
    LearnedPreconditionerOptions options;
    options.grid = {4, 4};
    const std::string jacobi = mlcfd_test::scratchFile("closureKind.pt");
    mlcfd::referenceModels::writeJacobi(jacobi);
    EXPECT_MODEL_ERROR(LearnedPreconditioner(jacobi, A), jacobi, "'kind' is 'preconditioner'");

    const std::string wrongShape = writePreconditioner(
        "wrongShape.pt", LearnedPreconditioner::gridKind, "    return x[:, 0:1, 1:]\n", {"residual"}, 2);
    EXPECT_MODEL_ERROR(LearnedPreconditioner(wrongShape, A, options), wrongShape, "returned shape");

    const std::string noDimension =
        writePreconditioner("noDimension.pt", LearnedPreconditioner::gridKind, "    return x\n");
    EXPECT_MODEL_ERROR(LearnedPreconditioner(noDimension, A, options), noDimension, "\"dimension\"");

    const std::string unknownChannel = writePreconditioner(
        "channel.pt", LearnedPreconditioner::graphKind, "    return x[:, 0]\n", {"residual", "coordinates"});
    EXPECT_MODEL_ERROR(LearnedPreconditioner(unknownChannel, A), unknownChannel, "\"coordinates\"");

    const std::string grid2 = mlcfd_test::scratchFile("gridJacobiErrors.pt");
    mlcfd::referenceModels::writeGridJacobi(grid2, 2);
    options.grid = {4, 5};
    EXPECT_THROW(LearnedPreconditioner(grid2, A, options), std::invalid_argument);
    EXPECT_THROW(LearnedPreconditioner(grid2, A), std::invalid_argument);
    options.grid = {4, 4, 1}; // a 2D OpenFOAM mesh: one cell thick
    EXPECT_NO_THROW(LearnedPreconditioner(grid2, A, options));

    CSRMatrix negative = A;
    for (double& v : negative.value) v = -v;
    try
    {
        LearnedPreconditioner(grid2, negative, options);
        ADD_FAILURE() << "negative diagonal accepted";
    }
    catch (const std::invalid_argument& e)
    {
        EXPECT_NE(std::string(e.what()).find("row 0"), std::string::npos) << e.what();
    }
}

TEST(CSRSystem, RoundTripAndNamedErrors)
{
    const CSRMatrix A = poisson(5, 3, 2);
    const Vector b = randomVector(A.rows);
    const std::string path = mlcfd_test::scratchFile("system.csr");
    mlcfd::writeCSRSystem(path, A, b);
    CSRMatrix B;
    Vector c;
    mlcfd::readCSRSystem(path, B, c);
    EXPECT_EQ(B.rowStart, A.rowStart);
    EXPECT_EQ(B.column, A.column);
    EXPECT_EQ(B.value, A.value);
    EXPECT_EQ(c, b);

    // Cut the file inside the 'value' line.
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string cut = mlcfd_test::scratchFile("cut.csr");
    std::ofstream(cut) << text.substr(0, text.find("value") + 20);
    try
    {
        mlcfd::readCSRSystem(cut, B, c);
        ADD_FAILURE() << "truncated file accepted";
    }
    catch (const std::runtime_error& e)
    {
        const std::string message = e.what();
        EXPECT_NE(message.find(cut), std::string::npos) << message;
        EXPECT_NE(message.find("'value'"), std::string::npos) << message;
    }
    EXPECT_THROW(mlcfd::readCSRSystem(mlcfd_test::scratchFile("none.csr"), B, c), std::runtime_error);
}

TEST(FlexibleCGWithLearnedPreconditioner, NeverWorseThanCGAndJacobiAsJacobi)
{
    const CSRMatrix A = poisson(20, 20, 5);
    const Vector d = diagonalOf(A), b = randomVector(A.rows, 11);
    const auto op = [&A](const Vector& x, Vector& y) { A.multiply(x.data(), y.data()); };

    mlcfd::FlexibleCGSettings cgSettings;
    cgSettings.keptDirections = 1;
    cgSettings.safeguard = false;
    const auto identity = [](const Vector& r, Vector& z) { z = r; };
    Vector x(A.rows, 0.0);
    const std::size_t cg = mlcfd::FlexibleCG(cgSettings).solve(op, identity, b, x).iterations;

    const auto jacobi = [&d](const Vector& r, Vector& z)
    {
        z.resize(r.size());
        for (std::size_t i = 0; i < r.size(); ++i) z[i] = r[i] / d[i];
    };
    std::fill(x.begin(), x.end(), 0.0);
    const std::size_t pcg = mlcfd::FlexibleCG(cgSettings).solve(op, jacobi, b, x).iterations;
    const std::string graph = mlcfd_test::scratchFile("graphJacobiFCG.pt");
    mlcfd::referenceModels::writeGraphJacobi(graph);
    const LearnedPreconditioner learnedJacobi(graph, A);
    std::fill(x.begin(), x.end(), 0.0);
    const auto learned = mlcfd::FlexibleCG(cgSettings)
                             .solve(
                                 op, [&](const Vector& r, Vector& z) { learnedJacobi.apply(r, z); }, b, x);
    // The network's z = s*(s r/rms)*rms (Jacobi scaling) against r/d: equal to
    // round-off, one iteration apart at most; a broken network needs about
    // CG's count.
    EXPECT_LE(std::abs(int(learned.iterations) - int(pcg)), 1);
    EXPECT_LT(pcg, cg);

    // A mildly nonlinear Jacobi: each of its directions lowers the error
    // about as much as CG's, yet without the safeguard (the step-by-step
    // comparison with the CG direction alone) the method loses CG's global
    // optimality and needs more iterations than CG (constant coefficient,
    // where Jacobi itself gains nothing).
    const std::string mildlyNonlinear = "    return x[:, 0] + 0.05*torch.sin(3.0*x[:, 0])\n";
    {
        const CSRMatrix P = poisson(32, 32, 32, false);
        const Vector bP = randomVector(P.rows, 5);
        const auto opP = [&P](const Vector& v, Vector& y) { P.multiply(v.data(), y.data()); };
        const LearnedPreconditioner M(
            writePreconditioner("mild.pt", LearnedPreconditioner::graphKind, mildlyNonlinear), P);
        const auto apply = [&](const Vector& r, Vector& z) { M.apply(r, z); };
        mlcfd::FlexibleCGSettings unguarded;
        unguarded.safeguard = false;
        Vector xP(P.rows, 0.0);
        const std::size_t cgP = mlcfd::FlexibleCG(cgSettings).solve(opP, identity, bP, xP).iterations;
        std::fill(xP.begin(), xP.end(), 0.0);
        EXPECT_GT(mlcfd::FlexibleCG(unguarded).solve(opP, apply, bP, xP).iterations, cgP);
        std::fill(xP.begin(), xP.end(), 0.0);
        const auto guarded = mlcfd::FlexibleCG().solve(opP, apply, bP, xP);
        EXPECT_LE(guarded.iterations, cgP);
        EXPECT_TRUE(guarded.plainCG);
    }

    // Deliberately bad networks: with the safeguard never more than CG.
    const std::vector<std::string> badBodies{mildlyNonlinear, "    return -x[:, 0]\n",
        "    return torch.sin(1000.0*x[:, 0] + 3.0)\n", "    return x[:, 0]*float('inf')\n"};
    for (std::size_t k = 0; k < badBodies.size(); ++k)
    {
        const LearnedPreconditioner bad(writePreconditioner("bad" + std::to_string(k) + ".pt",
                                            LearnedPreconditioner::graphKind, badBodies[k]),
            A);
        std::fill(x.begin(), x.end(), 0.0);
        const auto result = mlcfd::FlexibleCG().solve(
            op, [&](const Vector& r, Vector& z) { bad.apply(r, z); }, b, x);
        EXPECT_TRUE(result.converged) << badBodies[k];
        EXPECT_LE(result.iterations, cg) << badBodies[k];
    }
}

TEST(FlexibleCG, ConvergedCallbackReplacesTheTolerance)
{
    const CSRMatrix A = poisson(10, 10);
    const Vector b = randomVector(A.rows);
    const auto op = [&A](const Vector& x, Vector& y) { A.multiply(x.data(), y.data()); };
    const auto identity = [](const Vector& r, Vector& z) { z = r; };
    Vector x(A.rows, 0.0);
    std::size_t calls = 0;
    const auto result = mlcfd::FlexibleCG().solve(op, identity, b, x, {},
        [&calls](const Vector&, std::size_t iteration)
        {
            ++calls;
            return iteration >= 3;
        });
    EXPECT_EQ(result.iterations, 3u);
    EXPECT_TRUE(result.converged);
    EXPECT_GE(calls, 4u);
}
