/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "neuralLESModel.H"
#include "modelSettings.H"

// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

namespace Foam
{
namespace LESModels
{

// * * * * * * * * * * * * Protected Member Functions  * * * * * * * * * * * //

template<class BasicTurbulenceModel>
template<class Closure>
std::shared_ptr<Closure> neuralLESModel<BasicTurbulenceModel>::loadClosure
(
    const char* howToWrite
)
{
    const dictionary& dict = this->coeffDict_;
    const fileName file(mlcfdModelSettings::modelEntry(dict));

    const std::shared_ptr<Closure> closure =
        mlcfdModelSettings::load<Closure>(dict, this->runTime_, howToWrite);
    modelFile_ = file;
    readMaxNutRatio();
    rangeReport_.reset
    (
        new mlcfdTrainingRangeReport
        (
            dict,
            this->type(),
            file,
            "nutAboveBound",
            "cells with nu_t/nu > " + Foam::name(maxNutRatio_)
        )
    );

    Info<< "    " << this->type() << ": model " << file << " ("
        << closure->model().metadata().description.c_str() << ") on "
        << closure->model().device().c_str() << endl;
    return closure;
}


template<class BasicTurbulenceModel>
void neuralLESModel<BasicTurbulenceModel>::evaluationFailed
(
    const std::exception& e
) const
{
    FatalErrorInFunction
        << "Evaluating the model " << modelFile_ << " at time "
        << this->runTime_.timeName() << " failed:" << nl
        << "    " << e.what() << exit(FatalError);
}


template<class BasicTurbulenceModel>
template<class Closure>
Foam::scalarField neuralLESModel<BasicTurbulenceModel>::regimeViscosity
(
    const Closure& closure
) const
{
    return closure.readsRegime() ? scalarField(this->nu()().primitiveField()) : scalarField();
}


template<class BasicTurbulenceModel>
void neuralLESModel<BasicTurbulenceModel>::readMaxNutRatio()
{
    const dictionary& dict = this->coeffDict_;
    maxNutRatio_ = dict.getOrDefault<scalar>("maxNutRatio", 1e4);
    if (!(maxNutRatio_ > 0))
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'maxNutRatio " << maxNutRatio_ << "' in " << dict.name()
            << " must be > 0 (the largest plausible nu_t/nu)" << exit(FatalIOError);
    }
}


template<class BasicTurbulenceModel>
void neuralLESModel<BasicTurbulenceModel>::reportRange
(
    const mlcfd::Model& model,
    const mlcfd::RangeCount& count
)
{
    const tmp<volScalarField> tnu(this->nu());
    const scalarField& nu = tnu().primitiveField();
    const scalarField& nut = this->nut_.primitiveField();
    label implausible = 0;
    forAll(nut, celli)
    {
        if (nut[celli] > maxNutRatio_*nu[celli]) ++implausible;
    }
    rangeReport_->update
    (
        this->runTime_,
        count,
        model.rangeCheck(),
        model.metadata(),
        model.path(),
        implausible
    );
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

template<class BasicTurbulenceModel>
neuralLESModel<BasicTurbulenceModel>::neuralLESModel
(
    const word& type,
    const alphaField& alpha,
    const rhoField& rho,
    const volVectorField& U,
    const surfaceScalarField& alphaRhoPhi,
    const surfaceScalarField& phi,
    const transportModel& transport,
    const word& propertiesName
)
:
    LESeddyViscosity<BasicTurbulenceModel>
    (
        type,
        alpha,
        rho,
        U,
        alphaRhoPhi,
        phi,
        transport,
        propertiesName
    ),

    Ck_
    (
        dimensioned<scalar>::lookupOrAddToDict
        (
            "Ck",
            this->coeffDict_,
            0.094
        )
    ),
    maxNutRatio_(1e4)
{}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

template<class BasicTurbulenceModel>
bool neuralLESModel<BasicTurbulenceModel>::read()
{
    if (LESeddyViscosity<BasicTurbulenceModel>::read())
    {
        Ck_.readIfPresent(this->coeffDict());
        readMaxNutRatio();
        if (mlcfdModelSettings::modelEntry(this->coeffDict()) != modelFile_)
        {
            loadModel();
        }
        return true;
    }

    return false;
}


template<class BasicTurbulenceModel>
tmp<volScalarField> neuralLESModel<BasicTurbulenceModel>::k() const
{
    return tmp<volScalarField>
    (
        new volScalarField
        (
            IOobject
            (
                IOobject::groupName("k", this->alphaRhoPhi_.group()),
                this->runTime_.timeName(),
                this->mesh_
            ),
            sqr(this->nut_/(Ck_*this->delta()))
        )
    );
}


template<class BasicTurbulenceModel>
tmp<volScalarField> neuralLESModel<BasicTurbulenceModel>::epsilon() const
{
    const volScalarField k(this->k());

    return tmp<volScalarField>
    (
        new volScalarField
        (
            IOobject
            (
                IOobject::groupName("epsilon", this->alphaRhoPhi_.group()),
                this->runTime_.timeName(),
                this->mesh_
            ),
            this->Ce_*k*sqrt(k)/this->delta()
        )
    );
}


template<class BasicTurbulenceModel>
void neuralLESModel<BasicTurbulenceModel>::correct()
{
    LESeddyViscosity<BasicTurbulenceModel>::correct();
    this->correctNut();
}


// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

} // End namespace LESModels
} // End namespace Foam

// ************************************************************************* //
