#!/usr/bin/python3
"""Write TorchScript models that mlcfd's C++ core loads (mlcfd::Model).

Run with Debian's interpreter, /usr/bin/python3, which has torch 1.13 (the
same version as the C++ LibTorch).

As a library:

    import mlcfd_model
    mlcfd_model.save(module, "closure.pt", kind="eddyViscosity",
                     inputs=mlcfd_model.EDDY_VISCOSITY_INPUTS,
                     outputs=["nutStar"], input_mean=[...], input_std=[...])

From the shell (reference models):

    mlcfd_model.py smagorinsky constant/models/smagorinsky.pt [--Ck 0.094] [--Ce 1.048]
    mlcfd_model.py jacobi jacobi.pt

The metadata (format version 2) goes into the archive as the extra file
mlcfd.json; see common/include/mlcfd/ModelMetadata.h for its entries.
Trainers pass training_range=training_range(inputs) so that the file records
the distribution of its training inputs and the C++ core can tell a user
when a run leaves it (common/include/mlcfd/TrainingRange.h).
"""
import argparse
import json
import math
import sys

import torch

FORMAT_VERSION = 2
# Quantile levels recorded per input by training_range().
QUANTILE_LEVELS = (0.001, 0.01, 0.5, 0.99, 0.999)
ARCHIVE_ENTRY = "mlcfd.json"

# Inputs of an eddy-viscosity closure, in order (mlcfd::EddyViscosityClosure):
# invariants of the velocity gradient A made dimensionless with s = |A|.
EDDY_VISCOSITY_INPUTS = ["trS", "trS2", "trW2", "trS3", "trW2S", "trW2S2"]
# The optional seventh input, after them: the regime nu/(delta^2 s).
REGIME_INPUT = "nuRatio"


def training_range(rows, levels=QUANTILE_LEVELS, unchecked=()):
    """The "training_range" entry of a model's metadata: per input column of
    @p rows (training inputs, n x inputs, in the model's input units), the
    minimum, maximum and quantiles at @p levels. @p unchecked names inputs
    the network ignores (recorded, never reported as outside)."""
    x = torch.as_tensor(rows, dtype=torch.float64)
    if x.dim() == 1:
        x = x.unsqueeze(1)
    if x.dim() != 2 or x.shape[0] == 0:
        raise ValueError("training_range needs a non-empty (rows x inputs) array")
    if not torch.isfinite(x).all():
        raise ValueError("training_range: the training inputs hold non-finite values")
    # torch.quantile refuses more than 16M rows: an even subsample is enough.
    sample = x[:: max(1, x.shape[0] // 4_000_000)]
    q = torch.quantile(sample, torch.tensor(levels, dtype=torch.float64), dim=0)
    entry = {"rows": int(x.shape[0]),
             "min": x.min(dim=0).values.tolist(), "max": x.max(dim=0).values.tolist(),
             "quantiles": {f"{level:g}": q[i].tolist() for i, level in enumerate(levels)}}
    if unchecked:
        entry["unchecked"] = list(unchecked)
    return entry


def metadata(kind, inputs, outputs, description="", input_mean=None, input_std=None,
             output_mean=None, output_std=None, units=None, constants=None,
             dtype="float64", training_range=None):
    """The mlcfd.json dictionary, validated as the C++ core validates it."""
    def numbers(name, values, count):
        if values is None:
            return None
        values = [float(v) for v in values]
        if len(values) != count:
            raise ValueError(f"'{name}' has {len(values)} values for {count} names")
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"'{name}' holds a non-finite value")
        if name.endswith("_std") and not all(v > 0 for v in values):
            raise ValueError(f"'{name}' must hold values > 0")
        return values

    if not kind:
        raise ValueError("'kind' must be a non-empty string")
    for name, names in (("inputs", inputs), ("outputs", outputs)):
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"'{name}' must be a non-empty list of names")
        if len(set(names)) != len(names):
            raise ValueError(f"'{name}' names an entry twice")
    if dtype not in ("float64", "float32"):
        raise ValueError("'dtype' must be 'float64' or 'float32'")

    meta = {"format_version": FORMAT_VERSION, "kind": kind, "description": description,
            "inputs": list(inputs), "outputs": list(outputs), "dtype": dtype}
    for name, values, count in (("input_mean", input_mean, len(inputs)),
                                ("input_std", input_std, len(inputs)),
                                ("output_mean", output_mean, len(outputs)),
                                ("output_std", output_std, len(outputs))):
        values = numbers(name, values, count)
        if values is not None:
            meta[name] = values
    if units:
        meta["units"] = dict(units)
    if constants:
        meta["constants"] = {k: float(v) for k, v in constants.items()}
    if training_range is not None:
        rows = training_range.get("rows")
        if not isinstance(rows, int) or rows <= 0:
            raise ValueError("training_range/rows must be a positive integer")
        entry = {"rows": rows}
        for name in ("min", "max"):
            entry[name] = numbers(f"training_range/{name}", training_range[name], len(inputs))
        if any(a > b for a, b in zip(entry["min"], entry["max"])):
            raise ValueError("training_range has min > max")
        quantiles = {}
        for level, values in training_range.get("quantiles", {}).items():
            if not 0 < float(level) < 1:
                raise ValueError(f"training_range quantile level {level} is not in (0, 1)")
            quantiles[str(level)] = numbers(f"training_range/quantiles/{level}", values, len(inputs))
        if quantiles:
            entry["quantiles"] = quantiles
        unchecked = list(training_range.get("unchecked", []))
        for name in unchecked:
            if name not in inputs:
                raise ValueError(f"training_range/unchecked names '{name}', which is not an input")
        if unchecked:
            entry["unchecked"] = unchecked
        meta["training_range"] = entry
    return meta


