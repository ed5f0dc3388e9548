/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "relaxationBandit.H"
#include "objectRegistry.H"
#include "HashTable.H"

#include "mlcfd/RelaxationPolicy.h"

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
    defineTypeNameAndDebug(relaxationBandit, 0);

    //- Omega of the current solve per field and role
    static HashTable<scalar> lastOmegas_;
}


// * * * * * * * * * * * * * Private Member Functions  * * * * * * * * * * * //

void Foam::relaxationBandit::createPolicy(const dictionary& dict)
{
    mlcfd::RelaxationSettings settings;
    const List<scalar> range
    (
        dict.getOrDefault<List<scalar>>("omegaRange", List<scalar>({1.0, 1.95}))
    );
    if (range.size() != 2)
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'omegaRange' must be a pair (min max), e.g. (1 1.95), not "
            << range << exit(FatalIOError);
    }
    settings.omegaMin = range[0];
    settings.omegaMax = range[1];
    settings.arms = dict.getOrDefault<label>("arms", 20);
    settings.seed = dict.getOrDefault<label>("seed", 1);
    settings.costScale = dict.getOrDefault<scalar>("costScale", 0);
    settings.epsilon = dict.getOrDefault<scalar>("epsilon", 0.1);
    settings.omega = dict.getOrDefault<scalar>("omega", 1.0);
    const word policyName(dict.getOrDefault<word>("policy", "tsallisInf"));
    if (policyName == "chebCB")
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'policy chebCB' needs a context (a scalar known before"
            << " each solve), which OpenFOAM's solves do not provide: use"
            << " chebTS, gaussianProcessTS, tsallisInf, epsilonGreedy or fixed"
            << exit(FatalIOError);
    }
    // No context here: chebTS and gaussianProcessTS model log(cost) over
    // omega alone.
    settings.degree = 0;
    log_ = dict.getOrDefault<bool>("log", true);

    banditState::createPolicy(policyName, settings, dict);
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::relaxationBandit::relaxationBandit
(
    const objectRegistry& db,
    const word& fieldName,
    const word& role,
    const dictionary& settings
)
:
    banditState
    (
        db,
        "relaxationBandit_" + fieldName + "_" + role,
        fieldName + " (" + role + ")"
    ),
    fieldName_(fieldName),
    role_(role),
    omega_(1),
    log_(true)
{
    createPolicy(settings);
    readSavedState();
}


Foam::relaxationBandit::~relaxationBandit()
{}


// * * * * * * * * * * * * * * * * Selectors * * * * * * * * * * * * * * * * //

Foam::relaxationBandit& Foam::relaxationBandit::New
(
    const objectRegistry& db,
    const word& fieldName,
    const word& role,
    const dictionary& settings
)
{
    const word name("relaxationBandit_" + fieldName + "_" + role);
    if (!db.foundObject<relaxationBandit>(name))
    {
        regIOobject::store(new relaxationBandit(db, fieldName, role, settings));
    }
    return db.lookupObjectRef<relaxationBandit>(name);
}


Foam::scalar Foam::relaxationBandit::lastOmega
(
    const word& fieldName,
    const word& role
)
{
    return lastOmegas_.lookup(fieldName + "_" + role, 1.0);
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

Foam::scalar Foam::relaxationBandit::choose()
{
    omega_ = policy_->omega(chooseArm());
    lastOmegas_.set(fieldName_ + "_" + role_, omega_);
    return omega_;
}


void Foam::relaxationBandit::observe(scalar cost)
{
    cost = observeCost(cost);
    if (log_)
    {
        Info<< "relaxationBandit: " << fieldName_ << " (" << role_
            << ") solve " << label(policy_->rounds())
            << " omega " << omega_ << " cost " << cost << endl;
    }
}


// ************************************************************************* //
