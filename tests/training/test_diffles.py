#!/usr/bin/python3
"""Tests of the differentiable LES (training/les/diffles.py) and the
a-posteriori training through it (training/les/train_aposteriori.py). The
comparison with pimpleFoam itself is tests/openfoam/checkDiffles.py.

    test_diffles.py WORK_DIR [unittest options]
    test_diffles.py --write-regime-model FILE

The second form writes the shipped eddy viscosity with a nuRatio input of
nonzero weight (for tests that compare the Python closure with the C++ one).
"""
import math
import os
import subprocess
import sys
import unittest

import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "training", "les"))
import diffles  # noqa: E402
import train_aposteriori  # noqa: E402
import train_closures  # noqa: E402

WORK = None
LENGTH = diffles.TUTORIAL_LENGTH
SHIPPED = os.path.join(REPO, "models", "les", "eddyViscosity.pt")


def random_field(n, seed, energy=0.05):
    """A smooth random periodic field (not divergence-free)."""
    generator = torch.Generator().manual_seed(seed)
    U = torch.randn(3, n, n, n, dtype=torch.float64, generator=generator)
    m = torch.fft.fftfreq(n, 1.0/n)
    m2 = m.view(-1, 1, 1)**2 + m.view(1, -1, 1)**2 + m.view(1, 1, -1)**2
    U = torch.fft.ifftn(torch.fft.fftn(U, dim=(-3, -2, -1))*torch.exp(-m2/8),
                        dim=(-3, -2, -1)).real
    return U*math.sqrt(2*energy/float((U**2).sum(0).mean()))


def write_case(path, U):
    """A minimal decayIsoTurb-like case: blockMeshDict's L, nu and 0/U (ascii)."""
    n = U.shape[-1]
    for folder in ("system", "constant", "0"):
        os.makedirs(os.path.join(path, folder), exist_ok=True)
    with open(os.path.join(path, "system", "blockMeshDict"), "w") as out:
        out.write(f"L       {LENGTH};\nN       {n};\n")
    with open(os.path.join(path, "constant", "transportProperties"), "w") as out:
        out.write("nu              1e-05;\n")
    cells = U.reshape(3, -1).t()
    with open(os.path.join(path, "0", "U"), "w") as out:
        out.write("FoamFile\n{\n    format      ascii;\n}\n")
        out.write(f"internalField   nonuniform List<vector> \n{cells.shape[0]}\n(\n")
        out.writelines(f"({a:.17g} {b:.17g} {c:.17g})\n" for a, b, c in cells.tolist())
        out.write(")\n;\n")


class Solver(unittest.TestCase):
    def setUp(self):
        self.grid = diffles.PeriodicGrid(12, LENGTH)
        self.U = random_field(12, seed=1)

    def test_face_fluxes_are_divergence_free(self):
        # To the pressure solve's convergence (two preconditioned sweeps).
        stepper = diffles.LESStepper(self.grid, 1e-5, 0.002, diffles.SmagorinskyNut())
        state = stepper.run(stepper.initial_state(self.U), 3)
        scale = float(state.flux.abs().max())/self.grid.h
        self.assertLess(float(self.grid.div_faces(state.flux).abs().max()), 1e-6*scale)

    def test_smagorinsky_dissipates_more_than_no_model(self):
        energies = []
        for closure in (diffles.NoModel(), diffles.SmagorinskyNut(), diffles.SmagorinskyNut(Ck=0.2)):
            stepper = diffles.LESStepper(self.grid, 1e-5, 0.002, closure)
            U = stepper.run(stepper.initial_state(self.U), 10).U
            energies.append(float((U**2).sum()))
        self.assertGreater(energies[0], energies[1])
        self.assertGreater(energies[1], energies[2])

    def test_checkpointed_gradient_equals_the_stored_one(self):
        gradients = []
        for checkpoint in (False, True):
            Ck = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
            closure = diffles.SmagorinskyNut(Ck=Ck)
            stepper = diffles.LESStepper(self.grid, 1e-5, 0.002, closure)
            state = stepper.run(stepper.initial_state(self.U), 4, checkpoint=checkpoint)
            diffles.spectrum(state.U, LENGTH)[1:6].log().sum().backward()
            gradients.append(float(Ck.grad))
        self.assertNotEqual(gradients[0], 0.0)
        self.assertAlmostEqual(gradients[0], gradients[1], delta=1e-10*abs(gradients[0]))

    def test_gradient_matches_finite_differences(self):
        def loss(ck):
            stepper = diffles.LESStepper(self.grid, 1e-5, 0.002, diffles.SmagorinskyNut(Ck=ck))
            U = stepper.run(stepper.initial_state(self.U), 3).U
            return diffles.spectrum(U, LENGTH)[3:6].log().sum()
        Ck = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
        loss(Ck).backward()
        eps = 1e-5
        with torch.no_grad():
            fd = (loss(torch.tensor(0.1 + eps, dtype=torch.float64))
                  - loss(torch.tensor(0.1 - eps, dtype=torch.float64)))/(2*eps)
        self.assertAlmostEqual(float(Ck.grad), float(fd), delta=1e-5*abs(float(fd)))

    def test_spectrum_sums_to_the_kinetic_energy(self):
        E = diffles.spectrum(self.U, LENGTH)
        energy = 0.5*float((self.U**2).sum(0).mean())
        self.assertAlmostEqual(float(E.sum())*2*math.pi/LENGTH, energy, delta=1e-12*energy)

    def test_time_step_follows_the_cell_size(self):
        # bench/lesValidation's steps: 0.002 s down to the tutorial's 32^3 cells.
        steps = [diffles.default_time_step(n, box*LENGTH)
                 for n, box in ((16, 1), (32, 1), (64, 1), (64, 2), (128, 2))]
        self.assertEqual(steps, [0.002, 0.002, 0.001, 0.002, 0.001])

    def test_case_files_round_trip(self):
        path = os.path.join(WORK, "roundTrip")
        write_case(path, self.U)
        U, length, nu = diffles.read_case(path)
        self.assertEqual((length, nu), (LENGTH, 1e-5))
        self.assertLess(float((U - self.U).abs().max()), 1e-15)


