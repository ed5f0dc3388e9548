// mlcfd: learned eddy-viscosity closure on plain arrays (framework-free).
#ifndef MLCFD_EDDY_VISCOSITY_CLOSURE_H
#define MLCFD_EDDY_VISCOSITY_CLOSURE_H

#include "mlcfd/Model.h"
#include "mlcfd/ModelMetadata.h"

#include <string>
#include <vector>

namespace mlcfd
{

/// Subgrid eddy viscosity nu_t from a model of kind "eddyViscosity".
///
/// With A the resolved velocity gradient, S = sym(A), W = skew(A) and the
/// rate scale s = |A| = sqrt(A:A), the model sees the six dimensionless
/// invariants (Galilean- and rotation-invariant, independent of units)
///
///     trS = tr(S)/s,       trS2 = tr(S.S)/s^2,     trW2 = tr(W.W)/s^2,
///     trS3 = tr(S.S.S)/s^3, trW2S = tr(W.W.S)/s^3, trW2S2 = tr(W.W.S.S)/s^4
///
/// (inputs named exactly so, in that order) and returns one output
/// nutStar, the viscosity in units of delta^2 s:
///
///     nu_t = max(0, nutStar) delta^2 s.
///
/// A model may declare a seventh input, the regime
///
///     nuRatio = nu/(delta^2 s)
///
/// (nu the molecular viscosity): the inverse Reynolds number of the filter
/// scale, which the invariants cannot carry (they are the same at every
/// Reynolds number); (delta/eta)^(4/3) ~ 1/nuRatio in equilibrium. It is as
/// frame-invariant as s. Where A = 0 the features, nuRatio included, are 0
/// and nu_t = 0.
class EddyViscosityClosure
{
public:
    static constexpr std::size_t featureCount = 6;
    /// The six invariants' names, in order: the inputs of every model.
    static const std::vector<std::string>& featureNames();
    /// The optional seventh input.
    static const char* const regimeFeatureName;
    static const char* const kind;

    /// Whether a closure model (of @p closure kind, for the message) with
    /// these inputs reads nuRatio: false for the six invariants, true for
    /// the six followed by nuRatio; a ModelError naming @p modelPath and
    /// both forms otherwise.
    static bool readsRegime(
        const ModelMetadata& meta, const std::string& modelPath, const std::string& closure);

    /// The model's inputs for @p n cells (n x (6 or 7), row-major) and the
    /// rate scale s: the invariants of @p gradU and, with @p regime, nuRatio
    /// from @p delta and the molecular viscosity @p nu (n values).
    static void computeInputs(const double* gradU, const double* delta, const double* nu, std::size_t n,
        bool regime, std::vector<double>& inputs, std::vector<double>& rateScale);

    /// Load the model and check its kind, inputs and outputs.
    explicit EddyViscosityClosure(const std::string& modelPath, const ModelOptions& options = ModelOptions());

    const Model& model() const { return model_; }

    /// Whether the model reads nuRatio (then computeNut needs nu).
    bool readsRegime() const { return regime_; }

    /// nu_t for @p n cells: @p gradU holds n row-major 3x3 tensors
    /// (9 doubles per cell, as OpenFOAM's volTensorField), @p delta the filter
    /// widths, @p nu the molecular viscosity (n values; may be null for a
    /// model without nuRatio). Buffers are kept between calls (no allocation
    /// at fixed n).
    void computeNut(const double* gradU, const double* delta, const double* nu, std::size_t n, double* nut);

    /// The invariants (n x featureCount) and the rate scale s (n) of
    /// @p n velocity gradients.
    static void computeFeatures(const double* gradU, std::size_t n, double* features, double* rateScale);

private:
    Model model_;
    bool regime_;
    std::vector<double> features_;
    std::vector<double> rateScale_;
    std::vector<double> nutStar_;
};

} // namespace mlcfd

#endif
