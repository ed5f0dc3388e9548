/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "SSORPreconditioner.H"
#include "SORSmoother.H"
#include "relaxationBandit.H"
#include "objectRegistry.H"

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
    defineTypeNameAndDebug(SSORPreconditioner, 0);

    lduMatrix::preconditioner::addsymMatrixConstructorToTable<SSORPreconditioner>
        addSSORPreconditionerSymMatrixConstructorToTable_;

    defineTypeNameAndDebug(banditSSORPreconditioner, 0);

    lduMatrix::preconditioner::addsymMatrixConstructorToTable
    <
        banditSSORPreconditioner
    > addbanditSSORPreconditionerSymMatrixConstructorToTable_;
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::SSORPreconditioner::SSORPreconditioner
(
    const lduMatrix::solver& sol,
    const dictionary& controls
)
:
    lduMatrix::preconditioner(sol),
    omega_(controls.getOrDefault<scalar>("omega", 1)),
    applications_(0)
{
    if (omega_ <= 0 || omega_ >= 2)
    {
        FatalIOErrorInFunction(controls)
            << "Entry 'omega' is " << omega_
            << "; SSOR is a valid (positive definite) preconditioner only for"
            << " 0 < omega < 2" << exit(FatalIOError);
    }
}


Foam::banditSSORPreconditioner::banditSSORPreconditioner
(
    const lduMatrix::solver& sol,
    const dictionary& controls
)
:
    SSORPreconditioner(sol, dictionary::null),
    bandit_(nullptr)
{
    const objectRegistry* db =
        dynamic_cast<const objectRegistry*>(&sol.matrix().mesh());
    if (db)
    {
        bandit_ = &relaxationBandit::New
        (
            *db, sol.fieldName(), "preconditioner", controls
        );
        omega_ = bandit_->choose();
    }
    else
    {
        omega_ = relaxationBandit::lastOmega(sol.fieldName(), "preconditioner");
    }
}


Foam::banditSSORPreconditioner::~banditSSORPreconditioner()
{
    if (bandit_ && applications_ > 0)
    {
        bandit_->observe(applications_);
    }
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

void Foam::SSORPreconditioner::precondition
(
    solveScalarField& wA,
    const solveScalarField& rA,
    const direction
) const
{
    ++applications_;
    wA = 0;
    SORSmoother::sweep(solver_.matrix(), wA, rA, omega_, true);
    SORSmoother::sweep(solver_.matrix(), wA, rA, omega_, false);
}


// ************************************************************************* //
