# mlcfd benchmarks: a unit-box Poisson case for mlcfdPoissonBenchmark (source
# this file after etc/bashrc).
#
#   poissonBoxCase DIR N 2|3 dirichlet|neumann
#       blockMesh box of N^2 cells (2D: one cell thick, empty front and
#       back) or N^3 cells, p = 0 (dirichlet: fixedValue) or zeroGradient
#       (neumann) on the walls, and an fvSolution whose benchmark
#       dictionary holds DICPCG, GAMG and CG; add neuralPCG entries with
#       poissonBenchmarkSolver.
#   poissonBenchmarkSolver DIR NAME "DICTIONARY ENTRIES"
#       adds benchmark/NAME { ENTRIES } to DIR/system/fvSolution

poissonBoxCase()
{
    local dir=$1 n=$2 dim=$3 bc=$4
    local nz=$n frontBack=wall wallType
    if [ "$dim" = 2 ]
    then
        nz=1
        frontBack=empty
    fi
    case "$bc" in
        dirichlet) wallType="fixedValue; value uniform 0" ;;
        neumann)   wallType="zeroGradient" ;;
        *) echo "poissonBoxCase: boundary '$bc' is not dirichlet or neumann" >&2; return 1 ;;
    esac
    mkdir -p "$dir/system" "$dir/constant" "$dir/0"
    local header='FoamFile { version 2.0; format ascii; class dictionary; object'
    cat > "$dir/system/controlDict" <<EOC
$header controlDict; }
application     mlcfdPoissonBenchmark;
startFrom       startTime;
startTime       0;
stopAt          endTime;
endTime         1;
deltaT          1;
writeControl    timeStep;
writeInterval   1;
EOC
    cat > "$dir/system/blockMeshDict" <<EOC
$header blockMeshDict; }
vertices ((0 0 0) (1 0 0) (1 1 0) (0 1 0) (0 0 1) (1 0 1) (1 1 1) (0 1 1));
blocks (hex (0 1 2 3 4 5 6 7) ($n $n $nz) simpleGrading (1 1 1));
boundary
(
    walls { type wall; faces ((0 4 7 3) (1 2 6 5) (0 1 5 4) (3 7 6 2)); }
    frontAndBack { type $frontBack; faces ((0 3 2 1) (4 5 6 7)); }
);
EOC
    local frontBackBC="$wallType"
    [ "$dim" = 2 ] && frontBackBC=empty
    cat > "$dir/0/p" <<EOC
FoamFile { version 2.0; format ascii; class volScalarField; object p; }
dimensions      [0 2 -2 0 0 0 0];
internalField   uniform 0;
boundaryField
{
    walls { type $wallType; }
    frontAndBack { type $frontBackBC; }
}
EOC
    cat > "$dir/system/fvSchemes" <<EOC
$header fvSchemes; }
ddtSchemes { default steadyState; }
gradSchemes { default Gauss linear; }
divSchemes { default none; }
laplacianSchemes { default Gauss linear corrected; }
interpolationSchemes { default linear; }
snGradSchemes { default corrected; }
EOC
    cat > "$dir/system/fvSolution" <<EOC
$header fvSolution; }
solvers {}
benchmark
{
    relTol      1e-6;
    repeats     2;
    DICPCG      { solver PCG; preconditioner DIC; maxIter 10000; }
    GAMG        { solver GAMG; smoother DICGaussSeidel; maxIter 10000; }
    CG          { solver PCG; preconditioner none; maxIter 10000; }
}
EOC
    blockMesh -case "$dir" > "$dir/log.blockMesh" 2>&1 \
        || { echo "blockMesh failed in $dir" >&2; return 1; }
}

poissonBenchmarkSolver()
{
    local dir=$1 name=$2 entries=$3
    foamDictionary -entry "benchmark/$name" -add "{ $entries }" \
        "$dir/system/fvSolution" > /dev/null
}
