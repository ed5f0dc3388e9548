// mlcfd::dealii::LearnedPreconditioner (SolverFlexibleCG) and the PETSc
// PCSHELL adaptor (KSPFCG): with the Jacobi reference models they are
// Jacobi, row for row and iteration for iteration, with deal.II, PETSc and
// Trilinos vectors, on one MPI rank or several (the matrix rows are split
// into contiguous blocks); a network that uses the matrix graph sees the
// local rows and their local couplings; bad networks cannot make
// mlcfd::dealii::FlexibleCG worse than plain CG; misuse throws.
#include "mlcfd/dealii/DICPreconditioner.h"
#include "mlcfd/dealii/FlexibleCG.h"
#include "mlcfd/ModelError.h"
#include "mlcfd/ModelWriter.h"
#include "mlcfd/dealii/LearnedPreconditioner.h"
#include "mlcfd/petsc/DICPreconditioner.h"
#include "mlcfd/petsc/LearnedPreconditioner.h"

#include <deal.II/base/index_set.h>
#include <deal.II/base/mpi.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/petsc_precondition.h>
#include <deal.II/lac/precondition.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/solver_control.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/trilinos_precondition.h>

#include <gtest/gtest.h>

#include "LaplaceTestMatrix.h"

#include <unistd.h>

#include <cmath>
#include <functional>

using namespace dealii;
using namespace mlcfd_test;

namespace
{

std::string scratchFile(const std::string& name)
{
    return std::string(MLCFD_TEST_SCRATCH_DIR) + "/" + std::to_string(::getpid()) + "_"
           + std::to_string(Utilities::MPI::this_mpi_process(MPI_COMM_WORLD)) + "_" + name;
}

const std::string& graphJacobiModel()
{
    static const std::string file = []
    {
        const std::string f = scratchFile("graphJacobi.pt");
        mlcfd::referenceModels::writeGraphJacobi(f);
        return f;
    }();
    return file;
}

// 5-point Laplacian on an n x n grid (row = j + n*i, lexicographic) with a
// variable diagonal shift, so that Jacobi differs from unpreconditioned CG.
constexpr double tolerance = 1e-10;

// This rank's contiguous block of rows.
IndexSet ownedRows()
{
    const unsigned int ranks = Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD);
    const unsigned int rank = Utilities::MPI::this_mpi_process(MPI_COMM_WORLD);
    IndexSet owned(n * n);
    owned.add_range(rank * n * n / ranks, (rank + 1) * n * n / ranks);
    return owned;
}

template<typename VectorType, typename MatrixType, typename PreconditionerType>
unsigned int flexibleCGIterations(
    const MatrixType& A, const VectorType& b, const PreconditionerType& preconditioner, VectorType& x)
{
    SolverControl control(1000, tolerance * b.l2_norm());
    SolverFlexibleCG<VectorType> solver(control);
    x = 0;
    solver.solve(A, x, b, preconditioner);
    return control.last_step();
}

// The network with the Jacobi reference model against the backend's own
// Jacobi: the same action on every owned row, the same SolverFlexibleCG
// iterations and solution.
template<typename MatrixType, typename VectorType, typename JacobiType>
void checkAgainstJacobi(MatrixType& A, VectorType b, const IndexSet& owned,
    const std::string& model = graphJacobiModel(),
    const mlcfd::dealii::LearnedPreconditioner::AdditionalData& data = {})
{
    fillLaplace(A, owned);
    fillRhs(b, owned);

    mlcfd::dealii::LearnedPreconditioner network;
    network.initialize(A, model, data);
    ASSERT_EQ(network.get_network().rows(), owned.n_elements());
    JacobiType jacobi;
    jacobi.initialize(A);

    VectorType z_network(b), z_jacobi(b);
    network.vmult(z_network, b);
    jacobi.vmult(z_jacobi, b);
    for (const auto row : owned)
    {
        const double expected = b(row) / A.diag_element(row);
        ASSERT_NEAR(z_network(row), expected, 1e-14 * std::abs(expected)) << "row " << row;
        ASSERT_NEAR(z_network(row), z_jacobi(row), 1e-14 * std::abs(expected)) << "row " << row;
    }
    EXPECT_EQ(network.n_applications(), 1u);
    EXPECT_EQ(network.n_fallbacks(), 0u);

    VectorType x_network(b), x_jacobi(b);
    const unsigned int with_network = flexibleCGIterations(A, b, network, x_network);
    const unsigned int with_jacobi = flexibleCGIterations(A, b, jacobi, x_jacobi);
    // Equal to round-off, not bit for bit: one iteration apart at most
    // (a broken network fails the row check above and needs CG's count).
    EXPECT_LE(std::abs(int(with_network) - int(with_jacobi)), 1);
    EXPECT_EQ(network.n_applications(), 1u + with_network);
    EXPECT_GT(network.inference_seconds(), 0.0);

    // The matrix must tell Jacobi from no preconditioner.
    VectorType x_none(b);
    SolverControl control(1000, tolerance * b.l2_norm());
    SolverCG<VectorType> cg(control);
    x_none = 0;
    cg.solve(A, x_none, b, PreconditionIdentity());
    EXPECT_LT(with_jacobi, control.last_step());

    x_network -= x_jacobi;
    EXPECT_LT(x_network.linfty_norm(), 1e-10 * x_jacobi.linfty_norm());
}

