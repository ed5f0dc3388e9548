// The one translation unit (with ModelWriter.cpp) that knows LibTorch.
#include "mlcfd/Model.h"
#include "ModelArchive.h"

#include <torch/script.h>
#include <torch/cuda.h>
#include <ATen/Parallel.h>

#include <cfenv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

namespace mlcfd
{

namespace
{

bool runningUnderMpi()
{
    for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    {
        if (std::getenv(var)) return true;
    }
    return false;
}

// LibTorch has one intra-op pool per process: set it once, on first load.
void configureThreads(int requested)
{
    static std::once_flag once;
    std::call_once(once,
        [requested]()
        {
            int threads = requested;
            if (threads <= 0)
            {
                if (const char* env = std::getenv("MLCFD_NUM_THREADS"))
                {
                    threads = std::atoi(env);
                }
                else if (runningUnderMpi())
                {
                    threads = 1;
                }
            }
            if (threads > 0)
            {
                at::set_num_threads(threads);
            }
        });
}

std::string describeRow(const double* row, std::size_t width)
{
    std::ostringstream os;
    os.precision(6);
    os << '(';
    for (std::size_t j = 0; j < width; ++j)
    {
        os << (j ? " " : "") << row[j];
    }
    os << ')';
    return os.str();
}

} // namespace

struct Model::Impl
{
    std::string path;
    ModelMetadata metadata;
    std::string device = "cpu";
    torch::Device torchDevice = torch::kCPU;
    torch::Dtype dtype = torch::kFloat64;
    mutable torch::jit::Module module;
    bool normaliseInput = false;
    bool normaliseOutput = false;
    torch::Tensor inputMean, inputStd, outputMean, outputStd;
    RangeCheck rangeCheck;
    // Counted by the const evaluate(): statistics, not the model's state.
    mutable RangeCount rangeCount;

