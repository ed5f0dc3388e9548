/* ---------------------------------------------------------------------
 * Learned preconditioners for CG against IC-PCG and algebraic multigrid
 * (issue 5, benchmark on structured grids and dumped systems).
 *
 * Systems: the cell-centred finite-volume Poisson matrix on uniform grids
 * of unit spacing, x fastest (row = i + nx*(j + ny*k)): off-diagonals -1
 * between neighbouring cells, diagonal = number of neighbours, plus 2 per
 * Dirichlet boundary face (OpenFOAM's fixedValue: the face value sits half
 * a cell away) and nothing per Neumann face (the matrix is then singular
 * with the constants as null space, and the right-hand side is made zero
 * mean so that the system is consistent). The right-hand side is a seeded
 * random vector. Dumped systems (mlcfd-csr-system files, e.g. OpenFOAM
 * pressure systems) are read with mlcfd::readCSRSystem.
 *
 * Every solver starts from x = 0 and stops at |r|/|b| <= tolerance (2-norm
 * of the unpreconditioned residual in all of them):
 *  - CG          unpreconditioned conjugate gradients
 *  - DIC-PCG     CG with OpenFOAM's DICPreconditioner (diagonal incomplete
 *                Cholesky), the same arithmetic in the same order
 *  - ML          deal.II TrilinosWrappers::PreconditionAMG (Trilinos ML,
 *                smoothed aggregation for elliptic problems, 2 Chebyshev
 *                sweeps, KLU on the coarsest level) + deal.II SolverCG
 *  - GAMG        PETSc KSPCG + PCGAMG (PETSc's defaults)
 *  - BoomerAMG   PETSc KSPCG + PCHYPRE boomeramg (strong threshold 0.25 in
 *                2D, 0.5 in 3D, HMIS coarsening, ext+i interpolation)
 *  - grid, graph mlcfd::FlexibleCG (2 kept directions, per-step comparison
 *                with the CG direction, safeguard: plain CG alongside, the
 *                first to converge wins) with
 *                mlcfd::LearnedPreconditioner and the grid (CNN) or graph
 *                model; grid-plain, graph-plain: the network alone
 * Setup (hierarchy, factorisation, model load and scaling) and solve are
 * timed apart, in wall and in CPU time (all on one thread: CPU time is the
 * cost on an idle core); the network's share of the solve
 * (LearnedPreconditioner::inferenceSeconds) is reported separately. The
 * true residual b - A x is recomputed after each solve and reported.
 *
 * Writes <output>.md (markdown table), <output>.csv (one line per solve,
 * for tests) and <output>_history.csv (|r|/|b| per iteration, for the
 * convergence plots of plot_convergence.py). Run with --help for options.
 * --------------------------------------------------------------------- */

#include <deal.II/base/index_set.h>
#include <deal.II/base/mpi.h>

#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/trilinos_vector.h>

#include <petscksp.h>

#include "mlcfd/CSRMatrix.h"
#include "mlcfd/ConjugateGradient.h"
#include "mlcfd/DICPreconditioner.h"
#include "mlcfd/FlexibleCG.h"
#include "mlcfd/LearnedPreconditioner.h"
#include "mlcfd/GridMatrices.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace dealii;

namespace
{
/// Wall and CPU seconds of one stage. CPU time (the process's, every
/// solver runs on one thread) is what the stage costs on an idle core: the
/// benchmark machine may be shared, which stretches wall time only.
struct Timing
{
    double wall = 0, cpu = 0;
};

class Stopwatch
{
public:
    Stopwatch() : wall_start(std::chrono::steady_clock::now()), cpu_start(cpu_now()) {}

    Timing elapsed() const
    {
        return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count(),
            cpu_now() - cpu_start};
    }

private:
    static double cpu_now()
    {
        timespec t;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        return t.tv_sec + 1e-9 * t.tv_nsec;
    }

    std::chrono::steady_clock::time_point wall_start;
    double cpu_start;
};

/// A linear system with what the solvers need to know about it.
struct LinearSystem
{
    std::string name;
    mlcfd::CSRMatrix matrix;
    std::vector<double> rhs;
    /// cells per direction (x first); empty for a dumped system without grid
    std::vector<std::int64_t> grid;
    /// the constants span the null space (pure Neumann)
    bool singular = false;
};

using mlcfd::PoissonBoundary;

