// mlcfd: a network that approximates A^-1 r as a deal.II preconditioner for
// SolverFlexibleCG (after the Deep Conjugate Direction Method).
#ifndef MLCFD_DEALII_LEARNED_PRECONDITIONER_H
#define MLCFD_DEALII_LEARNED_PRECONDITIONER_H

#include "mlcfd/LearnedPreconditioner.h"
#include "mlcfd/dealii/LocalRows.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/subscriptor.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/trilinos_vector.h>
#include <deal.II/lac/vector.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlcfd
{
namespace dealii
{

/**
 * A neural network that approximates A^-1 r, as a preconditioner of
 * SolverFlexibleCG: vmult(z, r) computes z = M(r) with an
 * mlcfd::LearnedPreconditioner, i.e. a TorchScript model of kind
 * "preconditionerGraph" (a network on the graph of the matrix: any mesh,
 * any numbering) or "preconditionerGrid" (a CNN on a uniform grid: the
 * degrees of freedom must be numbered lexicographically, x fastest, and
 * AdditionalData::grid must give the points per direction).
 *
 * The network sees the symmetrically Jacobi-scaled system (see
 * mlcfd::LearnedPreconditioner), so it is independent of units and of the
 * scale of r. The reference model of `mlcfd-model create graphJacobi`
 * returns the scaled residual, which makes this class Jacobi's method
 * (z = r/diag) up to round-off: a check that the network is really in the
 * loop.
 *
 * A network is nonlinear and not symmetric in general: use a flexible
 * method (mlcfd::dealii::FlexibleCG, SolverFlexibleCG, SolverFGMRES), not
 * SolverCG, whose theory needs a fixed symmetric positive definite
 * preconditioner. (deal.II 9.4's
 * SolverFlexibleCG misbehaves with PreconditionIdentity: its flexible
 * formula uses the previous preconditioned residual, which the identity
 * shortcut never computes. Use SolverCG for unpreconditioned runs; this
 * class is applied like any other preconditioner and is not affected.)
 * A network that returns non-finite values is replaced by Jacobi for that
 * application and counted in n_fallbacks(). A network that is merely bad
 * can still slow deal.II's SolverFlexibleCG down or make it fail, for it
 * has no safeguard (tests/dealii/test_LearnedPreconditioner.cc prints what
 * it does with bad networks); mlcfd::dealii::FlexibleCG with its safeguard
 * never needs more iterations than plain CG.
 *
 * Works with Vector<double> (and SparseMatrix<double>),
 * PETScWrappers::MPI::Vector (PETScWrappers::MPI::SparseMatrix) and
 * TrilinosWrappers::MPI::Vector (TrilinosWrappers::SparseMatrix). In
 * parallel each process applies the network to its locally owned rows and
 * the couplings between them: entries in columns owned by other processes
 * are left out (a block-Jacobi-like split; the network acts per process).
 * Constrained rows as deal.II assembles them (zero off-diagonals, a positive
 * diagonal) are fine; the diagonal must be positive.
 *
 * @code
 *   mlcfd::dealii::LearnedPreconditioner preconditioner;
 *   preconditioner.initialize(system_matrix, "graph.pt",
 *                             {"cpu", 1, {}});     // device, threads, grid
 *   SolverControl control(1000, 1e-8 * system_rhs.l2_norm());
 *   SolverFlexibleCG<Vector<double>> solver(control);
 *   solver.solve(system_matrix, solution, system_rhs, preconditioner);
 *   std::cout << preconditioner.n_applications() << " applications in "
 *             << preconditioner.inference_seconds() << " s\n";
 * @endcode
 *
 * See also mlcfd::petsc::setLearnedPreconditioner() (the same network as a
 * PETSc PCSHELL, for KSPFCG; initialize() with get_shared_network() shares
 * one loaded network between both).
 */
class LearnedPreconditioner : public ::dealii::Subscriptor
{
public:
    /// How the network runs.
    struct AdditionalData
    {
        /// "cpu" or "cuda" (falls back to the CPU with a warning).
        std::string device = "cpu";
        /// LibTorch intra-op threads (0: as mlcfd::ModelOptions, i.e.
        /// MLCFD_NUM_THREADS or LibTorch's default).
        int threads = 0;
        /// Points per direction, x fastest, of a lexicographically numbered
        /// grid: required by grid models, ignored by graph models.
        std::vector<std::int64_t> grid = {};
    };

    /// Load @p model_file for the locally owned rows of @p matrix. Throws
    /// mlcfd::ModelError naming the file for a missing or unsuitable model,
    /// std::invalid_argument for a non-positive diagonal or a grid that does
    /// not match the rows.
    template<typename MatrixType>
    void initialize(const MatrixType& matrix, const std::string& model_file,
        const AdditionalData& data = AdditionalData())
    {
        LearnedPreconditionerOptions options;
        options.device = data.device;
        options.threads = data.threads;
        options.grid = data.grid;
        initialize(std::make_shared<const ::mlcfd::LearnedPreconditioner>(
            model_file, internal::local_csr(matrix), options));
    }

    /// Use an already built network (e.g. shared with a PETSc PCSHELL).
    void initialize(std::shared_ptr<const ::mlcfd::LearnedPreconditioner> network)
    {
        AssertThrow(network, ::dealii::ExcMessage("LearnedPreconditioner::initialize: no network"));
        this->network = std::move(network);
    }

    /// Forget the network.
    void clear() { network.reset(); }

    /// dst = M(src) on the locally owned entries (dst and src must differ).
    template<typename VectorType> void vmult(VectorType& dst, const VectorType& src) const
    {
        using Access = internal::LocalValues<VectorType>;
        AssertThrow(
            network, ::dealii::ExcMessage("LearnedPreconditioner::vmult() called before initialize()"));
        AssertThrow(&dst != &src,
            ::dealii::ExcMessage("LearnedPreconditioner::vmult() needs different vectors dst and src"));
        AssertThrow(Access::size(src) == network->rows(),
            ::dealii::ExcMessage("LearnedPreconditioner::vmult(): src has "
                                 + std::to_string(Access::size(src))
                                 + " locally owned entries but the matrix given to initialize() has "
                                 + std::to_string(network->rows()) + " locally owned rows"));
        AssertThrow(Access::size(dst) == network->rows(),
            ::dealii::ExcMessage("LearnedPreconditioner::vmult(): dst has "
                                 + std::to_string(Access::size(dst))
                                 + " locally owned entries but the matrix given to initialize() has "
                                 + std::to_string(network->rows()) + " locally owned rows"));

        const double* in = Access::read(src);
        double* out = Access::write(dst);
        network->apply(in, out);
        Access::release(dst, out);
        Access::release(src, in);
    }

    /// Whether initialize() was called.
    bool is_initialized() const { return static_cast<bool>(network); }

    /// The network; throws before initialize().
    const ::mlcfd::LearnedPreconditioner& get_network() const
    {
        AssertThrow(
            network, ::dealii::ExcMessage("LearnedPreconditioner::get_network() called before initialize()"));
        return *network;
    }

    /// The network, to share it (nullptr before initialize()).
    std::shared_ptr<const ::mlcfd::LearnedPreconditioner> get_shared_network() const { return network; }

    /// Applications of the network since initialize().
    std::size_t n_applications() const { return get_network().applications(); }

    /// Wall time of those applications (inference and scaling).
    double inference_seconds() const { return get_network().inferenceSeconds(); }

    /// Applications whose non-finite output was replaced by Jacobi's step.
    std::size_t n_fallbacks() const { return get_network().fallbacks(); }

private:
    std::shared_ptr<const ::mlcfd::LearnedPreconditioner> network;
};

} // namespace dealii
} // namespace mlcfd

#endif
