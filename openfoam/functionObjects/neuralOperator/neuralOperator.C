/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "neuralOperator.H"
#include "modelSettings.H"
#include "fvc.H"
#include "fvm.H"
#include "gaussLaplacianScheme.H"
#include "linear.H"
#include "wallFvPatch.H"
#include "coupledFvPatch.H"
#include "processorFvPatch.H"
#include "processorCyclicFvPatch.H"
#include "globalIndex.H"
#include "syncTools.H"
#include "addToRunTimeSelectionTable.H"

#include "mlcfd/Model.h"
#include "mlcfd/SubdomainConstraint.h"

#include <chrono>
#include <type_traits>

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
namespace functionObjects
{
    defineTypeNameAndDebug(neuralOperator, 0);
    addToRunTimeSelectionTable(functionObject, neuralOperator, dictionary);
}
}


// * * * * * * * * * * * * * * * Local Functions * * * * * * * * * * * * * * //

namespace
{

double secondsSince(const std::chrono::steady_clock::time_point& start)
{
    return std::chrono::duration<double>
    (
        std::chrono::steady_clock::now() - start
    ).count();
}

} // End anonymous namespace


// * * * * * * * * * * * * Private Member Functions  * * * * * * * * * * * * //

Foam::label Foam::functionObjects::neuralOperator::componentCount
(
    const word& fieldName
) const
{
    if (foundObject<volScalarField>(fieldName)) return 1;
    if (foundObject<volVectorField>(fieldName)) return 3;
    if (foundObject<volSymmTensorField>(fieldName)) return 6;
    if (foundObject<volTensorField>(fieldName)) return 9;
    if (fieldName == "C") return 3;     // the cell centres
    return 0;
}


void Foam::functionObjects::neuralOperator::appendInput
(
    const word& fieldName,
    const label column,
    const label width
)
{
    const scalar* data = nullptr;
    label nCmpt = 0;
    if (const auto* f = findObject<volScalarField>(fieldName))
    {
        data = f->primitiveField().cdata(), nCmpt = 1;
    }
    else if (const auto* f = findObject<volVectorField>(fieldName))
    {
        data = reinterpret_cast<const scalar*>(f->primitiveField().cdata()), nCmpt = 3;
    }
    else if (const auto* f = findObject<volSymmTensorField>(fieldName))
    {
        data = reinterpret_cast<const scalar*>(f->primitiveField().cdata()), nCmpt = 6;
    }
    else if (const auto* f = findObject<volTensorField>(fieldName))
    {
        data = reinterpret_cast<const scalar*>(f->primitiveField().cdata()), nCmpt = 9;
    }
    else if (fieldName == "C")
    {
        data = reinterpret_cast<const scalar*>(mesh_.C().primitiveField().cdata()), nCmpt = 3;
    }
    else
    {
        FatalErrorInFunction
            << type() << ' ' << name() << ": input field " << fieldName
            << " is not a registered vol field at time "
            << time().timeName() << exit(FatalError);
    }

    const label n = mesh_.nCells();
    for (label celli = 0; celli < n; ++celli)
    {
        for (label k = 0; k < nCmpt; ++k)
        {
            rows_[celli*width + column + k] = data[celli*nCmpt + k];
        }
    }
}


