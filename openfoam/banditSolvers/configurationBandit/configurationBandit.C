/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "configurationBandit.H"
#include "GAMGAgglomeration.H"
#include "IFstream.H"
#include "OStringStream.H"
#include "polyMesh.H"
#include "Time.H"

#include "mlcfd/RelaxationPolicy.h"

#include <map>
#include <memory>

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
    defineTypeNameAndDebug(configurationBandit, 0);

/*---------------------------------------------------------------------------*\
                   Class GAMGAgglomerationStash Declaration
\*---------------------------------------------------------------------------*/

//- The agglomerations of the candidates not chosen now, one per mesh
//- registry, shared by the bandits of its fields. The chosen one is in the
//- registry (owned by it, as OpenFOAM leaves it); the others are parked
//- here, out of the registry.
class GAMGAgglomerationStash
:
    public regIOobject
{
public:

    TypeName("GAMGAgglomerationStash");

    //- Agglomerations out of the registry, by settings
    std::map<std::string, std::unique_ptr<GAMGAgglomeration>> parked;

    //- The agglomeration this stash put into the registry, and its settings
    const GAMGAgglomeration* registered = nullptr;
    std::string registeredKey;

    explicit GAMGAgglomerationStash(const objectRegistry& db)
    :
        regIOobject
        (
            IOobject
            (
                "GAMGAgglomerationStash",
                db.time().constant(),
                db,
                IOobject::NO_READ,
                IOobject::NO_WRITE
            )
        )
    {}

    virtual bool writeData(Ostream&) const
    {
        return true;
    }

    static GAMGAgglomerationStash& New(const objectRegistry& db)
    {
        if (!db.foundObject<GAMGAgglomerationStash>(typeName))
        {
            regIOobject::store(new GAMGAgglomerationStash(db));
        }
        return db.lookupObjectRef<GAMGAgglomerationStash>(typeName);
    }
};

    defineTypeNameAndDebug(GAMGAgglomerationStash, 0);
}


// * * * * * * * * * * * * * * * Local Functions * * * * * * * * * * * * * * //

namespace
{

//- The dictionary GAMG reads its agglomeration from (the solver's, or the
//- preconditioner's of PCG with a GAMG preconditioner); nullptr: no GAMG
const Foam::dictionary* gamgControls(const Foam::dictionary& controls)
{
    using namespace Foam;
    if (controls.getOrDefault<word>("solver", word::null) == "GAMG")
    {
        return &controls;
    }
    const dictionary* preconditioner = controls.findDict("preconditioner");
    if
    (
        preconditioner
     && preconditioner->getOrDefault<word>("preconditioner", word::null) == "GAMG"
    )
    {
        return preconditioner;
    }
    return nullptr;
}


//- The agglomeration settings of a candidate ("" without GAMG)
std::string agglomerationKey(const Foam::dictionary& controls)
{
    using namespace Foam;
    const dictionary* gamg = gamgControls(controls);
    if (!gamg)
    {
        return std::string();
    }
    OStringStream os;
    os << "GAMG";
    for
    (
        const char* name
      : {"agglomerator", "nCellsInCoarsestLevel", "mergeLevels", "processorAgglomerator"}
    )
    {
        const entry* e = gamg->findEntry(name, keyType::LITERAL);
        if (e)
        {
            os << ' ' << *e;
        }
    }
    return os.str();
}

} // End anonymous namespace


// * * * * * * * * * * * * * Private Member Functions  * * * * * * * * * * * //

void Foam::configurationBandit::readCandidates(const dictionary& dict)
{
    const dictionary& candidates = dict.subDict("candidates");
    candidates_ = candidates.toc();
    if (candidates_.empty())
    {
        FatalIOErrorInFunction(candidates)
            << "banditSolver for " << entryName_ << ": 'candidates' is empty;"
            << " give each candidate solver its own sub-dictionary, e.g."
            << nl << "    candidates { GAMG { solver GAMG; smoother GaussSeidel; }"
            << " MIC { solver PCG; preconditioner MIC; } }"
            << exit(FatalIOError);
    }
    controls_.setSize(candidates_.size());
    agglomerationKeys_.setSize(candidates_.size());
    forAll(candidates_, arm)
    {
        const word& name = candidates_[arm];
        if (!candidates.isDict(name))
        {
            FatalIOErrorInFunction(candidates)
                << "banditSolver for " << entryName_ << ": candidate '" << name
                << "' must be a solver sub-dictionary, e.g. " << name
                << " { solver PCG; preconditioner DIC; }" << exit(FatalIOError);
        }
        dictionary controls(candidates.subDict(name));
        const word solver(controls.getOrDefault<word>("solver", word::null));
        if (solver.empty() || solver == "banditSolver")
        {
            FatalIOErrorInFunction(controls)
                << "banditSolver for " << entryName_ << ": candidate '" << name
                << "' needs 'solver' (PCG, GAMG, smoothSolver, ...), not "
                << (solver.empty() ? word("nothing") : solver) << exit(FatalIOError);
        }
        for (const char* own : {"tolerance", "relTol"})
        {
            if (controls.found(own, keyType::LITERAL))
            {
                FatalIOErrorInFunction(controls)
                    << "banditSolver for " << entryName_ << ": candidate '" << name
                    << "' sets '" << own << "'. Every candidate solves to the"
                    << " tolerance and relTol beside 'candidates', so that their"
                    << " times compare: remove it from the candidate."
                    << exit(FatalIOError);
            }
        }
        for (const char* shared : {"tolerance", "relTol", "maxIter", "minIter"})
        {
            const entry* e = dict.findEntry(shared, keyType::LITERAL);
            if (e && !controls.found(shared, keyType::LITERAL))
            {
                controls.add(e->clone(controls).ptr());
            }
        }
        agglomerationKeys_[arm] = agglomerationKey(controls);
        controls_.set(arm, new dictionary(controls));
    }

    const word backstop(dict.getOrDefault<word>("backstop", candidates_[0]));
    backstop_ = candidates_.find(backstop);
    if (backstop_ < 0)
    {
        FatalIOErrorInFunction(dict)
            << "banditSolver for " << entryName_ << ": 'backstop " << backstop
            << "' is not a candidate; candidates: " << candidates_
            << exit(FatalIOError);
    }

    mlcfd::RelaxationSettings settings;
    settings.labelledArms = true;
    settings.arms = candidates_.size();
    settings.seed = dict.getOrDefault<label>("seed", 1);
    settings.memory = dict.getOrDefault<scalar>("memory", settings.memory);
    settings.sampleScale = dict.getOrDefault<scalar>("sampleScale", settings.sampleScale);
    settings.epsilon = dict.getOrDefault<scalar>("epsilon", settings.epsilon);
    const word policyName(dict.getOrDefault<word>("policy", "gaussianTS"));
    if (policyName == "fixed")
    {
        FatalIOErrorInFunction(dict)
            << "banditSolver for " << entryName_ << ": 'policy fixed' would"
            << " always solve with one candidate: give that candidate's entries"
            << " to " << entryName_ << " itself, or use gaussianTS, tsallisInf"
            << " or epsilonGreedy" << exit(FatalIOError);
    }
    log_ = dict.getOrDefault<bool>("log", true);
    createPolicy(policyName, settings, dict);
}


