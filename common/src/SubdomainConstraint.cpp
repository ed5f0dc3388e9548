// mlcfd: the ProbConserv hard constraint enforced subdomain by subdomain.
#include "mlcfd/SubdomainConstraint.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

namespace mlcfd
{

namespace
{

constexpr std::size_t none = std::numeric_limits<std::size_t>::max();

// The iterations and flags of one solve added to a report of several.
void accumulate(ConstraintReport& report, const ConstraintReport& part)
{
    report.iterations += part.iterations;
    report.converged = report.converged && part.converged;
    report.rankDeficient = report.rankDeficient || part.rankDeficient;
}

double norm(const std::vector<double>& x)
{
    double s = 0;
    for (double v : x) s += v * v;
    return std::sqrt(s);
}

} // namespace

std::vector<std::size_t> partitionRows(const CSRMatrix& G, std::size_t targetRows)
{
    G.check("mlcfd::partitionRows: G");
    if (targetRows == 0) throw std::invalid_argument("mlcfd::partitionRows: targetRows must be positive");
    const CSRMatrix Gt = G.transposed();
    std::vector<std::size_t> part(G.rows, none), size;
    auto neighbours = [&](std::size_t i, auto&& visit)
    {
        for (std::int64_t p = G.rowStart[i]; p < G.rowStart[i + 1]; ++p)
        {
            const std::int64_t c = G.column[p];
            for (std::int64_t q = Gt.rowStart[c]; q < Gt.rowStart[c + 1]; ++q)
                visit(std::size_t(Gt.column[q]));
        }
    };
    std::deque<std::size_t> queue;
    for (std::size_t seed = 0; seed < G.rows; ++seed)
    {
        if (part[seed] != none) continue;
        const std::size_t s = size.size();
        size.push_back(0);
        part[seed] = s;
        queue.assign(1, seed);
        while (!queue.empty() && size[s] < targetRows)
        {
            const std::size_t i = queue.front();
            queue.pop_front();
            ++size[s];
            neighbours(i,
                [&](std::size_t j)
                {
                    if (part[j] == none && size[s] + queue.size() < targetRows)
                    {
                        part[j] = s;
                        queue.push_back(j);
                    }
                });
        }
        // Rows queued but not expanded still belong to s.
        size[s] += queue.size();
    }

    // A small region joins the neighbour it shares most rows' columns with.
    std::vector<std::size_t> target(size.size());
    for (std::size_t s = 0; s < size.size(); ++s) target[s] = s;
    std::vector<std::map<std::size_t, std::size_t>> contacts(size.size());
    for (std::size_t i = 0; i < G.rows; ++i)
    {
        if (4 * size[part[i]] >= targetRows) continue;
        neighbours(i,
            [&](std::size_t j)
            {
                if (part[j] != part[i]) ++contacts[part[i]][part[j]];
            });
    }
    for (std::size_t s = 0; s < size.size(); ++s)
    {
        if (contacts[s].empty()) continue;
        // A region that stays is preferred, so small ones do not pair up.
        auto rank = [&](const std::pair<const std::size_t, std::size_t>& c)
        { return std::make_pair(4 * size[c.first] >= targetRows, c.second); };
        const auto best = std::max_element(contacts[s].begin(), contacts[s].end(),
            [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
        target[s] = best->first;
    }
    // Follow chains of small regions to a region that stays.
    for (std::size_t s = 0; s < target.size(); ++s)
    {
        std::size_t t = s, steps = 0;
        while (target[t] != t && steps++ < target.size()) t = target[t];
        target[s] = t;
    }
    std::vector<std::size_t> number(size.size(), none);
    std::size_t count = 0;
    for (std::size_t& p : part)
    {
        std::size_t& n = number[target[p]];
        if (n == none) n = count++;
        p = n;
    }
    return part;
}

// ------------------------------------------------------------------- Impl

struct SubdomainConstraint::Impl
{
    // One constraint problem (the coarse one, or a subdomain's) with all its
    // rows and with all but the last. The rows lose rank by their sum when
    // every column that may change has entries that cancel; then the last
    // row is implied by the others and the reduced block keeps a
    // nonsingular factor.
    struct Block
    {
        std::vector<std::size_t> summing; // columns whose entries do not cancel
        std::unique_ptr<LinearConstraint> full, reduced;

        void build(CSRMatrix A, const LinearConstraintOptions& options)
        {
            std::vector<double> sum(A.numCols(), 0.0), scale(A.numCols(), 0.0);
            for (std::size_t p = 0; p < A.nonzeros(); ++p)
            {
                sum[A.column[p]] += A.value[p];
                scale[A.column[p]] = std::max(scale[A.column[p]], std::abs(A.value[p]));
            }
            for (std::size_t c = 0; c < A.numCols(); ++c)
                if (std::abs(sum[c]) > 1e-12 * scale[c]) summing.push_back(c);
            if (A.rows > 1)
            {
                CSRMatrix R = A;
                R.rows = A.rows - 1;
                R.rowStart.resize(A.rows);
                R.column.resize(R.rowStart.back());
                R.value.resize(R.rowStart.back());
                reduced = std::make_unique<LinearConstraint>(std::move(R), options);
            }
            if (!summing.empty() || A.rows == 1)
                full = std::make_unique<LinearConstraint>(std::move(A), options);
        }

        LinearConstraint& choose(const std::vector<double>& d)
        {
            bool held = true;
            for (std::size_t c : summing) held = held && d[c] == 0;
            return held && reduced ? *reduced : *full;
        }

        // The block's columns of @p values (global indices @p columns)
        // corrected so that its rows' residual @p residual (row k of the
        // block, before the correction) becomes zero; u, d, target are
        // scratch vectors, reused between calls.
        ConstraintReport correct(const std::vector<std::size_t>& columns, const double* variance,
            const std::vector<double>& residual, double* values, std::vector<double>& u,
            std::vector<double>& d, std::vector<double>& target)
        {
            const std::size_t n = columns.size();
            u.resize(n);
            d.assign(n, 1.0);
            for (std::size_t k = 0; k < n; ++k)
            {
                u[k] = values[columns[k]];
                if (variance) d[k] = variance[columns[k]];
            }
            LinearConstraint& constraint = choose(d);
            target.resize(constraint.rows());
            constraint.matrix().multiply(u.data(), target.data());
            for (std::size_t k = 0; k < constraint.rows(); ++k) target[k] -= residual[k];
            const ConstraintReport report =
                constraint.apply(u.data(), d.data(), target.data(), u.data(), nullptr);
            for (std::size_t k = 0; k < n; ++k) values[columns[k]] = u[k];
            return report;
        }
    };

    struct Local
    {
        std::vector<std::size_t> rows;    // global rows of the subdomain
        std::vector<std::size_t> columns; // global columns touching only these rows
        Block block;
    };

    CSRMatrix G, Gt;
    SubdomainConstraintOptions options;
    LinearConstraintOptions localOptions; // of the subdomains' blocks
    std::size_t subdomainCount = 0;
    std::vector<std::size_t> subdomainOf;
    std::vector<std::size_t> coarseColumns; // global columns the coarse step corrects
    CSRMatrix coarseMatrix;                 // subdomains x coarseColumns
    Block coarse;
    bool hasCoarse = false;
    std::vector<Local> locals;

    void buildCoarse()
    {
        // Column by column: the sums of its entries per subdomain.
        std::vector<std::map<std::size_t, double>> sums;
        for (std::size_t c = 0; c < G.numCols(); ++c)
        {
            std::map<std::size_t, double> sum;
            double scale = 0;
            for (std::int64_t p = Gt.rowStart[c]; p < Gt.rowStart[c + 1]; ++p)
            {
                sum[subdomainOf[Gt.column[p]]] += Gt.value[p];
                scale = std::max(scale, std::abs(Gt.value[p]));
            }
            bool nonzero = false;
            for (auto& [s, v] : sum)
            {
                if (std::abs(v) > 1e-12 * scale)
                    nonzero = true;
                else
                    v = 0;
            }
            if (!nonzero) continue;
            coarseColumns.push_back(c);
            sums.push_back(std::move(sum));
        }
        // Triplets (subdomain, coarse column) to CSR.
        CSRMatrix C;
        C.rows = subdomainCount;
        C.cols = coarseColumns.size();
        C.rowStart.assign(subdomainCount + 1, 0);
        for (const auto& sum : sums)
            for (const auto& [s, v] : sum)
                if (v != 0) ++C.rowStart[s + 1];
        for (std::size_t s = 0; s < subdomainCount; ++s) C.rowStart[s + 1] += C.rowStart[s];
        C.column.resize(C.rowStart.back());
        C.value.resize(C.rowStart.back());
        std::vector<std::int64_t> next(C.rowStart.begin(), C.rowStart.end() - 1);
        for (std::size_t j = 0; j < sums.size(); ++j)
        {
            for (const auto& [s, v] : sums[j])
            {
                if (v == 0) continue;
                const std::int64_t q = next[s]++;
                C.column[q] = std::int64_t(j);
                C.value[q] = v;
            }
        }
        coarseMatrix = C;
        // The caller solves an external coarse problem; an empty one has
        // nothing to solve.
        if (options.externalCoarse || coarseColumns.empty()) return;
        coarse.build(std::move(C), options.local);
        hasCoarse = true;
    }

    void buildLocals()
    {
        locals.resize(subdomainCount);
        for (std::size_t i = 0; i < G.rows; ++i) locals[subdomainOf[i]].rows.push_back(i);
        std::vector<bool> shared(G.numCols(), false);
        for (std::size_t c : options.sharedColumns) shared[c] = true;
        for (std::size_t c = 0; c < G.numCols(); ++c)
        {
            std::size_t s = none;
            bool local = Gt.rowStart[c] < Gt.rowStart[c + 1] && !shared[c];
            for (std::int64_t p = Gt.rowStart[c]; p < Gt.rowStart[c + 1] && local; ++p)
            {
                const std::size_t t = subdomainOf[Gt.column[p]];
                if (s == none) s = t;
                local = t == s;
            }
            if (local) locals[s].columns.push_back(c);
        }
        std::vector<std::int64_t> localColumn(G.numCols(), -1);
        for (Local& L : locals)
        {
            if (L.columns.empty()) continue;
            for (std::size_t k = 0; k < L.columns.size(); ++k) localColumn[L.columns[k]] = std::int64_t(k);
            CSRMatrix A;
            A.rows = L.rows.size();
            A.cols = L.columns.size();
            A.rowStart.assign(1, 0);
            for (std::size_t i : L.rows)
            {
                for (std::int64_t p = G.rowStart[i]; p < G.rowStart[i + 1]; ++p)
                {
                    const std::int64_t c = localColumn[G.column[p]];
                    if (c < 0) continue;
                    A.column.push_back(c);
                    A.value.push_back(G.value[p]);
                }
                A.rowStart.push_back(std::int64_t(A.column.size()));
            }
            L.block.build(std::move(A), localOptions);
            for (std::size_t c : L.columns) localColumn[c] = -1;
        }
    }
};

// --------------------------------------------------- SubdomainConstraint

SubdomainConstraint::SubdomainConstraint(
    CSRMatrix G, std::vector<std::size_t> subdomainOfRow, const SubdomainConstraintOptions& options)
    : impl_(new Impl)
{
    G.check("mlcfd::SubdomainConstraint: G");
    if (subdomainOfRow.size() != G.rows)
    {
        throw std::invalid_argument("mlcfd::SubdomainConstraint: subdomainOfRow has "
                                    + std::to_string(subdomainOfRow.size()) + " entries, G has "
                                    + std::to_string(G.rows) + " rows");
    }
    if (options.local.constraintVariance != 0)
    {
        throw std::invalid_argument("mlcfd::SubdomainConstraint: local.constraintVariance must be 0 "
                                    "(the subdomain solve enforces a hard constraint; use LinearConstraint "
                                    "for a soft one)");
    }
    Impl& I = *impl_;
    I.options = options;
    I.localOptions = options.local;
    if (I.options.threads == 0) I.options.threads = std::max(1u, std::thread::hardware_concurrency());
    if (I.options.threads > 1)
    {
        // The dense path's LAPACK (through LibTorch) gave wrong factors when
        // called from two threads at once (measured on 3910 subdomains), so
        // threaded local solves take the matrix-free CG, plain C++.
        if (options.local.solver == ConstraintSolver::cholesky)
        {
            throw std::invalid_argument("mlcfd::SubdomainConstraint: local.solver cholesky needs threads = 1 "
                                        "(the dense factorisation is not safe on several threads)");
        }
        I.localOptions.solver = ConstraintSolver::conjugateGradient;
    }
    for (std::size_t c : options.sharedColumns)
    {
        if (!options.externalCoarse || c >= G.numCols())
        {
            throw std::invalid_argument("mlcfd::SubdomainConstraint: sharedColumns need externalCoarse and "
                                        "must be columns of G (column "
                                        + std::to_string(c) + ")");
        }
    }
    I.subdomainCount =
        subdomainOfRow.empty() ? 0 : *std::max_element(subdomainOfRow.begin(), subdomainOfRow.end()) + 1;
    std::vector<bool> used(I.subdomainCount, false);
    for (std::size_t s : subdomainOfRow) used[s] = true;
    for (std::size_t s = 0; s < I.subdomainCount; ++s)
    {
        if (!used[s])
        {
            throw std::invalid_argument("mlcfd::SubdomainConstraint: subdomain " + std::to_string(s)
                                        + " has no row (number the subdomains 0 .. S-1 without gaps)");
        }
    }
    I.G = std::move(G);
    I.Gt = I.G.transposed();
    I.subdomainOf = std::move(subdomainOfRow);
    if (I.subdomainCount > 1 || I.options.externalCoarse) I.buildCoarse();
    I.buildLocals();
}

SubdomainConstraint::~SubdomainConstraint() = default;
SubdomainConstraint::SubdomainConstraint(SubdomainConstraint&&) noexcept = default;
SubdomainConstraint& SubdomainConstraint::operator=(SubdomainConstraint&&) noexcept = default;

std::size_t SubdomainConstraint::rows() const
{
    return impl_->G.rows;
}
std::size_t SubdomainConstraint::cols() const
{
    return impl_->G.numCols();
}
std::size_t SubdomainConstraint::subdomains() const
{
    return impl_->subdomainCount;
}
std::size_t SubdomainConstraint::interfaceColumns() const
{
    return impl_->coarseColumns.size();
}
const CSRMatrix& SubdomainConstraint::coarseMatrix() const
{
    return impl_->coarseMatrix;
}
const std::vector<std::size_t>& SubdomainConstraint::coarseColumns() const
{
    return impl_->coarseColumns;
}

ConstraintReport SubdomainConstraint::apply(
    const double* mean, const double* variance, const double* b, double* newMean)
{
    if (impl_->options.externalCoarse)
    {
        throw std::invalid_argument("mlcfd::SubdomainConstraint::apply: built with externalCoarse, so the "
                                    "coarse step needs the CoarseStep argument");
    }
    return apply(mean, variance, b, newMean, CoarseStep());
}

ConstraintReport SubdomainConstraint::apply(
    const double* mean, const double* variance, const double* b, double* newMean, const CoarseStep& external)
{
    if (impl_->options.externalCoarse != bool(external))
    {
        throw std::invalid_argument("mlcfd::SubdomainConstraint::apply: a CoarseStep goes with "
                                    "externalCoarse (and only with it)");
    }
    const auto start = std::chrono::steady_clock::now();
    Impl& I = *impl_;
    const CSRMatrix& G = I.G;
    const std::size_t m = G.rows, n = G.numCols();
    if (!mean || !b || !newMean)
    {
        throw std::invalid_argument(
            "mlcfd::SubdomainConstraint::apply: mean, b and newMean must not be null");
    }
    for (std::size_t k = 0; k < n; ++k)
    {
        if (!std::isfinite(mean[k]) || (variance && !(variance[k] >= 0 && std::isfinite(variance[k]))))
        {
            throw std::invalid_argument("mlcfd::SubdomainConstraint: mean[" + std::to_string(k)
                                        + "] or variance[" + std::to_string(k)
                                        + "] is not finite (or the variance is negative)");
        }
    }
    if (newMean != mean) std::copy(mean, mean + n, newMean);

    ConstraintReport report;
    report.solver = ConstraintSolver::automatic;
    std::vector<double> r(m);
    G.multiply(mean, r.data());
    const double scale =
        std::max({norm(std::vector<double>(b, b + m)), norm(r), std::numeric_limits<double>::min()});
    for (std::size_t i = 0; i < m; ++i) r[i] -= b[i];

    // 1. Coarse: each subdomain's summed residual to zero through the
    //    columns whose summed entries do not vanish.
    if (I.hasCoarse || external)
    {
        std::vector<double> rc(I.subdomainCount, 0.0), u, d, target;
        for (std::size_t i = 0; i < m; ++i) rc[I.subdomainOf[i]] += r[i];
        if (external)
        {
            const std::size_t nc = I.coarseColumns.size();
            std::vector<double> values(nc), variances(nc, 1.0);
            for (std::size_t k = 0; k < nc; ++k)
            {
                values[k] = newMean[I.coarseColumns[k]];
                if (variance) variances[k] = variance[I.coarseColumns[k]];
            }
            external(rc, variances, values);
            if (values.size() != nc)
            {
                throw std::runtime_error("mlcfd::SubdomainConstraint: the CoarseStep returned "
                                         + std::to_string(values.size()) + " values for " + std::to_string(nc)
                                         + " coarse columns");
            }
            for (std::size_t k = 0; k < nc; ++k) newMean[I.coarseColumns[k]] = values[k];
        }
        else
        {
            accumulate(report, I.coarse.correct(I.coarseColumns, variance, rc, newMean, u, d, target));
        }
        G.multiply(newMean, r.data());
        for (std::size_t i = 0; i < m; ++i) r[i] -= b[i];
    }

    // 2. Local: disjoint columns per subdomain, so the threads write apart.
    const std::size_t threads = std::min(I.options.threads, std::max<std::size_t>(1, I.locals.size()));
    std::vector<ConstraintReport> parts(threads);
    std::vector<std::string> failures(threads);
    auto work = [&](std::size_t t)
    {
        try
        {
            std::vector<double> u, d, target, residual;
            for (std::size_t s = t; s < I.locals.size(); s += threads)
            {
                Impl::Local& L = I.locals[s];
                if (L.columns.empty()) continue;
                residual.resize(L.rows.size());
                for (std::size_t k = 0; k < L.rows.size(); ++k) residual[k] = r[L.rows[k]];
                accumulate(parts[t], L.block.correct(L.columns, variance, residual, newMean, u, d, target));
            }
        }
        catch (const std::exception& e)
        {
            failures[t] = e.what();
        }
    };
    if (threads == 1)
    {
        work(0);
    }
    else
    {
        std::vector<std::thread> pool;
        for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(work, t);
        for (std::thread& thread : pool) thread.join();
    }
    for (std::size_t t = 0; t < threads; ++t)
    {
        if (!failures[t].empty()) throw std::runtime_error("mlcfd::SubdomainConstraint: " + failures[t]);
        accumulate(report, parts[t]);
    }

    G.multiply(newMean, r.data());
    for (std::size_t i = 0; i < m; ++i) r[i] -= b[i];
    report.constraintResidual = norm(r) / scale;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

// ------------------------------------------------ DistributedCoarseProblem

struct DistributedCoarseProblem::Impl
{
    std::vector<std::vector<std::size_t>> unknown; // per process, per coarse column
    std::vector<std::size_t> rowOffset;            // first global row of each process
    std::size_t rows = 0, columns = 0;
    CSRMatrix C;
    std::unique_ptr<SubdomainConstraint> solver; // C as one subdomain: the least change
};

DistributedCoarseProblem::DistributedCoarseProblem(const std::vector<CSRMatrix>& matrices,
    const std::vector<std::vector<std::int64_t>>& globalColumns, const LinearConstraintOptions& options)
    : impl_(new Impl)
{
    if (matrices.size() != globalColumns.size())
    {
        throw std::invalid_argument("mlcfd::DistributedCoarseProblem: " + std::to_string(matrices.size())
                                    + " matrices but " + std::to_string(globalColumns.size())
                                    + " lists of global columns");
    }
    Impl& I = *impl_;
    std::map<std::int64_t, std::size_t> number;
    I.unknown.resize(matrices.size());
    for (std::size_t p = 0; p < matrices.size(); ++p)
    {
        matrices[p].check("mlcfd::DistributedCoarseProblem: matrix of process " + std::to_string(p));
        if (globalColumns[p].size() != matrices[p].numCols())
        {
            throw std::invalid_argument("mlcfd::DistributedCoarseProblem: process " + std::to_string(p)
                                        + " has " + std::to_string(matrices[p].numCols())
                                        + " coarse columns but " + std::to_string(globalColumns[p].size())
                                        + " global numbers");
        }
        I.rowOffset.push_back(I.rows);
        I.rows += matrices[p].rows;
        for (const std::int64_t g : globalColumns[p])
            I.unknown[p].push_back(number.emplace(g, number.size()).first->second);
    }
    I.columns = number.size();
    I.C.rows = I.rows;
    I.C.cols = I.columns;
    I.C.rowStart.assign(1, 0);
    for (std::size_t p = 0; p < matrices.size(); ++p)
    {
        const CSRMatrix& A = matrices[p];
        for (std::size_t i = 0; i < A.rows; ++i)
        {
            for (std::int64_t q = A.rowStart[i]; q < A.rowStart[i + 1]; ++q)
            {
                I.C.column.push_back(std::int64_t(I.unknown[p][A.column[q]]));
                I.C.value.push_back(A.value[q]);
            }
            I.C.rowStart.push_back(std::int64_t(I.C.column.size()));
        }
    }
    if (I.rows == 0 || I.columns == 0) return;
    SubdomainConstraintOptions one;
    one.local = options;
    I.solver = std::make_unique<SubdomainConstraint>(I.C, std::vector<std::size_t>(I.rows, 0), one);
}

DistributedCoarseProblem::~DistributedCoarseProblem() = default;
DistributedCoarseProblem::DistributedCoarseProblem(DistributedCoarseProblem&&) noexcept = default;
DistributedCoarseProblem& DistributedCoarseProblem::operator=(DistributedCoarseProblem&&) noexcept = default;

std::size_t DistributedCoarseProblem::columns() const
{
    return impl_->columns;
}
std::size_t DistributedCoarseProblem::rows() const
{
    return impl_->rows;
}

ConstraintReport DistributedCoarseProblem::solve(const std::vector<std::vector<double>>& residuals,
    const std::vector<std::vector<double>>& variances, std::vector<std::vector<double>>& values)
{
    Impl& I = *impl_;
    const std::size_t P = I.unknown.size();
    if (residuals.size() != P || variances.size() != P || values.size() != P)
    {
        throw std::invalid_argument(
            "mlcfd::DistributedCoarseProblem::solve: one residual, variance and value "
            "list per process ("
            + std::to_string(P) + ")");
    }
    std::vector<double> u(I.columns, 0.0), d(I.columns, 1.0), rc(I.rows, 0.0);
    std::vector<bool> set(I.columns, false);
    for (std::size_t p = 0; p < P; ++p)
    {
        const std::size_t n = I.unknown[p].size();
        if (values[p].size() != n || variances[p].size() != n
            || residuals[p].size() != (p + 1 < P ? I.rowOffset[p + 1] : I.rows) - I.rowOffset[p])
        {
            throw std::invalid_argument("mlcfd::DistributedCoarseProblem::solve: the lists of process "
                                        + std::to_string(p) + " do not match its coarse matrix");
        }
        for (std::size_t k = 0; k < n; ++k)
        {
            const std::size_t j = I.unknown[p][k];
            if (set[j]) continue;
            set[j] = true;
            u[j] = values[p][k];
            d[j] = variances[p][k];
        }
        std::copy(residuals[p].begin(), residuals[p].end(), rc.begin() + std::ptrdiff_t(I.rowOffset[p]));
    }
    ConstraintReport report;
    if (I.solver)
    {
        // C u_new = C u - rc: every subdomain's summed residual cancelled.
        std::vector<double> target(I.rows);
        I.C.multiply(u.data(), target.data());
        for (std::size_t i = 0; i < I.rows; ++i) target[i] -= rc[i];
        report = I.solver->apply(u.data(), d.data(), target.data(), u.data());
    }
    for (std::size_t p = 0; p < P; ++p)
        for (std::size_t k = 0; k < I.unknown[p].size(); ++k) values[p][k] = u[I.unknown[p][k]];
    return report;
}

ConstraintReport SubdomainConstraint::project(std::vector<double>& u, const std::vector<double>& b)
{
    if (u.size() != cols() || b.size() != rows())
    {
        throw std::invalid_argument("mlcfd::SubdomainConstraint::project: u has " + std::to_string(u.size())
                                    + " entries (expected " + std::to_string(cols()) + "), b has "
                                    + std::to_string(b.size()) + " (expected " + std::to_string(rows())
                                    + ")");
    }
    return apply(u.data(), nullptr, b.data(), u.data());
}

} // namespace mlcfd