template<class Type>
bool Foam::functionObjects::neuralOperator::evaluate
(
    const double networkSeconds
)
{
    typedef GeometricField<Type, fvPatchField, volMesh> fieldType;

    const fieldType* likePtr = findObject<fieldType>(like_);
    if (!likePtr)
    {
        return false;
    }
    const fieldType& like = *likePtr;
    const label n = mesh_.nCells();
    const label nCmpt = pTraits<Type>::nComponents;

    // The network's values as they come, patches holding the cell values.
    Field<Type> values(n);
    for (label celli = 0; celli < n; ++celli)
    {
        for (label k = 0; k < nCmpt; ++k)
        {
            setComponent(values[celli], k) = values_[celli*nCmpt + k];
        }
    }

    rawField_.clear();
    field_.clear();

    auto* raw = new fieldType
    (
        IOobject
        (
            output_ + "Raw",
            time().timeName(),
            mesh_,
            IOobject::NO_READ,
            IOobject::NO_WRITE
        ),
        mesh_,
        like.dimensions(),
        values
    );
    rawField_.reset(raw);
    for (auto& pf : raw->boundaryFieldRef())
    {
        if (!pf.coupled())
        {
            pf == pf.patchInternalField();
        }
    }
    raw->correctBoundaryConditions();

    // The output: 'like' with the network's values inside, its own boundary
    // conditions evaluated on them. Empty directions (2-D) hold 0.
    auto* field = new fieldType
    (
        IOobject
        (
            output_,
            time().timeName(),
            mesh_,
            IOobject::NO_READ,
            IOobject::NO_WRITE
        ),
        like
    );
    field_.reset(field);
    Field<Type>& inside = field->primitiveFieldRef();
    inside = values;
    if (std::is_same<Type, vector>::value && mesh_.nSolutionD() < 3)
    {
        for (direction d = 0; d < vector::nComponents; ++d)
        {
            if (mesh_.solutionD()[d] < 0)
            {
                for (Type& v : inside)
                {
                    setComponent(v, d) = 0;
                }
            }
        }
    }
    field->correctBoundaryConditions();

    // Boundary condition error: output against 'like' where 'like' fixes
    // the value (its patch holds the prescribed values at this time).
    scalar bcError = 0;
    label fixedFaces = 0;
    forAll(like.boundaryField(), patchi)
    {
        const fvPatchField<Type>& prescribed = like.boundaryField()[patchi];
        if (prescribed.fixesValue())
        {
            const Field<Type> diff(field->boundaryField()[patchi] - prescribed);
            fixedFaces += diff.size();
            forAll(diff, facei)
            {
                bcError = max(bcError, mag(diff[facei]));
            }
        }
    }
    reduce(bcError, maxOp<scalar>());
    reduce(fixedFaces, sumOp<label>());

    Log << type() << ' ' << name() << ": " << output_ << " from "
        << returnReduce(n, sumOp<label>()) << " cells, network "
        << networkSeconds << " s; max |patch - prescribed| over "
        << fixedFaces << " fixed-value faces = " << bcError << endl;

    if (conserveFlux_)
    {
        project
        (
            refCast<const volVectorField>(*field),
            refCast<const volVectorField>(*raw),
            networkSeconds,
            bcError
        );
    }
    else if (Pstream::master() && writeToFile())
    {
        writeCurrentTime(file());
        file()
            << tab << networkSeconds << tab << bcError << endl;
    }
    return true;
}


