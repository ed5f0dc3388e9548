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


mlcfd::ModelOptions Foam::mlcfdModelSettings::options(const dictionary& dict)
{
    mlcfd::ModelOptions options;
    options.device = dict.getOrDefault<word>("device", "cpu");
    options.threads = dict.getOrDefault<label>("threads", 0);
    options.rangeMargin = mlcfdTrainingRangeReport::margin(dict);
    return options;
}


// ************************************************************************* //
