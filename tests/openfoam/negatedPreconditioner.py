#!/usr/bin/python3
"""Write a deliberately bad graph preconditioner: z = -r (the negated
residual channel), with the metadata of a reference model.

    negatedPreconditioner.py REFERENCE.pt OUTPUT.pt

REFERENCE.pt is a graph model (`mlcfd-model create graphJacobi`); its
mlcfd.json is copied, so the bad model passes every load-time check and
only its direction is wrong (an ascent direction for the error).
"""
import json
import sys

import torch


class NegatedResidual(torch.nn.Module):
    def forward(self, x: torch.Tensor, edgeIndex: torch.Tensor,
                edgeWeight: torch.Tensor) -> torch.Tensor:
        return -x[:, 0]


def main():
    reference, output = sys.argv[1:3]
    extra = {"mlcfd.json": ""}
    torch.jit.load(reference, _extra_files=extra)
    metadata = json.loads(extra["mlcfd.json"])
    metadata["description"] = "negated residual (a bad preconditioner, for tests)"
    module = torch.jit.script(NegatedResidual())
    if metadata.get("dtype", "float64") == "float64":
        module = module.double()
    torch.jit.save(module, output, _extra_files={"mlcfd.json": json.dumps(metadata)})
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