void Foam::functionObjects::neuralOperator::project
(
    const volVectorField& U,
    const volVectorField& Uraw,
    const double networkSeconds,
    const scalar bcError
)
{
    const auto start = std::chrono::steady_clock::now();

    rawFlux_.clear();
    flux_.clear();
    rawFlux_.reset
    (
        new surfaceScalarField
        (
            IOobject(output_ + "RawFlux", time().timeName(), mesh_),
            linearInterpolate(Uraw) & mesh_.Sf()
        )
    );
    flux_.reset
    (
        new surfaceScalarField
        (
            IOobject(output_ + "Flux", time().timeName(), mesh_),
            linearInterpolate(U) & mesh_.Sf()
        )
    );
    surfaceScalarField& phi = flux_.ref();

    // Sigma_f = gammaMagSf_f*deltaCoeffs_f on internal and coupled faces.
    const surfaceScalarField& deltaCoeffs = mesh_.nonOrthDeltaCoeffs();
    const surfaceScalarField gammaMagSf
    (
        unitWeights_
      ? surfaceScalarField(1/deltaCoeffs)
      : surfaceScalarField(mesh_.magSf())
    );

    // pc: zeroGradient (flux held) where U is fixed or a wall, the constraint
    // type on constraint patches, 0 elsewhere (outlets).
    const fvBoundaryMesh& patches = mesh_.boundary();
    wordList pcTypes(patches.size());
    forAll(patches, patchi)
    {
        const fvPatch& p = patches[patchi];
        if (polyPatch::constraintType(p.type()))
        {
            pcTypes[patchi] = p.type();
        }
        else if (U.boundaryField()[patchi].fixesValue() || isA<wallFvPatch>(p))
        {
            pcTypes[patchi] = "zeroGradient";
        }
        else
        {
            pcTypes[patchi] = "fixedValue";
        }
    }
    volScalarField pc
    (
        IOobject
        (
            "pc",
            time().timeName(),
            mesh_,
            IOobject::NO_READ,
            IOobject::NO_WRITE,
            false
        ),
        mesh_,
        dimensionedScalar
        (
            phi.dimensions()/(deltaCoeffs.dimensions()*gammaMagSf.dimensions()),
            Zero
        ),
        pcTypes
    );

    const volScalarField divBefore(fvc::div(phi));
    label iterations = 0;
    scalar finalResidual = 0;
    word solverName("subdomains");
    if (subdomainProjection_)
    {
        try
        {
            projectBySubdomains
            (
                phi,
                pcTypes,
                surfaceScalarField(gammaMagSf*deltaCoeffs),
                iterations,
                finalResidual
            );
        }
        catch (const std::exception& e)
        {
            // Fatal on this rank stops the others too (they may be waiting
            // in the coarse step's gather).
            FatalErrorInFunction
                << "projection subdomains of " << phi.name() << " failed: "
                << e.what() << exit(FatalError);
        }
    }
    else
    {
    mesh_.setFluxRequired(pc.name());
    fvScalarMatrix pcEqn
    (
        fv::gaussLaplacianScheme<scalar, scalar>::fvmLaplacianUncorrected
        (
            gammaMagSf,
            deltaCoeffs,
            pc
        )
     == divBefore
    );
    pcEqn.setReference(Pstream::master() ? 0 : -1, 0);

    dictionary solverControls;
    if (mesh_.solutionDict().subOrEmptyDict("solvers").found(pc.name()))
    {
        solverControls = mesh_.solverDict(pc.name());
    }
    else
    {
        solverControls.add("solver", word("PCG"));
        solverControls.add("preconditioner", word("DIC"));
        solverControls.add("tolerance", 1e-15);
        solverControls.add("relTol", 0.0);
        solverControls.add("maxIter", 1000);
    }
    const SolverPerformance<scalar> performance = pcEqn.solve(solverControls);
    phi -= pcEqn.flux();
    iterations = performance.nIterations();
    finalResidual = performance.finalResidual();
    solverName = performance.solverName();
    }
    const double projectionSeconds = secondsSince(start);

    // The residuals.
    const scalarField& V = mesh_.V();
    const volScalarField divRaw(fvc::div(rawFlux_()));
    const volScalarField divAfter(fvc::div(phi));
    const scalar maxRaw = gMax(mag(divRaw.primitiveField())());
    const scalar maxBefore = gMax(mag(divBefore.primitiveField())());
    const scalar maxAfter = gMax(mag(divAfter.primitiveField())());
    const scalar relative = maxAfter/max(maxBefore, VSMALL);
    const scalar sumRaw = gSum(divRaw.primitiveField()*V);
    const scalar sumBefore = gSum(divBefore.primitiveField()*V);
    const scalar sumAfter = gSum(divAfter.primitiveField()*V);

    Log << type() << ' ' << name() << ": " << phi.name()
        << " max|div| per cell: raw " << maxRaw << ", before projection "
        << maxBefore << ", after " << maxAfter << " (relative " << relative
        << "); global sum: raw " << sumRaw << ", before " << sumBefore
        << ", after " << sumAfter << "; " << solverName
        << ' ' << iterations << " iterations, residual "
        << finalResidual << "; projection "
        << projectionSeconds << " s vs network " << networkSeconds << " s"
        << endl;

    if (Pstream::master() && writeToFile())
    {
        writeCurrentTime(file());
        file()
            << tab << networkSeconds << tab << projectionSeconds
            << tab << bcError << tab << maxRaw << tab << maxBefore
            << tab << maxAfter << tab << relative << tab << sumRaw
            << tab << sumAfter << tab << iterations
            << tab << finalResidual << endl;
    }
}