    void load(const ModelOptions& options);
    torch::Tensor forward(const torch::Tensor& x) const;
};

ModelArchive loadModelArchive(const std::string& path, const std::string& requestedDevice, int threads)
{
    ModelArchive archive;
    torch::jit::Module& module = archive.module;
    ModelMetadata& metadata = archive.metadata;
    if (!std::ifstream(path).good())
    {
        throw ModelError(path, "file not found or not readable");
    }

    torch::jit::ExtraFilesMap extra{{ModelMetadata::archiveEntry, ""}};
    try
    {
        module = torch::jit::load(path, torch::kCPU, extra);
    }
    catch (const std::exception& e)
    {
        std::string reason = e.what();
        reason = reason.substr(0, reason.find('\n'));
        throw ModelError(path, "not a TorchScript archive (" + reason + ")");
    }

    const std::string& text = extra[ModelMetadata::archiveEntry];
    if (text.empty())
    {
        throw ModelError(path, std::string("has no metadata: the archive lacks the extra file ")
                                   + ModelMetadata::archiveEntry
                                   + " (write models with mlcfd_model.py or mlcfd::writeModel)");
    }
    metadata = ModelMetadata::fromJson(text, path);

    if (!module.find_method("forward"))
    {
        throw ModelError(path, "the TorchScript module has no forward() method");
    }

    archive.dtype = metadata.dtype == "float32" ? torch::kFloat32 : torch::kFloat64;
    for (const auto& p : module.parameters())
    {
        if (p.scalar_type() != archive.dtype)
        {
            throw ModelError(path, "metadata entry 'dtype' says " + metadata.dtype
                                       + " but the network's parameters are "
                                       + std::string(c10::toString(p.scalar_type())));
        }
    }

    if (requestedDevice == "cuda")
    {
        if (torch::cuda::is_available())
        {
            archive.device = "cuda";
            archive.torchDevice = torch::Device(torch::kCUDA);
        }
        else
        {
            std::cerr << "mlcfd model '" << path
                      << "': CUDA requested but not available;"
                         " running on the CPU"
                      << std::endl;
        }
    }
    else if (requestedDevice != "cpu")
    {
        throw ModelError(path, "unknown device '" + requestedDevice + "' (use \"cpu\" or \"cuda\")");
    }
    module.to(archive.torchDevice);
    module.eval();
    configureThreads(threads);
    return archive;
}

void Model::Impl::load(const ModelOptions& options)
{
    ModelArchive archive = loadModelArchive(path, options.device, options.threads);
    module = std::move(archive.module);
    metadata = std::move(archive.metadata);
    device = archive.device;
    torchDevice = archive.torchDevice;
    dtype = archive.dtype;

    const auto asTensor = [this](const std::vector<double>& v)
    { return torch::tensor(v, torch::kFloat64).to(torchDevice, dtype).unsqueeze(0); };
    const auto isIdentity = [](const std::vector<double>& mean, const std::vector<double>& scale)
    {
        for (std::size_t i = 0; i < mean.size(); ++i)
        {
            if (mean[i] != 0 || scale[i] != 1) return false;
        }
        return true;
    };
    normaliseInput = !isIdentity(metadata.inputMean, metadata.inputStd);
    normaliseOutput = !isIdentity(metadata.outputMean, metadata.outputStd);
    inputMean = asTensor(metadata.inputMean);
    inputStd = asTensor(metadata.inputStd);
    outputMean = asTensor(metadata.outputMean);
    outputStd = asTensor(metadata.outputStd);
    try
    {
        rangeCheck = RangeCheck(metadata, options.rangeMargin);
    }
    catch (const std::invalid_argument& e)
    {
        throw ModelError(path, e.what());
    }
}

torch::Tensor Model::Impl::forward(const torch::Tensor& x) const
{
    torch::Tensor in = x.to(torchDevice, dtype);
    if (normaliseInput)
    {
        in = (in - inputMean) / inputStd;
    }

    torch::jit::IValue result;
    // LibTorch's vectorised math raises floating-point flags on the way to
    // correct results (tanh of a large input overflows an exp inside); a
    // host that traps them (OpenFOAM's FOAM_SIGFPE) would die there. The
    // traps are off while the network runs, and its flags are dropped.
    struct HeldFloatingPointTraps
    {
        std::fenv_t saved;
        HeldFloatingPointTraps() { std::feholdexcept(&saved); }
        ~HeldFloatingPointTraps()
        {
            std::feclearexcept(FE_ALL_EXCEPT);
            std::fesetenv(&saved);
        }
    } held;
    try
    {
        result = module.forward({in});
    }
    catch (const std::exception& e)
    {
        std::string reason = e.what();
        throw ModelError(path, "forward() failed on a (" + std::to_string(x.size(0)) + ", "
                                   + std::to_string(x.size(1))
                                   + ") input: " + reason.substr(0, reason.find('\n')));
    }
    if (!result.isTensor())
    {
        throw ModelError(path, "forward() returned " + result.tagKind() + ", expected a Tensor");
    }
    torch::Tensor out = result.toTensor();
    const int64_t rows = x.size(0);
    const int64_t width = static_cast<int64_t>(metadata.outputCount());
    if (out.dim() == 1 && width == 1 && out.size(0) == rows)
    {
        out = out.unsqueeze(1);
    }
    if (out.dim() != 2 || out.size(0) != rows || out.size(1) != width)
    {
        std::ostringstream os;
        os << "forward() returned shape " << out.sizes() << " for " << rows
           << " rows; metadata 'outputs' declares " << width << " output(s), so (" << rows << ", " << width
           << ") was expected";
        throw ModelError(path, os.str());
    }
    if (normaliseOutput)
    {
        out = out * outputStd + outputMean;
    }
    return out;
}

Model::Model(const std::string& path, const ModelOptions& options) : impl_(new Impl)
{
    impl_->path = path;
    impl_->load(options);

    if (options.warmupRows > 0)
    {
        // First calls compile and allocate: pay that here, not in time step 1.
        std::vector<double> in(options.warmupRows * inputCount(), 1.0);
        std::vector<double> out(options.warmupRows * outputCount());
        torch::InferenceMode guard;
        impl_->forward(torch::from_blob(in.data(),
            {static_cast<int64_t>(options.warmupRows), static_cast<int64_t>(inputCount())}, torch::kFloat64));
    }
}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const std::string& Model::path() const
{
    return impl_->path;
}
const ModelMetadata& Model::metadata() const
{
    return impl_->metadata;
}
const std::string& Model::device() const
{
    return impl_->device;
}
int Model::threadCount()
{
    return at::get_num_threads();
}
const RangeCheck& Model::rangeCheck() const
{
    return impl_->rangeCheck;
}
const RangeCount& Model::rangeCount() const
{
    return impl_->rangeCount;
}

RangeCount Model::takeRangeCount() const
{
    RangeCount count = impl_->rangeCount;
    impl_->rangeCount.clear();
    return count;
}

void Model::evaluate(const double* input, std::size_t rows, std::size_t inputWidth, double* output,
    std::size_t outputWidth) const
{
    const ModelMetadata& meta = impl_->metadata;
    if (inputWidth != meta.inputCount())
    {
        throw ModelError(impl_->path, "given " + std::to_string(inputWidth)
                                          + " input column(s) but the model expects "
                                          + std::to_string(meta.inputCount()));
    }
    if (outputWidth != meta.outputCount())
    {
        throw ModelError(impl_->path, "given room for " + std::to_string(outputWidth)
                                          + " output column(s) but the model produces "
                                          + std::to_string(meta.outputCount()));
    }
    if (rows == 0) return;

    for (std::size_t i = 0; i < rows * inputWidth; ++i)
    {
        if (!std::isfinite(input[i]))
        {
            const std::size_t row = i / inputWidth;
            throw ModelError(impl_->path, "non-finite input '" + meta.inputs[i % inputWidth] + "' in row "
                                              + std::to_string(row) + " "
                                              + describeRow(input + row * inputWidth, inputWidth));
        }
    }

    impl_->rangeCheck.countRows(input, rows, impl_->rangeCount, inputWidth);

    torch::InferenceMode guard;
    // from_blob wraps the caller's memory; forward() never writes to it.
    const torch::Tensor in = torch::from_blob(const_cast<double*>(input),
        {static_cast<int64_t>(rows), static_cast<int64_t>(inputWidth)}, torch::kFloat64);
    torch::Tensor out = impl_->forward(in);
    torch::from_blob(output, {static_cast<int64_t>(rows), static_cast<int64_t>(outputWidth)}, torch::kFloat64)
        .copy_(out);

    for (std::size_t i = 0; i < rows * outputWidth; ++i)
    {
        if (!std::isfinite(output[i]))
        {
            const std::size_t row = i / outputWidth;
            throw ModelError(impl_->path, "non-finite output '" + meta.outputs[i % outputWidth] + "' in row "
                                              + std::to_string(row) + " for input "
                                              + describeRow(input + row * inputWidth, inputWidth));
        }
    }
}

} // namespace mlcfd