def record_training_range(path, entry):
    """Write the "training_range" @p entry (see training_range()) into the
    metadata of the existing model file @p path, leaving the network as it
    is (for models trained before format version 2)."""
    extra = {ARCHIVE_ENTRY: ""}
    module = torch.jit.load(path, _extra_files=extra)
    meta = json.loads(extra[ARCHIVE_ENTRY])
    meta.pop("training_range", None)
    meta.pop("format_version", None)
    known = ("kind", "inputs", "outputs", "description", "input_mean", "input_std",
             "output_mean", "output_std", "units", "constants", "dtype")
    meta = metadata(**{k: v for k, v in meta.items() if k in known}, training_range=entry)
    torch.jit.save(module, path, _extra_files={ARCHIVE_ENTRY: json.dumps(meta, indent=2)})


def save(module, path, **meta_entries):
    """Script @p module (unless it already is TorchScript) and save it with
    metadata built from @p meta_entries (see metadata())."""
    meta = metadata(**meta_entries)
    params = list(module.parameters())
    if params:
        expected = torch.float32 if meta["dtype"] == "float32" else torch.float64
        if any(p.dtype != expected for p in params):
            raise ValueError(f"dtype is {meta['dtype']} but the parameters are {params[0].dtype}")
    scripted = module if isinstance(module, torch.jit.ScriptModule) else torch.jit.script(module)
    scripted.eval()
    torch.jit.save(scripted, path, _extra_files={ARCHIVE_ENTRY: json.dumps(meta, indent=2)})


def smagorinsky_rate(trS: torch.Tensor, devSS: torch.Tensor, Ck: float, Ce: float) -> torch.Tensor:
    """OpenFOAM's Smagorinsky: the local balance Ce/delta k + 2/3 trS sqrt(k)
    = 2 Ck delta devSS (devSS = dev(S) && S) gives sqrt(k) = delta g with
    g = (-b + sqrt(b^2 + 4 Ce c))/(2 Ce), b = 2/3 trS, c = 2 Ck devSS, and
    nu_t = Ck delta^2 g; returns Ck g. Homogeneous of degree one in the
    rates, so it serves rates in 1/s (nu_t/delta^2) and rates normalised
    by |grad U| (nutStar) alike."""
    b = (2.0 / 3.0) * trS
    c = 2.0 * Ck * torch.clamp(devSS, min=0.0)
    return Ck * (-b + torch.sqrt(b * b + 4.0 * Ce * c)) / (2.0 * Ce)


class Smagorinsky(torch.nn.Module):
    """OpenFOAM's Smagorinsky model in EddyViscosityClosure's units:
    nutStar = smagorinsky_rate of the normalised trS and trS2 - trS^2/3."""

    def __init__(self, Ck=0.094, Ce=1.048):
        super().__init__()
        self.Ck = Ck
        self.Ce = Ce

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        trS = x[:, 0:1]
        return smagorinsky_rate(trS, x[:, 1:2] - trS * trS / 3.0, self.Ck, self.Ce)


class Jacobi(torch.nn.Module):
    """Jacobi's diagonal scaling z = r/diag."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0:1] / x[:, 1:2]


def save_smagorinsky(path, Ck=0.094, Ce=1.048):
    save(Smagorinsky(Ck, Ce), path, kind="eddyViscosity",
         description="Smagorinsky eddy viscosity (OpenFOAM's formulation), written by Python",
         inputs=EDDY_VISCOSITY_INPUTS, outputs=["nutStar"],
         units={**{n: "1" for n in EDDY_VISCOSITY_INPUTS},
                "nutStar": "1 (nu_t/(delta^2 |grad U|))"},
         constants={"Ck": Ck, "Ce": Ce})


def save_jacobi(path):
    save(Jacobi(), path, kind="preconditioner",
         description="Jacobi diagonal scaling z = r/diag, written by Python",
         inputs=["r", "diag"], outputs=["z"])


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write mlcfd reference models.")
    sub = parser.add_subparsers(dest="model", required=True)
    smag = sub.add_parser("smagorinsky", help="OpenFOAM's Smagorinsky eddy viscosity")
    smag.add_argument("file")
    smag.add_argument("--Ck", type=float, default=0.094)
    smag.add_argument("--Ce", type=float, default=1.048)
    jac = sub.add_parser("jacobi", help="Jacobi preconditioner z = r/diag")
    jac.add_argument("file")
    args = parser.parse_args(argv)

    if args.model == "smagorinsky":
        save_smagorinsky(args.file, args.Ck, args.Ce)
    else:
        save_jacobi(args.file)
    print(f"wrote {args.file}")


if __name__ == "__main__":
    sys.exit(main())
