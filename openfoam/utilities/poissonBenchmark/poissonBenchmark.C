/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
-------------------------------------------------------------------------------
Application
    mlcfdPoissonBenchmark

Group
    grpMlcfdUtilities

Description
    Compares linear solvers on one Poisson problem: assembles
    \verbatim
        fvm::laplacian(p) == s
    \endverbatim
    with the boundary conditions of 0/p and a smooth random source s (a sum
    of Fourier modes with random amplitudes and phases, fixed seed), and
    solves it from p = 0 with each solver sub-dictionary of
    system/fvSolution's `benchmark` dictionary, to tolerance 0 and relTol
    1e-6 (unless the benchmark dictionary sets others).

    If p needs a reference level (zeroGradient on every patch: pure
    Neumann), the source is shifted to zero mean (the system is then
    consistent) and the matrix is made regular with setReference in cell 0
    (value 0), as pimpleFoam does with pRefCell.

    Every solver solves `repeats` times (default 2); the table gives the
    first solve's wall time (with set-up: GAMG's agglomeration, loading
    the network) and the last one's, its iterations, the inference time of
    neuralPCG's network in the last solve, and the largest difference of
    the solution to the first solver's, relative to the latter's maximum.

Usage
    \verbatim
    mlcfdPoissonBenchmark [-seed 1] [-modes 8] [-negate] [-parallel]
    \endverbatim
    -negate solves the same problem as -laplacian(p) == -s: the matrix has
    a positive diagonal (fvm::laplacian's is negative).
    with, in system/fvSolution:
    \verbatim
    benchmark
    {
        relTol      1e-6;   // optional, default 1e-6 (tolerance is 0)
        repeats     2;      // optional, default 2
        DICPCG      { solver PCG; preconditioner DIC; }
        GAMG        { solver GAMG; smoother DICGaussSeidel; }
        CG          { solver PCG; preconditioner none; }
        neuralPCG   { solver neuralPCG; model "constant/models/p.pt"; }
    }
    \endverbatim
    Prints a markdown table.

SourceFiles
    poissonBenchmark.C

\*---------------------------------------------------------------------------*/

#include "fvCFD.H"
#include "Random.H"
#include "neuralPCGState.H"

#include <chrono>

// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

namespace
{

//- A smooth random field: nModes Fourier modes with wave numbers 1..3 per
//- solved direction of the mesh's bounding box
Foam::tmp<Foam::volScalarField> smoothRandomSource
(
    const Foam::fvMesh& mesh,
    const Foam::label seed,
    const Foam::label nModes
)
{
    using namespace Foam;

    const boundBox& box = mesh.bounds();
    const vector span = box.span();
    const Vector<label>& solved = mesh.solutionD();

    tmp<volScalarField> ts
    (
        new volScalarField
        (
            IOobject("source", mesh.time().timeName(), mesh),
            mesh,
            dimensionedScalar(dimless/dimArea, Zero)
        )
    );
    scalarField& s = ts.ref().primitiveFieldRef();

    Random rng(seed);
    for (label mode = 0; mode < nModes; ++mode)
    {
        vector k(Zero);
        for (direction dir = 0; dir < vector::nComponents; ++dir)
        {
            if (solved[dir] == 1)
            {
                k[dir] = constant::mathematical::pi
                   *(1 + rng.position<label>(0, 2))/span[dir];
            }
        }
        const scalar amplitude = rng.sample01<scalar>() - 0.5;
        const scalar phase =
            constant::mathematical::twoPi*rng.sample01<scalar>();

        forAll(s, celli)
        {
            const vector x = mesh.C()[celli] - box.min();
            s[celli] += amplitude*::cos((k & x) + phase);
        }
    }

    return ts;
}

} // End anonymous namespace


int main(int argc, char *argv[])
{
    argList::addNote
    (
        "Solves fvm::laplacian(p) == s with every solver of"
        " fvSolution::benchmark and prints iterations and times"
    );
    argList::addOption("seed", "label", "Source's random seed (default 1)");
    argList::addOption("modes", "label", "Source's Fourier modes (default 8)");
    argList::addBoolOption
    (
        "negate",
        "Solve -laplacian(p) == -s instead (a positive diagonal)"
    );

    #include "setRootCase.H"
    #include "createTime.H"
    #include "createMesh.H"

    const label seed = args.getOrDefault<label>("seed", 1);
    const label nModes = args.getOrDefault<label>("modes", 8);

    volScalarField p
    (
        IOobject
        (
            "p",
            runTime.timeName(),
            mesh,
            IOobject::MUST_READ,
            IOobject::NO_WRITE
        ),
        mesh
    );

    tmp<volScalarField> tsource = smoothRandomSource(mesh, seed, nModes);
    volScalarField& source = tsource.ref();
    source.dimensions().reset(p.dimensions()/dimArea);

    const bool pureNeumann = p.needReference();
    if (pureNeumann)
    {
        source.primitiveFieldRef() -=
            gSum(source.primitiveField()*mesh.V())/gSum(mesh.V());
    }

    const dictionary& benchmarkDict =
        mesh.solutionDict().subDict("benchmark");
    const scalar relTol =
        benchmarkDict.lookupOrDefault<scalar>("relTol", 1e-6);
    const label repeats = benchmarkDict.lookupOrDefault<label>("repeats", 2);
    if (repeats < 1)
    {
        FatalIOErrorInFunction(benchmarkDict)
            << "entry 'repeats " << repeats << "' must be at least 1"
            << exit(FatalIOError);
    }

    p.primitiveFieldRef() = 0;
    p.correctBoundaryConditions();

    fvScalarMatrix pEqn(fvm::laplacian(p) == source);
    if (args.found("negate"))
    {
        pEqn.negate();
    }
    if (pureNeumann)
    {
        pEqn.setReference(0, 0);
    }

    Info<< nl << "Poisson problem: " << returnReduce(mesh.nCells(), sumOp<label>())
        << " cells, " << (pureNeumann ? "pure Neumann (reference cell 0)" : "with Dirichlet patches")
        << ", source seed " << seed << ", " << nModes << " modes, tolerance 0,"
        << " relTol " << relTol << nl << endl;

    // Rows of the table, and the first solver's solution to compare with.
    DynamicList<string> rows;
    autoPtr<scalarField> reference;

    for (const entry& e : benchmarkDict)
    {
        if (!e.isDict())
        {
            continue;
        }
        const word& name = e.keyword();
        dictionary controls(e.dict());
        controls.set("tolerance", 0);
        controls.set("relTol", relTol);

        scalar firstSeconds = 0, lastSeconds = 0;
        solverPerformance perf;
        for (label repeat = 0; repeat < repeats; ++repeat)
        {
            p.primitiveFieldRef() = 0;
            p.correctBoundaryConditions();

            const auto start = std::chrono::steady_clock::now();
            perf = pEqn.solve(controls);
            lastSeconds = std::chrono::duration<scalar>
            (
                std::chrono::steady_clock::now() - start
            ).count();
            lastSeconds = returnReduce(lastSeconds, maxOp<scalar>());
            if (repeat == 0)
            {
                firstSeconds = lastSeconds;
            }
        }

        scalar inference = -1;
        const neuralPCGState* statePtr =
            mesh.findObject<neuralPCGState>(neuralPCGState::name(p.name()));
        if (controls.get<word>("solver") == "neuralPCG" && statePtr)
        {
            inference = statePtr->last().inferenceSeconds;
        }

        scalar difference = 0;
        if (!reference.valid())
        {
            reference.reset(new scalarField(p.primitiveField()));
        }
        else
        {
            difference =
                gMax(mag(p.primitiveField() - reference()))
               /max(gMax(mag(reference())), VSMALL);
        }

        OStringStream row;
        row << "| " << name << " | " << perf.nIterations()
            << " | " << perf.finalResidual()
            << " | " << firstSeconds << " | " << lastSeconds << " | ";
        if (inference >= 0)
        {
            row << inference;
        }
        else
        {
            row << "-";
        }
        row << " | " << difference << " |";
        rows.append(row.str());
    }

    Info<< nl
        << "| solver | iterations | final residual | first solve [s]"
        << " | solve [s] | inference [s] | max diff to first |" << nl
        << "|---|---:|---:|---:|---:|---:|---:|" << nl;
    for (const string& row : rows)
    {
        Info<< row.c_str() << nl;
    }
    Info<< nl << "End" << nl << endl;

    return 0;
}


// ************************************************************************* //
