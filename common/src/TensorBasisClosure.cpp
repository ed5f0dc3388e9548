#include "mlcfd/TensorBasisClosure.h"
#include "mlcfd/EddyViscosityClosure.h"

#include <algorithm>

namespace mlcfd
{

const char* const TensorBasisClosure::kind = "tensorBasis";

namespace
{

using Matrix = double[9];

void multiply(const double* A, const double* B, double* C)
{
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
        {
            double sum = 0;
            for (int k = 0; k < 3; ++k) sum += A[3 * i + k] * B[3 * k + j];
            C[3 * i + j] = sum;
        }
}

double trace(const double* A)
{
    return A[0] + A[4] + A[8];
}

// C = A + B - (2/3)*tr(A) I with B = A^T-like partner (the symmetric sums
// of the basis), or C = A - B.
void combine(const double* A, const double* B, double sign, double* C)
{
    for (int k = 0; k < 9; ++k) C[k] = A[k] + sign * B[k];
}

void removeTrace(double* A)
{
    const double third = trace(A) / 3;
    A[0] -= third;
    A[4] -= third;
    A[8] -= third;
}

// Symmetric 3x3 (row-major) to OpenFOAM's symmTensor order.
void toSymm(const double* A, double* s6)
{
    s6[0] = A[0];
    s6[1] = 0.5 * (A[1] + A[3]);
    s6[2] = 0.5 * (A[2] + A[6]);
    s6[3] = A[4];
    s6[4] = 0.5 * (A[5] + A[7]);
    s6[5] = A[8];
}

} // namespace

std::vector<std::string> TensorBasisClosure::outputNames(std::size_t count)
{
    std::vector<std::string> names;
    for (std::size_t n = 1; n <= count; ++n) names.push_back("g" + std::to_string(n));
    return names;
}

TensorBasisClosure::TensorBasisClosure(const std::string& modelPath, const ModelOptions& options)
    : model_(modelPath, options)
{
    const ModelMetadata& meta = model_.metadata();
    if (meta.kind != kind)
    {
        throw ModelError(modelPath,
            "metadata entry 'kind' is '" + meta.kind + "' but a tensor-basis closure needs '" + kind + "'");
    }
    regime_ = EddyViscosityClosure::readsRegime(meta, modelPath, "a tensor-basis closure");
    if (meta.outputCount() > maxBasis || meta.outputs != outputNames(meta.outputCount()))
    {
        throw ModelError(modelPath, "metadata entry 'outputs' must be g1 .. gN with N <= 10"
                                    " (coefficients of Pope's tensor basis)");
    }
}

void TensorBasisClosure::basis(const double S[9], const double W[9], double T[maxBasis][9], std::size_t count)
{
    // Only the products the first 'count' tensors need (the closure's hot
    // loop runs this for every cell).
    Matrix SW, WS, S2, W2, WS2, S2W, W2S, SW2, WSW2, W2SW, SWS2, S2WS, W2S2, S2W2, WS2W2, W2S2W;
    std::copy(S, S + 9, T[0]);
    if (count < 2) return;
    multiply(S, W, SW);
    multiply(W, S, WS);
    combine(SW, WS, -1, T[1]);
    if (count < 3) return;
    multiply(S, S, S2);
    std::copy(S2, S2 + 9, T[2]);
    removeTrace(T[2]);
    if (count < 4) return;
    multiply(W, W, W2);
    std::copy(W2, W2 + 9, T[3]);
    removeTrace(T[3]);
    if (count < 5) return;
    multiply(W, S2, WS2);
    multiply(S2, W, S2W);
    combine(WS2, S2W, -1, T[4]);
    if (count < 6) return;
    multiply(W2, S, W2S);
    multiply(S, W2, SW2);
    combine(W2S, SW2, +1, T[5]);
    removeTrace(T[5]);
    if (count < 7) return;
    multiply(WS, W2, WSW2);
    multiply(W2, SW, W2SW);
    combine(WSW2, W2SW, -1, T[6]);
    if (count < 8) return;
    multiply(SW, S2, SWS2);
    multiply(S2, WS, S2WS);
    combine(SWS2, S2WS, -1, T[7]);
    if (count < 9) return;
    multiply(W2, S2, W2S2);
    multiply(S2, W2, S2W2);
    combine(W2S2, S2W2, +1, T[8]);
    removeTrace(T[8]);
    if (count < 10) return;
    multiply(WS2, W2, WS2W2);
    multiply(W2S2, W, W2S2W);
    combine(WS2W2, W2S2W, -1, T[9]);
}

void TensorBasisClosure::evaluate(const double* gradU, const double* delta, const double* nu, std::size_t n)
{
    const std::size_t count = basisCount();
    coefficients_.resize(count * n);
    EddyViscosityClosure::computeInputs(gradU, delta, nu, n, regime_, features_, rateScale_);
    model_.evaluate(features_.data(), n, model_.inputCount(), coefficients_.data(), count);
}

void TensorBasisClosure::computeTotalStress(
    const double* gradU, const double* delta, const double* nu, std::size_t n, double* tau)
{
    std::vector<double> nut(n), extra(6 * n);
    computeStress(gradU, delta, nu, n, nut.data(), extra.data());
    for (std::size_t cell = 0; cell < n; ++cell)
    {
        const double* A = gradU + 9 * cell;
        const double S[6] = {A[0], 0.5 * (A[1] + A[3]), 0.5 * (A[2] + A[6]), A[4], 0.5 * (A[5] + A[7]), A[8]};
        for (int k = 0; k < 6; ++k) tau[6 * cell + k] = extra[6 * cell + k] - 2 * nut[cell] * S[k];
    }
}

void TensorBasisClosure::computeStress(
    const double* gradU, const double* delta, const double* nu, std::size_t n, double* nut, double* tauExtra)
{
    evaluate(gradU, delta, nu, n);
    const std::size_t count = basisCount();

    for (std::size_t cell = 0; cell < n; ++cell)
    {
        const double s = rateScale_[cell];
        double* extra = tauExtra + 6 * cell;
        if (s == 0)
        {
            nut[cell] = 0;
            std::fill(extra, extra + 6, 0.0);
            continue;
        }
        const double* A = gradU + 9 * cell;
        Matrix S, W;
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j)
            {
                S[3 * i + j] = 0.5 * (A[3 * i + j] + A[3 * j + i]) / s;
                W[3 * i + j] = 0.5 * (A[3 * i + j] - A[3 * j + i]) / s;
            }
        double T[maxBasis][9];
        basis(S, W, T, count);

        const double* g = coefficients_.data() + count * cell;
        const double scale = delta[cell] * delta[cell] * s * s;
        // nu_t >= 0 carries the dissipative part of g_1 implicitly.
        const double nutStar = std::max(0.0, -0.5 * g[0]);
        nut[cell] = nutStar * delta[cell] * delta[cell] * s;

        Matrix tau = {};
        for (std::size_t b = 0; b < count; ++b)
        {
            const double weight = (b == 0 ? g[0] + 2 * nutStar : g[b]) * scale;
            if (weight == 0) continue;
            for (int k = 0; k < 9; ++k) tau[k] += weight * T[b][k];
        }
        toSymm(tau, extra);
    }
}

} // namespace mlcfd
