#include "mlcfd/EddyViscosityClosure.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mlcfd
{

const char* const EddyViscosityClosure::kind = "eddyViscosity";
const char* const EddyViscosityClosure::regimeFeatureName = "nuRatio";

const std::vector<std::string>& EddyViscosityClosure::featureNames()
{
    static const std::vector<std::string> names{"trS", "trS2", "trW2", "trS3", "trW2S", "trW2S2"};
    return names;
}

bool EddyViscosityClosure::readsRegime(
    const ModelMetadata& meta, const std::string& modelPath, const std::string& closure)
{
    std::vector<std::string> withRegime = featureNames();
    withRegime.push_back(regimeFeatureName);
    if (meta.inputs == featureNames()) return false;
    if (meta.inputs == withRegime) return true;
    std::string six;
    for (const auto& name : featureNames()) six += (six.empty() ? "" : " ") + name;
    throw ModelError(modelPath, "metadata entry 'inputs' must be (" + six + ") or (" + six + " "
                                    + regimeFeatureName + ") for " + closure);
}

EddyViscosityClosure::EddyViscosityClosure(const std::string& modelPath, const ModelOptions& options)
    : model_(modelPath, options)
{
    const ModelMetadata& meta = model_.metadata();
    if (meta.kind != kind)
    {
        throw ModelError(modelPath, "metadata entry 'kind' is '" + meta.kind
                                        + "' but an eddy-viscosity closure needs '" + kind + "'");
    }
    regime_ = readsRegime(meta, modelPath, "an eddy-viscosity closure");
    if (meta.outputCount() != 1)
    {
        throw ModelError(modelPath, "metadata entry 'outputs' must name exactly one output"
                                    " (nutStar) for an eddy-viscosity closure");
    }
}

void EddyViscosityClosure::computeFeatures(
    const double* gradU, std::size_t n, double* features, double* rateScale)
{
    for (std::size_t cell = 0; cell < n; ++cell)
    {
        const double* A = gradU + 9 * cell;
        double* f = features + featureCount * cell;

        double S[3][3], W[3][3], AA = 0;
        for (int i = 0; i < 3; ++i)
        {
            for (int j = 0; j < 3; ++j)
            {
                S[i][j] = 0.5 * (A[3 * i + j] + A[3 * j + i]);
                W[i][j] = 0.5 * (A[3 * i + j] - A[3 * j + i]);
                AA += A[3 * i + j] * A[3 * i + j];
            }
        }
        const double s = std::sqrt(AA);
        rateScale[cell] = s;
        if (s == 0)
        {
            std::fill(f, f + featureCount, 0.0);
            continue;
        }

        // S2 = S.S and W2 = W.W; every invariant is a trace of a product
        // of these, tr(XY) = sum_ij X_ij Y_ji (no third product needed).
        double S2[3][3] = {}, W2[3][3] = {};
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j)
                for (int k = 0; k < 3; ++k)
                {
                    S2[i][j] += S[i][k] * S[k][j];
                    W2[i][j] += W[i][k] * W[k][j];
                }

        double trS = 0, trS2 = 0, trW2 = 0, trS3 = 0, trW2S = 0, trW2S2 = 0;
        for (int i = 0; i < 3; ++i)
        {
            trS += S[i][i];
            trS2 += S2[i][i];
            trW2 += W2[i][i];
            for (int j = 0; j < 3; ++j)
            {
                trS3 += S2[i][j] * S[j][i];
                trW2S += W2[i][j] * S[j][i];
                trW2S2 += W2[i][j] * S2[j][i];
            }
        }
        const double s2 = s * s;
        f[0] = trS / s;
        f[1] = trS2 / s2;
        f[2] = trW2 / s2;
        f[3] = trS3 / (s2 * s);
        f[4] = trW2S / (s2 * s);
        f[5] = trW2S2 / (s2 * s2);
    }
}

void EddyViscosityClosure::computeInputs(const double* gradU, const double* delta, const double* nu,
    std::size_t n, bool regime, std::vector<double>& inputs, std::vector<double>& rateScale)
{
    rateScale.resize(n);
    if (!regime)
    {
        inputs.resize(featureCount * n);
        computeFeatures(gradU, n, inputs.data(), rateScale.data());
        return;
    }
    if (nu == nullptr)
    {
        throw std::invalid_argument(std::string("closure model reads ") + regimeFeatureName
                                    + ": the molecular viscosity nu is needed");
    }
    // The invariants first (n x 6), then spread to n x 7 from the end.
    constexpr std::size_t width = featureCount + 1;
    inputs.resize(width * n);
    computeFeatures(gradU, n, inputs.data(), rateScale.data());
    for (std::size_t cell = n; cell-- > 0;)
    {
        double* row = inputs.data() + width * cell;
        std::copy_backward(inputs.data() + featureCount * cell, inputs.data() + featureCount * (cell + 1),
            row + featureCount);
        const double s = rateScale[cell];
        row[featureCount] = s > 0 ? nu[cell] / (delta[cell] * delta[cell] * s) : 0.0;
    }
}

void EddyViscosityClosure::computeNut(
    const double* gradU, const double* delta, const double* nu, std::size_t n, double* nut)
{
    nutStar_.resize(n);
    computeInputs(gradU, delta, nu, n, regime_, features_, rateScale_);
    model_.evaluate(features_.data(), n, model_.inputCount(), nutStar_.data(), 1);
    for (std::size_t cell = 0; cell < n; ++cell)
    {
        // nu_t >= 0 by construction: backscatter through negative viscosity
        // destabilises the momentum equation.
        nut[cell] = std::max(0.0, nutStar_[cell]) * delta[cell] * delta[cell] * rateScale_[cell];
    }
}

} // namespace mlcfd
