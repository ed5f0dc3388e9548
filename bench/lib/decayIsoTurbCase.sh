# mlcfd benchmarks: shared set-up of the decayIsoTurb case (source this file
# after etc/bashrc).
#
#   decayIsoTurbCase DIR N [SEED=1] [BOX=1]
#                                      mesh N^3 in a box of BOX times the
#                                      tutorial's length (1 or 2), initial
#                                      field (random phases of SEED), the
#                                      trained models (selected; from
#                                      $MLCFD_LES_MODELS, default models/les)
#                                      and the reference ones, no function
#                                      objects
#   doubleBoxLength DIR                twice the tutorial's box length in
#                                      DIR/system/blockMeshDict (the cells
#                                      stay N^3)
#   selectLESModel DIR MODEL           Smagorinsky | Smagorinsky-Ck<value> |
#                                      WALE | kEqn | dynamicKEqn |
#                                      dynamicLagrangian |
#                                      neuralEddyViscosity | neuralSGSStress |
#                                      neuralEddyViscosityDynamic (dynamic on) |
#                                      none (no SGS model)

decayIsoTurbCase()
{
    local dir=$1 n=$2 seed=${3:-1} box=${4:-1}
    case $box in
        1 | 2) ;;
        *) echo "decayIsoTurbCase: box length factor '$box' is not 1 or 2" >&2; return 1 ;;
    esac
    cp -r "$MLCFD_DIR/tutorials/openfoam/decayIsoTurb" "$dir"
    (
        cd "$dir" || exit 1
        ./Allclean > /dev/null
        sed -i "s/^N       32;/N       $n;/" system/blockMeshDict
        [ "$box" = 1 ] || doubleBoxLength . || exit 1
        cp -r 0.orig 0
        mkdir -p constant/models
        cp "${MLCFD_LES_MODELS:-$MLCFD_DIR/models/les}"/*.pt constant/models
        mlcfd-model create smagorinsky constant/models/smagorinsky.pt > /dev/null
        mlcfd-model create tensorBasisSmagorinsky constant/models/tensorBasisSmagorinsky.pt > /dev/null
        blockMesh > log.blockMesh 2>&1 || { echo "blockMesh failed in $dir" >&2; exit 1; }
        foamDictionary -entry seed -set "$seed" constant/boxTurbDict > /dev/null
        boxTurbSpectrum -create > log.boxTurbSpectrum 2>&1 || { echo "boxTurbSpectrum -create failed in $dir" >&2; exit 1; }
        foamDictionary -entry functions -remove system/controlDict > /dev/null
    )
}

doubleBoxLength()
{
    local dict=$1/system/blockMeshDict
    sed -i 's/^L       0.56548667765;/L       1.1309733553;/; s/^minusL -0.56548667765;/minusL -1.1309733553;/' "$dict"
    grep -q "^L       1.1309733553;" "$dict" && grep -q "^minusL -1.1309733553;" "$dict" \
        || { echo "doubleBoxLength: $dict does not have the tutorial's box length (L 0.56548667765)" >&2; return 1; }
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
    case $model in
        Smagorinsky-Ck*)
            # Smagorinsky with another Ck (a sweep; 0.094 is OpenFOAM's).
            local ck=${model#Smagorinsky-Ck}
            [[ $ck =~ ^[0-9]*\.?[0-9]+$ ]] \
                || { echo "selectLESModel: '$model' needs a number after Ck (e.g. Smagorinsky-Ck0.13)" >&2; return 1; }
            model=Smagorinsky
            foamDictionary -entry LES/SmagorinskyCoeffs/Ck -set "$ck" "$turbulence" > /dev/null
            ;;
    esac
    foamDictionary -entry LES/LESModel -set "$model" "$turbulence" > /dev/null
    case $model in
        kEqn | dynamicKEqn)
            # These solve for k (boxTurbSpectrum writes the target's subgrid
            # energy); dynamicKEqn also needs a test filter.
            [ -f "$dir/0/k" ] || { echo "selectLESModel: $dir/0/k is missing (boxTurbSpectrum -create writes it)" >&2; return 1; }
            foamDictionary -entry LES/${model}Coeffs -set "{ filter simple; }" "$turbulence" > /dev/null
            addTransportedField "$dir" k
            ;;
        dynamicLagrangian)
            # Meneveau, Lund & Cabot's averages of L:M and M:M along
            # pathlines, started at flm/fmm = Ck sqrt(2 Ck/Ce) = 0.0398, where
            # nu_t = (flm/fmm) delta^2 |dev(symm(grad U))| is OpenFOAM's
            # Smagorinsky. Their relaxation time, 1.5 delta (flm fmm)^(-1/8),
            # is a fair part of the run, so the start matters (measured at
            # 32^3, seed 1: flm/fmm 0.01, 0.02, 0.05 give 0.175, 0.144, 0.089
            # at t = 0.66 s; the magnitude of fmm does not).
            foamDictionary -entry LES/dynamicLagrangianCoeffs -set "{ filter simple; }" "$turbulence" > /dev/null
            local field value
            for field in flm fmm
            do
                value=$([ $field = flm ] && echo 0.0398 || echo 1)
                sed -e "s/^internalField .*/internalField   uniform $value;/" \
                    -e "s/^dimensions .*/dimensions      [0 4 -4 0 0 0 0];/" \
                    -e "s/object      nut;/object      $field;/" "$dir/0/nut" > "$dir/0/$field"
                addTransportedField "$dir" $field
            done
            ;;
    esac
}

# The scheme and the solvers (field and fieldFinal) of a transported scalar
# of an LES model.
addTransportedField()
{
    local dir=$1 field=$2 entry
    foamDictionary -entry "divSchemes/div(phi,$field)" -add "Gauss limitedLinear 1" \
        "$dir/system/fvSchemes" > /dev/null
    for entry in "$field" "${field}Final"
    do
        foamDictionary -entry solvers/"$entry" -add \
            "{ solver smoothSolver; smoother symGaussSeidel; tolerance 1e-05; relTol 0; }" \
            "$dir/system/fvSolution" > /dev/null
    done
}
