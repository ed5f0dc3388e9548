#include "mlcfd/DICPreconditioner.h"

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
    : A_(A), reciprocalDiagonal_(A.rows)
{
    A.check("DICPreconditioner: the matrix");
    if (!(omega >= 0 && omega <= 1))
    {
        throw std::invalid_argument("DICPreconditioner: omega = " + std::to_string(omega)
                                    + " must lie in [0, 1] (0: DIC, 1: fully modified)");
    }
    const auto upper = [&A](std::size_t row, std::int64_t k)
    { return A.column[k] > static_cast<std::int64_t>(row); };
    // Sum of the upper-triangle entries of each row (MIC's dropped fill-in).
    std::vector<double> upperSum(A.rows, 0.0);
    for (std::size_t row = 0; row < A.rows; ++row)
    {
        for (std::int64_t k = A.rowStart[row]; k < A.rowStart[row + 1]; ++k)
        {
            if (k > A.rowStart[row] && A.column[k] <= A.column[k - 1])
            {
                throw std::invalid_argument("DICPreconditioner: the columns of row " + std::to_string(row)
                                            + " are not sorted ascending");
            }
            if (upper(row, k)) upperSum[row] += A.value[k];
        }
        if (!(A.diagonal(row) > 0))
        {
            throw std::invalid_argument("DICPreconditioner: the diagonal entry of row " + std::to_string(row)
                                        + " is " + std::to_string(A.diagonal(row)) + ", not positive");
        }
    }
    std::vector<double>& D = reciprocalDiagonal_;
    for (std::size_t u = 0; u < A.rows; ++u)
    {
        double dic = A.diagonal(u), modified = dic;
        for (std::int64_t k = A.rowStart[u];
             k < A.rowStart[u + 1] && A.column[k] < static_cast<std::int64_t>(u); ++k)
        {
            const double a = A.value[k], Dl = D[A.column[k]];
            dic -= a * a / Dl;
            if (omega > 0) modified -= a * (a + omega * (upperSum[A.column[k]] - a)) / Dl;
        }
        double pivot = given ? (*given)[u] : omega > 0 ? modified : dic;
        // A pivot outside (0, A_uu] is replaced: DIC's and MIC's lie inside,
        // and a larger given one would only weaken M (a huge D is Jacobi).
        if (!(pivot > 0 && pivot <= A.diagonal(u)))
        {
            pivot = dic > 0 && std::isfinite(dic) ? dic : A.diagonal(u);
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
    const CSRMatrix& A = A_;
    const std::vector<double>& rD = reciprocalDiagonal_;
    for (std::size_t cell = 0; cell < A.rows; ++cell) w[cell] = rD[cell] * r[cell];
    // forward: face (l, u) ascending: w_u -= rD_u A_lu w_l
    for (std::size_t u = 0; u < A.rows; ++u)
    {
        for (std::int64_t e = A.rowStart[u];
             e < A.rowStart[u + 1] && A.column[e] < static_cast<std::int64_t>(u); ++e)
        {
            w[u] -= rD[u] * A.value[e] * w[A.column[e]];
        }
    }
    // backward: face (l, u) descending: w_l -= rD_l A_lu w_u
    for (std::size_t l = A.rows; l-- > 0;)
    {
        for (std::int64_t e = A.rowStart[l + 1];
             e-- > A.rowStart[l] && A.column[e] > static_cast<std::int64_t>(l);)
        {
            w[l] -= rD[l] * A.value[e] * w[A.column[e]];
        }
    }
}

void DICPreconditioner::apply(const std::vector<double>& r, std::vector<double>& w) const
{
    w.resize(A_.rows);
    apply(r.data(), w.data());
}

} // namespace mlcfd
