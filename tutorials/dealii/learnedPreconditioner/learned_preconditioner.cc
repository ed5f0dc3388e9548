/* ---------------------------------------------------------------------
 * mlcfd tutorial: a neural network as the preconditioner of conjugate
 * gradients (after the Deep Conjugate Direction Method, DCDM).
 *
 * We solve the Poisson problem  -div(a grad u) = 1  on the unit square or
 * cube with u = 0 on the boundary, Q1 elements on a globally refined mesh
 * (step-3/step-4), with a coefficient a that may jump (a = contrast in
 * [0, 1/2]^d, 1 elsewhere). The linear system is solved by
 *
 *   - learnedFCG: mlcfd::dealii::FlexibleCG with
 *     mlcfd::dealii::LearnedPreconditioner, a network that approximates
 *     A^-1 r (a model of kind "preconditionerGraph" acts on the graph of the
 *     matrix, so it works on any mesh and numbering). The solver keeps plain
 *     CG running alongside, so a bad network never costs more iterations
 *     than CG;
 *   - petscFCG: PETSc's KSPFCG with the same network as a PCSHELL
 *     (mlcfd::petsc::setLearnedPreconditioner), vector type PETSc only;
 *     KSPFCG has no such safeguard;
 *   - for comparison: SolverCG with no preconditioner, Jacobi, SSOR and
 *     algebraic multigrid (Trilinos ML or PETSc/hypre BoomerAMG).
 *
 * A network is not a fixed symmetric operator (it is nonlinear), so it needs
 * a flexible method: mlcfd::dealii::FlexibleCG and KSPFCG stay correct
 * where SolverCG's theory does not apply.
 *
 * The program prints a table of iterations and times and writes the
 * solution of the first solver as VTU. Everything is chosen in the .prm
 * file: dimension, mesh, network, vector type (deal.II, PETSc, Trilinos),
 * solvers. PETSc and Trilinos run on several MPI processes; each process
 * then applies the network to its own rows.
 * --------------------------------------------------------------------- */

#include <deal.II/base/conditional_ostream.h>
#include <deal.II/base/function.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/base/table_handler.h>
#include <deal.II/base/timer.h>
#include <deal.II/base/utilities.h>

#include <deal.II/distributed/tria.h>

#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>

#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q1.h>

#include <deal.II/grid/grid_generator.h>

#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/petsc_precondition.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/lac/precondition.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/sparsity_tools.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/trilinos_vector.h>
#include <deal.II/lac/vector.h>

#include <deal.II/numerics/data_out.h>
#include <deal.II/numerics/vector_tools.h>

#include "mlcfd/dealii/FlexibleCG.h"
#include "mlcfd/dealii/LearnedPreconditioner.h"
#include "mlcfd/petsc/LearnedPreconditioner.h"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <type_traits>

namespace LearnedPreconditionerTutorial
{
  using namespace dealii;

  // @sect3{Parameters}
  //
  // Everything a user may change comes from learned_preconditioner.prm, so
  // that trying another network, mesh or backend needs no recompilation.
  struct Parameters
  {
    unsigned int             dimension;
    unsigned int             refinements;
    double                   contrast;
    std::string              model_file;
    std::string              device;
    int                      threads;
    std::string              vector_type;
    std::vector<std::string> solvers;
    double                   tolerance;
    unsigned int             max_iterations;
    unsigned int             fcg_directions;
    bool                     compare_with_cg;
    std::string              output_base;
    std::string              summary_file;

