/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "relaxationBandit.H"
#include "Time.H"
#include "IFstream.H"
#include "Pstream.H"
#include "HashTable.H"
#include "DynamicList.H"

#include <sstream>

#include "mlcfd/RelaxationPolicy.h"

#include <stdexcept>

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
            << " chebTS, tsallisInf, epsilonGreedy or fixed" << exit(FatalIOError);
    }
    // No context here: chebTS models log(cost) over omega alone.
    settings.degree = 0;
    log_ = dict.getOrDefault<bool>("log", true);

    try
    {
        policy_ = mlcfd::RelaxationPolicy::New(policyName, settings);
    }
    catch (const std::exception& e)
    {
        FatalIOErrorInFunction(dict)
            << "Relaxation bandit for " << fieldName_ << " (" << role_ << "): "
            << e.what() << exit(FatalIOError);
    }
    settings_ = dict;
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
    regIOobject
    (
        IOobject
        (
            "relaxationBandit_" + fieldName + "_" + role,
            // Created at the first solve, after the first time increment:
            // a saved state is in the start time's folder.
            db.time().timeName(db.time().startTime().value()),
            "uniform",
            db,
            IOobject::READ_IF_PRESENT,
            IOobject::AUTO_WRITE
        )
    ),
    fieldName_(fieldName),
    role_(role),
    omega_(1),
    log_(true)
{
    createPolicy(settings);

    if (headerOk())
    {
        IFstream is(objectPath());
        const dictionary saved(is);
        try
        {
            std::string text;
            for (const string& chunk : saved.get<List<string>>("state"))
            {
                text += chunk + ' ';
            }
            policy_->setState(text);
        }
        catch (const std::exception& e)
        {
            FatalIOErrorInFunction(saved)
                << "Cannot continue from the saved bandit state " << objectPath()
                << ": " << e.what() << nl
                << "Remove the file to start learning afresh." << exit(FatalIOError);
        }
        Info<< "relaxationBandit: " << fieldName_ << " (" << role_
            << ") continues after " << label(policy_->rounds())
            << " solves from " << objectPath() << endl;
    }
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
    // Every rank runs the same policy on the same reduced costs; the
    // master's choice is broadcast so that all ranks surely agree.
    label arm = label(policy_->choose());
    Pstream::scatter(arm);
    omega_ = policy_->omega(arm);
    lastOmegas_.set(fieldName_ + "_" + role_, omega_);
    return omega_;
}


void Foam::relaxationBandit::observe(scalar cost)
{
    reduce(cost, maxOp<scalar>());
    policy_->observe(cost);
    if (log_)
    {
        Info<< "relaxationBandit: " << fieldName_ << " (" << role_
            << ") solve " << label(policy_->rounds())
            << " omega " << omega_ << " cost " << cost << endl;
    }
}


bool Foam::relaxationBandit::writeData(Ostream& os) const
{
    os.writeEntry("policy", word(policy_->name()));
    // The state is whitespace-separated tokens (some too large for a
    // label): written as strings, split at whitespace into chunks shorter
    // than OpenFOAM's 1024-character limit for a string.
    std::istringstream tokens(policy_->state());
    DynamicList<string> chunks;
    std::string chunk, token;
    while (tokens >> token)
    {
        if (chunk.size() + token.size() + 1 > 1000)
        {
            chunks.append(chunk);
            chunk.clear();
        }
        chunk += (chunk.empty() ? "" : " ") + token;
    }
    if (!chunk.empty()) chunks.append(chunk);
    os.writeEntry("state", chunks);
    return os.good();
}


// ************************************************************************* //
