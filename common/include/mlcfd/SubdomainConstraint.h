// mlcfd: the ProbConserv hard constraint enforced subdomain by subdomain.
#ifndef MLCFD_SUBDOMAIN_CONSTRAINT_H
#define MLCFD_SUBDOMAIN_CONSTRAINT_H

#include "mlcfd/CSRMatrix.h"
#include "mlcfd/LinearConstraint.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace mlcfd
{

struct SubdomainConstraintOptions
{
    /// Threads over the subdomains' local solves; 0 = one per core. With
    /// more than one the local blocks are solved by CG (LibTorch's dense
    /// factorisation is not safe on several threads at once).
    std::size_t threads = 1;

    /// The local and coarse constraints (a subdomain of at most
    /// denseRowLimit rows keeps its Cholesky factor between calls).
    /// constraintVariance must stay 0: the constraint is hard.
    LinearConstraintOptions local;

    /// The coarse step is done by the caller, across processes (apply with a
    /// CoarseStep): G holds one process's rows, its columns shared with other
    /// processes are coarse columns like the faces between subdomains, and
    /// the coarse matrix is built even for one subdomain.
    bool externalCoarse = false;

    /// With externalCoarse: the columns of G that other processes hold too
    /// (faces on processor boundaries). Only the coarse step changes them,
    /// so that both sides keep one value.
    std::vector<std::size_t> sharedColumns;
};

/// Rows of @p G grouped into connected subdomains of about @p targetRows
/// rows (breadth-first region growing over rows that share a column; a
/// region left smaller than targetRows/4 joins a neighbour). Returns the
/// subdomain of every row, numbered from 0.
std::vector<std::size_t> partitionRows(const CSRMatrix& G, std::size_t targetRows);

/// G u = b enforced exactly with local solves, the decomposed alternative
/// to LinearConstraint's one solve over the whole mesh (after "Scaling
/// physics-informed hard constraints with mixture-of-experts", Chalapathi
/// et al., ICLR 2024, and two-level domain decomposition):
///
///  1. coarse: the rows of every subdomain summed into one row; the columns
///     shared by subdomains (interface fluxes) are corrected by the
///     ProbConserv update of that small S x S problem, so that every
///     subdomain's total balance holds;
///  2. local: every subdomain's own columns are corrected by the update of
///     its rows, independently (threads), the interface columns held.
///
/// The result satisfies every row of G u = b to the solvers' tolerance, so
/// sums of rows (global conservation for a flux divergence) hold too. It is
/// a valid correction with Sigma-weighted local least change, not the global
/// least-change projection: one subdomain gives exactly LinearConstraint's
/// result, and so does a G with no shared columns.
///
/// Step 2 is solvable when a subdomain's residual after step 1 lies in the
/// range of its local rows: always for a flux divergence (every column in at
/// most two rows, with opposite signs) on connected subdomains, where the
/// local rows lose rank only by their sum, which step 1 sets to zero. A
/// block (coarse or local) whose columns that may change (nonzero variance)
/// all have entries that cancel has its last row dropped, implied by the
/// others, so its factor stays nonsingular and is kept between calls. For
/// other G the report's residual says whether the local systems were
/// consistent.
///
/// @code
///   mlcfd::CSRMatrix G = mlcfd::faceDivergenceMatrix(1000, 1000);
///   mlcfd::SubdomainConstraint constraint(G, mlcfd::partitionRows(G, 256));
///   auto report = constraint.project(flux, source);   // Sigma = I
/// @endcode
class SubdomainConstraint
{
public:
    SubdomainConstraint(
        CSRMatrix G, std::vector<std::size_t> subdomainOfRow, const SubdomainConstraintOptions& options = {});
    ~SubdomainConstraint();
    SubdomainConstraint(SubdomainConstraint&&) noexcept;
    SubdomainConstraint& operator=(SubdomainConstraint&&) noexcept;
    SubdomainConstraint(const SubdomainConstraint&) = delete;
    SubdomainConstraint& operator=(const SubdomainConstraint&) = delete;

    std::size_t rows() const;
    std::size_t cols() const;
    std::size_t subdomains() const;
    /// Columns shared by two or more subdomains (the coarse unknowns).
    std::size_t interfaceColumns() const;

    /// The coarse step of a constraint spread over processes: from this
    /// process's summed residual of each subdomain (subdomains() values) and
    /// the values and variances of its coarse columns (coarseColumns()
    /// order), write the corrected values of those columns. The caller
    /// gathers the coarseMatrix() rows of every process, solves their
    /// least-change problem once, and scatters the result (see the
    /// neuralOperator function object).
    using CoarseStep = std::function<void(const std::vector<double>& residual,
        const std::vector<double>& variances, std::vector<double>& values)>;

    /// Rows: subdomains; columns: coarseColumns(); entry: the sum of the
    /// subdomain's entries of G in that column.
    const CSRMatrix& coarseMatrix() const;
    /// The columns of G that the coarse step corrects.
    const std::vector<std::size_t>& coarseColumns() const;

    /// Mean update with diagonal Sigma (@p variance, nullptr: identity);
    /// @p newMean may alias @p mean. The report sums the iterations of all
    /// solves; its residual is |G u - b| / max(|b|, |G mu|) over all rows.
    ConstraintReport apply(const double* mean, const double* variance, const double* b, double* newMean);

    /// The same with the coarse step done by @p coarse (needs
    /// externalCoarse; called on every call, collective where @p coarse
    /// is). The report's residual is this process's.
    ConstraintReport apply(const double* mean, const double* variance, const double* b, double* newMean,
        const CoarseStep& coarse);

    /// Sigma = I, @p u updated in place.
    ConstraintReport project(std::vector<double>& u, const std::vector<double>& b);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The coarse problem of a SubdomainConstraint spread over processes, on
/// the process that gathers: every process's coarseMatrix() rows stacked,
/// its coarse columns numbered globally (a column two processes share, a
/// processor face, has one number and the same orientation on both), then
/// one least-change solve of "every subdomain's balance holds". With the
/// subdomains of all processes this is the coarse step of one
/// SubdomainConstraint over the whole G (tested equal).
///
/// @code
///   // on every process p (options.externalCoarse, sharedColumns set):
///   local.apply(flux, variance, b, flux, [&](auto& residual, auto& variances, auto& values) {
///       // gather residual, variances, values (and once the matrix and the
///       // global column numbers) to the master; there:
///       coarse.solve(residuals, variances, values);   // values of every process
///       // scatter values[p] back
///   });
/// @endcode
class DistributedCoarseProblem
{
public:
    /// @p matrices[p] and @p globalColumns[p]: process p's coarseMatrix()
    /// and the global number of each of its coarse columns.
    DistributedCoarseProblem(const std::vector<CSRMatrix>& matrices,
        const std::vector<std::vector<std::int64_t>>& globalColumns,
        const LinearConstraintOptions& options = {});
    ~DistributedCoarseProblem();
    DistributedCoarseProblem(DistributedCoarseProblem&&) noexcept;
    DistributedCoarseProblem& operator=(DistributedCoarseProblem&&) noexcept;

    /// Global coarse unknowns and rows (all subdomains).
    std::size_t columns() const;
    std::size_t rows() const;

    /// From each process's residuals, variances and values (the CoarseStep
    /// arguments), the corrected values of each process's coarse columns,
    /// in place. A shared column takes the value and variance of the first
    /// process holding it.
    ConstraintReport solve(const std::vector<std::vector<double>>& residuals,
        const std::vector<std::vector<double>>& variances, std::vector<std::vector<double>>& values);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace mlcfd

#endif
