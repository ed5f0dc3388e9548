// mlcfd: a learned preconditioner as a PETSc PCSHELL (for KSPFCG).
#ifndef MLCFD_PETSC_LEARNED_PRECONDITIONER_H
#define MLCFD_PETSC_LEARNED_PRECONDITIONER_H

#include "mlcfd/LearnedPreconditioner.h"

#include <petscksp.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace mlcfd
{
/**
 * PETSc adaptor of mlcfd::LearnedPreconditioner; needs only PETSc.
 *
 * The network's z ~ A^-1 r becomes the action of a PCSHELL, so any PETSc
 * Krylov method can use it. A network is in general nonlinear and not
 * symmetric: use a flexible method, KSPFCG (flexible CG; KSPFCGSetMmax sets
 * how many directions it keeps) or KSPFGMRES, not KSPCG.
 *
 * Each process applies the network to its own rows: the matrix handed to the
 * network holds the locally owned rows with the columns of the same process
 * (the diagonal block), as for block Jacobi.
 *
 * @code
 *   KSP ksp;
 *   KSPCreate(PETSC_COMM_WORLD, &ksp);
 *   KSPSetOperators(ksp, A, A);
 *   KSPSetType(ksp, KSPFCG);
 *   PC pc;
 *   KSPGetPC(ksp, &pc);
 *   mlcfd::petsc::setLearnedPreconditioner(pc, A, "graph.pt");
 *   KSPSolve(ksp, b, x);
 *   // statistics: mlcfd::petsc::getLearnedPreconditioner(pc)->applications()
 * @endcode
 *
 * Errors of these functions (PETSc errors, a bad model file, a matrix with a
 * non-positive diagonal) are C++ exceptions naming the cause. Inside
 * KSPSolve the shell's apply turns them into PETSc errors (the message goes
 * through PETSc's error handler; KSPSolve returns a non-zero code).
 */
namespace petsc
{

/// The name PCView shows for the shell (also how getLearnedPreconditioner()
/// recognises it).
inline const char* shellName()
{
    return "mlcfd learned preconditioner";
}

namespace internal
{
/// Throws std::runtime_error naming @p call and PETSc's message for a
/// non-zero @p error.
inline void check(PetscErrorCode error, const char* call)
{
    if (error == 0) return;
    const char* text = nullptr;
    PetscErrorMessage(error, &text, nullptr);
    throw std::runtime_error(std::string("mlcfd::petsc: ") + call + " failed with PETSc error "
                             + std::to_string(error)
                             + (text ? std::string(" (") + text + ")" : std::string()));
}

/// A PCSHELL around an object with rows() and apply(const double*, double*)
/// (LearnedPreconditioner, DICPreconditioner), which the shell keeps alive;
/// @p Name::get() is the shell's name (PCView, and how get... recognise it).
template<typename T> using Context = std::shared_ptr<const T>;

template<typename T, typename Name> PetscErrorCode applyShell(PC pc, Vec r, Vec z)
{
    void* raw = nullptr;
    PetscErrorCode error = PCShellGetContext(pc, &raw);
    if (error) return error;
    const T& object = **static_cast<Context<T>*>(raw);

    PetscInt rLocal = 0, zLocal = 0;
    if ((error = VecGetLocalSize(r, &rLocal))) return error;
    if ((error = VecGetLocalSize(z, &zLocal))) return error;
    const auto rows = static_cast<PetscInt>(object.rows());
    if (rLocal != rows || zLocal != rows)
    {
        SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_ARG_SIZ,
            "%s: vectors have %d and %d local entries but the"
            " matrix it was built from has %d local rows",
            Name::get(), static_cast<int>(rLocal), static_cast<int>(zLocal), static_cast<int>(rows));
    }

    const PetscScalar* in = nullptr;
    PetscScalar* out = nullptr;
    if ((error = VecGetArrayRead(r, &in))) return error;
    if ((error = VecGetArrayWrite(z, &out))) return error;
    std::string failure;
    try
    {
        object.apply(in, out);
    }
    catch (const std::exception& e)
    {
        failure = e.what();
    }
    if ((error = VecRestoreArrayWrite(z, &out))) return error;
    if ((error = VecRestoreArrayRead(r, &in))) return error;
    if (!failure.empty())
    {
        SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_LIB, "%s: %s", Name::get(),
            failure.c_str());
    }
    return 0;
}

template<typename T> PetscErrorCode destroyShell(PC pc)
{
    void* raw = nullptr;
    const PetscErrorCode error = PCShellGetContext(pc, &raw);
    if (error) return error;
    delete static_cast<Context<T>*>(raw);
    return PCShellSetContext(pc, nullptr);
}

/// Make @p pc a shell applying @p object; replaces an earlier shell.
template<typename T, typename Name>
void setShell(PC pc, std::shared_ptr<const T> object, PetscErrorCode (*view)(PC, PetscViewer))
{
    // PCSetType does nothing for the same type: go through PCNONE so that an
    // earlier shell is destroyed together with its context.
    PetscBool isShell = PETSC_FALSE;
    check(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(pc), PCSHELL, &isShell),
        "PetscObjectTypeCompare");
    if (isShell) check(PCSetType(pc, PCNONE), "PCSetType(PCNONE)");
    check(PCSetType(pc, PCSHELL), "PCSetType(PCSHELL)");

    check(PCShellSetDestroy(pc, destroyShell<T>), "PCShellSetDestroy");
    auto context = std::make_unique<Context<T>>(std::move(object));
    check(PCShellSetContext(pc, context.get()), "PCShellSetContext");
    context.release(); // owned by the shell now: destroyShell deletes it
    check(PCShellSetApply(pc, applyShell<T, Name>), "PCShellSetApply");
    if (view) check(PCShellSetView(pc, view), "PCShellSetView");
    check(PCShellSetName(pc, Name::get()), "PCShellSetName");
}