// PETSc error codes as test failures.
#define PETSC_ASSERT(call) ASSERT_EQ((call), 0) << #call

// KSPFCG on A x = b with the unpreconditioned residual norm; @p setPC
// configures the preconditioner. Returns the iterations (-1: not converged).
int kspFCGIterations(const PETScWrappers::MPI::SparseMatrix& A, const PETScWrappers::MPI::Vector& b,
    PETScWrappers::MPI::Vector& x, const std::function<void(PC)>& setPC)
{
    KSP ksp;
    PetscInt iterations = -1;
    KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
    x = 0;
    EXPECT_EQ(KSPCreate(MPI_COMM_WORLD, &ksp), 0);
    EXPECT_EQ(KSPSetOperators(ksp, A, A), 0);
    EXPECT_EQ(KSPSetType(ksp, KSPFCG), 0);
    EXPECT_EQ(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED), 0);
    EXPECT_EQ(KSPSetTolerances(ksp, tolerance, 0.0, PETSC_DEFAULT, 1000), 0);
    PC pc;
    EXPECT_EQ(KSPGetPC(ksp, &pc), 0);
    setPC(pc);
    EXPECT_EQ(KSPSolve(ksp, b, x), 0);
    EXPECT_EQ(KSPGetIterationNumber(ksp, &iterations), 0);
    EXPECT_EQ(KSPGetConvergedReason(ksp, &reason), 0);
    EXPECT_GT(reason, 0) << "KSPFCG did not converge";
    EXPECT_EQ(KSPDestroy(&ksp), 0);
    return reason > 0 ? static_cast<int>(iterations) : -1;
}

struct PETScSystem
{
    IndexSet owned = ownedRows();
    PETScWrappers::MPI::SparseMatrix A;
    PETScWrappers::MPI::Vector b, x;

    PETScSystem()
    {
        A.reinit(owned, owned, laplaceSparsity(), MPI_COMM_WORLD);
        b.reinit(owned, MPI_COMM_WORLD);
        x.reinit(owned, MPI_COMM_WORLD);
        fillLaplace(A, owned);
        fillRhs(b, owned);
    }
};

// Bad networks in the graph contract (kind preconditionerGraph).
std::string writeBadModel(const std::string& name, const std::string& body)
{
    mlcfd::ModelMetadata m;
    m.kind = mlcfd::LearnedPreconditioner::graphKind;
    m.description = "a deliberately bad preconditioner (" + name + ")";
    m.inputs = {"residual"};
    m.outputs = {"z"};
    const std::string file = scratchFile(name + ".pt");
    mlcfd::writeModel(file,
        "def forward(self, x: Tensor, edgeIndex: Tensor, edgeWeight: Tensor) -> Tensor:\n"
        "    n = x.size(0)\n"
        "    index = torch.arange(n, dtype=x.dtype)\n"
        "    return "
            + body + "\n",
        m);
    return file;
}