/// The finite-volume Poisson matrix on a uniform grid (see the file
/// header) with a seeded random right-hand side, zero mean for Neumann.
LinearSystem poisson_system(
    const std::vector<std::int64_t>& grid, const PoissonBoundary boundary, const unsigned int seed)
{
    const std::int64_t nx = grid[0], ny = grid[1], nz = grid.size() > 2 ? grid[2] : 1;

    LinearSystem system;
    system.grid = grid;
    system.singular = boundary == PoissonBoundary::neumann;
    std::ostringstream name;
    name << nx << 'x' << ny;
    if (grid.size() > 2) name << 'x' << nz;
    name << (boundary == PoissonBoundary::dirichlet ? " Dirichlet" : " Neumann");
    system.name = name.str();

    system.matrix = mlcfd::poissonMatrix(grid, boundary);
    const mlcfd::CSRMatrix& A = system.matrix;

    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    system.rhs.resize(A.rows);
    for (double& v : system.rhs) v = uniform(random);
    if (system.singular)
    {
        double mean = 0;
        for (const double v : system.rhs) mean += v;
        mean /= A.rows;
        for (double& v : system.rhs) v -= mean;
    }
    return system;
}

/// A dumped system; singular when every row sums to zero (no reference
/// level, pure Neumann), which the AMG solvers are told.
LinearSystem dumped_system(const std::string& path, const std::vector<std::int64_t>& grid)
{
    LinearSystem system;
    mlcfd::readCSRSystem(path, system.matrix, system.rhs);
    system.name = path.substr(path.find_last_of('/') + 1);
    system.grid = grid;
    if (!grid.empty())
    {
        std::int64_t cells = 1;
        for (const std::int64_t n : grid) cells *= n;
        if (cells != static_cast<std::int64_t>(system.matrix.rows))
            throw std::invalid_argument("--csr " + path + ": the grid has " + std::to_string(cells)
                                        + " cells but the system " + std::to_string(system.matrix.rows)
                                        + " rows");
    }
    const mlcfd::CSRMatrix& A = system.matrix;
    double max_diag = 0, max_row_sum = 0;
    for (std::size_t row = 0; row < A.rows; ++row)
    {
        double sum = 0;
        for (auto e = A.rowStart[row]; e < A.rowStart[row + 1]; ++e)
        {
            sum += A.value[e];
            if (A.column[e] == static_cast<std::int64_t>(row))
                max_diag = std::max(max_diag, std::abs(A.value[e]));
        }
        max_row_sum = std::max(max_row_sum, std::abs(sum));
    }
    system.singular = max_row_sum <= 1e-12 * max_diag;
    return system;
}

double norm(const std::vector<double>& v)
{
    double sum = 0;
    for (const double a : v) sum += a * a;
    return std::sqrt(sum);
}

double true_relative_residual(const LinearSystem& system, const double* x)
{
    std::vector<double> r(system.matrix.rows);
    system.matrix.multiply(x, r.data());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = system.rhs[i] - r[i];
    return norm(r) / norm(system.rhs);
}

/// Settings shared by all solvers.
struct SolveSettings
{
    double tolerance = 1e-6;
    unsigned int max_iterations = 20000;
};

/// What a solve reports; NaN for what does not apply.
struct SolveRecord
{
    std::string system, solver;
    bool converged = false;
    unsigned int iterations = 0;
    Timing setup, solve;
    double inference_seconds = std::numeric_limits<double>::quiet_NaN();
    double true_residual = std::numeric_limits<double>::quiet_NaN();
    std::string note;
    std::vector<double> history; // |r|/|b|, first entry the initial 1
};

/// mlcfd::conjugateGradient (OpenFOAM's PCG: z = M r; p = z + beta p)
/// from x = 0 with the 2-norm relative residual test.
void conjugate_gradients(const LinearSystem& system, const mlcfd::ConjugateGradient::Preconditioner& M,
    const SolveSettings& settings, SolveRecord& record)
{
    const mlcfd::CSRMatrix& A = system.matrix;
    std::vector<double> x(A.rows, 0.0);
    mlcfd::CGSettings cg_settings;
    cg_settings.relativeTolerance = settings.tolerance;
    cg_settings.maxIterations = settings.max_iterations;

    const Stopwatch watch;
    const mlcfd::CGResult result = mlcfd::conjugateGradient(
        [&A](const std::vector<double>& v, std::vector<double>& Av) { A.multiply(v.data(), Av.data()); }, M,
        system.rhs, x, cg_settings);
    record.solve = watch.elapsed();
    record.iterations = result.iterations;
    record.converged = result.converged;
    record.history = result.history;
    record.true_residual = true_relative_residual(system, x.data());
}

