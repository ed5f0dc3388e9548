// mlcfd: the ProbConserv hard constraint enforced subdomain by subdomain.
#ifndef MLCFD_SUBDOMAIN_CONSTRAINT_H
#define MLCFD_SUBDOMAIN_CONSTRAINT_H

#include "mlcfd/CSRMatrix.h"
#include "mlcfd/LinearConstraint.h"

#include <cstddef>
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

    /// Mean update with diagonal Sigma (@p variance, nullptr: identity);
    /// @p newMean may alias @p mean. The report sums the iterations of all
    /// solves; its residual is |G u - b| / max(|b|, |G mu|) over all rows.
    ConstraintReport apply(const double* mean, const double* variance, const double* b, double* newMean);

    /// Sigma = I, @p u updated in place.
    ConstraintReport project(std::vector<double>& u, const std::vector<double>& b);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace mlcfd

#endif
