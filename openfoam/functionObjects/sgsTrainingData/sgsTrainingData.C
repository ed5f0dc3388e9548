/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "sgsTrainingData.H"
#include "fvc.H"
#include "OFstream.H"
#include "addToRunTimeSelectionTable.H"

#include "mlcfd/EddyViscosityClosure.h"

#include <vector>

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
namespace functionObjects
{
    defineTypeNameAndDebug(sgsTrainingData, 0);
    addToRunTimeSelectionTable(functionObject, sgsTrainingData, dictionary);
}
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::functionObjects::sgsTrainingData::sgsTrainingData
(
    const word& name,
    const Time& runTime,
    const dictionary& dict
)
:
    fvMeshFunctionObject(name, runTime, dict),
    UName_("U"),
    widthRatio_(2)
{
    read(dict);
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

bool Foam::functionObjects::sgsTrainingData::read(const dictionary& dict)
{
    fvMeshFunctionObject::read(dict);
    UName_ = dict.getOrDefault<word>("U", "U");
    widthRatio_ = dict.getOrDefault<scalar>("filterWidthRatio", 2);
    if (widthRatio_ <= 0)
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'filterWidthRatio' must be positive, not " << widthRatio_
            << exit(FatalIOError);
    }
    filter_ = LESfilter::New(mesh_, dict);
    return true;
}


bool Foam::functionObjects::sgsTrainingData::execute()
{
    return true;
}


bool Foam::functionObjects::sgsTrainingData::write()
{
    const volVectorField& U = lookupObject<volVectorField>(UName_);
    const LESfilter& filter = filter_();

    volVectorField Uf("UFiltered", filter(U));
    volSymmTensorField tau
    (
        "tauSGS",
        filter(tmp<volSymmTensorField>(new volSymmTensorField(symm(U*U))))
      - symm(Uf*Uf)
    );
    const volTensorField gradUf(fvc::grad(Uf));

    // The closures' inputs, by the closures' own code.
    const label n = mesh_.nCells();
    const std::size_t F = mlcfd::EddyViscosityClosure::featureCount;
    std::vector<double> features(F*n), scale(n);
    mlcfd::EddyViscosityClosure::computeFeatures
    (
        reinterpret_cast<const scalar*>(gradUf.primitiveField().cdata()),
        static_cast<std::size_t>(n),
        features.data(),
        scale.data()
    );
    const scalarField delta(widthRatio_*cbrt(mesh_.V().field()));

    const fileName dir
    (
        time().rootPath()/time().globalCaseName()/"postProcessing"/name()
       /time().timeName()
    );
    mkDir(dir);
    const fileName file
    (
        dir/(Pstream::parRun() ? "processor" + Foam::name(Pstream::myProcNo()) : word("data"))
        + ".csv"
    );
    OFstream os(file);
    os.precision(12);
    os  << "x,y,z,delta,s";
    for (const auto& featureName : mlcfd::EddyViscosityClosure::featureNames())
    {
        os << ',' << featureName.c_str();
    }
    for (const char* c : {"xx", "xy", "xz", "yx", "yy", "yz", "zx", "zy", "zz"})
    {
        os << ",gradU" << c;
    }
    os  << ",tauXX,tauXY,tauXZ,tauYY,tauYZ,tauZZ\n";

    const vectorField& C = mesh_.C().primitiveField();
    for (label celli = 0; celli < n; ++celli)
    {
        os  << C[celli].x() << ',' << C[celli].y() << ',' << C[celli].z() << ','
            << delta[celli] << ',' << scale[celli];
        for (std::size_t k = 0; k < F; ++k)
        {
            os << ',' << features[F*celli + k];
        }
        for (direction k = 0; k < tensor::nComponents; ++k)
        {
            os << ',' << gradUf[celli][k];
        }
        for (direction k = 0; k < symmTensor::nComponents; ++k)
        {
            os << ',' << tau[celli][k];
        }
        os << '\n';
    }

    Uf.write();
    tau.write();
    Log << type() << ' ' << name() << ": wrote " << n << " rows to " << file << endl;
    return true;
}


// ************************************************************************* //
