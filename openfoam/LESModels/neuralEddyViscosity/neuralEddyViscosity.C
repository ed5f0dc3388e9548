/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "neuralEddyViscosity.H"
#include "fvOptions.H"
#include "simpleFilter.H"

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
void neuralEddyViscosity<BasicTurbulenceModel>::readDynamic()
{
    const dictionary& dict = this->coeffDict();
    dynamic_ = dict.lookupOrDefault<Switch>("dynamic", false);
    testFilterRatio_ = dict.lookupOrDefault<scalar>("testFilterRatio", 2);
    if (dynamic_ && testFilterRatio_ <= 1)
    {
        FatalIOErrorInFunction(dict)
            << "testFilterRatio " << testFilterRatio_ << " in " << dict.name()
            << " must be > 1 (test filter wider than the grid filter)"
            << exit(FatalIOError);
    }
    testFilter_.clear();
    if (dynamic_)
    {
        testFilter_ =
            dict.found("filter")
          ? LESfilter::New(this->mesh_, dict)
          : autoPtr<LESfilter>(new simpleFilter(this->mesh_));
    }
}


template<class BasicTurbulenceModel>
void neuralEddyViscosity<BasicTurbulenceModel>::evaluate
(
    const volTensorField& gradU,
    const scalarField& delta,
    scalarField& nut
)
{
    // OpenFOAM's tensors are 9 contiguous scalars: the core reads them as is.
    const scalarField nu(this->regimeViscosity(*closure_));
    try
    {
        closure_->computeNut
        (
            reinterpret_cast<const scalar*>(gradU.primitiveField().cdata()),
            delta.cdata(),
            nu.empty() ? nullptr : nu.cdata(),
            static_cast<std::size_t>(nut.size()),
            nut.data()
        );
    }
    catch (const std::exception& e)
    {
        this->evaluationFailed(e);
    }
}


template<class BasicTurbulenceModel>
scalar neuralEddyViscosity<BasicTurbulenceModel>::dynamicCoefficient
(
    const volTensorField& gradU
)
{
    const LESfilter& filter = testFilter_();
    const volVectorField& U = this->U_;
    const volVectorField Uf(filter(U));
    const volTensorField gradUf(fvc::grad(Uf));

    volScalarField nutTest("nutTest", this->nut_);
    evaluate
    (
        gradUf,
        scalarField(testFilterRatio_*this->delta().primitiveField()),
        nutTest.primitiveFieldRef()
    );
    nutTest.correctBoundaryConditions();

    const volSymmTensorField L(dev(filter(sqr(U)) - sqr(Uf)));
    const volSymmTensorField M
    (
        -2.0
       *(
            nutTest*dev(symm(gradUf))
          - filter(this->nut_*dev(symm(gradU)))
        )
    );
    const scalarField& V = this->mesh_.V();
    const scalar LM = gSum(V*(L.primitiveField() && M.primitiveField()));
    const scalar MM = gSum(V*(M.primitiveField() && M.primitiveField()));
    return MM > 0 ? max(LM/MM, scalar(0)) : scalar(0);
}


template<class BasicTurbulenceModel>
void neuralEddyViscosity<BasicTurbulenceModel>::correctNut()
{
    const tmp<volTensorField> tgradU(fvc::grad(this->U_));
    evaluate(tgradU(), this->delta().primitiveField(), this->nut_.primitiveFieldRef());
    this->nut_.correctBoundaryConditions();
    // The grid-filter rows only: the test-filter pass below is not the flow.
    const mlcfd::RangeCount count = closure_->model().takeRangeCount();

    if (dynamic_)
    {
        const scalar C = dynamicCoefficient(tgradU());
        closure_->model().takeRangeCount();
        Info<< this->type() << ": dynamic coefficient " << C << endl;
        this->nut_ *= C;
        this->nut_.correctBoundaryConditions();
    }

    fv::options::New(this->mesh_).correct(this->nut_);
    this->reportRange(closure_->model(), count);

    BasicTurbulenceModel::correctNut();
}


template<class BasicTurbulenceModel>
bool neuralEddyViscosity<BasicTurbulenceModel>::read()
{
    if (neuralLESModel<BasicTurbulenceModel>::read())
    {
        readDynamic();
        return true;
    }
    return false;
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
    ),
    dynamic_(false),
    testFilterRatio_(2)
{
    readDynamic();
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