class Aposteriori(unittest.TestCase):
    def test_coarse_field_keeps_the_spectrum_and_is_divergence_free(self):
        fine = random_field(24, seed=2)
        coarse = train_aposteriori.coarse_initial_field(fine, 12, LENGTH)
        E, target = diffles.spectrum(coarse, LENGTH), diffles.spectrum(fine, LENGTH)
        self.assertLess(float(((E[1:6] - target[1:6])/target[1:6]).abs().max()), 1e-10)
        grid = diffles.PeriodicGrid(12, LENGTH)
        divergence = sum(grid.grad(coarse[d], d) for d in range(3))
        scale = float(coarse.abs().max())/grid.h
        self.assertLess(float(divergence.abs().max()), 1e-10*scale)

    def test_training_lowers_the_misfit_to_a_reference(self):
        # The reference: a run of the same 12^3 grid with a stronger
        # Smagorinsky (Ck 0.16); the shipped closure dissipates differently,
        # and a few iterations move it towards the reference's spectra.
        case = os.path.join(WORK, "reference")
        write_case(case, random_field(12, seed=3))
        reference = os.path.join(WORK, "reference.pt")
        subprocess.run([sys.executable, os.path.join(REPO, "training", "les", "diffles.py"),
                        case, "--end", "0.04", "--times", "0.04", "--Ck", "0.16",
                        "--every", "0.01", "--reference", reference], check=True,
                       stdout=subprocess.DEVNULL)
        out = os.path.join(WORK, "aposteriori.pt")
        state = os.path.join(WORK, "state.pt")
        if os.path.exists(state):
            os.remove(state)
        log = subprocess.run(
            [sys.executable, os.path.join(REPO, "training", "les", "train_aposteriori.py"),
             reference, "--init", SHIPPED, "--out", out, "--grids", "12", "--unrolls", "0.04",
             "--iterations", "6", "--lr", "0.05", "--regime", "--state", state],
            check=True, capture_output=True, text=True).stdout
        losses = [float(line.split("loss 12^3 ")[1].split(",")[0])
                  for line in log.splitlines() if "loss 12^3" in line]
        self.assertEqual(len(losses), 6, log)
        self.assertLess(losses[-1], 0.7*losses[0], log)
        self.assertTrue(os.path.isfile(out))
        # The state resumes: a second call with more iterations starts at 6.
        log = subprocess.run(
            [sys.executable, os.path.join(REPO, "training", "les", "train_aposteriori.py"),
             reference, "--init", SHIPPED, "--out", out, "--grids", "12", "--unrolls", "0.04",
             "--iterations", "7", "--lr", "0.05", "--regime", "--state", state],
            check=True, capture_output=True, text=True).stdout
        self.assertIn("resumed from", log)
        self.assertIn("iteration 7/7", log)
        self.assertNotIn("iteration 1/7", log)

    def test_warm_start_with_regime_equals_the_a_priori_model(self):
        net, mean, std, _, regime = train_aposteriori.load_initial(SHIPPED, True, torch.float64)
        plain, mean6, std6, _, _ = train_aposteriori.load_initial(SHIPPED, False, torch.float64)
        self.assertTrue(regime)
        x = torch.rand(50, 7, dtype=torch.float64)
        x[:, 6] = 10**(-3*torch.rand(50, dtype=torch.float64))
        with_regime = net((x - mean)/std)
        without = plain((x[:, :6] - mean6)/std6)
        self.assertLess(float((with_regime - without).abs().max()), 1e-12)


def write_regime_model(path):
    net, mean, std, meta, _ = train_aposteriori.load_initial(SHIPPED, True, torch.float64)
    with torch.no_grad():
        width = net.mlp[0].weight.shape[0]
        net.mlp[0].weight[:, -1] = 0.5*torch.sin(torch.arange(width, dtype=torch.float64))
    train_closures.save_model("eddyViscosity", net, path, mean, std,
                              "test: the shipped eddy viscosity with a nuRatio input", 1,
                              "float32", None, meta["inputs"] + ["nuRatio"])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write-regime-model":
        write_regime_model(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    WORK = sys.argv.pop(1)
    os.makedirs(WORK, exist_ok=True)
    torch.set_num_threads(1)
    unittest.main()
