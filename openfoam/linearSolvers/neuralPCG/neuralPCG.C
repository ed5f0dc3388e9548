/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "neuralPCG.H"
#include "modelSettings.H"
#include "neuralPCGState.H"
#include "PrecisionAdaptor.H"
#include "OSspecific.H"
#include "Time.H"

#include "mlcfd/FlexibleCG.h"
#include "mlcfd/ModelError.h"

#include <algorithm>
#include <exception>

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
    defineTypeNameAndDebug(neuralPCG, 0);

    lduMatrix::solver::addsymMatrixConstructorToTable<neuralPCG>
        addneuralPCGSymMatrixConstructorToTable_;
}


// * * * * * * * * * * * * * Private Member Functions  * * * * * * * * * * * //

namespace
{

//- "(nx ny nz)" as the user wrote it (OpenFOAM's List output adds the size)
Foam::string gridString(const Foam::labelList& grid)
{
    Foam::string s("(");
    forAll(grid, dir)
    {
        s += (dir ? " " : "") + Foam::name(grid[dir]);
    }
    return s + ")";
}

} // End anonymous namespace


Foam::scalar Foam::neuralPCG::diagonalSign() const
{
    const label comm = matrix().mesh().comm();
    const scalarField& diag = matrix().diag();

    const scalar minDiag = gMin(diag, comm);
    const scalar maxDiag = gMax(diag, comm);

    if (maxDiag < 0)
    {
        return -1;
    }
    if (minDiag > 0)
    {
        return 1;
    }

    // Name a local row that breaks the sign of the first one.
    label row = -1;
    forAll(diag, celli)
    {
        if (diag[celli] == 0 || sign(diag[celli]) != sign(diag[0]))
        {
            row = celli;
            break;
        }
    }
    FatalIOErrorInFunction(controlDict_)
        << "solver neuralPCG needs a matrix whose diagonal entries are all"
        << " positive or all negative, but the matrix for field "
        << fieldName_ << " has diagonal entries from " << minDiag << " to "
        << maxDiag;
    if (row >= 0)
    {
        FatalIOError
            << " (row " << row << " of processor " << Pstream::myProcNo()
            << ": " << diag[row] << ", row 0: " << diag[0] << ")";
    }
    FatalIOError
        << ". Use PCG or GAMG for this field." << exit(FatalIOError);

    return 1;
}


void Foam::neuralPCG::writeSystem
(
    const label index,
    const mlcfd::CSRMatrix& csr,
    const std::vector<double>& rhs
) const
{
    const Time& runTime = matrix().mesh().thisDb().time();
    const fileName dir =
        runTime.globalPath()/"postProcessing"/"linearSystems";
    mkDir(dir);

    word name = fieldName_ + "_" + Foam::name(index);
    if (Pstream::parRun())
    {
        name += "_proc" + Foam::name(Pstream::myProcNo());
    }
    const fileName path = dir/(name + ".csr");

    mlcfd::writeCSRSystem(path, csr, rhs);
    Info<< "neuralPCG:  wrote system " << index << " of " << fieldName_
        << " to " << runTime.relativePath(path) << endl;
}


// * * * * * * * * * * * * * Protected Member Functions  * * * * * * * * * * //

