/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "banditSORSmoother.H"
#include "relaxationBandit.H"
#include "objectRegistry.H"

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
    defineTypeNameAndDebug(banditSORSmoother, 0);

    lduMatrix::smoother::addsymMatrixConstructorToTable<banditSORSmoother>
        addbanditSORSmootherSymMatrixConstructorToTable_;

    lduMatrix::smoother::addasymMatrixConstructorToTable<banditSORSmoother>
        addbanditSORSmootherAsymMatrixConstructorToTable_;
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::banditSORSmoother::banditSORSmoother
(
    const word& fieldName,
    const lduMatrix& matrix,
    const FieldField<Field, scalar>& interfaceBouCoeffs,
    const FieldField<Field, scalar>& interfaceIntCoeffs,
    const lduInterfaceFieldPtrsList& interfaces
)
:
    SORSmoother
    (
        fieldName,
        matrix,
        interfaceBouCoeffs,
        interfaceIntCoeffs,
        interfaces
    ),
    bandit_(nullptr),
    passes_(0)
{
    const dictionary* controls = fieldControls(matrix, fieldName);
    if (controls)
    {
        // Finest level: a new solve starts, choose its omega.
        const objectRegistry& db = dynamic_cast<const objectRegistry&>(matrix.mesh());
        bandit_ = &relaxationBandit::New(db, fieldName, "smoother", *controls);
        omega_ = bandit_->choose();
    }
    else
    {
        // Coarse GAMG level: the omega of this solve's finest level.
        omega_ = relaxationBandit::lastOmega(fieldName, "smoother");
    }
}


Foam::banditSORSmoother::~banditSORSmoother()
{
    if (bandit_ && passes_ > 0)
    {
        bandit_->observe(passes_);
    }
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

void Foam::banditSORSmoother::scalarSmooth
(
    solveScalarField& psi,
    const solveScalarField& source,
    const direction cmpt,
    const label nSweeps
) const
{
    ++passes_;
    SORSmoother::scalarSmooth(psi, source, cmpt, nSweeps);
}


// ************************************************************************* //