void solve_cg(const LinearSystem& system, const SolveSettings& settings, SolveRecord& record)
{
    conjugate_gradients(system, mlcfd::ConjugateGradient::Preconditioner(), settings, record);
}

void solve_dic_pcg(const LinearSystem& system, const SolveSettings& settings, SolveRecord& record)
{
    const Stopwatch watch;
    const mlcfd::DICPreconditioner dic(system.matrix);
    record.setup = watch.elapsed();
    conjugate_gradients(
        system, [&dic](const std::vector<double>& r, std::vector<double>& z) { dic.apply(r, z); }, settings,
        record);
}

/// Trilinos ML smoothed aggregation (elliptic, Chebyshev smoother, KLU on
/// the coarsest level) in deal.II's SolverCG. Pure Neumann systems get no
/// special treatment: KLU factorised their singular coarse matrices in
/// these runs without breaking down (the table shows whether CG converged).
void solve_trilinos_ml(const LinearSystem& system, const SolveSettings& settings, SolveRecord& record)
{
    const mlcfd::CSRMatrix& A = system.matrix;
    std::vector<unsigned int> entries_per_row(A.rows);
    for (std::size_t row = 0; row < A.rows; ++row)
        entries_per_row[row] = A.rowStart[row + 1] - A.rowStart[row];
    TrilinosWrappers::SparseMatrix matrix(A.rows, A.rows, entries_per_row);
    std::vector<types::global_dof_index> columns;
    for (std::size_t row = 0; row < A.rows; ++row)
    {
        columns.assign(A.column.begin() + A.rowStart[row], A.column.begin() + A.rowStart[row + 1]);
        matrix.set(row, columns.size(), columns.data(), A.value.data() + A.rowStart[row]);
    }
    matrix.compress(VectorOperation::insert);

    TrilinosWrappers::MPI::Vector x(matrix.locally_owned_domain_indices(), matrix.get_mpi_communicator());
    TrilinosWrappers::MPI::Vector b(matrix.locally_owned_range_indices(), matrix.get_mpi_communicator());
    for (std::size_t i = 0; i < A.rows; ++i) b[i] = system.rhs[i];
    b.compress(VectorOperation::insert);

    Stopwatch watch;
    TrilinosWrappers::PreconditionAMG amg;
    TrilinosWrappers::PreconditionAMG::AdditionalData data;
    data.elliptic = true;
    data.higher_order_elements = false;
    data.smoother_sweeps = 2;
    data.smoother_type = "Chebyshev";
    data.coarse_type = "Amesos-KLU";
    amg.initialize(matrix, data);
    record.setup = watch.elapsed();

    SolverControl control(settings.max_iterations, settings.tolerance * b.l2_norm());
    control.enable_history_data();
    SolverCG<TrilinosWrappers::MPI::Vector> cg(control);
    watch = Stopwatch();
    try
    {
        cg.solve(matrix, x, b, amg);
        record.converged = true;
    }
    catch (const SolverControl::NoConvergence&)
    {
        record.converged = false;
    }
    record.solve = watch.elapsed();
    record.iterations = control.last_step();
    for (const double residual : control.get_history_data()) record.history.push_back(residual / b.l2_norm());
    std::vector<double> solution(A.rows);
    for (std::size_t i = 0; i < A.rows; ++i) solution[i] = x[i];
    record.true_residual = true_relative_residual(system, solution.data());
}

void check_petsc(const PetscErrorCode error, const char* call)
{
    if (error != 0)
        throw std::runtime_error(
            std::string("PETSc error in ") + call + " (code " + std::to_string(error) + ")");
}

