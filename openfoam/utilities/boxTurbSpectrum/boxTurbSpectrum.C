/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
-------------------------------------------------------------------------------
Application
    boxTurbSpectrum

Group
    grpPreProcessingUtilities

Description
    Energy spectra of the velocity in a periodic box of uniform cubic cells,
    and initial fields whose spectrum equals a target shell by shell.

    The spectrum is binned on the box's own wavenumbers: a Fourier mode with
    integer wavenumber m (k = m 2 pi/L) belongs to shell n = round(|m|), and
    E(n 2 pi/L) = sum over the shell of |u_m|^2/2, divided by 2 pi/L, so that
    the sum of E dk is the kinetic energy per unit mass. (OpenFOAM v1912's
    energySpectrum function object bins positive wavenumbers one shell too
    far out: its shell 1 is always empty.)

    Modes:
      - no option: the spectrum of U at each selected time, written to
        postProcessing/boxTurbSpectrum/<time>/boxTurbSpectrum.dat with the
        target and their ratio per shell, and the velocity-derivative
        skewness (about -0.5 for developed turbulence, 0 for random phases)
        printed and written to the file's header.
      - \par -create
        A random divergence-free field (Gaussian, divergence-free for the
        central-difference divergence of the solvers) with the target
        spectrum, written as U of the start time, and k, uniform: the
        target's energy beyond pi N/L (the subgrid energy that k-equation
        models start from; Ek a table).
      - \par -rescale
        U of the latest time, every complete shell scaled to the target
        (phases and correlations kept), written as U of the start time (a
        phi there is removed: the solver rebuilds it from U), and k as
        -create writes it. Alternating a
        short run and -rescale gives a field with developed correlations and
        exactly the target spectrum.

    Shells n = 1 ... N/2 - 1 are complete (inside the cube of resolved
    wavenumbers) and are scaled; the modes beyond them take the factor of
    shell N/2 - 1, and the mean velocity is removed. Every complete shell
    needs a positive target; a table must reach from 2 pi/L to the last
    complete shell (it would clamp beyond its ends). Serial only: run it
    before decomposePar.

Usage
    \verbatim
    boxTurbSpectrum -create
    for cycle in 1 2 3 4; do pimpleFoam; boxTurbSpectrum -rescale; done
    boxTurbSpectrum -time '0,0.28,0.66'
    \endverbatim

    constant/boxTurbDict:
    \verbatim
    // Target E(k) [m^3/s^2] over k [1/m] (a Function1 of k)
    Ek      table ((11 3e-05) (15 6e-05) (20 0.000129) ... (2000 8e-07));

    // Random phases of -create
    seed    1;
    \endverbatim

    Options:
      - \par -dict FILE
        Another dictionary than constant/boxTurbDict

SourceFiles
    boxTurbSpectrum.C

\*---------------------------------------------------------------------------*/

#include "fvCFD.H"
#include "fft.H"
#include "Function1.H"
#include "TableBase.H"
#include "Random.H"
#include "OFstream.H"
#include "timeSelector.H"
#include "mathematicalConstants.H"

// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

namespace
{

using namespace Foam;

//- A periodic box of n^3 uniform cubic cells, with the position of every
//  cell in the row-major n^3 array that fft transforms.
class periodicBox
{
    label n_;
    scalar length_;
    labelList arrayIndex_;

public:

