/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "neuralSGSStress.H"
#include "fvOptions.H"
#include "fvc.H"

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
    closure_ = this->template loadClosure<mlcfd::TensorBasisClosure>
    (
        "Write a tensor-basis model with 'mlcfd-model create"
        " tensorBasisSmagorinsky' or common/python/mlcfd_model.py."
    );
}


template<class BasicTurbulenceModel>
void neuralSGSStress<BasicTurbulenceModel>::correctNut()
{
    const tmp<volTensorField> tgradU(fvc::grad(this->U_));
    const volScalarField& delta = this->delta();
    scalarField& nutCells = this->nut_.primitiveFieldRef();
    symmTensorField& tauCells = tauExtra_.primitiveFieldRef();

    // OpenFOAM's (symm)tensors are contiguous scalars: no copies.
    const scalarField nu(this->regimeViscosity(*closure_));
    try
    {
        closure_->computeStress
        (
            reinterpret_cast<const scalar*>(tgradU().primitiveField().cdata()),
            delta.primitiveField().cdata(),
            nu.empty() ? nullptr : nu.cdata(),
            static_cast<std::size_t>(nutCells.size()),
            nutCells.data(),
            reinterpret_cast<scalar*>(tauCells.data())
        );
    }
    catch (const std::exception& e)
    {
        this->evaluationFailed(e);
    }

    this->nut_.correctBoundaryConditions();
    tauExtra_.correctBoundaryConditions();
    fv::options::New(this->mesh_).correct(this->nut_);
    this->reportRange(closure_->model(), closure_->model().takeRangeCount());

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
    neuralLESModel<BasicTurbulenceModel>
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


// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

} // End namespace LESModels
} // End namespace Foam

// ************************************************************************* //
