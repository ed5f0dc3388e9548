#include "mlcfd/DICPreconditioner.h"

#include <stdexcept>
#include <string>

namespace mlcfd
{

DICPreconditioner::DICPreconditioner(const CSRMatrix& A) : A_(A), reciprocalDiagonal_(A.rows)
{
    A.check("DICPreconditioner: the matrix");
    for (std::size_t row = 0; row < A.rows; ++row)
    {
        for (std::int64_t e = A.rowStart[row] + 1; e < A.rowStart[row + 1]; ++e)
        {
            if (A.column[e] <= A.column[e - 1])
            {
                throw std::invalid_argument("DICPreconditioner: the columns of row " + std::to_string(row)
                                            + " are not sorted ascending");
            }
        }
    }
    // D_u = A_uu - sum_{l<u} A_lu^2 / D_l
    std::vector<double>& D = reciprocalDiagonal_;
    for (std::size_t u = 0; u < A.rows; ++u)
    {
        double d = A.diagonal(u);
        for (std::int64_t e = A.rowStart[u];
             e < A.rowStart[u + 1] && A.column[e] < static_cast<std::int64_t>(u); ++e)
        {
            d -= A.value[e] * A.value[e] / D[A.column[e]];
        }
        D[u] = d;
    }
    for (std::size_t u = 0; u < A.rows; ++u)
    {
        if (!(D[u] > 0))
        {
            throw std::runtime_error("DICPreconditioner: non-positive pivot " + std::to_string(D[u])
                                     + " in row " + std::to_string(u)
                                     + " (the matrix is not a positive definite M-matrix)");
        }
        D[u] = 1.0 / D[u];
    }
}

void DICPreconditioner::apply(const std::vector<double>& r, std::vector<double>& w) const
{
    const CSRMatrix& A = A_;
    const std::vector<double>& rD = reciprocalDiagonal_;
    w.resize(A.rows);
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

} // namespace mlcfd
