/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "SORSmoother.H"
#include "solution.H"
#include "PrecisionAdaptor.H"

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
    defineTypeNameAndDebug(SORSmoother, 0);

    lduMatrix::smoother::addsymMatrixConstructorToTable<SORSmoother>
        addSORSmootherSymMatrixConstructorToTable_;

    lduMatrix::smoother::addasymMatrixConstructorToTable<SORSmoother>
        addSORSmootherAsymMatrixConstructorToTable_;
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::SORSmoother::SORSmoother
(
    const word& fieldName,
    const lduMatrix& matrix,
    const FieldField<Field, scalar>& interfaceBouCoeffs,
    const FieldField<Field, scalar>& interfaceIntCoeffs,
    const lduInterfaceFieldPtrsList& interfaces
)
:
    lduMatrix::smoother
    (
        fieldName,
        matrix,
        interfaceBouCoeffs,
        interfaceIntCoeffs,
        interfaces
    ),
    omega_(1)
{
    // OpenFOAM hands smoothers no dictionary: read the field's entry.
    if (const dictionary* controls = fieldControls(matrix, fieldName))
    {
        omega_ = controls->getOrDefault<scalar>("omega", 1);
        if (omega_ <= 0 || omega_ >= 2)
        {
            FatalIOErrorInFunction(*controls)
                << "Entry 'omega' of " << fieldName << " is " << omega_
                << "; SOR converges only for 0 < omega < 2" << exit(FatalIOError);
        }
    }
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

const Foam::dictionary* Foam::SORSmoother::fieldControls
(
    const lduMatrix& matrix,
    const word& fieldName
)
{
    // Only the finest level's matrix is addressed by a mesh (an fvMesh is
    // also its fvSolution); GAMG's coarse levels are not.
    const solution* controls = dynamic_cast<const solution*>(&matrix.mesh());
    if (!controls)
    {
        return nullptr;
    }
    // Components of vector and tensor fields are solved as Ux, Uy, ... with
    // the controls of U.
    const dictionary& solvers = controls->subDict("solvers");
    for (label strip = 0; strip <= 2 && strip < label(fieldName.size()); ++strip)
    {
        const word name(fieldName.substr(0, fieldName.size() - strip));
        if (solvers.found(name, keyType::REGEX))
        {
            return &controls->solverDict(name);
        }
    }
    FatalIOErrorInFunction(solvers)
        << "No solver controls for " << fieldName << exit(FatalIOError);
    return nullptr;
}


void Foam::SORSmoother::sweep
(
    const lduMatrix& matrix,
    solveScalarField& psi,
    const solveScalarField& b,
    const scalar omega,
    const bool forward
)
{
    const lduAddressing& addr = matrix.lduAddr();
    const label* const __restrict__ lPtr = addr.lowerAddr().begin();
    const label* const __restrict__ uPtr = addr.upperAddr().begin();
    const label* const __restrict__ ownStartPtr = addr.ownerStartAddr().begin();
    const label* const __restrict__ losortPtr = addr.losortAddr().begin();
    const label* const __restrict__ losortStartPtr = addr.losortStartAddr().begin();

    const scalar* const __restrict__ diagPtr = matrix.diag().begin();
    const scalar* const __restrict__ upperPtr = matrix.upper().begin();
    // Symmetric matrices store only the upper coefficients.
    const scalar* const __restrict__ lowerPtr =
        matrix.symmetric() ? upperPtr : matrix.lower().begin();

    solveScalar* __restrict__ psiPtr = psi.begin();
    const solveScalar* __restrict__ bPtr = b.begin();
    const label nCells = psi.size();

    for (label k = 0; k < nCells; ++k)
    {
        const label celli = forward ? k : nCells - 1 - k;

        solveScalar sum = bPtr[celli];
        // Row celli, columns above the diagonal: faces it owns (upper).
        for (label facei = ownStartPtr[celli]; facei < ownStartPtr[celli + 1]; ++facei)
        {
            sum -= upperPtr[facei]*psiPtr[uPtr[facei]];
        }
        // Columns below the diagonal: faces where it is the neighbour (lower).
        for (label i = losortStartPtr[celli]; i < losortStartPtr[celli + 1]; ++i)
        {
            const label facei = losortPtr[i];
            sum -= lowerPtr[facei]*psiPtr[lPtr[facei]];
        }
        psiPtr[celli] += omega*(sum/diagPtr[celli] - psiPtr[celli]);
    }
}


void Foam::SORSmoother::scalarSmooth
(
    solveScalarField& psi,
    const solveScalarField& source,
    const direction cmpt,
    const label nSweeps
) const
{
    solveScalarField bPrime(psi.size());

    for (label sweepi = 0; sweepi < nSweeps; ++sweepi)
    {
        // Coupled interfaces enter the source with the current psi (the
        // sign convention of OpenFOAM's interface coefficients is that of a
        // source, hence the 'false' = negated update, as in GaussSeidel).
        bPrime = source;
        matrix_.initMatrixInterfaces
        (
            false, interfaceBouCoeffs_, interfaces_, psi, bPrime, cmpt
        );
        matrix_.updateMatrixInterfaces
        (
            false, interfaceBouCoeffs_, interfaces_, psi, bPrime, cmpt
        );

        sweep(matrix_, psi, bPrime, omega_, true);
    }
}


void Foam::SORSmoother::smooth
(
    solveScalarField& psi,
    const scalarField& source,
    const direction cmpt,
    const label nSweeps
) const
{
    scalarSmooth
    (
        psi,
        ConstPrecisionAdaptor<solveScalar, scalar>(source),
        cmpt,
        nSweeps
    );
}


// ************************************************************************* //