void Foam::functionObjects::neuralOperator::buildSubdomains
(
    const wordList& pcTypes
)
{
    const fvBoundaryMesh& patches = mesh_.boundary();
    const label nCells = mesh_.nCells();
    const label nInternal = mesh_.nInternalFaces();

    // G: the net outward flux of every cell over the internal faces, the
    // faces of free patches (pc fixedValue) and the processor faces; held
    // faces go into b.
    DynamicList<labelPair> free, processor;
    DynamicList<scalar> signs;
    forAll(patches, patchi)
    {
        const fvPatch& p = patches[patchi];
        if (pcTypes[patchi] == "fixedValue")
        {
            forAll(p, facei)
            {
                free.append(labelPair(patchi, facei));
            }
        }
        else if (isA<processorFvPatch>(p))
        {
            const processorFvPatch& pp = refCast<const processorFvPatch>(p);
            const scalar sign = pp.myProcNo() < pp.neighbProcNo() ? 1 : -1;
            forAll(p, facei)
            {
                processor.append(labelPair(patchi, facei));
                signs.append(sign);
            }
        }
    }
    freeBoundaryFaces_.transfer(free);
    processorFaces_.transfer(processor);
    processorSigns_.transfer(signs);

    const label nOwn = nInternal + freeBoundaryFaces_.size();
    std::vector<std::vector<std::pair<std::int64_t, double>>> entries(nCells);
    const labelUList& owner = mesh_.owner();
    const labelUList& neighbour = mesh_.neighbour();
    for (label facei = 0; facei < nInternal; ++facei)
    {
        entries[owner[facei]].emplace_back(facei, 1.0);
        entries[neighbour[facei]].emplace_back(facei, -1.0);
    }
    forAll(freeBoundaryFaces_, k)
    {
        const labelPair& pf = freeBoundaryFaces_[k];
        entries[patches[pf.first()].faceCells()[pf.second()]]
            .emplace_back(nInternal + k, 1.0);
    }
    forAll(processorFaces_, k)
    {
        const labelPair& pf = processorFaces_[k];
        entries[patches[pf.first()].faceCells()[pf.second()]]
            .emplace_back(nOwn + k, processorSigns_[k]);
    }
    mlcfd::CSRMatrix G;
    G.rows = nCells;
    G.cols = nOwn + processorFaces_.size();
    G.rowStart.assign(1, 0);
    for (auto& row : entries)
    {
        std::sort(row.begin(), row.end());
        for (const auto& entry : row)
        {
            G.column.push_back(entry.first);
            G.value.push_back(entry.second);
        }
        G.rowStart.push_back(G.column.size());
    }
    mlcfd::SubdomainConstraintOptions options;
    options.threads = subdomainThreads_;
    options.externalCoarse = Pstream::parRun();
    if (options.externalCoarse)
    {
        forAll(processorFaces_, k)
        {
            options.sharedColumns.push_back(nOwn + k);
        }
    }
    std::vector<std::size_t> part(mlcfd::partitionRows(G, subdomainCells_));
    subdomainConstraint_.reset
    (
        new mlcfd::SubdomainConstraint(std::move(G), std::move(part), options)
    );

    coarseProblem_.reset();
    if (Pstream::parRun())
    {
        // Global numbers of the coarse columns: a rank's own faces by rank,
        // a processor face by the lower rank's number, sent to the other side.
        const globalIndex own(nOwn);
        const globalIndex shared
        (
            label(std::count(processorSigns_.begin(), processorSigns_.end(), 1))
        );
        labelList boundaryNumber(mesh_.nBoundaryFaces(), -1);
        label lower = 0;
        forAll(processorFaces_, k)
        {
            const labelPair& pf = processorFaces_[k];
            if (processorSigns_[k] > 0)
            {
                boundaryNumber[patches[pf.first()].start() - nInternal + pf.second()] =
                    own.size() + shared.toGlobal(lower++);
            }
        }
        syncTools::swapBoundaryFaceList(mesh_, boundaryNumber);
        labelList processorNumber(processorFaces_.size());
        lower = 0;
        forAll(processorFaces_, k)
        {
            const labelPair& pf = processorFaces_[k];
            processorNumber[k] =
                processorSigns_[k] > 0
              ? own.size() + shared.toGlobal(lower++)
              : boundaryNumber[patches[pf.first()].start() - nInternal + pf.second()];
        }

        const mlcfd::CSRMatrix& C = subdomainConstraint_->coarseMatrix();
        const std::vector<std::size_t>& columns = subdomainConstraint_->coarseColumns();
        List<labelList> rowStarts(Pstream::nProcs()), entryColumns(Pstream::nProcs()),
            numbers(Pstream::nProcs());
        List<scalarList> values(Pstream::nProcs());
        const label me = Pstream::myProcNo();
        rowStarts[me] = labelList(C.rowStart.begin(), C.rowStart.end());
        entryColumns[me] = labelList(C.column.begin(), C.column.end());
        values[me] = scalarList(C.value.begin(), C.value.end());
        numbers[me].setSize(columns.size());
        forAll(numbers[me], k)
        {
            const label c = columns[k];
            numbers[me][k] = c < nOwn ? own.toGlobal(c) : processorNumber[c - nOwn];
        }
        Pstream::gatherList(rowStarts);
        Pstream::gatherList(entryColumns);
        Pstream::gatherList(values);
        Pstream::gatherList(numbers);
        if (Pstream::master())
        {
            std::vector<mlcfd::CSRMatrix> matrices(Pstream::nProcs());
            std::vector<std::vector<std::int64_t>> globalColumns(Pstream::nProcs());
            forAll(matrices, proci)
            {
                mlcfd::CSRMatrix& A = matrices[proci];
                A.rows = rowStarts[proci].size() - 1;
                A.cols = numbers[proci].size();
                A.rowStart.assign(rowStarts[proci].begin(), rowStarts[proci].end());
                A.column.assign(entryColumns[proci].begin(), entryColumns[proci].end());
                A.value.assign(values[proci].begin(), values[proci].end());
                globalColumns[proci].assign(numbers[proci].begin(), numbers[proci].end());
            }
            coarseProblem_.reset
            (
                new mlcfd::DistributedCoarseProblem(matrices, globalColumns)
            );
        }
    }

    const label subdomains =
        returnReduce(label(subdomainConstraint_->subdomains()), sumOp<label>());
    Info<< type() << ' ' << name() << ": projection by " << subdomains
        << " subdomains of about " << subdomainCells_ << " cells, ";
    if (Pstream::parRun())
    {
        Info<< label(coarseProblem_ ? coarseProblem_->columns() : 0)
            << " faces between them, on free patches or between ranks ("
            << Pstream::nProcs() << " ranks, coarse step on the master)" << endl;
    }
    else
    {
        Info<< label(subdomainConstraint_->interfaceColumns())
            << " faces between them or on free patches" << endl;
    }
}


