#!/usr/bin/python3
"""Write a deliberately bad graph preconditioner with the metadata of a
reference model, so that it passes every load-time check and only its
output is wrong.

    badPreconditioner.py negated|random REFERENCE.pt OUTPUT.pt

negated: z = -r (the residual channel negated: an ascent direction);
random:  z = standard normal noise, unrelated to r.
REFERENCE.pt is a graph model (`mlcfd-model create graphJacobi`).
"""
import json
import sys

import torch


class NegatedResidual(torch.nn.Module):
    def forward(self, x: torch.Tensor, edgeIndex: torch.Tensor,
                edgeWeight: torch.Tensor) -> torch.Tensor:
        return -x[:, 0]


class RandomOutput(torch.nn.Module):
    def forward(self, x: torch.Tensor, edgeIndex: torch.Tensor,
                edgeWeight: torch.Tensor) -> torch.Tensor:
        return torch.randn(x.shape[0], dtype=x.dtype)


def main():
    kind, reference, output = sys.argv[1:4]
    networks = {"negated": NegatedResidual, "random": RandomOutput}
    if kind not in networks:
        sys.exit(f"badPreconditioner.py: unknown kind '{kind}' (negated, random)")
    extra = {"mlcfd.json": ""}
    torch.jit.load(reference, _extra_files=extra)
    metadata = json.loads(extra["mlcfd.json"])
    metadata["description"] = f"{kind} output (a bad preconditioner, for tests)"
    module = torch.jit.script(networks[kind]())
    torch.jit.save(module, output, _extra_files={"mlcfd.json": json.dumps(metadata)})
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