    explicit periodicBox(const fvMesh& mesh)
    :
        n_(std::lround(std::cbrt(scalar(mesh.nCells())))),
        length_(0),
        arrayIndex_(mesh.nCells())
    {
        const boundBox box(mesh.bounds());
        const vector span(box.span());
        length_ = span.x();
        const scalar delta = length_/n_;
        bool uniform =
            n_*n_*n_ == mesh.nCells()
         && mag(span.y() - length_) < 1e-6*length_
         && mag(span.z() - length_) < 1e-6*length_;

        forAll(mesh.C(), celli)
        {
            const vector position((mesh.C()[celli] - box.min())/delta);
            label index = 0;
            for (direction d = 0; d < 3; ++d)
            {
                const scalar ijk = position[d] - 0.5;
                const label rounded = std::lround(ijk);
                uniform = uniform && mag(ijk - rounded) < 1e-3;
                index = index*n_ + rounded;
            }
            arrayIndex_[celli] = index;
        }
        if (!uniform)
        {
            FatalErrorInFunction
                << "The mesh of " << mesh.time().path() << " is not a cube of"
                << " N^3 uniform cubic cells (" << mesh.nCells() << " cells,"
                << " extent " << span << "). boxTurbSpectrum needs the"
                << " periodic box that blockMesh makes with the same number"
                << " of equal cells in every direction."
                << exit(FatalError);
        }
    }

    label n() const
    {
        return n_;
    }

    scalar length() const
    {
        return length_;
    }

    //- 2 pi/L, the wavenumber of shell 1
    scalar kappa0() const
    {
        return constant::mathematical::twoPi/length_;
    }

    //- The three integer wavenumbers of entry i of fft's output (zero
    //  wavenumber in the middle: index n/2)
    Vector<label> wavenumber(label i) const
    {
        const label half = n_/2;
        return Vector<label>
        (
            i/(n_*n_) - half,
            (i/n_)%n_ - half,
            i%n_ - half
        );
    }

    //- Shell of entry i of fft's output
    label shell(label i) const
    {
        const Vector<label> m(wavenumber(i));
        return std::lround(std::sqrt(scalar(m.x()*m.x() + m.y()*m.y() + m.z()*m.z())));
    }

    //- Highest complete shell
    label lastCompleteShell() const
    {
        return n_/2 - 1;
    }

    //- Fourier coefficients of a cell field, normalised so that the mean
    //  of |u|^2 over the cells is the sum of |u_m|^2
    complexVectorField forward(const vectorField& cellValues) const
    {
        vectorField array(cellValues.size());
        UIndirectList<vector>(array, arrayIndex_) = cellValues;
        return
            fft::forwardTransform
            (
                ReComplexField(array),
                List<int>({int(n_), int(n_), int(n_)})
            )/scalar(array.size());
    }

    //- The cell field of Fourier coefficients (the real part: the
    //  imaginary one is round-off for Hermitian coefficients)
    vectorField reverse(const complexVectorField& coefficients) const
    {
        const vectorField array
        (
            Re
            (
                fft::reverseTransform
                (
                    coefficients,
                    List<int>({int(n_), int(n_), int(n_)})
                )()
            )
        );
        return vectorField(array, arrayIndex_);
    }