// A linear graph network that uses the edges: one Neumann-series step for
// the scaled matrix I + W, z = y - W y, i.e. in the original variables
// z_i = r_i/A_ii - sum_j A_ij r_j/(A_ii A_jj) over the couplings j that the
// network sees.
const std::string& edgeModel()
{
    static const std::string file = []
    {
        mlcfd::ModelMetadata m;
        m.kind = mlcfd::LearnedPreconditioner::graphKind;
        m.description = "z = y - W y (one Neumann-series step)";
        m.inputs = {"residual"};
        m.outputs = {"z"};
        const std::string f = scratchFile("neumannStep.pt");
        mlcfd::writeModel(f,
            "def forward(self, x: Tensor, edgeIndex: Tensor, edgeWeight: Tensor) -> Tensor:\n"
            "    y = x[:, 0]\n"
            "    Wy = torch.zeros_like(y).index_add(0, edgeIndex[0], edgeWeight*y[edgeIndex[1]])\n"
            "    return y - Wy\n",
            m);
        return f;
    }();
    return file;
}

// The network receives the owned rows with the couplings between them only
// (off-process columns left out), numbered locally: checked through the
// edge-using network, whose output is known in closed form.
template<typename MatrixType, typename VectorType>
void checkLocalGraph(MatrixType& A, VectorType b, const IndexSet& owned)
{
    fillLaplace(A, owned);
    fillRhs(b, owned);
    mlcfd::dealii::LearnedPreconditioner network;
    network.initialize(A, edgeModel());
    VectorType z(b);
    network.vmult(z, b);
    for (const auto row : owned)
    {
        const double diagonal = laplaceRow(row).front().second;
        double expected = b(row) / diagonal;
        for (const auto& [column, value] : laplaceRow(row))
        {
            if (column != row && owned.is_element(column))
            {
                expected -= value * b(column) / (diagonal * laplaceRow(column).front().second);
            }
        }
        ASSERT_NEAR(z(row), expected, 1e-13 * std::abs(expected)) << "row " << row;
    }
}

} // namespace

TEST(LearnedPreconditioner, DealIIMatrixGraphReachesTheNetwork)
{
    SparseMatrix<double> A(laplaceSparsity());
    checkLocalGraph(A, Vector<double>(n * n), complete_index_set(n * n));
}

TEST(LearnedPreconditioner, PETScMatrixGraphReachesTheNetworkWithoutOffProcessColumns)
{
    const IndexSet owned = ownedRows();
    PETScWrappers::MPI::SparseMatrix A;
    A.reinit(owned, owned, laplaceSparsity(), MPI_COMM_WORLD);
    checkLocalGraph(A, PETScWrappers::MPI::Vector(owned, MPI_COMM_WORLD), owned);
}

TEST(LearnedPreconditioner, TrilinosMatrixGraphReachesTheNetworkWithoutOffProcessColumns)
{
    const IndexSet owned = ownedRows();
    TrilinosWrappers::SparseMatrix A;
    A.reinit(owned, laplaceSparsity(), MPI_COMM_WORLD);
    checkLocalGraph(A, TrilinosWrappers::MPI::Vector(owned, MPI_COMM_WORLD), owned);
}

TEST(LearnedPreconditioner, DealIIVectorsMatchPreconditionJacobi)
{
    SparseMatrix<double> A(laplaceSparsity());
    checkAgainstJacobi<SparseMatrix<double>, Vector<double>, PreconditionJacobi<>>(
        A, Vector<double>(n * n), complete_index_set(n * n));
}

TEST(LearnedPreconditioner, GridModelOnLexicographicRowsMatchesPreconditionJacobi)
{
    const std::string model = scratchFile("gridJacobi2.pt");
    mlcfd::referenceModels::writeGridJacobi(model, 2);
    SparseMatrix<double> A(laplaceSparsity());
    checkAgainstJacobi<SparseMatrix<double>, Vector<double>, PreconditionJacobi<>>(
        A, Vector<double>(n * n), complete_index_set(n * n), model, {"cpu", 0, {n, n}});
}

TEST(LearnedPreconditioner, PETScVectorsMatchPETScJacobi)
{
    const IndexSet owned = ownedRows();
    PETScWrappers::MPI::SparseMatrix A;
    A.reinit(owned, owned, laplaceSparsity(), MPI_COMM_WORLD);
    checkAgainstJacobi<PETScWrappers::MPI::SparseMatrix, PETScWrappers::MPI::Vector,
        PETScWrappers::PreconditionJacobi>(A, PETScWrappers::MPI::Vector(owned, MPI_COMM_WORLD), owned);
}

