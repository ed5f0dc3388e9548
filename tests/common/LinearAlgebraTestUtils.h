// Helpers of the core's linear-algebra tests: seeded right-hand sides and
// the true relative residual.
#ifndef MLCFD_TEST_LINEAR_ALGEBRA_TEST_UTILS_H
#define MLCFD_TEST_LINEAR_ALGEBRA_TEST_UTILS_H

#include "mlcfd/CSRMatrix.h"

#include <cmath>
#include <random>
#include <vector>

namespace mlcfd_test
{

/// n values uniform in [-1, 1] from @p seed.
inline std::vector<double> randomVector(std::size_t n, unsigned seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> v(n);
    for (double& x : v) x = u(rng);
    return v;
}

/// |b - A x| / |b|.
inline double relativeResidual(
    const mlcfd::CSRMatrix& A, const std::vector<double>& b, const std::vector<double>& x)
{
    std::vector<double> Ax(A.rows);
    A.multiply(x.data(), Ax.data());
    double rr = 0, bb = 0;
    for (std::size_t i = 0; i < b.size(); ++i)
    {
        rr += (b[i] - Ax[i]) * (b[i] - Ax[i]);
        bb += b[i] * b[i];
    }
    return std::sqrt(rr / bb);
}

} // namespace mlcfd_test

#endif
