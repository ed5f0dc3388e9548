# mlcfd benchmarks: shared set-up of the decayIsoTurb case (source this file
# after etc/bashrc).
#
#   decayIsoTurbCase DIR N             mesh N^3, initial field, the
#                                      trained models (selected; from
#                                      $MLCFD_LES_MODELS, default models/les)
#                                      and the reference ones, no function
#                                      objects
#   selectLESModel DIR MODEL           Smagorinsky | WALE | dynamicKEqn |
#                                      neuralEddyViscosity | neuralSGSStress |
#                                      neuralEddyViscosityDynamic (dynamic on) |
#                                      none (no SGS model)

decayIsoTurbCase()
{
    local dir=$1 n=$2
    cp -r "$MLCFD_DIR/tutorials/openfoam/decayIsoTurb" "$dir"
    (
        cd "$dir" || exit 1
        ./Allclean > /dev/null
        sed -i "s/^N       32;/N       $n;/" system/blockMeshDict
        cp -r 0.orig 0
        mkdir -p constant/models
        cp "${MLCFD_LES_MODELS:-$MLCFD_DIR/models/les}"/*.pt constant/models
        mlcfd-model create smagorinsky constant/models/smagorinsky.pt > /dev/null
        mlcfd-model create tensorBasisSmagorinsky constant/models/tensorBasisSmagorinsky.pt > /dev/null
        blockMesh > log.blockMesh 2>&1 || { echo "blockMesh failed in $dir" >&2; exit 1; }
        boxTurbSpectrum -create > log.boxTurbSpectrum 2>&1 || { echo "boxTurbSpectrum -create failed in $dir" >&2; exit 1; }
        foamDictionary -entry functions -remove system/controlDict > /dev/null
    )
}

selectLESModel()
{
    local dir=$1 model=$2
    local turbulence="$dir/constant/turbulenceProperties"
    if [ "$model" = none ]
    then
        foamDictionary -entry simulationType -set laminar "$turbulence" > /dev/null
        return
    fi
    if [ "$model" = neuralEddyViscosityDynamic ]
    then
        model=neuralEddyViscosity
        foamDictionary -entry LES/neuralEddyViscosityCoeffs/dynamic -add on "$turbulence" > /dev/null
    fi
    foamDictionary -entry LES/LESModel -set "$model" "$turbulence" > /dev/null
    if [ "$model" = dynamicKEqn ]
    then
        # dynamicKEqn solves for k: a field (boxTurbSpectrum writes the
        # target's subgrid energy), a filter, a scheme and a solver.
        [ -f "$dir/0/k" ] || { echo "selectLESModel: $dir/0/k is missing (boxTurbSpectrum -create writes it)" >&2; return 1; }
        foamDictionary -entry LES/dynamicKEqnCoeffs -set "{ filter simple; }" "$turbulence" > /dev/null
        foamDictionary -entry "divSchemes/div(phi,k)" -add "Gauss limitedLinear 1" \
            "$dir/system/fvSchemes" > /dev/null
        local field
        for field in k kFinal
        do
            foamDictionary -entry solvers/$field -add \
                "{ solver smoothSolver; smoother symGaussSeidel; tolerance 1e-05; relTol 0; }" \
                "$dir/system/fvSolution" > /dev/null
        done
    fi
}