/// KSPCG with a PETSc preconditioner (PCGAMG or PCHYPRE boomeramg), the
/// unpreconditioned residual norm and rtol relative to |b| (x0 = 0). A
/// singular system gets the constants as null space (MatSetNullSpace).
void solve_petsc(const LinearSystem& system, const std::string& preconditioner, const SolveSettings& settings,
    SolveRecord& record)
{
    const mlcfd::CSRMatrix& A = system.matrix;
    const PetscInt n = A.rows;
    std::vector<PetscInt> row_start(A.rowStart.begin(), A.rowStart.end());
    std::vector<PetscInt> column(A.column.begin(), A.column.end());
    std::vector<PetscScalar> value(A.value.begin(), A.value.end());

    Mat matrix;
    check_petsc(MatCreateSeqAIJWithArrays(
                    PETSC_COMM_SELF, n, n, row_start.data(), column.data(), value.data(), &matrix),
        "MatCreateSeqAIJWithArrays");
    MatNullSpace null_space = nullptr;
    if (system.singular)
    {
        check_petsc(
            MatNullSpaceCreate(PETSC_COMM_SELF, PETSC_TRUE, 0, nullptr, &null_space), "MatNullSpaceCreate");
        check_petsc(MatSetNullSpace(matrix, null_space), "MatSetNullSpace");
        record.note = "MatSetNullSpace(constants)";
    }
    Vec x, b;
    check_petsc(VecCreateSeq(PETSC_COMM_SELF, n, &x), "VecCreateSeq");
    check_petsc(VecDuplicate(x, &b), "VecDuplicate");
    PetscScalar* b_array;
    check_petsc(VecGetArray(b, &b_array), "VecGetArray");
    std::copy(system.rhs.begin(), system.rhs.end(), b_array);
    check_petsc(VecRestoreArray(b, &b_array), "VecRestoreArray");
    check_petsc(VecSet(x, 0.0), "VecSet");

    KSP ksp;
    PC pc;
    check_petsc(KSPCreate(PETSC_COMM_SELF, &ksp), "KSPCreate");
    check_petsc(KSPSetOperators(ksp, matrix, matrix), "KSPSetOperators");
    check_petsc(KSPSetType(ksp, KSPCG), "KSPSetType");
    check_petsc(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED), "KSPSetNormType");
    check_petsc(KSPSetTolerances(ksp, settings.tolerance, 0.0, PETSC_DEFAULT, settings.max_iterations),
        "KSPSetTolerances");
    std::vector<PetscReal> history(settings.max_iterations + 1);
    check_petsc(
        KSPSetResidualHistory(ksp, history.data(), history.size(), PETSC_TRUE), "KSPSetResidualHistory");
    check_petsc(KSPGetPC(ksp, &pc), "KSPGetPC");
    if (preconditioner == "GAMG")
        check_petsc(PCSetType(pc, PCGAMG), "PCSetType(gamg)");
    else
    {
        // hypre's advice for 3D Laplacians: a higher strength threshold,
        // HMIS coarsening with extended+i interpolation
        check_petsc(PCSetType(pc, PCHYPRE), "PCSetType(hypre)");
        check_petsc(PCHYPRESetType(pc, "boomeramg"), "PCHYPRESetType");
        const bool three_d = system.grid.size() == 3 || system.grid.empty();
        PetscOptionsSetValue(nullptr, "-bench_pc_hypre_boomeramg_strong_threshold", three_d ? "0.5" : "0.25");
        PetscOptionsSetValue(nullptr, "-bench_pc_hypre_boomeramg_coarsen_type", "HMIS");
        PetscOptionsSetValue(nullptr, "-bench_pc_hypre_boomeramg_interp_type", "ext+i");
        PetscOptionsSetValue(nullptr, "-bench_pc_hypre_boomeramg_P_max", "4");
    }
    // PETSC_OPTIONS="-bench_..." adjusts any of this from outside
    check_petsc(KSPSetOptionsPrefix(ksp, "bench_"), "KSPSetOptionsPrefix");
    check_petsc(KSPSetFromOptions(ksp), "KSPSetFromOptions");

    Stopwatch watch;
    check_petsc(KSPSetUp(ksp), "KSPSetUp");
    check_petsc(PCSetUp(pc), "PCSetUp");
    record.setup = watch.elapsed();

    watch = Stopwatch();
    check_petsc(KSPSolve(ksp, b, x), "KSPSolve");
    record.solve = watch.elapsed();

    PetscInt iterations;
    KSPConvergedReason reason;
    PetscInt history_length;
    check_petsc(KSPGetIterationNumber(ksp, &iterations), "KSPGetIterationNumber");
    check_petsc(KSPGetConvergedReason(ksp, &reason), "KSPGetConvergedReason");
    check_petsc(KSPGetResidualHistory(ksp, nullptr, &history_length), "KSPGetResidualHistory");
    record.iterations = iterations;
    record.converged = reason > 0;
    const double b_norm = norm(system.rhs);
    for (PetscInt i = 0; i < history_length; ++i) record.history.push_back(history[i] / b_norm);

    const PetscScalar* x_array;
    check_petsc(VecGetArrayRead(x, &x_array), "VecGetArrayRead");
    record.true_residual = true_relative_residual(system, x_array);
    check_petsc(VecRestoreArrayRead(x, &x_array), "VecRestoreArrayRead");

    KSPDestroy(&ksp);
    VecDestroy(&x);
    VecDestroy(&b);
    if (null_space) MatNullSpaceDestroy(&null_space);
    MatDestroy(&matrix);
}