    static void
    declare(ParameterHandler &prm)
    {
      prm.enter_subsection("Problem");
      prm.declare_entry("Dimension",
                        "2",
                        Patterns::Integer(2, 3),
                        "Space dimension: the unit square or cube");
      prm.declare_entry(
          "Refinements",
          "6",
          Patterns::Integer(1, 12),
          "Global refinements: 2^refinements cells per direction");
      prm.declare_entry("Coefficient contrast",
                        "1",
                        Patterns::Double(0),
                        "a = contrast in [0, 1/2]^d and 1 elsewhere "
                        "(1: the plain Laplacian)");
      prm.leave_subsection();

      prm.enter_subsection("Network");
      prm.declare_entry("Model file",
                        "graph.pt",
                        Patterns::FileName(),
                        "TorchScript model of kind preconditionerGraph (any "
                        "mesh) or preconditionerGrid (one process only): "
                        "models/preconditioner/graph.pt, or the Jacobi "
                        "reference of 'mlcfd-model create graphJacobi'");
      prm.declare_entry("Device",
                        "cpu",
                        Patterns::Selection("cpu|cuda"),
                        "Where the network runs (cuda falls back to the CPU "
                        "with a warning)");
      prm.declare_entry("Threads",
                        "0",
                        Patterns::Integer(0),
                        "LibTorch threads per process (0: MLCFD_NUM_THREADS, "
                        "else 1 under MPI)");
      prm.leave_subsection();

      prm.enter_subsection("Linear solver");
      prm.declare_entry("Vector type",
                        "PETSc",
                        Patterns::Selection("deal.II|PETSc|Trilinos"),
                        "Linear algebra: deal.II (one process), PETSc or "
                        "Trilinos");
      prm.declare_entry(
          "Solvers",
          "learnedFCG, petscFCG, CG, jacobiCG, ssorCG, amgCG",
          Patterns::MultipleSelection(
              "learnedFCG|petscFCG|CG|jacobiCG|ssorCG|amgCG"),
          "Solvers to compare, each from a zero initial guess: learnedFCG "
          "(mlcfd::dealii::FlexibleCG + LearnedPreconditioner), petscFCG "
          "(KSPFCG + the "
          "network as PCSHELL; vector type PETSc), CG (no preconditioner), "
          "jacobiCG, ssorCG, amgCG (SolverCG + Jacobi, SSOR, algebraic "
          "multigrid: Trilinos ML or hypre BoomerAMG; not with deal.II)");
      prm.declare_entry("Relative tolerance",
                        "1e-8",
                        Patterns::Double(0),
                        "Stop when |b - A x| <= tolerance |b|");
      prm.declare_entry("Maximum iterations", "10000", Patterns::Integer(1));
      prm.declare_entry("FCG directions",
                        "2",
                        Patterns::Integer(1),
                        "Search directions learnedFCG and petscFCG keep "
                        "(keptDirections, KSPFCGSetMmax; DCDM uses 2)");
      prm.declare_entry("Compare with CG",
                        "true",
                        Patterns::Bool(),
                        "learnedFCG: each step also evaluates the CG "
                        "direction and takes it where it lowers the error "
                        "more (helps a network that is good only in part; "
                        "costs iterations with a good linear preconditioner "
                        "such as the Jacobi reference)");
      prm.leave_subsection();

      prm.enter_subsection("Output");
      prm.declare_entry("VTU base name",
                        "solution",
                        Patterns::Anything(),
                        "Solution of the first solver as <name>.pvtu and "
                        "<name>_0.<rank>.vtu (empty: none)");
      prm.declare_entry("Summary file",
                        "",
                        Patterns::Anything(),
                        "Also write the iterations to this file (empty: "
                        "none)");
      prm.leave_subsection();
    }

    void
    parse(ParameterHandler &prm)
    {
      prm.enter_subsection("Problem");
      dimension   = prm.get_integer("Dimension");
      refinements = prm.get_integer("Refinements");
      contrast    = prm.get_double("Coefficient contrast");
      prm.leave_subsection();

      prm.enter_subsection("Network");
      model_file = prm.get("Model file");
      device     = prm.get("Device");
      threads    = prm.get_integer("Threads");
      prm.leave_subsection();

      prm.enter_subsection("Linear solver");
      vector_type     = prm.get("Vector type");
      solvers         = Utilities::split_string_list(prm.get("Solvers"));
      tolerance       = prm.get_double("Relative tolerance");
      max_iterations  = prm.get_integer("Maximum iterations");
      fcg_directions  = prm.get_integer("FCG directions");
      compare_with_cg = prm.get_bool("Compare with CG");
      prm.leave_subsection();

      prm.enter_subsection("Output");
      output_base  = prm.get("VTU base name");
      summary_file = prm.get("Summary file");
      prm.leave_subsection();

      AssertThrow(!solvers.empty(),
                  ExcMessage("entry 'Solvers' of subsection 'Linear solver' "
                             "names no solver"));
    }
  };

  // @sect3{Linear algebra backends}
  //
  // The three vector types differ only in their classes: the rest of the
  // program is written once, for a Backend.
  struct DealIIBackend
  {
    using Matrix = SparseMatrix<double>;
    using Vector = dealii::Vector<double>;
    using Jacobi = PreconditionJacobi<>;
    using SSOR   = PreconditionSSOR<>;
  };

