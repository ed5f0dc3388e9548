// Unit tests of the decomposed hard constraint: every row holds to
// round-off, global conservation follows, one subdomain and a G without
// shared columns give LinearConstraint's projection, held columns stay,
// threads change nothing, the partition is connected, and the constraint
// spread over processes (external coarse step) equals the serial one.
#include "mlcfd/GridMatrices.h"
#include "mlcfd/LinearConstraint.h"
#include "mlcfd/SubdomainConstraint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

using mlcfd::CSRMatrix;
using mlcfd::LinearConstraint;
using mlcfd::partitionRows;
using mlcfd::SubdomainConstraint;
using mlcfd::SubdomainConstraintOptions;

namespace
{

std::vector<double> randomVector(std::size_t n, std::mt19937_64& rng)
{
    std::normal_distribution<double> normal;
    std::vector<double> x(n);
    for (double& v : x) v = normal(rng);
    return x;
}

double maxRowResidual(const CSRMatrix& G, const std::vector<double>& u, const std::vector<double>& b)
{
    std::vector<double> Gu(G.rows);
    G.multiply(u.data(), Gu.data());
    double worst = 0;
    for (std::size_t i = 0; i < G.rows; ++i) worst = std::max(worst, std::abs(Gu[i] - b[i]));
    return worst;
}

double distance(const std::vector<double>& a, const std::vector<double>& b)
{
    double s = 0;
    for (std::size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
    return std::sqrt(s);
}

// The columns of the 2-D face divergence that lie on the box boundary (one entry).
std::vector<bool> boundaryColumns(const CSRMatrix& G)
{
    std::vector<int> count(G.numCols(), 0);
    for (std::int64_t c : G.column) ++count[c];
    std::vector<bool> boundary(G.numCols());
    for (std::size_t c = 0; c < G.numCols(); ++c) boundary[c] = count[c] == 1;
    return boundary;
}

} // namespace

TEST(SubdomainConstraint, EveryRowHoldsAndGlobalConservationFollows)
{
    const CSRMatrix G = mlcfd::faceDivergenceMatrix(40, 30);
    std::mt19937_64 rng(1);
    std::vector<double> u = randomVector(G.numCols(), rng), b = randomVector(G.rows, rng);
    SubdomainConstraint constraint(G, partitionRows(G, 64));
    EXPECT_GT(constraint.subdomains(), 10u);
    EXPECT_GT(constraint.interfaceColumns(), 0u);
    const auto report = constraint.project(u, b);
    EXPECT_TRUE(report.converged);
    EXPECT_LT(report.constraintResidual, 1e-12);
    EXPECT_LT(maxRowResidual(G, u, b), 1e-11);
    // Global conservation: the sum of all rows is the net boundary flux.
    std::vector<double> Gu(G.rows);
    G.multiply(u.data(), Gu.data());
    double net = 0, source = 0;
    for (std::size_t i = 0; i < G.rows; ++i)
    {
        net += Gu[i];
        source += b[i];
    }
    EXPECT_NEAR(net, source, 1e-10);
}

TEST(SubdomainConstraint, OneSubdomainIsTheGlobalProjection)
{
    const CSRMatrix G = mlcfd::faceDivergenceMatrix(12, 10);
    std::mt19937_64 rng(2);
    const std::vector<double> mu = randomVector(G.numCols(), rng), b = randomVector(G.rows, rng);
    std::vector<double> global = mu, decomposed = mu;
    LinearConstraint(G).project(global, b);
    SubdomainConstraint(G, std::vector<std::size_t>(G.rows, 0)).project(decomposed, b);
    EXPECT_LT(distance(global, decomposed), 1e-12 * distance(global, mu));
}

TEST(SubdomainConstraint, NoSharedColumnsIsTheGlobalProjection)
{
    // Two 6 x 5 boxes side by side with no face between them: block diagonal.
    const CSRMatrix box = mlcfd::faceDivergenceMatrix(6, 5);
    CSRMatrix G;
    G.rows = 2 * box.rows;
    G.cols = 2 * box.numCols();
    G.rowStart.assign(1, 0);
    for (int copy = 0; copy < 2; ++copy)
    {
        for (std::size_t i = 0; i < box.rows; ++i)
        {
            for (std::int64_t p = box.rowStart[i]; p < box.rowStart[i + 1]; ++p)
            {
                G.column.push_back(box.column[p] + copy * std::int64_t(box.numCols()));
                G.value.push_back(box.value[p]);
            }
            G.rowStart.push_back(std::int64_t(G.column.size()));
        }
    }
    std::vector<std::size_t> part(G.rows);
    for (std::size_t i = 0; i < G.rows; ++i) part[i] = i < box.rows ? 0 : 1;
    std::mt19937_64 rng(3);
    const std::vector<double> mu = randomVector(G.numCols(), rng), b = randomVector(G.rows, rng);
    std::vector<double> global = mu, decomposed = mu;
    LinearConstraint(G).project(global, b);
    SubdomainConstraint constraint(G, part);
    EXPECT_EQ(constraint.interfaceColumns(), 2 * (2 * 6 + 2 * 5)); // the boundary columns
    constraint.project(decomposed, b);
    EXPECT_LT(distance(global, decomposed), 1e-10 * distance(global, mu));
}

TEST(SubdomainConstraint, HeldColumnsStayAndTheChangeStaysModest)
{
    // Walls: the boundary fluxes have zero variance, so they keep their
    // values; b is consistent with them (the divergence of a reference).
    const CSRMatrix G = mlcfd::faceDivergenceMatrix(32, 32);
    const std::vector<bool> wall = boundaryColumns(G);
    std::mt19937_64 rng(4);
    const std::vector<double> reference = randomVector(G.numCols(), rng);
    std::vector<double> b(G.rows), mu = reference, variance(G.numCols(), 1.0);
    G.multiply(reference.data(), b.data());
    const std::vector<double> noise = randomVector(G.numCols(), rng);
    for (std::size_t c = 0; c < G.numCols(); ++c)
    {
        if (wall[c])
            variance[c] = 0;
        else
            mu[c] += 0.3 * noise[c];
    }
    std::vector<double> decomposed(G.numCols()), global(G.numCols());
    SubdomainConstraint constraint(G, partitionRows(G, 50));
    const auto report = constraint.apply(mu.data(), variance.data(), b.data(), decomposed.data());
    LinearConstraint(G).apply(mu.data(), variance.data(), b.data(), global.data(), nullptr);
    EXPECT_LT(report.constraintResidual, 1e-12);
    EXPECT_LT(maxRowResidual(G, decomposed, b), 1e-11);
    // Held walls leave every block rank-deficient by its sum: the implied
    // row is dropped, so no block falls back to CG.
    EXPECT_FALSE(report.rankDeficient);
    EXPECT_EQ(report.iterations, 0u);
    for (std::size_t c = 0; c < G.numCols(); ++c)
        if (wall[c]) ASSERT_EQ(decomposed[c], mu[c]) << "wall column " << c;
    // Not the least change, but of its size: the global projection is the
    // minimum, and a broken coarse step (imbalances pushed into one local
    // solve) changes the field by far more.
    const double least = distance(global, mu), change = distance(decomposed, mu);
    EXPECT_GE(change, least * (1 - 1e-9));
    EXPECT_LT(change, 1.5 * least);
}

TEST(SubdomainConstraint, ThreadsGiveTheSameResult)
{
    const CSRMatrix G = mlcfd::faceDivergenceMatrix(50, 40);
    std::mt19937_64 rng(5);
    const std::vector<double> mu = randomVector(G.numCols(), rng), b = randomVector(G.rows, rng);
    const std::vector<std::size_t> part = partitionRows(G, 100);
    std::vector<double> one = mu, two = mu, three = mu;
    SubdomainConstraintOptions options;
    SubdomainConstraint(G, part, options).project(one, b);
    options.threads = 2;
    const auto report = SubdomainConstraint(G, part, options).project(two, b);
    options.threads = 3;
    SubdomainConstraint(G, part, options).project(three, b);
    // Threaded local solves are CG (one thread: Cholesky), the same on any
    // number of threads, and the same correction to the solvers' tolerance.
    EXPECT_EQ(two, three);
    EXPECT_GT(report.iterations, 0u);
    EXPECT_LT(report.constraintResidual, 1e-12);
    EXPECT_LT(distance(one, two), 1e-10 * distance(one, mu));
    options.local.solver = mlcfd::ConstraintSolver::cholesky;
    EXPECT_THROW(SubdomainConstraint(G, part, options), std::invalid_argument);
}

TEST(SubdomainConstraint, PartitionIsConnectedAndNearTheTargetSize)
{
    const CSRMatrix G = mlcfd::faceDivergenceMatrix(64, 48);
    const std::size_t target = 128;
    const std::vector<std::size_t> part = partitionRows(G, target);
    const std::size_t count = *std::max_element(part.begin(), part.end()) + 1;
    std::vector<std::size_t> size(count, 0);
    for (std::size_t p : part) ++size[p];
    for (std::size_t s = 0; s < count; ++s)
    {
        EXPECT_GE(4 * size[s], target) << "subdomain " << s;
        EXPECT_LE(size[s], 2 * target) << "subdomain " << s;
    }
    // Connected: a walk over rows sharing a column reaches the whole subdomain.
    std::vector<std::vector<std::size_t>> rowsOf(G.numCols());
    for (std::size_t i = 0; i < G.rows; ++i)
        for (std::int64_t p = G.rowStart[i]; p < G.rowStart[i + 1]; ++p) rowsOf[G.column[p]].push_back(i);
    std::vector<bool> seen(G.rows, false);
    for (std::size_t s = 0; s < count; ++s)
    {
        const std::size_t seed = std::find(part.begin(), part.end(), s) - part.begin();
        std::deque<std::size_t> queue{seed};
        seen[seed] = true;
        std::size_t reached = 0;
        while (!queue.empty())
        {
            const std::size_t i = queue.front();
            queue.pop_front();
            ++reached;
            for (std::int64_t p = G.rowStart[i]; p < G.rowStart[i + 1]; ++p)
                for (std::size_t j : rowsOf[G.column[p]])
                    if (!seen[j] && part[j] == s)
                    {
                        seen[j] = true;
                        queue.push_back(j);
                    }
        }
        EXPECT_EQ(reached, size[s]) << "subdomain " << s << " is not connected";
    }
}

// The constraint spread over two processes, simulated in one: each holds
// the rows of half the cells and every column those rows touch (the faces
// between the halves on both, as processor faces are), its own subdomains,
// and the coarse step is gathered into one DistributedCoarseProblem. With
// the same subdomains it equals the serial constraint to round-off, and
// both processes keep one value on their shared faces.
TEST(SubdomainConstraint, SpreadOverProcessesEqualsSerial)
{
    const CSRMatrix G = mlcfd::faceDivergenceMatrix(30, 24);
    std::mt19937_64 rng(11);
    const std::vector<double> mean = randomVector(G.numCols(), rng);
    std::vector<double> b = randomVector(G.rows, rng), variance(G.numCols());
    std::uniform_real_distribution<double> spread(0.5, 2.0);
    for (double& v : variance) v = spread(rng);

    // Process p: rows [split p, split p+1), the columns they touch.
    const std::size_t processes = 2, half = G.rows / 2;
    const std::vector<std::size_t> split{0, half, G.rows};
    std::vector<std::vector<std::size_t>> columnsOf(processes);
    std::vector<int> touchedBy(G.numCols(), 0);
    std::vector<CSRMatrix> local(processes);
    std::vector<std::vector<std::size_t>> partOf(processes);
    std::vector<std::size_t> serialPart;
    std::vector<SubdomainConstraint> constraints;
    for (std::size_t p = 0; p < processes; ++p)
    {
        std::set<std::int64_t> columns;
        for (std::size_t i = split[p]; i < split[p + 1]; ++i)
            for (std::int64_t q = G.rowStart[i]; q < G.rowStart[i + 1]; ++q) columns.insert(G.column[q]);
        columnsOf[p].assign(columns.begin(), columns.end());
        for (std::size_t c : columnsOf[p]) ++touchedBy[c];
    }
    for (std::size_t p = 0; p < processes; ++p)
    {
        std::vector<std::int64_t> localColumn(G.numCols(), -1);
        for (std::size_t k = 0; k < columnsOf[p].size(); ++k) localColumn[columnsOf[p][k]] = std::int64_t(k);
        CSRMatrix& A = local[p];
        A.rows = split[p + 1] - split[p];
        A.cols = columnsOf[p].size();
        A.rowStart.assign(1, 0);
        for (std::size_t i = split[p]; i < split[p + 1]; ++i)
        {
            for (std::int64_t q = G.rowStart[i]; q < G.rowStart[i + 1]; ++q)
            {
                A.column.push_back(localColumn[G.column[q]]);
                A.value.push_back(G.value[q]);
            }
            A.rowStart.push_back(std::int64_t(A.column.size()));
        }
        partOf[p] = partitionRows(A, 64);
        const std::size_t offset =
            serialPart.empty() ? 0 : *std::max_element(serialPart.begin(), serialPart.end()) + 1;
        for (std::size_t s : partOf[p]) serialPart.push_back(s + offset);
        SubdomainConstraintOptions options;
        options.externalCoarse = true;
        for (std::size_t k = 0; k < columnsOf[p].size(); ++k)
            if (touchedBy[columnsOf[p][k]] == processes) options.sharedColumns.push_back(k);
        ASSERT_GT(options.sharedColumns.size(), 20u);
        constraints.emplace_back(A, partOf[p], options);
    }

    // The coarse problem from every process's coarse matrix, columns
    // numbered by their column of G.
    std::vector<CSRMatrix> coarseMatrices;
    std::vector<std::vector<std::int64_t>> globalColumns(processes);
    for (std::size_t p = 0; p < processes; ++p)
    {
        coarseMatrices.push_back(constraints[p].coarseMatrix());
        for (std::size_t k : constraints[p].coarseColumns())
            globalColumns[p].push_back(std::int64_t(columnsOf[p][k]));
    }
    mlcfd::DistributedCoarseProblem coarse(coarseMatrices, globalColumns);

    // Pass 1 gathers what each process's coarse step is handed (the local
    // step of that pass is discarded); the gathered problem is solved once;
    // pass 2 hands each process its corrected values.
    std::vector<std::vector<double>> residuals(processes), variances(processes), values(processes);
    std::vector<std::vector<double>> u(processes), d(processes), bp(processes);
    for (std::size_t p = 0; p < processes; ++p)
    {
        for (std::size_t c : columnsOf[p])
        {
            u[p].push_back(mean[c]);
            d[p].push_back(variance[c]);
        }
        bp[p].assign(b.begin() + std::ptrdiff_t(split[p]), b.begin() + std::ptrdiff_t(split[p + 1]));
        std::vector<double> scratch(u[p].size());
        constraints[p].apply(u[p].data(), d[p].data(), bp[p].data(), scratch.data(),
            [&](const std::vector<double>& r, const std::vector<double>& v, std::vector<double>& x)
            {
                residuals[p] = r;
                variances[p] = v;
                values[p] = x;
            });
    }
    coarse.solve(residuals, variances, values);
    std::vector<double> distributed(G.numCols(), 0.0);
    for (std::size_t p = 0; p < processes; ++p)
    {
        const mlcfd::ConstraintReport report =
            constraints[p].apply(u[p].data(), d[p].data(), bp[p].data(), u[p].data(),
                [&](const std::vector<double>& r, const std::vector<double>&, std::vector<double>& x)
                {
                    ASSERT_EQ(r, residuals[p]);
                    x = values[p];
                });
        EXPECT_LT(report.constraintResidual, 1e-12);
        for (std::size_t k = 0; k < columnsOf[p].size(); ++k)
        {
            const std::size_t c = columnsOf[p][k];
            if (p > 0 && touchedBy[c] == processes)
            {
                EXPECT_EQ(distributed[c], u[p][k])
                    << "shared column " << c << " differs between the processes";
            }
            distributed[c] = u[p][k];
        }
    }

    std::vector<double> serial(G.numCols());
    SubdomainConstraint whole(G, serialPart);
    whole.apply(mean.data(), variance.data(), b.data(), serial.data());
    EXPECT_LT(maxRowResidual(G, distributed, b), 1e-12);
    EXPECT_LT(distance(distributed, serial), 1e-10 * distance(serial, mean));
    EXPECT_GT(distance(serial, mean), 1.0) << "the correction must not be trivial";
}

TEST(SubdomainConstraint, BadInputIsNamed)
{
    const CSRMatrix G = mlcfd::faceDivergenceMatrix(4, 4);
    EXPECT_THROW(SubdomainConstraint(G, std::vector<std::size_t>(3, 0)), std::invalid_argument);
    std::vector<std::size_t> gap(G.rows, 0);
    gap[0] = 2;
    try
    {
        SubdomainConstraint constraint(G, gap);
        FAIL() << "a subdomain without rows was accepted";
    }
    catch (const std::invalid_argument& e)
    {
        EXPECT_NE(std::string(e.what()).find("subdomain 1 has no row"), std::string::npos) << e.what();
    }
    SubdomainConstraintOptions soft;
    soft.local.constraintVariance = 0.1;
    EXPECT_THROW(SubdomainConstraint(G, std::vector<std::size_t>(G.rows, 0), soft), std::invalid_argument);
    SubdomainConstraint constraint(G, std::vector<std::size_t>(G.rows, 0));
    std::vector<double> u(3), b(G.rows);
    EXPECT_THROW(constraint.project(u, b), std::invalid_argument);
    EXPECT_THROW(partitionRows(G, 0), std::invalid_argument);

    // The coarse step done elsewhere goes with externalCoarse, and only.
    std::vector<double> flux(G.numCols(), 1.0);
    const SubdomainConstraint::CoarseStep noop = [](const auto&, const auto&, auto&) {};
    EXPECT_THROW(constraint.apply(flux.data(), nullptr, b.data(), flux.data(), noop), std::invalid_argument);
    SubdomainConstraintOptions external;
    external.externalCoarse = true;
    SubdomainConstraint spread(G, std::vector<std::size_t>(G.rows, 0), external);
    EXPECT_THROW(spread.apply(flux.data(), nullptr, b.data(), flux.data()), std::invalid_argument);
    const SubdomainConstraint::CoarseStep shrinks = [](const auto&, const auto&, auto& values)
    { values.pop_back(); };
    EXPECT_THROW(spread.apply(flux.data(), nullptr, b.data(), flux.data(), shrinks), std::runtime_error);
    SubdomainConstraintOptions sharedAlone;
    sharedAlone.sharedColumns = {0};
    EXPECT_THROW(
        SubdomainConstraint(G, std::vector<std::size_t>(G.rows, 0), sharedAlone), std::invalid_argument);
    EXPECT_THROW(mlcfd::DistributedCoarseProblem({spread.coarseMatrix()}, {{}}), std::invalid_argument);
}
