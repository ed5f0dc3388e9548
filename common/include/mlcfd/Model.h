// mlcfd: a TorchScript model with its metadata, evaluated on plain arrays.
#ifndef MLCFD_MODEL_H
#define MLCFD_MODEL_H

#include "mlcfd/ModelError.h"
#include "mlcfd/ModelMetadata.h"

#include <cstddef>
#include <memory>
#include <string>

namespace mlcfd
{

/// How a Model runs.
struct ModelOptions
{
    /// "cpu" or "cuda". A CUDA request on a machine without a CUDA device
    /// falls back to the CPU with a warning on stderr.
    std::string device = "cpu";

    /// Intra-op threads; 0 chooses: MLCFD_NUM_THREADS if set, else 1 under
    /// MPI (one thread per rank avoids oversubscription), else LibTorch's
    /// default. The setting is process-wide (LibTorch has one pool).
    int threads = 0;

    /// Rows of the warm-up batch run at load (0: none). The warm-up also
    /// checks that the network's output width matches the metadata.
    std::size_t warmupRows = 256;

    /// Inputs further than this fraction of their training range outside it
    /// are counted (models with a recorded range; see TrainingRange.h).
    double rangeMargin = RangeCheck::defaultMargin;
};

/// A TorchScript network plus the mlcfd.json metadata stored inside it.
///
/// Loading validates the file and the metadata; evaluate() runs a batch of
/// rows (row-major, one row per cell/DoF) and rejects non-finite values.
/// When the file records its training range, evaluate() also counts the rows
/// whose inputs lie outside it (rangeCount()); adaptors report the count.
/// All errors are ModelError exceptions whose message names the file.
///
/// @code
///   mlcfd::Model model("constant/models/smagorinsky.pt");
///   model.evaluate(features.data(), nCells, model.inputCount(),
///                  nutStar.data(), model.outputCount());
/// @endcode
class Model
{
public:
    explicit Model(const std::string& path, const ModelOptions& options = ModelOptions());
    ~Model();
    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const std::string& path() const;
    const ModelMetadata& metadata() const;
    std::size_t inputCount() const { return metadata().inputCount(); }
    std::size_t outputCount() const { return metadata().outputCount(); }

    /// Device actually used ("cpu" or "cuda").
    const std::string& device() const;

    /// Evaluate @p rows rows of @p inputWidth doubles each, writing
    /// rows*outputWidth doubles to @p output. The widths are checked against
    /// the metadata. float64 CPU models read @p input without copying it.
    void evaluate(const double* input, std::size_t rows, std::size_t inputWidth, double* output,
        std::size_t outputWidth) const;

    /// The check of inputs against the training range (inactive for files
    /// without one).
    const RangeCheck& rangeCheck() const;

    /// Rows evaluated and rows outside the training range since the last
    /// takeRangeCount(); takeRangeCount() returns them and starts afresh.
    const RangeCount& rangeCount() const;
    RangeCount takeRangeCount() const;

    /// Intra-op thread count LibTorch uses now.
    static int threadCount();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace mlcfd

#endif
