# mlcfd benchmarks: the candidates banditSolver chooses from on the pressure
# equation (source this file). The first is OpenFOAM's GAMG as its
# tutorials set it for p; the list is the same for every case.
banditCandidates='
        candidates
        {
            GAMGGaussSeidel     { solver GAMG; smoother GaussSeidel; }
            GAMGDICGaussSeidel  { solver GAMG; smoother DICGaussSeidel; }
            GAMGDIC             { solver GAMG; smoother DIC; }
            GAMGMerge2          { solver GAMG; smoother GaussSeidel; mergeLevels 2; }
            GAMGCoarse100       { solver GAMG; smoother GaussSeidel; nCellsInCoarsestLevel 100; }
            MIC97               { solver PCG; preconditioner { preconditioner MIC; omega 0.97; } }
            MIC99               { solver PCG; preconditioner { preconditioner MIC; omega 0.99; } }
            DIC                 { solver PCG; preconditioner DIC; }
        }'

# candidateEntries NAME: the solver entries of one candidate (for a run
# with that candidate fixed).
candidateEntries()
{
    printf '%s\n' "$banditCandidates" | sed -n "s/^ *$1 *{ \(.*\) }$/\1/p"
}
