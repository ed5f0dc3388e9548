// Unit tests of the tensor-basis closure: rotating the input rotates the
// stress; Smagorinsky is the one-term special case.
#include "mlcfd/EddyViscosityClosure.h"
#include "mlcfd/ModelWriter.h"
#include "mlcfd/TensorBasisClosure.h"

#include "TensorTestUtils.h"
#include "TestModels.h"

#include <array>
#include <cmath>
#include <random>
#include <vector>

using mlcfd::TensorBasisClosure;
using mlcfd_test::multiply;
using mlcfd_test::rotation;
using mlcfd_test::Tensor;
using mlcfd_test::transpose;

namespace
{

Tensor fromSymm(const double* s)
{
    return {s[0], s[1], s[2], s[1], s[3], s[4], s[2], s[4], s[5]};
}

// All ten coefficients, nonlinear in the invariants.
std::string allTermsModel()
{
    mlcfd::ModelMetadata m;
    m.kind = TensorBasisClosure::kind;
    m.inputs = mlcfd::EddyViscosityClosure::featureNames();
    m.outputs = TensorBasisClosure::outputNames(10);
    const std::string file = mlcfd_test::scratchFile("all_terms.pt");
    mlcfd::writeModel(file,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    k = torch.arange(1, 11, dtype=x.dtype).unsqueeze(0)\n"
        "    return -0.1 + 0.05*torch.sin(k*x[:, 1:2] + x[:, 3:4]) + 0.02*k*x[:, 2:3]\n",
        m);
    return file;
}

} // namespace

TEST(TensorBasisClosure, BasisTensorsAreSymmetricAndTraceless)
{
    std::mt19937_64 rng(5);
    std::normal_distribution<double> normal;
    double S[9], W[9];
    for (int i = 0; i < 3; ++i)
        for (int j = i; j < 3; ++j)
        {
            S[3 * i + j] = S[3 * j + i] = normal(rng);
            W[3 * i + j] = i == j ? 0 : normal(rng);
            W[3 * j + i] = -W[3 * i + j];
        }
    const double third = (S[0] + S[4] + S[8]) / 3;
    S[0] -= third;
    S[4] -= third;
    S[8] -= third; // Pope's basis: tr S = 0
    double T[TensorBasisClosure::maxBasis][9];
    TensorBasisClosure::basis(S, W, T);
    for (std::size_t n = 0; n < TensorBasisClosure::maxBasis; ++n)
    {
        EXPECT_NEAR(T[n][0] + T[n][4] + T[n][8], 0, 1e-12) << "T" << n + 1;
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) EXPECT_NEAR(T[n][3 * i + j], T[n][3 * j + i], 1e-12) << "T" << n + 1;
    }
}

TEST(TensorBasisClosure, RotatingTheInputRotatesTheStress)
{
    TensorBasisClosure closure(allTermsModel());
    std::mt19937_64 rng(6);
    std::normal_distribution<double> normal(0, 30);
    for (int trial = 0; trial < 20; ++trial)
    {
        Tensor A;
        for (double& a : A) a = normal(rng);
        const Tensor Q = rotation(0.7 + trial, 1, 2 - trial, -0.5);
        const Tensor rotatedA = multiply(multiply(Q, A), transpose(Q));
        const double delta = 0.03;
        double tau[6], tauRotated[6];
        closure.computeTotalStress(A.data(), &delta, nullptr, 1, tau);
        closure.computeTotalStress(rotatedA.data(), &delta, nullptr, 1, tauRotated);
        const Tensor expected = multiply(multiply(Q, fromSymm(tau)), transpose(Q));
        const Tensor found = fromSymm(tauRotated);
        double scale = 0;
        for (double t : expected) scale = std::max(scale, std::abs(t));
        ASSERT_GT(scale, 0);
        for (int k = 0; k < 9; ++k)
        {
            EXPECT_NEAR(found[k], expected[k], 1e-12 * scale) << "trial " << trial << " component " << k;
        }
    }
}

TEST(TensorBasisClosure, SplitIsExactWithNonNegativeViscosity)
{
    TensorBasisClosure closure(allTermsModel());
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal;
    const std::size_t n = 200, F = mlcfd::EddyViscosityClosure::featureCount;
    std::vector<double> gradU(9 * n), delta(n, 0.05), nut(n), extra(6 * n), tau(6 * n);
    for (double& a : gradU) a = normal(rng);
    closure.computeStress(gradU.data(), delta.data(), nullptr, n, nut.data(), extra.data());

    // The model's stress assembled independently: delta^2 s^2 sum g_n T_n.
    std::vector<double> features(F * n), s(n), g(10 * n);
    mlcfd::EddyViscosityClosure::computeFeatures(gradU.data(), n, features.data(), s.data());
    closure.model().evaluate(features.data(), n, F, g.data(), 10);
    bool anyPositive = false;
    for (std::size_t c = 0; c < n; ++c)
    {
        const double* A = &gradU[9 * c];
        double S[9], W[9], T[10][9];
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j)
            {
                S[3 * i + j] = 0.5 * (A[3 * i + j] + A[3 * j + i]) / s[c];
                W[3 * i + j] = 0.5 * (A[3 * i + j] - A[3 * j + i]) / s[c];
            }
        TensorBasisClosure::basis(S, W, T);
        Tensor expected{};
        for (int b = 0; b < 10; ++b)
            for (int k = 0; k < 9; ++k)
                expected[k] += delta[c] * delta[c] * s[c] * s[c] * g[10 * c + b] * T[b][k];
        // tau = -2 nu_t S + tauExtra
        const Tensor found = fromSymm(&extra[6 * c]);
        for (int k = 0; k < 9; ++k)
        {
            const double implicit = -2 * nut[c] * S[k] * s[c];
            EXPECT_NEAR(implicit + found[k], expected[k], 1e-12 * (1 + std::abs(expected[k])));
        }
        EXPECT_GE(nut[c], 0.0);
        anyPositive = anyPositive || nut[c] > 0;
    }
    EXPECT_TRUE(anyPositive);
}