TEST(LearnedPreconditioner, TrilinosVectorsMatchTrilinosJacobi)
{
    const IndexSet owned = ownedRows();
    TrilinosWrappers::SparseMatrix A;
    A.reinit(owned, laplaceSparsity(), MPI_COMM_WORLD);
    checkAgainstJacobi<TrilinosWrappers::SparseMatrix, TrilinosWrappers::MPI::Vector,
        TrilinosWrappers::PreconditionJacobi>(A, TrilinosWrappers::MPI::Vector(owned, MPI_COMM_WORLD), owned);
}

TEST(LearnedPreconditioner, PETScPCShellInKSPFCGMatchesPCJacobi)
{
    PETScSystem system;
    std::shared_ptr<const mlcfd::LearnedPreconditioner> network;
    const int withShell = kspFCGIterations(system.A, system.b, system.x,
        [&](PC pc)
        {
            network = mlcfd::petsc::setLearnedPreconditioner(pc, system.A, graphJacobiModel());
            EXPECT_EQ(mlcfd::petsc::getLearnedPreconditioner(pc), network);
        });
    PETScWrappers::MPI::Vector xShell(system.x);
    const int withJacobi = kspFCGIterations(system.A, system.b, system.x,
        [](PC pc)
        {
            EXPECT_EQ(PCSetType(pc, PCJACOBI), 0);
            EXPECT_EQ(mlcfd::petsc::getLearnedPreconditioner(pc), nullptr);
        });
    const int without =
        kspFCGIterations(system.A, system.b, system.x, [](PC pc) { EXPECT_EQ(PCSetType(pc, PCNONE), 0); });
    ASSERT_GT(withShell, 0);
    // The shell's r/diag and PCJACOBI's r*(1/diag) agree to round-off: one
    // iteration apart at most, far from the unpreconditioned count.
    EXPECT_LE(std::abs(withShell - withJacobi), 1);
    EXPECT_LT(withJacobi, without);
    EXPECT_GE(network->applications(), static_cast<std::size_t>(withShell));
    EXPECT_EQ(network->fallbacks(), 0u);
    EXPECT_EQ(network->rows(), system.owned.n_elements());
}

TEST(LearnedPreconditioner, PETScDICShellMatchesTheDealIIClassAndMICBeatsIt)
{
    PETScSystem system;
    // A small diagonal shift: a diagonally dominant matrix leaves MIC nothing to gain.
    fillLaplace(system.A, system.owned, 0.1);
    std::shared_ptr<const mlcfd::DICPreconditioner> dic, mic;
    const int withDIC = kspFCGIterations(system.A, system.b, system.x,
        [&](PC pc)
        {
            dic = mlcfd::petsc::setDICPreconditioner(pc, system.A);
            EXPECT_EQ(mlcfd::petsc::getDICPreconditioner(pc), dic);
            EXPECT_EQ(mlcfd::petsc::getLearnedPreconditioner(pc), nullptr);
        });
    const int withMIC = kspFCGIterations(system.A, system.b, system.x,
        [&](PC pc) { mic = mlcfd::petsc::setDICPreconditioner(pc, system.A, 0.97); });
    const int withJacobi =
        kspFCGIterations(system.A, system.b, system.x, [](PC pc) { EXPECT_EQ(PCSetType(pc, PCJACOBI), 0); });
    std::cout << "KSP: Jacobi " << withJacobi << ", DIC shell " << withDIC << ", MIC shell " << withMIC
              << " iterations\n";
    ASSERT_GT(withDIC, 0);
    EXPECT_LT(withDIC, withJacobi);
    EXPECT_LT(withMIC, withDIC);
    EXPECT_EQ(dic->rows(), system.owned.n_elements());
    // The same factor as the deal.II class on the same rows.
    mlcfd::dealii::DICPreconditioner dealiiDIC;
    dealiiDIC.initialize(system.A);
    ASSERT_EQ(dealiiDIC.factor().reciprocalDiagonal().size(), dic->reciprocalDiagonal().size());
    for (std::size_t i = 0; i < dic->rows(); ++i)
    {
        ASSERT_EQ(dealiiDIC.factor().reciprocalDiagonal()[i], dic->reciprocalDiagonal()[i]) << "row " << i;
    }
}