  // PETSc's PCSOR applies a global SSOR to sequential matrices only, and
  // deal.II's PETScWrappers::PreconditionSSOR asks for that one (PETSc then
  // stops with "Parallel SOR not supported", even on one process). On MPI
  // matrices PETSc offers the processor-local symmetric sweep, which is what
  // Trilinos' (Ifpack's) SSOR does in parallel too.
  class PETScLocalSSOR : public PETScWrappers::PreconditionBase
  {
  public:
    void
    initialize(const PETScWrappers::MatrixBase &system_matrix)
    {
      clear();
      matrix = static_cast<Mat>(system_matrix);
      create_pc();
      PetscErrorCode ierr = PCSetType(pc, PCSOR);
      AssertThrow(ierr == 0, ExcPETScError(ierr));
      ierr = PCSORSetSymmetric(pc, SOR_LOCAL_SYMMETRIC_SWEEP);
      AssertThrow(ierr == 0, ExcPETScError(ierr));
      ierr = PCSetUp(pc);
      AssertThrow(ierr == 0, ExcPETScError(ierr));
    }
  };

  struct PETScBackend
  {
    using Matrix = PETScWrappers::MPI::SparseMatrix;
    using Vector = PETScWrappers::MPI::Vector;
    using Jacobi = PETScWrappers::PreconditionJacobi;
    using SSOR   = PETScLocalSSOR;
    using AMG    = PETScWrappers::PreconditionBoomerAMG;

    static AMG::AdditionalData
    amg_data()
    {
      AMG::AdditionalData data;
      data.symmetric_operator = true;
      return data;
    }
  };

  struct TrilinosBackend
  {
    using Matrix = TrilinosWrappers::SparseMatrix;
    using Vector = TrilinosWrappers::MPI::Vector;
    using Jacobi = TrilinosWrappers::PreconditionJacobi;
    using SSOR   = TrilinosWrappers::PreconditionSSOR;
    using AMG    = TrilinosWrappers::PreconditionAMG;

    static AMG::AdditionalData
    amg_data()
    {
      AMG::AdditionalData data;
      data.elliptic              = true;
      data.higher_order_elements = false;
      return data;
    }
  };

  // One row of the table.
  struct SolveRecord
  {
    std::string  solver;
    std::string  preconditioner;
    unsigned int iterations      = 0;
    bool         converged       = false;
    double       setup_seconds   = 0;
    double       solve_seconds   = 0;
    double       network_seconds = -1; // < 0: no network
    std::size_t  fallbacks       = 0;
  };

  // @sect3{The Poisson problem}
  template <int dim>
  class PoissonProblem
  {
  public:
    explicit PoissonProblem(const Parameters &parameters);
    void
    run();

  private:
    void
    make_grid();
    void
    setup_system();
    template <typename Backend>
    void
    solve_with();
    template <typename MatrixType, typename VectorType>
    void
    assemble_system(MatrixType &matrix, VectorType &rhs) const;
    template <typename Backend>
    SolveRecord
    solve(const std::string              &solver,
          const typename Backend::Matrix &matrix,
          const typename Backend::Vector &rhs,
          typename Backend::Vector       &x);
    template <typename VectorType>
    void
    output_results(const VectorType &solution) const;
    void
    print_table() const;

    void
    reinit(SparseMatrix<double> &matrix, Vector<double> &vector);
    void
    reinit(PETScWrappers::MPI::SparseMatrix &matrix,
           PETScWrappers::MPI::Vector       &vector);
    void
    reinit(TrilinosWrappers::SparseMatrix &matrix,
           TrilinosWrappers::MPI::Vector  &vector);

    const Parameters   parameters;
    MPI_Comm           mpi_communicator;
    ConditionalOStream pcout;

    parallel::distributed::Triangulation<dim> triangulation;
    FE_Q<dim>                                 fe;
    DoFHandler<dim>                           dof_handler;
    IndexSet                                  locally_owned_dofs;
    IndexSet                                  locally_relevant_dofs;
    AffineConstraints<double>                 constraints;
    DynamicSparsityPattern                    dsp;
    SparsityPattern                           sparsity_pattern; // deal.II only
    std::vector<std::int64_t>                 grid; // for grid models

    std::vector<SolveRecord> records;
  };