/// mlcfd::FlexibleCG with a network preconditioner.
void solve_learned(const LinearSystem& system, const std::string& model,
    const mlcfd::LearnedPreconditionerOptions& options, const mlcfd::FlexibleCGSettings& flexible,
    const double time_limit, SolveRecord& record)
{
    // The first load in a process pays LibTorch's start-up, which is no
    // part of a preconditioner's setup: load once untimed, then time.
    static bool torch_started = false;
    if (!torch_started)
    {
        mlcfd::LearnedPreconditioner(model, system.matrix, options);
        torch_started = true;
    }
    Stopwatch watch;
    mlcfd::LearnedPreconditioner M(model, system.matrix, options);
    record.setup = watch.elapsed();

    const mlcfd::CSRMatrix& A = system.matrix;
    mlcfd::FlexibleCG solver(flexible);
    std::vector<double> x(A.rows, 0.0);
    const double b_norm = norm(system.rhs);
    watch = Stopwatch();
    const mlcfd::FlexibleCGResult result = solver.solve(
        [&A](const std::vector<double>& in, std::vector<double>& out) { A.multiply(in.data(), out.data()); },
        [&M](const std::vector<double>& r, std::vector<double>& z) { M.apply(r, z); }, system.rhs, x,
        mlcfd::FlexibleCG::Dot(),
        // with a time limit: the relative tolerance, or the time is up
        time_limit > 0 ? mlcfd::FlexibleCG::Converged([&](const std::vector<double>& r, std::size_t)
            { return norm(r) <= flexible.relativeTolerance * b_norm || watch.elapsed().wall > time_limit; })
                       : mlcfd::FlexibleCG::Converged());
    record.solve = watch.elapsed();
    record.inference_seconds = M.inferenceSeconds();
    record.iterations = result.iterations;
    record.converged = result.history.back() <= flexible.relativeTolerance;
    record.history = result.history;
    record.true_residual = true_relative_residual(system, x.data());
    std::ostringstream note;
    note << M.device();
    if (result.fallbacks > 0)
        note << "; " << result.fallbacks << " of " << result.iterations
             << " network outputs useless (residual used)";
    if (result.plainCG) note << "; plain CG (safeguard) finished first";
    if (result.abandonedAt > 0) note << "; network abandoned after " << result.abandonedAt << " iterations";
    if (M.fallbacks() > 0) note << "; " << M.fallbacks() << " non-finite outputs";
    if (!record.converged && time_limit > 0 && record.solve.wall > time_limit)
        note << "; stopped at the time limit";
    record.note = note.str();
}

std::vector<std::string> split(const std::string& text, const char separator)
{
    std::vector<std::string> parts;
    std::stringstream stream(text);
    std::string part;
    while (std::getline(stream, part, separator))
        if (!part.empty()) parts.push_back(part);
    return parts;
}

/// "64x64x64" -> {64, 64, 64}
std::vector<std::int64_t> parse_grid(const std::string& text, const std::string& option)
{
    std::vector<std::int64_t> grid;
    for (const std::string& part : split(text, 'x'))
    {
        std::size_t end = 0;
        long long n = 0;
        try
        {
            n = std::stoll(part, &end);
        }
        catch (const std::exception&)
        {
            end = 0;
        }
        if (end != part.size() || n < 1)
            throw std::invalid_argument(
                option + " '" + text + "': expected cells per direction such as 64x64x64");
        grid.push_back(n);
    }
    if (grid.size() != 2 && grid.size() != 3)
        throw std::invalid_argument(option + " '" + text + "': 2 or 3 directions expected");
    if (grid[0] * grid[1] * (grid.size() > 2 ? grid[2] : 1) < 2)
        throw std::invalid_argument(option + " '" + text + "': at least 2 cells expected");
    return grid;
}

