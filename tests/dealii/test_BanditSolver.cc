// mlcfd::dealii::BanditSolver: one candidate for all ranks, a slow candidate
// abandoned, a failing one finished by the backstop, state saved and loaded.
#include "mlcfd/dealii/BanditSolver.h"
#include "TridiagonalSystem.h"

#include <deal.II/base/index_set.h>
#include <deal.II/base/mpi.h>
#include <deal.II/lac/dynamic_sparsity_pattern.h>
#include <deal.II/lac/precondition.h>
#include <deal.II/lac/solver_cg.h>
#include <deal.II/lac/sparse_matrix.h>
#include <deal.II/lac/sparsity_pattern.h>
#include <deal.II/lac/trilinos_precondition.h>
#include <deal.II/lac/trilinos_sparse_matrix.h>
#include <deal.II/lac/trilinos_vector.h>
#include <deal.II/lac/vector.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <unistd.h>

using namespace dealii;
using namespace tridiagonal_system;

namespace
{

using Matrix = SparseMatrix<double>;
using Vec = Vector<double>;
using Bandit = mlcfd::dealii::BanditSolver<Matrix, Vec>;

// A serial system: the shifted 1D Laplacian (shift 0.01: CG with SSOR in a
// few dozen iterations) and its right-hand side.
struct SerialSystem
{
    SparsityPattern pattern;
    Matrix A;
    Vec x, b;
    SerialSystem() : x(n), b(n)
    {
        pattern.copy_from(tridiagonal());
        A.reinit(pattern);
        fill(A, complete_index_set(n), 0.01);
        for (unsigned int i = 0; i < n; ++i) b(i) = 1.0 + (i % 7);
    }
    double residual() const
    {
        Vec r(n);
        A.residual(r, x, b);
        return r.l2_norm() / b.l2_norm();
    }
};

Bandit::Candidate ssor(const double omega)
{
    return mlcfd::dealii::solver_with<SolverCG<Vec>, PreconditionSSOR<Matrix>, Matrix, Vec>(
        PreconditionSSOR<Matrix>::AdditionalData(omega));
}

// A candidate that stops after 3 iterations, as one with too small a maxIter.
Bandit::Candidate capped()
{
    const Bandit::Candidate candidate = ssor(1.2);
    return [candidate](SolverControl& control, const Matrix& A, Vec& x, const Vec& b, const bool changed)
    {
        SolverControl three(3, control.tolerance());
        return candidate(three, A, x, b, changed);
    };
}

} // namespace

TEST(BanditSolver, OneCandidateForAllRanksWithTrilinos)
{
    using TMatrix = TrilinosWrappers::SparseMatrix;
    using TVec = TrilinosWrappers::MPI::Vector;
    TMatrix A;
    A.reinit(owned(), owned(), tridiagonal(), MPI_COMM_WORLD);
    TVec x(owned(), MPI_COMM_WORLD), b(owned(), MPI_COMM_WORLD);
    mlcfd::dealii::BanditSolver<TMatrix, TVec> bandit(
        "gaussianTS", mlcfd::RelaxationSettings(), MPI_COMM_WORLD);
    using namespace mlcfd::dealii;
    bandit.add_candidate(
        "SSOR", solver_with<SolverCG<TVec>, TrilinosWrappers::PreconditionSSOR, TMatrix, TVec>());
    bandit.add_candidate(
        "Jacobi", solver_with<SolverCG<TVec>, TrilinosWrappers::PreconditionJacobi, TMatrix, TVec>());
    bandit.add_candidate(
        "AMG", solver_with<SolverCG<TVec>, TrilinosWrappers::PreconditionAMG, TMatrix, TVec>());
    std::string stretchCandidate;
    for (unsigned int k = 0; k < 30; ++k)
    {
        // The matrix changes every fifth solve.
        if (k % 5 == 0) fill(A, owned(), 0.01 * (1 + k / 5));
        for (const auto i : owned()) b(i) = 1.0 + (i % 7);
        b.compress(VectorOperation::insert);
        x = 0;
        SolverControl control(2000, 1e-8 * b.l2_norm());
        bandit.solve(control, A, x, b, k % 5 == 0);
        // One candidate per matrix.
        if (k % 5 == 0) stretchCandidate = bandit.last_candidate();
        EXPECT_EQ(bandit.last_candidate(), stretchCandidate) << "solve " << k;
        const auto& names = bandit.candidate_names();
        const double index = std::find(names.begin(), names.end(), bandit.last_candidate()) - names.begin();
        ASSERT_TRUE(sameOnAllRanks(index)) << "solve " << k;
        ASSERT_TRUE(sameOnAllRanks(bandit.last_seconds())) << "solve " << k;
        TVec r(owned(), MPI_COMM_WORLD);
        A.residual(r, x, b);
        EXPECT_LE(r.l2_norm(), 1.01e-8 * b.l2_norm()) << "solve " << k;
    }
    EXPECT_EQ(bandit.solves(), 30u);
    // Each candidate once, in order, first.
    for (const std::size_t plays : bandit.plays()) EXPECT_GE(plays, 1u);
    if (rank() == 0)
    {
        // One decision per matrix; the sixth stretch not learnt from yet.
        EXPECT_EQ(bandit.get_policy()->rounds(), 5u);
    }
    else
    {
        EXPECT_EQ(bandit.get_policy(), nullptr);
    }
}