TEST(TensorBasisClosure, SmagorinskyIsTheOneTermCase)
{
    const std::string tb = mlcfd_test::scratchFile("tb_smagorinsky.pt");
    const std::string ev = mlcfd_test::scratchFile("ev_smagorinsky.pt");
    mlcfd::referenceModels::writeTensorBasisSmagorinsky(tb, 0.0);
    mlcfd::referenceModels::writeSmagorinsky(ev);
    TensorBasisClosure tensorBasis(tb);
    mlcfd::EddyViscosityClosure eddy(ev);
    std::mt19937_64 rng(8);
    std::normal_distribution<double> normal(0, 10);
    const std::size_t n = 300;
    std::vector<double> gradU(9 * n), delta(n, 0.02), nutA(n), nutB(n), extra(6 * n);
    for (double& a : gradU) a = normal(rng);
    tensorBasis.computeStress(gradU.data(), delta.data(), nullptr, n, nutA.data(), extra.data());
    eddy.computeNut(gradU.data(), delta.data(), nullptr, n, nutB.data());
    for (std::size_t c = 0; c < n; ++c)
    {
        EXPECT_NEAR(nutA[c], nutB[c], 1e-14 * nutB[c]);
        for (int k = 0; k < 6; ++k) EXPECT_EQ(extra[6 * c + k], 0.0);
    }
}

TEST(TensorBasisClosure, RejectsOtherOutputs)
{
    mlcfd::ModelMetadata m;
    m.kind = TensorBasisClosure::kind;
    m.inputs = mlcfd::EddyViscosityClosure::featureNames();
    m.outputs = {"g1", "g3"};
    const std::string file = mlcfd_test::scratchFile("gaps.pt");
    mlcfd::writeModel(file,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    return x[:, 0:2]\n",
        m);
    EXPECT_MODEL_ERROR(TensorBasisClosure{file}, file, "'outputs' must be g1 .. gN");
}

TEST(TensorBasisClosure, RegimeInputReachesTheModelAndKeepsTheStressObjective)
{
    const std::string tb = mlcfd_test::scratchFile("tb_smagorinsky_regime.pt");
    const std::string ev = mlcfd_test::scratchFile("ev_smagorinsky_regime.pt");
    mlcfd::referenceModels::writeTensorBasisSmagorinsky(tb, 0.05, 0.094, 1.048, 2.0);
    mlcfd::referenceModels::writeSmagorinsky(ev, 0.094, 1.048, 2.0);
    TensorBasisClosure tensorBasis(tb);
    mlcfd::EddyViscosityClosure eddy(ev);
    ASSERT_TRUE(tensorBasis.readsRegime());
    std::mt19937_64 rng(9);
    std::normal_distribution<double> normal(0, 10);
    const std::size_t n = 300;
    std::vector<double> gradU(9 * n), delta(n, 0.02), nu(n), nutA(n), nutB(n), extra(6 * n);
    for (double& a : gradU) a = normal(rng);
    for (std::size_t c = 0; c < n; ++c) nu[c] = 1e-4 * (1 + c % 10); // nu_t ~ 1e-3 here
    tensorBasis.computeStress(gradU.data(), delta.data(), nu.data(), n, nutA.data(), extra.data());
    eddy.computeNut(gradU.data(), delta.data(), nu.data(), n, nutB.data());
    std::size_t clipped = 0;
    for (std::size_t c = 0; c < n; ++c)
    {
        EXPECT_NEAR(nutA[c], nutB[c], 1e-14 * std::max(nutB[c], 1e-3));
        clipped += nutB[c] == 0;
    }
    EXPECT_GT(clipped, 0u);
    EXPECT_LT(clipped, n);

    for (int trial = 0; trial < 10; ++trial)
    {
        Tensor A;
        for (double& a : A) a = normal(rng);
        const Tensor Q = rotation(0.2 + trial, -1, 2, 0.4 * trial);
        const Tensor rotatedA = multiply(multiply(Q, A), transpose(Q));
        const double d = 0.03, viscosity = 2e-4;
        double tau[6], tauRotated[6];
        tensorBasis.computeTotalStress(A.data(), &d, &viscosity, 1, tau);
        tensorBasis.computeTotalStress(rotatedA.data(), &d, &viscosity, 1, tauRotated);
        const Tensor expected = multiply(multiply(Q, fromSymm(tau)), transpose(Q));
        const Tensor found = fromSymm(tauRotated);
        double scale = 0;
        for (double t : expected) scale = std::max(scale, std::abs(t));
        ASSERT_GT(scale, 0);
        for (int k = 0; k < 9; ++k) EXPECT_NEAR(found[k], expected[k], 1e-12 * scale) << trial << " " << k;
    }
}
