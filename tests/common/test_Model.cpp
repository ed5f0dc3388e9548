// Unit tests of mlcfd::Model: loading, evaluation and every bad-input path.
#include "mlcfd/Model.h"
#include "mlcfd/ModelWriter.h"

#include "TestModels.h"

#include <cfenv>
#include <cmath>
#include <fstream>
#include <limits>
#include <vector>

using mlcfd::Model;
using mlcfd::ModelMetadata;
using mlcfd_test::pythonModel;
using mlcfd_test::scratchFile;

namespace
{

ModelMetadata testMetadata(std::vector<std::string> inputs, std::vector<std::string> outputs)
{
    ModelMetadata m;
    m.kind = "test";
    m.inputs = std::move(inputs);
    m.outputs = std::move(outputs);
    return m;
}

} // namespace

TEST(Model, JacobiFromCppComputesRowByRowDivision)
{
    const std::string file = scratchFile("jacobi.pt");
    mlcfd::referenceModels::writeJacobi(file);
    const Model model(file);
    EXPECT_EQ(model.metadata().kind, "preconditioner");
    ASSERT_EQ(model.inputCount(), 2u);
    ASSERT_EQ(model.outputCount(), 1u);

    const std::vector<double> in{1.0, 2.0, -3.0, 4.0, 5.0, 0.5};
    std::vector<double> out(3);
    model.evaluate(in.data(), 3, 2, out.data(), 1);
    EXPECT_DOUBLE_EQ(out[0], 0.5);
    EXPECT_DOUBLE_EQ(out[1], -0.75);
    EXPECT_DOUBLE_EQ(out[2], 10.0);
}

TEST(Model, PythonAndCppReferenceModelsAgree)
{
    const std::string file = scratchFile("jacobi_cpp.pt");
    mlcfd::referenceModels::writeJacobi(file);
    const Model cpp(file);
    const Model py(pythonModel("jacobi_py.pt"));
    const std::vector<double> in{1.5, 2.5, -7.0, 3.0};
    std::vector<double> a(2), b(2);
    cpp.evaluate(in.data(), 2, 2, a.data(), 1);
    py.evaluate(in.data(), 2, 2, b.data(), 1);
    EXPECT_EQ(a, b);
}

TEST(Model, NormalisationTravelsInsideTheFile)
{
    const Model model(pythonModel("normalised_affine.pt"));
    const std::vector<double> in{3.0, 10.0, -1.0, 0.0};
    std::vector<double> out(2);
    model.evaluate(in.data(), 2, 2, out.data(), 1);
    for (int row = 0; row < 2; ++row)
    {
        const double x0 = (in[2 * row] - 1) / 2, x1 = (in[2 * row + 1] - 2) / 4;
        EXPECT_NEAR(out[row], 10 * (2 * x0 - x1 + 0.5) + 3, 1e-12);
    }
}

TEST(Model, Float32ModelsRunInSinglePrecision)
{
    const Model model(pythonModel("affine_float32.pt"));
    EXPECT_EQ(model.metadata().dtype, "float32");
    const std::vector<double> in{0.1, 0.2};
    double out = 0;
    model.evaluate(in.data(), 1, 2, &out, 1);
    const double exact = 2 * 0.1 - 0.2 + 0.5;
    EXPECT_NEAR(out, exact, 1e-6);
    EXPECT_EQ(out, static_cast<double>(static_cast<float>(out))) << "not computed in float32";
}

TEST(Model, ZeroRowsIsANoOp)
{
    const Model model(pythonModel("jacobi_py.pt"));
    model.evaluate(nullptr, 0, 2, nullptr, 1);
}

TEST(Model, MissingFile)
{
    const std::string file = scratchFile("does_not_exist.pt");
    EXPECT_MODEL_ERROR(Model{file}, file, "file not found");
}

TEST(Model, NotTorchScript)
{
    const std::string file = scratchFile("text.pt");
    std::ofstream(file) << "this is not a model\n";
    EXPECT_MODEL_ERROR(Model{file}, file, "not a TorchScript archive");
}

TEST(Model, NoMetadata)
{
    const std::string file = pythonModel("no_metadata.pt");
    EXPECT_MODEL_ERROR(Model{file}, file, "has no metadata");
}

TEST(Model, MetadataNotJson)
{
    const std::string file = pythonModel("bad_json.pt");
    EXPECT_MODEL_ERROR(Model{file}, file, "not valid JSON");
}

TEST(Model, MetadataFromTheFuture)
{
    const std::string file = pythonModel("future_version.pt");
    EXPECT_MODEL_ERROR(Model{file}, file, "'format_version' is 99");
}