void Foam::neuralPCG::readControls()
{
    lduMatrix::solver::readControls();

    modelFile_ = mlcfdModelSettings::modelPath
    (
        controlDict_,
        matrix().mesh().thisDb().time()
    );
    modelFile_.clean();

    // Defaults: the core's (one place for them).
    const mlcfd::FlexibleCGSettings defaults;
    const label kept = controlDict_.lookupOrDefault<label>
    (
        "keptDirections",
        label(defaults.keptDirections)
    );
    if (kept < 1)
    {
        FatalIOErrorInFunction(controlDict_)
            << "entry 'keptDirections " << kept
            << "' must be at least 1" << exit(FatalIOError);
    }
    settings_.keptDirections = std::size_t(kept);
    settings_.safeguard =
        controlDict_.lookupOrDefault<bool>("safeguard", defaults.safeguard);
    settings_.compareWithCG =
        controlDict_.lookupOrDefault<bool>("compareWithCG", defaults.compareWithCG);
    settings_.abandonRatio =
        controlDict_.lookupOrDefault<scalar>("abandonRatio", defaults.abandonRatio);
    if (settings_.abandonRatio < 0)
    {
        FatalIOErrorInFunction(controlDict_)
            << "entry 'abandonRatio " << settings_.abandonRatio
            << "' must be >= 0 (0: never abandon the network)"
            << exit(FatalIOError);
    }
    const label trueResidualEvery = controlDict_.lookupOrDefault<label>
    (
        "trueResidualEvery",
        label(defaults.trueResidualEvery)
    );
    if (trueResidualEvery < 0)
    {
        FatalIOErrorInFunction(controlDict_)
            << "entry 'trueResidualEvery " << trueResidualEvery
            << "' must be >= 0 (0: never)" << exit(FatalIOError);
    }
    settings_.trueResidualEvery = std::size_t(trueResidualEvery);

    grid_.clear();
    controlDict_.readIfPresent("grid", grid_);
    if (grid_.size() && (grid_.size() < 2 || grid_.size() > 3 || min(grid_) < 1))
    {
        FatalIOErrorInFunction(controlDict_)
            << "entry 'grid " << gridString(grid_).c_str() << "' must give 2 or 3 positive cell"
            << " counts (nx ny [nz])" << exit(FatalIOError);
    }

    modelOptions_ = mlcfdModelSettings::options(controlDict_);
    writeSystems_ = controlDict_.lookupOrDefault<label>("writeSystems", 0);

    if (!isFile(modelFile_))
    {
        mlcfdModelSettings::fail
        (
            controlDict_,
            "the model file \"" + modelFile_ + "\" does not exist"
        );
    }
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::neuralPCG::neuralPCG
(
    const word& fieldName,
    const lduMatrix& matrix,
    const FieldField<Field, scalar>& interfaceBouCoeffs,
    const FieldField<Field, scalar>& interfaceIntCoeffs,
    const lduInterfaceFieldPtrsList& interfaces,
    const dictionary& solverControls
)
:
    lduMatrix::solver
    (
        fieldName,
        matrix,
        interfaceBouCoeffs,
        interfaceIntCoeffs,
        interfaces,
        solverControls
    ),
    modelFile_(),
    settings_(),
    grid_(),
    modelOptions_(),
    writeSystems_(0)
{
    // The base class constructor called its own readControls().
    readControls();
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

Foam::solverPerformance Foam::neuralPCG::solve
(
    scalarField& psi_s,
    const scalarField& source_s,
    const direction cmpt
) const
{
    PrecisionAdaptor<solveScalar, scalar> tpsi(psi_s);
    solveScalarField& psi = tpsi.ref();
    const solveScalarField& source =
        ConstPrecisionAdaptor<solveScalar, scalar>(source_s)();

    solverPerformance solverPerf(typeName, fieldName_);

    const label nCells = psi.size();
    const label comm = matrix().mesh().comm();

    // Residual and normalisation factor exactly as PCG.
    solveScalarField wA(nCells);
    solveScalarField pA(nCells);
    matrix_.Amul(wA, psi, interfaceBouCoeffs_, interfaces_, cmpt);
    const solveScalarField rA(source - wA);
    const solveScalar normFactor = this->normFactor(psi, source, wA, pA);

    solverPerf.initialResidual() = gSumMag(rA, comm)/normFactor;
    solverPerf.finalResidual() = solverPerf.initialResidual();

    if (minIter_ <= 0 && solverPerf.checkConvergence(tolerance_, relTol_))
    {
        return solverPerf;
    }

    const scalar sign = diagonalSign();

    neuralPCGState& state =
        neuralPCGState::New(matrix().mesh().thisDb(), fieldName_);
    const mlcfd::CSRMatrix& csr = state.updateMatrix(matrix(), sign);

    using Vector = mlcfd::FlexibleCG::Vector;
    Vector b(nCells), x(nCells);
    for (label celli = 0; celli < nCells; ++celli)
    {
        b[celli] = sign*source[celli];
        x[celli] = psi[celli];
    }

    if (state.systemsWritten() < writeSystems_)
    {
        try
        {
            writeSystem(state.systemsWritten(), csr, b);
        }
        catch (const std::exception& e)
        {
            FatalIOErrorInFunction(controlDict_)
                << "entry 'writeSystems': " << e.what() << exit(FatalIOError);
        }
        state.countWrittenSystem();
    }

    mlcfd::LearnedPreconditioner* preconditionerPtr = nullptr;
    try
    {
        preconditionerPtr =
            &state.preconditioner(modelFile_, modelOptions_, grid_, controlDict_);
    }
    catch (const mlcfd::ModelError& e)
    {
        mlcfdModelSettings::fail(controlDict_, e.what());
    }
    catch (const std::exception& e)
    {
        // Matrix errors: a grid model without 'grid', or one that does not
        // fit the local rows.
        label gridCells = 1;
        forAll(grid_, dir)
        {
            gridCells *= grid_[dir];
        }
        FatalIOErrorInFunction(controlDict_)
            << "model " << modelFile_ << " cannot precondition the matrix of "
            << fieldName_ << " (" << nCells << " rows on processor "
            << Pstream::myProcNo() << "): " << e.what() << nl
            << "    entry 'grid' ";
        if (grid_.empty())
        {
            FatalIOError << "is missing (grid models need it)";
        }
        else
        {
            FatalIOError
                << gridString(grid_).c_str() << " has " << gridCells
                << " cells";
        }
        FatalIOError << exit(FatalIOError);
    }
    mlcfd::LearnedPreconditioner& preconditioner = *preconditionerPtr;
    preconditioner.resetStatistics();

    // y = sign*A x with all interfaces (processor and cyclic patches).
    solveScalarField xField(nCells), yField(nCells);
    const auto A = [&](const Vector& xIn, Vector& y)
    {
        std::copy(xIn.begin(), xIn.end(), xField.begin());
        matrix_.Amul(yField, xField, interfaceBouCoeffs_, interfaces_, cmpt);
        for (label celli = 0; celli < nCells; ++celli)
        {
            y[celli] = sign*yField[celli];
        }
    };
    const auto M = [&preconditioner](const Vector& r, Vector& z)
    {
        z.resize(r.size());
        preconditioner.apply(r, z);
    };
    const auto dot = [comm](const Vector& u, const Vector& v)
    {
        double sum = 0;
        for (std::size_t i = 0; i < u.size(); ++i)
        {
            sum += u[i]*v[i];
        }
        reduce(sum, sumOp<double>(), Pstream::msgType(), comm);
        return sum;
    };
    // OpenFOAM's stopping test on |b - A x| (the sign does not change it).
    const auto converged = [&](const Vector& r, std::size_t iteration)
    {
        double sumMag = 0;
        for (const double ri : r)
        {
            sumMag += std::abs(ri);
        }
        reduce(sumMag, sumOp<double>(), Pstream::msgType(), comm);
        solverPerf.finalResidual() = sumMag/normFactor;
        solverPerf.nIterations() = label(iteration);
        return
            label(iteration) >= minIter_
         && solverPerf.checkConvergence(tolerance_, relTol_);
    };

    mlcfd::FlexibleCGSettings settings = settings_;
    settings.maxIterations = std::max<label>(maxIter_, 0);

    mlcfd::FlexibleCGResult result;
    try
    {
        result = mlcfd::FlexibleCG(settings).solve(A, M, b, x, dot, converged);
    }
    catch (const std::exception& e)
    {
        FatalErrorInFunction
            << "neuralPCG for field " << fieldName_ << " (model "
            << modelFile_ << "): " << e.what() << exit(FatalError);
    }

    for (label celli = 0; celli < nCells; ++celli)
    {
        psi[celli] = x[celli];
    }
    solverPerf.nIterations() = label(result.iterations);
    // Also sets converged() from the final (true) residual.
    solverPerf.checkConvergence(tolerance_, relTol_);

    neuralPCGState::solveStatistics& stats = state.last();
    stats.iterations = label(result.iterations);
    stats.uselessDirections = label(result.fallbacks + result.cgSteps);
    stats.plainCG = result.plainCG;
    stats.abandonedAt = label(result.abandonedAt);
    stats.networkApplications = label(preconditioner.applications());
    stats.nonFiniteOutputs =
        returnReduce(label(preconditioner.fallbacks()), sumOp<label>());
    stats.inferenceSeconds =
        returnReduce(preconditioner.inferenceSeconds(), maxOp<scalar>());
    // Useless directions are the same on every rank: count them once.
    state.rangeReport().update
    (
        matrix().mesh().thisDb().time(),
        preconditioner.takeRangeCount(),
        preconditioner.rangeCheck(),
        preconditioner.metadata(),
        preconditioner.path(),
        Pstream::master() ? stats.uselessDirections : 0
    );

    if (lduMatrix::debug)
    {
        Info<< typeName << ":  " << fieldName_ << ": "
            << stats.networkApplications << " network applications in "
            << stats.inferenceSeconds << " s, "
            << stats.uselessDirections << " useless directions, ";
        if (stats.abandonedAt > 0)
        {
            Info<< "network abandoned after " << stats.abandonedAt
                << " iterations, ";
        }
        else if (stats.plainCG)
        {
            Info<< "plain CG converged first, ";
        }
        Info<< stats.nonFiniteOutputs << " non-finite outputs" << endl;
    }

    return solverPerf;
}


// ************************************************************************* //
