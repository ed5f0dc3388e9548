#include "mlcfd/LearnedPreconditioner.h"
#include "mlcfd/ModelError.h"
#include "mlcfd/ModelWriter.h"
#include "ModelArchive.h"

#include <torch/script.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace mlcfd
{

const char* const LearnedPreconditioner::gridKind = "preconditionerGrid";
const char* const LearnedPreconditioner::graphKind = "preconditionerGraph";

namespace
{

const char* const residualChannel = "residual";
const char* const diagRatioChannel = "diagRatio";

std::string describeGrid(const std::vector<std::int64_t>& grid)
{
    std::ostringstream os;
    os << '(';
    for (std::size_t d = 0; d < grid.size(); ++d) os << (d ? " " : "") << grid[d];
    os << ')';
    return os.str();
}

} // namespace

struct LearnedPreconditioner::Impl
{
    mutable ModelArchive archive;
    std::string path;
    std::size_t rows = 0;
    bool grid = false;

    /// s_i = 1/sqrt(A_ii) and the diagonal itself (Jacobi fallback).
    std::vector<double> scale, diagonal;

    /// Network input: node channels (channel 0 rewritten per application)
    /// and, for graph models, the edges.
    torch::Tensor nodes, edgeIndex, edgeWeight;
    /// Shape the output must have (grid: the spatial shape).
    std::vector<std::int64_t> outputShape;

    mutable std::size_t applications = 0, fallbacks = 0;
    mutable double seconds = 0;
    RangeCheck rangeCheck;
    mutable RangeCount rangeCount;

    /// As constructed (grid models need the grid again in setMatrix).
    LearnedPreconditionerOptions options;

    void checkModel(const LearnedPreconditionerOptions& options);
    void setupGrid(const LearnedPreconditionerOptions& options, const std::vector<double>& diagRatio);
    void setupGraph(const CSRMatrix& matrix, const std::vector<double>& diagRatio);
    /// Checks the matrix and sets diagonal and scale; returns diagRatio.
    std::vector<double> scaleMatrix(const CSRMatrix& matrix);
    torch::Tensor forward() const;
};

void LearnedPreconditioner::Impl::checkModel(const LearnedPreconditionerOptions&)
{
    const ModelMetadata& m = archive.metadata;
    if (m.kind == "preconditioner")
    {
        throw ModelError(path, "metadata entry 'kind' is 'preconditioner': pointwise preconditioner"
                               " models are no longer supported; use a graph model ('"
                                   + std::string(graphKind)
                                   + "'; `mlcfd-model create graphJacobi` writes the Jacobi reference)");
    }
    if (m.kind != gridKind && m.kind != graphKind)
    {
        throw ModelError(path, "metadata entry 'kind' is '" + m.kind + "'; a preconditioner needs '"
                                   + gridKind + "' or '" + graphKind + "'");
    }
    grid = m.kind == gridKind;
    if (m.inputs.front() != residualChannel)
    {
        throw ModelError(
            path, "metadata entry 'inputs' must start with \"residual\", not \"" + m.inputs.front() + "\"");
    }
    for (std::size_t c = 1; c < m.inputs.size(); ++c)
    {
        if (m.inputs[c] != diagRatioChannel)
        {
            throw ModelError(path, "metadata entry 'inputs' names the unknown channel \"" + m.inputs[c]
                                       + "\" (known: residual, diagRatio)");
        }
    }
    if (m.outputs.size() != 1)
    {
        throw ModelError(path, "metadata entry 'outputs' must name exactly one output (z), not "
                                   + std::to_string(m.outputs.size()));
    }
    for (std::size_t c = 0; c < m.inputs.size(); ++c)
    {
        if (m.inputMean[c] != 0 || m.inputStd[c] != 1 || m.outputMean[0] != 0 || m.outputStd[0] != 1)
        {
            throw ModelError(path, "metadata entries 'input_mean'/'input_std'/'output_mean'/'output_std'"
                                   " must be identity for a preconditioner (its inputs are already scaled)");
        }
    }
}

void LearnedPreconditioner::Impl::setupGrid(
    const LearnedPreconditionerOptions& options, const std::vector<double>& diagRatio)
{
    const auto& constants = archive.metadata.constants;
    const auto dim = constants.find("dimension");
    if (dim == constants.end() || (dim->second != 2 && dim->second != 3))
    {
        throw ModelError(path, "metadata entry 'constants' must hold \"dimension\": 2 or 3"
                               " for a grid model");
    }
    const std::size_t dimension = static_cast<std::size_t>(dim->second);

    // Trailing single cells (a 2D OpenFOAM mesh: (nx ny 1)) are dropped.
    std::vector<std::int64_t> cells = options.grid;
    while (cells.size() > dimension && cells.back() == 1) cells.pop_back();
    std::int64_t total = 1;
    for (std::int64_t n : cells) total *= n;
    if (options.grid.empty())
    {
        throw std::invalid_argument("grid model '" + path
                                    + "' needs the grid's cells per direction"
                                      " (entry 'grid'), none given");
    }
    if (cells.size() != dimension || total != static_cast<std::int64_t>(rows))
    {
        throw std::invalid_argument("grid " + describeGrid(options.grid) + " does not fit: the model '" + path
                                    + "' is " + std::to_string(dimension) + "D and the matrix has "
                                    + std::to_string(rows) + " rows");
    }

    // Row-major tensor with x fastest: (1, C, [nz,] ny, nx).
    std::vector<std::int64_t> shape{1, static_cast<std::int64_t>(archive.metadata.inputCount())};
    shape.insert(shape.end(), cells.rbegin(), cells.rend());
    nodes = torch::zeros(shape, torch::kFloat64);
    for (std::size_t c = 1; c < archive.metadata.inputCount(); ++c)
    {
        nodes[0][c].view({-1}).copy_(torch::from_blob(
            const_cast<double*>(diagRatio.data()), {static_cast<std::int64_t>(rows)}, torch::kFloat64));
    }
    outputShape.assign(shape.begin() + 2, shape.end());
}

void LearnedPreconditioner::Impl::setupGraph(const CSRMatrix& matrix, const std::vector<double>& diagRatio)
{
    const std::int64_t n = static_cast<std::int64_t>(rows);
    const std::int64_t channels = static_cast<std::int64_t>(archive.metadata.inputCount());
    nodes = torch::zeros({n, channels}, torch::kFloat64);
    auto nodeValues = nodes.accessor<double, 2>();
    for (std::int64_t i = 0; i < n; ++i)
    {
        for (std::int64_t c = 1; c < channels; ++c) nodeValues[i][c] = diagRatio[i];
    }

    std::vector<std::int64_t> from, to;
    std::vector<double> weight;
    for (std::int64_t i = 0; i < n; ++i)
    {
        for (std::int64_t k = matrix.rowStart[i]; k < matrix.rowStart[i + 1]; ++k)
        {
            const std::int64_t j = matrix.column[k];
            if (j == i) continue;
            from.push_back(i);
            to.push_back(j);
            weight.push_back(matrix.value[k] * scale[i] * scale[j]);
        }
    }
    const std::int64_t edges = static_cast<std::int64_t>(weight.size());
    edgeIndex = torch::empty({2, edges}, torch::kInt64);
    std::copy(from.begin(), from.end(), edgeIndex.data_ptr<std::int64_t>());
    std::copy(to.begin(), to.end(), edgeIndex.data_ptr<std::int64_t>() + edges);
    edgeWeight = torch::tensor(weight, torch::kFloat64).to(archive.torchDevice, archive.dtype);
    edgeIndex = edgeIndex.to(archive.torchDevice);
    outputShape = {n};
}

torch::Tensor LearnedPreconditioner::Impl::forward() const
{
    std::vector<torch::jit::IValue> arguments{nodes.to(archive.torchDevice, archive.dtype)};
    if (!grid)
    {
        arguments.emplace_back(edgeIndex);
        arguments.emplace_back(edgeWeight);
    }
    torch::jit::IValue result;
    try
    {
        result = archive.module.forward(arguments);
    }
    catch (const std::exception& e)
    {
        std::ostringstream os;
        os << "forward() failed on input of shape " << nodes.sizes() << (grid ? "" : " with edges") << ": ";
        const std::string reason = e.what();
        throw ModelError(path, os.str() + reason.substr(0, reason.find('\n')));
    }
    if (!result.isTensor())
    {
        throw ModelError(path, "forward() returned " + result.tagKind() + ", expected a Tensor");
    }
    torch::Tensor out = result.toTensor();

    // Accepted: the expected shape, with one leading/trailing unit channel.
    torch::Tensor squeezed = out;
    if (grid)
    {
        if (squeezed.dim() == static_cast<int64_t>(outputShape.size()) + 2)
            squeezed = squeezed.squeeze(0).squeeze(0);
    }
    else if (squeezed.dim() == 2 && squeezed.size(1) == 1)
    {
        squeezed = squeezed.squeeze(1);
    }
    if (squeezed.sizes() != torch::IntArrayRef(outputShape))
    {
        std::ostringstream os;
        os << "forward() returned shape " << out.sizes() << "; expected " << (grid ? "(1, 1, " : "(")
           << torch::IntArrayRef(outputShape) << (grid ? ")" : " or (n, 1))");
        throw ModelError(path, os.str());
    }
    return squeezed.reshape({-1}).to(torch::kCPU, torch::kFloat64).contiguous();
}

std::vector<double> LearnedPreconditioner::Impl::scaleMatrix(const CSRMatrix& matrix)
{
    matrix.check();
    rows = matrix.rows;

    diagonal.assign(rows, 0.0);
    for (std::size_t i = 0; i < rows; ++i)
    {
        for (std::int64_t k = matrix.rowStart[i]; k < matrix.rowStart[i + 1]; ++k)
        {
            if (!std::isfinite(matrix.value[k]))
            {
                throw std::invalid_argument("LearnedPreconditioner: matrix entry (" + std::to_string(i) + ", "
                                            + std::to_string(matrix.column[k]) + ") is not finite");
            }
            if (matrix.column[k] == static_cast<std::int64_t>(i)) diagonal[i] += matrix.value[k];
        }
        if (!(diagonal[i] > 0))
        {
            throw std::invalid_argument(
                "LearnedPreconditioner: row " + std::to_string(i) + " has diagonal "
                + std::to_string(diagonal[i])
                + "; a positive diagonal is needed (negate a negative definite system)");
        }
    }
    double mean = 0;
    for (double a : diagonal) mean += a;
    mean /= std::max<std::size_t>(rows, 1);
    std::vector<double> diagRatio(rows);
    scale.resize(rows);
    for (std::size_t i = 0; i < rows; ++i)
    {
        scale[i] = 1 / std::sqrt(diagonal[i]);
        diagRatio[i] = diagonal[i] / mean;
    }
    return diagRatio;
}

LearnedPreconditioner::LearnedPreconditioner(
    const std::string& modelFile, const CSRMatrix& matrix, const LearnedPreconditionerOptions& options)
    : impl_(new Impl)
{
    Impl& d = *impl_;
    d.path = modelFile;
    d.options = options;
    const std::vector<double> diagRatio = d.scaleMatrix(matrix);

    d.archive = loadModelArchive(modelFile, options.device, options.threads);
    d.checkModel(options);
    try
    {
        d.rangeCheck = RangeCheck(d.archive.metadata, options.rangeMargin);
    }
    catch (const std::invalid_argument& e)
    {
        throw ModelError(modelFile, e.what());
    }
    if (d.grid)
    {
        d.setupGrid(options, diagRatio);
    }
    else
    {
        d.setupGraph(matrix, diagRatio);
    }

    // First calls compile and allocate: pay that here, not in the first
    // solve (also checks the output shape).
    std::vector<double> r(d.rows, 1.0), z(d.rows);
    apply(r.data(), z.data());
    resetStatistics();
}

void LearnedPreconditioner::setMatrix(const CSRMatrix& matrix)
{
    Impl& d = *impl_;
    if (matrix.rows != d.rows)
    {
        throw std::invalid_argument("LearnedPreconditioner::setMatrix: the matrix has "
                                    + std::to_string(matrix.rows) + " rows, the preconditioner was built for "
                                    + std::to_string(d.rows));
    }
    const std::vector<double> diagRatio = d.scaleMatrix(matrix);
    if (d.grid)
    {
        d.setupGrid(d.options, diagRatio);
    }
    else
    {
        d.setupGraph(matrix, diagRatio);
    }
}

LearnedPreconditioner::~LearnedPreconditioner() = default;
LearnedPreconditioner::LearnedPreconditioner(LearnedPreconditioner&&) noexcept = default;
LearnedPreconditioner& LearnedPreconditioner::operator=(LearnedPreconditioner&&) noexcept = default;

bool LearnedPreconditioner::apply(const double* r, double* z) const
{
    const Impl& d = *impl_;
    const auto start = std::chrono::steady_clock::now();
    ++d.applications;

    double sumSquares = 0;
    double* channel = d.nodes.data_ptr<double>();
    // Graph nodes are (n, C) row-major; grid channels are contiguous planes.
    const std::size_t stride = d.grid ? 1 : d.archive.metadata.inputCount();
    for (std::size_t i = 0; i < d.rows; ++i)
    {
        const double rs = d.scale[i] * r[i];
        channel[i * stride] = rs;
        sumSquares += rs * rs;
    }
    if (!std::isfinite(sumSquares))
    {
        throw std::invalid_argument("LearnedPreconditioner::apply: the residual has non-finite entries");
    }

    bool finite = true;
    if (sumSquares == 0)
    {
        std::fill(z, z + d.rows, 0.0);
    }
    else
    {
        const double rms = std::sqrt(sumSquares / d.rows);
        for (std::size_t i = 0; i < d.rows; ++i) channel[i * stride] /= rms;
        // Channel c of row i: graph rows [i][c], grid planes [c][i].
        d.rangeCheck.countRows(channel, d.rows, d.rangeCount, stride, d.grid ? d.rows : 1);

        torch::InferenceMode guard;
        const torch::Tensor y = d.forward();
        const double* values = y.data_ptr<double>();
        for (std::size_t i = 0; i < d.rows; ++i)
        {
            z[i] = rms * d.scale[i] * values[i];
            finite = finite && std::isfinite(z[i]);
        }
        if (!finite)
        {
            ++d.fallbacks;
            for (std::size_t i = 0; i < d.rows; ++i) z[i] = r[i] / d.diagonal[i];
        }
    }
    d.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return finite;
}

bool LearnedPreconditioner::apply(const std::vector<double>& r, std::vector<double>& z) const
{
    if (r.size() != impl_->rows)
    {
        throw std::invalid_argument("LearnedPreconditioner::apply: r has " + std::to_string(r.size())
                                    + " entries, the matrix " + std::to_string(impl_->rows) + " rows");
    }
    z.resize(impl_->rows);
    return apply(r.data(), z.data());
}

std::size_t LearnedPreconditioner::rows() const
{
    return impl_->rows;
}
const std::string& LearnedPreconditioner::path() const
{
    return impl_->path;
}
const ModelMetadata& LearnedPreconditioner::metadata() const
{
    return impl_->archive.metadata;
}
bool LearnedPreconditioner::isGrid() const
{
    return impl_->grid;
}
const std::string& LearnedPreconditioner::device() const
{
    return impl_->archive.device;
}
std::size_t LearnedPreconditioner::applications() const
{
    return impl_->applications;
}
double LearnedPreconditioner::inferenceSeconds() const
{
    return impl_->seconds;
}
std::size_t LearnedPreconditioner::fallbacks() const
{
    return impl_->fallbacks;
}
const RangeCheck& LearnedPreconditioner::rangeCheck() const
{
    return impl_->rangeCheck;
}

RangeCount LearnedPreconditioner::takeRangeCount() const
{
    RangeCount count = impl_->rangeCount;
    impl_->rangeCount.clear();
    return count;
}

void LearnedPreconditioner::resetStatistics()
{
    impl_->applications = 0;
    impl_->fallbacks = 0;
    impl_->seconds = 0;
    impl_->rangeCount.clear();
}

namespace referenceModels
{

void writeGraphJacobi(const std::string& path)
{
    ModelMetadata m;
    m.kind = LearnedPreconditioner::graphKind;
    m.description = "Jacobi's method as a graph preconditioner (z = residual channel), written by C++";
    m.inputs = {residualChannel};
    m.outputs = {"z"};
    writeModel(path,
        "def forward(self, x: Tensor, edgeIndex: Tensor, edgeWeight: Tensor) -> Tensor:\n"
        "    return x[:, 0]\n",
        m);
}

void writeGridJacobi(const std::string& path, int dimension)
{
    if (dimension != 2 && dimension != 3)
    {
        throw std::invalid_argument("writeGridJacobi: dimension must be 2 or 3");
    }
    ModelMetadata m;
    m.kind = LearnedPreconditioner::gridKind;
    m.description = "Jacobi's method as a " + std::to_string(dimension)
                    + "D grid preconditioner (z = residual channel), written by C++";
    m.inputs = {residualChannel};
    m.outputs = {"z"};
    m.constants = {{"dimension", static_cast<double>(dimension)}};
    writeModel(path,
        "def forward(self, x: Tensor) -> Tensor:\n"
        "    return x[:, 0:1]\n",
        m);
}

} // namespace referenceModels

} // namespace mlcfd
