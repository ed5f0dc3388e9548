// The ProbConserv constraint layer. Sparse products and CG are plain C++;
// only the dense Cholesky factorisation goes through LibTorch (its LAPACK).
#include "mlcfd/LinearConstraint.h"
#include "mlcfd/ConjugateGradient.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace mlcfd
{

namespace
{

// A pivot this small relative to its diagonal entry means the matrix is
// singular to working precision (a redundant constraint row).
constexpr double singularPivotRatio = 1e-13;

double norm(const std::vector<double>& x)
{
    double s = 0;
    for (double v : x) s += v * v;
    return std::sqrt(s);
}

double dot(const std::vector<double>& x, const std::vector<double>& y)
{
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
    return s;
}

void requireFinite(const double* x, std::size_t n, const char* name)
{
    for (std::size_t i = 0; i < n; ++i)
    {
        if (!std::isfinite(x[i]))
        {
            std::ostringstream os;
            os << "mlcfd::LinearConstraint: " << name << '[' << i << "] = " << x[i] << " is not finite";
            throw std::invalid_argument(os.str());
        }
    }
}

} // namespace

const char* solverName(ConstraintSolver solver)
{
    switch (solver)
    {
    case ConstraintSolver::automatic:
        return "automatic";
    case ConstraintSolver::cholesky:
        return "cholesky";
    case ConstraintSolver::conjugateGradient:
        return "conjugateGradient";
    }
    return "unknown";
}

// ------------------------------------------------------------------- Impl

struct LinearConstraint::Impl
{
    CSRMatrix G;
    CSRMatrix Gt; // the columns of G, for forming G D G^T and the variances
    LinearConstraintOptions options;

    // Dense factor of G D G^T + sigma2 I for the variances d it was built with.
    bool factorValid = false;
    bool factorSingular = false;
    std::vector<double> factorVariance;
    torch::Tensor factor;

    // Work vectors (sized once).
    std::vector<double> t, r, lambda;

    ConstraintSolver chooseSolver() const
    {
        if (options.solver != ConstraintSolver::automatic) return options.solver;
        return G.rows <= options.denseRowLimit ? ConstraintSolver::cholesky
                                               : ConstraintSolver::conjugateGradient;
    }

    // y = (G D G^T + sigma2 I) x
    void applySystem(const std::vector<double>& d, const std::vector<double>& x, std::vector<double>& y)
    {
        G.multiplyTransposed(x.data(), t.data());
        for (std::size_t k = 0; k < t.size(); ++k) t[k] *= d[k];
        G.multiply(t.data(), y.data());
        for (std::size_t i = 0; i < y.size(); ++i) y[i] += options.constraintVariance * x[i];
    }

    // Jacobi-preconditioned CG from x = 0. Converges on a singular but
    // consistent system, since the iterates stay in the range of the matrix;
    // a breakdown is only possible for an inconsistent one.
    std::size_t conjugateGradient(
        const std::vector<double>& d, const std::vector<double>& rhs, std::vector<double>& x, bool& converged)
    {
        const std::size_t m = G.rows;
        std::vector<double> diag(m, options.constraintVariance);
        for (std::size_t i = 0; i < m; ++i)
        {
            for (std::int64_t p = G.rowStart[i]; p < G.rowStart[i + 1]; ++p)
            {
                diag[i] += G.value[p] * G.value[p] * d[G.column[p]];
            }
        }
        CGSettings settings;
        settings.relativeTolerance = options.relativeTolerance;
        settings.maxIterations = options.maxIterations ? options.maxIterations : 2 * m + 100;
        x.assign(m, 0.0);
        const CGResult result = mlcfd::conjugateGradient(
            [&](const std::vector<double>& v, std::vector<double>& Av) { applySystem(d, v, Av); },
            [&](const std::vector<double>& r, std::vector<double>& z)
            {
                for (std::size_t i = 0; i < m; ++i) z[i] = diag[i] > 0 ? r[i] / diag[i] : r[i];
            },
            rhs, x, settings);
        converged = result.converged;
        return result.iterations;
    }

    // Form G D G^T + sigma2 I column by column of G and factorise it.
    void factorise(const std::vector<double>& d)
    {
        if (factorValid && factorVariance == d) return;
        const std::size_t m = G.rows;
        torch::Tensor A = torch::zeros({long(m), long(m)}, torch::kFloat64);
        double* a = A.data_ptr<double>();
        for (std::size_t k = 0; k < Gt.rows; ++k)
        {
            if (d[k] == 0) continue;
            for (std::int64_t p = Gt.rowStart[k]; p < Gt.rowStart[k + 1]; ++p)
            {
                const double gi = Gt.value[p] * d[k];
                for (std::int64_t q = Gt.rowStart[k]; q < Gt.rowStart[k + 1]; ++q)
                {
                    a[Gt.column[p] * m + Gt.column[q]] += gi * Gt.value[q];
                }
            }
        }
        for (std::size_t i = 0; i < m; ++i) a[i * m + i] += options.constraintVariance;

        auto [L, info] = torch::linalg_cholesky_ex(A);
        factorSingular = info.item<int>() != 0;
        if (!factorSingular)
        {
            const double* l = L.data_ptr<double>();
            for (std::size_t i = 0; i < m; ++i)
            {
                if (!(l[i * m + i] * l[i * m + i] >= singularPivotRatio * a[i * m + i]) || a[i * m + i] == 0)
                {
                    factorSingular = true;
                    break;
                }
            }
        }
        factor = L;
        factorVariance = d;
        factorValid = true;
    }

    void denseSolve(const std::vector<double>& rhs, std::vector<double>& x)
    {
        const long m = long(G.rows);
        torch::Tensor b = torch::from_blob(const_cast<double*>(rhs.data()), {m, 1}, torch::kFloat64);
        torch::Tensor solution = torch::cholesky_solve(b, factor);
        x.assign(solution.data_ptr<double>(), solution.data_ptr<double>() + m);
    }

    // lambda = (G D G^T + sigma2 I)^{-1} rhs on the path chosen; updates the report.
    void solve(const std::vector<double>& d, const std::vector<double>& rhs, std::vector<double>& x,
        ConstraintReport& report)
    {
        if (report.solver == ConstraintSolver::cholesky)
        {
            denseSolve(rhs, x);
        }
        else
        {
            bool converged = true;
            report.iterations += conjugateGradient(d, rhs, x, converged);
            report.converged = report.converged && converged;
        }
    }

    // newMean = mean - D G^T lambda (newMean may alias mean).
    void correct(const std::vector<double>& d, const std::vector<double>& lam, double* u)
    {
        G.multiplyTransposed(lam.data(), t.data());
        for (std::size_t k = 0; k < G.numCols(); ++k) u[k] -= d[k] * t[k];
    }
};

// ------------------------------------------------------- LinearConstraint

LinearConstraint::LinearConstraint(CSRMatrix G, const LinearConstraintOptions& options) : impl_(new Impl)
{
    G.check("mlcfd::LinearConstraint: G");
    if (!(options.constraintVariance >= 0) || !std::isfinite(options.constraintVariance))
    {
        throw std::invalid_argument(
            "mlcfd::LinearConstraint: constraintVariance = " + std::to_string(options.constraintVariance)
            + " must be finite and >= 0");
    }
    if (!(options.relativeTolerance > 0))
    {
        throw std::invalid_argument("mlcfd::LinearConstraint: relativeTolerance must be > 0");
    }
    impl_->G = std::move(G);
    impl_->options = options;

    const CSRMatrix& A = impl_->G;
    impl_->Gt = A.transposed();
    impl_->t.resize(A.numCols());
    impl_->r.resize(A.rows);
}

LinearConstraint::~LinearConstraint() = default;
LinearConstraint::LinearConstraint(LinearConstraint&&) noexcept = default;
LinearConstraint& LinearConstraint::operator=(LinearConstraint&&) noexcept = default;

const CSRMatrix& LinearConstraint::matrix() const
{
    return impl_->G;
}
const LinearConstraintOptions& LinearConstraint::options() const
{
    return impl_->options;
}

double LinearConstraint::residual(const double* u, const double* b, const double* reference) const
{
    const CSRMatrix& G = impl_->G;
    std::vector<double> Gu(G.rows), bv(b, b + G.rows);
    G.multiply(u, Gu.data());
    double scale = norm(bv);
    if (reference)
    {
        std::vector<double> Gref(G.rows);
        G.multiply(reference, Gref.data());
        scale = std::max(scale, norm(Gref));
    }
    for (std::size_t i = 0; i < G.rows; ++i) Gu[i] -= b[i];
    return norm(Gu) / std::max(scale, std::numeric_limits<double>::min());
}

ConstraintReport LinearConstraint::apply(
    const double* mean, const double* variance, const double* b, double* newMean, double* newVariance)
{
    const auto start = std::chrono::steady_clock::now();
    Impl& I = *impl_;
    const CSRMatrix& G = I.G;
    const std::size_t m = G.rows, n = G.numCols();
    if (!mean || !b || !newMean)
    {
        throw std::invalid_argument("mlcfd::LinearConstraint::apply: mean, b and newMean must not be null");
    }
    requireFinite(mean, n, "mean");
    requireFinite(b, m, "b");
    std::vector<double> d(n, 1.0);
    if (variance)
    {
        requireFinite(variance, n, "variance");
        for (std::size_t k = 0; k < n; ++k)
        {
            if (variance[k] < 0)
            {
                std::ostringstream os;
                os << "mlcfd::LinearConstraint: variance[" << k << "] = " << variance[k] << " is negative";
                throw std::invalid_argument(os.str());
            }
        }
        d.assign(variance, variance + n);
    }

    ConstraintReport report;
    report.solver = I.chooseSolver();
    if (report.solver == ConstraintSolver::cholesky)
    {
        I.factorise(d);
        if (I.factorSingular)
        {
            report.rankDeficient = true;
            report.solver = ConstraintSolver::conjugateGradient;
        }
    }

    // Scale of the residual: |b| or |G mu|, whichever is larger.
    G.multiply(mean, I.r.data());
    const double scale =
        std::max({norm(std::vector<double>(b, b + m)), norm(I.r), std::numeric_limits<double>::min()});
    for (std::size_t i = 0; i < m; ++i) I.r[i] -= b[i];

    I.solve(d, I.r, I.lambda, report);
    if (newMean != mean) std::copy(mean, mean + n, newMean);
    I.correct(d, I.lambda, newMean);

    // One step of iterative refinement on the dense path: recovers the digits
    // the factorisation loses to the conditioning of G D G^T. The residual of
    // the m x m system is r - A lambda = G mu_new - b - sigma2 lambda.
    if (report.solver == ConstraintSolver::cholesky)
    {
        G.multiply(newMean, I.r.data());
        for (std::size_t i = 0; i < m; ++i)
        {
            I.r[i] -= b[i] + I.options.constraintVariance * I.lambda[i];
        }
        if (norm(I.r) > 1e-15 * scale)
        {
            I.solve(d, I.r, I.lambda, report);
            I.correct(d, I.lambda, newMean);
        }
    }

    if (newVariance)
    {
        // Sigma_new_kk = d_k - d_k^2 g_k^T A^{-1} g_k, g_k the k-th column of G.
        // Round-off can make it slightly negative where the constraint fixes
        // u_k completely: clamp at 0.
        const CSRMatrix& Gt = I.Gt;
        if (report.solver == ConstraintSolver::cholesky)
        {
            torch::Tensor Ainv = torch::cholesky_inverse(I.factor);
            const double* ai = Ainv.data_ptr<double>();
            for (std::size_t k = 0; k < n; ++k)
            {
                double q = 0;
                for (std::int64_t p = Gt.rowStart[k]; p < Gt.rowStart[k + 1]; ++p)
                {
                    for (std::int64_t s = Gt.rowStart[k]; s < Gt.rowStart[k + 1]; ++s)
                    {
                        q += Gt.value[p] * ai[Gt.column[p] * m + Gt.column[s]] * Gt.value[s];
                    }
                }
                newVariance[k] = std::max(0.0, d[k] - d[k] * d[k] * q);
            }
        }
        else
        {
            std::vector<double> g(m), z(m);
            for (std::size_t k = 0; k < n; ++k)
            {
                if (d[k] == 0 || Gt.rowStart[k] == Gt.rowStart[k + 1])
                {
                    newVariance[k] = d[k];
                    continue;
                }
                std::fill(g.begin(), g.end(), 0.0);
                for (std::int64_t p = Gt.rowStart[k]; p < Gt.rowStart[k + 1]; ++p)
                    g[Gt.column[p]] = Gt.value[p];
                I.solve(d, g, z, report);
                newVariance[k] = std::max(0.0, d[k] - d[k] * d[k] * dot(g, z));
            }
        }
    }

    G.multiply(newMean, I.r.data());
    for (std::size_t i = 0; i < m; ++i) I.r[i] -= b[i];
    report.constraintResidual = norm(I.r) / scale;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

ConstraintReport LinearConstraint::project(std::vector<double>& u, const std::vector<double>& b)
{
    if (u.size() != cols() || b.size() != rows())
    {
        throw std::invalid_argument("mlcfd::LinearConstraint::project: u has " + std::to_string(u.size())
                                    + " entries (expected " + std::to_string(cols()) + "), b has "
                                    + std::to_string(b.size()) + " (expected " + std::to_string(rows())
                                    + ")");
    }
    return apply(u.data(), nullptr, b.data(), u.data(), nullptr);
}

ConstraintReport LinearConstraint::update(
    std::vector<double>& mean, std::vector<double>& variance, const std::vector<double>& b)
{
    if (mean.size() != cols() || variance.size() != cols() || b.size() != rows())
    {
        throw std::invalid_argument(
            "mlcfd::LinearConstraint::update: mean/variance have " + std::to_string(mean.size()) + "/"
            + std::to_string(variance.size()) + " entries (expected " + std::to_string(cols()) + "), b has "
            + std::to_string(b.size()) + " (expected " + std::to_string(rows()) + ")");
    }
    return apply(mean.data(), variance.data(), b.data(), mean.data(), variance.data());
}

std::vector<double> LinearConstraint::covariance(const double* variance)
{
    Impl& I = *impl_;
    const CSRMatrix& G = I.G;
    const std::size_t m = G.rows, n = G.numCols();
    if (n > 4000)
    {
        throw std::invalid_argument("mlcfd::LinearConstraint::covariance: n = " + std::to_string(n)
                                    + " unknowns is too many for a dense n x n covariance (limit 4000)");
    }
    std::vector<double> d(n, 1.0);
    if (variance)
    {
        requireFinite(variance, n, "variance");
        for (std::size_t k = 0; k < n; ++k)
        {
            if (variance[k] < 0)
            {
                throw std::invalid_argument(
                    "mlcfd::LinearConstraint: variance[" + std::to_string(k) + "] is negative");
            }
        }
        d.assign(variance, variance + n);
    }
    // Sigma_new = D - (D G^T) A^{-1} (G D), column j from one solve with G d_j e_j.
    ConstraintReport report;
    report.solver = I.chooseSolver();
    if (report.solver == ConstraintSolver::cholesky)
    {
        I.factorise(d);
        if (I.factorSingular) report.solver = ConstraintSolver::conjugateGradient;
    }
    std::vector<double> S(n * n, 0.0), g(m), z(m), w(n);
    for (std::size_t j = 0; j < n; ++j)
    {
        S[j * n + j] = d[j];
        if (d[j] == 0 || I.Gt.rowStart[j] == I.Gt.rowStart[j + 1]) continue;
        std::fill(g.begin(), g.end(), 0.0);
        for (std::int64_t p = I.Gt.rowStart[j]; p < I.Gt.rowStart[j + 1]; ++p)
        {
            g[I.Gt.column[p]] = I.Gt.value[p] * d[j];
        }
        I.solve(d, g, z, report);
        G.multiplyTransposed(z.data(), w.data());
        for (std::size_t i = 0; i < n; ++i) S[i * n + j] -= d[i] * w[i];
    }
    return S;
}

} // namespace mlcfd
