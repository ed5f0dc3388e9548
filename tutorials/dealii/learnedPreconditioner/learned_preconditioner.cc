/* ---------------------------------------------------------------------
 * mlcfd tutorial: a learned preconditioner in a deal.II program.
 *
 * We solve  -div(a grad u) = 1  on an L-shaped domain with u = 0 on the
 * boundary and a high-contrast coefficient (a = 1000 in the lower-left
 * quadrant, 1 elsewhere, so that diagonal scaling matters), and
 * precondition flexible CG with a TorchScript
 * model through mlcfd::dealii::ModelPreconditioner. To see that the model
 * really is inside the solver, the program solves the same system a second
 * time with deal.II's own Jacobi preconditioner: with the reference model of
 * `mlcfd-model create jacobi` (z = r/diag) both take the same iterations.
 * A trained model (other capabilities of mlcfd) plugs in the same way.
 *
 * The same code runs with deal.II's own vectors, PETSc's and Trilinos';
 * the parameter file chooses.
 * --------------------------------------------------------------------- */

#include <deal.II/base/conditional_ostream.h>
#include <deal.II/base/function.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/base/timer.h>

#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>

#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/fe_values.h>

#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/tria.h>

#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/petsc_precondition.h>
#include <deal.II/lac/precondition.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/trilinos_precondition.h>

#include <deal.II/numerics/data_out.h>
#include <deal.II/numerics/vector_tools.h>

#include "mlcfd/dealii/ModelPreconditioner.h"

#include <fstream>
#include <iostream>

namespace LearnedPreconditioner
{
  using namespace dealii;

  // @sect3{Parameters}
  //
  // Everything a user may change comes from a .prm file (see
  // learned_preconditioner.prm), so the program need not be recompiled to
  // try another model or backend.
  struct Parameters
  {
    std::string  model_file;
    std::string  backend;
    unsigned int refinements;
    double       tolerance;
    std::string  output_file;
    std::string  vtu_file;

    static void declare(ParameterHandler &prm)
    {
      prm.declare_entry("Model file",
                        "jacobi.pt",
                        Patterns::FileName(),
                        "TorchScript model of kind 'preconditioner' "
                        "(mlcfd-model create jacobi jacobi.pt)");
      prm.declare_entry("Backend",
                        "all",
                        Patterns::Selection("deal.II|PETSc|Trilinos|all"),
                        "Linear algebra of the solve");
      prm.declare_entry("Refinements",
                        "5",
                        Patterns::Integer(1, 12),
                        "Global refinements of the L-shaped domain");
      prm.declare_entry("Relative tolerance",
                        "1e-10",
                        Patterns::Double(0),
                        "Stop when |r| < tolerance |b|");
      prm.declare_entry("Output file",
                        "",
                        Patterns::Anything(),
                        "Also write the iteration summary to this file");
      prm.declare_entry("VTU file",
                        "solution.vtu",
                        Patterns::Anything(),
                        "Solution for ParaView (empty: none)");
    }

    void parse(ParameterHandler &prm)
    {
      model_file  = prm.get("Model file");
      backend     = prm.get("Backend");
      refinements = prm.get_integer("Refinements");
      tolerance   = prm.get_double("Relative tolerance");
      output_file = prm.get("Output file");
      vtu_file    = prm.get("VTU file");
    }
  };


  // @sect3{The Poisson problem}
  class PoissonProblem
  {
  public:
    explicit PoissonProblem(const Parameters &parameters);
    void run();

  private:
    void setup_system();
    template <typename MatrixType, typename VectorType>
    void assemble_system(MatrixType &matrix, VectorType &rhs) const;
    template <typename MatrixType, typename VectorType, typename JacobiType>
    void solve(const std::string &backend_name,
               MatrixType        &matrix,
               VectorType        &rhs);
    void output_results() const;

    const Parameters          parameters;
    Triangulation<2>          triangulation;
    FE_Q<2>                   fe;
    DoFHandler<2>             dof_handler;
    AffineConstraints<double> constraints;
    SparsityPattern           sparsity_pattern;
    IndexSet                  locally_owned;
    Vector<double>            solution;
    std::ostringstream        summary;
  };


  PoissonProblem::PoissonProblem(const Parameters &parameters)
    : parameters(parameters)
    , fe(1)
    , dof_handler(triangulation)
  {}


