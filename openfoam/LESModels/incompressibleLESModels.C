/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
-------------------------------------------------------------------------------
Description
    Registers mlcfd's LES models with OpenFOAM's incompressible turbulence
    models (pimpleFoam, pisoFoam, ...), selectable by LESModel.

\*---------------------------------------------------------------------------*/

#include "turbulentTransportModels.H"
#include "neuralEddyViscosity.H"
#include "neuralSGSStress.H"

makeLESModel(neuralEddyViscosity);
makeLESModel(neuralSGSStress);

// ************************************************************************* //