void Foam::functionObjects::neuralOperator::coarseStepOverRanks
(
    const std::vector<double>& residual,
    const std::vector<double>& variances,
    std::vector<double>& values
) const
{
    const label me = Pstream::myProcNo();
    List<scalarList> allResiduals(Pstream::nProcs()), allVariances(Pstream::nProcs()),
        allValues(Pstream::nProcs());
    allResiduals[me] = scalarList(residual.begin(), residual.end());
    allVariances[me] = scalarList(variances.begin(), variances.end());
    allValues[me] = scalarList(values.begin(), values.end());
    Pstream::gatherList(allResiduals);
    Pstream::gatherList(allVariances);
    Pstream::gatherList(allValues);
    if (Pstream::master())
    {
        std::vector<std::vector<double>> r(Pstream::nProcs()), d(Pstream::nProcs()),
            u(Pstream::nProcs());
        forAll(allValues, proci)
        {
            r[proci].assign(allResiduals[proci].begin(), allResiduals[proci].end());
            d[proci].assign(allVariances[proci].begin(), allVariances[proci].end());
            u[proci].assign(allValues[proci].begin(), allValues[proci].end());
        }
        coarseIterations_ = coarseProblem_->solve(r, d, u).iterations;
        forAll(allValues, proci)
        {
            allValues[proci] = scalarList(u[proci].begin(), u[proci].end());
        }
    }
    // scatterList would keep each rank's own (uncorrected) entry: the
    // master's whole list goes to every rank.
    Pstream::scatter(allValues);
    values.assign(allValues[me].begin(), allValues[me].end());
}


