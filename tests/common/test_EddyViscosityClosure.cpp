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
    closure.computeNut(gradU.data(), delta.data(), nullptr, n, nut.data());
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
    cpp.computeNut(gradU.data(), delta.data(), nullptr, n, a.data());
    py.computeNut(gradU.data(), delta.data(), nullptr, n, b.data());
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(a[i], b[i], 1e-15 * std::abs(a[i]));
}

TEST(EddyViscosityClosure, ZeroGradientGivesZeroViscosity)
{
    EddyViscosityClosure closure(smagorinskyFile());
    const std::vector<double> gradU(9, 0.0);
    const double delta = 0.1;
    double nut = -1;
    closure.computeNut(gradU.data(), &delta, nullptr, 1, &nut);
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
    closure.computeNut(A.data(), &delta, nullptr, 1, &nut);
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
    EXPECT_MODEL_ERROR(EddyViscosityClosure{file}, file, "trW2S2 nuRatio)");
}

TEST(EddyViscosityClosure, RegimeInputIsViscosityOverDeltaSquaredRate)
{
    std::mt19937_64 rng(5);
    for (int trial = 0; trial < 20; ++trial)
    {
        const Tensor A = randomTensor(rng, 80.0);
        const Tensor Q = rotation(0.7 + trial, -1.0, 2.0, 0.3 * trial);
        const Tensor rotated = multiply(multiply(Q, A), transpose(Q));
        Tensor scaled = A;
        for (double& x : scaled) x *= 250.0; // time in other units: nu scales alike
        const double delta = 0.01 * (1 + trial % 3), nu = 1.5e-5 * (1 + trial);
        const double nus[3] = {nu, nu, 250.0 * nu}, deltas[3] = {delta, delta, delta};
        std::vector<double> gradU(A.begin(), A.end());
        gradU.insert(gradU.end(), rotated.begin(), rotated.end());
        gradU.insert(gradU.end(), scaled.begin(), scaled.end());
        std::vector<double> inputs, rate;
        EddyViscosityClosure::computeInputs(gradU.data(), deltas, nus, 3, true, inputs, rate);
        ASSERT_EQ(inputs.size(), 21u);

        double AA = 0;
        for (double x : A) AA += x * x;
        EXPECT_NEAR(inputs[6], nu / (delta * delta * std::sqrt(AA)), 1e-14 * inputs[6]);
        const auto f = features(A);
        for (std::size_t k = 0; k < 6; ++k) EXPECT_EQ(inputs[k], f[k]) << "invariant " << k;
        // Rotated and rescaled: the same seven inputs.
        for (std::size_t k = 0; k < 7; ++k)
        {
            EXPECT_NEAR(inputs[7 + k], inputs[k], 1e-12 * std::max(1.0, std::abs(inputs[k]))) << k;
            EXPECT_NEAR(inputs[14 + k], inputs[k], 1e-12 * std::max(1.0, std::abs(inputs[k]))) << k;
        }
    }
    const std::vector<double> zero(9, 0.0);
    const double delta = 0.1, nu = 1e-5;
    std::vector<double> inputs, rate;
    EddyViscosityClosure::computeInputs(zero.data(), &delta, &nu, 1, true, inputs, rate);
    for (double x : inputs) EXPECT_EQ(x, 0.0);
}

TEST(EddyViscosityClosure, RegimeSmagorinskyIsSmagorinskyMinusBNu)
{
    const std::string zeroFile = mlcfd_test::scratchFile("smagorinsky_regime0.pt");
    const std::string twoFile = mlcfd_test::scratchFile("smagorinsky_regime2.pt");
    mlcfd::referenceModels::writeSmagorinsky(zeroFile, 0.094, 1.048, 0.0);
    mlcfd::referenceModels::writeSmagorinsky(twoFile, 0.094, 1.048, 2.0);
    EddyViscosityClosure zero(zeroFile), two(twoFile), plain(smagorinskyFile());
    ASSERT_TRUE(zero.readsRegime());
    ASSERT_FALSE(plain.readsRegime());
    std::mt19937_64 rng(6);
    const std::size_t n = 400;
    std::vector<double> gradU(9 * n), delta(n, 0.02), nu(n), a(n), b(n), c(n);
    for (std::size_t i = 0; i < n; ++i)
    {
        const Tensor A = randomTensor(rng, 20.0);
        std::copy(A.begin(), A.end(), gradU.begin() + 9 * i);
        // From nu << nu_t to nu > nu_t/2 (then B nu clips nu_t to 0).
        nu[i] = smagorinskyNut(A, delta[i]) * std::pow(10.0, -3.0 + 3.5 * i / n);
    }
    plain.computeNut(gradU.data(), delta.data(), nullptr, n, a.data());
    zero.computeNut(gradU.data(), delta.data(), nu.data(), n, b.data());
    two.computeNut(gradU.data(), delta.data(), nu.data(), n, c.data());
    std::size_t clipped = 0;
    for (std::size_t i = 0; i < n; ++i)
    {
        EXPECT_NEAR(b[i], a[i], 1e-14 * a[i]) << "cell " << i;
        EXPECT_NEAR(c[i], std::max(0.0, a[i] - 2 * nu[i]), 1e-12 * a[i]) << "cell " << i;
        clipped += c[i] == 0;
    }
    EXPECT_GT(clipped, n / 10);
    EXPECT_LT(clipped, n / 2);
    EXPECT_THROW(two.computeNut(gradU.data(), delta.data(), nullptr, n, c.data()), std::invalid_argument);
}
