/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "lduCSRMatrix.H"
#include "cyclicLduInterface.H"

#include <algorithm>
#include <utility>
#include <vector>

// * * * * * * * * * * * * * Private Member Functions  * * * * * * * * * * * //

uint64_t Foam::lduCSRMatrix::checksum(const lduAddressing& addr)
{
    // FNV-1a over the sizes and the face-to-cell addresses.
    uint64_t hash = 1469598103934665603ull;
    const auto mix = [&hash](const uint64_t value)
    {
        hash ^= value;
        hash *= 1099511628211ull;
    };
    mix(addr.size());
    mix(addr.lowerAddr().size());
    forAll(addr.lowerAddr(), facei)
    {
        mix(addr.lowerAddr()[facei]);
        mix(addr.upperAddr()[facei]);
    }
    return hash;
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::lduCSRMatrix::lduCSRMatrix(const lduAddressing& addr)
:
    csr_(),
    diagPosition_(addr.size()),
    upperPosition_(addr.lowerAddr().size()),
    lowerPosition_(addr.lowerAddr().size()),
    interfacePosition_(),
    withCyclics_(false),
    addressingChecksum_(checksum(addr))
{
    const label nCells = addr.size();
    const labelUList& l = addr.lowerAddr();
    const labelUList& u = addr.upperAddr();
    // Faces by increasing upper (then lower) cell; faces are already ordered
    // by lower (then upper) cell, so each row's columns come out sorted:
    // lower neighbours, the diagonal, upper neighbours.
    const labelUList& losort = addr.losortAddr();
    const labelUList& losortStart = addr.losortStartAddr();
    const labelUList& ownerStart = addr.ownerStartAddr();

    csr_.rows = nCells;
    csr_.rowStart.resize(nCells + 1);
    csr_.column.resize(nCells + 2*l.size());
    csr_.value.assign(csr_.column.size(), 0.0);

    label position = 0;
    for (label celli = 0; celli < nCells; ++celli)
    {
        csr_.rowStart[celli] = position;
        for (label k = losortStart[celli]; k < losortStart[celli + 1]; ++k)
        {
            const label facei = losort[k];
            csr_.column[position] = l[facei];
            lowerPosition_[facei] = position++;
        }
        csr_.column[position] = celli;
        diagPosition_[celli] = position++;
        for (label facei = ownerStart[celli]; facei < ownerStart[celli + 1]; ++facei)
        {
            csr_.column[position] = u[facei];
            upperPosition_[facei] = position++;
        }
    }
    csr_.rowStart[nCells] = position;
}


Foam::lduCSRMatrix::lduCSRMatrix
(
    const lduAddressing& addr,
    const lduInterfaceFieldPtrsList& interfaces
)
:
    lduCSRMatrix(addr)
{
    withCyclics_ = true;
    interfacePosition_.setSize(interfaces.size());

    // Each row's entries as (column, source); sources: 0 the diagonal (any
    // row), 1 + facei upper, 1 + nFaces + facei lower, then the cyclic faces.
    const label nCells = addr.size();
    const label nFaces = addr.lowerAddr().size();
    std::vector<std::vector<std::pair<label, label>>> rows(nCells);
    forAll(diagPosition_, celli)
    {
        rows[celli].emplace_back(celli, 0);
    }
    const labelUList& l = addr.lowerAddr();
    const labelUList& u = addr.upperAddr();
    forAll(l, facei)
    {
        rows[l[facei]].emplace_back(u[facei], 1 + facei);
        rows[u[facei]].emplace_back(l[facei], 1 + nFaces + facei);
    }
    labelList base(interfaces.size(), -1);
    label next = 1 + 2*nFaces;
    forAll(interfaces, patchi)
    {
        if (!interfaces.set(patchi))
        {
            continue;
        }
        const lduInterface& patch = interfaces[patchi].interface();
        const cyclicLduInterface* cyclic = dynamic_cast<const cyclicLduInterface*>(&patch);
        if (!cyclic)
        {
            continue;
        }
        const labelUList& cells = patch.faceCells();
        const labelUList& nbrCells =
            interfaces[cyclic->neighbPatchID()].interface().faceCells();
        base[patchi] = next;
        forAll(cells, i)
        {
            rows[cells[i]].emplace_back(nbrCells[i], next + i);
        }
        next += cells.size();
    }

    // Sorted columns, equal ones merged.
    labelList position(next, -1);
    csr_.rowStart.assign(nCells + 1, 0);
    csr_.column.clear();
    for (label celli = 0; celli < nCells; ++celli)
    {
        std::vector<std::pair<label, label>>& row = rows[celli];
        std::stable_sort
        (
            row.begin(), row.end(),
            [](const std::pair<label, label>& a, const std::pair<label, label>& b)
            {
                return a.first < b.first;
            }
        );
        for (std::size_t k = 0; k < row.size(); ++k)
        {
            if (k == 0 || row[k].first != row[k - 1].first)
            {
                csr_.column.push_back(row[k].first);
            }
            position[row[k].second] = label(csr_.column.size()) - 1;
        }
        csr_.rowStart[celli + 1] = csr_.column.size();
    }
    csr_.value.assign(csr_.column.size(), 0.0);
    // The diagonal's source is 0 in every row: find it in the row.
    for (label celli = 0; celli < nCells; ++celli)
    {
        for (label k = csr_.rowStart[celli]; k < csr_.rowStart[celli + 1]; ++k)
        {
            if (csr_.column[k] == celli)
            {
                diagPosition_[celli] = k;
            }
        }
    }
    forAll(l, facei)
    {
        upperPosition_[facei] = position[1 + facei];
        lowerPosition_[facei] = position[1 + nFaces + facei];
    }
    forAll(interfaces, patchi)
    {
        if (base[patchi] < 0)
        {
            continue;
        }
        const label size = interfaces[patchi].interface().faceCells().size();
        interfacePosition_[patchi].setSize(size);
        forAll(interfacePosition_[patchi], i)
        {
            interfacePosition_[patchi][i] = position[base[patchi] + i];
        }
    }
}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

bool Foam::lduCSRMatrix::matches(const lduAddressing& addr) const
{
    return
        label(csr_.rows) == addr.size()
     && upperPosition_.size() == addr.lowerAddr().size()
     && addressingChecksum_ == checksum(addr);
}


void Foam::lduCSRMatrix::update(const lduMatrix& matrix, const scalar sign)
{
    double* value = csr_.value.data();

    const scalarField& diag = matrix.diag();
    forAll(diag, celli)
    {
        value[diagPosition_[celli]] = sign*diag[celli];
    }

    if (matrix.hasUpper())
    {
        // A symmetric matrix's lower() is its upper().
        const scalarField& upper = matrix.upper();
        const scalarField& lower = matrix.lower();
        forAll(upper, facei)
        {
            value[upperPosition_[facei]] = sign*upper[facei];
            value[lowerPosition_[facei]] = sign*lower[facei];
        }
    }
    else
    {
        forAll(upperPosition_, facei)
        {
            value[upperPosition_[facei]] = 0;
            value[lowerPosition_[facei]] = 0;
        }
    }
}


void Foam::lduCSRMatrix::update
(
    const lduMatrix& matrix,
    const scalar sign,
    const FieldField<Field, scalar>& interfaceBouCoeffs
)
{
    // Merged entries sum their sources: start from zero.
    std::fill(csr_.value.begin(), csr_.value.end(), 0.0);
    double* value = csr_.value.data();
    const scalarField& diag = matrix.diag();
    forAll(diag, celli)
    {
        value[diagPosition_[celli]] += sign*diag[celli];
    }
    if (matrix.hasUpper())
    {
        const scalarField& upper = matrix.upper();
        const scalarField& lower = matrix.lower();
        forAll(upper, facei)
        {
            value[upperPosition_[facei]] += sign*upper[facei];
            value[lowerPosition_[facei]] += sign*lower[facei];
        }
    }
    // OpenFOAM's product subtracts bouCoeffs times the neighbour's value.
    forAll(interfacePosition_, patchi)
    {
        const labelList& positions = interfacePosition_[patchi];
        forAll(positions, i)
        {
            value[positions[i]] -= sign*interfaceBouCoeffs[patchi][i];
        }
    }
}


// ************************************************************************* //