void Foam::configurationBandit::checkSavedCandidates()
{
    if (!headerOk())
    {
        return;
    }
    IFstream is(objectPath());
    const dictionary saved(is);
    const wordList savedCandidates(saved.get<wordList>("candidates"));
    if (savedCandidates != candidates_)
    {
        FatalIOErrorInFunction(saved)
            << "The saved bandit state " << objectPath() << " is of the"
            << " candidates " << savedCandidates << "; " << entryName_
            << " now has " << candidates_ << nl
            << "Remove the file to start learning afresh." << exit(FatalIOError);
    }
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::configurationBandit::configurationBandit
(
    const objectRegistry& db,
    const word& entryName,
    const dictionary& dict
)
:
    banditState(db, "configurationBandit_" + entryName, entryName),
    entryName_(entryName),
    backstop_(0),
    fallbacks_(0),
    arm_(0),
    log_(true)
{
    readCandidates(dict);
    checkSavedCandidates();
    readSavedState();
}


Foam::configurationBandit::~configurationBandit()
{}


// * * * * * * * * * * * * * * * * Selectors * * * * * * * * * * * * * * * * //

Foam::configurationBandit& Foam::configurationBandit::New
(
    const objectRegistry& db,
    const word& entryName,
    const dictionary& dict
)
{
    const word name("configurationBandit_" + entryName);
    if (!db.foundObject<configurationBandit>(name))
    {
        regIOobject::store(new configurationBandit(db, entryName, dict));
    }
    return db.lookupObjectRef<configurationBandit>(name);
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

Foam::label Foam::configurationBandit::choose()
{
    arm_ = chooseArm();
    return arm_;
}


void Foam::configurationBandit::selectAgglomeration
(
    const lduMatrix& matrix,
    label arm
) const
{
    const std::string& key = agglomerationKeys_[arm];
    if (key.empty())
    {
        return;
    }
    const objectRegistry& db = matrix.mesh().thisDb();
    GAMGAgglomerationStash& stash = GAMGAgglomerationStash::New(db);
    const word& name = GAMGAgglomeration::typeName;

    // A moving or changing mesh: OpenFOAM rebuilds its agglomeration, and
    // the parked ones would be of the old mesh; all candidates then share
    // OpenFOAM's one.
    const polyMesh* mesh = dynamic_cast<const polyMesh*>(&db);
    if (mesh && mesh->changing())
    {
        stash.parked.clear();
        stash.registered = nullptr;
        return;
    }

    if (db.foundObject<GAMGAgglomeration>(name))
    {
        GAMGAgglomeration& current =
            const_cast<GAMGAgglomeration&>(db.lookupObject<GAMGAgglomeration>(name));
        const std::string currentKey =
            &current == stash.registered ? stash.registeredKey : "(built by another solver)";
        if (currentKey == key)
        {
            return;
        }
        // Out of the registry, into the stash (owned by it).
        current.release();
        current.checkOut();
        stash.parked[currentKey].reset(&current);
    }

    auto parked = stash.parked.find(key);
    if (parked != stash.parked.end())
    {
        GAMGAgglomeration* agglomeration = parked->second.release();
        stash.parked.erase(parked);
        agglomeration->checkIn();
        agglomeration->store();
        stash.registered = agglomeration;
    }
    else
    {
        stash.registered = &GAMGAgglomeration::New(matrix, *gamgControls(controls_[arm]));
    }
    stash.registeredKey = key;
}


void Foam::configurationBandit::observe(scalar seconds, bool fellBack)
{
    if (fellBack)
    {
        ++fallbacks_;
    }
    seconds = observeCost(seconds);
    if (log_)
    {
        Info<< "banditSolver: " << entryName_ << " solve "
            << label(policy_->rounds()) << " candidate " << candidates_[arm_]
            << " time " << seconds << " s";
        if (fellBack)
        {
            Info<< " (did not converge: finished by " << candidates_[backstop_]
                << ", " << fallbacks_ << " times so far)";
        }
        Info<< endl;
    }
}


bool Foam::configurationBandit::writeData(Ostream& os) const
{
    os.writeEntry("candidates", candidates_);
    return banditState::writeData(os);
}


// ************************************************************************* //
