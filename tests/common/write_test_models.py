#!/usr/bin/python3
"""Models for the core's unit tests, written by the Python authoring path.

    write_test_models.py DIR

Good models (written by common/python/mlcfd_model.py) and broken archives
that only Python can produce (the C++ writer refuses to write them).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "common", "python"))
import mlcfd_model  # noqa: E402


class Affine(torch.nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1).to(dtype)
        with torch.no_grad():
            self.linear.weight.copy_(torch.tensor([[2.0, -1.0]], dtype=dtype))
            self.linear.bias.fill_(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    path = lambda name: os.path.join(out, name)  # noqa: E731

    mlcfd_model.save_smagorinsky(path("smagorinsky_py.pt"))
    mlcfd_model.save_jacobi(path("jacobi_py.pt"))

    # y = 10*(2 (x0-1)/2 - (x1-2)/4 + 0.5) + 3 (normalisation inside the file)
    mlcfd_model.save(Affine(torch.float64), path("normalised_affine.pt"), kind="test",
                     inputs=["x0", "x1"], outputs=["y"], input_mean=[1, 2], input_std=[2, 4],
                     output_mean=[3], output_std=[10])
    mlcfd_model.save(Affine(torch.float32), path("affine_float32.pt"), kind="test",
                     inputs=["x0", "x1"], outputs=["y"], dtype="float32")

    # The training range of 1000 samples of x0 ~ U[0, 1], x1 ~ N(0, 1), saved
    # with the model and recorded afterwards into a model saved without it:
    # own-distribution rows lie inside, shifted ones are counted (tool tests
    # in CMakeLists.txt).
    generator = torch.Generator().manual_seed(3)
    samples = torch.stack((torch.rand(1000, generator=generator, dtype=torch.float64),
                           torch.randn(1000, generator=generator, dtype=torch.float64)), dim=1)
    entry = mlcfd_model.training_range(samples)
    mlcfd_model.save(Affine(torch.float64), path("ranged_affine.pt"), kind="test",
                     inputs=["x0", "x1"], outputs=["y"], training_range=entry)
    mlcfd_model.save(Affine(torch.float64), path("recorded_affine.pt"), kind="test",
                     inputs=["x0", "x1"], outputs=["y"])
    mlcfd_model.record_training_range(path("recorded_affine.pt"), entry)
    fresh = torch.stack((torch.rand(1000, generator=generator, dtype=torch.float64),
                         torch.randn(1000, generator=generator, dtype=torch.float64)), dim=1)
    with open(path("ranged_own.csv"), "w") as f:
        f.write("# x0 x1: fresh samples of the training distribution\n")
        f.writelines(f"{a:.17g},{b:.17g}\n" for a, b in fresh[:500].tolist())
    with open(path("ranged_shifted.csv"), "w") as f:
        f.write("# x0 + 0.5, x1\n")
        f.writelines(f"{a + 0.5:.17g} {b:.17g}\n" for a, b in fresh[500:].tolist())

    scripted = torch.jit.script(mlcfd_model.Jacobi())
    torch.jit.save(scripted, path("no_metadata.pt"))
    torch.jit.save(scripted, path("bad_json.pt"), _extra_files={"mlcfd.json": "{ not json"})
    meta = mlcfd_model.metadata(kind="preconditioner", inputs=["r", "diag"], outputs=["z"])
    meta["format_version"] = 99
    torch.jit.save(scripted, path("future_version.pt"),
                   _extra_files={"mlcfd.json": json.dumps(meta)})
    meta = mlcfd_model.metadata(kind="test", inputs=["x0", "x1"], outputs=["y"])
    torch.jit.save(torch.jit.script(Affine(torch.float32)), path("dtype_mismatch.pt"),
                   _extra_files={"mlcfd.json": json.dumps(meta)})
    print(f"wrote test models to {out}")


if __name__ == "__main__":
    main()
