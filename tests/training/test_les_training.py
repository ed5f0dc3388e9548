#!/usr/bin/python3
"""Tests of the LES training pipeline (training/les): the DNS solver, the
filters, the end-to-end regeneration (--quick) and the agreement of the
Python closures with the C++ core on the trained and the shipped models.

    test_les_training.py MLCFD_MODEL_TOOL WORK_DIR [unittest options]
"""
import json
import math
import os
import subprocess
import sys
import unittest

import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "training", "les"))
import hitdns  # noqa: E402
import sgsdata  # noqa: E402
import train_closures  # noqa: E402

TOOL = None
WORK = None


def grid(n):
    x = torch.arange(n, dtype=torch.float64)*2*math.pi/n
    return torch.meshgrid(x, x, x, indexing="ij")


class DNS(unittest.TestCase):
    def test_taylor_green_decays_exactly(self):
        # sin x cos y, -cos x sin y is an exact solution: u(t) = u(0) exp(-2 nu t).
        box = hitdns.SpectralBox(16)
        X, Y, _ = grid(16)
        u = torch.stack((torch.sin(X)*torch.cos(Y), -torch.cos(X)*torch.sin(Y), 0*X))
        solver = hitdns.HITSolver(box, nu=0.05)
        uh, _ = solver.run(box.to_spectral(u), 0.5, log=lambda *a, **k: None)
        error = (box.to_physical(uh) - u*math.exp(-2*0.05*0.5)).abs().max()
        self.assertLess(float(error), 1e-12)

    def test_nonlinear_term_conserves_energy(self):
        box = hitdns.SpectralBox(24)
        uh = hitdns.random_field(box, 0.5, 3.0, seed=3)
        e0 = box.energy(uh)
        e1 = box.energy(hitdns.HITSolver(box, nu=0.0).step(uh, 1e-3))
        self.assertLess(abs(e1 - e0)/e0, 1e-9)

    def test_energy_balance_with_viscosity_and_forcing(self):
        box = hitdns.SpectralBox(24)
        uh = hitdns.random_field(box, 0.5, 3.0, seed=4)
        nu, eps, dt = 0.02, 0.1, 1e-4
        solver = hitdns.HITSolver(box, nu, force_rate=eps)
        uh1 = solver.step(uh, dt)
        rate = (box.energy(uh1) - box.energy(uh))/dt
        expected = eps - nu*(box.enstrophy(uh) + box.enstrophy(uh1))
        self.assertLess(abs(rate - expected), 1e-4*abs(expected))

    def test_field_is_solenoidal_with_the_requested_energy(self):
        box = hitdns.SpectralBox(16)
        uh = hitdns.random_field(box, 0.7, 2.0, seed=5)
        div = (box.kx*uh[0] + box.ky*uh[1] + box.kz*uh[2]).abs().max()
        self.assertLess(float(div), 1e-12)
        self.assertAlmostEqual(box.energy(uh), 0.7, places=12)