void Foam::functionObjects::neuralOperator::projectBySubdomains
(
    surfaceScalarField& phi,
    const wordList& pcTypes,
    const surfaceScalarField& sigma,
    label& iterations,
    scalar& residual
)
{
    const fvBoundaryMesh& patches = mesh_.boundary();
    const label nCells = mesh_.nCells();
    const label nInternal = mesh_.nInternalFaces();
    // G follows the topology: rebuilt when the mesh changed (also between
    // executions) or its cell or column count differs.
    if
    (
        !subdomainConstraint_
     || mesh_.changing()
     || label(subdomainConstraint_->rows()) != nCells
     || label(subdomainConstraint_->cols())
     != nInternal + freeBoundaryFaces_.size() + processorFaces_.size()
    )
    {
        buildSubdomains(pcTypes);
    }

    const label nOwn = nInternal + freeBoundaryFaces_.size();
    const label nCols = nOwn + processorFaces_.size();
    std::vector<double> flux(nCols), variance(nCols), b(nCells, 0.0);
    for (label facei = 0; facei < nInternal; ++facei)
    {
        flux[facei] = phi[facei];
        variance[facei] = sigma[facei];
    }
    forAll(freeBoundaryFaces_, k)
    {
        const labelPair& pf = freeBoundaryFaces_[k];
        flux[nInternal + k] = phi.boundaryField()[pf.first()][pf.second()];
        variance[nInternal + k] = sigma.boundaryField()[pf.first()][pf.second()];
    }
    forAll(processorFaces_, k)
    {
        // The lower rank's orientation: both sides see the same value.
        const labelPair& pf = processorFaces_[k];
        flux[nOwn + k] = processorSigns_[k]*phi.boundaryField()[pf.first()][pf.second()];
        variance[nOwn + k] = sigma.boundaryField()[pf.first()][pf.second()];
    }
    forAll(patches, patchi)
    {
        if (pcTypes[patchi] == "fixedValue" || isA<processorFvPatch>(patches[patchi]))
        {
            continue;
        }
        const labelUList& cells = patches[patchi].faceCells();
        const scalarField& held = phi.boundaryField()[patchi];
        forAll(held, facei)
        {
            b[cells[facei]] -= held[facei];
        }
    }
    if (returnReduce(freeBoundaryFaces_.size(), sumOp<label>()) == 0)
    {
        // No flux can leave: the master's first cell takes the held fluxes'
        // imbalance, as the global path's reference cell does.
        double imbalance = 0;
        for (double v : b) imbalance += v;
        reduce(imbalance, sumOp<double>());
        const label first =
            returnReduce(nCells ? Pstream::myProcNo() : Pstream::nProcs(), minOp<label>());
        if (Pstream::myProcNo() == first)
        {
            b[0] -= imbalance;
        }
    }

    mlcfd::ConstraintReport report;
    coarseIterations_ = 0;
    if (Pstream::parRun())
    {
        report = subdomainConstraint_->apply
        (
            flux.data(), variance.data(), b.data(), flux.data(),
            [this]
            (
                const std::vector<double>& r,
                const std::vector<double>& d,
                std::vector<double>& u
            )
            {
                coarseStepOverRanks(r, d, u);
            }
        );
    }
    else
    {
        report = subdomainConstraint_->apply
        (
            flux.data(), variance.data(), b.data(), flux.data()
        );
    }
    for (label facei = 0; facei < nInternal; ++facei)
    {
        phi[facei] = flux[facei];
    }
    forAll(freeBoundaryFaces_, k)
    {
        const labelPair& pf = freeBoundaryFaces_[k];
        phi.boundaryFieldRef()[pf.first()][pf.second()] = flux[nInternal + k];
    }
    forAll(processorFaces_, k)
    {
        const labelPair& pf = processorFaces_[k];
        phi.boundaryFieldRef()[pf.first()][pf.second()] = processorSigns_[k]*flux[nOwn + k];
    }
    iterations =
        returnReduce(label(report.iterations), sumOp<label>()) + coarseIterations_;
    residual = returnReduce(scalar(report.constraintResidual), maxOp<scalar>());
}


