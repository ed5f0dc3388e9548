// Training ranges in the model file, the count on every evaluation, and the
// monitor the adaptors report with (mlcfd/TrainingRange.h).
#include "mlcfd/LearnedPreconditioner.h"
#include "mlcfd/Model.h"
#include "mlcfd/ModelWriter.h"
#include "mlcfd/TrainingRange.h"

#include "TestModels.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using mlcfd::Model;
using mlcfd::ModelMetadata;
using mlcfd::RangeCheck;
using mlcfd::RangeCount;
using mlcfd::RangeMonitor;
using mlcfd::RangeMonitorSettings;

namespace
{

// Two inputs, identity network; training range of input a [0, 1], b [-2, 2].
ModelMetadata rangedMetadata()
{
    ModelMetadata m;
    m.kind = "test";
    m.inputs = {"a", "b"};
    m.outputs = {"a", "b"};
    m.trainingRange.rows = 1000;
    m.trainingRange.min = {0.0, -2.0};
    m.trainingRange.max = {1.0, 2.0};
    m.trainingRange.levels = {0.01, 0.99};
    m.trainingRange.quantiles = {{0.01, -1.9}, {0.99, 1.9}};
    return m;
}

std::string writeRangedModel(const std::string& name, const ModelMetadata& m = rangedMetadata())
{
    const std::string path = mlcfd_test::scratchFile(name);
    mlcfd::writeModel(path, "def forward(self, x: Tensor) -> Tensor:\n    return x\n", m);
    return path;
}

} // namespace

TEST(TrainingRange, RoundTripsThroughTheModelFile)
{
    const Model model(writeRangedModel("ranged.pt"));
    const auto& range = model.metadata().trainingRange;
    EXPECT_EQ(model.metadata().formatVersion, 2);
    EXPECT_EQ(range.rows, 1000u);
    EXPECT_EQ(range.min, (std::vector<double>{0.0, -2.0}));
    EXPECT_EQ(range.max, (std::vector<double>{1.0, 2.0}));
    ASSERT_EQ(range.levels, (std::vector<double>{0.01, 0.99}));
    EXPECT_EQ(range.quantiles[1], (std::vector<double>{0.99, 1.9}));
    EXPECT_TRUE(model.rangeCheck().active());
    // Margin 10% of each width: a in [-0.1, 1.1], b in [-2.4, 2.4].
    EXPECT_DOUBLE_EQ(model.rangeCheck().upper(0), 1.1);
    EXPECT_DOUBLE_EQ(model.rangeCheck().lower(1), -2.4);
}

TEST(TrainingRange, FilesWithoutARangeAreReadAndNotChecked)
{
    ModelMetadata m = rangedMetadata();
    m.trainingRange = {};
    const Model model(writeRangedModel("unranged.pt", m));
    EXPECT_FALSE(model.rangeCheck().active());
    const std::vector<double> in{100.0, 100.0};
    std::vector<double> out(2);
    model.evaluate(in.data(), 1, 2, out.data(), 2);
    EXPECT_EQ(model.rangeCount().outside, 0u);

    // Format version 1 (no training_range) still parses.
    const auto v1 = ModelMetadata::fromJson(
        R"({"format_version": 1, "kind": "t", "inputs": ["a"], "outputs": ["b"]})", "v1.pt");
    EXPECT_TRUE(v1.trainingRange.empty());
}

TEST(TrainingRange, BadEntriesAreNamed)
{
    const std::string head = R"({"format_version": 2, "kind": "t", "inputs": ["a", "b"], "outputs": ["c"], )";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"("training_range": {"rows": 10, "min": [0], "max": [1, 2]}})", "'training_range/min' must list 2"},
        {R"("training_range": {"rows": 10, "min": [0, 3], "max": [1, 2]}})", "min > max for input 1"},
        {R"("training_range": {"min": [0, 0], "max": [1, 2]}})", "'training_range/rows' is missing"},
        {R"("training_range": {"rows": 10, "max": [1, 2]}})", "'training_range/min' is missing"},
        {R"("training_range": {"rows": 10, "min": [0, 0], "max": [1, 2], "quantiles": {"2": [0, 0]}}})",
            "has level '2'"},
        {R"("training_range": [0, 1]})", "'training_range' must be an object"},
    };
    for (const auto& [tail, fragment] : cases)
    {
        EXPECT_MODEL_ERROR(ModelMetadata::fromJson(head + tail, "bad.pt"), "bad.pt", fragment);
    }
    EXPECT_MODEL_ERROR(ModelMetadata::fromJson(
                           R"({"format_version": 1, "kind": "t", "inputs": ["a"], "outputs": ["c"],
            "training_range": {"rows": 1, "min": [0], "max": [1]}})",
                           "old.pt"),
        "old.pt", "needs format_version 2");
}

