/* ---------------------------------------------------------------------
 * mlcfd tutorial: the heat equation of deal.II's step-26 with an SSOR
 * relaxation factor that a bandit learns while the simulation runs.
 *
 * @file heat_bandit.cc
 *
 * We solve, as step-26 does,
 *
 *   du/dt - Laplace u = f(x, t)  on the L-shaped domain [-1,1]^2 \ [0,1]^2,
 *   u = 0 on the boundary, u(x, 0) = 0,
 *
 * with Q1 elements, the theta scheme in time (Crank-Nicolson for
 * theta = 1/2) and a mesh that is adapted every few time steps with the
 * Kelly error indicator, so that it follows the source f. The source is
 * step-26's: within each period of 0.2 it is 1 in the region x > 0.5,
 * y > -0.5 during the first fifth of the period, 1 in x > -0.5, y > 0.5
 * during the fourth fifth, and 0 otherwise. Heat is switched on in one
 * corner, diffuses, is switched on in another corner, and so on.
 *
 * Every time step solves  (M + theta k A) U^n = rhs  with CG preconditioned
 * by SSOR, and the relaxation factor omega of SSOR is what this program is
 * about. Step-26 uses omega = 1 (symmetric Gauss-Seidel). A better omega
 * exists, but it depends on the mesh, the time step and the right hand
 * side, all of which change during the run. Rather than tuning omega by
 * hand, mlcfd::dealii::BanditRelaxation picks it before each solve from a
 * grid of candidate values ("arms") and learns from each solve's number of
 * CG iterations which omegas pay off (an online bandit problem; after
 * Khodak et al., "Learning to relax", ICLR 2024). Learning costs no extra
 * matrix work: the solves that the simulation needs anyway are the
 * experiments.
 *
 * With "Choose = solver" the bandit chooses more than omega: for each solve
 * one of several preconditioners for CG (the Candidates: SSOR with some
 * omegas, Jacobi, Trilinos' algebraic multigrid), by the wall time of the
 * solve, set-up included (mlcfd::dealii::BanditSolver, after PCGBandit,
 * Khodak et al., 2025). AMG's hierarchy is built once per matrix: the
 * system matrix changes only when the mesh does.
 *
 * The program is also benchmark 2 of the SOR-bandit feature:
 * bench/heatBandit runs it with every fixed omega of the grid and with each
 * bandit policy, and compares the total CG iterations with those of the
 * best fixed omega in hindsight.
 *
 * Usage:  heat_bandit [heat_bandit.prm]
 *
 * Parameters (see heat_bandit.prm for all of them and their defaults):
 * @code
 *   subsection Bandit
 *     set Choose      = omega          # omega (by iterations) | solver (by time)
 *     set Policy      = tsallisInf     # fixed | epsilonGreedy | tsallisInf | gaussianTS | chebCB | chebTS | gaussianProcessTS
 *     set Candidates  = SSOR 1.0, SSOR 1.3, SSOR 1.6, Jacobi, AMG   # Choose = solver
 *     set Omega range = 1.0, 1.95      # the arms: Arms values evenly spaced
 *     set Arms        = 20
 *     set State file  = output/heat_bandit.state
 *     set Load state  = false          # true: continue from State file
 *   end
 * @endcode
 *
 * At the end the program prints (and writes to "Summary file") the policy,
 * the number of solves, the total CG iterations, the mean omega chosen over
 * the last 100 solves and the wall time spent in the solves.
 *
 * See also: deal.II's step-26 (the heat equation, from which the numerics
 * are taken), dealii/include/mlcfd/dealii/BanditRelaxation.h (the bandit
 * wrapper), common/include/mlcfd/RelaxationPolicy.h (the policies),
 * bench/heatBandit (the benchmark).
 * --------------------------------------------------------------------- */

#include <deal.II/base/function.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/base/utilities.h>

#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>

#include <deal.II/fe/fe_q.h>

#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/grid_refinement.h>
#include <deal.II/grid/tria.h>

#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/precondition.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/vector.h>

#include <deal.II/numerics/data_out.h>
#include <deal.II/numerics/error_estimator.h>
#include <deal.II/numerics/matrix_creator.h>
#include <deal.II/numerics/matrix_tools.h>
#include <deal.II/numerics/solution_transfer.h>
#include <deal.II/numerics/vector_tools.h>

