/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "lduCSRMatrix.H"

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


// ************************************************************************* //
