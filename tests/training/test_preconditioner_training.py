#!/usr/bin/python3
"""Tests of the learned-preconditioner training (training/preconditioner):
the systems, the scaling contract, the solvers, the end-to-end
regeneration (Allrun --quick) and the shipped models.

    test_preconditioner_training.py MLCFD_MODEL_TOOL WORK_DIR [unittest options]
"""
import json
import os
import subprocess
import sys
import unittest
import zipfile

import numpy as np
import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.join(REPO, "training", "preconditioner")
sys.path.insert(0, HERE)
import contract  # noqa: E402
import evaluate  # noqa: E402
import solvers  # noqa: E402
import systems  # noqa: E402

SHIPPED = os.path.join(REPO, "models", "preconditioner")
TOOL = None
WORK = None
torch.set_num_threads(1)


def rhs(system, seed=3):
    return evaluate.right_hand_side(system, seed)


def fcg_iterations(system, b, model, kind, max_iterations=3000):
    """FlexibleCG iterations with the model, None if not converged."""
    M = contract.learned_preconditioner(model, kind, system)
    count, converged, _, _ = solvers.flexible_cg(system, b, M, max_iterations=max_iterations)
    return count if converged else None


def cg_iterations(system, b):
    return solvers.pcg(system, b, contract.identity, max_iterations=3000)[0]


def archive_metadata(path):
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("extra/mlcfd.json"))
        return json.loads(archive.read(name))


class Systems(unittest.TestCase):
    def test_dirichlet_and_neumann_stencils(self):
        for grid in ((4, 3), (3, 4, 2)):
            d = systems.poisson(grid, systems.DIRICHLET).matrix.to_dense()
            n = systems.poisson(grid, systems.NEUMANN).matrix.to_dense()
            self.assertTrue(torch.equal(d, d.t()))
            off = n - torch.diag(n.diagonal())
            self.assertTrue(bool(((off == 0) | (off == -1)).all()))
            self.assertTrue(torch.equal(d - torch.diag(d.diagonal()), off))
            # Neumann: diagonal = number of neighbours (rows sum to zero).
            neighbours = (off != 0).sum(1).double()
            self.assertTrue(torch.equal(n.diagonal(), neighbours))
            # Dirichlet: each boundary face adds 2.
            boundary_faces = 2*len(grid) - neighbours
            self.assertTrue(torch.equal(d.diagonal(), neighbours + 2*boundary_faces))

    def test_cell_order_is_x_fastest(self):
        A = systems.poisson((3, 4), systems.NEUMANN).matrix.to_dense()
        # cell (i=1, j=2) = row 1 + 3*2 = 7, x neighbours 6 and 8, y 4 and 10.
        self.assertEqual(sorted(torch.nonzero(A[7]).flatten().tolist()), [4, 6, 7, 8, 10])

    def test_variable_coefficient_is_harmonic_mean(self):
        k = np.array([[1.0, 3.0]])  # (ny, nx) = (1, 2)
        A = systems.poisson((2, 1), systems.NEUMANN, k).matrix.to_dense()
        self.assertAlmostEqual(float(A[0, 1]), -2*1*3/(1 + 3))

    def test_dump_format_round_trip(self):
        system = systems.poisson((5, 4), systems.DIRICHLET,
                                 systems.cell_coefficients((4, 5), 10, seed=1))
        b = torch.randn(system.rows, dtype=torch.float64)
        path = os.path.join(WORK, "roundtrip.csr")
        systems.write_system(path, system, b)
        again, b2 = systems.read_system(path)
        self.assertTrue(np.array_equal(again.row_start, system.row_start))
        self.assertTrue(np.array_equal(again.column, system.column))
        self.assertTrue(np.array_equal(again.value, system.value))
        self.assertTrue(torch.equal(b, b2))
        self.assertFalse(again.singular)
        self.assertTrue(systems.read_system(self._neumann_dump())[0].singular)

    def _neumann_dump(self):
        path = os.path.join(WORK, "neumann.csr")
        system = systems.poisson((3, 3), systems.NEUMANN)
        systems.write_system(path, system, torch.zeros(system.rows))
        return path

    def test_bad_dump_names_the_file(self):
        path = os.path.join(WORK, "bad.csr")
        with open(path, "w") as f:
            f.write("mlcfd-csr-system 1\nrows 2 nonzeros 2\nrowStart 0 1 2\ncolumn 0\n")
        with self.assertRaisesRegex(ValueError, "bad.csr.*'column' has 1 values"):
            systems.read_system(path)