  template <int dim>
  PoissonProblem<dim>::PoissonProblem(const Parameters &parameters)
      : parameters(parameters)
      , mpi_communicator(MPI_COMM_WORLD)
      , pcout(std::cout,
              Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
      , triangulation(mpi_communicator)
      , fe(1)
      , dof_handler(triangulation)
  {
  }

  template <int dim>
  void
  PoissonProblem<dim>::make_grid()
  {
    GridGenerator::hyper_cube(triangulation, 0, 1);
    triangulation.refine_global(parameters.refinements);
  }

  // @sect4{Degrees of freedom}
  //
  // On one process the unknowns are numbered lexicographically (x fastest),
  // the numbering a grid model (a CNN on the uniform grid of nodes) needs;
  // graph models and the other preconditioners accept any numbering. With
  // several processes p4est's partition decides, and only graph models
  // apply.
  template <int dim>
  void
  PoissonProblem<dim>::setup_system()
  {
    dof_handler.distribute_dofs(fe);

    grid.clear();
    if (Utilities::MPI::n_mpi_processes(mpi_communicator) == 1)
      {
        const unsigned int points = (1u << parameters.refinements) + 1;
        std::map<types::global_dof_index, Point<dim>> support_points;
        DoFTools::map_dofs_to_support_points(MappingQ1<dim>(),
                                             dof_handler,
                                             support_points);
        std::vector<types::global_dof_index> lexicographic(
            dof_handler.n_dofs());
        for (const auto &[dof, point] : support_points)
          {
            types::global_dof_index index = 0;
            for (int d = dim - 1; d >= 0; --d)
              index = index * points + std::lround(point[d] * (points - 1));
            lexicographic[dof] = index;
          }
        dof_handler.renumber_dofs(lexicographic);
        grid.assign(dim, points);
      }

    locally_owned_dofs = dof_handler.locally_owned_dofs();
    DoFTools::extract_locally_relevant_dofs(dof_handler, locally_relevant_dofs);

    constraints.clear();
    constraints.reinit(locally_relevant_dofs);
    VectorTools::interpolate_boundary_values(dof_handler,
                                             0,
                                             Functions::ZeroFunction<dim>(),
                                             constraints);
    constraints.close();

    dsp.reinit(dof_handler.n_dofs(),
               dof_handler.n_dofs(),
               locally_relevant_dofs);
    DoFTools::make_sparsity_pattern(dof_handler, dsp, constraints, false);
    SparsityTools::distribute_sparsity_pattern(dsp,
                                               locally_owned_dofs,
                                               mpi_communicator,
                                               locally_relevant_dofs);

    pcout << "Dimension " << dim << ", "
          << triangulation.n_global_active_cells() << " cells, "
          << dof_handler.n_dofs() << " unknowns, "
          << Utilities::MPI::n_mpi_processes(mpi_communicator)
          << " MPI process(es), vector type " << parameters.vector_type
          << std::endl;
  }

  template <int dim>
  void
  PoissonProblem<dim>::reinit(SparseMatrix<double> &matrix,
                              Vector<double>       &vector)
  {
    AssertThrow(Utilities::MPI::n_mpi_processes(mpi_communicator) == 1,
                ExcMessage("entry 'Vector type' = deal.II runs on one MPI "
                           "process; use PETSc or Trilinos on several"));
    sparsity_pattern.copy_from(dsp);
    matrix.reinit(sparsity_pattern);
    vector.reinit(dof_handler.n_dofs());
  }

  template <int dim>
  void
  PoissonProblem<dim>::reinit(PETScWrappers::MPI::SparseMatrix &matrix,
                              PETScWrappers::MPI::Vector       &vector)
  {
    matrix.reinit(locally_owned_dofs,
                  locally_owned_dofs,
                  dsp,
                  mpi_communicator);
    vector.reinit(locally_owned_dofs, mpi_communicator);
  }

  template <int dim>
  void
  PoissonProblem<dim>::reinit(TrilinosWrappers::SparseMatrix &matrix,
                              TrilinosWrappers::MPI::Vector  &vector)
  {
    matrix.reinit(locally_owned_dofs,
                  locally_owned_dofs,
                  dsp,
                  mpi_communicator);
    vector.reinit(locally_owned_dofs, mpi_communicator);
  }

  // @sect4{Assembly}
  //
  // The same for every backend. Constrained (boundary) rows get deal.II's
  // usual positive diagonal and no off-diagonal entries: the Jacobi scaling
  // every learned preconditioner starts from stays defined.
  template <int dim>
  template <typename MatrixType, typename VectorType>
  void
  PoissonProblem<dim>::assemble_system(MatrixType &matrix,
                                       VectorType &rhs) const
  {
    const QGauss<dim>      quadrature(fe.degree + 1);
    FEValues<dim>          fe_values(fe,
                            quadrature,
                            update_values | update_gradients |
                                update_quadrature_points | update_JxW_values);
    const unsigned int     dofs_per_cell = fe.n_dofs_per_cell();
    FullMatrix<double>     cell_matrix(dofs_per_cell, dofs_per_cell);
    dealii::Vector<double> cell_rhs(dofs_per_cell);
    std::vector<types::global_dof_index> dof_indices(dofs_per_cell);

    const auto coefficient = [&](const Point<dim> &p) {
      for (unsigned int d = 0; d < dim; ++d)
        if (p[d] > 0.5)
          return 1.0;
      return parameters.contrast;
    };

    for (const auto &cell : dof_handler.active_cell_iterators())
      if (cell->is_locally_owned())
        {
          fe_values.reinit(cell);
          cell_matrix = 0;
          cell_rhs    = 0;
          for (const unsigned int q : fe_values.quadrature_point_indices())
            {
              const double a = coefficient(fe_values.quadrature_point(q));
              for (const unsigned int i : fe_values.dof_indices())
                {
                  for (const unsigned int j : fe_values.dof_indices())
                    cell_matrix(i, j) += a * fe_values.shape_grad(i, q) *
                                         fe_values.shape_grad(j, q) *
                                         fe_values.JxW(q);
                  cell_rhs(i) += fe_values.shape_value(i, q) * fe_values.JxW(q);
                }
            }
          cell->get_dof_indices(dof_indices);
          constraints.distribute_local_to_global(
              cell_matrix, cell_rhs, dof_indices, matrix, rhs);
        }
    matrix.compress(VectorOperation::add);
    rhs.compress(VectorOperation::add);
  }

  // @sect4{One solve}
  //
  // Setup (building the preconditioner; for the network: loading it and
  // extracting the local rows) and solve are timed apart; both are the
  // maximum over the processes.
  template <int dim>
  template <typename Backend>
  SolveRecord
  PoissonProblem<dim>::solve(const std::string              &solver,
                             const typename Backend::Matrix &matrix,
                             const typename Backend::Vector &rhs,
                             typename Backend::Vector       &x)
  {
    using VectorType          = typename Backend::Vector;
    constexpr bool is_petsc   = std::is_same_v<Backend, PETScBackend>;
    constexpr bool is_deal_ii = std::is_same_v<Backend, DealIIBackend>;

    SolveRecord record;
    record.solver = solver;
    x             = 0;
    Timer timer;

    const mlcfd::dealii::LearnedPreconditioner::AdditionalData network_data{
        parameters.device, parameters.threads, grid};

    // SolverCG or mlcfd::dealii::FlexibleCG from a zero guess to the relative
    // tolerance; a solver that does not converge is reported, not fatal.
    const auto run_deal_ii_solver = [&](auto         &&dealii_solver,
                                        SolverControl &control,
                                        const auto    &preconditioner) {
      record.setup_seconds = timer.wall_time();
      timer.restart();
      try
        {
          dealii_solver.solve(matrix, x, rhs, preconditioner);
          record.converged = true;
        }
      catch (const SolverControl::NoConvergence &)
        {
          record.converged = false;
        }
      record.iterations = control.last_step();
    };
    SolverControl control(parameters.max_iterations,
                          parameters.tolerance * rhs.l2_norm());

    if (solver == "learnedFCG")
      {
        mlcfd::dealii::LearnedPreconditioner network;
        network.initialize(matrix, parameters.model_file, network_data);
        record.preconditioner =
            "network (" + network.get_network().metadata().kind + ")";
        typename mlcfd::dealii::FlexibleCG<VectorType>::AdditionalData fcg;
        fcg.keptDirections = parameters.fcg_directions;
        fcg.compareWithCG  = parameters.compare_with_cg;
        run_deal_ii_solver(mlcfd::dealii::FlexibleCG<VectorType>(control, fcg),
                           control,
                           network);
        record.network_seconds = network.inference_seconds();
        record.fallbacks       = network.n_fallbacks();
        // The network's inputs against the training range its file records
        // (the rows of this process).
        const mlcfd::LearnedPreconditioner &net = network.get_network();
        mlcfd::RangeMonitor                 range;
        range.step(net.takeRangeCount(),
                   net.rangeCheck(),
                   net.metadata(),
                   net.path());
        pcout << "learnedFCG: "
              << range.describe(net.metadata(), net.rangeCheck()) << std::endl;
      }
    else if (solver == "petscFCG")
      {
        if constexpr (is_petsc)
          {
            // Raw PETSc: deal.II's matrix and vectors convert to Mat and Vec.
            const auto check = [](const PetscErrorCode ierr) {
              AssertThrow(ierr == 0, ExcPETScError(ierr));
            };
            KSP ksp;
            check(KSPCreate(mpi_communicator, &ksp));
            check(KSPSetOperators(ksp, matrix, matrix));
            check(KSPSetType(ksp, KSPFCG));
            check(KSPFCGSetMmax(ksp, parameters.fcg_directions));
            check(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
            check(KSPSetTolerances(ksp,
                                   parameters.tolerance,
                                   0.0,
                                   PETSC_DEFAULT,
                                   parameters.max_iterations));
            PC pc;
            check(KSPGetPC(ksp, &pc));
            mlcfd::LearnedPreconditionerOptions options;
            options.device     = network_data.device;
            options.threads    = network_data.threads;
            options.grid       = network_data.grid;
            const auto network = mlcfd::petsc::setLearnedPreconditioner(
                pc, matrix, parameters.model_file, options);
            record.preconditioner =
                "PCSHELL network (" + network->metadata().kind + ")";
            record.setup_seconds = timer.wall_time();
            timer.restart();
            check(KSPSolve(ksp, rhs, x));
            PetscInt           iterations = 0;
            KSPConvergedReason reason;
            check(KSPGetIterationNumber(ksp, &iterations));
            check(KSPGetConvergedReason(ksp, &reason));
            record.iterations      = iterations;
            record.converged       = reason > 0;
            record.network_seconds = network->inferenceSeconds();
            record.fallbacks       = network->fallbacks();
            check(KSPDestroy(&ksp));
          }
        else
          AssertThrow(false,
                      ExcMessage("solver petscFCG (entry 'Solvers') needs "
                                 "entry 'Vector type' = PETSc"));
      }
    else if (solver == "CG")
      {
        record.preconditioner = "none";
        run_deal_ii_solver(SolverCG<VectorType>(control),
                           control,
                           PreconditionIdentity());
      }
    else if (solver == "jacobiCG")
      {
        typename Backend::Jacobi jacobi;
        jacobi.initialize(matrix);
        record.preconditioner = "Jacobi";
        run_deal_ii_solver(SolverCG<VectorType>(control), control, jacobi);
      }
    else if (solver == "ssorCG")
      {
        typename Backend::SSOR ssor;
        ssor.initialize(matrix);
        record.preconditioner = "SSOR";
        run_deal_ii_solver(SolverCG<VectorType>(control), control, ssor);
      }
    else if (solver == "amgCG")
      {
        if constexpr (!is_deal_ii)
          {
            typename Backend::AMG amg;
            amg.initialize(matrix, Backend::amg_data());
            record.preconditioner = is_petsc ? "BoomerAMG" : "ML AMG";
            run_deal_ii_solver(SolverCG<VectorType>(control), control, amg);
          }
        else
          AssertThrow(false,
                      ExcMessage("solver amgCG (entry 'Solvers') needs entry "
                                 "'Vector type' = PETSc or Trilinos"));
      }
    record.solve_seconds = timer.wall_time();
    record.setup_seconds =
        Utilities::MPI::max(record.setup_seconds, mpi_communicator);
    record.solve_seconds =
        Utilities::MPI::max(record.solve_seconds, mpi_communicator);
    record.network_seconds =
        Utilities::MPI::max(record.network_seconds, mpi_communicator);
    record.fallbacks = Utilities::MPI::sum(record.fallbacks, mpi_communicator);
    constraints.distribute(x);
    return record;
  }

  template <int dim>
  template <typename Backend>
  void
  PoissonProblem<dim>::solve_with()
  {
    typename Backend::Matrix matrix;
    typename Backend::Vector rhs, x, first_solution;
    reinit(matrix, rhs);
    x.reinit(rhs);
    first_solution.reinit(rhs);
    assemble_system(matrix, rhs);

    for (const std::string &solver : parameters.solvers)
      {
        records.push_back(solve<Backend>(solver, matrix, rhs, x));
        if (records.size() == 1)
          first_solution = x;
        else
          {
            // All solvers must agree (to the tolerance) on the solution.
            x -= first_solution;
            const double difference =
                x.linfty_norm() / first_solution.linfty_norm();
            if (difference > 1e3 * parameters.tolerance)
              pcout << "Warning: " << solver << " differs from "
                    << records.front().solver << " by " << difference
                    << " (relative, max norm)" << std::endl;
          }
      }
    output_results(first_solution);
  }

  // @sect4{Output}
  template <int dim>
  template <typename VectorType>
  void
  PoissonProblem<dim>::output_results(const VectorType &solution) const
  {
    if (parameters.output_base.empty())
      return;
    // DataOut needs the values on ghost nodes too.
    VectorType ghosted;
    if constexpr (std::is_same_v<VectorType, dealii::Vector<double>>)
      ghosted = solution;
    else
      {
        ghosted.reinit(locally_owned_dofs,
                       locally_relevant_dofs,
                       mpi_communicator);
        ghosted = solution;
      }
    DataOut<dim> data_out;
    data_out.attach_dof_handler(dof_handler);
    data_out.add_data_vector(ghosted, "u");
    data_out.build_patches();
    data_out.write_vtu_with_pvtu_record(
        "./", parameters.output_base, 0, mpi_communicator, 2);
  }

  template <int dim>
  void
  PoissonProblem<dim>::print_table() const
  {
    TableHandler table;
    for (const SolveRecord &record : records)
      {
        table.add_value("solver", record.solver);
        table.add_value("preconditioner", record.preconditioner);
        table.add_value("iterations", record.iterations);
        table.add_value("converged", record.converged ? "yes" : "NO");
        table.add_value("setup [s]", record.setup_seconds);
        table.add_value("solve [s]", record.solve_seconds);
        std::ostringstream network_seconds;
        network_seconds << std::fixed << std::setprecision(4)
                        << record.network_seconds;
        table.add_value("network [s]",
                        record.network_seconds < 0 ? std::string("-")
                                                   : network_seconds.str());
        table.add_value("fallbacks",
                        record.network_seconds < 0
                            ? std::string("-")
                            : std::to_string(record.fallbacks));
      }
    for (const char *column : {"setup [s]", "solve [s]"})
      {
        table.set_precision(column, 4);
        table.set_scientific(column, false);
      }
    if (Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
      {
        std::cout << std::endl;
        table.write_text(std::cout, TableHandler::org_mode_table);
      }

    // Iterations only: timings differ from run to run.
    if (!parameters.summary_file.empty() &&
        Utilities::MPI::this_mpi_process(mpi_communicator) == 0)
      {
        std::ofstream out(parameters.summary_file);
        out << "dimension " << dim << ", unknowns " << dof_handler.n_dofs()
            << ", vector type " << parameters.vector_type << std::endl;
        for (const SolveRecord &record : records)
          out << record.solver << ": " << record.iterations << " iterations, "
              << (record.converged ? "converged" : "not converged")
              << (record.network_seconds < 0
                      ? std::string()
                      : ", " + std::to_string(record.fallbacks) +
                            " non-finite network outputs")
              << std::endl;
      }
  }

  template <int dim>
  void
  PoissonProblem<dim>::run()
  {
    make_grid();
    setup_system();
    if (parameters.vector_type == "deal.II")
      solve_with<DealIIBackend>();
    else if (parameters.vector_type == "PETSc")
      solve_with<PETScBackend>();
    else
      solve_with<TrilinosBackend>();
    print_table();
  }
} // namespace LearnedPreconditionerTutorial

int
main(int argc, char *argv[])
{
  using namespace LearnedPreconditionerTutorial;
  try
    {
      Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);

      ParameterHandler prm;
      Parameters::declare(prm);
      const std::string prm_file =
          argc > 1 ? argv[1] : "learned_preconditioner.prm";
      prm.parse_input(prm_file);
      Parameters parameters;
      parameters.parse(prm);

      if (parameters.dimension == 2)
        PoissonProblem<2>(parameters).run();
      else
        PoissonProblem<3>(parameters).run();
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
