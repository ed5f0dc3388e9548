/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "MICPreconditioner.H"

#include <stdexcept>
#include <vector>

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

// What the last MIC on this process factorised: the pattern (built once per
// addressing), the values and the factor, reused while the matrix stays the
// same (PISO's correctors solve one pressure matrix several times). The
// factor keeps its own copy of the triangles, so sharing it is safe.
struct FactorCache
{
    std::shared_ptr<Foam::lduCSRMatrix> csr;
    std::vector<double> values;
    double omega = -1;
    std::shared_ptr<const mlcfd::DICPreconditioner> factor;
};

FactorCache& cache()
{
    static FactorCache c;
    return c;
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
    FactorCache& c = cache();
    const lduAddressing& addr = sol.matrix().lduAddr();
    if (!c.csr || c.csr->withCyclics() != cyclicCouplings_ || !c.csr->matches(addr))
    {
        c.csr = cyclicCouplings_
            ? std::make_shared<lduCSRMatrix>(addr, sol.interfaces())
            : std::make_shared<lduCSRMatrix>(addr);
        c.factor.reset();
    }
    if (cyclicCouplings_)
    {
        c.csr->update(sol.matrix(), sign_, sol.interfaceBouCoeffs());
    }
    else
    {
        c.csr->update(sol.matrix(), sign_);
    }
    if (!c.factor || c.omega != omega_ || c.values != c.csr->csr().value)
    {
        try
        {
            c.factor = std::make_shared<const mlcfd::DICPreconditioner>(c.csr->csr(), omega_);
        }
        catch (const std::exception& e)
        {
            c.factor.reset();
            FatalErrorInFunction
                << "MIC cannot factorise the matrix of " << sol.fieldName()
                << " on processor " << Pstream::myProcNo() << ": " << e.what()
                << nl << "    (every diagonal coefficient must have the sign of"
                << " the first one); use DIC or GAMG for this field"
                << exit(FatalError);
        }
        c.values = c.csr->csr().value;
        c.omega = omega_;
    }
    factor_ = c.factor;
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
