/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "trainingRangeReport.H"
#include "Pstream.H"
#include "OSspecific.H"

#include <stdexcept>

// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::mlcfdTrainingRangeReport::mlcfdTrainingRangeReport
(
    const dictionary& dict,
    const word& name,
    const fileName& modelFile,
    const word& implausibleColumn,
    const std::string& implausibleText,
    const bool implausibleWarns
)
:
    name_(name),
    modelFile_(modelFile),
    implausibleColumn_(implausibleColumn),
    implausibleText_(implausibleText),
    implausibleWarns_(implausibleWarns)
{
    mlcfd::RangeMonitorSettings settings;
    const word action(dict.getOrDefault<word>("outOfRange", "warn"));
    try
    {
        settings.action = mlcfd::RangeMonitorSettings::parseAction(action);
    }
    catch (const std::invalid_argument& e)
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'outOfRange " << action << "' in " << dict.name() << ": "
            << e.what() << exit(FatalIOError);
    }
    settings.stopFraction = dict.getOrDefault<scalar>("outOfRangeFraction", 0.1);
    const label interval = dict.getOrDefault<label>("reportInterval", 10);
    if (settings.stopFraction < 0 || settings.stopFraction > 1 || interval < 1)
    {
        FatalIOErrorInFunction(dict)
            << "Entries 'outOfRangeFraction " << settings.stopFraction
            << "' and 'reportInterval " << interval << "' in " << dict.name()
            << ": the fraction must lie in [0, 1] and the interval be >= 1"
            << exit(FatalIOError);
    }
    settings.interval = static_cast<unsigned>(interval);
    monitor_ = mlcfd::RangeMonitor(settings);
    margin(dict);
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

Foam::scalar Foam::mlcfdTrainingRangeReport::margin(const dictionary& dict)
{
    const scalar m = dict.getOrDefault<scalar>("rangeMargin", mlcfd::RangeCheck::defaultMargin);
    if (m < 0)
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'rangeMargin " << m << "' in " << dict.name()
            << " must be >= 0 (a fraction of each input's training range)"
            << exit(FatalIOError);
    }
    return m;
}


void Foam::mlcfdTrainingRangeReport::writeRow
(
    const Time& runTime,
    const mlcfd::RangeCount& count,
    const mlcfd::ModelMetadata& metadata,
    const mlcfd::RangeCheck& check,
    scalar implausible
)
{
    if (!Pstream::master()) return;
    if (!file_.valid())
    {
        const fileName dir
        (
            runTime.rootPath()/runTime.globalCaseName()/"postProcessing"/name_
           /runTime.timeName(runTime.startTime().value())
        );
        mkDir(dir);
        file_.reset(new OFstream(dir/"trainingRange.dat"));
        OFstream& os = file_();
        os  << "# " << name_ << ": rows of model " << modelFile_;
        if (check.active())
        {
            os  << " outside its training range (margin "
                << Foam::name(100*check.margin()).c_str() << "% of each input's range)" << nl;
        }
        else
        {
            os  << " (no training range recorded: inputs not checked)" << nl;
        }
        os  << "# Time rows outside fraction";
        for (const std::string& input : metadata.inputs)
        {
            os  << ' ' << word(input);
        }
        if (!implausibleColumn_.empty())
        {
            os  << ' ' << implausibleColumn_;
        }
        os  << endl;
    }
    OFstream& os = file_();
    os  << runTime.timeName() << ' ' << count.rows << ' ' << count.outside << ' '
        << count.fraction();
    for (const std::size_t n : count.outsideByInput)
    {
        os  << ' ' << n;
    }
    if (!implausibleColumn_.empty())
    {
        os  << ' ' << implausible;
    }
    os  << endl;
}


void Foam::mlcfdTrainingRangeReport::update
(
    const Time& runTime,
    const mlcfd::RangeCount& local,
    const mlcfd::RangeCheck& check,
    const mlcfd::ModelMetadata& metadata,
    const std::string& modelPath,
    label implausible
)
{
    // One reduction for everything: rows, outside, implausible, per input.
    const label nInputs = label(metadata.inputCount());
    scalarList sums(3 + nInputs, Zero);
    sums[0] = scalar(local.rows);
    sums[1] = scalar(local.outside);
    sums[2] = scalar(implausible);
    for (label i = 0; i < nInputs && i < label(local.outsideByInput.size()); ++i)
    {
        sums[3 + i] = scalar(local.outsideByInput[i]);
    }
    Pstream::listCombineGather(sums, plusEqOp<scalar>());
    Pstream::listCombineScatter(sums);

    mlcfd::RangeCount count;
    count.rows = std::size_t(sums[0]);
    count.outside = std::size_t(sums[1]);
    count.outsideByInput.resize(nInputs);
    for (label i = 0; i < nInputs; ++i)
    {
        count.outsideByInput[i] = std::size_t(sums[3 + i]);
    }
    const scalar totalImplausible = sums[2];

    try
    {
        monitor_.step(count, check, metadata, modelPath, std::size_t(totalImplausible));
    }
    catch (const std::exception& e)
    {
        FatalErrorInFunction
            << name_ << " at time " << runTime.timeName() << ": " << e.what()
            << exit(FatalError);
    }

    if (check.active() || !implausibleColumn_.empty())
    {
        writeRow(runTime, count, metadata, check, totalImplausible);
    }
    if (monitor_.logThisStep())
    {
        const bool warning =
            count.outside > 0 || (implausibleWarns_ && totalImplausible > 0);
        Info<< (warning ? "Warning: " : "") << name_ << ": "
            << monitor_.describe(metadata, check).c_str();
        if (!implausibleColumn_.empty())
        {
            Info<< "; " << totalImplausible << " " << implausibleText_.c_str();
        }
        Info<< endl;
    }
}


// ************************************************************************* //