    //- E(n kappa0) for n = 0 ... largest shell
    scalarField spectrum(const complexVectorField& coefficients) const
    {
        scalarField E(n_, Zero);
        forAll(coefficients, i)
        {
            E[shell(i)] += 0.5*magSqr(coefficients[i]);
        }
        return E/kappa0();
    }
};


//- The target E(n kappa0) of the complete shells from the dictionary's Ek;
//  shells where it is not positive, or outside a table (which clamps there,
//  a plateau nobody measured), are refused with the entry named.
scalarField targetSpectrum
(
    const periodicBox& box,
    const Function1<scalar>& Ek,
    const IOdictionary& dict
)
{
    // The range of a table, or of any other Function1: all of k.
    scalar kFirst = -GREAT, kLast = GREAT;
    if (const auto* table = dynamic_cast<const Function1Types::TableBase<scalar>*>(&Ek))
    {
        const scalarField k(table->x());
        kFirst = min(k);
        kLast = max(k);
    }
    scalarField target(box.lastCompleteShell() + 1, Zero);
    for (label n = 1; n < target.size(); ++n)
    {
        const scalar k = n*box.kappa0();
        if (k < kFirst || k > kLast)
        {
            FatalIOErrorInFunction(dict)
                << "Entry 'Ek' of " << dict.objectPath() << " is a table from "
                << kFirst << " to " << kLast
                << " 1/m, and shell " << n << " of this box lies at k = " << k
                << " 1/m, outside it. Every shell from 2 pi/L = "
                << box.kappa0() << " to pi N/L - 2 pi/L = "
                << box.lastCompleteShell()*box.kappa0() << " 1/m needs a"
                << " target: extend the table to cover them."
                << exit(FatalIOError);
        }
        target[n] = Ek.value(k);
        if (!(target[n] > 0))
        {
            FatalIOErrorInFunction(dict)
                << "Entry 'Ek' of " << dict.objectPath() << " gives E = "
                << target[n] << " at k = " << n*box.kappa0() << " 1/m (shell "
                << n << " of this box). Every shell from 2 pi/L = "
                << box.kappa0() << " to pi N/L - 2 pi/L = "
                << box.lastCompleteShell()*box.kappa0() << " 1/m needs a"
                << " positive target: extend the table to cover them."
                << exit(FatalIOError);
        }
    }
    return target;
}


//- Scales every complete shell of the coefficients to the target, the
//  modes beyond with the factor of the last complete shell; removes the
//  mean.
void rescale
(
    const periodicBox& box,
    const scalarField& target,
    complexVectorField& coefficients,
    const string& source
)
{
    const scalarField E(box.spectrum(coefficients));
    scalarField factor(E.size(), Zero);
    for (label n = 1; n < target.size(); ++n)
    {
        if (!(E[n] > 0))
        {
            FatalErrorInFunction
                << "Shell " << n << " (k = " << n*box.kappa0() << " 1/m) of "
                << source << " holds no energy, so it cannot be scaled to"
                << " the target. Start from a field with energy in every"
                << " shell: boxTurbSpectrum -create."
                << exit(FatalError);
        }
        factor[n] = Foam::sqrt(target[n]/E[n]);
    }
    for (label n = target.size(); n < factor.size(); ++n)
    {
        factor[n] = factor[target.size() - 1];
    }
    forAll(coefficients, i)
    {
        coefficients[i] *= factor[box.shell(i)];
    }
}


//- Mean of (du/dx)^3 + (dv/dy)^3 + (dw/dz)^3 over that of the squares^3/2
scalar derivativeSkewness(const volVectorField& U)
{
    const volTensorField gradU(fvc::grad(U));
    scalar cubes = 0;
    scalar squares = 0;
    for (const tensor& g : gradU.primitiveField())
    {
        for (const scalar d : {g.xx(), g.yy(), g.zz()})
        {
            cubes += d*d*d;
            squares += d*d;
        }
    }
    const scalar count = 3*gradU.size();
    return (cubes/count)/Foam::pow(squares/count, 1.5);
}


//- Writes U into the current time's directory, and removes a phi there
void writeVelocity(volVectorField& U)
{
    U.instance() = U.time().timeName();
    U.write();
    const fileName phi(U.time().path()/U.time().timeName()/"phi");
    if (isFile(phi))
    {
        Foam::rm(phi);
        Info<< "    removed " << phi << " (the solver rebuilds it from U)"
            << endl;
    }
    Info<< "    wrote U to " << U.time().path()/U.time().timeName() << endl;
}


//- Writes k, uniform: the target's energy between pi N/L and the table's
//  last wavenumber, the subgrid energy a k-equation model starts from
void writeSubgridEnergy
(
    const fvMesh& mesh,
    const periodicBox& box,
    const Function1<scalar>& Ek
)
{
    const auto* table = dynamic_cast<const Function1Types::TableBase<scalar>*>(&Ek);
    if (!table)
    {
        Info<< "    no k written: Ek is not a table, so the subgrid energy"
            << " has no upper wavenumber" << endl;
        return;
    }
    const scalar kmax = constant::mathematical::pi*box.n()/box.length();
    const scalar kEnd = max(table->x()());
    const scalar subgrid = kEnd > kmax ? Ek.integrate(kmax, kEnd) : 0;
    volScalarField k
    (
        IOobject("k", mesh.time().timeName(), mesh, IOobject::NO_READ),
        mesh,
        dimensionedScalar("k", sqr(dimVelocity), subgrid)
    );
    k.write();
    Info<< "    wrote k = " << subgrid << " m^2/s^2 (the target's energy from"
        << " pi N/L = " << kmax << " to " << kEnd << " 1/m)" << endl;
}


void writeSpectrum
(
    const periodicBox& box,
    const scalarField& target,
    const volVectorField& U
)
{
    const scalarField E(box.spectrum(box.forward(U.primitiveField())));
    const scalar skewness = derivativeSkewness(U);
    const fileName dir
    (
        U.time().path()/"postProcessing"/"boxTurbSpectrum"
       /U.time().timeName()
    );
    mkDir(dir);
    OFstream os(dir/"boxTurbSpectrum.dat");
    os  << "# boxTurbSpectrum of U at t = " << U.time().timeName() << nl
        << "# N " << box.n() << nl
        << "# L " << box.length() << nl
        << "# kmax " << constant::mathematical::pi*box.n()/box.length() << nl
        << "# derivativeSkewness " << skewness << nl
        << "# k [1/m]  E [m^3/s^2]  E_target  E/E_target"
        << " (target on the complete shells only)" << nl;
    scalar worst = 0;
    for (label n = 1; n < E.size(); ++n)
    {
        os  << n*box.kappa0() << tab << E[n];
        if (n < target.size())
        {
            os  << tab << target[n] << tab << E[n]/target[n];
            worst = max(worst, mag(E[n]/target[n] - 1));
        }
        os  << nl;
    }
    Info<< "    t = " << U.time().timeName() << ": kinetic energy "
        << 0.5*gAverage(magSqr(U.primitiveField())) << " m^2/s^2,"
        << " derivative skewness " << skewness
        << ", largest |E/E_target - 1| over the complete shells " << worst
        << nl << "    wrote " << os.name() << endl;
}

} // End anonymous namespace


// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

int main(int argc, char *argv[])
{
    argList::addNote
    (
        "Energy spectra of the velocity in a periodic box, and initial fields"
        " whose spectrum equals a target shell by shell"
    );
    argList::noParallel();
    argList::addBoolOption
    (
        "create",
        "write a random divergence-free U with the target spectrum to the"
        " start time"
    );
    argList::addBoolOption
    (
        "rescale",
        "scale U of the latest time shell by shell to the target spectrum and"
        " write it to the start time"
    );
    argList::addOption
    (
        "dict",
        "file",
        "dictionary with Ek and seed (default: constant/boxTurbDict)"
    );
    timeSelector::addOptions(false, false);

    #include "setRootCase.H"
    #include "createTime.H"

    const bool create = args.found("create");
    const bool rescaleLatest = args.found("rescale");
    if (create && rescaleLatest)
    {
        FatalErrorInFunction
            << "-create and -rescale exclude each other: -create makes a new"
            << " field, -rescale scales the latest one."
            << exit(FatalError);
    }

    const instant startTime(runTime.value(), runTime.timeName());
    #include "createMesh.H"

    const periodicBox box(mesh);
    Info<< "Periodic box of " << box.n() << "^3 cells, L = " << box.length()
        << " m, shells of 2 pi/L = " << box.kappa0() << " 1/m" << nl << endl;

    // A case written for createBoxTurb: its Ek is what this needs.
    const fileName defaultDict(runTime.path()/runTime.constant()/"boxTurbDict");
    const fileName createBoxTurbDict
    (
        runTime.path()/runTime.constant()/"createBoxTurbDict"
    );
    if (!args.found("dict") && !isFile(defaultDict) && isFile(createBoxTurbDict))
    {
        FatalErrorInFunction
            << defaultDict << " is missing, but " << createBoxTurbDict
            << " is there. boxTurbSpectrum reads the target Ek (and seed)"
            << " from constant/boxTurbDict: copy createBoxTurbDict to it, or"
            << " give -dict constant/createBoxTurbDict."
            << exit(FatalError);
    }

    IOdictionary dict
    (
        args.found("dict")
      ? IOobject
        (
            args.get<fileName>("dict").toAbsolute(),
            mesh,
            IOobject::MUST_READ_IF_MODIFIED
        )
      : IOobject
        (
            "boxTurbDict",
            runTime.constant(),
            mesh,
            IOobject::MUST_READ_IF_MODIFIED
        )
    );
    const autoPtr<Function1<scalar>> Ek(Function1<scalar>::New("Ek", dict));
    const scalarField target(targetSpectrum(box, Ek(), dict));

    if (create)
    {
        Random rnd(dict.lookupOrDefault<label>("seed", 1));
        vectorField noise(mesh.nCells());
        for (vector& value : noise)
        {
            value = vector
            (
                rnd.GaussNormal<scalar>(),
                rnd.GaussNormal<scalar>(),
                rnd.GaussNormal<scalar>()
            );
        }
        complexVectorField coefficients(box.forward(noise));

        // Divergence-free for the central difference, whose symbol is
        // i sin(k delta)/delta per direction.
        const scalar kDelta = box.kappa0()*box.length()/box.n();
        forAll(coefficients, i)
        {
            const Vector<label> m(box.wavenumber(i));
            const vector s
            (
                Foam::sin(m.x()*kDelta),
                Foam::sin(m.y()*kDelta),
                Foam::sin(m.z()*kDelta)
            );
            const scalar s2 = magSqr(s);
            if (s2 > SMALL)
            {
                complexVector& c = coefficients[i];
                const complex sc = s.x()*c.x() + s.y()*c.y() + s.z()*c.z();
                c.x() -= (s.x()/s2)*sc;
                c.y() -= (s.y()/s2)*sc;
                c.z() -= (s.z()/s2)*sc;
            }
        }
        rescale(box, target, coefficients, "the random field");

        volVectorField U
        (
            IOobject("U", startTime.name(), mesh, IOobject::NO_READ),
            mesh,
            dimensionedVector(dimVelocity, Zero)
        );
        U.primitiveFieldRef() = box.reverse(coefficients);
        U.correctBoundaryConditions();
        Info<< "Random divergence-free field, seed "
            << dict.lookupOrDefault<label>("seed", 1) << endl;
        writeVelocity(U);
        writeSubgridEnergy(mesh, box, Ek());
        writeSpectrum(box, target, U);
    }
    else if (rescaleLatest)
    {
        const instantList times(runTime.times());
        runTime.setTime(times.last(), times.size() - 1);
        volVectorField U
        (
            IOobject("U", runTime.timeName(), mesh, IOobject::MUST_READ),
            mesh
        );
        complexVectorField coefficients(box.forward(U.primitiveField()));
        rescale(box, target, coefficients, U.objectPath());
        U.primitiveFieldRef() = box.reverse(coefficients);
        U.correctBoundaryConditions();
        Info<< "Rescaled U of t = " << runTime.timeName() << endl;
        // The start time's directory: regIOobject writes to the current time.
        runTime.setTime(startTime, 0);
        writeVelocity(U);
        writeSubgridEnergy(mesh, box, Ek());
        writeSpectrum(box, target, U);
    }
    else
    {
        for (const instant& time : timeSelector::select0(runTime, args))
        {
            runTime.setTime(time, 0);
            volVectorField U
            (
                IOobject("U", runTime.timeName(), mesh, IOobject::MUST_READ),
                mesh
            );
            writeSpectrum(box, target, U);
        }
    }

    Info<< nl << "End" << nl << endl;
    return 0;
}


// ************************************************************************* //