  void PoissonProblem::setup_system()
  {
    GridGenerator::hyper_L(triangulation);
    triangulation.refine_global(parameters.refinements);
    dof_handler.distribute_dofs(fe);

    constraints.clear();
    VectorTools::interpolate_boundary_values(dof_handler,
                                             0,
                                             Functions::ZeroFunction<2>(),
                                             constraints);
    constraints.close();

    DynamicSparsityPattern dsp(dof_handler.n_dofs());
    DoFTools::make_sparsity_pattern(dof_handler, dsp, constraints, false);
    sparsity_pattern.copy_from(dsp);
    locally_owned = complete_index_set(dof_handler.n_dofs());
    solution.reinit(dof_handler.n_dofs());

    std::cout << "Cells: " << triangulation.n_active_cells()
              << ", degrees of freedom: " << dof_handler.n_dofs() << std::endl;
  }


  // The coefficient a(x): its jump makes the matrix diagonal vary by three
  // orders of magnitude, which is what Jacobi (and a learned model) exploit.
  double coefficient(const Point<2> &p)
  {
    return (p[0] < 0 && p[1] < 0) ? 1000.0 : 1.0;
  }


  // Assembly is the same for every backend: only the matrix and vector
  // types differ. Constrained rows keep a positive diagonal, so Jacobi (and
  // a model that divides by the diagonal) is well defined everywhere.
  template <typename MatrixType, typename VectorType>
  void PoissonProblem::assemble_system(MatrixType &matrix, VectorType &rhs) const
  {
    const QGauss<2>    quadrature(fe.degree + 1);
    FEValues<2>        fe_values(fe,
                          quadrature,
                          update_values | update_gradients |
                            update_quadrature_points | update_JxW_values);
    const unsigned int dofs_per_cell = fe.n_dofs_per_cell();
    FullMatrix<double> cell_matrix(dofs_per_cell, dofs_per_cell);
    Vector<double>     cell_rhs(dofs_per_cell);
    std::vector<types::global_dof_index> dof_indices(dofs_per_cell);

    for (const auto &cell : dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        cell_matrix = 0;
        cell_rhs    = 0;
        for (const unsigned int q : fe_values.quadrature_point_indices())
          for (const unsigned int i : fe_values.dof_indices())
            {
              const double a = coefficient(fe_values.quadrature_point(q));
              for (const unsigned int j : fe_values.dof_indices())
                cell_matrix(i, j) += a * fe_values.shape_grad(i, q) *
                                     fe_values.shape_grad(j, q) *
                                     fe_values.JxW(q);
              cell_rhs(i) += fe_values.shape_value(i, q) * fe_values.JxW(q);
            }
        cell->get_dof_indices(dof_indices);
        constraints.distribute_local_to_global(
          cell_matrix, cell_rhs, dof_indices, matrix, rhs);
      }
    matrix.compress(VectorOperation::add);
    rhs.compress(VectorOperation::add);
  }