struct Options
{
    std::vector<std::vector<std::int64_t>> grids;
    std::vector<PoissonBoundary> boundaries = {PoissonBoundary::dirichlet, PoissonBoundary::neumann};
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> dumped;
    std::vector<std::string> solvers = {"CG", "DIC-PCG", "ML", "GAMG", "BoomerAMG", "grid", "graph"};
    std::string grid2d_model = "models/preconditioner/grid2d.pt";
    std::string grid3d_model = "models/preconditioner/grid3d.pt";
    std::string graph_model = "models/preconditioner/graph.pt";
    std::string output = "learned_preconditioner";
    std::string write_systems;
    double time_limit = 0;
    unsigned int seed = 1;
    SolveSettings settings;
    mlcfd::FlexibleCGSettings flexible;
    mlcfd::LearnedPreconditionerOptions learned;
};

const char* const usage =
    "learned_preconditioner_bench [options]\n"
    "  --quick                 64x64 and 16x16x16 grids (end-to-end check)\n"
    "  --grids G,G,...         grids such as 256x256,64x64x64\n"
    "                          (default 256x256,512x512,64x64x64,128x128x128)\n"
    "  --boundaries B,B        dirichlet,neumann (default both)\n"
    "  --csr FILE[:NXxNY[xNZ]] a dumped mlcfd-csr-system (repeatable); with a\n"
    "                          grid the grid models run on it too\n"
    "  --no-grids              only the --csr systems\n"
    "  --solvers S,S,...       of CG,DIC-PCG,ML,GAMG,BoomerAMG,grid,graph (default),\n"
    "                          grid-plain,graph-plain (FlexibleCG without safeguard)\n"
    "  --grid2d-model FILE     (default models/preconditioner/grid2d.pt)\n"
    "  --grid3d-model FILE     (default models/preconditioner/grid3d.pt)\n"
    "  --graph-model FILE      (default models/preconditioner/graph.pt)\n"
    "  --threads N             LibTorch threads (default 1)\n"
    "  --device cpu|cuda       where the networks run (default cpu)\n"
    "  --kept-directions N     FlexibleCG (default 2)\n"
    "  --no-safeguard          FlexibleCG without the CG-direction safeguard\n"
    "  --tolerance T           relative residual (default 1e-6)\n"
    "  --max-iterations N      (default 20000; the networks get at most twice\n"
    "                          CG's iterations + 10 when CG ran first)\n"
    "  --seed N                right-hand side (default 1)\n"
    "  --output PREFIX         writes PREFIX.md, PREFIX.csv, PREFIX_history.csv\n"
    "                          (default learned_preconditioner)\n"
    "  --write-systems DIR     also dump the grid systems as DIR/<system>.csr\n"
    "  --time-limit S          stop a network's solve after S s wall (default 0: none)\n";

Options parse_options(int argc, char** argv)
{
    Options options;
    options.learned.threads = 1;
    bool quick = false, no_grids = false;
    for (int a = 1; a < argc; ++a)
    {
        const std::string option = argv[a];
        auto value = [&]() -> std::string
        {
            if (a + 1 >= argc) throw std::invalid_argument(option + ": value missing\n" + usage);
            return argv[++a];
        };
        auto number = [&]()
        {
            const std::string text = value();
            try
            {
                return std::stod(text);
            }
            catch (const std::exception&)
            {
                throw std::invalid_argument(option + " '" + text + "': a number expected");
            }
        };
        if (option == "--help" || option == "-h")
        {
            std::cout << usage;
            std::exit(0);
        }
        else if (option == "--quick")
            quick = true;
        else if (option == "--grids")
        {
            options.grids.clear();
            for (const std::string& g : split(value(), ','))
                options.grids.push_back(parse_grid(g, "--grids"));
        }
        else if (option == "--boundaries")
        {
            options.boundaries.clear();
            for (const std::string& b : split(value(), ','))
                if (b == "dirichlet")
                    options.boundaries.push_back(PoissonBoundary::dirichlet);
                else if (b == "neumann")
                    options.boundaries.push_back(PoissonBoundary::neumann);
                else
                    throw std::invalid_argument("--boundaries '" + b + "': dirichlet or neumann expected");
        }
        else if (option == "--csr")
        {
            const std::string text = value();
            const std::size_t colon = text.rfind(':');
            if (colon == std::string::npos)
                options.dumped.emplace_back(text, std::vector<std::int64_t>());
            else
                options.dumped.emplace_back(
                    text.substr(0, colon), parse_grid(text.substr(colon + 1), "--csr"));
        }
        else if (option == "--no-grids")
            no_grids = true;
        else if (option == "--solvers")
        {
            options.solvers = split(value(), ',');
            for (const std::string& s : options.solvers)
                if (s != "CG" && s != "DIC-PCG" && s != "ML" && s != "GAMG" && s != "BoomerAMG" && s != "grid"
                    && s != "graph" && s != "grid-plain" && s != "graph-plain")
                    throw std::invalid_argument("--solvers '" + s + "': unknown solver\n" + usage);
        }
        else if (option == "--grid2d-model")
            options.grid2d_model = value();
        else if (option == "--grid3d-model")
            options.grid3d_model = value();
        else if (option == "--graph-model")
            options.graph_model = value();
        else if (option == "--threads")
            options.learned.threads = number();
        else if (option == "--device")
            options.learned.device = value();
        else if (option == "--kept-directions")
            options.flexible.keptDirections = number();
        else if (option == "--no-safeguard")
            options.flexible.safeguard = false;
        else if (option == "--tolerance")
            options.settings.tolerance = number();
        else if (option == "--max-iterations")
            options.settings.max_iterations = number();
        else if (option == "--seed")
            options.seed = number();
        else if (option == "--output")
            options.output = value();
        else if (option == "--time-limit")
            options.time_limit = number();
        else if (option == "--write-systems")
            options.write_systems = value();
        else
            throw std::invalid_argument("unknown option '" + option + "'\n" + usage);
    }
    if (options.grids.empty() && !no_grids)
        options.grids = quick ? std::vector<std::vector<std::int64_t>>{{64, 64}, {16, 16, 16}}
                              : std::vector<std::vector<std::int64_t>>{
                                  {256, 256}, {512, 512}, {64, 64, 64}, {128, 128, 128}};
    if (no_grids) options.grids.clear();
    options.flexible.relativeTolerance = options.settings.tolerance;
    options.flexible.maxIterations = options.settings.max_iterations;
    return options;
}

