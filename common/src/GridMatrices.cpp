#include "mlcfd/GridMatrices.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace mlcfd
{

CSRMatrix poissonMatrix(const std::vector<std::int64_t>& cells, PoissonBoundary boundary,
    const std::vector<double>& cellCoefficient)
{
    const std::size_t dim = cells.size();
    if (dim < 1 || dim > 3)
    {
        throw std::invalid_argument(
            "poissonMatrix: " + std::to_string(dim) + " grid sizes given, 1 to 3 expected");
    }
    std::int64_t extents[3] = {1, 1, 1};
    for (std::size_t d = 0; d < dim; ++d)
    {
        if (cells[d] < 1)
        {
            throw std::invalid_argument("poissonMatrix: grid size " + std::to_string(cells[d])
                                        + " in direction " + std::to_string(d) + " must be positive");
        }
        extents[d] = cells[d];
    }
    const std::int64_t nx = extents[0], ny = extents[1], nz = extents[2];
    const std::size_t n = static_cast<std::size_t>(nx * ny * nz);
    if (!cellCoefficient.empty() && cellCoefficient.size() != n)
    {
        throw std::invalid_argument("poissonMatrix: " + std::to_string(cellCoefficient.size())
                                    + " cell coefficients for " + std::to_string(n) + " cells");
    }
    for (std::size_t c = 0; c < cellCoefficient.size(); ++c)
    {
        if (!(cellCoefficient[c] > 0) || !std::isfinite(cellCoefficient[c]))
        {
            throw std::invalid_argument("poissonMatrix: cell coefficient "
                                        + std::to_string(cellCoefficient[c]) + " of cell " + std::to_string(c)
                                        + " must be positive and finite");
        }
    }
    const auto k = [&cellCoefficient](std::int64_t cell)
    { return cellCoefficient.empty() ? 1.0 : cellCoefficient[cell]; };
    const auto face = [&k](std::int64_t a, std::int64_t b) { return 2 * k(a) * k(b) / (k(a) + k(b)); };
    const double boundaryFace = boundary == PoissonBoundary::dirichlet ? 2.0 : 0.0;

    CSRMatrix A;
    A.rows = n;
    A.rowStart.reserve(n + 1);
    A.column.reserve(n * (2 * dim + 1));
    A.value.reserve(n * (2 * dim + 1));
    A.rowStart.push_back(0);
    // Neighbour offsets in ascending column order, the diagonal in between.
    const std::int64_t strides[3] = {1, nx, nx * ny};
    for (std::int64_t kz = 0; kz < nz; ++kz)
        for (std::int64_t j = 0; j < ny; ++j)
            for (std::int64_t i = 0; i < nx; ++i)
            {
                const std::int64_t row = i + nx * (j + ny * kz);
                const std::int64_t index[3] = {i, j, kz};
                double diagonal = 0;
                for (std::size_t d = dim; d-- > 0;)
                {
                    if (index[d] > 0)
                    {
                        const double a = face(row, row - strides[d]);
                        A.column.push_back(row - strides[d]);
                        A.value.push_back(-a);
                        diagonal += a;
                    }
                    else
                    {
                        diagonal += boundaryFace * k(row);
                    }
                }
                const std::size_t diagonalEntry = A.column.size();
                A.column.push_back(row);
                A.value.push_back(0);
                for (std::size_t d = 0; d < dim; ++d)
                {
                    if (index[d] + 1 < extents[d])
                    {
                        const double a = face(row, row + strides[d]);
                        A.column.push_back(row + strides[d]);
                        A.value.push_back(-a);
                        diagonal += a;
                    }
                    else
                    {
                        diagonal += boundaryFace * k(row);
                    }
                }
                A.value[diagonalEntry] = diagonal;
                A.rowStart.push_back(static_cast<std::int64_t>(A.column.size()));
            }
    return A;
}

CSRMatrix faceDivergenceMatrix(std::size_t nx, std::size_t ny)
{
    CSRMatrix G;
    G.rows = nx * ny;
    G.cols = (nx + 1) * ny + nx * (ny + 1);
    G.rowStart.push_back(0);
    const std::size_t yFaces = (nx + 1) * ny;
    for (std::size_t j = 0; j < ny; ++j)
        for (std::size_t i = 0; i < nx; ++i)
        {
            for (const std::size_t face :
                {j * (nx + 1) + i, j * (nx + 1) + i + 1, yFaces + j * nx + i, yFaces + (j + 1) * nx + i})
            {
                G.column.push_back(static_cast<std::int64_t>(face));
            }
            G.value.insert(G.value.end(), {-1.0, 1.0, -1.0, 1.0});
            G.rowStart.push_back(static_cast<std::int64_t>(G.column.size()));
        }
    return G;
}

} // namespace mlcfd
