// mlcfd: learned eddy-viscosity closure on plain arrays (framework-free).
#ifndef MLCFD_EDDY_VISCOSITY_CLOSURE_H
#define MLCFD_EDDY_VISCOSITY_CLOSURE_H

#include "mlcfd/Model.h"

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
/// Where A = 0 the features are 0 and nu_t = 0.
class EddyViscosityClosure
{
public:
    static constexpr std::size_t featureCount = 6;
    /// Input names a model of this kind must declare, in order.
    static const std::vector<std::string>& featureNames();
    static const char* const kind;

    /// Load the model and check its kind, inputs and outputs.
    explicit EddyViscosityClosure(const std::string& modelPath, const ModelOptions& options = ModelOptions());

    const Model& model() const { return model_; }

    /// nu_t for @p n cells: @p gradU holds n row-major 3x3 tensors
    /// (9 doubles per cell, as OpenFOAM's volTensorField), @p delta the filter
    /// widths. Buffers are kept between calls (no allocation at fixed n).
    void computeNut(const double* gradU, const double* delta, std::size_t n, double* nut);

    /// The invariants (n x featureCount) and the rate scale s (n) of
    /// @p n velocity gradients.
    static void computeFeatures(const double* gradU, std::size_t n, double* features, double* rateScale);

private:
    Model model_;
    std::vector<double> features_;
    std::vector<double> rateScale_;
    std::vector<double> nutStar_;
};

} // namespace mlcfd

#endif