std::string solver_label(const std::string& solver, const LinearSystem& system)
{
    if (solver == "DIC-PCG") return "DIC-PCG (OpenFOAM DIC; this program)";
    if (solver == "ML") return "Trilinos ML AMG + CG (deal.II)";
    if (solver == "GAMG") return "PETSc GAMG + KSPCG";
    if (solver == "BoomerAMG") return "hypre BoomerAMG + KSPCG (PETSc)";
    const std::string plain = solver.find("-plain") != std::string::npos ? ", no safeguard" : "";
    if (solver.rfind("grid", 0) == 0)
        return "FlexibleCG + grid CNN (" + std::to_string(system.grid.size()) + "D" + plain + ")";
    if (solver.rfind("graph", 0) == 0)
        return plain.empty() ? "FlexibleCG + graph net" : "FlexibleCG + graph net (no safeguard)";
    return "CG";
}

std::string format(const double value, const int precision = 3)
{
    if (std::isnan(value)) return "-";
    std::ostringstream out;
    out << std::setprecision(precision) << value;
    return out.str();
}

/// A CSV field, quoted when it holds a separator or a quote.
std::string csv(const std::string& field)
{
    if (field.find_first_of(",\"\n") == std::string::npos) return field;
    std::string quoted = "\"";
    for (const char c : field) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + '"';
}

void write_outputs(const Options& options, const std::vector<SolveRecord>& records)
{
    std::ofstream table(options.output + ".md");
    table << "| system | solver | iterations | iterations / DIC-PCG | setup s | solve s "
             "| network s | CPU s (setup + solve) | true \\|r\\|/\\|b\\| | notes |\n"
          << "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const SolveRecord& record : records)
    {
        double dic_iterations = std::numeric_limits<double>::quiet_NaN();
        for (const SolveRecord& other : records)
            if (other.system == record.system && other.solver.rfind("DIC-PCG", 0) == 0 && other.converged)
                dic_iterations = other.iterations;
        table << "| " << record.system << " | " << record.solver << " | " << record.iterations
              << (record.converged ? "" : " (not converged)") << " | "
              << format(record.converged ? record.iterations / dic_iterations
                                         : std::numeric_limits<double>::quiet_NaN(),
                     2)
              << " | " << format(record.setup.wall) << " | " << format(record.solve.wall) << " | "
              << format(record.inference_seconds) << " | " << format(record.setup.cpu + record.solve.cpu)
              << " | " << format(record.true_residual, 2) << " | " << record.note << " |\n";
    }

    std::ofstream summary(options.output + ".csv");
    summary << "system,solver,converged,iterations,setup_s,solve_s,network_s,setup_cpu_s,"
               "solve_cpu_s,true_residual,note\n";
    std::ofstream history(options.output + "_history.csv");
    history << "system,solver,iteration,relative_residual\n";
    for (const SolveRecord& record : records)
    {
        summary << csv(record.system) << ',' << csv(record.solver) << ',' << record.converged << ','
                << record.iterations << ',' << record.setup.wall << ',' << record.solve.wall << ','
                << format(record.inference_seconds, 6) << ',' << record.setup.cpu << ',' << record.solve.cpu
                << ',' << record.true_residual << ',' << csv(record.note) << '\n';
        for (std::size_t i = 0; i < record.history.size(); ++i)
            history << csv(record.system) << ',' << csv(record.solver) << ',' << i << ',' << record.history[i]
                    << '\n';
    }
}
} // namespace

