// Unit tests of the eddy-viscosity closure: invariance of the features and
// equality with OpenFOAM's Smagorinsky formula.
#include "mlcfd/EddyViscosityClosure.h"
#include "mlcfd/ModelWriter.h"

#include "TensorTestUtils.h"
#include "TestModels.h"

#include <array>
#include <cmath>
#include <random>
#include <vector>

using mlcfd::EddyViscosityClosure;
using mlcfd_test::multiply;
using mlcfd_test::rotation;
using mlcfd_test::Tensor;
using mlcfd_test::transpose;

namespace
{

Tensor randomTensor(std::mt19937_64& rng, double scale = 1.0)
{
    std::normal_distribution<double> normal(0.0, scale);
    Tensor t;
    for (double& x : t) x = normal(rng);
    return t;
}

std::vector<double> features(const Tensor& gradU)
{
    std::vector<double> f(EddyViscosityClosure::featureCount);
    double s = 0;
    EddyViscosityClosure::computeFeatures(gradU.data(), 1, f.data(), &s);
    return f;
}

// OpenFOAM's Smagorinsky, as written in Smagorinsky.C (dimensional form).
double smagorinskyNut(const Tensor& A, double delta, double Ck = 0.094, double Ce = 1.048)
{
    double D[9], trD = 0;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) D[3 * i + j] = 0.5 * (A[3 * i + j] + A[3 * j + i]);
    for (int i = 0; i < 3; ++i) trD += D[4 * i];
    double devDD = 0;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) devDD += (D[3 * i + j] - (i == j ? trD / 3 : 0)) * D[3 * i + j];
    const double a = Ce / delta, b = 2.0 / 3.0 * trD, c = 2 * Ck * delta * devDD;
    const double sqrtK = (-b + std::sqrt(b * b + 4 * a * c)) / (2 * a);
    return Ck * delta * sqrtK;
}

std::string smagorinskyFile()
{
    static const std::string file = []
    {
        const std::string f = mlcfd_test::scratchFile("smagorinsky.pt");
        mlcfd::referenceModels::writeSmagorinsky(f);
        return f;
    }();
    return file;
}

} // namespace

TEST(EddyViscosityClosure, FeaturesAreRotationInvariant)
{
    std::mt19937_64 rng(1);
    for (int trial = 0; trial < 20; ++trial)
    {
        const Tensor A = randomTensor(rng, 100.0);
        const Tensor Q = rotation(0.3 + trial, 1.0, -2.0 + trial, 0.5);
        const Tensor rotated = multiply(multiply(Q, A), transpose(Q));
        const auto f = features(A), g = features(rotated);
        for (std::size_t k = 0; k < f.size(); ++k)
        {
            EXPECT_NEAR(f[k], g[k], 1e-12) << EddyViscosityClosure::featureNames()[k];
        }
    }
}

TEST(EddyViscosityClosure, FeaturesAreDimensionless)
{
    std::mt19937_64 rng(2);
    const Tensor A = randomTensor(rng);
    Tensor scaled = A;
    for (double& x : scaled) x *= 3.7e4; // other units or another flow speed
    const auto f = features(A), g = features(scaled);
    for (std::size_t k = 0; k < f.size(); ++k) EXPECT_NEAR(f[k], g[k], 1e-13);
    // Not trivially zero: a general gradient has all six invariants.
    for (double x : f) EXPECT_GT(std::abs(x), 1e-6);
}

TEST(EddyViscosityClosure, SmagorinskyModelEqualsOpenFOAMsFormula)
{
    EddyViscosityClosure closure(smagorinskyFile());
    std::mt19937_64 rng(3);
    const std::size_t n = 1000;
    std::vector<double> gradU(9 * n), delta(n), nut(n);
    for (std::size_t i = 0; i < n; ++i)
    {
        const Tensor A = randomTensor(rng, 50.0);
        std::copy(A.begin(), A.end(), gradU.begin() + 9 * i);
        delta[i] = 0.01 * (1 + i % 7);
    }
    closure.computeNut(gradU.data(), delta.data(), n, nut.data());
    for (std::size_t i = 0; i < n; ++i)
    {
        Tensor A;
        std::copy(gradU.begin() + 9 * i, gradU.begin() + 9 * i + 9, A.begin());
        const double expected = smagorinskyNut(A, delta[i]);
        ASSERT_GT(expected, 0);
        EXPECT_NEAR(nut[i], expected, 1e-12 * expected) << "cell " << i;
    }
}

TEST(EddyViscosityClosure, PythonSmagorinskyEqualsCppSmagorinsky)
{
    EddyViscosityClosure cpp(smagorinskyFile());
    EddyViscosityClosure py(mlcfd_test::pythonModel("smagorinsky_py.pt"));
    std::mt19937_64 rng(4);
    const std::size_t n = 100;
    std::vector<double> gradU(9 * n), delta(n, 0.02), a(n), b(n);
    for (double& x : gradU) x = std::normal_distribution<double>()(rng);
    cpp.computeNut(gradU.data(), delta.data(), n, a.data());
    py.computeNut(gradU.data(), delta.data(), n, b.data());
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(a[i], b[i], 1e-15 * std::abs(a[i]));
}

TEST(EddyViscosityClosure, ZeroGradientGivesZeroViscosity)
{
    EddyViscosityClosure closure(smagorinskyFile());
    const std::vector<double> gradU(9, 0.0);
    const double delta = 0.1;
    double nut = -1;
    closure.computeNut(gradU.data(), &delta, 1, &nut);
    EXPECT_EQ(nut, 0.0);
}

TEST(EddyViscosityClosure, NegativeModelOutputIsClippedToZero)
{
    mlcfd::ModelMetadata m;
    m.kind = EddyViscosityClosure::kind;
    m.inputs = EddyViscosityClosure::featureNames();
    m.outputs = {"nutStar"};
    const std::string file = mlcfd_test::scratchFile("negative.pt");
    mlcfd::writeModel(file,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    return -1.0 - x[:, 0:1]*x[:, 0:1]\n",
        m);
    EddyViscosityClosure closure(file);
    const Tensor A{1, 2, 3, 4, 5, 6, 7, 8, 10};
    const double delta = 0.1;
    double nut = -1;
    closure.computeNut(A.data(), &delta, 1, &nut);
    EXPECT_EQ(nut, 0.0);
}

TEST(EddyViscosityClosure, RejectsModelsOfAnotherKind)
{
    const std::string file = mlcfd_test::pythonModel("jacobi_py.pt");
    EXPECT_MODEL_ERROR(EddyViscosityClosure{file}, file, "'kind' is 'preconditioner'");
}

TEST(EddyViscosityClosure, RejectsModelsWithOtherInputs)
{
    mlcfd::ModelMetadata m;
    m.kind = EddyViscosityClosure::kind;
    m.inputs = {"trS", "trS2", "trW2", "trS3", "trW2S", "Q"};
    m.outputs = {"nutStar"};
    const std::string file = mlcfd_test::scratchFile("other_inputs.pt");
    mlcfd::writeModel(file,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    return x[:, 0:1]\n",
        m);
    EXPECT_MODEL_ERROR(EddyViscosityClosure{file}, file, "'inputs' must be (trS trS2");
}