TEST(BanditSolver, ASlowCandidateIsAbandoned)
{
    SerialSystem s;
    Bandit bandit;
    bandit.set_decide_per_matrix(false); // one matrix: a decision per solve
    bandit.add_candidate("SSOR", ssor(1.2));
    // The same solve, then 20 ms more: far dearer than the solve itself.
    const Bandit::Candidate fast = ssor(1.2);
    bandit.add_candidate("slow",
        [fast](SolverControl& control, const Matrix& A, Vec& x, const Vec& b, const bool changed)
        {
            const unsigned int iterations = fast(control, A, x, b, changed);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            return iterations;
        });
    bandit.add_candidate(
        "Jacobi", mlcfd::dealii::solver_with<SolverCG<Vec>, PreconditionJacobi<Matrix>, Matrix, Vec>());
    for (unsigned int k = 0; k < 40; ++k)
    {
        s.x = 0;
        SolverControl control(2000, 1e-10 * s.b.l2_norm());
        bandit.solve(control, s.A, s.x, s.b, k == 0);
        EXPECT_LT(s.residual(), 1e-9);
    }
    // Once in the first round; measured: never again.
    EXPECT_LE(bandit.plays()[1], 2u);
    EXPECT_GE(bandit.plays()[0] + bandit.plays()[2], 38u);
}

TEST(BanditSolver, TheBackstopFinishesAFailingCandidate)
{
    SerialSystem s;
    Bandit bandit;
    bandit.add_candidate("SSOR", ssor(1.2));
    bandit.add_candidate("capped", capped());
    bandit.set_backstop("SSOR");
    for (unsigned int k = 0; k < 2; ++k)
    {
        s.x = 0;
        SolverControl control(2000, 1e-10 * s.b.l2_norm());
        bandit.solve(control, s.A, s.x, s.b);
        EXPECT_LT(s.residual(), 1e-9) << "solve " << k << " by " << bandit.last_candidate();
        EXPECT_EQ(bandit.last_fell_back(), k == 1);
    }
    EXPECT_EQ(bandit.fallbacks(), 1u);

    // Without a working backstop the caller hears of it.
    Bandit failing;
    failing.add_candidate("capped", capped());
    s.x = 0;
    SolverControl control(2000, 1e-10 * s.b.l2_norm());
    EXPECT_THROW(failing.solve(control, s.A, s.x, s.b), SolverControl::NoConvergence);
    EXPECT_EQ(failing.solves(), 1u);
}

TEST(BanditSolver, SavedStateContinues)
{
    const std::string file =
        std::string(MLCFD_TEST_SCRATCH_DIR) + "/bandit_solver_state_"
        + std::to_string(Utilities::MPI::broadcast(MPI_COMM_WORLD, static_cast<int>(::getpid()), 0)) + "_"
        + std::to_string(rank()); // serial bandits: one file per rank
    SerialSystem s;
    auto make = []
    {
        auto bandit = std::make_unique<Bandit>();
        bandit->set_decide_per_matrix(false);
        for (const double omega : {1.0, 1.3, 1.6})
            bandit->add_candidate("SSOR " + std::to_string(omega), ssor(omega));
        return bandit;
    };
    auto first = make(), second = make();
    for (unsigned int k = 0; k < 12; ++k)
    {
        s.x = 0;
        SolverControl control(2000, 1e-10 * s.b.l2_norm());
        first->solve(control, s.A, s.x, s.b, k == 0);
    }
    first->save(file);
    second->load(file);
    EXPECT_EQ(second->get_policy()->rounds(), 12u);
    EXPECT_EQ(second->get_policy()->state(), first->get_policy()->state());
    // The next choice depends on the state alone: the same.
    s.x = 0;
    SolverControl c1(2000, 1e-10 * s.b.l2_norm()), c2(2000, 1e-10 * s.b.l2_norm());
    first->solve(c1, s.A, s.x, s.b);
    s.x = 0;
    second->solve(c2, s.A, s.x, s.b);
    EXPECT_EQ(first->last_candidate(), second->last_candidate());

    // Another list of candidates refuses the file.
    Bandit other;
    other.add_candidate(
        "Jacobi", mlcfd::dealii::solver_with<SolverCG<Vec>, PreconditionJacobi<Matrix>, Matrix, Vec>());
    EXPECT_THROW(other.load(file), ExcMessage);
    std::remove(file.c_str());
}

TEST(BanditSolver, RejectsBadUse)
{
    SerialSystem s;
    Bandit bandit;
    SolverControl control(2000, 1e-10 * s.b.l2_norm());
    EXPECT_THROW(bandit.solve(control, s.A, s.x, s.b), ExcMessage); // no candidate
    bandit.add_candidate("SSOR", ssor(1.2));
    EXPECT_THROW(bandit.add_candidate("SSOR", ssor(1.0)), ExcMessage);
    EXPECT_THROW(bandit.set_backstop("AMG"), ExcMessage);
    bandit.solve(control, s.A, s.x, s.b);
    EXPECT_THROW(bandit.add_candidate("late", ssor(1.0)), ExcMessage);
    Bandit smooth("chebTS");
    smooth.add_candidate("SSOR", ssor(1.2));
    EXPECT_THROW(smooth.solve(control, s.A, s.x, s.b), std::invalid_argument);
}

int main(int argc, char** argv)
{
    Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
    ::testing::InitGoogleTest(&argc, argv);
    if (Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) != 0)
    {
        auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
    }
    return RUN_ALL_TESTS();
}
