/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "modelSettings.H"
#include "trainingRangeReport.H"

// * * * * * * * * * * * * * * * * Functions * * * * * * * * * * * * * * * //

Foam::fileName Foam::mlcfdModelSettings::modelEntry(const dictionary& dict)
{
    fileName file(dict.get<fileName>("model"));
    file.expand();
    return file;
}


Foam::fileName Foam::mlcfdModelSettings::modelPath
(
    const dictionary& dict,
    const Time& runTime
)
{
    const fileName file(modelEntry(dict));
    return file.isAbsolute()
        ? file
        : runTime.rootPath()/runTime.globalCaseName()/file;
}


void Foam::mlcfdModelSettings::fail
(
    const dictionary& dict,
    const std::string& why,
    const std::string& howToWrite
)
{
    FatalIOErrorInFunction(dict)
        << "Cannot use the model of entry 'model' (" << modelEntry(dict)
        << "):" << nl << "    " << why.c_str() << nl << howToWrite.c_str()
        << exit(FatalIOError);
}


mlcfd::ModelOptions Foam::mlcfdModelSettings::options(const dictionary& dict)
{
    mlcfd::ModelOptions options;
    options.device = dict.getOrDefault<word>("device", "cpu");
    options.threads = dict.getOrDefault<label>("threads", 0);
    options.rangeMargin = mlcfdTrainingRangeReport::margin(dict);
    return options;
}


// ************************************************************************* //