#include "mlcfd/RelaxationPolicy.h"
#include "mlcfd/dealii/BanditRelaxation.h"
#include "mlcfd/dealii/BanditSolver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace HeatBandit
{
  using namespace dealii;

  // @sect3{Parameters}
  //
  // Everything that one would change to try another policy or another
  // problem size comes from a .prm file, so that the benchmark can run the
  // same program with many variants without recompiling. The bandit's own
  // entries are declared and read by mlcfd's adaptor, as deal.II's classes
  // do for theirs (SolverControl::declare_parameters).
  struct Parameters
  {
    // Bandit
    mlcfd::dealii::BanditParameters bandit;
    bool                            choose_solver;
    std::vector<std::string>        candidates;
    std::string                     context;
    std::string                     state_file;
    bool                            load_state;

    // Mesh
    unsigned int initial_global_refinement;
    unsigned int adaptive_refinement_levels;
    unsigned int refinement_interval;

    // Time stepping
    double time_step;
    double end_time;
    double theta;

    // Linear solver
    double       tolerance;
    unsigned int max_iterations;

    // Output
    std::string  summary_file;
    std::string  solve_log_file;
    bool         write_vtu;
    unsigned int progress_interval;

    static void
    declare(ParameterHandler &prm);
    void
    parse(ParameterHandler &prm);
  };

  void
  Parameters::declare(ParameterHandler &prm)
  {
    prm.enter_subsection("Bandit");
    {
      mlcfd::dealii::declare_bandit_parameters(prm);
      prm.declare_entry(
          "Choose",
          "omega",
          Patterns::Selection("omega|solver"),
          "omega: SSOR's omega for every CG solve, by CG iterations "
          "(BanditRelaxation); solver: CG's whole preconditioner among the "
          "Candidates, by the wall time of each solve (BanditSolver; use "
          "Policy gaussianTS)");
      prm.declare_entry(
          "Candidates",
          "SSOR 1.0, SSOR 1.3, SSOR 1.6, Jacobi, AMG",
          Patterns::List(Patterns::Anything()),
          "Choose = solver: the preconditioners of CG, each 'SSOR <omega>', "
          "'Jacobi' or 'AMG' (Trilinos ML, default settings); the first is "
          "step-26's own and the backstop");
      prm.declare_entry(
          "Context",
          "refinement",
          Patterns::Selection("refinement|source phase"),
          "chebCB, chebTS, gaussianProcessTS: what the policy sees before a "
          "solve. "
          "refinement: log(DoFs/DoFs of the initial mesh)/"
          "log(2^(dim*adaptive levels)), in [0, 1]; source phase: "
          "the new time within the period of the source, in [0, 1)");
      prm.declare_entry("State file",
                        "",
                        Patterns::Anything(),
                        "Write what the bandit learned to this file at the end "
                        "(empty: do not)");
      prm.declare_entry("Load state",
                        "false",
                        Patterns::Bool(),
                        "Continue from the State file of an earlier run "
                        "(it must exist and match policy, range and arms)");
    }
    prm.leave_subsection();

    prm.enter_subsection("Mesh");
    {
      prm.declare_entry("Initial global refinement",
                        "5",
                        Patterns::Integer(0, 10),
                        "Global refinements of the L-shaped coarse mesh");
      prm.declare_entry("Adaptive refinement levels",
                        "2",
                        Patterns::Integer(0, 6),
                        "Levels of adaptive refinement above the initial mesh "
                        "(also the number of pre-refinement passes at t = 0)");
      prm.declare_entry("Refinement interval",
                        "5",
                        Patterns::Integer(1),
                        "Adapt the mesh every this many time steps");
    }
    prm.leave_subsection();

    prm.enter_subsection("Time stepping");
    {
      prm.declare_entry("Time step", "0.002", Patterns::Double(0), "k");
      prm.declare_entry("End time", "0.5", Patterns::Double(0), "T");
      prm.declare_entry(
          "Theta",
          "0.5",
          Patterns::Double(0, 1),
          "0: explicit Euler, 0.5: Crank-Nicolson, 1: implicit Euler");
    }
    prm.leave_subsection();

    prm.enter_subsection("Linear solver");
    {
      prm.declare_entry("CG relative tolerance",
                        "1e-8",
                        Patterns::Double(0),
                        "Stop CG when |r| < tolerance |b|");
      prm.declare_entry("CG maximum iterations",
                        "1000",
                        Patterns::Integer(1),
                        "A solve that needs more is an error");
    }
    prm.leave_subsection();

    prm.enter_subsection("Output");
    {
      prm.declare_entry(
          "Summary file",
          "",
          Patterns::Anything(),
          "Also write the final summary to this file (empty: do not)");
      prm.declare_entry("Solve log file",
                        "",
                        Patterns::Anything(),
                        "One line per solve: solve, step, time, DoFs, context, "
                        "omega, CG iterations, seconds, candidate (index in "
                        "Candidates; -1 with Choose = omega) (empty: do not)");
      prm.declare_entry("Write VTU files",
                        "false",
                        Patterns::Bool(),
                        "Write solution-NNN.vtu after every time step");
      prm.declare_entry(
          "Progress interval",
          "50",
          Patterns::Integer(0),
          "Print a progress line every this many time steps (0: never)");
    }
    prm.leave_subsection();
  }

  void
  Parameters::parse(ParameterHandler &prm)
  {
    prm.enter_subsection("Bandit");
    {
      bandit        = mlcfd::dealii::parse_bandit_parameters(prm);
      choose_solver = prm.get("Choose") == "solver";
      candidates    = Utilities::split_string_list(prm.get("Candidates"));
      context       = prm.get("Context");
      state_file    = prm.get("State file");
      load_state    = prm.get_bool("Load state");
    }
    prm.leave_subsection();

    AssertThrow(
        !load_state || !state_file.empty(),
        ExcMessage("Bandit/Load state is true but Bandit/State file is empty"));

    prm.enter_subsection("Mesh");
    {
      initial_global_refinement = prm.get_integer("Initial global refinement");
      adaptive_refinement_levels =
          prm.get_integer("Adaptive refinement levels");
      refinement_interval = prm.get_integer("Refinement interval");
    }
    prm.leave_subsection();

    prm.enter_subsection("Time stepping");
    {
      time_step = prm.get_double("Time step");
      end_time  = prm.get_double("End time");
      theta     = prm.get_double("Theta");
    }
    prm.leave_subsection();
    AssertThrow(time_step > 0,
                ExcMessage("Time stepping/Time step must be positive"));

    prm.enter_subsection("Linear solver");
    {
      tolerance      = prm.get_double("CG relative tolerance");
      max_iterations = prm.get_integer("CG maximum iterations");
    }
    prm.leave_subsection();

    prm.enter_subsection("Output");
    {
      summary_file      = prm.get("Summary file");
      solve_log_file    = prm.get("Solve log file");
      write_vtu         = prm.get_bool("Write VTU files");
      progress_interval = prm.get_integer("Progress interval");
    }
    prm.leave_subsection();
  }

  // Output files may name a folder (output/heat_bandit.state): create it, so
  // that a fresh checkout runs without a separate mkdir.
  std::ofstream
  open_for_writing(const std::string &file)
  {
    const std::filesystem::path parent =
        std::filesystem::path(file).parent_path();
    if (!parent.empty())
      std::filesystem::create_directories(parent);
    std::ofstream out(file);
    AssertThrow(out, ExcMessage("Cannot write " + file));
    return out;
  }

  // @sect3{The source and the boundary values}
  //
  // Step-26's source, unchanged: it is switched on and off, and alternates
  // between two corners of the domain. Its period also serves the contextual
  // policy (see HeatEquation::context()).
  template <int dim>
  class RightHandSide : public Function<dim>
  {
  public:
    static constexpr double period = 0.2;

    virtual double
    value(const Point<dim> &p, const unsigned int component = 0) const override
    {
      (void)component;
      AssertIndexRange(component, 1);
      Assert(dim == 2, ExcNotImplemented());

      const double time = this->get_time();
      const double point_within_period =
          (time / period - std::floor(time / period));

      if ((point_within_period >= 0.0) && (point_within_period <= 0.2))
        return ((p[0] > 0.5) && (p[1] > -0.5)) ? 1 : 0;
      else if ((point_within_period >= 0.5) && (point_within_period <= 0.7))
        return ((p[0] > -0.5) && (p[1] > 0.5)) ? 1 : 0;
      else
        return 0;
    }
  };

  template <int dim>
  class BoundaryValues : public Function<dim>
  {
  public:
    virtual double
    value(const Point<dim> & /*p*/,
          const unsigned int component = 0) const override
    {
      (void)component;
      AssertIndexRange(component, 1);
      return 0;
    }
  };

  // @sect3{The HeatEquation class}
  //
  // Step-26's class with two additions: the bandit, which owns the SSOR
  // preconditioner and chooses its omega, and the bookkeeping of the solves
  // (omega, iterations, time) that the summary and the benchmark need.
  template <int dim>
  class HeatEquation
  {
  public:
    explicit HeatEquation(const Parameters &parameters);
    void
    run();

  private:
    void
    setup_system();
    void
    assemble_system();
    void
    solve_time_step();
    void
    refine_mesh(const unsigned int min_grid_level,
                const unsigned int max_grid_level);
    void
    output_results() const;
    void
    write_summary() const;
    double
    context() const;

    static mlcfd::RelaxationSettings
    relaxation_settings(const Parameters &parameters);
    void
    add_candidates();

    const Parameters parameters;

    Triangulation<dim> triangulation;
    FE_Q<dim>          fe;
    DoFHandler<dim>    dof_handler;

    AffineConstraints<double> constraints;

    SparsityPattern      sparsity_pattern;
    SparseMatrix<double> mass_matrix;
    SparseMatrix<double> laplace_matrix;
    SparseMatrix<double> system_matrix;

    Vector<double> solution;
    Vector<double> old_solution;
    Vector<double> system_rhs;

    double       time;
    double       time_step;
    unsigned int timestep_number;
    const double theta;

    // DoFs of the initial (globally refined) mesh: the reference of the
    // "refinement" context.
    types::global_dof_index initial_dofs = 0;

    // The bandit: it keeps the policy and the SSOR preconditioner, and
    // initializes the latter with the omega it chooses.
    mlcfd::dealii::BanditRelaxation<PreconditionSSOR<SparseMatrix<double>>>
        bandit;

    // With Choose = solver: the bandit over whole preconditioners, and
    // whether the system matrix changed since the last solve (it does only
    // with the mesh).
    mlcfd::dealii::BanditSolver<SparseMatrix<double>, Vector<double>>
         solver_bandit;
    bool matrix_changed = true;

    // One entry per solve.
    struct SolveRecord
    {
      unsigned int            step;
      double                  time;
      types::global_dof_index dofs;
      double                  context;
      double                  omega; // Choose = omega
      int candidate; // Choose = solver: index in Candidates (omega: -1)
      unsigned int iterations;
      double       seconds;
    };

    // Index of the last solve's candidate in Candidates.
    int
    candidate_index() const
    {
      const auto &names = solver_bandit.candidate_names();
      return static_cast<int>(std::find(names.begin(),
                                        names.end(),
                                        solver_bandit.last_candidate()) -
                              names.begin());
    }

    // The policy of whichever bandit this run uses.
    const mlcfd::RelaxationPolicy *
    policy() const
    {
      return parameters.choose_solver ? solver_bandit.get_policy()
                                      : bandit.get_policy();
    }
    std::vector<SolveRecord> solves;
  };

  // The settings of the policy. The contextual policies map
  // [contextMin, contextMax] to the interval [-1, 1] of their Chebyshev
  // polynomials; both contexts that context() offers lie in [0, 1].
  template <int dim>
  mlcfd::RelaxationSettings
  HeatEquation<dim>::relaxation_settings(const Parameters &parameters)
  {
    mlcfd::RelaxationSettings settings = parameters.bandit.settings;
    settings.contextMin                = 0.0;
    settings.contextMax                = 1.0;
    return settings;
  }

  template <int dim>
  HeatEquation<dim>::HeatEquation(const Parameters &parameters)
      : parameters(parameters)
      , fe(1)
      , dof_handler(triangulation)
      , time(0.0)
      , time_step(parameters.time_step)
      , timestep_number(0)
      , theta(parameters.theta)
      , bandit(parameters.bandit.policy, relaxation_settings(parameters))
      , solver_bandit(parameters.bandit.policy, parameters.bandit.settings)
  {
    if (parameters.choose_solver)
      add_candidates();
  }

  // The candidates of Choose = solver: CG with each preconditioner named in
  // the parameter file. A name we do not know stops the program with the
  // entry named.
  template <int dim>
  void
  HeatEquation<dim>::add_candidates()
  {
    using Matrix = SparseMatrix<double>;
    using Vec    = Vector<double>;
    using mlcfd::dealii::solver_with;
    for (const std::string &name : parameters.candidates)
      {
        const std::vector<std::string> words =
            Utilities::break_text_into_lines(name, 1);
        if (words.size() == 2 && words[0] == "SSOR")
          {
            // SSOR converges for 0 < omega < 2 only.
            const double omega = std::strtod(words[1].c_str(), nullptr);
            AssertThrow(omega > 0 && omega < 2,
                        ExcMessage("Bandit/Candidates: '" + name +
                                   "' needs an omega in (0, 2), e.g. "
                                   "'SSOR 1.3'"));
            solver_bandit.add_candidate(
                name,
                solver_with<SolverCG<Vec>,
                            PreconditionSSOR<Matrix>,
                            Matrix,
                            Vec>(
                    PreconditionSSOR<Matrix>::AdditionalData(omega)));
          }
        else if (name == "Jacobi")
          solver_bandit.add_candidate(name,
                                      solver_with<SolverCG<Vec>,
                                                  PreconditionJacobi<Matrix>,
                                                  Matrix,
                                                  Vec>());
        else if (name == "AMG")
          solver_bandit.add_candidate(
              name,
              solver_with<SolverCG<Vec>,
                          TrilinosWrappers::PreconditionAMG,
                          Matrix,
                          Vec>());
        else
          AssertThrow(false,
                      ExcMessage("Bandit/Candidates: unknown candidate '" +
                                 name +
                                 "'; use 'SSOR <omega>', 'Jacobi' or 'AMG'"));
      }
  }

  // @sect4{HeatEquation::setup_system}
  //
  // As in step-26: distribute DoFs, build the hanging-node constraints of
  // the adapted mesh, and the mass and Laplace matrices. Those two do not
  // change between refinements, so each time step only combines them.
  template <int dim>
  void
  HeatEquation<dim>::setup_system()
  {
    dof_handler.distribute_dofs(fe);

    constraints.clear();
    DoFTools::make_hanging_node_constraints(dof_handler, constraints);
    constraints.close();

    DynamicSparsityPattern dsp(dof_handler.n_dofs());
    DoFTools::make_sparsity_pattern(dof_handler,
                                    dsp,
                                    constraints,
                                    /*keep_constrained_dofs = */ true);
    sparsity_pattern.copy_from(dsp);

    mass_matrix.reinit(sparsity_pattern);
    laplace_matrix.reinit(sparsity_pattern);
    system_matrix.reinit(sparsity_pattern);

    MatrixCreator::create_mass_matrix(dof_handler,
                                      QGauss<dim>(fe.degree + 1),
                                      mass_matrix);
    MatrixCreator::create_laplace_matrix(dof_handler,
                                         QGauss<dim>(fe.degree + 1),
                                         laplace_matrix);

    solution.reinit(dof_handler.n_dofs());
    old_solution.reinit(dof_handler.n_dofs());
    system_rhs.reinit(dof_handler.n_dofs());
    matrix_changed = true;
  }

  // @sect4{HeatEquation::assemble_system}
  //
  // The theta scheme: with U^{n-1} the old solution, k the time step and
  // F the load vector of the source,
  //
  //   (M + theta k A) U^n = (M - (1-theta) k A) U^{n-1}
  //                         + k (theta F^n + (1-theta) F^{n-1}).
  //
  // Step-26 builds this inside run(); we keep it in its own function so that
  // run() reads as the loop over time steps it is. The hanging-node
  // constraints are condensed into the system, which keeps the matrix
  // symmetric positive definite: CG and SSOR need that.
  template <int dim>
  void
  HeatEquation<dim>::assemble_system()
  {
    Vector<double> tmp(solution.size());
    Vector<double> forcing_terms(solution.size());

    mass_matrix.vmult(system_rhs, old_solution);
    laplace_matrix.vmult(tmp, old_solution);
    system_rhs.add(-(1 - theta) * time_step, tmp);

    RightHandSide<dim> rhs_function;
    rhs_function.set_time(time);
    VectorTools::create_right_hand_side(dof_handler,
                                        QGauss<dim>(fe.degree + 1),
                                        rhs_function,
                                        tmp);
    forcing_terms = tmp;
    forcing_terms *= time_step * theta;

    rhs_function.set_time(time - time_step);
    VectorTools::create_right_hand_side(dof_handler,
                                        QGauss<dim>(fe.degree + 1),
                                        rhs_function,
                                        tmp);
    forcing_terms.add(time_step * (1 - theta), tmp);
    system_rhs += forcing_terms;

    system_matrix.copy_from(mass_matrix);
    system_matrix.add(theta * time_step, laplace_matrix);

    constraints.condense(system_matrix, system_rhs);

    BoundaryValues<dim> boundary_values_function;
    boundary_values_function.set_time(time);
    std::map<types::global_dof_index, double> boundary_values;
    VectorTools::interpolate_boundary_values(dof_handler,
                                             0,
                                             boundary_values_function,
                                             boundary_values);
    MatrixTools::apply_boundary_values(boundary_values,
                                       system_matrix,
                                       solution,
                                       system_rhs);
  }

  // @sect4{HeatEquation::context}
  //
  // The contextual policy (chebCB) learns, for every omega, how the cost of
  // a solve depends on a scalar known before the solve. Two choices make
  // sense here:
  //
  // - "refinement" (the default): how much of the possible refinement the
  //   mesh uses, log(DoFs / initial DoFs) / log(2^(dim L)) with L the
  //   adaptive levels, in [0, 1]. The condition number of the
  //   SSOR-preconditioned matrix grows with the number of unknowns, and with
  //   it the best omega: this is the quantity that theory says omega should
  //   follow. The logarithm spreads the DoF counts that adaptive meshes
  //   actually reach over the interval instead of crowding them near 0.
  // - "source phase": the time within the period of the source, in [0, 1).
  //   The matrix does not depend on time, but the right hand side does: a
  //   solve right after the source is switched on or off starts far from its
  //   solution (the previous time step is the initial guess) and needs more
  //   iterations than one in a quiet phase. Knowing the phase lets the policy
  //   explain that variation instead of blaming it on omega.
  //
  // On the default case "refinement" needs fewer iterations in total: the
  // phase varies over its whole range within every period, so chebCB must
  // explore every arm across all of it, while the refinement context stays
  // in a narrow band once the mesh has adapted.
  //
  // Other policies ignore the context.
  template <int dim>
  double
  HeatEquation<dim>::context() const
  {
    if (parameters.context == "source phase")
      {
        const double period = RightHandSide<dim>::period;
        return time / period - std::floor(time / period);
      }
    if (parameters.adaptive_refinement_levels == 0)
      return 0.0;
    const double growth = std::log(static_cast<double>(dof_handler.n_dofs()) /
                                   static_cast<double>(initial_dofs));
    return std::clamp(growth / (dim * parameters.adaptive_refinement_levels *
                                std::log(2.0)),
                      0.0,
                      1.0);
  }

  // @sect4{HeatEquation::solve_time_step}
  //
  // Step-26 solves with SolverCG and PreconditionSSOR with omega = 1. Here
  // the bandit chooses omega, initializes the preconditioner with it, runs
  // CG and reports the iteration count back to its policy; all in
  // bandit.solve(). The initial guess is the previous time step's solution
  // (still in `solution`), as in step-26.
  //
  // We charge the bandit iterations rather than seconds: iterations do not
  // depend on the load of the machine, so the same seed gives the same
  // choices, and for SSOR (whose set-up costs nothing) time per iteration
  // does not depend on omega.
  template <int dim>
  void
  HeatEquation<dim>::solve_time_step()
  {
    SolverControl      solver_control(parameters.max_iterations,
                                 parameters.tolerance * system_rhs.l2_norm());
    const double       c     = context();
    const auto         start = std::chrono::steady_clock::now();
    const unsigned int iterations =
        parameters.choose_solver
            ? solver_bandit.solve(solver_control,
                                  system_matrix,
                                  solution,
                                  system_rhs,
                                  matrix_changed)
            : bandit.solve<SolverCG<Vector<double>>>(
                  solver_control, system_matrix, solution, system_rhs, c);
    matrix_changed = false;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();

    constraints.distribute(solution);

    solves.push_back({timestep_number,
                      time,
                      dof_handler.n_dofs(),
                      c,
                      parameters.choose_solver ? 0.0 : bandit.omega(),
                      parameters.choose_solver ? candidate_index() : -1,
                      iterations,
                      seconds});
  }

  // @sect4{HeatEquation::refine_mesh}
  //
  // Step-26's refinement: Kelly's indicator, refine 60% and coarsen 40% of
  // the error, keep the cells between min_grid_level and max_grid_level,
  // and carry the solution over to the new mesh with SolutionTransfer. The
  // transferred vector is made conforming again with the new mesh's
  // hanging-node constraints.
  template <int dim>
  void
  HeatEquation<dim>::refine_mesh(const unsigned int min_grid_level,
                                 const unsigned int max_grid_level)
  {
    Vector<float> estimated_error_per_cell(triangulation.n_active_cells());
    KellyErrorEstimator<dim>::estimate(
        dof_handler,
        QGauss<dim - 1>(fe.degree + 1),
        std::map<types::boundary_id, const Function<dim> *>(),
        solution,
        estimated_error_per_cell);

    GridRefinement::refine_and_coarsen_fixed_fraction(triangulation,
                                                      estimated_error_per_cell,
                                                      0.6,
                                                      0.4);

    if (triangulation.n_levels() > max_grid_level)
      for (const auto &cell :
           triangulation.active_cell_iterators_on_level(max_grid_level))
        cell->clear_refine_flag();
    for (const auto &cell :
         triangulation.active_cell_iterators_on_level(min_grid_level))
      cell->clear_coarsen_flag();

    SolutionTransfer<dim> solution_trans(dof_handler);
    Vector<double>        previous_solution;
    previous_solution = solution;
    triangulation.prepare_coarsening_and_refinement();
    solution_trans.prepare_for_coarsening_and_refinement(previous_solution);
    triangulation.execute_coarsening_and_refinement();

    setup_system();

    solution_trans.interpolate(previous_solution, solution);
    constraints.distribute(solution);
  }

  // @sect4{HeatEquation::output_results}
  template <int dim>
  void
  HeatEquation<dim>::output_results() const
  {
    if (!parameters.write_vtu)
      return;

    DataOut<dim> data_out;
    data_out.attach_dof_handler(dof_handler);
    data_out.add_data_vector(solution, "U");
    data_out.build_patches();
    data_out.set_flags(DataOutBase::VtkFlags(time, timestep_number));

    std::ofstream output("solution-" +
                         Utilities::int_to_string(timestep_number, 3) + ".vtu");
    data_out.write_vtu(output);
  }

  // @sect4{HeatEquation::write_summary}
  //
  // The numbers the benchmark compares. The mean omega over the last solves
  // shows where a learning policy has settled; the wall time counts the
  // solves only (choice, preconditioner set-up and CG), not assembly or
  // refinement, which do not depend on omega.
  template <int dim>
  void
  HeatEquation<dim>::write_summary() const
  {
    unsigned long total_iterations = 0;
    double        total_seconds    = 0;
    for (const SolveRecord &s : solves)
      {
        total_iterations += s.iterations;
        total_seconds += s.seconds;
      }
    const std::size_t last       = std::min<std::size_t>(100, solves.size());
    double            mean_omega = 0;
    for (std::size_t i = solves.size() - last; i < solves.size(); ++i)
      mean_omega += solves[i].omega / last;

    std::ostringstream summary;
    summary << "policy: " << parameters.bandit.policy << '\n'
            << "solves: " << solves.size() << '\n'
            << "policy rounds (with loaded state): " << policy()->rounds()
            << '\n'
            << "total CG iterations: " << total_iterations << '\n'
            << "solve wall time [s]: " << std::fixed << std::setprecision(4)
            << total_seconds << '\n'
            << "final DoFs: " << dof_handler.n_dofs() << '\n';
    if (!parameters.choose_solver)
      summary << "mean omega over the last " << last
              << " solves: " << std::fixed << std::setprecision(4) << mean_omega
              << '\n';
    if (parameters.choose_solver)
      {
        summary << "candidate solves:";
        for (std::size_t i = 0; i < solver_bandit.candidate_names().size(); ++i)
          summary << (i == 0 ? " " : ", ") << solver_bandit.candidate_names()[i]
                  << ' ' << solver_bandit.plays()[i];
        summary << '\n'
                << "backstop fallbacks: " << solver_bandit.fallbacks() << '\n';
      }

    std::cout << summary.str();
    if (!parameters.summary_file.empty())
      {
        std::ofstream out = open_for_writing(parameters.summary_file);
        out << summary.str();
      }

    if (!parameters.solve_log_file.empty())
      {
        std::ofstream out = open_for_writing(parameters.solve_log_file);
        out << "# solve step time dofs context omega iterations seconds "
               "candidate\n"
            << std::setprecision(8);
        for (std::size_t i = 0; i < solves.size(); ++i)
          out << i << ' ' << solves[i].step << ' ' << solves[i].time << ' '
              << solves[i].dofs << ' ' << solves[i].context << ' '
              << solves[i].omega << ' ' << solves[i].iterations << ' '
              << solves[i].seconds << ' ' << solves[i].candidate << '\n';
      }
  }

  // @sect4{HeatEquation::run}
  //
  // Step-26's time loop. At the start the first time step is solved, the
  // mesh refined to its solution and the simulation restarted from t = 0,
  // once per adaptive level, so that the source is resolved from the first
  // step on (step-26 does this with a goto; we reset time in the loop).
  // Afterwards the mesh is adapted every "Refinement interval" steps.
  //
  // Every solve goes through the bandit, the pre-refinement solves too:
  // they are linear systems like the others.
  template <int dim>
  void
  HeatEquation<dim>::run()
  {
    if (parameters.load_state)
      {
        if (parameters.choose_solver)
          solver_bandit.load(parameters.state_file);
        else
          bandit.load(parameters.state_file);
        std::cout << "loaded bandit state: " << policy()->rounds()
                  << " rounds from " << parameters.state_file << std::endl;
      }

    const unsigned int initial_global_refinement =
        parameters.initial_global_refinement;
    const unsigned int n_adaptive_pre_refinement_steps =
        parameters.adaptive_refinement_levels;

    GridGenerator::hyper_L(triangulation);
    triangulation.refine_global(initial_global_refinement);
    setup_system();
    initial_dofs = dof_handler.n_dofs();

    // Integer step counts, so that the number of solves does not depend on
    // rounding in the sum of the time steps.
    const unsigned int n_steps =
        static_cast<unsigned int>(std::lround(parameters.end_time / time_step));

    std::cout << "Policy " << parameters.bandit.policy << ", " << n_steps
              << " time steps of " << time_step << ", "
              << triangulation.n_active_cells() << " cells and "
              << dof_handler.n_dofs() << " DoFs initially" << std::endl;

    unsigned int pre_refinement_step  = 0;
    const auto   start_time_iteration = [&]() {
      time            = 0.0;
      timestep_number = 0;
      VectorTools::interpolate(dof_handler,
                               Functions::ZeroFunction<dim>(),
                               old_solution);
      solution = old_solution;
      output_results();
    };
    start_time_iteration();

    while (timestep_number < n_steps)
      {
        time += time_step;
        ++timestep_number;

        assemble_system();
        solve_time_step();
        output_results();

        if ((timestep_number == 1) &&
            (pre_refinement_step < n_adaptive_pre_refinement_steps))
          {
            refine_mesh(initial_global_refinement,
                        initial_global_refinement +
                            n_adaptive_pre_refinement_steps);
            ++pre_refinement_step;
            start_time_iteration();
            continue;
          }

        if (parameters.progress_interval > 0 &&
            timestep_number % parameters.progress_interval == 0)
          std::cout << "step " << timestep_number << ", t = " << time << ", "
                    << dof_handler.n_dofs() << " DoFs, "
                    << (parameters.choose_solver
                            ? solver_bandit.last_candidate()
                            : "omega " + std::to_string(solves.back().omega))
                    << ", " << solves.back().iterations << " CG iterations"
                    << std::endl;

        if (timestep_number % parameters.refinement_interval == 0)
          refine_mesh(initial_global_refinement,
                      initial_global_refinement +
                          n_adaptive_pre_refinement_steps);

        old_solution = solution;
      }

    if (parameters.choose_solver)
      solver_bandit.finish_stretch();
    write_summary();

    if (!parameters.state_file.empty())
      {
        // Make the folder; BanditRelaxation::save() opens the file itself.
        open_for_writing(parameters.state_file);
        if (parameters.choose_solver)
          solver_bandit.save(parameters.state_file);
        else
          bandit.save(parameters.state_file);
      }
  }
} // namespace HeatBandit

int
main(int argc, char *argv[])
{
  using namespace HeatBandit;
  try
    {
      Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
      AssertThrow(Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) == 1,
                  ExcMessage("This tutorial runs on one MPI process."));

      ParameterHandler prm;
      Parameters::declare(prm);
      // heat_bandit [FILE.prm ...]: later files override entries of earlier
      // ones (bench/heatBandit runs its variants that way).
      const std::vector<std::string> prm_files =
          argc > 1 ? std::vector<std::string>(argv + 1, argv + argc)
                   : std::vector<std::string>{"heat_bandit.prm"};
      for (const std::string &prm_file : prm_files)
        prm.parse_input(prm_file);
      Parameters parameters;
      parameters.parse(prm);

      HeatEquation<2> heat_equation(parameters);
      heat_equation.run();
    }
  catch (const std::exception &exc)
    {
      std::cerr << std::endl
                << "----------------------------------------------------"
                << std::endl
                << "Exception: " << std::endl
                << exc.what() << std::endl
                << "----------------------------------------------------"
                << std::endl;
      return 1;
    }
  return 0;
}
