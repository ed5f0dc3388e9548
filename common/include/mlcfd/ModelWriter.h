// mlcfd: write TorchScript models with mlcfd metadata from C++.
#ifndef MLCFD_MODEL_WRITER_H
#define MLCFD_MODEL_WRITER_H

#include "mlcfd/ModelMetadata.h"

#include <optional>
#include <string>

namespace mlcfd
{

/// Compile @p torchScriptSource (TorchScript defining at least
/// `def forward(self, x: Tensor) -> Tensor`) into a module and save it with
/// @p metadata (validated first) as @p path. The forward maps a
/// (rows, inputCount) tensor to a (rows, outputCount) tensor.
void writeModel(const std::string& path, const std::string& torchScriptSource, const ModelMetadata& metadata);

/// Reference models, written by C++ (the Python authoring script
/// common/python/mlcfd_model.py writes the same ones).
namespace referenceModels
{
/// OpenFOAM's Smagorinsky model as an eddy-viscosity closure (see
/// EddyViscosityClosure for the inputs and the output). With @p regime = B
/// the model also reads nuRatio and returns nutStar - B nuRatio, that is
/// nu_t = max(0, nu_t(Smagorinsky) - B nu): the reference of the regime
/// input's path (B = 0: Smagorinsky exactly, through seven inputs).
void writeSmagorinsky(const std::string& path, double Ck = 0.094, double Ce = 1.048,
    std::optional<double> regime = std::nullopt);

/// Smagorinsky as a tensor-basis closure (TensorBasisClosure):
/// g1 = -2 nutStar of writeSmagorinsky (@p regime as there), plus a constant
/// coefficient @p g2 of the second basis tensor S*W* - W*S* (0: Smagorinsky
/// exactly).
void writeTensorBasisSmagorinsky(const std::string& path, double g2 = 0, double Ck = 0.094, double Ce = 1.048,
    std::optional<double> regime = std::nullopt);

/// Jacobi's diagonal scaling z = r/diag as a preconditioner model.
void writeJacobi(const std::string& path);
} // namespace referenceModels

} // namespace mlcfd

#endif
