/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "neuralEddyViscosity.H"
#include "fvOptions.H"
#include "modelSettings.H"

#include "mlcfd/EddyViscosityClosure.h"

// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

namespace Foam
{
namespace LESModels
{

// * * * * * * * * * * * * Protected Member Functions  * * * * * * * * * * * //

template<class BasicTurbulenceModel>
void neuralEddyViscosity<BasicTurbulenceModel>::loadModel()
{
    const dictionary& dict = this->coeffDict_;
    const fileName file(mlcfdModelSettings::modelEntry(dict));
    const fileName path(mlcfdModelSettings::modelPath(dict, this->runTime_));
    const mlcfd::ModelOptions options(mlcfdModelSettings::options(dict));

    try
    {
        closure_ = std::make_shared<mlcfd::EddyViscosityClosure>(path, options);
    }
    catch (const std::exception& e)
    {
        FatalIOErrorInFunction(dict)
            << "Cannot use the model of entry 'model' (" << file << "):" << nl
            << "    " << e.what() << nl
            << "Write an eddy-viscosity model with 'mlcfd-model create' or"
            << " common/python/mlcfd_model.py." << exit(FatalIOError);
    }
    modelFile_ = file;

    Info<< "    neuralEddyViscosity: model " << file << " ("
        << closure_->model().metadata().description.c_str() << ") on "
        << closure_->model().device().c_str() << endl;
}


template<class BasicTurbulenceModel>
void neuralEddyViscosity<BasicTurbulenceModel>::correctNut()
{
    const tmp<volTensorField> tgradU(fvc::grad(this->U_));
    const volScalarField& delta = this->delta();

    // OpenFOAM's tensors are 9 contiguous scalars: the core reads them as is.
    const scalarField& deltaCells = delta.primitiveField();
    scalarField& nutCells = this->nut_.primitiveFieldRef();
    try
    {
        closure_->computeNut
        (
            reinterpret_cast<const scalar*>(tgradU().primitiveField().cdata()),
            deltaCells.cdata(),
            static_cast<std::size_t>(nutCells.size()),
            nutCells.data()
        );
    }
    catch (const std::exception& e)
    {
        FatalErrorInFunction
            << "Evaluating the model " << modelFile_ << " at time "
            << this->runTime_.timeName() << " failed:" << nl
            << "    " << e.what() << exit(FatalError);
    }

    this->nut_.correctBoundaryConditions();
    fv::options::New(this->mesh_).correct(this->nut_);

    BasicTurbulenceModel::correctNut();
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

template<class BasicTurbulenceModel>
neuralEddyViscosity<BasicTurbulenceModel>::neuralEddyViscosity
(
    const alphaField& alpha,
    const rhoField& rho,
    const volVectorField& U,
    const surfaceScalarField& alphaRhoPhi,
    const surfaceScalarField& phi,
    const transportModel& transport,
    const word& propertiesName,
    const word& type
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
    )
{
    if (type == typeName)
    {
        this->printCoeffs(type);
    }
    loadModel();
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

template<class BasicTurbulenceModel>
bool neuralEddyViscosity<BasicTurbulenceModel>::read()
{
    if (LESeddyViscosity<BasicTurbulenceModel>::read())
    {
        Ck_.readIfPresent(this->coeffDict());
        if (this->coeffDict().template get<fileName>("model") != modelFile_)
        {
            loadModel();
        }
        return true;
    }

    return false;
}


template<class BasicTurbulenceModel>
tmp<volScalarField> neuralEddyViscosity<BasicTurbulenceModel>::k() const
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
tmp<volScalarField> neuralEddyViscosity<BasicTurbulenceModel>::epsilon() const
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
void neuralEddyViscosity<BasicTurbulenceModel>::correct()
{
    LESeddyViscosity<BasicTurbulenceModel>::correct();
    correctNut();
}


// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

} // End namespace LESModels
} // End namespace Foam

// ************************************************************************* //