/// The object of a shell made by setShell<T, Name>, or nullptr.
template<typename T, typename Name> std::shared_ptr<const T> getShell(PC pc)
{
    PetscBool isShell = PETSC_FALSE;
    check(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(pc), PCSHELL, &isShell),
        "PetscObjectTypeCompare");
    if (!isShell) return nullptr;
    const char* name = nullptr;
    check(PCShellGetName(pc, &name), "PCShellGetName");
    if (!name || std::strcmp(name, Name::get()) != 0) return nullptr;
    void* raw = nullptr;
    check(PCShellGetContext(pc, &raw), "PCShellGetContext");
    return raw ? *static_cast<Context<T>*>(raw) : nullptr;
}

struct LearnedName
{
    static const char* get() { return shellName(); }
};

inline PetscErrorCode viewShell(PC pc, PetscViewer viewer)
{
    void* raw = nullptr;
    PetscErrorCode error = PCShellGetContext(pc, &raw);
    if (error) return error;
    PetscBool ascii = PETSC_FALSE;
    error = PetscObjectTypeCompare(reinterpret_cast<PetscObject>(viewer), PETSCVIEWERASCII, &ascii);
    if (error || !ascii || !raw) return error;
    const LearnedPreconditioner& network = **static_cast<Context<LearnedPreconditioner>*>(raw);
    return PetscViewerASCIIPrintf(viewer,
        "  model %s (%s) on %s, %d local rows; %d applications, %g s, %d non-finite"
        " outputs replaced by Jacobi\n",
        network.path().c_str(), network.metadata().kind.c_str(), network.device().c_str(),
        static_cast<int>(network.rows()), static_cast<int>(network.applications()),
        network.inferenceSeconds(), static_cast<int>(network.fallbacks()));
}
} // namespace internal

/// The locally owned rows of @p A (MatGetOwnershipRange) with the columns
/// owned by the same process, numbered from the first owned row. Zero
/// off-diagonal entries (kept in the sparsity pattern by assembly) are left
/// out, so the network sees the graph of the matrix, not of its storage.
/// @p A must be square with matching row and column partitions.
inline CSRMatrix localCSR(Mat A)
{
    PetscInt first = 0, last = 0, firstColumn = 0, lastColumn = 0;
    internal::check(MatGetOwnershipRange(A, &first, &last), "MatGetOwnershipRange");
    internal::check(MatGetOwnershipRangeColumn(A, &firstColumn, &lastColumn), "MatGetOwnershipRangeColumn");
    if (firstColumn != first || lastColumn != last)
    {
        throw std::invalid_argument("mlcfd::petsc::localCSR: the matrix owns rows [" + std::to_string(first)
                                    + ", " + std::to_string(last) + ") but columns ["
                                    + std::to_string(firstColumn) + ", " + std::to_string(lastColumn)
                                    + "); a preconditioner needs a square matrix with one partition");
    }

    CSRMatrix csr;
    csr.rows = static_cast<std::size_t>(last - first);
    csr.rowStart.reserve(csr.rows + 1);
    csr.rowStart.push_back(0);
    for (PetscInt row = first; row < last; ++row)
    {
        PetscInt entries = 0;
        const PetscInt* columns = nullptr;
        const PetscScalar* values = nullptr;
        internal::check(MatGetRow(A, row, &entries, &columns, &values), "MatGetRow");
        for (PetscInt k = 0; k < entries; ++k)
        {
            const PetscInt column = columns[k];
            if (column >= first && column < last && (column == row || values[k] != 0.0))
            {
                csr.column.push_back(column - first);
                csr.value.push_back(values[k]);
            }
        }
        internal::check(MatRestoreRow(A, row, &entries, &columns, &values), "MatRestoreRow");
        csr.rowStart.push_back(static_cast<std::int64_t>(csr.column.size()));
    }
    return csr;
}

/// Make @p pc a PCSHELL that applies @p network (which it keeps alive). The
/// vectors of the solve must have network->rows() local entries. Replaces
/// an earlier shell of @p pc.
inline void setLearnedPreconditioner(PC pc, std::shared_ptr<const LearnedPreconditioner> network)
{
    if (!network)
    {
        throw std::invalid_argument("mlcfd::petsc::setLearnedPreconditioner: no network");
    }
    internal::setShell<LearnedPreconditioner, internal::LearnedName>(
        pc, std::move(network), internal::viewShell);
}

/// Load @p modelFile for the local rows of @p A (see localCSR()) and make
/// @p pc apply it. Returns the network, e.g. for its statistics.
inline std::shared_ptr<const LearnedPreconditioner> setLearnedPreconditioner(PC pc, Mat A,
    const std::string& modelFile,
    const LearnedPreconditionerOptions& options = LearnedPreconditionerOptions())
{
    auto network = std::make_shared<const LearnedPreconditioner>(modelFile, localCSR(A), options);
    setLearnedPreconditioner(pc, network);
    return network;
}

/// The network @p pc applies, or nullptr if @p pc is not a shell made by
/// setLearnedPreconditioner().
inline std::shared_ptr<const LearnedPreconditioner> getLearnedPreconditioner(PC pc)
{
    return internal::getShell<LearnedPreconditioner, internal::LearnedName>(pc);
}

} // namespace petsc
} // namespace mlcfd

#endif
