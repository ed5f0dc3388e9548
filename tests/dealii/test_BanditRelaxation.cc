// mlcfd::dealii::BanditRelaxation on 2 MPI ranks: one omega for all ranks,
// learned from the reduced cost, with deal.II, PETSc and Trilinos SSOR.
#include "mlcfd/dealii/BanditRelaxation.h"
#include "TridiagonalSystem.h"

#include <deal.II/base/index_set.h>
#include <deal.II/base/mpi.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/petsc_precondition.h>
#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>
#include <deal.II/lac/precondition.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/trilinos_vector.h>
#include <deal.II/lac/vector.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

using namespace dealii;
using mlcfd::RelaxationSettings;
using namespace tridiagonal_system;

namespace
{

// A sequence of shifted systems solved by CG with the bandit's SSOR.
template<typename PreconditionerType, typename MatrixType, typename VectorType>
void solveSequence(MatrixType& A, const IndexSet& rows, VectorType& x, VectorType& b)
{
    RelaxationSettings settings;
    mlcfd::dealii::BanditRelaxation<PreconditionerType> bandit("tsallisInf", settings, MPI_COMM_WORLD);
    for (unsigned int k = 0; k < 30; ++k)
    {
        fill(A, rows, 0.01 * (k % 5));
        for (const auto i : rows) b(i) = 1.0 + (i % 7);
        b.compress(VectorOperation::insert);
        x = 0;
        SolverControl control(2000, 1e-8 * b.l2_norm());
        const unsigned int iterations = bandit.template solve<SolverCG<VectorType>>(control, A, x, b);
        EXPECT_GT(iterations, 0u);
        ASSERT_TRUE(sameOnAllRanks(bandit.omega())) << "solve " << k;
    }
    EXPECT_EQ(bandit.solves(), 30u);
    if (rank() == 0)
    {
        ASSERT_NE(bandit.get_policy(), nullptr);
        EXPECT_EQ(bandit.get_policy()->rounds(), 30u);
    }
    else
    {
        EXPECT_EQ(bandit.get_policy(), nullptr);
    }
}

} // namespace

TEST(BanditRelaxation, OneOmegaForAllRanksFromTheMaximumCost)
{
    // Every rank solves its own copy, but reports a rank-dependent cost: the
    // policy (rank 0) must see the maximum and all ranks the same omega.
    SparsityPattern pattern;
    pattern.copy_from(tridiagonal());
    SparseMatrix<double> A(pattern);
    fill(A, complete_index_set(n), 0.0);
    RelaxationSettings settings;
    mlcfd::dealii::BanditRelaxation<PreconditionSSOR<SparseMatrix<double>>> bandit(
        "tsallisInf", settings, MPI_COMM_WORLD);
    for (unsigned int k = 0; k < 40; ++k)
    {
        bandit.initialize(A);
        ASSERT_TRUE(sameOnAllRanks(bandit.omega())) << "solve " << k;
        bandit.observe(10.0 + rank() + k % 3);
    }
    EXPECT_DOUBLE_EQ(bandit.cost(),
        []
        {
            double total = 0;
            for (unsigned int k = 0; k < 40; ++k) total += 10.0 + (ranks() - 1) + k % 3;
            return total;
        }());
}

TEST(BanditRelaxation, DealIISSOR)
{
    SparsityPattern pattern;
    pattern.copy_from(tridiagonal());
    SparseMatrix<double> A(pattern);
    Vector<double> x(n), b(n);
    solveSequence<PreconditionSSOR<SparseMatrix<double>>>(A, complete_index_set(n), x, b);
}

TEST(BanditRelaxation, PETScSSOR)
{
    PETScWrappers::MPI::SparseMatrix A;
    A.reinit(owned(), owned(), tridiagonal(), MPI_COMM_WORLD);
    PETScWrappers::MPI::Vector x(owned(), MPI_COMM_WORLD), b(owned(), MPI_COMM_WORLD);
    solveSequence<PETScWrappers::PreconditionSSOR>(A, owned(), x, b);
}

TEST(BanditRelaxation, TrilinosSSOR)
{
    TrilinosWrappers::SparseMatrix A;
    A.reinit(owned(), owned(), tridiagonal(), MPI_COMM_WORLD);
    TrilinosWrappers::MPI::Vector x(owned(), MPI_COMM_WORLD), b(owned(), MPI_COMM_WORLD);
    solveSequence<TrilinosWrappers::PreconditionSSOR>(A, owned(), x, b);
}

TEST(BanditRelaxation, SavedStateContinues)
{
    const std::string file =
        std::string(MLCFD_TEST_SCRATCH_DIR) + "/bandit_state_"
        + std::to_string(Utilities::MPI::broadcast(MPI_COMM_WORLD, static_cast<int>(::getpid()), 0));
    SparsityPattern pattern;
    pattern.copy_from(tridiagonal());
    SparseMatrix<double> A(pattern);
    fill(A, complete_index_set(n), 0.0);
    RelaxationSettings settings;
    using Bandit = mlcfd::dealii::BanditRelaxation<PreconditionSSOR<SparseMatrix<double>>>;
    Bandit first("tsallisInf", settings, MPI_COMM_WORLD), second("tsallisInf", settings, MPI_COMM_WORLD);
    for (unsigned int k = 0; k < 25; ++k)
    {
        first.initialize(A);
        first.observe(20.0 + 5 * first.omega());
    }
    first.save(file);
    MPI_Barrier(MPI_COMM_WORLD);
    second.load(file);
    for (unsigned int k = 0; k < 25; ++k)
    {
        first.initialize(A);
        second.initialize(A);
        ASSERT_EQ(first.omega(), second.omega()) << "round " << k << " after load";
        first.observe(20.0 + 5 * first.omega());
        second.observe(20.0 + 5 * second.omega());
    }
    if (rank() == 0) std::remove(file.c_str());
}

int main(int argc, char** argv)
{
    Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
    ::testing::InitGoogleTest(&argc, argv);
    // Only rank 0 prints, so that ctest shows one report.
    if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) != 0)
    {
        auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
    }
    return RUN_ALL_TESTS();
}