class Filters(unittest.TestCase):
    def test_box_filter_of_cellwise_constant_field_has_no_sgs_stress(self):
        coarse = torch.randn(3, 4, 4, 4, dtype=torch.float64)
        fine = coarse.repeat_interleave(4, 1).repeat_interleave(4, 2).repeat_interleave(4, 3)
        ubar, tau = sgsdata.filtered_fields(fine, 4, "box")
        self.assertLess(float((ubar - coarse).abs().max()), 1e-13)
        self.assertLess(float(tau.abs().max()), 1e-13)

    def test_box_filter_stress_is_realizable(self):
        u = torch.randn(3, 16, 16, 16, dtype=torch.float64)
        _, tau = sgsdata.filtered_fields(u, 4, "box")
        T = torch.zeros(tau.shape[1:].numel(), 3, 3, dtype=torch.float64)
        for c, (i, j) in enumerate(sgsdata.SYMM_INDEX):
            T[:, i, j] = T[:, j, i] = tau[c].flatten()
        self.assertGreater(float(torch.linalg.eigvalsh(T).min()), -1e-12)

    def test_spectral_cutoff_of_well_resolved_field_has_no_sgs_stress(self):
        box = hitdns.SpectralBox(32)
        uh = hitdns.random_field(box, 0.5, 1.0, seed=6)
        low = (box.kx.abs() < 4) & (box.ky.abs() < 4) & (box.kz.abs() < 4)
        u = box.to_physical(uh*low)
        _, tau = sgsdata.filtered_fields(u, 16, "spectral")
        self.assertLess(float(tau.abs().max()), 1e-12)

    def test_central_gradient_convention(self):
        # u_y = sin x: d u_y / d x = A[0][1] = cos x sin(h)/h (central difference).
        n = 16
        X, _, _ = grid(n)
        u = torch.stack((0*X, torch.sin(X), 0*X))
        A = sgsdata.central_gradient(u).reshape(n, n, n, 9)
        h = 2*math.pi/n
        self.assertLess(float((A[..., 1] - torch.cos(X)*math.sin(h)/h).abs().max()), 1e-13)
        self.assertLess(float(A[..., 3].abs().max()), 1e-13)


def run_tool(*args):
    return subprocess.run([TOOL] + list(args), check=True, capture_output=True, text=True).stdout


def cpp_closure(model, grad, delta, tag, nu=None):
    path = os.path.join(WORK, f"gradients_{tag}.csv")
    with open(path, "w") as out:
        for i, (g, d) in enumerate(zip(grad.tolist(), delta.tolist())):
            out.write(",".join(repr(x) for x in g + [d] + ([float(nu[i])] if nu is not None else [])) + "\n")
    values = [[float(x) for x in line.split()] for line in run_tool("closure", model, path).splitlines()
              if line and not line.startswith("#")]
    values = torch.tensor(values, dtype=torch.float64)
    return values[:, 0], values[:, 1:]


def python_closure(model, grad, delta, nu=None):
    """The closure as train_closures.py computes it, from the saved model
    (with @p nu the regime input nuRatio too)."""
    extra = {"mlcfd.json": ""}
    module = torch.jit.load(model, _extra_files=extra)
    meta = json.loads(extra["mlcfd.json"])
    mean = torch.tensor(meta["input_mean"], dtype=torch.float64)
    std = torch.tensor(meta["input_std"], dtype=torch.float64)
    features, rate = sgsdata.invariants(grad)
    if nu is not None:
        features = train_closures.with_regime({"features": features, "rate": rate, "delta": delta,
                                               "nu": nu})["features"]
    # A float32 model sees float32 inputs, as the C++ core gives it.
    dtype = torch.float32 if meta["dtype"] == "float32" else torch.float64

    def evaluate(x):
        return module(x.to(dtype)).to(torch.float64)
    with torch.no_grad():
        return train_closures.model_stress(meta["kind"], evaluate, features, grad, delta, mean, std)


def tolerance(model):
    """Python == C++ up to the model's precision."""
    extra = {"mlcfd.json": ""}
    torch.jit.load(model, _extra_files=extra)
    return 1e-5 if json.loads(extra["mlcfd.json"])["dtype"] == "float32" else 1e-10


def random_rotation(seed):
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed),
                                       dtype=torch.float64))
    q = q*torch.sign(torch.diagonal(r))
    return q if torch.det(q) > 0 else -q


