// Unit tests of the mlcfd.json metadata: every entry validated, errors named.
#include "mlcfd/ModelMetadata.h"

#include "TestModels.h"

using mlcfd::ModelMetadata;

namespace
{

const std::string source = "constant/models/test.pt";

std::string valid(const std::string& extra = "")
{
    return R"({"format_version": 1, "kind": "test", "inputs": ["a", "b"], "outputs": ["c"])" + extra + "}";
}

} // namespace

TEST(ModelMetadata, RoundTripsThroughJson)
{
    ModelMetadata m =
        ModelMetadata::fromJson(valid(R"(, "input_mean": [1, 2], "input_std": [3, 4], "units": {"a": "m/s"},)"
                                      R"( "constants": {"Ck": 0.1}, "description": "d", "dtype": "float32")"),
            source);
    EXPECT_EQ(m.inputCount(), 2u);
    EXPECT_EQ(m.outputCount(), 1u);
    EXPECT_EQ(m.inputStd[1], 4.0);
    EXPECT_EQ(m.outputMean, std::vector<double>{0.0});
    EXPECT_EQ(m.outputStd, std::vector<double>{1.0});
    const ModelMetadata again = ModelMetadata::fromJson(m.toJson(), source);
    EXPECT_EQ(again.inputs, m.inputs);
    EXPECT_EQ(again.inputMean, m.inputMean);
    EXPECT_EQ(again.units, m.units);
    EXPECT_EQ(again.constants, m.constants);
    EXPECT_EQ(again.dtype, "float32");
}

TEST(ModelMetadata, EachBrokenEntryIsNamed)
{
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({"kind": "t", "inputs": ["a"], "outputs": ["b"]})", "'format_version' is missing"},
        {R"({"format_version": 1, "inputs": ["a"], "outputs": ["b"]})", "'kind' is missing"},
        {R"({"format_version": 1, "kind": "t", "outputs": ["b"]})", "'inputs' is missing"},
        {R"({"format_version": 1, "kind": "t", "inputs": [], "outputs": ["b"]})",
            "'inputs' must be a non-empty"},
        {R"({"format_version": 1, "kind": "t", "inputs": ["a"]})", "'outputs' is missing"},
        {R"({"format_version": 1, "kind": "t", "inputs": ["a", "a"], "outputs": ["b"]})", "names 'a' twice"},
        {R"({"format_version": 0, "kind": "t", "inputs": ["a"], "outputs": ["b"]})", "'format_version' is 0"},
        {R"({"format_version": 1, "kind": "", "inputs": ["a"], "outputs": ["b"]})",
            "'kind' is missing or empty"},
        {valid(R"(, "input_mean": [1])"), "'input_mean' has 1 values for 2 names"},
        {valid(R"(, "input_std": [1, 0])"), "'input_std' must hold finite values > 0"},
        {valid(R"(, "output_std": ["x"])"), "'output_std' must be a list of numbers"},
        {valid(R"(, "dtype": "float16")"), "'dtype' is 'float16'"},
        {valid(R"(, "units": [1])"), "'units' must map"},
        {valid(R"(, "constants": {"Ck": "big"})"), "'constants' must map"},
        {"[1, 2]", "must be a JSON object"},
        {"{", "not valid JSON"},
    };
    for (const auto& c : cases)
    {
        SCOPED_TRACE(c.first);
        EXPECT_MODEL_ERROR(ModelMetadata::fromJson(c.first, source), source, c.second);
    }
}