class Contract(unittest.TestCase):
    """contract.precondition is LearnedPreconditioner.h's scaling."""

    def setUp(self):
        self.system = systems.poisson((6, 5), systems.DIRICHLET,
                                      systems.cell_coefficients((5, 6), 10, seed=2))
        self.r = torch.randn(self.system.rows, dtype=torch.float64,
                             generator=torch.Generator().manual_seed(0))

        def nonlinear(residual, diag_ratio):
            return torch.tanh(residual)*diag_ratio.unsqueeze(1) + residual**3
        self.network = nonlinear

    def test_matches_the_formula(self):
        diag = self.system.diag
        s = 1/diag.sqrt()
        rho = float((s*self.r).square().mean().sqrt())
        expected = rho*s*self.network((s*self.r/rho).unsqueeze(1), diag/diag.mean())[:, 0]
        z = contract.precondition(diag, self.r, self.network)
        self.assertLess(float((z - expected).abs().max()), 1e-14*float(expected.abs().max()))

    def test_scale_invariance(self):
        z = contract.precondition(self.system.diag, self.r, self.network)
        z7 = contract.precondition(self.system.diag, 7*self.r, self.network)
        self.assertLess(float((z7 - 7*z).abs().max()), 1e-12*float(z.abs().max()))

    def test_unit_invariance(self):
        z = contract.precondition(self.system.diag, self.r, self.network)
        z5 = contract.precondition(5*self.system.diag, self.r, self.network)
        self.assertLess(float((z5 - z/5).abs().max()), 1e-14*float(z.abs().max()))

    def test_zero_residual_gives_zero(self):
        z = contract.precondition(self.system.diag, torch.zeros(self.system.rows,
                                                                dtype=torch.float64), self.network)
        self.assertEqual(float(z.abs().max()), 0.0)

    def test_edge_weights_are_scaled_off_diagonals(self):
        A = self.system.matrix.to_dense()
        S = torch.diag(self.system.diag.rsqrt())
        scaled = S @ A @ S
        w = contract.edge_weights(self.system)
        i, j = self.system.edge_index
        self.assertLess(float((w - scaled[i, j]).abs().max()), 1e-15)
        self.assertFalse(bool((i == j).any()))


class Solvers(unittest.TestCase):
    def test_dic_is_incomplete_cholesky(self):
        system = systems.poisson((5, 4, 3), systems.DIRICHLET)
        dic = solvers.DIC(system)
        A = system.matrix.to_dense()
        D = torch.diag(torch.from_numpy(dic.diag))
        L = torch.tril(A, -1)
        M = (D + L) @ torch.linalg.inv(D) @ (D + L.t())
        # IC(0) of a 7-point stencil: M matches A on its pattern.
        self.assertLess(float(((M - A)*(A != 0)).abs().max()), 1e-12)
        r = torch.randn(system.rows, dtype=torch.float64)
        self.assertLess(float((dic(r) - torch.linalg.solve(M, r)).abs().max()), 1e-12)

    def test_dic_levels_of_an_unstructured_system(self):
        # Without a grid the sweep levels come from the matrix graph.
        system = systems.poisson((5, 4, 3), systems.NEUMANN)
        general = systems.System(system.row_start, system.column, system.value)
        r = torch.randn(system.rows, dtype=torch.float64)
        self.assertLess(float((solvers.DIC(general)(r) - solvers.DIC(system)(r)).abs().max()), 1e-13)

    def test_flexible_cg_with_exact_inverse_takes_one_step(self):
        system = systems.poisson((6, 6), systems.DIRICHLET)
        A = system.matrix.to_dense()
        count, converged, _, fallbacks = solvers.flexible_cg(
            system, rhs(system), lambda r: torch.linalg.solve(A, r))
        self.assertEqual((count, converged, fallbacks), (1, True, 0))

    def test_safeguard_rescues_a_bad_preconditioner(self):
        system = systems.poisson((16, 16), systems.NEUMANN)
        b = rhs(system)
        for bad in (lambda r: torch.zeros_like(r), lambda r: torch.sin(1000*r + 3)):
            count, converged, _, _ = solvers.flexible_cg(system, b, bad)
            self.assertTrue(converged)
            # One iteration of slack for rounding (torch's dot products may go
            # through BLAS); unguarded, these preconditioners never converge.
            self.assertLessEqual(count, cg_iterations(system, b) + 1)