TEST(TrainingRange, OwnDistributionIsInsideAndAShiftIsCountedWithTheRightFraction)
{
    // Record the range of 20000 uniform samples on [0, 1] x [-2, 2] ...
    std::mt19937 random(7);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const std::size_t n = 20000;
    std::vector<double> training(2 * n);
    for (std::size_t i = 0; i < n; ++i)
    {
        training[2 * i] = unit(random);
        training[2 * i + 1] = 4 * unit(random) - 2;
    }
    ModelMetadata m = rangedMetadata();
    m.trainingRange.min = {1e300, 1e300};
    m.trainingRange.max = {-1e300, -1e300};
    for (std::size_t i = 0; i < 2 * n; ++i)
    {
        m.trainingRange.min[i % 2] = std::min(m.trainingRange.min[i % 2], training[i]);
        m.trainingRange.max[i % 2] = std::max(m.trainingRange.max[i % 2], training[i]);
    }
    const Model model(writeRangedModel("uniform.pt", m));

    // ... fresh samples of the same distribution are all inside ...
    std::vector<double> in(2 * n), out(2 * n);
    for (double& x : in) x = unit(random);
    for (std::size_t i = 0; i < n; ++i) in[2 * i + 1] = 4 * in[2 * i + 1] - 2;
    model.evaluate(in.data(), n, 2, out.data(), 2);
    RangeCount count = model.takeRangeCount();
    EXPECT_EQ(count.rows, n);
    EXPECT_EQ(count.outside, 0u);
    EXPECT_EQ(model.rangeCount().rows, 0u) << "takeRangeCount starts afresh";

    // ... and input a shifted by +0.5 leaves [-0.1, 1.1] for a > 1.1, i.e. 40%.
    for (std::size_t i = 0; i < n; ++i) in[2 * i] += 0.5;
    model.evaluate(in.data(), n / 2, 2, out.data(), 2); // counts add up
    model.evaluate(in.data() + n, n / 2, 2, out.data(), 2);
    count = model.takeRangeCount();
    EXPECT_EQ(count.rows, n);
    EXPECT_NEAR(count.fraction(), 0.4, 0.015); // binomial spread ~0.0035
    EXPECT_EQ(count.outsideByInput[0], count.outside);
    EXPECT_EQ(count.outsideByInput[1], 0u);
}

TEST(TrainingRange, StopModeNamesTheModelTheInputAndTheRange)
{
    const std::string path = writeRangedModel("stop.pt");
    const Model model(path);
    RangeMonitorSettings settings;
    settings.action = RangeMonitorSettings::parseAction("stop");
    settings.stopFraction = 0.25;
    RangeMonitor monitor(settings);

    // 1 of 4 rows outside (b = 3): at the threshold, no stop.
    std::vector<double> in{0.5, 0, 0.5, 3, 0.5, 0, 0.5, 0}, out(8);
    model.evaluate(in.data(), 4, 2, out.data(), 2);
    monitor.step(model.takeRangeCount(), model.rangeCheck(), model.metadata(), model.path());
    EXPECT_TRUE(monitor.logThisStep()) << "the first step is reported";
    EXPECT_NE(monitor.describe(model.metadata(), model.rangeCheck())
                  .find("25.0% of 4 rows outside the training range (margin 10.0%); most often 'b' (1 rows)"
                        " outside [-2.4, 2.4] (trained on [-2, 2])"),
        std::string::npos)
        << monitor.describe(model.metadata(), model.rangeCheck());

    // 2 of 4: stop, with the model, the input and its range in the message.
    in[1] = -5;
    model.evaluate(in.data(), 4, 2, out.data(), 2);
    EXPECT_MODEL_ERROR(
        monitor.step(model.takeRangeCount(), model.rangeCheck(), model.metadata(), model.path()), path,
        "50.0% of 4 rows have inputs outside the training range, more than the 25.0%"
        " allowed (stop mode); most often 'b' (2 rows) outside [-2.4, 2.4]");
    EXPECT_THROW(RangeMonitorSettings::parseAction("ignore"), std::invalid_argument);
}

