#!/usr/bin/python3
"""Write a copy of an mlcfd model whose outputs are multiplied by a factor.

    scaleModel.py IN.pt FACTOR OUT.pt
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common", "python"))
import mlcfd_model  # noqa: E402


class Scaled(torch.nn.Module):
    def __init__(self, inner, factor: float):
        super().__init__()
        self.inner = inner
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor*self.inner(x)


source, factor, target = sys.argv[1], float(sys.argv[2]), sys.argv[3]
extra = {mlcfd_model.ARCHIVE_ENTRY: ""}
inner = torch.jit.load(source, _extra_files=extra)
meta = json.loads(extra[mlcfd_model.ARCHIVE_ENTRY])
meta.pop("format_version")
meta["description"] = f"{meta.get('description', '')} (outputs x {factor})"
mlcfd_model.save(torch.jit.script(Scaled(inner, factor)), target, **meta)
