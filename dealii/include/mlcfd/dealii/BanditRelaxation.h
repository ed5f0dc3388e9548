// mlcfd: the relaxation factor of SOR/SSOR preconditioners, chosen per solve
// by an online bandit.
#ifndef MLCFD_DEALII_BANDIT_RELAXATION_H
#define MLCFD_DEALII_BANDIT_RELAXATION_H

#include "mlcfd/RelaxationPolicy.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/mpi.h>
#include <deal.II/lac/petsc_precondition.h>
#include <deal.II/lac/solver_control.h>

#include <fstream>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace mlcfd
{
namespace dealii
{

namespace internal
{
template<typename T, typename = void> struct HasRelaxation : std::false_type
{
};

template<typename T>
struct HasRelaxation<T, std::void_t<decltype(std::declval<T&>().relaxation)>> : std::true_type
{
};

/// deal.II's own preconditioners call omega "relaxation", PETSc's and
/// Trilinos' wrappers "omega".
template<typename AdditionalData> void set_omega(AdditionalData& data, const double omega)
{
    if constexpr (HasRelaxation<AdditionalData>::value)
        data.relaxation = omega;
    else
        data.omega = omega;
}

/// PETSc's PCSOR sweeps across processes are not supported for parallel
/// matrices ("Parallel SOR not supported"): use its processor-local
/// sweeps (block Jacobi between processes), as deal.II's own and
/// Trilinos' SSOR do.
template<typename PreconditionerType> void use_local_sweeps(PreconditionerType&, const MPI_Comm) {}

inline void use_local_sweeps(::dealii::PETScWrappers::PreconditionSSOR& p, const MPI_Comm comm)
{
    if (::dealii::Utilities::MPI::n_mpi_processes(comm) > 1)
    {
        const PetscErrorCode ierr = PCSORSetSymmetric(p.get_pc(), SOR_LOCAL_SYMMETRIC_SWEEP);
        AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
    }
}

inline void use_local_sweeps(::dealii::PETScWrappers::PreconditionSOR& p, const MPI_Comm comm)
{
    if (::dealii::Utilities::MPI::n_mpi_processes(comm) > 1)
    {
        const PetscErrorCode ierr = PCSORSetSymmetric(p.get_pc(), SOR_LOCAL_FORWARD_SWEEP);
        AssertThrow(ierr == 0, ::dealii::ExcPETScError(ierr));
    }
}
} // namespace internal

/**
 * Chooses the relaxation factor omega of an SOR or SSOR preconditioner for
 * each solve in a sequence of related linear systems (the time steps of a
 * simulation), learning online from each solve's iteration count only: no
 * extra matrix work (after "Learning to Relax", Khodak et al., ICLR 2024).
 *
 * @tparam PreconditionerType PreconditionSOR<SparseMatrix<double>>,
 *   PreconditionSSOR<SparseMatrix<double>>, PETScWrappers::PreconditionSOR,
 *   PETScWrappers::PreconditionSSOR, TrilinosWrappers::PreconditionSOR or
 *   TrilinosWrappers::PreconditionSSOR: anything whose AdditionalData has a
 *   `relaxation` or `omega` member.
 *
 * The policy (mlcfd::RelaxationPolicy::names(): chebTS, tsallisInf, chebCB,
 * epsilonGreedy, fixed) lives on rank 0 of the communicator: it decides and
 * broadcasts omega; the cost reported by each rank is reduced (maximum) to
 * it. Every rank therefore uses the same omega.
 *
 * @code
 *   mlcfd::RelaxationSettings settings;        // 20 arms on [1, 1.95]
 *   mlcfd::dealii::BanditRelaxation<PreconditionSSOR<SparseMatrix<double>>>
 *     bandit("tsallisInf", settings);
 *   for (each time step)
 *     {
 *       SolverControl control(1000, 1e-8 * rhs.l2_norm());
 *       bandit.solve<SolverCG<Vector<double>>>(control, A, x, rhs);
 *     }
 *   bandit.save("bandit.state");                // restart: bandit.load(...)
 * @endcode
 */
template<typename PreconditionerType> class BanditRelaxation
{
public:
    BanditRelaxation(const std::string& policy_name,
        const RelaxationSettings& settings = RelaxationSettings(),
        const MPI_Comm communicator = MPI_COMM_SELF)
        : communicator(communicator), root(::dealii::Utilities::MPI::this_mpi_process(communicator) == 0)
    {
        // Every rank checks the settings; only rank 0 keeps the policy.
        auto policy_on_this_rank = RelaxationPolicy::New(policy_name, settings);
        if (root) policy = std::move(policy_on_this_rank);
    }

    /// Choose omega for the next solve (rank 0; broadcast) and initialize
    /// the preconditioner with @p matrix. @p context: a scalar known before
    /// the solve, used by contextual policies (chebCB).
    template<typename MatrixType>
    const PreconditionerType& initialize(const MatrixType& matrix, const double context = 0)
    {
        double chosen = root ? policy->omega(policy->choose(context)) : 0.0;
        chosen = ::dealii::Utilities::MPI::broadcast(communicator, chosen, 0);
        current_omega = chosen;

        typename PreconditionerType::AdditionalData data;
        internal::set_omega(data, current_omega);
        preconditioner.initialize(matrix, data);
        internal::use_local_sweeps(preconditioner, communicator);
        return preconditioner;
    }

    /// Cost of the solve made after the last initialize() (iterations or
    /// seconds); the maximum over the ranks is what the policy learns from.
    void observe(const double cost)
    {
        const double reduced = ::dealii::Utilities::MPI::max(cost, communicator);
        if (root) policy->observe(reduced);
        ++n_solves;
        total_cost += reduced;
    }

    /// initialize(), solve with a SolverType built on @p control, observe the
    /// iteration count; returns it. A solve that does not converge is
    /// charged its iterations, then the exception goes to the caller.
    template<typename SolverType, typename MatrixType, typename VectorType>
    unsigned int solve(::dealii::SolverControl& control, const MatrixType& matrix, VectorType& x,
        const VectorType& b, const double context = 0)
    {
        initialize(matrix, context);
        SolverType solver(control);
        try
        {
            solver.solve(matrix, x, b, preconditioner);
        }
        catch (const ::dealii::SolverControl::NoConvergence&)
        {
            observe(control.last_step());
            throw;
        }
        observe(control.last_step());
        return control.last_step();
    }

    /// The omega of the last initialize().
    double omega() const { return current_omega; }

    /// Number of solves and their total (reduced) cost so far.
    std::size_t solves() const { return n_solves; }
    double cost() const { return total_cost; }

    PreconditionerType& get_preconditioner() { return preconditioner; }

    /// The policy (rank 0 only; nullptr elsewhere).
    const RelaxationPolicy* get_policy() const { return policy.get(); }

    /// Write what the policy learned (rank 0 writes).
    void save(const std::string& file) const
    {
        if (!root) return;
        std::ofstream out(file);
        AssertThrow(out, ::dealii::ExcIO());
        policy->write(out);
        AssertThrow(out, ::dealii::ExcMessage("Could not write the bandit state to " + file));
    }

    /// Continue from a state written by save() (rank 0 reads).
    void load(const std::string& file)
    {
        if (!root) return;
        std::ifstream in(file);
        AssertThrow(in, ::dealii::ExcMessage("Cannot read the bandit state file " + file));
        try
        {
            policy->read(in);
        }
        catch (const std::exception& e)
        {
            AssertThrow(false, ::dealii::ExcMessage("Bandit state file " + file + ": " + e.what()));
        }
    }

private:
    MPI_Comm communicator;
    bool root;
    std::unique_ptr<RelaxationPolicy> policy;
    PreconditionerType preconditioner;
    double current_omega = 1.0;
    std::size_t n_solves = 0;
    double total_cost = 0;
};

} // namespace dealii
} // namespace mlcfd

#endif