TEST(TrainingRange, WarnModeLogsTheFirstStrayStepAndThenEveryInterval)
{
    const Model model(writeRangedModel("warn.pt"));
    RangeMonitorSettings settings;
    settings.interval = 5;
    RangeMonitor monitor(settings);
    std::vector<double> inside{0.5, 0}, outside{2, 0}, out(2);
    std::vector<int> logged;
    for (int step = 1; step <= 12; ++step)
    {
        const auto& in = step >= 3 ? outside : inside;
        model.evaluate(in.data(), 1, 2, out.data(), 2);
        monitor.step(model.takeRangeCount(), model.rangeCheck(), model.metadata(), model.path());
        if (monitor.logThisStep()) logged.push_back(step);
    }
    // Step 1 (first), 3 (first stray step), then every 5 steps after that.
    EXPECT_EQ(logged, (std::vector<int>{1, 3, 8}));
    EXPECT_EQ(monitor.total().rows, 12u);
    EXPECT_EQ(monitor.total().outside, 10u);
}

TEST(TrainingRange, PreconditionerCountsItsChannelsPerApplication)
{
    // A 1D Laplacian whose first row has twice the diagonal: diagRatio
    // 4/mean(d) there, 2/mean(d) ~ 0.99 elsewhere. Trained on diagRatio in
    // [0.9, 1.1]: row 0 strays in every application, in graph rows [i][c]
    // and grid planes [c][i] alike.
    const std::size_t n = 50;
    mlcfd::CSRMatrix A;
    A.rows = n;
    A.rowStart.push_back(0);
    for (std::size_t i = 0; i < n; ++i)
    {
        if (i > 0)
        {
            A.column.push_back(std::int64_t(i) - 1);
            A.value.push_back(-1);
        }
        A.column.push_back(std::int64_t(i));
        A.value.push_back(i == 0 ? 4 : 2);
        if (i + 1 < n)
        {
            A.column.push_back(std::int64_t(i) + 1);
            A.value.push_back(-1);
        }
        A.rowStart.push_back(std::int64_t(A.column.size()));
    }
    for (const bool grid : {false, true})
    {
        ModelMetadata m;
        m.kind = grid ? mlcfd::LearnedPreconditioner::gridKind : mlcfd::LearnedPreconditioner::graphKind;
        m.inputs = {"residual", "diagRatio"};
        m.outputs = {"z"};
        m.trainingRange.rows = 100;
        m.trainingRange.min = {-3.0, 0.9};
        m.trainingRange.max = {3.0, 1.1};
        mlcfd::LearnedPreconditionerOptions options;
        if (grid)
        {
            m.constants = {{"dimension", 2.0}};
            options.grid = {10, 5};
        }
        const std::string path = mlcfd_test::scratchFile(grid ? "rangedGrid.pt" : "rangedGraph.pt");
        mlcfd::writeModel(path,
            grid ? "def forward(self, x: Tensor) -> Tensor:\n    return x[:, 0:1]\n"
                 : "def forward(self, x: Tensor, edgeIndex: Tensor, edgeWeight: Tensor) -> Tensor:\n"
                   "    return x[:, 0]\n",
            m);
        const mlcfd::LearnedPreconditioner M(path, A, options);
        ASSERT_TRUE(M.rangeCheck().active());
        EXPECT_EQ(M.takeRangeCount().rows, 0u) << "the warm-up is not counted";
        std::vector<double> r(n, 1.0), z(n);
        for (int application = 0; application < 3; ++application) M.apply(r, z);
        const RangeCount count = M.takeRangeCount();
        EXPECT_EQ(count.rows, 3 * n) << (grid ? "grid" : "graph");
        EXPECT_EQ(count.outside, 3u);
        EXPECT_EQ(count.outsideByInput, (std::vector<std::size_t>{0, 3}));
    }
}
