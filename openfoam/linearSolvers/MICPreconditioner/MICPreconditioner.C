/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "MICPreconditioner.H"

#include <stdexcept>

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
    defineTypeNameAndDebug(MICPreconditioner, 0);

    lduMatrix::preconditioner::addsymMatrixConstructorToTable<MICPreconditioner>
        addMICPreconditionerSymMatrixConstructorToTable_;
}


// * * * * * * * * * * * * * * * Local Functions * * * * * * * * * * * * * //

namespace
{

// The pattern of the last addressing factorised on this process, unless a
// preconditioner still uses it (then a private one is built).
std::shared_ptr<Foam::lduCSRMatrix> csrFor
(
    const Foam::lduMatrix::solver& sol,
    const bool cyclics
)
{
    const Foam::lduAddressing& addr = sol.matrix().lduAddr();
    const auto build = [&]()
    {
        return cyclics
            ? std::make_shared<Foam::lduCSRMatrix>(addr, sol.interfaces())
            : std::make_shared<Foam::lduCSRMatrix>(addr);
    };
    static std::shared_ptr<Foam::lduCSRMatrix> cached;
    if (cached && cached.use_count() > 1)
    {
        return build();
    }
    if (!cached || cached->withCyclics() != cyclics || !cached->matches(addr))
    {
        cached = build();
    }
    return cached;
}

} // End anonymous namespace


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::MICPreconditioner::MICPreconditioner
(
    const lduMatrix::solver& sol,
    const dictionary& controls
)
:
    lduMatrix::preconditioner(sol),
    omega_(controls.getOrDefault<scalar>("omega", 0.97)),
    cyclicCouplings_(controls.getOrDefault<bool>("cyclicCouplings", true)),
    sign_(1),
    matrix_(csrFor(sol, cyclicCouplings_)),
    factor_()
{
    if (omega_ < 0 || omega_ > 1)
    {
        FatalIOErrorInFunction(controls)
            << "entry 'omega " << omega_ << "' must lie in [0, 1]"
            << " (0: DIC, 1: the row sums of A kept)" << exit(FatalIOError);
    }
    const scalarField& diag = sol.matrix().diag();
    if (diag.size() && diag[0] < 0)
    {
        sign_ = -1;
    }
    if (cyclicCouplings_)
    {
        matrix_->update(sol.matrix(), sign_, sol.interfaceBouCoeffs());
    }
    else
    {
        matrix_->update(sol.matrix(), sign_);
    }
    try
    {
        factor_.reset(new mlcfd::DICPreconditioner(matrix_->csr(), omega_));
    }
    catch (const std::exception& e)
    {
        FatalErrorInFunction
            << "MIC cannot factorise the matrix of " << sol.fieldName()
            << " on processor " << Pstream::myProcNo() << ": " << e.what()
            << nl << "    (every diagonal coefficient must have the sign of"
            << " the first one); use DIC or GAMG for this field"
            << exit(FatalError);
    }
    if (debug && factor_->replacedPivots())
    {
        Info<< "MIC: " << sol.fieldName() << ": " << factor_->replacedPivots()
            << " modified pivots replaced by DIC's" << endl;
    }
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

void Foam::MICPreconditioner::precondition
(
    scalarField& wA,
    const scalarField& rA,
    const direction
) const
{
    factor_->apply(rA.cdata(), wA.data());
    if (sign_ < 0)
    {
        wA.negate();
    }
}


// ************************************************************************* //