int main(int argc, char** argv)
{
    try
    {
        // MPI for Trilinos and PETSc (serial runs: one rank).
        Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
        const Options options = parse_options(argc, argv);

        std::vector<LinearSystem> systems;
        for (const auto& grid : options.grids)
            for (const PoissonBoundary boundary : options.boundaries)
                systems.push_back(poisson_system(grid, boundary, options.seed));
        if (!options.write_systems.empty())
            for (const LinearSystem& system : systems)
            {
                std::string file = system.name;
                std::replace(file.begin(), file.end(), ' ', '_');
                mlcfd::writeCSRSystem(options.write_systems + "/" + file + ".csr", system.matrix, system.rhs);
            }
        for (const auto& [path, grid] : options.dumped) systems.push_back(dumped_system(path, grid));

        std::vector<SolveRecord> records;
        for (const LinearSystem& system : systems)
            for (const std::string& solver : options.solvers)
            {
                const bool grid_model = solver.rfind("grid", 0) == 0;
                if (grid_model && system.grid.empty()) continue;
                SolveRecord record;
                record.system = system.name;
                record.solver = solver_label(solver, system);
                std::cout << "[" << system.name << ", " << system.matrix.rows << " rows] " << record.solver
                          << " ..." << std::flush;
                if (solver == "CG")
                    solve_cg(system, options.settings, record);
                else if (solver == "DIC-PCG")
                    solve_dic_pcg(system, options.settings, record);
                else if (solver == "ML")
                    solve_trilinos_ml(system, options.settings, record);
                else if (solver == "GAMG" || solver == "BoomerAMG")
                    solve_petsc(system, solver, options.settings, record);
                else
                {
                    mlcfd::LearnedPreconditionerOptions learned = options.learned;
                    mlcfd::FlexibleCGSettings flexible = options.flexible;
                    std::string model = options.graph_model;
                    if (solver.find("-plain") != std::string::npos)
                    {
                        flexible.safeguard = false;
                        flexible.compareWithCG = false;
                    }
                    // A network that does not beat CG has failed: stop it at
                    // twice CG's iterations (an unsafeguarded one may stall).
                    for (const SolveRecord& cg : records)
                        if (cg.system == system.name && cg.solver == "CG" && cg.converged)
                            flexible.maxIterations =
                                std::min<std::size_t>(flexible.maxIterations, 2 * cg.iterations + 10);
                    if (grid_model)
                    {
                        learned.grid = system.grid;
                        model = system.grid.size() == 2 ? options.grid2d_model : options.grid3d_model;
                    }
                    solve_learned(system, model, learned, flexible, options.time_limit, record);
                    record.solver += " " + model.substr(model.find_last_of('/') + 1);
                }
                std::cout << " " << record.iterations << " iterations"
                          << (record.converged ? "" : " (NOT CONVERGED)") << ", setup "
                          << format(record.setup.wall) << " s, solve " << format(record.solve.wall)
                          << " s (CPU " << format(record.solve.cpu) << " s)";
                if (!std::isnan(record.inference_seconds))
                    std::cout << " (network " << format(record.inference_seconds) << " s)";
                std::cout << ", true |r|/|b| " << format(record.true_residual, 2) << std::endl;
                records.push_back(std::move(record));
                // the table so far, so that an interrupted run leaves its results
                write_outputs(options, records);
            }
        write_outputs(options, records);

        bool all_converged = true;
        for (const SolveRecord& record : records) all_converged = all_converged && record.converged;
        return all_converged ? 0 : 2;
    }
    catch (const std::exception& error)
    {
        std::cerr << "learned_preconditioner_bench: " << error.what() << std::endl;
        return 1;
    }
}
