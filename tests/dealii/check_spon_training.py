#!/usr/bin/python3
"""The SPON trainer through the decoder's layers, Python against C++.

    check_spon_training.py SPON TRAIN_SPON WORKDIR

Generates a small data set with the tutorial program (3 refinements: 225
fine and 65 coarse DoFs, 60 samples), trains both models for a few epochs
with train_spon.py (through the decoder's layers, its default), then runs the program in predict mode on
the trainer's validation samples. The errors the trainer computes through
its Python layers (prolongation, Dirichlet lift, FE L2 norm) must equal the
ones the C++ decoder gives on the same samples: a wrong prolongation, lift
or output scaling in either shows. Trained --without-layers the models
must differ, so the layers reach the training of both.
"""
import json
import os
import subprocess
import sys

import torch

spon, trainer, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
os.chdir(work)
failures = []


def check(description, condition):
    print(("ok: " if condition else "FAILED: ") + description, flush=True)
    if not condition:
        failures.append(description)


def run(command):
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True)


with open("generate.prm", "w") as f:
    f.write("set Mode = generate\nset Refinements = 3\nset Seed = 7\n"
            "subsection Data\n  set Training samples = 60\n  set Data file = data.bin\nend\n")
run([spon, "generate.prm"])
for name, flags in (("layers", []), ("plain", ["--without-layers"])):
    run(["/usr/bin/python3", trainer, "data.bin", "--models", f"models_{name}", "--report", f"report_{name}",
         "--epochs", "3"] + flags)

report = json.load(open("report_layers/training.json"))
with open("predict.prm", "w") as f:
    f.write(f"""set Mode = predict
set Refinements = 3
set Seed = {report["seed"]}
subsection Prediction
  set Single-level model = models_layers/spon_single.pt
  set Multigrid model    = models_layers/spon_multigrid.pt
  set Held-out samples   = {report["validation samples"]}
  set Held-out offset    = {report["validation offset"]}
  set VTU samples        = 0
  set Table file         = predict/errors.md
  set Summary file       = predict/spon.summary
  set Distributed check  = false
end
""")
run([spon, "predict.prm"])
summary = {}
for line in open("predict/spon.summary"):
    key, _, value = line.rpartition(": ")
    summary[key] = float(value)

# Both compute the same L2 norm; deal.II keeps its cell norms in float, so
# they agree to about 1e-8 relative.
for model, variant in (("single", "single-level"), ("multigrid", "multigrid")):
    errors = report["errors"][model]
    for form in ("constrained", "unconstrained"):
        cpp = summary[f"relL2 {variant}__{form}"]
        check(f"{model}, {form}: Python {errors[form]:.10f} equals C++ {cpp:.10f}",
              abs(errors[form] - cpp) <= 1e-6*cpp)
    cpp = summary[f"bcError {variant}__unconstrained"]
    check(f"{model}: raw BC error, Python {errors['bc']:.6g} equals C++ {cpp:.6g}",
          abs(errors["bc"] - cpp) <= 1e-9*max(cpp, 1.0))
    check(f"{model}: the constrained prediction holds the BC", summary[f"bcError {variant}__constrained"] == 0)
    layers = torch.jit.load(f"models_layers/spon_{model}.pt").state_dict()
    plain = torch.jit.load(f"models_plain/spon_{model}.pt").state_dict()
    check(f"{model}: training through the layers changes the network",
          any(not torch.equal(layers[k], plain[k]) for k in layers if layers[k].is_floating_point()))

sys.exit(1 if failures else 0)
