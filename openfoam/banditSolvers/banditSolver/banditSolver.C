/*---------------------------------------------------------------------------*\
  mlcfd: learned numerics for OpenFOAM and deal.II
\*---------------------------------------------------------------------------*/

#include "banditSolver.H"
#include "configurationBandit.H"

#include <chrono>
#include <cmath>

// * * * * * * * * * * * * * * Static Data Members * * * * * * * * * * * * * //

namespace Foam
{
    defineTypeNameAndDebug(banditSolver, 0);

    lduMatrix::solver::addsymMatrixConstructorToTable<banditSolver>
        addbanditSolverSymMatrixConstructorToTable_;

    lduMatrix::solver::addasymMatrixConstructorToTable<banditSolver>
        addbanditSolverAsymMatrixConstructorToTable_;
}


// * * * * * * * * * * * * * * * * Constructors  * * * * * * * * * * * * * * //

Foam::banditSolver::banditSolver
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
    )
{}


// * * * * * * * * * * * * * * * Member Functions  * * * * * * * * * * * * * //

Foam::solverPerformance Foam::banditSolver::solve
(
    scalarField& psi,
    const scalarField& source,
    const direction cmpt
) const
{
    // One bandit per fvSolution entry (p and pFinal are solves of p).
    configurationBandit& bandit = configurationBandit::New
    (
        matrix_.mesh().thisDb(),
        controlDict_.dictName(),
        controlDict_
    );
    const label arm = bandit.choose();
    bandit.selectAgglomeration(matrix_, arm);

    auto run = [&](label candidate)
    {
        return lduMatrix::solver::New
        (
            fieldName_,
            matrix_,
            interfaceBouCoeffs_,
            interfaceIntCoeffs_,
            interfaces_,
            bandit.controls(candidate)
        )->solve(psi, source, cmpt);
    };

    // Timed: building the candidate's solver and solving (a GAMG
    // agglomeration is built once and kept: not counted).
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    solverPerformance performance = run(arm);
    std::chrono::duration<double> seconds = clock::now() - start;
    bool fellBack = false;
    if (!performance.converged() && arm != bandit.backstop())
    {
        performance.print(Info.masterStream(matrix_.mesh().comm()));
        // The backstop goes on from the candidate's iterate, unless it
        // diverged (no copy of psi per solve for this rare case).
        if (!std::isfinite(gSumMag(psi)))
        {
            psi = Zero;
        }
        bandit.selectAgglomeration(matrix_, bandit.backstop());
        start = clock::now();
        performance = run(bandit.backstop());
        seconds += clock::now() - start;
        fellBack = true;
    }
    bandit.observe(seconds.count(), fellBack);
    return performance;
}


// ************************************************************************* //
