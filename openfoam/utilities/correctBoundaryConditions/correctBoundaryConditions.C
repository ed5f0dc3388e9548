/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
-------------------------------------------------------------------------------
Application
    correctBoundaryConditions

Group
    grpPreProcessingUtilities

Description
    Re-evaluates the boundary conditions of volume fields and writes them
    back. Run it after decomposePar on periodic cases: decomposePar of
    OpenFOAM v1912 fills a processorCyclic patch (a cyclic pair split between
    processors) with the values of its own cells instead of the neighbour's,
    and a solver that builds the initial flux from U (createPhi) starts from
    a wrong flux on those faces, so decomposed and serial runs differ.

Usage
    \verbatim
    decomposePar
    mpirun -np 2 correctBoundaryConditions -parallel -fields '(U)'
    \endverbatim

    Options:
      - \par -fields '(U p)'
        Fields to correct (default: U)

\*---------------------------------------------------------------------------*/

#include "fvCFD.H"

// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

template<class FieldType>
bool correctAndWrite(IOobject io, const fvMesh& mesh)
{
    if (!io.typeHeaderOk<FieldType>(true))
    {
        return false;
    }
    FieldType field(io, mesh);
    field.correctBoundaryConditions();
    field.write();
    Info<< "    corrected " << FieldType::typeName << ' ' << io.name() << endl;
    return true;
}


int main(int argc, char *argv[])
{
    argList::addNote
    (
        "Re-evaluate the boundary conditions of volume fields and write them"
        " (after decomposePar of periodic cases)"
    );
    argList::addOption("fields", "wordList", "Fields to correct (default: U)");

    #include "addTimeOptions.H"
    #include "setRootCase.H"
    #include "createTime.H"
    #include "createMesh.H"

    wordList fieldNames({"U"});
    args.readListIfPresent("fields", fieldNames);

    Info<< "Time = " << runTime.timeName() << endl;
    for (const word& name : fieldNames)
    {
        const IOobject io
        (
            name,
            runTime.timeName(),
            mesh,
            IOobject::MUST_READ,
            IOobject::NO_WRITE
        );
        const bool done =
            correctAndWrite<volScalarField>(io, mesh)
         || correctAndWrite<volVectorField>(io, mesh)
         || correctAndWrite<volSymmTensorField>(io, mesh)
         || correctAndWrite<volTensorField>(io, mesh);

        if (!done)
        {
            FatalErrorInFunction
                << "Entry '" << name << "' of -fields: no volume field "
                << name << " in " << runTime.timePath()
                << exit(FatalError);
        }
    }

    Info<< "End\n" << endl;
    return 0;
}


// ************************************************************************* //
