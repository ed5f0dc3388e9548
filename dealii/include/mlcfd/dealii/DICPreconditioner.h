// mlcfd: the core's DIC and MIC preconditioners for deal.II's solvers.
#ifndef MLCFD_DEALII_DIC_PRECONDITIONER_H
#define MLCFD_DEALII_DIC_PRECONDITIONER_H

#include "mlcfd/DICPreconditioner.h"
#include "mlcfd/dealii/LocalRows.h"

#include <deal.II/base/exceptions.h>
#include <deal.II/base/subscriptor.h>

#include <memory>
#include <string>

namespace mlcfd
{
namespace dealii
{

/**
 * Diagonal incomplete Cholesky in OpenFOAM's form, M = (D + L) D^-1 (D + L)^T,
 * as a deal.II preconditioner (vmult): DIC with AdditionalData::omega = 0,
 * modified IC (MIC) with 0 < omega <= 1 (see mlcfd::DICPreconditioner for
 * the recurrence and its safeguards). M is fixed and symmetric positive
 * definite, so SolverCG may use it.
 *
 * Works with Vector<double> (SparseMatrix<double>),
 * PETScWrappers::MPI::Vector (PETScWrappers::MPI::SparseMatrix) and
 * TrilinosWrappers::MPI::Vector (TrilinosWrappers::SparseMatrix); in parallel
 * each process factorises its own rows (block-Jacobi), as OpenFOAM's DIC.
 * The matrix must be symmetric with a positive diagonal.
 *
 * @code
 *   mlcfd::dealii::DICPreconditioner mic;
 *   mic.initialize(system_matrix, {0.97});
 *   SolverCG<Vector<double>> solver(control);
 *   solver.solve(system_matrix, solution, system_rhs, mic);
 * @endcode
 */
class DICPreconditioner : public ::dealii::Subscriptor
{
public:
    struct AdditionalData
    {
        /// 0: DIC; (0, 1]: MIC, the dropped fill-in moved to the diagonal
        double omega = 0;
    };

    /// Factorise the locally owned rows of @p matrix (the factor keeps its
    /// own copy of the triangles, not a reference to @p matrix).
    template<typename MatrixType>
    void initialize(const MatrixType& matrix, const AdditionalData& data = AdditionalData())
    {
        CSRMatrix local = internal::local_csr(matrix);
        local.sortRows();
        factor_.reset();
        try
        {
            factor_ = std::make_unique<::mlcfd::DICPreconditioner>(local, data.omega);
        }
        catch (const std::exception& e)
        {
            AssertThrow(
                false, ::dealii::ExcMessage(std::string("mlcfd::dealii::DICPreconditioner: ") + e.what()));
        }
    }

    /// dst = M^-1 src on the locally owned entries (dst and src must differ).
    template<typename VectorType> void vmult(VectorType& dst, const VectorType& src) const
    {
        using Access = internal::LocalValues<VectorType>;
        AssertThrow(
            factor_, ::dealii::ExcMessage("mlcfd::dealii::DICPreconditioner::vmult() before initialize()"));
        AssertThrow(
            &dst != &src, ::dealii::ExcMessage("mlcfd::dealii::DICPreconditioner::vmult() needs dst != src"));
        AssertThrow(Access::size(src) == factor_->rows() && Access::size(dst) == factor_->rows(),
            ::dealii::ExcDimensionMismatch(Access::size(src), factor_->rows()));
        const double* in = Access::read(src);
        double* out = Access::write(dst);
        factor_->apply(in, out);
        Access::release(dst, out);
        Access::release(src, in);
    }

    /// The factor (its reciprocal diagonal, replaced pivots); throws before
    /// initialize().
    const ::mlcfd::DICPreconditioner& factor() const
    {
        AssertThrow(
            factor_, ::dealii::ExcMessage("mlcfd::dealii::DICPreconditioner::factor() before initialize()"));
        return *factor_;
    }

private:
    std::unique_ptr<::mlcfd::DICPreconditioner> factor_;
};

} // namespace dealii
} // namespace mlcfd

#endif
