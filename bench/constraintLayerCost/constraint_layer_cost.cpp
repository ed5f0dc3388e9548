// Wall time of the ProbConserv constraint layer (mlcfd::LinearConstraint) on
// its dense (Cholesky) and matrix-free (CG) paths, m = 100 .. 100000 rows.
// Prints a markdown table.
//
//   constraint_layer_cost [maxRows=102400] [repeats=3]
#include "mlcfd/GridMatrices.h"
#include "mlcfd/LinearConstraint.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace mlcfd;

namespace
{

// m x n, @p perRow random entries per row at random columns.
CSRMatrix randomSparse(std::size_t m, std::size_t n, std::size_t perRow, std::mt19937_64& rng)
{
    CSRMatrix G;
    G.rows = m;
    G.cols = n;
    G.rowStart.push_back(0);
    std::uniform_int_distribution<std::size_t> col(0, n - 1);
    std::normal_distribution<double> normal;
    for (std::size_t i = 0; i < m; ++i)
    {
        std::vector<std::size_t> cols;
        while (cols.size() < perRow)
        {
            const std::size_t c = col(rng);
            if (std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
        }
        std::sort(cols.begin(), cols.end());
        for (std::size_t c : cols)
        {
            G.column.push_back(c);
            G.value.push_back(normal(rng));
        }
        G.rowStart.push_back(G.column.size());
    }
    return G;
}

void run(
    const std::string& name, const CSRMatrix& G, ConstraintSolver solver, int repeats, std::mt19937_64& rng)
{
    LinearConstraintOptions options;
    options.solver = solver;
    LinearConstraint constraint(G, options);
    std::normal_distribution<double> normal;
    std::vector<double> mu(G.cols), variance(G.cols), b(G.rows), u(G.cols);
    for (double& v : mu) v = normal(rng);
    for (double& v : variance) v = 0.5 + std::abs(normal(rng));
    for (double& v : b) v = 0.01 * normal(rng);

    // First call: includes forming and factorising G Sigma G^T on the dense path.
    const ConstraintReport first = constraint.apply(mu.data(), variance.data(), b.data(), u.data(), nullptr);
    double best = 1e30;
    ConstraintReport report = first;
    for (int r = 0; r < repeats; ++r)
    {
        report = constraint.apply(mu.data(), variance.data(), b.data(), u.data(), nullptr);
        best = std::min(best, report.seconds);
    }
    std::printf("| %s | %s | %zu | %zu | %zu | %.3g | %.3g | %zu | %.1e |\n", name.c_str(),
        solverName(report.solver), G.rows, G.cols, G.value.size(), 1e3 * first.seconds, 1e3 * best,
        report.iterations, report.constraintResidual);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv)
{
    const std::size_t maxRows = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 102400;
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
    std::mt19937_64 rng(1);

    std::printf(
        "| G | solver | m | n | nnz | first call [ms] | repeat call [ms] | CG iterations | residual |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (std::size_t m : {100, 300, 1000, 2000, 10000, 100000})
    {
        if (m > maxRows) break;
        const CSRMatrix G = randomSparse(m, 10 * m, 10, rng);
        if (m <= 2000) run("random, 10/row", G, ConstraintSolver::cholesky, repeats, rng);
        run("random, 10/row", G, ConstraintSolver::conjugateGradient, repeats, rng);
    }
    for (std::size_t nx : {10, 32, 45, 100, 320})
    {
        if (nx * nx > maxRows) break;
        const CSRMatrix G = faceDivergenceMatrix(nx, nx);
        const std::string name = "divergence " + std::to_string(nx) + "^2";
        if (G.rows <= 2000) run(name, G, ConstraintSolver::cholesky, repeats, rng);
        run(name, G, ConstraintSolver::conjugateGradient, repeats, rng);
    }
    return 0;
}
