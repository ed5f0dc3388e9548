/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "banditState.H"
#include "Time.H"
#include "IFstream.H"
#include "Pstream.H"
#include "DynamicList.H"

#include "mlcfd/RelaxationPolicy.h"

#include <sstream>
#include <stdexcept>

// * * * * * * * * * * * * * Protected Member Functions  * * * * * * * * * * //

void Foam::banditState::createPolicy
(
    const word& policyName,
    const mlcfd::RelaxationSettings& settings,
    const dictionary& dict
)
{
    try
    {
        policy_ = mlcfd::RelaxationPolicy::New(policyName, settings);
    }
    catch (const std::exception& e)
    {
        FatalIOErrorInFunction(dict)
            << type() << " for " << description_.c_str() << ": " << e.what()
            << exit(FatalIOError);
    }
}


void Foam::banditState::readSavedState()
{
    if (!headerOk())
    {
        return;
    }
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
    Info<< type() << ": " << description_.c_str() << " continues after "
        << label(policy_->rounds()) << " solves from " << objectPath() << endl;
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::banditState::banditState
(
    const objectRegistry& db,
    const word& name,
    const string& description
)
:
    regIOobject
    (
        IOobject
        (
            name,
            db.time().timeName(db.time().startTime().value()),
            "uniform",
            db,
            IOobject::READ_IF_PRESENT,
            IOobject::AUTO_WRITE
        )
    ),
    description_(description)
{}


Foam::banditState::~banditState()
{}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

Foam::label Foam::banditState::chooseArm()
{
    // Every rank runs the same policy on the same reduced costs; the
    // master's choice is broadcast so that all ranks surely agree.
    label arm = label(policy_->choose());
    Pstream::scatter(arm);
    return arm;
}


Foam::scalar Foam::banditState::observeCost(scalar cost)
{
    reduce(cost, maxOp<scalar>());
    policy_->observe(cost);
    return cost;
}


bool Foam::banditState::writeData(Ostream& os) const
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
