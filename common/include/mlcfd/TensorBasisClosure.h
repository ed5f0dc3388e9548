// mlcfd: learned tensor-basis subgrid stress on plain arrays (framework-free).
#ifndef MLCFD_TENSOR_BASIS_CLOSURE_H
#define MLCFD_TENSOR_BASIS_CLOSURE_H

#include "mlcfd/Model.h"

#include <string>
#include <vector>

namespace mlcfd
{

/// Anisotropic subgrid stress from a model of kind "tensorBasis".
///
/// The model sees the six invariants of EddyViscosityClosure (inputs named
/// as EddyViscosityClosure::featureNames(), optionally followed by its
/// regime input nuRatio) and returns N <= 10 coefficients
/// g_1..g_N (outputs "g1".."gN") of Pope's (1975) integrity basis T_n of the
/// normalised strain and rotation rates S* = S/s, W* = W/s (s = |grad U|):
///
///     tau = delta^2 s^2 sum_n g_n T_n(S*, W*)
///
/// (T_1 = S*, T_2 = S*W* - W*S*, T_3 = S*^2 - tr(S*^2) I/3, ...). Rotating
/// the velocity gradient rotates tau (the invariants do not change and each
/// T_n rotates), the stress scales with the units, and it is Galilean
/// invariant. For the momentum equation tau is split into an implicit eddy
/// viscosity and the explicit rest:
///
///     nu_t = max(0, -g_1/2) delta^2 s,    tauExtra = tau + 2 nu_t S
///
/// so that tau = -2 nu_t S + tauExtra exactly, with nu_t >= 0.
class TensorBasisClosure
{
public:
    static constexpr std::size_t maxBasis = 10;
    static const char* const kind;

    /// Output names a model with @p count coefficients must declare.
    static std::vector<std::string> outputNames(std::size_t count);

    /// Load the model and check its kind, inputs and outputs.
    explicit TensorBasisClosure(const std::string& modelPath, const ModelOptions& options = ModelOptions());

    const Model& model() const { return model_; }
    std::size_t basisCount() const { return model_.outputCount(); }

    /// Whether the model reads nuRatio (then nu must be given).
    bool readsRegime() const { return regime_; }

    /// For @p n cells (gradU: 9 row-major doubles per cell, as OpenFOAM's
    /// volTensorField; delta: filter widths; nu: molecular viscosity, may be
    /// null for a model without nuRatio): the eddy viscosity @p nut (n)
    /// and the explicit stress @p tauExtra (n x 6 symmetric components
    /// xx xy xz yy yz zz, as OpenFOAM's symmTensor).
    void computeStress(const double* gradU, const double* delta, const double* nu, std::size_t n, double* nut,
        double* tauExtra);

    /// The full stress tau (n x 6) for @p n cells (for tests and a-priori
    /// analysis).
    void computeTotalStress(
        const double* gradU, const double* delta, const double* nu, std::size_t n, double* tau);

    /// The first @p count of Pope's ten basis tensors (row-major 3x3 each)
    /// of S and W.
    static void basis(
        const double S[9], const double W[9], double T[maxBasis][9], std::size_t count = maxBasis);

private:
    void evaluate(const double* gradU, const double* delta, const double* nu, std::size_t n);

    Model model_;
    bool regime_;
    std::vector<double> features_;
    std::vector<double> rateScale_;
    std::vector<double> coefficients_;
};

} // namespace mlcfd

#endif
