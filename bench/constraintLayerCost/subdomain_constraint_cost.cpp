// Wall time of the decomposed hard constraint (mlcfd::SubdomainConstraint)
// against the global CG projection (mlcfd::LinearConstraint) on the cell
// divergence of a face flux on N x N cells, Sigma = I: the first call (with
// the local factorisations) and a repeat call, 1 and 2 threads, and how far
// each moves the flux (the global projection is the least change).
// Prints a markdown table.
//
//   subdomain_constraint_cost [largestN=1000] [subdomainRows=256,1024]
#include "mlcfd/GridMatrices.h"
#include "mlcfd/LinearConstraint.h"
#include "mlcfd/SubdomainConstraint.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace mlcfd;

namespace
{

double distance(const std::vector<double>& a, const std::vector<double>& b)
{
    double s = 0;
    for (std::size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
    return std::sqrt(s);
}

double seconds(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv)
{
    const std::size_t largest = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
    std::vector<std::size_t> sizes;
    std::istringstream list(argc > 2 ? argv[2] : "256,1024");
    for (std::string item; std::getline(list, item, ',');) sizes.push_back(std::stoul(item));

    std::printf("| cells | method | subdomain rows | subdomains | coarse columns | threads | first call [s] "
                "| repeat call [s] | / global | CG iterations | residual | change / least change |\n");
    std::printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::vector<std::size_t> grids;
    for (std::size_t N : {std::size_t(100), std::size_t(320), std::size_t(1000)})
        if (N < largest) grids.push_back(N);
    grids.push_back(largest);
    for (std::size_t N : grids)
    {
        const CSRMatrix G = faceDivergenceMatrix(N, N);
        std::mt19937_64 rng(N);
        std::normal_distribution<double> normal;
        std::vector<double> mu(G.numCols()), b(G.rows);
        for (double& v : mu) v = normal(rng);
        for (double& v : b) v = normal(rng);

        LinearConstraintOptions cg;
        cg.solver = ConstraintSolver::conjugateGradient;
        LinearConstraint global(G, cg);
        std::vector<double> least = mu;
        auto start = std::chrono::steady_clock::now();
        const ConstraintReport g = global.project(least, b);
        const double globalTime = seconds(start);
        const double leastChange = distance(least, mu);
        std::printf("| %zu | global CG | %zu | 1 | 0 | 1 | %.3g | %.3g | 1 | %zu | %.1e | 1 |\n", G.rows,
            G.rows, globalTime, globalTime, g.iterations, g.constraintResidual);
        std::fflush(stdout);

        for (std::size_t target : sizes)
        {
            start = std::chrono::steady_clock::now();
            const std::vector<std::size_t> part = partitionRows(G, target);
            const double partitionTime = seconds(start);
            for (std::size_t threads : {std::size_t(1), std::size_t(2)})
            {
                SubdomainConstraintOptions options;
                options.threads = threads;
                start = std::chrono::steady_clock::now();
                SubdomainConstraint constraint(G, part, options);
                std::vector<double> u = mu;
                constraint.project(u, b);
                const double first = seconds(start) + partitionTime;
                u = mu;
                start = std::chrono::steady_clock::now();
                const ConstraintReport r = constraint.project(u, b);
                const double repeat = seconds(start);
                std::printf(
                    "| %zu | subdomains | %zu | %zu | %zu | %zu | %.3g | %.3g | %.3f | %zu | %.1e | %.3f |\n",
                    G.rows, target, constraint.subdomains(), constraint.interfaceColumns(), threads, first,
                    repeat, repeat / globalTime, r.iterations, r.constraintResidual,
                    distance(u, mu) / leastChange);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
