// Internal to the core (includes LibTorch): loading a model archive.
#ifndef MLCFD_MODEL_ARCHIVE_H
#define MLCFD_MODEL_ARCHIVE_H

#include "mlcfd/ModelError.h"
#include "mlcfd/ModelMetadata.h"

#include <torch/script.h>

#include <string>

namespace mlcfd
{

/// A TorchScript module with its validated metadata, on its device.
struct ModelArchive
{
    torch::jit::Module module;
    ModelMetadata metadata;
    std::string device = "cpu";
    torch::Device torchDevice = torch::kCPU;
    torch::Dtype dtype = torch::kFloat64;
};

/// Load @p path: checks the file, the archive, the metadata, forward() and
/// the parameters' dtype; moves the module to @p requestedDevice ("cpu" or
/// "cuda", CPU fallback with a warning) and sets LibTorch's threads once
/// per process (see ModelOptions::threads). Throws ModelError naming @p path.
ModelArchive loadModelArchive(const std::string& path, const std::string& requestedDevice, int threads);

} // namespace mlcfd

#endif