  // @sect4{Solving with the model and with Jacobi}
  //
  // SolverFlexibleCG, not SolverCG: a learned preconditioner need not be a
  // fixed symmetric operator, and flexible CG stays correct when it is not.
  template <typename MatrixType, typename VectorType, typename JacobiType>
  void PoissonProblem::solve(const std::string &backend_name,
                             MatrixType        &matrix,
                             VectorType        &rhs)
  {
    assemble_system(matrix, rhs);

    mlcfd::dealii::ModelPreconditioner model_preconditioner;
    model_preconditioner.initialize(matrix, parameters.model_file);
    JacobiType jacobi;
    jacobi.initialize(matrix);

    const auto run_solver = [&](const auto &preconditioner,
                                VectorType &x) -> std::pair<unsigned int, double> {
      SolverControl control(10000, parameters.tolerance * rhs.l2_norm());
      SolverFlexibleCG<VectorType> solver(control);
      Timer timer;
      solver.solve(matrix, x, rhs, preconditioner);
      constraints.distribute(x);
      return {control.last_step(), timer.wall_time()};
    };

    VectorType x_model(rhs), x_jacobi(rhs), x_none(rhs);
    x_model  = 0;
    x_jacobi = 0;
    x_none   = 0;
    const auto model  = run_solver(model_preconditioner, x_model);
    const auto plain  = run_solver(jacobi, x_jacobi);
    // Plain CG as the baseline (deal.II 9.4's SolverFlexibleCG breaks down
    // with PreconditionIdentity, which needs no flexibility anyway).
    unsigned int none_iterations = 0;
    {
      SolverControl control(10000, parameters.tolerance * rhs.l2_norm());
      SolverCG<VectorType> solver(control);
      solver.solve(matrix, x_none, rhs, PreconditionIdentity());
      none_iterations = control.last_step();
    }
    VectorType difference(x_model);
    difference -= x_jacobi;

    summary << backend_name << ": model " << model.first
            << " iterations, Jacobi " << plain.first << " iterations, "
            << "fewer than plain CG: " << (model.first < none_iterations ? "yes" : "no")
            << ", "
            << "|u_model - u_Jacobi|/|u_Jacobi| "
            << (difference.linfty_norm() <= 1e-8 * x_jacobi.linfty_norm() ?
                  "< 1e-8" :
                  ">= 1e-8")
            << std::endl;
    std::cout << backend_name << ": model " << model.first << " iterations ("
              << model.second << " s), Jacobi " << plain.first
              << " iterations (" << plain.second << " s), none " << none_iterations
              << " iterations" << std::endl;

    for (const auto i : locally_owned)
      solution(i) = x_model(i);
  }


  void PoissonProblem::output_results() const
  {
    if (!parameters.output_file.empty())
      {
        std::ofstream out(parameters.output_file);
        out << summary.str();
      }
    if (!parameters.vtu_file.empty())
      {
        DataOut<2> data_out;
        data_out.attach_dof_handler(dof_handler);
        data_out.add_data_vector(solution, "u");
        data_out.build_patches();
        std::ofstream out(parameters.vtu_file);
        data_out.write_vtu(out);
      }
  }


  void PoissonProblem::run()
  {
    setup_system();
    const std::string &backend = parameters.backend;

    if (backend == "deal.II" || backend == "all")
      {
        SparseMatrix<double> matrix(sparsity_pattern);
        Vector<double>       rhs(dof_handler.n_dofs());
        solve<SparseMatrix<double>, Vector<double>, PreconditionJacobi<>>(
          "deal.II", matrix, rhs);
      }
    if (backend == "PETSc" || backend == "all")
      {
        PETScWrappers::MPI::SparseMatrix matrix;
        matrix.reinit(locally_owned, locally_owned, sparsity_pattern, MPI_COMM_WORLD);
        PETScWrappers::MPI::Vector rhs(locally_owned, MPI_COMM_WORLD);
        solve<PETScWrappers::MPI::SparseMatrix,
              PETScWrappers::MPI::Vector,
              PETScWrappers::PreconditionJacobi>("PETSc", matrix, rhs);
      }
    if (backend == "Trilinos" || backend == "all")
      {
        TrilinosWrappers::SparseMatrix matrix;
        matrix.reinit(locally_owned, sparsity_pattern, MPI_COMM_WORLD);
        TrilinosWrappers::MPI::Vector rhs(locally_owned, MPI_COMM_WORLD);
        solve<TrilinosWrappers::SparseMatrix,
              TrilinosWrappers::MPI::Vector,
              TrilinosWrappers::PreconditionJacobi>("Trilinos", matrix, rhs);
      }
    output_results();
  }
} // namespace LearnedPreconditioner


int main(int argc, char *argv[])
{
  using namespace LearnedPreconditioner;
  try
    {
      Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
      AssertThrow(Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) == 1,
                  ExcMessage("This tutorial runs on one MPI process."));

      ParameterHandler prm;
      Parameters::declare(prm);
      const std::string prm_file =
        argc > 1 ? argv[1] : "learned_preconditioner.prm";
      prm.parse_input(prm_file);
      Parameters parameters;
      parameters.parse(prm);

      PoissonProblem problem(parameters);
      problem.run();
    }
  catch (const std::exception &exc)
    {
      std::cerr << std::endl
                << "----------------------------------------------------" << std::endl
                << "Exception: " << std::endl
                << exc.what() << std::endl
                << "----------------------------------------------------" << std::endl;
      return 1;
    }
  return 0;
}
