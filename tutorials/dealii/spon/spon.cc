/* ---------------------------------------------------------------------
 * mlcfd tutorial: structure-preserving operator learning (SPON) for
 * -div(a grad u) = f on an L-shaped domain, with deal.II as the encoder,
 * the decoder and the source of the training data.
 *
 * @file spon.cc
 *
 * The parametric problem: on the L-shape Omega = [-1,1]^2 \ [0,1]^2
 * (GridGenerator::hyper_L),
 *
 *   -div(a grad u) = f  in Omega,   u = g  on the boundary,
 *
 * with, for each sample, a random coefficient field, source and boundary
 * data (four Fourier modes (p,q) = (1,0), (0,1), (1,1), (1,-1)):
 *
 *   a(x) = exp( sum_k alpha_k cos(pi (p_k x + q_k y) + phi_k) ),  alpha_k in [-0.6, 0.6],
 *   f(x) = 5 sum_k beta_k cos(pi (p_k x + q_k y) + psi_k),       beta_k in [-1, 1],
 *   g(x) = b_0 + b_1 x + b_2 y,                                   b_i in [-1, 1],
 *
 * so a varies by a factor up to e^4.8 over the domain, and g is nonzero on
 * the boundary (the constraint matters). Sample i draws its parameters
 * from std::mt19937_64 seeded with (Seed + i): the training samples and
 * the held-out samples (Held-out offset + i) never coincide.
 *
 * Q1 elements on the mesh refined Refinements times (833 DoFs for 4);
 * the system is solved with CG and SSOR to a relative residual of 1e-10.
 *
 * Modes (`set Mode` in spon.prm):
 *
 *  - generate: solve Training samples problems and write, for the train
 *    script (train_spon.py), the encoded inputs (a, f, g interpolated onto
 *    the fine space and onto the coarse one, one refinement less) and the
 *    FE solutions (fine, and transferred to the coarse mesh), the DoF
 *    support points, the boundary DoFs and the DoF graph (the sparsity
 *    pattern of the FE matrix) of both spaces; the prolongation from the
 *    coarse space to the fine one, the transfer the multigrid decoder
 *    applies, so that the trainer can train through it; and the fine mass
 *    matrix, so that the trainer reports the L2 error predict reports.
 *  - predict: load the single-level and the multigrid SPON models
 *    (mlcfd::dealii::SPONOperator), predict Held-out samples solutions in
 *    one batch each, with and without the constraint step, and compare them
 *    with the FE solutions: relative L2 error, boundary-condition error
 *    max |u_i - g(x_i)| over the Dirichlet DoFs, constraint residual, and
 *    the time of each stage. Writes a markdown table (Table file), a
 *    summary (Summary file) and VTU files of the first VTU samples samples
 *    (a, f, the FE solution, the four predictions and their errors).
 *    With Distributed check, the single-level constrained prediction is
 *    repeated on a parallel::distributed::Triangulation of the fine mesh,
 *    split over the MPI processes, and compared with the serial one.
 *
 * Usage:  spon [spon.prm]
 *         mpirun -np 2 spon spon.prm     (predict; rank 0 writes the files)
 *
 * See also: dealii/include/mlcfd/dealii/SPONOperator.h (the operator),
 * tutorials/dealii/spon/train_spon.py (the trainer), Allrun (everything
 * from scratch), bench/spon (the benchmark).
 * --------------------------------------------------------------------- */

#include <deal.II/base/function.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>
#include <deal.II/base/quadrature_lib.h>
#include <deal.II/base/utilities.h>

#include <deal.II/dofs/dof_handler.h>
#include <deal.II/dofs/dof_tools.h>

#include <deal.II/fe/fe_q.h>
#include <deal.II/fe/fe_values.h>
#include <deal.II/fe/mapping_q1.h>

#include <deal.II/distributed/tria.h>

#include <deal.II/grid/grid_generator.h>
#include <deal.II/grid/tria.h>

#include <deal.II/lac/affine_constraints.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/la_parallel_vector.h>
#include <deal.II/lac/precondition.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/vector.h>

#include <deal.II/numerics/data_out.h>
#include <deal.II/numerics/matrix_creator.h>
#include <deal.II/numerics/vector_tools.h>