TEST(LearnedPreconditioner, PETScPCShellIsReplacedAndSharedWithDealII)
{
    PETScSystem system;
    mlcfd::dealii::LearnedPreconditioner preconditioner;
    preconditioner.initialize(system.A, graphJacobiModel());
    const int iterations = kspFCGIterations(system.A, system.b, system.x,
        [&](PC pc)
        {
            // A first shell is replaced (and freed) by the second.
            mlcfd::petsc::setLearnedPreconditioner(pc, system.A, graphJacobiModel());
            mlcfd::petsc::setLearnedPreconditioner(pc, preconditioner.get_shared_network());
            EXPECT_EQ(mlcfd::petsc::getLearnedPreconditioner(pc), preconditioner.get_shared_network());
        });
    EXPECT_GT(iterations, 0);
    EXPECT_GE(preconditioner.n_applications(), static_cast<std::size_t>(iterations));
}

// Bad networks in mlcfd::dealii::FlexibleCG: never more iterations than
// deal.II's plain SolverCG (within one: the two CGs round differently), on
// the matrix and vector types of @p A and @p b, on every rank.
template<typename MatrixType, typename VectorType>
void checkBadNetworksInFlexibleCG(MatrixType& A, VectorType b, const IndexSet& owned)
{
    // A small diagonal shift: plain CG needs ~100 iterations, not ~20.
    fillLaplace(A, owned, 0.1);
    fillRhs(b, owned);
    VectorType x(b);

    SolverControl cgControl(1000, tolerance * b.l2_norm());
    SolverCG<VectorType> cg(cgControl);
    x = 0;
    cg.solve(A, x, b, PreconditionIdentity());
    const unsigned int plain = cgControl.last_step();

    const std::vector<std::pair<std::string, std::string>> bad{
        {"negated", "-x[:, 0]"},
        {"alternatingSigns", "(1.0 - 2.0*torch.remainder(index, 2.0))*x[:, 0]"},
        {"noise", "torch.sin(1000.0*x[:, 0] + index)"},
        {"zero", "torch.zeros_like(x[:, 0])"},
    };
    for (const auto& [name, body] : bad)
    {
        mlcfd::dealii::LearnedPreconditioner network;
        network.initialize(A, writeBadModel(name, body));
        SolverControl control(1000, tolerance * b.l2_norm());
        mlcfd::dealii::FlexibleCG<VectorType> solver(control);
        x = 0;
        solver.solve(A, x, b, network);
        const mlcfd::FlexibleCGResult& result = solver.last_result();
        std::cout << name << ": " << control.last_step() << " iterations (SolverCG " << plain << "), "
                  << network.n_applications()
                  << " network applications, plain CG's solution: " << (result.plainCG ? "yes" : "no")
                  << std::endl;
        EXPECT_TRUE(result.converged) << name;
        EXPECT_EQ(control.last_step(), result.iterations) << name;
        EXPECT_LE(control.last_step(), plain + 1) << name;
        EXPECT_LE(network.n_applications(), result.iterations) << name;
        VectorType r(b);
        A.vmult(r, x);
        r.sadd(-1.0, 1.0, b);
        EXPECT_LE(r.l2_norm(), 1.01 * tolerance * b.l2_norm()) << name;

        if constexpr (std::is_same_v<VectorType, Vector<double>>)
        {
            // For the record (not checked): deal.II's SolverFlexibleCG has
            // no such safeguard.
            SolverControl dealiiControl(1000, tolerance * b.l2_norm());
            SolverFlexibleCG<Vector<double>> dealiiSolver(dealiiControl);
            Vector<double> y(b.size());
            try
            {
                dealiiSolver.solve(A, y, b, network);
                std::cout << "  SolverFlexibleCG: " << dealiiControl.last_step() << " iterations"
                          << std::endl;
            }
            catch (const std::exception&)
            {
                std::cout << "  SolverFlexibleCG: failed after " << dealiiControl.last_step()
                          << " iterations, |r|/|b| = " << dealiiControl.last_value() / b.l2_norm()
                          << std::endl;
            }
        }
    }
}

TEST(LearnedPreconditioner, BadNetworksCannotMakeFlexibleCGWorseThanCG)
{
    SparseMatrix<double> A(laplaceSparsity());
    checkBadNetworksInFlexibleCG(A, Vector<double>(n * n), complete_index_set(n * n));
}

