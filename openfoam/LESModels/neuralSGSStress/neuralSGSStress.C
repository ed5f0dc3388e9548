/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "neuralSGSStress.H"
#include "fvOptions.H"
#include "fvc.H"
#include "modelSettings.H"

#include "mlcfd/TensorBasisClosure.h"

// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

namespace Foam
{
namespace LESModels
{

//- The divergence scheme of the explicit stress in system/fvSchemes
static const char* const divSchemeName = "div(tauSGSExtra)";


// * * * * * * * * * * * * Protected Member Functions  * * * * * * * * * * * //

template<class BasicTurbulenceModel>
void neuralSGSStress<BasicTurbulenceModel>::loadModel()
{
    const dictionary& dict = this->coeffDict_;
    const fileName file(mlcfdModelSettings::modelEntry(dict));
    const fileName path(mlcfdModelSettings::modelPath(dict, this->runTime_));

    try
    {
        closure_ = std::make_shared<mlcfd::TensorBasisClosure>
        (
            path, mlcfdModelSettings::options(dict)
        );
    }
    catch (const std::exception& e)
    {
        FatalIOErrorInFunction(dict)
            << "Cannot use the model of entry 'model' (" << file << "):" << nl
            << "    " << e.what() << nl
            << "Write a tensor-basis model with 'mlcfd-model create"
            << " tensorBasisSmagorinsky' or common/python/mlcfd_model.py."
            << exit(FatalIOError);
    }
    modelFile_ = file;

    Info<< "    neuralSGSStress: model " << file << " ("
        << closure_->model().metadata().description.c_str() << "), "
        << label(closure_->basisCount()) << " basis tensors, on "
        << closure_->model().device().c_str() << endl;
}


template<class BasicTurbulenceModel>
void neuralSGSStress<BasicTurbulenceModel>::correctNut()
{
    const tmp<volTensorField> tgradU(fvc::grad(this->U_));
    const volScalarField& delta = this->delta();
    scalarField& nutCells = this->nut_.primitiveFieldRef();
    symmTensorField& tauCells = tauExtra_.primitiveFieldRef();

    // OpenFOAM's (symm)tensors are contiguous scalars: no copies.
    try
    {
        closure_->computeStress
        (
            reinterpret_cast<const scalar*>(tgradU().primitiveField().cdata()),
            delta.primitiveField().cdata(),
            static_cast<std::size_t>(nutCells.size()),
            nutCells.data(),
            reinterpret_cast<scalar*>(tauCells.data())
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
    tauExtra_.correctBoundaryConditions();
    fv::options::New(this->mesh_).correct(this->nut_);

    BasicTurbulenceModel::correctNut();
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

template<class BasicTurbulenceModel>
neuralSGSStress<BasicTurbulenceModel>::neuralSGSStress
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
    ),

    // Coupled patches (cyclic, processor) take their constraint types;
    // elsewhere the stress is zero on the boundary.
    tauExtra_
    (
        IOobject
        (
            IOobject::groupName("tauSGSExtra", this->alphaRhoPhi_.group()),
            this->runTime_.timeName(),
            this->mesh_,
            IOobject::NO_READ,
            IOobject::AUTO_WRITE
        ),
        this->mesh_,
        dimensionedSymmTensor(sqr(dimVelocity), Zero)
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
bool neuralSGSStress<BasicTurbulenceModel>::read()
{
    if (LESeddyViscosity<BasicTurbulenceModel>::read())
    {
        Ck_.readIfPresent(this->coeffDict());
        if (mlcfdModelSettings::modelEntry(this->coeffDict()) != modelFile_)
        {
            loadModel();
        }
        return true;
    }

    return false;
}


template<class BasicTurbulenceModel>
tmp<volScalarField> neuralSGSStress<BasicTurbulenceModel>::k() const
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
tmp<volScalarField> neuralSGSStress<BasicTurbulenceModel>::epsilon() const
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
tmp<volSymmTensorField> neuralSGSStress<BasicTurbulenceModel>::R() const
{
    return LESeddyViscosity<BasicTurbulenceModel>::R() + dev(tauExtra_);
}


template<class BasicTurbulenceModel>
tmp<volSymmTensorField> neuralSGSStress<BasicTurbulenceModel>::devRhoReff() const
{
    return
        LESeddyViscosity<BasicTurbulenceModel>::devRhoReff()
      + (this->alpha_*this->rho_)*dev(tauExtra_);
}


template<class BasicTurbulenceModel>
tmp<fvVectorMatrix> neuralSGSStress<BasicTurbulenceModel>::divDevRhoReff
(
    volVectorField& U
) const
{
    return
        LESeddyViscosity<BasicTurbulenceModel>::divDevRhoReff(U)
      + fvc::div((this->alpha_*this->rho_)*dev(tauExtra_), divSchemeName);
}


template<class BasicTurbulenceModel>
tmp<fvVectorMatrix> neuralSGSStress<BasicTurbulenceModel>::divDevRhoReff
(
    const volScalarField& rho,
    volVectorField& U
) const
{
    return
        LESeddyViscosity<BasicTurbulenceModel>::divDevRhoReff(rho, U)
      + fvc::div((this->alpha_*rho)*dev(tauExtra_), divSchemeName);
}


template<class BasicTurbulenceModel>
void neuralSGSStress<BasicTurbulenceModel>::correct()
{
    LESeddyViscosity<BasicTurbulenceModel>::correct();
    correctNut();
}


// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

} // End namespace LESModels
} // End namespace Foam

// ************************************************************************* //