TEST(Model, DtypeDisagreesWithParameters)
{
    const std::string file = pythonModel("dtype_mismatch.pt");
    EXPECT_MODEL_ERROR(Model{file}, file, "'dtype' says float64");
}

TEST(Model, WrongInputWidth)
{
    const Model model(pythonModel("jacobi_py.pt"));
    const std::vector<double> in(6, 1.0);
    std::vector<double> out(2);
    EXPECT_MODEL_ERROR(model.evaluate(in.data(), 2, 3, out.data(), 1), "jacobi_py.pt",
        "given 3 input column(s) but the model expects 2");
    EXPECT_MODEL_ERROR(model.evaluate(in.data(), 3, 2, out.data(), 2), "jacobi_py.pt", "produces 1");
}

// A host that traps floating-point exceptions (OpenFOAM with FOAM_SIGFPE)
// must survive a network whose math raises flags on the way to a correct
// result: tanh of large inputs overflows an exp inside LibTorch's
// vectorised code. Without the held traps this process dies of SIGFPE.
TEST(Model, HostFloatingPointTrapsDoNotStopTheNetwork)
{
    const std::string file = scratchFile("saturating_tanh.pt");
    mlcfd::writeModel(file,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    return torch.tanh(1000.0*x)\n",
        testMetadata({"a"}, {"b"}));
    const Model model(file);
    std::vector<double> in(4096), out(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = (i % 2 ? 1.0 : -1.0) * (1.0 + double(i % 7));
    feenableexcept(FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID);
    model.evaluate(in.data(), in.size(), 1, out.data(), 1);
    const int trapped = fedisableexcept(FE_ALL_EXCEPT);
    EXPECT_EQ(trapped, FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID) << "the host's traps are restored";
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in[i] > 0 ? 1.0 : -1.0) << "row " << i;
}

TEST(Model, NetworkOutputOfTheWrongShape)
{
    const std::string file = scratchFile("two_columns.pt");
    mlcfd::writeModel(file,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    return torch.cat([x, x], 1)\n",
        testMetadata({"a"}, {"b"}));
    EXPECT_MODEL_ERROR(Model{file}, file, "forward() returned shape [256, 2]");
}

TEST(Model, NetworkThatFailsOnItsInput)
{
    const std::string file = scratchFile("needs_five_columns.pt");
    mlcfd::writeModel(file,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    return x[:, 4:5]*x[:, 0:1].sum(1, keepdim=True).expand(-1, 5)\n",
        testMetadata({"a", "b"}, {"c"}));
    EXPECT_MODEL_ERROR(Model{file}, file, "forward() failed");
}

TEST(Model, NonFiniteOutputNamesRowAndOutput)
{
    const Model model(pythonModel("jacobi_py.pt"));
    const std::vector<double> in{1.0, 2.0, 1.0, 0.0};
    std::vector<double> out(2);
    EXPECT_MODEL_ERROR(
        model.evaluate(in.data(), 2, 2, out.data(), 1), "jacobi_py.pt", "non-finite output 'z' in row 1");
}

TEST(Model, NonFiniteInputNamesRowAndInput)
{
    const Model model(pythonModel("jacobi_py.pt"));
    const std::vector<double> in{1.0, 2.0, 1.0, std::numeric_limits<double>::quiet_NaN()};
    std::vector<double> out(2);
    EXPECT_MODEL_ERROR(
        model.evaluate(in.data(), 2, 2, out.data(), 1), "jacobi_py.pt", "non-finite input 'diag' in row 1");
}

TEST(Model, UnknownDevice)
{
    mlcfd::ModelOptions options;
    options.device = "tpu";
    const std::string file = pythonModel("jacobi_py.pt");
    EXPECT_MODEL_ERROR((Model{file, options}), file, "unknown device 'tpu'");
}

TEST(Model, CudaRequestFallsBackToCpuWhenAbsent)
{
    mlcfd::ModelOptions options;
    options.device = "cuda";
    const Model model(pythonModel("jacobi_py.pt"), options);
    EXPECT_TRUE(model.device() == "cuda" || model.device() == "cpu");
    const std::vector<double> in{3.0, 2.0};
    double out = 0;
    model.evaluate(in.data(), 1, 2, &out, 1);
    EXPECT_DOUBLE_EQ(out, 1.5);
}

TEST(Model, WriterRejectsSourceThatDoesNotCompile)
{
    const std::string file = scratchFile("broken_source.pt");
    EXPECT_MODEL_ERROR(mlcfd::writeModel(file,
                           "def forward(self, x: Tensor) -> Tensor:\n"
                           "    return x +\n",
                           testMetadata({"a"}, {"b"})),
        file, "does not compile");
}
