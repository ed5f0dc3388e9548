// mlcfd::dealii::ModelPreconditioner with deal.II, PETSc and Trilinos
// vectors: with the Jacobi reference model it is Jacobi, row for row and
// iteration for iteration in SolverFlexibleCG.
#include "mlcfd/ModelWriter.h"
#include "mlcfd/dealii/ModelPreconditioner.h"

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

#include <cstdlib>

#include "LaplaceTestMatrix.h"

#include <unistd.h>

using namespace dealii;
using namespace mlcfd_test;

namespace
{

const std::string& jacobiModel()
{
    static const std::string file = [] {
        const std::string f = std::string(MLCFD_TEST_SCRATCH_DIR) + "/"
            + std::to_string(::getpid()) + "_dealii_jacobi.pt";
        mlcfd::referenceModels::writeJacobi(f);
        return f;
    }();
    return file;
}

// Row-wise action and iteration counts against the backend's own Jacobi.
template <typename MatrixType, typename VectorType, typename JacobiType>
void checkAgainstJacobi(MatrixType& A, VectorType b)
{
    fillLaplace(A, complete_index_set(n*n));
    fillRhs(b, complete_index_set(n*n));

    mlcfd::dealii::ModelPreconditioner model;
    model.initialize(A, jacobiModel());
    JacobiType jacobi;
    jacobi.initialize(A);

    VectorType z_model(b), z_jacobi(b);
    model.vmult(z_model, b);
    jacobi.vmult(z_jacobi, b);
    for (unsigned int row = 0; row < n*n; ++row)
    {
        ASSERT_NEAR(z_model(row), b(row)/A.diag_element(row), 1e-15) << "row " << row;
        ASSERT_NEAR(z_model(row), z_jacobi(row), 1e-15) << "row " << row;
    }

    const auto iterations = [&](const auto& preconditioner, VectorType& x) {
        SolverControl control(1000, 1e-10*b.l2_norm());
        SolverFlexibleCG<VectorType> solver(control);
        x = 0;
        solver.solve(A, x, b, preconditioner);
        return control.last_step();
    };
    VectorType x_model(b), x_jacobi(b), x_none(b);
    const unsigned int with_model = iterations(model, x_model);
    const unsigned int with_jacobi = iterations(jacobi, x_jacobi);
    SolverControl control(1000, 1e-10*b.l2_norm());
    SolverCG<VectorType> cg(control);
    x_none = 0;
    cg.solve(A, x_none, b, PreconditionIdentity());
    const unsigned int without = control.last_step();
    // r/diag and r*(1/diag) agree to round-off: one iteration apart at most
    // (a broken model fails the row check above).
    EXPECT_LE(std::abs(int(with_model) - int(with_jacobi)), 1);
    EXPECT_LT(with_jacobi, without) << "the test matrix does not tell Jacobi from nothing";
    x_model -= x_jacobi;
    EXPECT_LT(x_model.linfty_norm(), 1e-10*x_jacobi.linfty_norm());
}

IndexSet allRows()
{
    return complete_index_set(n*n);
}

} // namespace


TEST(ModelPreconditioner, DealIIVectorsMatchPreconditionJacobi)
{
    SparseMatrix<double> A(laplaceSparsity());
    checkAgainstJacobi<SparseMatrix<double>, Vector<double>, PreconditionJacobi<>>
        (A, Vector<double>(n*n));
}

TEST(ModelPreconditioner, PETScVectorsMatchPETScJacobi)
{
    PETScWrappers::MPI::SparseMatrix A;
    A.reinit(allRows(), allRows(), laplaceSparsity(), MPI_COMM_WORLD);
    checkAgainstJacobi<PETScWrappers::MPI::SparseMatrix, PETScWrappers::MPI::Vector,
                       PETScWrappers::PreconditionJacobi>
        (A, PETScWrappers::MPI::Vector(allRows(), MPI_COMM_WORLD));
}

TEST(ModelPreconditioner, TrilinosVectorsMatchTrilinosJacobi)
{
    TrilinosWrappers::SparseMatrix A;
    A.reinit(allRows(), laplaceSparsity(), MPI_COMM_WORLD);
    checkAgainstJacobi<TrilinosWrappers::SparseMatrix, TrilinosWrappers::MPI::Vector,
                       TrilinosWrappers::PreconditionJacobi>
        (A, TrilinosWrappers::MPI::Vector(allRows(), MPI_COMM_WORLD));
}

TEST(ModelPreconditioner, RejectsModelsOfAnotherKind)
{
    const std::string file = std::string(MLCFD_TEST_SCRATCH_DIR) + "/"
        + std::to_string(::getpid()) + "_dealii_smagorinsky.pt";
    mlcfd::referenceModels::writeSmagorinsky(file);
    SparseMatrix<double> A(laplaceSparsity());
    fillLaplace(A, complete_index_set(n*n));
    mlcfd::dealii::ModelPreconditioner P;
    try
    {
        P.initialize(A, file);
        FAIL() << "no error for a closure model";
    }
    catch (const mlcfd::ModelError& e)
    {
        EXPECT_NE(std::string(e.what()).find(file), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("'kind' is 'eddyViscosity'"), std::string::npos);
    }
}

TEST(ModelPreconditioner, RejectsFeaturesItCannotProvide)
{
    mlcfd::ModelMetadata m;
    m.kind = "preconditioner";
    m.inputs = {"r", "rowSum"};
    m.outputs = {"z"};
    const std::string file = std::string(MLCFD_TEST_SCRATCH_DIR) + "/"
        + std::to_string(::getpid()) + "_dealii_rowsum.pt";
    mlcfd::writeModel(file, "def forward(self, x: Tensor) -> Tensor:\n"
                            "    return x[:, 0:1]\n", m);
    SparseMatrix<double> A(laplaceSparsity());
    fillLaplace(A, complete_index_set(n*n));
    mlcfd::dealii::ModelPreconditioner P;
    try
    {
        P.initialize(A, file);
        FAIL() << "no error for an unknown feature";
    }
    catch (const mlcfd::ModelError& e)
    {
        EXPECT_NE(std::string(e.what()).find("feature 'rowSum'"), std::string::npos) << e.what();
    }
}

TEST(ModelPreconditioner, RejectsVectorsOfTheWrongSize)
{
    SparseMatrix<double> A(laplaceSparsity());
    fillLaplace(A, complete_index_set(n*n));
    mlcfd::dealii::ModelPreconditioner P;
    P.initialize(A, jacobiModel());
    Vector<double> small(10), out(10);
    EXPECT_THROW(P.vmult(out, small), ExcDimensionMismatch);
}


int main(int argc, char** argv)
{
    Utilities::MPI::MPI_InitFinalize mpi(argc, argv, 1);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