class Pipeline(unittest.TestCase):
    """Allrun --quick once; then every check on its output."""

    @classmethod
    def setUpClass(cls):
        cls.log = subprocess.run([os.path.join(REPO, "training", "les", "Allrun"), "--quick",
                                  "--work", WORK], check=True, capture_output=True,
                                 text=True).stdout
        cls.dataset = torch.load(os.path.join(WORK, "dataset.pt"))
        rows = cls.dataset["rows"]
        held = (rows["split"] == 1) & (rows["filter"] == 0)
        cls.grad = rows["gradU"][held][:300]
        cls.delta = rows["delta"][held][:300]

    def test_training_reduces_the_loss(self):
        for kind in ("eddyViscosity", "tensorBasis"):
            losses = [float(line.split("loss train")[1].split()[0])
                      for line in self.log.splitlines() if f"{kind:14s} epoch" in line]
            self.assertEqual(len(losses), 3)
            self.assertLess(losses[-1], losses[0], kind)

    def test_report_compares_with_smagorinsky_and_dynamic_smagorinsky(self):
        with open(os.path.join(WORK, "report", "apriori.md")) as f:
            report = f.read()
        for name in ("| Smagorinsky |", "dynamic Smagorinsky (C =", "learned eddyViscosity",
                     "learned tensorBasis", "| spectral |"):
            self.assertIn(name, report)
        for png in ("loss_curves.png", "scatter.png"):
            self.assertGreater(os.path.getsize(os.path.join(WORK, "report", png)), 1000)

    def check_python_equals_cpp(self, model):
        nut, tau_cpp = cpp_closure(model, self.grad, self.delta, os.path.basename(model))
        tau_py = python_closure(model, self.grad, self.delta)
        self.assertTrue(bool((nut >= 0).all()))
        dev_cpp = sgsdata.deviatoric(tau_cpp)
        error = (dev_cpp - tau_py).abs().max()/tau_py.abs().max()
        self.assertLess(float(error), tolerance(model), model)

    def test_trained_models_agree_with_the_cpp_core(self):
        for kind in ("eddyViscosity", "tensorBasis"):
            self.check_python_equals_cpp(os.path.join(WORK, "models", f"{kind}.pt"))

    def test_shipped_models_agree_with_the_cpp_core_and_dissipate(self):
        for kind in ("eddyViscosity", "tensorBasis"):
            model = os.path.join(REPO, "models", "les", f"{kind}.pt")
            self.assertIn("train_closures.py", run_tool("inspect", model))
            self.check_python_equals_cpp(model)
            tau = python_closure(model, self.grad, self.delta)
            dissipation = -sgsdata.contract(tau, sgsdata.strain_rows(self.grad))
            self.assertGreater(float(dissipation.mean()), 0.0, model)

    def check_rows(self, model, features, tag):
        """Percentage of @p features rows outside the model's training range
        (mlcfd-model check)."""
        path = os.path.join(WORK, f"invariants_{tag}.csv")
        with open(path, "w") as out:
            out.writelines(",".join(repr(x) for x in row) + "\n" for row in features.tolist())
        text = run_tool("check", model, path)
        if "all " in text and " rows inside the training range" in text:
            return 0.0
        return float(text.split("% of ")[0].split()[-1])

    def test_trained_models_record_their_training_range(self):
        features, _ = sgsdata.invariants(self.grad)
        for kind in ("eddyViscosity", "tensorBasis"):
            model = os.path.join(WORK, "models", f"{kind}.pt")
            self.assertIn("training range (", run_tool("inspect", model))
            # Held-out rows of the same flows: (nearly) all inside.
            self.assertLess(self.check_rows(model, features, f"{kind}_own"), 1.0)
            # tr(S^2)/s^2 lies in [0, 1]: five times it leaves the range for
            # every row above about 0.22, most of them.
            shifted = features.clone()
            shifted[:, 1] *= 5
            self.assertGreater(self.check_rows(model, shifted, f"{kind}_shifted"), 50.0)
        # The same range written into an existing file, the network untouched.
        copy = os.path.join(WORK, "recorded.pt")
        model = os.path.join(WORK, "models", "eddyViscosity.pt")
        with open(model, "rb") as source, open(copy, "wb") as target:
            target.write(source.read())
        subprocess.run([sys.executable, os.path.join(REPO, "training", "les", "train_closures.py"),
                        os.path.join(WORK, "dataset.pt"), "--record-range", copy],
                       check=True, capture_output=True)

        def entries(path):
            extra = {"mlcfd.json": ""}
            module = torch.jit.load(path, _extra_files=extra)
            return json.loads(extra["mlcfd.json"])["training_range"], list(module.parameters())
        (saved, weights), (recorded, copied) = entries(model), entries(copy)
        self.assertEqual(saved, recorded)
        self.assertTrue(all(torch.equal(a, b) for a, b in zip(weights, copied)))

    def test_regime_input_is_trained_read_and_used(self):
        """train_closures.py --regime: both models declare nuRatio, record
        its range, agree with the C++ core given nu, and depend on it."""
        models, report = os.path.join(WORK, "regime_models"), os.path.join(WORK, "regime_report")
        log = subprocess.run([sys.executable, os.path.join(REPO, "training", "les", "train_closures.py"),
                              os.path.join(WORK, "dataset.pt"), "--epochs", "2", "--regime",
                              "--models", models, "--report", report],
                             check=True, capture_output=True, text=True).stdout
        self.assertIn("nuRatio from", log)
        rows = self.dataset["rows"]
        held = (rows["split"] == 1) & (rows["filter"] == 0)
        nu = rows["nu"][held][:300]
        for kind in ("eddyViscosity", "tensorBasis"):
            model = os.path.join(models, f"{kind}.pt")
            inspect = run_tool("inspect", model)
            self.assertIn("nuRatio", inspect)
            nut, tau_cpp = cpp_closure(model, self.grad, self.delta, f"regime_{kind}", nu)
            tau_py = python_closure(model, self.grad, self.delta, nu)
            error = (sgsdata.deviatoric(tau_cpp) - tau_py).abs().max()/tau_py.abs().max()
            self.assertLess(float(error), tolerance(model), kind)
            # Ten times the viscosity: another regime, another stress.
            _, tau_other = cpp_closure(model, self.grad, self.delta, f"regime10_{kind}", 10*nu)
            change = (tau_other - tau_cpp).abs().max()/tau_cpp.abs().max()
            self.assertGreater(float(change), 1e-3, kind)
        # A model without the input refuses an 11th column, not silently ignoring it.
        bad = subprocess.run([TOOL, "closure", os.path.join(WORK, "models", "eddyViscosity.pt"),
                              os.path.join(WORK, "gradients_regime_eddyViscosity.csv")],
                             capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0)
        # A mistyped option value is named, not reported as "stod".
        typo = subprocess.run([TOOL, "create", "smagorinsky", os.path.join(WORK, "typo.pt"), "--regime", "2,5"],
                              capture_output=True, text=True)
        self.assertNotEqual(typo.returncode, 0)
        self.assertIn("option --regime needs a number, not '2,5'", typo.stderr)

    def test_rotating_the_gradient_rotates_the_trained_stress(self):
        model = os.path.join(WORK, "models", "tensorBasis.pt")
        Q = random_rotation(7)
        A = self.grad[:50].reshape(-1, 3, 3)
        rotated = (Q @ A @ Q.T).reshape(-1, 9)
        _, tau = cpp_closure(model, self.grad[:50], self.delta[:50], "plain")
        _, tau_rot = cpp_closure(model, rotated, self.delta[:50], "rotated")

        def full(t):
            T = torch.zeros(t.shape[0], 3, 3, dtype=torch.float64)
            for c, (i, j) in enumerate(sgsdata.SYMM_INDEX):
                T[:, i, j] = T[:, j, i] = t[:, c]
            return T
        expected = Q @ full(tau) @ Q.T
        error = (full(tau_rot) - expected).abs().max()/expected.abs().max()
        self.assertLess(float(error), tolerance(model))


if __name__ == "__main__":
    TOOL, WORK = sys.argv[1], sys.argv[2]
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
