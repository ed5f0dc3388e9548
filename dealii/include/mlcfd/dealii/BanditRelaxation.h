// mlcfd: the relaxation factor of SOR/SSOR preconditioners, chosen per solve
// by an online bandit.
#ifndef MLCFD_DEALII_BANDIT_RELAXATION_H
#define MLCFD_DEALII_BANDIT_RELAXATION_H

#include "mlcfd/RelaxationPolicy.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/utilities.h>
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
 * The policy (mlcfd::RelaxationPolicy::names(): chebTS, gaussianProcessTS, tsallisInf, chebCB,
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
    /// the solve, used by contextual policies (chebCB; chebTS and
    /// gaussianProcessTS with degree > 0).
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

/// A policy name and its settings, as read by parse_bandit_parameters().
struct BanditParameters
{
    std::string policy = "tsallisInf";
    RelaxationSettings settings;
};

/// Declare the bandit's entries in the current subsection of @p prm, as
/// deal.II's classes declare theirs: Policy, Omega range, Arms, Fixed omega,
/// Seed, Cost scale, Epsilon (defaults those of RelaxationSettings). The
/// policy names come from the core's factory, so a new policy is selectable
/// without touching a program.
inline void declare_bandit_parameters(::dealii::ParameterHandler& prm)
{
    using ::dealii::Patterns::Double;
    using ::dealii::Patterns::Integer;
    const RelaxationSettings defaults;
    std::string policies;
    for (const std::string& name : RelaxationPolicy::names())
        policies += (policies.empty() ? "" : "|") + name;
    prm.declare_entry("Policy", "tsallisInf", ::dealii::Patterns::Selection(policies),
        "How omega is chosen before each solve: " + policies);
    prm.declare_entry("Omega range",
        ::dealii::Utilities::to_string(defaults.omegaMin) + ", "
            + ::dealii::Utilities::to_string(defaults.omegaMax),
        ::dealii::Patterns::List(Double(0, 2), 2, 2),
        "Smallest and largest omega of the arms (inside (0, 2), where SOR and SSOR converge)");
    prm.declare_entry("Arms", std::to_string(defaults.arms), Integer(1),
        "Number of candidate omegas, evenly spaced on the range");
    prm.declare_entry("Fixed omega", ::dealii::Utilities::to_string(defaults.omega), Double(0, 2),
        "The omega of every solve with policy fixed");
    prm.declare_entry("Seed", std::to_string(defaults.seed), Integer(0),
        "Seed of the policy's random numbers (same seed, same choices)");
    prm.declare_entry("Cost scale", ::dealii::Utilities::to_string(defaults.costScale), Double(0),
        "Cost that counts as the largest loss; 0: twice the running mean");
    prm.declare_entry("Epsilon", ::dealii::Utilities::to_string(defaults.epsilon), Double(0, 1),
        "epsilonGreedy: probability of a random arm");
}

/// Read the entries of declare_bandit_parameters() back; throws
/// ::dealii::ExcMessage naming the entry for an omega outside (0, 2).
inline BanditParameters parse_bandit_parameters(::dealii::ParameterHandler& prm)
{
    BanditParameters p;
    p.policy = prm.get("Policy");
    const std::vector<std::string> range = ::dealii::Utilities::split_string_list(prm.get("Omega range"));
    p.settings.omegaMin = ::dealii::Utilities::string_to_double(range[0]);
    p.settings.omegaMax = ::dealii::Utilities::string_to_double(range[1]);
    p.settings.arms = prm.get_integer("Arms");
    p.settings.omega = prm.get_double("Fixed omega");
    p.settings.seed = prm.get_integer("Seed");
    p.settings.costScale = prm.get_double("Cost scale");
    p.settings.epsilon = prm.get_double("Epsilon");
    // The patterns allow the closed interval [0, 2]; SOR needs the open one.
    AssertThrow(
        p.settings.omegaMin > 0 && p.settings.omegaMax < 2 && p.settings.omegaMin <= p.settings.omegaMax,
        ::dealii::ExcMessage("entry 'Omega range': need 0 < min <= max < 2"));
    AssertThrow(p.settings.omega > 0 && p.settings.omega < 2,
        ::dealii::ExcMessage("entry 'Fixed omega': need 0 < omega < 2"));
    return p;
}

} // namespace dealii
} // namespace mlcfd

#endif