class QuickTraining(unittest.TestCase):
    """Allrun --quick end to end, then the quick models on held-out systems."""

    @classmethod
    def setUpClass(cls):
        cls.models = os.path.join(WORK, "quick", "models")
        cls.report = os.path.join(WORK, "quick", "report")
        subprocess.run([os.path.join(HERE, "Allrun"), "--quick", "--models", cls.models,
                        "--report", cls.report], check=True)

    def test_outputs_exist(self):
        for name in ("grid2d.pt", "grid3d.pt", "graph.pt"):
            self.assertTrue(os.path.exists(os.path.join(self.models, name)))
        for name in ("report.md", "results.json", "loss_curves.png", "losses.json"):
            self.assertTrue(os.path.exists(os.path.join(self.report, name)))

    def test_loss_decreases(self):
        with open(os.path.join(self.report, "losses.json")) as f:
            losses = json.load(f)
        for label, history in losses.items():
            first, last = np.mean(history[:8]), np.mean(history[-8:])
            self.assertLess(last, 0.9*first, label)

    def test_quick_models_beat_cg_on_held_out_systems(self):
        for name, kind, grid in (("grid2d", "grid", (40, 36)), ("graph", "graph", (40, 36)),
                                 ("grid3d", "grid", (14, 13, 12)), ("graph", "graph", (14, 13, 12))):
            model = evaluate.load(os.path.join(self.models, f"{name}.pt"))
            for bc in systems.BOUNDARY_CONDITIONS:
                system = systems.poisson(grid, bc)
                b = rhs(system)
                cg = cg_iterations(system, b)
                # Not converged within CG's count - 1: fails.
                learned = fcg_iterations(system, b, model, kind, cg - 1)
                self.assertIsNotNone(learned, f"{name} {system.name}: not below CG's {cg}")


class ShippedModels(unittest.TestCase):
    def test_metadata(self):
        for name, kind, dimension in (("grid2d", "preconditionerGrid", 2),
                                      ("grid3d", "preconditionerGrid", 3),
                                      ("graph", "preconditionerGraph", None)):
            path = os.path.join(SHIPPED, f"{name}.pt")
            self.assertLess(os.path.getsize(path), 1 << 20)
            torch.jit.load(path)
            meta = archive_metadata(path)
            self.assertEqual(meta["kind"], kind)
            self.assertEqual(meta["inputs"], ["residual", "diagRatio"])
            self.assertEqual(meta["outputs"], ["z"])
            self.assertEqual(meta["dtype"], "float32")
            if dimension is not None:
                self.assertEqual(meta["constants"]["dimension"], dimension)

    def test_shipped_models_beat_cg(self):
        grid2d = evaluate.load(os.path.join(SHIPPED, "grid2d.pt"))
        grid3d = evaluate.load(os.path.join(SHIPPED, "grid3d.pt"))
        graph = evaluate.load(os.path.join(SHIPPED, "graph.pt"))
        for grid, grid_model in (((128, 128), grid2d), ((32, 32, 32), grid3d)):
            for bc in systems.BOUNDARY_CONDITIONS:
                system = systems.poisson(grid, bc)
                b = rhs(system)
                cg = cg_iterations(system, b)
                for model, kind in ((grid_model, "grid"), (graph, "graph")):
                    learned = fcg_iterations(system, b, model, kind, cg - 1)
                    self.assertIsNotNone(learned, f"{kind} {system.name}: not below CG's {cg}")


class CoreAgreement(unittest.TestCase):
    """The C++ core (mlcfd::LearnedPreconditioner in `mlcfd-model solve`)
    applies the shipped models as the Python contract does: one FlexibleCG
    step from x = 0 without safeguard is x = (b.z/z.Az) z with z = M b, so
    comparing x compares z (up to its scale, which the step fixes)."""

    def check(self, name, kind, grid, bc):
        system = systems.poisson(grid, bc)
        b = rhs(system, seed=5)
        path = os.path.join(WORK, f"core_{name}_{bc}.csr")
        systems.write_system(path, system, b)
        solution = os.path.join(WORK, f"core_{name}_{bc}.x")
        model_path = os.path.join(SHIPPED, f"{name}.pt")
        command = [TOOL, "solve", model_path, path, "--max-iterations", "1", "--no-safeguard",
                   "--no-compare", "--solution", solution]
        if kind == "grid":
            command += ["--grid"] + [str(n) for n in grid]
        run = subprocess.run(command, capture_output=True, text=True)
        self.assertIn(run.returncode, (0, 3), run.stdout + run.stderr)
        # The step must be the model's (not the CG fallback) to compare z.
        self.assertIn(" 0 useless outputs", run.stdout)
        self.assertIn(" 0 steps took the CG direction", run.stdout)
        x_core = torch.from_numpy(np.loadtxt(solution))
        z = contract.learned_preconditioner(evaluate.load(model_path), kind, system)(b)
        x_python = float(b.dot(z))/float(z.dot(system.matvec(z)))*z
        error = float((x_core - x_python).norm()/x_python.norm())
        # float32 networks: agreement to single precision.
        self.assertLess(error, 1e-5, f"{name} {system.name}")

    def test_grid_models(self):
        for bc in systems.BOUNDARY_CONDITIONS:
            self.check("grid2d", "grid", (24, 19), bc)
            self.check("grid3d", "grid", (10, 9, 7), bc)

    def test_graph_model(self):
        for bc in systems.BOUNDARY_CONDITIONS:
            self.check("graph", "graph", (10, 9, 7), bc)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    TOOL, WORK = sys.argv[1], sys.argv[2]
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
