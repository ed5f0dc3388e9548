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
