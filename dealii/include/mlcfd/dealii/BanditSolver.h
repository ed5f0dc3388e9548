// mlcfd: the whole solver configuration (a solver with its preconditioner),
// chosen per solve by an online bandit from the wall time of each solve.
#ifndef MLCFD_DEALII_BANDIT_SOLVER_H
#define MLCFD_DEALII_BANDIT_SOLVER_H

#include "mlcfd/RelaxationPolicy.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/utilities.h>
#include <deal.II/lac/solver_control.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace mlcfd
{
namespace dealii
{

/**
 * Chooses, for each solve in a sequence of related linear systems (the time
 * steps of a simulation), one of several complete solver configurations,
 * the candidates, and learns from the wall time each solve took, set-up of
 * the preconditioner included (after PCGBandit, Khodak et al., 2025; the
 * OpenFOAM counterpart is `solver banditSolver;`).
 *
 * A candidate is any callable that solves A x = b with a SolverControl and
 * returns the iterations; solver_with() makes one from a deal.II solver and
 * a preconditioner with its AdditionalData (Jacobi, SSOR with an omega,
 * Trilinos' AMG with its settings, ...). Give the program's present solver
 * first: it is also the default backstop, which finishes a solve another
 * candidate did not converge (its time includes both; the caller sees the
 * backstop's solution).
 *
 * A candidate chosen when the matrix changes keeps solving until it changes
 * again (set_decide_per_matrix(false): a decision per solve), and the policy
 * learns from the mean time per solve of that stretch.
 *
 * The policy (default gaussianTS, mlcfd::RelaxationPolicy with labelled
 * arms) lives on rank 0 of the communicator: it decides and broadcasts the
 * candidate; each solve's time is the largest over the ranks. With a seed
 * the policy's random numbers repeat; its choices repeat only where the
 * times do.
 *
 * @code
 *   using Matrix = SparseMatrix<double>;
 *   using Vec = Vector<double>;
 *   mlcfd::dealii::BanditSolver<Matrix, Vec> bandit;   // gaussianTS
 *   bandit.add_candidate("SSOR 1.0",
 *     mlcfd::dealii::solver_with<SolverCG<Vec>, PreconditionSSOR<Matrix>, Matrix, Vec>({1.0}));
 *   bandit.add_candidate("Jacobi",
 *     mlcfd::dealii::solver_with<SolverCG<Vec>, PreconditionJacobi<Matrix>, Matrix, Vec>());
 *   for (each time step)
 *     {
 *       SolverControl control(1000, 1e-8 * rhs.l2_norm());
 *       bandit.solve(control, A, x, rhs, matrix_changed);
 *     }
 *   bandit.save("bandit.state");                 // restart: bandit.load(...)
 * @endcode
 */
template<typename MatrixType, typename VectorType> class BanditSolver
{
public:
    /// Solve A x = b within @p control; @p matrix_changed is false when A
    /// is the matrix of the previous solve (a candidate may then keep its
    /// preconditioner). Returns the iterations; throws
    /// SolverControl::NoConvergence as deal.II's solvers do.
    using Candidate = std::function<unsigned int(
        ::dealii::SolverControl&, const MatrixType&, VectorType&, const VectorType&, bool matrix_changed)>;

    explicit BanditSolver(const std::string& policy_name = "gaussianTS",
        const RelaxationSettings& settings = RelaxationSettings(),
        const MPI_Comm communicator = MPI_COMM_SELF)
        : policy_name(policy_name), settings(settings), communicator(communicator),
          root(::dealii::Utilities::MPI::this_mpi_process(communicator) == 0)
    {
        this->settings.labelledArms = true;
    }

    /// Add a candidate (before the first solve). The first one added is the
    /// backstop unless set_backstop() names another.
    void add_candidate(const std::string& name, Candidate candidate)
    {
        AssertThrow(!policy, ::dealii::ExcMessage("BanditSolver: add candidate '" + name
                                                  + "' before the first solve, not after"));
        for (const std::string& existing : names)
            AssertThrow(
                existing != name, ::dealii::ExcMessage("BanditSolver: two candidates named '" + name + "'"));
        names.push_back(name);
        candidates.push_back(std::move(candidate));
        played.push_back(0);
        built_for.push_back(-1);
    }

    /// true (the default): a candidate chosen when the matrix changes solves
    /// every system until it changes again, and the policy learns from the
    /// mean time per solve of that stretch, so that a set-up shared by the
    /// solves of one matrix (an AMG hierarchy) is judged by what it costs
    /// over them. false: a decision, and a lesson, per solve.
    void set_decide_per_matrix(const bool per_matrix_decisions) { per_matrix = per_matrix_decisions; }

    /// The candidate that finishes a solve another did not converge.
    void set_backstop(const std::string& name) { backstop = index_of(name); }

    /// Choose a candidate (rank 0; broadcast), solve with it, learn from the
    /// time. Returns the iterations (of the candidate, plus the backstop's
    /// when it had to finish); rethrows NoConvergence if the backstop, too,
    /// did not converge.
    unsigned int solve(::dealii::SolverControl& control, const MatrixType& matrix, VectorType& x,
        const VectorType& b, const bool matrix_changed = true)
    {
        create_policy();
        if (matrix_changed) ++matrix_version;
        // A new decision for a new matrix (per solve without
        // decide_per_matrix); the stretch before it is learnt from first.
        if (!per_matrix || stretch_solves == 0 || matrix_changed)
        {
            finish_stretch();
            unsigned int arm = root ? static_cast<unsigned int>(policy->choose()) : 0;
            current = ::dealii::Utilities::MPI::broadcast(communicator, arm, 0);
        }
        const unsigned int arm = current;
        ++played[arm];

        const auto start = std::chrono::steady_clock::now();
        unsigned int iterations = 0;
        fell_back = false;
        try
        {
            iterations = run(arm, control, matrix, x, b);
        }
        catch (const ::dealii::SolverControl::NoConvergence&)
        {
            if (arm == backstop)
            {
                observe(start);
                finish_stretch();
                throw;
            }
            iterations = control.last_step();
            fell_back = true;
            ++n_fallbacks;
            // The backstop goes on from the candidate's iterate, unless it
            // diverged (no copy of x per solve for this rare case).
            if (!std::isfinite(x.l2_norm())) x = 0;
            try
            {
                iterations += run(backstop, control, matrix, x, b);
            }
            catch (const ::dealii::SolverControl::NoConvergence&)
            {
                observe(start);
                finish_stretch();
                throw;
            }
        }
        observe(start);
        // After a fallback the next solve decides afresh.
        if (fell_back) finish_stretch();
        return iterations;
    }

    /// The candidate of the last solve, its time [s] (largest over the
    /// ranks) and whether the backstop had to finish it.
    const std::string& last_candidate() const { return names.at(current); }
    double last_seconds() const { return seconds; }
    bool last_fell_back() const { return fell_back; }

    /// Candidates' names and how often each was chosen; solves, their total
    /// time and the number of fallbacks to the backstop.
    const std::vector<std::string>& candidate_names() const { return names; }
    const std::vector<std::size_t>& plays() const { return played; }
    std::size_t solves() const { return n_solves; }
    double total_seconds() const { return total; }
    std::size_t fallbacks() const { return n_fallbacks; }

    /// The policy (rank 0 after the first solve or load(); nullptr elsewhere).
    const RelaxationPolicy* get_policy() const { return policy.get(); }

    /// Write what the policy learned, with the candidates' names (rank 0),
    /// after learning from the current stretch of solves.
    void save(const std::string& file)
    {
        finish_stretch();
        if (!root) return;
        AssertThrow(policy, ::dealii::ExcMessage("BanditSolver: nothing to save before the first solve"));
        std::ofstream out(file);
        AssertThrow(out, ::dealii::ExcIO());
        out << "candidates " << names.size() << '\n';
        for (const std::string& name : names) out << name << '\n';
        policy->write(out);
        AssertThrow(out, ::dealii::ExcMessage("Could not write the bandit state to " + file));
    }

    /// Continue from a state written by save() for the same candidates, in
    /// the same order (rank 0 reads).
    void load(const std::string& file)
    {
        create_policy();
        if (!root) return;
        std::ifstream in(file);
        AssertThrow(in, ::dealii::ExcMessage("Cannot read the bandit state file " + file));
        std::string word;
        std::size_t n = 0;
        in >> word >> n;
        in.ignore();
        std::vector<std::string> saved(n);
        for (std::string& name : saved) std::getline(in, name);
        AssertThrow(in && word == "candidates" && saved == names,
            ::dealii::ExcMessage("Bandit state file " + file
                                 + " is not of these candidates (in this order); remove it to start afresh"));
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
    unsigned int index_of(const std::string& name) const
    {
        for (unsigned int i = 0; i < names.size(); ++i)
            if (names[i] == name) return i;
        AssertThrow(false, ::dealii::ExcMessage("BanditSolver: no candidate named '" + name + "'"));
        return 0;
    }

    // A candidate may keep its preconditioner if the matrix has not changed
    // since that candidate last set it up (other candidates' solves between
    // do not matter).
    unsigned int run(const unsigned int arm, ::dealii::SolverControl& control, const MatrixType& matrix,
        VectorType& x, const VectorType& b)
    {
        const bool changed = built_for[arm] != matrix_version;
        built_for[arm] = matrix_version;
        return candidates[arm](control, matrix, x, b, changed);
    }

    void create_policy()
    {
        if (policy) return;
        AssertThrow(
            !candidates.empty(), ::dealii::ExcMessage("BanditSolver: add a candidate before solving"));
        settings.arms = static_cast<int>(candidates.size());
        // Every rank checks the settings; only rank 0 keeps the policy.
        auto policy_on_this_rank = RelaxationPolicy::New(policy_name, settings);
        if (root) policy = std::move(policy_on_this_rank);
    }

    void observe(const std::chrono::steady_clock::time_point start)
    {
        const double local = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        seconds = ::dealii::Utilities::MPI::max(local, communicator);
        ++stretch_solves;
        stretch_seconds += seconds;
        ++n_solves;
        total += seconds;
    }

public:
    /// Learn from the solves since the last decision now (at the end of a
    /// run; save() does it too).
    void finish_stretch()
    {
        if (stretch_solves == 0) return;
        if (root) policy->observe(stretch_seconds / stretch_solves);
        stretch_solves = 0;
        stretch_seconds = 0;
    }

private:
    std::string policy_name;
    RelaxationSettings settings;
    MPI_Comm communicator;
    bool root;
    std::unique_ptr<RelaxationPolicy> policy;
    std::vector<std::string> names;
    std::vector<Candidate> candidates;
    std::vector<std::size_t> played;
    // Per candidate, the matrix version it last set up for (-1: never).
    std::vector<long> built_for;
    long matrix_version = 0;
    unsigned int backstop = 0;
    unsigned int current = 0;
    bool fell_back = false;
    bool per_matrix = true;
    // Solves and their time since the current candidate was chosen.
    std::size_t stretch_solves = 0;
    double stretch_seconds = 0;
    double seconds = 0;
    double total = 0;
    std::size_t n_solves = 0;
    std::size_t n_fallbacks = 0;
};

/**
 * A candidate for BanditSolver: SolverType (SolverCG, SolverGMRES, ...) with a
 * PreconditionerType initialised from @p data. The preconditioner is kept
 * while the matrix does not change (an AMG hierarchy is built once per
 * matrix, not per solve).
 */
template<typename SolverType, typename PreconditionerType, typename MatrixType, typename VectorType>
typename BanditSolver<MatrixType, VectorType>::Candidate solver_with(
    const typename PreconditionerType::AdditionalData& data = typename PreconditionerType::AdditionalData())
{
    auto preconditioner = std::make_shared<std::unique_ptr<PreconditionerType>>();
    return [preconditioner, data](::dealii::SolverControl& control, const MatrixType& matrix, VectorType& x,
               const VectorType& b, const bool matrix_changed) -> unsigned int
    {
        if (!*preconditioner || matrix_changed)
        {
            *preconditioner = std::make_unique<PreconditionerType>();
            (*preconditioner)->initialize(matrix, data);
        }
        SolverType solver(control);
        solver.solve(matrix, x, b, **preconditioner);
        return control.last_step();
    };
}

} // namespace dealii
} // namespace mlcfd

#endif
