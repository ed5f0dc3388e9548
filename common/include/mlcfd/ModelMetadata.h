// mlcfd: description of a model, stored as mlcfd.json inside its TorchScript file.
#ifndef MLCFD_MODEL_METADATA_H
#define MLCFD_MODEL_METADATA_H

#include "mlcfd/TrainingRange.h"

#include <map>
#include <string>
#include <vector>

namespace mlcfd
{

/// Metadata every mlcfd model carries in its archive (extra file mlcfd.json).
///
/// Example (format version 2; version 1 files, without "training_range",
/// are read as well):
/// @code{.json}
/// { "format_version": 2,
///   "kind": "eddyViscosity",
///   "description": "Smagorinsky (Ck 0.094, Ce 1.048)",
///   "inputs": ["trS", "trS2", "trW2", "trS3", "trW2S", "trW2S2"],
///   "outputs": ["nutStar"],
///   "input_mean": [0, 0, 0, 0, 0, 0], "input_std": [1, 1, 1, 1, 1, 1],
///   "output_mean": [0], "output_std": [1],
///   "units": {"nutStar": "1"},
///   "dtype": "float64",
///   "constants": {"Ck": 0.094, "Ce": 1.048},
///   "training_range": {"rows": 1000, "min": [...], "max": [...],
///                      "quantiles": {"0.01": [...], "0.99": [...]}} }
/// @endcode
/// The network sees (x - input_mean)/input_std and its output y is returned as
/// y*output_std + output_mean, so normalisation travels with the model file.
struct ModelMetadata
{
    /// Version of this schema understood by this build.
    static constexpr int currentFormatVersion = 2;
    /// Name of the extra file inside the TorchScript archive.
    static const char* const archiveEntry;

    int formatVersion = currentFormatVersion;
    std::string kind;
    std::string description;
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::vector<double> inputMean, inputStd;
    std::vector<double> outputMean, outputStd;
    std::map<std::string, std::string> units;
    /// "float64" or "float32": precision the network computes in.
    std::string dtype = "float64";
    std::map<std::string, double> constants;
    /// Inputs of the training data (format 2, optional; see TrainingRange).
    TrainingRange trainingRange;

    std::size_t inputCount() const { return inputs.size(); }
    std::size_t outputCount() const { return outputs.size(); }

    /// Parse and validate; throws ModelError naming @p source on any problem.
    static ModelMetadata fromJson(const std::string& json, const std::string& source);

    /// Serialise (normalisation arrays omitted when empty).
    std::string toJson() const;

    /// Throws ModelError naming @p source if an entry is missing or
    /// inconsistent; fills identity normalisation where none is given.
    void validate(const std::string& source);
};

} // namespace mlcfd

#endif
