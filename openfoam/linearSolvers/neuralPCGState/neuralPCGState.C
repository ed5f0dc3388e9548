/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "neuralPCGState.H"
#include "objectRegistry.H"
#include "Time.H"

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
    defineTypeNameAndDebug(neuralPCGState, 0);
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::neuralPCGState::neuralPCGState
(
    const objectRegistry& db,
    const word& fieldName
)
:
    regIOobject
    (
        IOobject
        (
            name(fieldName),
            db.time().constant(),
            db,
            IOobject::NO_READ,
            IOobject::NO_WRITE,
            true
        )
    ),
    fieldName_(fieldName),
    modelFile_(),
    device_(),
    grid_(),
    matrix_(),
    preconditioner_(),
    systemsWritten_(0),
    last_()
{}


// * * * * * * * * * * * * * * * Static Functions  * * * * * * * * * * * * * //

Foam::word Foam::neuralPCGState::name(const word& fieldName)
{
    return "neuralPCG::" + fieldName;
}


Foam::neuralPCGState& Foam::neuralPCGState::New
(
    const objectRegistry& db,
    const word& fieldName
)
{
    neuralPCGState* statePtr =
        db.getObjectPtr<neuralPCGState>(name(fieldName));

    if (!statePtr)
    {
        statePtr = new neuralPCGState(db, fieldName);
        regIOobject::store(statePtr);
    }

    return *statePtr;
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

const mlcfd::CSRMatrix& Foam::neuralPCGState::updateMatrix
(
    const lduMatrix& matrix,
    const scalar sign
)
{
    if (!matrix_ || !matrix_->matches(matrix.lduAddr()))
    {
        matrix_.reset(new lduCSRMatrix(matrix.lduAddr()));
        preconditioner_.reset();
    }
    matrix_->update(matrix, sign);
    return matrix_->csr();
}


mlcfd::LearnedPreconditioner& Foam::neuralPCGState::preconditioner
(
    const fileName& modelFile,
    const mlcfd::ModelOptions& modelOptions,
    const labelList& grid,
    const dictionary& controls
)
{
    if
    (
        preconditioner_
     && modelFile == modelFile_ && modelOptions.device == device_ && grid == grid_
    )
    {
        // Only the values changed: new scaling and edge weights, same network.
        preconditioner_->setMatrix(matrix_->csr());
        return *preconditioner_;
    }

    mlcfd::LearnedPreconditionerOptions options;
    options.device = modelOptions.device;
    options.threads = modelOptions.threads;
    options.grid.assign(grid.begin(), grid.end());
    options.rangeMargin = modelOptions.rangeMargin;

    preconditioner_.reset();
    preconditioner_.reset
    (
        new mlcfd::LearnedPreconditioner(modelFile, matrix_->csr(), options)
    );
    modelFile_ = modelFile;
    device_ = modelOptions.device;
    grid_ = grid;
    rangeReport_.reset
    (
        new mlcfdTrainingRangeReport
        (
            controls,
            "neuralPCG_" + fieldName_,
            modelFile,
            "uselessDirections",
            "useless network directions",
            false   // counted, as the solver's own log does: not a warning
        )
    );

    return *preconditioner_;
}


// ************************************************************************* //
