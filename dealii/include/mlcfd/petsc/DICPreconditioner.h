// mlcfd: the core's DIC and MIC preconditioners as a PETSc PCSHELL.
#ifndef MLCFD_PETSC_DIC_PRECONDITIONER_H
#define MLCFD_PETSC_DIC_PRECONDITIONER_H

#include "mlcfd/DICPreconditioner.h"
#include "mlcfd/petsc/LearnedPreconditioner.h" // the shell, localCSR

#include <memory>

namespace mlcfd
{
namespace petsc
{

namespace internal
{
struct DICName
{
    static const char* get() { return "mlcfd DIC/MIC preconditioner"; }
};
} // namespace internal

/**
 * Make @p pc a PCSHELL applying mlcfd::DICPreconditioner to the local rows
 * of @p A (localCSR(), block-Jacobi across processes): DIC for @p omega = 0
 * (PETSc's PCICC with zero fill in OpenFOAM's form), MIC for 0 < omega <= 1.
 * The factor is fixed and symmetric positive definite, so KSPCG may use it.
 * Returns the factor (replaced pivots, the diagonal). Throws, naming the
 * cause, for a matrix it cannot factorise.
 *
 * @code
 *   KSPSetType(ksp, KSPCG);
 *   KSPGetPC(ksp, &pc);
 *   mlcfd::petsc::setDICPreconditioner(pc, A, 0.97);
 * @endcode
 */
inline std::shared_ptr<const DICPreconditioner> setDICPreconditioner(PC pc, Mat A, double omega = 0)
{
    CSRMatrix local = localCSR(A);
    local.sortRows();
    auto factor = std::make_shared<const DICPreconditioner>(local, omega);
    internal::setShell<DICPreconditioner, internal::DICName>(pc, factor, nullptr);
    return factor;
}

/// The factor @p pc applies, or nullptr if @p pc is not a shell made by
/// setDICPreconditioner().
inline std::shared_ptr<const DICPreconditioner> getDICPreconditioner(PC pc)
{
    return internal::getShell<DICPreconditioner, internal::DICName>(pc);
}

} // namespace petsc
} // namespace mlcfd

#endif