#include "mlcfd/Model.h"
#include "mlcfd/dealii/SPONOperator.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace SPON
{
  using namespace dealii;

  // @sect3{Parameters}
  struct Parameters
  {
    std::string  mode;
    unsigned int refinements;
    unsigned int seed;
    unsigned int training_samples;
    std::string  data_file;
    std::string  single_level_model;
    std::string  multigrid_model;
    std::string  encoder;
    unsigned int held_out_samples;
    unsigned int held_out_offset;
    unsigned int vtu_samples;
    std::string  output_directory;
    std::string  table_file;
    std::string  summary_file;
    bool         distributed_check;

    static void
    declare(ParameterHandler &prm)
    {
      prm.declare_entry(
          "Mode",
          "predict",
          Patterns::Selection("generate|predict"),
          "generate: training data; predict: load the models and compare");
      prm.declare_entry(
          "Refinements",
          "4",
          Patterns::Integer(2, 9),
          "global refinements of the L-shape (the coarse mesh has one less)");
      prm.declare_entry("Seed",
                        "1",
                        Patterns::Integer(0),
                        "sample i uses seed Seed + i");
      prm.enter_subsection("Data");
      prm.declare_entry("Training samples", "1200", Patterns::Integer(1));
      prm.declare_entry("Data file", "spon_data.bin", Patterns::Anything());
      prm.leave_subsection();
      prm.enter_subsection("Prediction");
      prm.declare_entry("Single-level model",
                        "spon_single.pt",
                        Patterns::Anything());
      prm.declare_entry("Multigrid model",
                        "spon_multigrid.pt",
                        Patterns::Anything(),
                        "empty: no multigrid variant");
      prm.declare_entry("Encoder",
                        "interpolation",
                        Patterns::Selection("interpolation|projection"));
      prm.declare_entry("Held-out samples", "50", Patterns::Integer(1));
      prm.declare_entry("Held-out offset",
                        "1000000",
                        Patterns::Integer(0),
                        "held-out sample i uses seed Seed + offset + i");
      prm.declare_entry("VTU samples", "2", Patterns::Integer(0));
      prm.declare_entry("Output directory", "output", Patterns::Anything());
      prm.declare_entry("Table file",
                        "",
                        Patterns::Anything(),
                        "markdown table (empty: none)");
      prm.declare_entry("Summary file",
                        "",
                        Patterns::Anything(),
                        "key: value lines (empty: none)");
      prm.declare_entry("Distributed check",
                        "true",
                        Patterns::Bool(),
                        "predict once more on a distributed copy of the "
                        "fine mesh (split over the MPI processes: "
                        "mpirun -np 2 spon spon.prm) and compare");
      prm.leave_subsection();
    }

    void
    parse(ParameterHandler &prm)
    {
      mode        = prm.get("Mode");
      refinements = prm.get_integer("Refinements");
      seed        = prm.get_integer("Seed");
      prm.enter_subsection("Data");
      training_samples = prm.get_integer("Training samples");
      data_file        = prm.get("Data file");
      prm.leave_subsection();
      prm.enter_subsection("Prediction");
      single_level_model = prm.get("Single-level model");
      multigrid_model    = prm.get("Multigrid model");
      encoder            = prm.get("Encoder");
      held_out_samples   = prm.get_integer("Held-out samples");
      held_out_offset    = prm.get_integer("Held-out offset");
      vtu_samples        = prm.get_integer("VTU samples");
      output_directory   = prm.get("Output directory");
      table_file         = prm.get("Table file");
      summary_file       = prm.get("Summary file");
      distributed_check  = prm.get_bool("Distributed check");
      prm.leave_subsection();
    }
  };

  // @sect3{The parametric problem}
  //
  // One sample's parameters, and the three input functions a, f and g. The
  // network sees exactly these functions, through the encoder; the FE
  // solver sees them through quadrature.
  constexpr unsigned int                           n_modes = 4;
  const std::array<std::array<double, 2>, n_modes> modes   = {
        {{{1, 0}}, {{0, 1}}, {{1, 1}}, {{1, -1}}}};

  struct SampleParameters
  {
    std::array<double, n_modes> alpha, phi, beta, psi;
    std::array<double, 3>       b;

    explicit SampleParameters(const std::uint64_t seed)
    {
      std::mt19937_64                        rng(seed);
      std::uniform_real_distribution<double> unit(-1.0, 1.0);
      std::uniform_real_distribution<double> angle(0.0, 2.0 * M_PI);
      for (unsigned int k = 0; k < n_modes; ++k)
        {
          alpha[k] = 0.6 * unit(rng);
          phi[k]   = angle(rng);
          beta[k]  = unit(rng);
          psi[k]   = angle(rng);
        }
      for (double &bi : b)
        bi = unit(rng);
    }
  };

  template <int dim>
  double
  fourier(const Point<dim>                  &p,
          const std::array<double, n_modes> &c,
          const std::array<double, n_modes> &phase)
  {
    double s = 0;
    for (unsigned int k = 0; k < n_modes; ++k)
      s += c[k] * std::cos(M_PI * (modes[k][0] * p[0] + modes[k][1] * p[1]) +
                           phase[k]);
    return s;
  }

  template <int dim>
  class Coefficient : public Function<dim>
  {
  public:
    explicit Coefficient(const SampleParameters &s)
        : s(s)
    {
    }
    double
    value(const Point<dim> &p, const unsigned int = 0) const override
    {
      return std::exp(fourier(p, s.alpha, s.phi));
    }

  private:
    const SampleParameters s;
  };

  template <int dim>
  class Source : public Function<dim>
  {
  public:
    explicit Source(const SampleParameters &s)
        : s(s)
    {
    }
    double
    value(const Point<dim> &p, const unsigned int = 0) const override
    {
      return 5.0 * fourier(p, s.beta, s.psi);
    }

  private:
    const SampleParameters s;
  };

  template <int dim>
  class BoundaryValues : public Function<dim>
  {
  public:
    explicit BoundaryValues(const SampleParameters &s)
        : s(s)
    {
    }
    double
    value(const Point<dim> &p, const unsigned int = 0) const override
    {
      return s.b[0] + s.b[1] * p[0] + s.b[2] * p[1];
    }

  private:
    const SampleParameters s;
  };

  // @sect3{One FE space on the L-shape}
  //
  // The fine space (the FE solution and the output of the SPON decoder) and
  // the coarse one (where the multigrid processor works) are the same code
  // with a different number of refinements. Both start from the same
  // coarse grid, which is what deal.II's grid transfer needs.
  template <int dim>
  struct Space
  {
    Triangulation<dim> triangulation;
    FE_Q<dim>          fe{1};
    DoFHandler<dim>    dof_handler;
    SparsityPattern    sparsity_pattern;

    explicit Space(const unsigned int refinements)
    {
      GridGenerator::hyper_L(triangulation, -1, 1);
      triangulation.refine_global(refinements);
      dof_handler.reinit(triangulation);
      dof_handler.distribute_dofs(fe);
      DynamicSparsityPattern dsp(dof_handler.n_dofs());
      DoFTools::make_sparsity_pattern(dof_handler, dsp);
      sparsity_pattern.copy_from(dsp);
    }

    // Dirichlet values g (and hanging nodes, none on these meshes).
    void
    make_constraints(const Function<dim>       &g,
                     AffineConstraints<double> &constraints) const
    {
      constraints.clear();
      DoFTools::make_hanging_node_constraints(dof_handler, constraints);
      VectorTools::interpolate_boundary_values(dof_handler, 0, g, constraints);
      constraints.close();
    }

    std::vector<Point<dim>>
    support_points() const
    {
      std::vector<Point<dim>> points(dof_handler.n_dofs());
      DoFTools::map_dofs_to_support_points(StaticMappingQ1<dim>::mapping,
                                           dof_handler,
                                           points);
      return points;
    }

    std::vector<bool>
    boundary_dofs() const
    {
      std::vector<bool> boundary(dof_handler.n_dofs(), false);
      const IndexSet    set = DoFTools::extract_boundary_dofs(dof_handler);
      for (const auto i : set)
        boundary[i] = true;
      return boundary;
    }
  };

  // @sect3{The SPON tutorial}
  template <int dim>
  class SPONTutorial
  {
  public:
    explicit SPONTutorial(const Parameters &parameters);
    void
    run();

  private:
    void
    assemble_system(const SampleParameters &s);
    void
    solve(Vector<double> &solution);
    void
    generate_data();
    void
    predict();
    double
    l2_norm(const Vector<double> &u) const;
    double
    boundary_error(const Vector<double> &u, const Function<dim> &g) const;
    void
    output_results(const unsigned int      sample,
                   const SampleParameters &s,
                   const Vector<double>   &fe_solution,
                   const std::vector<std::pair<std::string, Vector<double>>>
                       &predictions) const;

    const Parameters                     parameters;
    Space<dim>                           fine;
    Space<dim>                           coarse;
    AffineConstraints<double>            constraints;
    SparseMatrix<double>                 system_matrix;
    Vector<double>                       system_rhs;
    std::vector<types::global_dof_index> boundary_dof_list;
  };

  template <int dim>
  SPONTutorial<dim>::SPONTutorial(const Parameters &parameters)
      : parameters(parameters)
      , fine(parameters.refinements)
      , coarse(parameters.refinements - 1)
  {
    system_matrix.reinit(fine.sparsity_pattern);
    system_rhs.reinit(fine.dof_handler.n_dofs());
    const std::vector<bool> boundary = fine.boundary_dofs();
    for (types::global_dof_index i = 0; i < boundary.size(); ++i)
      if (boundary[i])
        boundary_dof_list.push_back(i);
  }

  // @sect4{Assembly and solve}
  //
  // The Dirichlet values enter through the (inhomogeneous) constraints, as
  // in step-6: distribute_local_to_global eliminates them symmetrically, and
  // distribute() after the solve sets them. The SPON decoder uses the very
  // same constraints object.
  template <int dim>
  void
  SPONTutorial<dim>::assemble_system(const SampleParameters &s)
  {
    const Coefficient<dim>    a(s);
    const Source<dim>         f(s);
    const BoundaryValues<dim> g(s);
    fine.make_constraints(g, constraints);

    system_matrix = 0;
    system_rhs    = 0;
    const QGauss<dim>  quadrature(fine.fe.degree + 2);
    FEValues<dim>      fe_values(fine.fe,
                            quadrature,
                            update_values | update_gradients |
                                update_quadrature_points | update_JxW_values);
    const unsigned int dofs_per_cell = fine.fe.n_dofs_per_cell();
    FullMatrix<double> cell_matrix(dofs_per_cell, dofs_per_cell);
    Vector<double>     cell_rhs(dofs_per_cell);
    std::vector<types::global_dof_index> local_dof_indices(dofs_per_cell);

    for (const auto &cell : fine.dof_handler.active_cell_iterators())
      {
        fe_values.reinit(cell);
        cell_matrix = 0;
        cell_rhs    = 0;
        for (const unsigned int q : fe_values.quadrature_point_indices())
          {
            const Point<dim> &x  = fe_values.quadrature_point(q);
            const double      ax = a.value(x);
            const double      fx = f.value(x);
            for (const unsigned int i : fe_values.dof_indices())
              {
                for (const unsigned int j : fe_values.dof_indices())
                  cell_matrix(i, j) += ax * fe_values.shape_grad(i, q) *
                                       fe_values.shape_grad(j, q) *
                                       fe_values.JxW(q);
                cell_rhs(i) +=
                    fx * fe_values.shape_value(i, q) * fe_values.JxW(q);
              }
          }
        cell->get_dof_indices(local_dof_indices);
        constraints.distribute_local_to_global(cell_matrix,
                                               cell_rhs,
                                               local_dof_indices,
                                               system_matrix,
                                               system_rhs);
      }
  }

  template <int dim>
  void
  SPONTutorial<dim>::solve(Vector<double> &solution)
  {
    solution.reinit(fine.dof_handler.n_dofs());
    SolverControl            control(10000, 1e-10 * system_rhs.l2_norm());
    SolverCG<Vector<double>> cg(control);
    PreconditionSSOR<SparseMatrix<double>> ssor;
    ssor.initialize(system_matrix, 1.6);
    cg.solve(system_matrix, solution, system_rhs, ssor);
    constraints.distribute(solution);
  }

  // @sect4{Errors}
  //
  // L2 norms of FE functions (integrate_difference against zero, so the
  // error is the FE function's own norm, not a nodal one), and the
  // boundary-condition error at the Dirichlet DoFs.
  template <int dim>
  double
  SPONTutorial<dim>::l2_norm(const Vector<double> &u) const
  {
    Vector<float> cellwise(fine.triangulation.n_active_cells());
    VectorTools::integrate_difference(fine.dof_handler,
                                      u,
                                      Functions::ZeroFunction<dim>(),
                                      cellwise,
                                      QGauss<dim>(fine.fe.degree + 2),
                                      VectorTools::L2_norm);
    return VectorTools::compute_global_error(fine.triangulation,
                                             cellwise,
                                             VectorTools::L2_norm);
  }

  template <int dim>
  double
  SPONTutorial<dim>::boundary_error(const Vector<double> &u,
                                    const Function<dim>  &g) const
  {
    static const std::vector<Point<dim>> points = fine.support_points();
    double                               error  = 0;
    for (const auto i : boundary_dof_list)
      error = std::max(error, std::abs(u[i] - g.value(points[i])));
    return error;
  }

  // @sect4{Generating the training data}
  //
  // The file is one line of JSON naming the arrays (name, shape) followed by
  // the arrays themselves, float64, row-major, in that order: numpy reads it
  // with one frombuffer per array (train_spon.py).
  template <int dim>
  void
  SPONTutorial<dim>::generate_data()
  {
    const unsigned int S  = parameters.training_samples;
    const std::size_t  nf = fine.dof_handler.n_dofs(),
                      nc  = coarse.dof_handler.n_dofs();
    std::cout << "generating " << S << " samples: fine " << nf
              << " DoFs, coarse " << nc << " DoFs" << std::endl;

    std::vector<std::pair<std::string, std::vector<std::size_t>>> shapes;
    std::vector<std::vector<double>>                              arrays;
    auto add = [&](const std::string       &name,
                   std::vector<std::size_t> shape,
                   std::vector<double>    &&values) {
      shapes.emplace_back(name, std::move(shape));
      arrays.push_back(std::move(values));
    };

    for (const Space<dim> *space : {&fine, &coarse})
      {
        const std::string   prefix = (space == &fine) ? "fine_" : "coarse_";
        const std::size_t   n      = space->dof_handler.n_dofs();
        std::vector<double> points;
        for (const auto &p : space->support_points())
          for (unsigned int d = 0; d < dim; ++d)
            points.push_back(p[d]);
        add(prefix + "points", {n, dim}, std::move(points));
        std::vector<double> boundary;
        for (const bool b : space->boundary_dofs())
          boundary.push_back(b ? 1 : 0);
        add(prefix + "boundary", {n}, std::move(boundary));
        std::vector<double> edges;
        for (const auto &entry : space->sparsity_pattern)
          {
            edges.push_back(entry.row());
            edges.push_back(entry.column());
          }
        const std::size_t n_edges = edges.size() / 2;
        add(prefix + "edges", {n_edges, 2}, std::move(edges));
      }

    // The prolongation P (nf x nc) as (row, column, value) triples: column
    // j is coarse basis function j transferred to the fine mesh by the call
    // the multigrid decoder makes, so P is that transfer exactly.
    {
      std::vector<double> triples;
      Vector<double>      unit(nc), column(nf);
      for (std::size_t j = 0; j < nc; ++j)
        {
          unit    = 0;
          unit[j] = 1;
          VectorTools::interpolate_to_different_mesh(coarse.dof_handler,
                                                     unit,
                                                     fine.dof_handler,
                                                     column);
          for (std::size_t i = 0; i < nf; ++i)
            if (column[i] != 0)
              triples.insert(triples.end(), {double(i), double(j), column[i]});
        }
      const std::size_t entries = triples.size() / 3;
      add("prolongation", {entries, 3}, std::move(triples));
    }
    // The fine mass matrix: u^T M u is the squared L2 norm of a Q1 function
    // (exact with this quadrature), as predict measures it.
    {
      SparseMatrix<double> mass(fine.sparsity_pattern);
      MatrixCreator::create_mass_matrix(fine.dof_handler,
                                        QGauss<dim>(fine.fe.degree + 1),
                                        mass);
      std::vector<double> triples;
      for (const auto &entry : mass)
        triples.insert(triples.end(),
                       {double(entry.row()),
                        double(entry.column()),
                        entry.value()});
      const std::size_t entries = triples.size() / 3;
      add("fine_mass", {entries, 3}, std::move(triples));
    }

    std::vector<double> fine_inputs(S * 3 * nf), fine_solutions(S * nf);
    std::vector<double> coarse_inputs(S * 3 * nc), coarse_solutions(S * nc);
    Vector<double>      u, encoded_fine(nf), encoded_coarse(nc), u_coarse(nc);
    for (unsigned int i = 0; i < S; ++i)
      {
        const SampleParameters    s(parameters.seed + i);
        const Coefficient<dim>    a(s);
        const Source<dim>         f(s);
        const BoundaryValues<dim> g(s);
        assemble_system(s);
        solve(u);
        std::copy(u.begin(), u.end(), fine_solutions.begin() + i * nf);
        // The coarse target: the FE solution transferred to the coarse mesh
        // (for Q1 and one refinement less: the values at the coarse nodes).
        VectorTools::interpolate_to_different_mesh(fine.dof_handler,
                                                   u,
                                                   coarse.dof_handler,
                                                   u_coarse);
        std::copy(u_coarse.begin(),
                  u_coarse.end(),
                  coarse_solutions.begin() + i * nc);
        const std::array<const Function<dim> *, 3> inputs = {{&a, &f, &g}};
        for (unsigned int k = 0; k < 3; ++k)
          {
            VectorTools::interpolate(fine.dof_handler,
                                     *inputs[k],
                                     encoded_fine);
            std::copy(encoded_fine.begin(),
                      encoded_fine.end(),
                      fine_inputs.begin() + (i * 3 + k) * nf);
            VectorTools::interpolate(coarse.dof_handler,
                                     *inputs[k],
                                     encoded_coarse);
            std::copy(encoded_coarse.begin(),
                      encoded_coarse.end(),
                      coarse_inputs.begin() + (i * 3 + k) * nc);
          }
      }
    add("fine_inputs", {S, 3 * nf}, std::move(fine_inputs));
    add("fine_solutions", {S, nf}, std::move(fine_solutions));
    add("coarse_inputs", {S, 3 * nc}, std::move(coarse_inputs));
    add("coarse_solutions", {S, nc}, std::move(coarse_solutions));

    std::ostringstream header;
    header << "{\"refinements\": " << parameters.refinements
           << ", \"seed\": " << parameters.seed
           << ", \"inputs\": [\"a\", \"f\", \"g\"], \"arrays\": [";
    for (std::size_t k = 0; k < shapes.size(); ++k)
      {
        header << (k ? ", " : "") << "{\"name\": \"" << shapes[k].first
               << "\", \"shape\": [";
        for (std::size_t d = 0; d < shapes[k].second.size(); ++d)
          header << (d ? ", " : "") << shapes[k].second[d];
        header << "]}";
      }
    header << "]}\n";
    std::ofstream out(parameters.data_file, std::ios::binary);
    AssertThrow(out, ExcMessage("cannot write '" + parameters.data_file + "'"));
    out << header.str();
    for (const auto &array : arrays)
      out.write(reinterpret_cast<const char *>(array.data()),
                static_cast<std::streamsize>(array.size() * sizeof(double)));
    AssertThrow(out,
                ExcMessage("writing '" + parameters.data_file + "' failed"));
    std::cout << "wrote " << parameters.data_file << std::endl;
  }

  // @sect4{Prediction and comparison}
  //
  // Each variant (single level / multigrid, constrained / unconstrained)
  // runs the held-out samples as one batch: encode every sample, one
  // evaluate() of the network, decode every sample. The constrained and
  // the unconstrained variant share the network output, so their
  // difference is the decoder's constraint step alone.
  template <int dim>
  void
  SPONTutorial<dim>::predict()
  {
    using Operator = mlcfd::dealii::SPONOperator<dim>;
    struct Variant
    {
      Variant(const std::string                  &name,
              std::shared_ptr<const mlcfd::Model> model,
              const DoFHandler<dim>              *processor_dofs,
              const bool                          constrained)
          : name(name)
          , model(std::move(model))
          , processor_dofs(processor_dofs)
          , constrained(constrained)
      {
      }
      std::string                         name;
      std::shared_ptr<const mlcfd::Model> model;
      const DoFHandler<dim>              *processor_dofs;
      bool                                constrained;
      double                              l2 = 0, bc = 0, residual = 0;
      double encode = 0, inference = 0, transfer = 0, constraint = 0;
      double inference_single = 0;
      std::vector<Vector<double>> solutions;
    };

    mlcfd::ModelOptions  options;
    std::vector<Variant> variants;
    auto                 single =
        std::make_shared<const mlcfd::Model>(parameters.single_level_model,
                                             options);
    variants.emplace_back("single-level, constrained",
                          single,
                          &fine.dof_handler,
                          true);
    variants.emplace_back("single-level, unconstrained",
                          single,
                          &fine.dof_handler,
                          false);
    if (!parameters.multigrid_model.empty())
      {
        auto mg =
            std::make_shared<const mlcfd::Model>(parameters.multigrid_model,
                                                 options);
        variants.emplace_back("multigrid, constrained",
                              mg,
                              &coarse.dof_handler,
                              true);
        variants.emplace_back("multigrid, unconstrained",
                              mg,
                              &coarse.dof_handler,
                              false);
      }

    const unsigned int            M = parameters.held_out_samples;
    std::vector<SampleParameters> samples;
    for (unsigned int i = 0; i < M; ++i)
      samples.emplace_back(parameters.seed + parameters.held_out_offset + i);

    // Reference FE solutions and each sample's constraints (its own g).
    std::vector<Vector<double>>            fe_solutions(M);
    std::vector<AffineConstraints<double>> sample_constraints(M);
    double                                 fe_seconds = 0;
    for (unsigned int i = 0; i < M; ++i)
      {
        const auto start = std::chrono::steady_clock::now();
        assemble_system(samples[i]);
        solve(fe_solutions[i]);
        fe_seconds += std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count();
        sample_constraints[i].copy_from(constraints);
      }

    typename Operator::AdditionalData data;
    data.encoder = (parameters.encoder == "projection")
                       ? Operator::Encoder::projection
                       : Operator::Encoder::interpolation;
    for (auto &v : variants)
      {
        Operator spon;
        data.apply_constraints = v.constrained;
        spon.initialize(v.model,
                        *v.processor_dofs,
                        fine.dof_handler,
                        sample_constraints[0],
                        data);

        std::vector<double> in(M * spon.input_width()),
            out(M * spon.output_width());
        for (unsigned int i = 0; i < M; ++i)
          {
            const Coefficient<dim>    a(samples[i]);
            const Source<dim>         f(samples[i]);
            const BoundaryValues<dim> g(samples[i]);
            spon.encode({&a, &f, &g}, in.data() + i * spon.input_width());
          }
        v.model->takeRangeCount(); // variants share a model: count afresh
        spon.process(in.data(), M, out.data());
        // Did the held-out samples feed the network inputs it was trained
        // on? The core counted them against the range the model file records.
        mlcfd::RangeMonitor range;
        range.step(v.model->takeRangeCount(),
                   v.model->rangeCheck(),
                   v.model->metadata(),
                   v.model->path());
        std::cout << v.name << ": "
                  << range.describe(v.model->metadata(), v.model->rangeCheck())
                  << std::endl;
        v.solutions.resize(M);
        for (unsigned int i = 0; i < M; ++i)
          spon.decode(out.data() + i * spon.output_width(),
                      sample_constraints[i],
                      v.solutions[i]);
        v.encode     = spon.timings().encode / M;
        v.inference  = spon.timings().inference / M;
        v.transfer   = spon.timings().transfer / M;
        v.constraint = spon.timings().constraints / M;

        // Inference one sample at a time (the latency a solver loop sees).
        spon.reset_timings();
        for (unsigned int i = 0; i < M; ++i)
          spon.process(in.data() + i * spon.input_width(), 1, out.data());
        v.inference_single = spon.timings().inference / M;

        for (unsigned int i = 0; i < M; ++i)
          {
            const BoundaryValues<dim> g(samples[i]);
            Vector<double>            e = v.solutions[i];
            e -= fe_solutions[i];
            v.l2 += l2_norm(e) / l2_norm(fe_solutions[i]) / M;
            v.bc = std::max(v.bc, boundary_error(v.solutions[i], g));
            v.residual =
                std::max(v.residual,
                         Operator::constraint_violation(sample_constraints[i],
                                                        v.solutions[i]));
          }
      }

    // @sect4{The same operator on a distributed mesh}
    //
    // The single-level constrained variant once more, on a
    // parallel::distributed::Triangulation of the fine mesh split over the
    // MPI processes: each process interpolates the inputs on its own cells,
    // the rows are gathered, rank 0 evaluates the network, and each process
    // applies the constraints of its own DoFs. It must give the serial
    // prediction to round-off.
    const MPI_Comm comm = MPI_COMM_WORLD;
    const bool     root = Utilities::MPI::this_mpi_process(comm) == 0;
    double         distributed_difference = -1, distributed_residual = 0;
    double         distributed_ms = 0;
    if (parameters.distributed_check &&
        data.encoder == Operator::Encoder::interpolation)
      {
        parallel::distributed::Triangulation<dim> mesh(comm);
        GridGenerator::hyper_L(mesh, -1, 1);
        mesh.refine_global(parameters.refinements);
        DoFHandler<dim> dofs(mesh);
        dofs.distribute_dofs(fine.fe);
        const IndexSet relevant = DoFTools::extract_locally_relevant_dofs(dofs);

        Operator                  spon;
        AffineConstraints<double> sample;
        data.apply_constraints = true;
        distributed_difference = 0;
        for (unsigned int i = 0; i < M; ++i)
          {
            const Coefficient<dim>    a(samples[i]);
            const Source<dim>         f(samples[i]);
            const BoundaryValues<dim> g(samples[i]);
            sample.clear();
            sample.reinit(relevant);
            DoFTools::make_hanging_node_constraints(dofs, sample);
            VectorTools::interpolate_boundary_values(dofs, 0, g, sample);
            sample.close();
            if (i == 0)
              spon.initialize_distributed(
                  single, fine.dof_handler, dofs, sample, data);
            else
              spon.set_output_constraints(sample);

            LinearAlgebra::distributed::Vector<double> u;
            spon.predict({&a, &f, &g}, u);
            for (const auto k : relevant)
              distributed_difference =
                  std::max(distributed_difference,
                           std::abs(
                               u(k) -
                               variants[0].solutions[i][spon.model_index(k)]));
            distributed_residual =
                std::max(distributed_residual,
                         Operator::constraint_violation(sample, u));
          }
        distributed_difference =
            Utilities::MPI::max(distributed_difference, comm);
        const auto &t  = spon.timings();
        distributed_ms = 1e3 * (t.encode + t.inference + t.constraints) / M;
        std::cout << "distributed mesh, "
                  << Utilities::MPI::n_mpi_processes(comm)
                  << " processes: single-level constrained prediction "
                     "differs from the serial one by at most "
                  << distributed_difference << ", constraint residual "
                  << distributed_residual << ", " << distributed_ms
                  << " ms per sample (encode + gather, inference + "
                     "broadcast, constraints)"
                  << std::endl;
      }

    // The table: errors averaged (L2) or maximised (BC, residual) over the
    // held-out samples, times per sample.
    std::ostringstream table;
    table << std::setprecision(3);
    table << "| variant | processor DoFs | relative L2 error | BC error (max) "
             "| constraint residual (max) "
             "| encode [ms] | inference, batch [ms] | inference, 1 row [ms] | "
             "transfer [ms] | constraint [ms] |\n"
          << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto &v : variants)
      table << "| " << v.name << " | " << v.processor_dofs->n_dofs() << " | "
            << v.l2 << " | " << v.bc << " | " << v.residual << " | "
            << 1e3 * v.encode << " | " << 1e3 * v.inference << " | "
            << 1e3 * v.inference_single << " | " << 1e3 * v.transfer << " | "
            << 1e3 * v.constraint << " |\n";
    std::cout << "\n"
              << M << " held-out samples, fine mesh "
              << fine.triangulation.n_active_cells() << " cells, "
              << fine.dof_handler.n_dofs() << " DoFs (Q1), FE solve "
              << 1e3 * fe_seconds / M
              << " ms per sample (assembly + CG/SSOR)\n\n"
              << table.str() << std::endl;
    // One process writes the files (every process holds the serial results).
    if (!root)
      return;
    // Opens a file of the Prediction section, its directory created.
    auto open_output = [](const std::string &file, const std::string &entry) {
      const std::filesystem::path directory =
          std::filesystem::path(file).parent_path();
      if (!directory.empty())
        std::filesystem::create_directories(directory);
      std::ofstream out(file);
      AssertThrow(out,
                  ExcMessage("cannot write '" + file + "' (entry '" + entry +
                             "' of subsection Prediction)"));
      return out;
    };
    if (!parameters.table_file.empty())
      open_output(parameters.table_file, "Table file") << table.str();
    if (!parameters.summary_file.empty())
      {
        std::ofstream out =
            open_output(parameters.summary_file, "Summary file");
        // Digits enough to compare with the trainer's errors.
        out << std::setprecision(10);
        out << "samples: " << M << "\n";
        for (const auto &v : variants)
          {
            std::string key = v.name;
            for (char &c : key)
              if (c == ' ' || c == ',')
                c = '_';
            out << "relL2 " << key << ": " << v.l2 << "\n"
                << "bcError " << key << ": " << v.bc << "\n"
                << "residual " << key << ": " << v.residual << "\n";
          }
        if (distributed_difference >= 0)
          out << "distributed processes: "
              << Utilities::MPI::n_mpi_processes(comm) << "\n"
              << "distributedDifference: " << distributed_difference << "\n"
              << "distributedResidual: " << distributed_residual << "\n";
      }

    for (unsigned int i = 0; i < std::min(parameters.vtu_samples, M); ++i)
      {
        std::vector<std::pair<std::string, Vector<double>>> predictions;
        for (const auto &v : variants)
          {
            std::string name = v.name;
            name.erase(std::remove(name.begin(), name.end(), ','), name.end());
            std::replace(name.begin(), name.end(), ' ', '_');
            predictions.emplace_back("u_" + name, v.solutions[i]);
          }
        output_results(i, samples[i], fe_solutions[i], predictions);
      }
  }

  template <int dim>
  void
  SPONTutorial<dim>::output_results(
      const unsigned int                                         sample,
      const SampleParameters                                    &s,
      const Vector<double>                                      &fe_solution,
      const std::vector<std::pair<std::string, Vector<double>>> &predictions)
      const
  {
    std::filesystem::create_directories(parameters.output_directory);
    Vector<double> a(fine.dof_handler.n_dofs()), f(fine.dof_handler.n_dofs());
    VectorTools::interpolate(fine.dof_handler, Coefficient<dim>(s), a);
    VectorTools::interpolate(fine.dof_handler, Source<dim>(s), f);
    std::vector<Vector<double>> errors;
    for (const auto &p : predictions)
      {
        errors.push_back(p.second);
        errors.back() -= fe_solution;
      }
    DataOut<dim> data_out;
    data_out.attach_dof_handler(fine.dof_handler);
    data_out.add_data_vector(a, "a");
    data_out.add_data_vector(f, "f");
    data_out.add_data_vector(fe_solution, "u_fe");
    for (std::size_t k = 0; k < predictions.size(); ++k)
      {
        data_out.add_data_vector(predictions[k].second, predictions[k].first);
        data_out.add_data_vector(errors[k],
                                 "error_" + predictions[k].first.substr(2));
      }
    data_out.build_patches();
    const std::string file = parameters.output_directory + "/spon_sample_" +
                             Utilities::int_to_string(sample, 3) + ".vtu";
    std::ofstream out(file);
    data_out.write_vtu(out);
    std::cout << "wrote " << file << std::endl;
  }

  template <int dim>
  void
  SPONTutorial<dim>::run()
  {
    if (parameters.mode == "generate")
      {
        AssertThrow(Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) == 1,
                    ExcMessage("spon: set Mode = generate runs on one "
                               "process (it writes the data file); only "
                               "predict runs under mpirun"));
        generate_data();
      }
    else
      predict();
  }
} // namespace SPON

int
main(int argc, char **argv)
{
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
  // Under mpirun every process computes the serial results; rank 0 prints.
  if (dealii::Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) != 0)
    std::cout.setstate(std::ios::failbit);
  try
    {
      dealii::ParameterHandler prm;
      SPON::Parameters::declare(prm);
      prm.parse_input(argc > 1 ? argv[1] : "spon.prm");
      SPON::Parameters parameters;
      parameters.parse(prm);
      SPON::SPONTutorial<2> tutorial(parameters);
      tutorial.run();
    }
  catch (std::exception &exc)
    {
      std::cerr << "\n----------------------------------------------------\n"
                << "Exception: " << exc.what() << "\n"
                << "----------------------------------------------------"
                << std::endl;
      // The other processes may be waiting for this one.
      if (dealii::Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD) > 1)
        MPI_Abort(MPI_COMM_WORLD, 1);
      return 1;
    }
  return 0;
}