void Foam::functionObjects::neuralOperator::writeFileHeader(Ostream& os) const
{
    writeHeader(os, "neuralOperator " + output_ + " (model " + modelFile_ + ")");
    writeCommented(os, "Time");
    writeTabbed(os, "networkSeconds");
    if (conserveFlux_)
    {
        writeTabbed(os, "projectionSeconds");
    }
    writeTabbed(os, "bcError");
    if (conserveFlux_)
    {
        writeTabbed(os, "maxDivRaw");
        writeTabbed(os, "maxDivBefore");
        writeTabbed(os, "maxDivAfter");
        writeTabbed(os, "relativeDivAfter");
        writeTabbed(os, "globalSumRaw");
        writeTabbed(os, "globalSumAfter");
        writeTabbed(os, "iterations");
        writeTabbed(os, "finalResidual");
    }
    os << endl;
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::functionObjects::neuralOperator::neuralOperator
(
    const word& name,
    const Time& runTime,
    const dictionary& dict
)
:
    fvMeshFunctionObject(name, runTime, dict),
    writeFile(mesh_, name, typeName, dict),
    conserveFlux_(false),
    unitWeights_(true),
    subdomainProjection_(false),
    subdomainCells_(256),
    subdomainThreads_(1)
{
    read(dict);
    if (Pstream::master() && writeToFile())
    {
        writeFileHeader(file());
    }
}


Foam::functionObjects::neuralOperator::~neuralOperator()
{}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

bool Foam::functionObjects::neuralOperator::read(const dictionary& dict)
{
    fvMeshFunctionObject::read(dict);
    writeFile::read(dict);

    inputs_ = dict.get<wordList>("inputs");
    output_ = dict.get<word>("output");
    like_ = dict.get<word>("like");
    conserveFlux_ = dict.getOrDefault<bool>("conserveFlux", false);
    const word weights(dict.getOrDefault<word>("weights", "unit"));
    if (weights != "unit" && weights != "area")
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'weights' must be unit or area, not " << weights
            << exit(FatalIOError);
    }
    unitWeights_ = (weights == "unit");
    const word projection(dict.getOrDefault<word>("projection", "global"));
    if (projection != "global" && projection != "subdomains")
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'projection' must be global or subdomains, not "
            << projection << exit(FatalIOError);
    }
    subdomainProjection_ = (projection == "subdomains");
    subdomainCells_ = dict.getOrDefault<label>("subdomainCells", 256);
    subdomainThreads_ = dict.getOrDefault<label>("subdomainThreads", 1);
    if (subdomainCells_ < 1 || subdomainThreads_ < 0)
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'subdomainCells' must be at least 1 and "
            << "'subdomainThreads' at least 0 (0: one per core), not "
            << subdomainCells_ << " and " << subdomainThreads_
            << exit(FatalIOError);
    }
    if (subdomainProjection_)
    {
        for (const fvPatch& p : mesh_.boundary())
        {
            if
            (
                isA<coupledFvPatch>(p)
             && (!isA<processorFvPatch>(p) || isA<processorCyclicFvPatch>(p))
            )
            {
                FatalIOErrorInFunction(dict)
                    << "Entry 'projection subdomains' does not take coupled"
                    << " patches, but patch " << p.name() << " is "
                    << p.type() << ". Use 'projection global'"
                    << exit(FatalIOError);
            }
        }
    }
    subdomainConstraint_.reset();

    // Input and output widths from the case's fields.
    label width = 0;
    for (const word& input : inputs_)
    {
        const label nCmpt = componentCount(input);
        if (!nCmpt)
        {
            FatalIOErrorInFunction(dict)
                << "Entry 'inputs': " << input << " is not a registered"
                << " volScalarField, volVectorField, volSymmTensorField or"
                << " volTensorField (nor C, the cell centres)"
                << exit(FatalIOError);
        }
        width += nCmpt;
    }
    const label outWidth = componentCount(like_);
    if (!outWidth || like_ == "C")
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'like': " << like_ << " is not a registered vol field"
            << exit(FatalIOError);
    }
    if (conserveFlux_ && !foundObject<volVectorField>(like_))
    {
        FatalIOErrorInFunction(dict)
            << "Entry 'conserveFlux yes' needs a vector output, but 'like' ("
            << like_ << ") is not a volVectorField" << exit(FatalIOError);
    }

    // The model: the 'model' entry relative to the case root (also in
    // decomposed runs, where the case is processorN).
    const fileName file(mlcfdModelSettings::modelEntry(dict));
    model_ = mlcfdModelSettings::load<mlcfd::Model>(dict, time());
    if (label(model_->inputCount()) != width)
    {
        FatalIOErrorInFunction(dict)
            << "The model of entry 'model' (" << file << ") takes "
            << label(model_->inputCount()) << " inputs, but entry 'inputs' "
            << inputs_ << " gives " << width << " columns" << exit(FatalIOError);
    }
    if (label(model_->outputCount()) != outWidth)
    {
        FatalIOErrorInFunction(dict)
            << "The model of entry 'model' (" << file << ") returns "
            << label(model_->outputCount()) << " outputs, but entry 'like' ("
            << like_ << ") has " << outWidth << " components"
            << exit(FatalIOError);
    }
    modelFile_ = file;
    rangeReport_.reset(new mlcfdTrainingRangeReport(dict, name(), file));

    Info<< "    " << type() << ' ' << name() << ": model " << file << " ("
        << model_->metadata().description.c_str() << ") on "
        << model_->device().c_str() << ", " << width << " inputs from "
        << inputs_ << ", output " << output_ << " like " << like_
        << (conserveFlux_ ? word(", flux projected (weights " + weights + ", " + projection + ")") : word())
        << endl;
    return true;
}


