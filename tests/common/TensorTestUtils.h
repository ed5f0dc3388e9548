// 3x3 tensor helpers shared by the closure tests (row-major, as OpenFOAM).
#ifndef MLCFD_TENSOR_TEST_UTILS_H
#define MLCFD_TENSOR_TEST_UTILS_H

#include <array>
#include <cmath>

namespace mlcfd_test
{

using Tensor = std::array<double, 9>;

inline Tensor multiply(const Tensor& a, const Tensor& b)
{
    Tensor c{};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) c[3 * i + j] += a[3 * i + k] * b[3 * k + j];
    return c;
}

inline Tensor transpose(const Tensor& a)
{
    Tensor t;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) t[3 * i + j] = a[3 * j + i];
    return t;
}

/// A proper rotation about the axis (x, y, z), from Rodrigues' formula.
inline Tensor rotation(double angle, double x, double y, double z)
{
    const double n = std::sqrt(x * x + y * y + z * z);
    x /= n;
    y /= n;
    z /= n;
    const double c = std::cos(angle), s = std::sin(angle), C = 1 - c;
    return {c + x * x * C, x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, c + y * y * C,
        y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, c + z * z * C};
}

} // namespace mlcfd_test

#endif
