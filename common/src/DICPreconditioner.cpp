#include "mlcfd/DICPreconditioner.h"

#include <climits>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mlcfd
{

DICPreconditioner::DICPreconditioner(const CSRMatrix& A, double omega) : DICPreconditioner(A, omega, nullptr)
{
}

DICPreconditioner DICPreconditioner::fromDiagonal(const CSRMatrix& A, const std::vector<double>& D)
{
    if (D.size() != A.rows)
    {
        throw std::invalid_argument("DICPreconditioner::fromDiagonal: " + std::to_string(D.size())
                                    + " diagonal values for " + std::to_string(A.rows) + " rows");
    }
    return DICPreconditioner(A, 0, &D);
}

DICPreconditioner::DICPreconditioner(const CSRMatrix& A, double omega, const std::vector<double>* given)
    : reciprocalDiagonal_(A.rows)
{
    A.check("DICPreconditioner: the matrix");
    if (!(omega >= 0 && omega <= 1))
    {
        throw std::invalid_argument("DICPreconditioner: omega = " + std::to_string(omega)
                                    + " must lie in [0, 1] (0: DIC, 1: fully modified)");
    }
    if (A.rows > static_cast<std::size_t>(INT32_MAX))
    {
        throw std::invalid_argument(
            "DICPreconditioner: " + std::to_string(A.rows) + " rows, at most 2^31 - 1");
    }
    // One pass: the diagonal, the two triangles and the sum of each row's
    // upper entries (MIC's dropped fill-in).
    const std::size_t offDiagonal = A.nonzeros() > A.rows ? A.nonzeros() - A.rows : 0;
    for (Triangle* t : {&lower_, &upper_})
    {
        t->start.reserve(A.rows + 1);
        t->start.assign(1, 0);
        t->column.reserve(offDiagonal / 2 + 1);
        t->value.reserve(offDiagonal / 2 + 1);
    }
    std::vector<double> diagonal(A.rows, 0.0), upperSum(A.rows, 0.0);
    for (std::size_t row = 0; row < A.rows; ++row)
    {
        const auto self = static_cast<std::int64_t>(row);
        for (std::int64_t k = A.rowStart[row]; k < A.rowStart[row + 1]; ++k)
        {
            if (k > A.rowStart[row] && A.column[k] <= A.column[k - 1])
            {
                throw std::invalid_argument("DICPreconditioner: the columns of row " + std::to_string(row)
                                            + " are not sorted ascending");
            }
            if (A.column[k] == self)
            {
                diagonal[row] = A.value[k];
                continue;
            }
            Triangle& t = A.column[k] > self ? upper_ : lower_;
            t.column.push_back(static_cast<std::int32_t>(A.column[k]));
            t.value.push_back(A.value[k]);
            if (A.column[k] > self) upperSum[row] += A.value[k];
        }
        lower_.start.push_back(lower_.column.size());
        upper_.start.push_back(upper_.column.size());
        if (!(diagonal[row] > 0))
        {
            throw std::invalid_argument("DICPreconditioner: the diagonal entry of row " + std::to_string(row)
                                        + " is " + std::to_string(diagonal[row]) + ", not positive");
        }
    }
    std::vector<double>& D = reciprocalDiagonal_;
    for (std::size_t u = 0; u < A.rows; ++u)
    {
        // DIC's pivot, with the arithmetic of OpenFOAM's DIC.
        const auto dicPivot = [&]()
        {
            double d = diagonal[u];
            for (std::size_t k = lower_.start[u]; k < lower_.start[u + 1]; ++k)
            {
                d -= lower_.value[k] * lower_.value[k] / D[lower_.column[k]];
            }
            return d;
        };
        double modified = diagonal[u];
        if (omega > 0)
        {
            for (std::size_t k = lower_.start[u]; k < lower_.start[u + 1]; ++k)
            {
                const double a = lower_.value[k];
                modified -= a * (a + omega * (upperSum[lower_.column[k]] - a)) / D[lower_.column[k]];
            }
        }
        const double dic = omega > 0 || given ? 0 : dicPivot();
        double pivot = given ? (*given)[u] : omega > 0 ? modified : dic;
        // A pivot outside (0, A_uu] is replaced: DIC's and MIC's lie inside,
        // and a larger given one would only weaken M (a huge D is Jacobi).
        if (!(pivot > 0 && pivot <= diagonal[u]))
        {
            const double fallback = omega > 0 || given ? dicPivot() : dic;
            pivot = fallback > 0 && std::isfinite(fallback) ? fallback : diagonal[u];
            if (given || omega > 0)
            {
                ++replacedPivots_;
            }
            else if (!(dic > 0))
            {
                throw std::runtime_error("DICPreconditioner: non-positive pivot " + std::to_string(dic)
                                         + " in row " + std::to_string(u)
                                         + " (the matrix is not a positive definite M-matrix)");
            }
        }
        D[u] = pivot;
    }
    for (double& d : D) d = 1.0 / d;
}

void DICPreconditioner::apply(const double* r, double* w) const
{
    const std::vector<double>& rD = reciprocalDiagonal_;
    const std::size_t rows = rD.size();
    for (std::size_t cell = 0; cell < rows; ++cell) w[cell] = rD[cell] * r[cell];
    // forward: face (l, u) ascending: w_u -= rD_u A_lu w_l
    for (std::size_t u = 0; u < rows; ++u)
    {
        for (std::size_t k = lower_.start[u]; k < lower_.start[u + 1]; ++k)
        {
            w[u] -= rD[u] * lower_.value[k] * w[lower_.column[k]];
        }
    }
    // backward: face (l, u) descending: w_l -= rD_l A_lu w_u
    for (std::size_t l = rows; l-- > 0;)
    {
        for (std::size_t k = upper_.start[l + 1]; k-- > upper_.start[l];)
        {
            w[l] -= rD[l] * upper_.value[k] * w[upper_.column[k]];
        }
    }
}

void DICPreconditioner::apply(const std::vector<double>& r, std::vector<double>& w) const
{
    w.resize(reciprocalDiagonal_.size());
    apply(r.data(), w.data());
}

} // namespace mlcfd