bool Foam::functionObjects::neuralOperator::execute()
{
    const label n = mesh_.nCells();
    const label width = model_->inputCount();
    const label outWidth = model_->outputCount();

    rows_.resize(std::size_t(n)*width);
    values_.resize(std::size_t(n)*outWidth);
    label column = 0;
    for (const word& input : inputs_)
    {
        appendInput(input, column, width);
        column += componentCount(input);
    }

    const auto start = std::chrono::steady_clock::now();
    try
    {
        model_->evaluate(rows_.data(), n, width, values_.data(), outWidth);
    }
    catch (const std::exception& e)
    {
        FatalErrorInFunction
            << "Evaluating the model " << modelFile_ << " at time "
            << time().timeName() << " failed:" << nl
            << "    " << e.what() << exit(FatalError);
    }
    const double networkSeconds = secondsSince(start);
    rangeReport_->update
    (
        time(),
        model_->takeRangeCount(),
        model_->rangeCheck(),
        model_->metadata(),
        model_->path()
    );

    if
    (
        !evaluate<scalar>(networkSeconds)
     && !evaluate<vector>(networkSeconds)
     && !evaluate<symmTensor>(networkSeconds)
     && !evaluate<tensor>(networkSeconds)
    )
    {
        FatalErrorInFunction
            << type() << ' ' << name() << ": field " << like_
            << " (entry 'like') is gone" << exit(FatalError);
    }
    return true;
}


bool Foam::functionObjects::neuralOperator::write()
{
    for (regIOobject* io : {field_.get(), rawField_.get()})
    {
        if (io)
        {
            io->instance() = time().timeName();
            io->write();
        }
    }
    for (surfaceScalarField* phi : {flux_.get(), rawFlux_.get()})
    {
        if (phi)
        {
            phi->instance() = time().timeName();
            phi->write();
        }
    }
    return true;
}


// ************************************************************************* //