TEST(LearnedPreconditioner, BadNetworksCannotMakeTrilinosFlexibleCGWorseThanCG)
{
    const IndexSet owned = ownedRows();
    TrilinosWrappers::SparseMatrix A;
    A.reinit(owned, laplaceSparsity(), MPI_COMM_WORLD);
    checkBadNetworksInFlexibleCG(A, TrilinosWrappers::MPI::Vector(owned, MPI_COMM_WORLD), owned);
}

TEST(LearnedPreconditioner, FlexibleCGFollowsTheSolverControl)
{
    SparseMatrix<double> A(laplaceSparsity());
    fillLaplace(A, complete_index_set(n * n));
    Vector<double> b(n * n), x(n * n);
    fillRhs(b, complete_index_set(n * n));
    mlcfd::dealii::LearnedPreconditioner network;
    network.initialize(A, graphJacobiModel());

    // ReductionControl: its tolerance comes from the initial residual.
    ReductionControl reduction(1000, 0, 1e-6);
    mlcfd::dealii::FlexibleCG<Vector<double>> solver(reduction);
    solver.solve(A, x, b, network);
    EXPECT_LE(reduction.last_value(), 1.01e-6 * b.l2_norm());
    EXPECT_GT(reduction.last_step(), 2u);

    // Too few steps: deal.II's NoConvergence, as SolverCG throws it.
    SolverControl few(3, 1e-12 * b.l2_norm());
    mlcfd::dealii::FlexibleCG<Vector<double>> limited(few);
    x = 0;
    EXPECT_THROW(limited.solve(A, x, b, network), SolverControl::NoConvergence);
    EXPECT_EQ(few.last_step(), 3u);
}

// The classical controls: DIC and MIC in deal.II's SolverCG beat Jacobi,
// MIC beats DIC, on every rank's rows.
template<typename MatrixType, typename VectorType, typename JacobiType>
void checkDICAndMIC(MatrixType& A, VectorType b, const IndexSet& owned)
{
    fillLaplace(A, owned, 0.1);
    fillRhs(b, owned);
    const auto iterations = [&](const auto& preconditioner)
    {
        SolverControl control(1000, tolerance * b.l2_norm());
        SolverCG<VectorType> cg(control);
        VectorType x(b);
        x = 0;
        cg.solve(A, x, b, preconditioner);
        return control.last_step();
    };
    JacobiType jacobi;
    jacobi.initialize(A);
    mlcfd::dealii::DICPreconditioner dic, mic;
    dic.initialize(A);
    mic.initialize(A, {0.97});
    const unsigned int withJacobi = iterations(jacobi), withDIC = iterations(dic), withMIC = iterations(mic);
    std::cout << "Jacobi " << withJacobi << ", DIC " << withDIC << ", MIC(0.97) " << withMIC
              << " iterations\n";
    EXPECT_LT(withDIC, withJacobi);
    EXPECT_LT(withMIC, withDIC);
    EXPECT_EQ(dic.factor().replacedPivots(), 0u);
}

TEST(LearnedPreconditioner, DealIIDICAndMICBeatJacobi)
{
    SparseMatrix<double> A(laplaceSparsity());
    checkDICAndMIC<SparseMatrix<double>, Vector<double>, PreconditionJacobi<SparseMatrix<double>>>(
        A, Vector<double>(n * n), complete_index_set(n * n));
}

TEST(LearnedPreconditioner, TrilinosDICAndMICBeatJacobi)
{
    const IndexSet owned = ownedRows();
    TrilinosWrappers::SparseMatrix A;
    A.reinit(owned, laplaceSparsity(), MPI_COMM_WORLD);
    checkDICAndMIC<TrilinosWrappers::SparseMatrix, TrilinosWrappers::MPI::Vector,
        TrilinosWrappers::PreconditionJacobi>(A, TrilinosWrappers::MPI::Vector(owned, MPI_COMM_WORLD), owned);
}

