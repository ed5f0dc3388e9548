/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "neuralEddyViscosity.H"
#include "fvOptions.H"

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
    closure_ = this->template loadClosure<mlcfd::EddyViscosityClosure>
    (
        "Write an eddy-viscosity model with 'mlcfd-model create smagorinsky'"
        " or common/python/mlcfd_model.py."
    );
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
        this->evaluationFailed(e);
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
    )
{
    if (type == typeName)
    {
        this->printCoeffs(type);
    }
    loadModel();
}


// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

} // End namespace LESModels
} // End namespace Foam

// ************************************************************************* //