TEST(LearnedPreconditioner, NonFiniteNetworkOutputBecomesJacobi)
{
    SparseMatrix<double> A(laplaceSparsity());
    const IndexSet all = complete_index_set(n * n);
    fillLaplace(A, all);
    Vector<double> b(n * n), z(n * n);
    fillRhs(b, all);
    mlcfd::dealii::LearnedPreconditioner network;
    network.initialize(A, writeBadModel("nan", "x[:, 0]*float('nan')"));
    network.vmult(z, b);
    EXPECT_EQ(network.n_fallbacks(), 1u);
    for (unsigned int row = 0; row < n * n; ++row)
    {
        ASSERT_NEAR(z(row), b(row) / A.diag_element(row), 1e-14 * std::abs(z(row))) << "row " << row;
    }
}

TEST(LearnedPreconditioner, MisuseThrows)
{
    SparseMatrix<double> A(laplaceSparsity());
    fillLaplace(A, complete_index_set(n * n));
    Vector<double> r(n * n), z(n * n), small(10);
    r = 1.0;

    mlcfd::dealii::LearnedPreconditioner network;
    EXPECT_FALSE(network.is_initialized());
    EXPECT_THROW(network.vmult(z, r), ExceptionBase);
    EXPECT_THROW(network.n_applications(), ExceptionBase);

    const std::string missing = scratchFile("no_such_model.pt");
    try
    {
        network.initialize(A, missing);
        ADD_FAILURE() << "no error for a missing model file";
    }
    catch (const mlcfd::ModelError& e)
    {
        EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    }

    network.initialize(A, graphJacobiModel());
    EXPECT_THROW(network.vmult(small, r), ExceptionBase);
    EXPECT_THROW(network.vmult(z, small), ExceptionBase);
    EXPECT_THROW(network.vmult(z, z), ExceptionBase);
    try
    {
        network.vmult(z, small);
    }
    catch (const ExceptionBase& e)
    {
        // (deal.II wraps the message's lines)
        EXPECT_NE(std::string(e.what()).find("src has 10 locally owned entries"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("1600 locally owned rows"), std::string::npos) << e.what();
    }
    network.vmult(z, r); // still usable

    // A grid model needs the grid; a grid that does not fit is named.
    const std::string grid = scratchFile("gridJacobi2_misuse.pt");
    mlcfd::referenceModels::writeGridJacobi(grid, 2);
    mlcfd::dealii::LearnedPreconditioner gridNetwork;
    EXPECT_THROW(gridNetwork.initialize(A, grid), std::invalid_argument);
    EXPECT_THROW(gridNetwork.initialize(A, grid, {"cpu", 0, {n, n + 1}}), std::invalid_argument);
}

TEST(LearnedPreconditioner, PETScPCShellReportsWrongSizesAsPETScErrors)
{
    PETScSystem system;
    // A shell built for a smaller matrix than the solve's.
    PETScWrappers::MPI::SparseMatrix small;
    IndexSet smallRows(20);
    const unsigned int ranks = Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD);
    const unsigned int rank = Utilities::MPI::this_mpi_process(MPI_COMM_WORLD);
    smallRows.add_range(rank * 20 / ranks, (rank + 1) * 20 / ranks);
    DynamicSparsityPattern dsp(20);
    for (unsigned int i = 0; i < 20; ++i) dsp.add(i, i);
    SparsityPattern diagonal;
    diagonal.copy_from(dsp);
    small.reinit(smallRows, smallRows, diagonal, MPI_COMM_WORLD);
    for (const auto row : smallRows) small.set(row, row, 2.0);
    small.compress(VectorOperation::insert);

    KSP ksp;
    PC pc;
    PETSC_ASSERT(KSPCreate(MPI_COMM_WORLD, &ksp));
    PETSC_ASSERT(KSPSetOperators(ksp, system.A, system.A));
    PETSC_ASSERT(KSPSetType(ksp, KSPFCG));
    PETSC_ASSERT(KSPGetPC(ksp, &pc));
    mlcfd::petsc::setLearnedPreconditioner(pc, small, graphJacobiModel());
    PETSC_ASSERT(PetscPushErrorHandler(PetscReturnErrorHandler, nullptr));
    const PetscErrorCode error = KSPSolve(ksp, system.b, system.x);
    PETSC_ASSERT(PetscPopErrorHandler());
    EXPECT_EQ(error, PETSC_ERR_ARG_SIZ);
    EXPECT_THROW(mlcfd::petsc::setLearnedPreconditioner(pc, nullptr), std::invalid_argument);
    PETSC_ASSERT(KSPDestroy(&ksp));
}

int main(int argc, char** argv)
{
    Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
