"""sgdlab.advise, critical_batch and the advise / tune commands: the claims of docs/advice.md."""

import json

import numpy as np
import pytest

import sgdlab
from sgdlab import linear
from sgdlab.linear.advise import excess_grid, gradient_noise_scale


def one_mode(noise_variance=0.0):
    return sgdlab.Problem.from_eigenvalues([1.0], target=[1.0], noise_variance=noise_variance)


def test_the_contour_objective_is_the_recursion_at_the_horizon():
    p = sgdlab.Problem.power_law(dim=300, noise_variance=0.05)
    rng = np.random.default_rng(1)
    for model, T in (("gaussian", 3000), ("se", 500)):
        nm = linear.resolve_noise(p, model, 8)
        betas = rng.uniform(-0.8, 0.9, 12)
        lrs = rng.uniform(0.02, 0.98, 12) * linear.stability.critical_curve(p.eigenvalues, betas, nm)
        _, L = linear.predict_many(p, lrs, betas, 8, T, model=model, record=np.array([0, T]))
        exact = L[:, -1] - p.noise_variance / 2
        assert np.allclose(excess_grid(p, lrs, betas, nm, T), exact, rtol=1e-8, atol=0)


def test_best_lr_of_one_deterministic_mode_is_analytic():
    # one mode, beta = 0, Gaussian batch b: A' = ((1-a)^2 + 2a^2/b) A, fastest at a = b/(b+2) for every horizon
    b = 4
    a = sgdlab.advise(one_mode(), budget=200, batches=[b], momenta=[0.0])
    assert a.zero_momentum.lr == pytest.approx(b / (b + 2), rel=2e-3)
    assert a.lr == pytest.approx(b / (b + 2), rel=2e-3)


def test_advice_beats_every_point_of_a_brute_force_grid_of_predictions():
    p = sgdlab.Problem.power_law(dim=100, noise_variance=0.01)
    momenta, fr = np.linspace(-0.5, 0.9, 8), np.geomspace(0.01, 0.99, 9)
    a = sgdlab.advise(p, budget=400, batches=[4], momenta=momenta, fractions=fr)
    brute = []
    for beta in momenta:
        crit = sgdlab.critical_lr(p, beta, 4)
        for f in fr:
            c = sgdlab.predict(p, sgdlab.SGD(lr=f * crit, momentum=beta, batch=4), 400)
            brute.append(c.final_loss - p.noise_variance / 2)
    assert a.excess_loss <= min(brute) * (1 + 1e-9)
    assert min(brute) <= a.excess_loss * 1.05          # the refinement moves within one grid cell


def test_excess_loss_leaves_out_the_noise_floor():
    p = sgdlab.Problem.power_law(dim=100, noise_variance=0.2)
    a = sgdlab.advise(p, budget=300, batches=[8], momenta=np.linspace(-0.5, 0.9, 6), fractions=[0.1, 0.4, 0.9])
    assert a.excess_loss == pytest.approx(a.curve.final_loss - 0.1, rel=1e-12)
    assert a.initial_excess == pytest.approx(p.initial_loss - 0.1, rel=1e-12)


def test_a_truncated_momentum_grid_is_flagged_at_its_upper_end():
    p = sgdlab.Problem.power_law(dim=100)
    a = sgdlab.advise(p, budget=300, batches=[4], momenta=[-0.5, -0.3, -0.1], fractions=[0.1, 0.5, 0.9])
    words = {f.word: f.reason for f in a.flags}
    assert "boundary-momentum" in words and "upper end" in words["boundary-momentum"]
    wide = sgdlab.advise(p, budget=300, batches=[4], momenta=np.linspace(-0.9, 0.99, 20), fractions=[0.1, 0.5, 0.9])
    assert wide.momentum > -0.1 and wide.excess_loss < a.excess_loss


def test_flat_optimum_is_flagged_only_when_momentum_gains_under_one_percent():
    for budget, batch in ((300, 4), (20000, 1)):
        p = sgdlab.Problem.power_law(dim=100, noise_variance=0.05)
        a = sgdlab.advise(p, budget=budget, batches=[batch], momenta=np.linspace(-0.5, 0.95, 12))
        gain = 1 - a.excess_loss / a.zero_momentum.excess_loss
        assert ("flat-momentum" in {f.word for f in a.flags}) == (gain < 0.01)


def test_a_budget_in_samples_is_budget_over_batch_steps():
    p = sgdlab.Problem.power_law(dim=50)
    a = sgdlab.advise(p, budget=1000, unit="samples", batches=[1, 4, 16], momenta=[0.0, 0.5], fractions=[0.2, 0.8])
    assert {b: s["steps"] for b, s in a.surfaces.items()} == {1: 1000, 4: 250, 16: 62}
    assert a.steps == 1000 // a.batch and a.curve.steps[-1] == a.steps
    assert all(c.steps == 1000 // c.batch for c in a.runner_ups)


def test_critical_batch_on_one_mode_matches_its_analytic_steps_to_target():
    # beta = 0, Gaussian batch b, best a = b/(b+2): E_t = E_0 (2/(b+2))^t, so S(b) = ceil(log(E_0/target)/log((b+2)/2))
    p, target, batches = one_mode(), 1e-6, np.array([1, 2, 4, 8, 16, 64])
    cb = sgdlab.critical_batch(p, target, batches=batches, momenta=[0.0], fractions=np.linspace(0.05, 0.99, 96),
                               max_steps=100)
    exact = np.ceil(np.log(p.initial_loss / target) / np.log((batches + 2) / 2))
    assert np.all(cb.steps >= exact) and np.all(cb.steps <= exact + 1)
    slope, smin = np.polyfit(1.0 / batches, cb.steps, 1, w=1.0 / cb.steps)     # the law in relative residuals
    assert cb.knee == pytest.approx(slope / smin) and cb.min_steps == pytest.approx(smin)


def test_gradient_noise_scale_of_gaussian_data_is_its_closed_form():
    # Gaussian x ~ N(0, H): tr Sigma = tr H * 2 L_0 + |H w*|^2, |grad L|^2 = |H w*|^2
    p = sgdlab.Problem.power_law(dim=40, noise_variance=0.3)
    lam, A = p.eigenvalues, p.initial_moments
    g2 = np.sum(lam**2 * A)
    assert gradient_noise_scale(p) == pytest.approx((lam.sum() * 2 * p.initial_loss + g2) / g2, rel=1e-12)


def test_negative_momentum_rule_answers_on_a_kernel_problem_as_the_predictions_do():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 60)) / 8
    K = X @ X.T + np.diag(np.linspace(0.01, 0.5, 60))
    p = sgdlab.Problem.from_kernel(K, rng.normal(size=60))
    lr = 0.5 * sgdlab.critical_lr(p, 0.0, 4, model="se", sampling="without")
    r = linear.negative_momentum_helps(p, lr, 4)
    sgd = lambda b: sgdlab.SGD(lr=lr, momentum=b, batch=4, sampling="without")  # noqa: E731
    lo, hi = (sgdlab.predict(p, sgd(b), r["steps"]).final_loss for b in (-0.01, 0.01))
    assert r["helps"] == bool(lo < hi)


def test_cli_advise_json_reports_status_flags_and_the_api_numbers(run, tmp_path):
    r = run("advise", "--dim", "50", "--budget", "400", "--unit", "samples", "--batches", "1,4", "--grid", "8",
            "--momenta", "-0.5:0.9", "--out", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    a = sgdlab.advise(sgdlab.Problem.power_law(dim=50), 400, "samples", [1, 4], np.linspace(-0.5, 0.9, 8),
                      fractions=np.geomspace(1e-3, 0.99, 8))
    assert doc["status"] == a.status and [f["word"] for f in doc["flags"]] == [f.word for f in a.flags]
    assert doc["batch"] == a.batch and doc["excess_loss"] == pytest.approx(a.excess_loss, rel=1e-12)
    assert (tmp_path / "advice.png").exists()


def test_tune_is_an_alias_of_advise_with_its_old_options(run):
    r = run("tune", "--dim", "50", "--steps", "200", "--batch", "4", "--grid", "8", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    a = sgdlab.advise(sgdlab.Problem.power_law(dim=50), 200, "steps", [4], np.linspace(-0.9, 0.99, 8),
                      fractions=np.geomspace(1e-3, 0.99, 8))
    assert doc["momentum"] == pytest.approx(a.momentum, rel=1e-12) and doc["loss"] <= doc["loss_zero_momentum"]


def test_cli_advise_refuses_a_bad_momentum_range_in_one_line(run):
    r = run("advise", "--dim", "20", "--momenta", "0.5:0.2")
    assert r.returncode == 2 and r.stderr.strip().startswith("error:") and "--momenta" in r.stderr


ADVISE = ("advise", "--dim", "40", "--budget", "300", "--batches", "4", "--grid", "8", "--momenta", "-0.5:0.9",
          "--seeds", "40", "--workers", "1", "--json")


def test_cli_advise_verify_runs_a_sweep_whose_theory_is_the_advice_and_whose_table_is_in_the_json(run, tmp_path):
    r = run(*ADVISE, "--verify", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    v, cols = doc["verify"], doc["verify"]["table"]["columns"]
    assert v["table"]["names"] == ["advised", "momentum 0"] and len(cols["lr"]) == 2
    assert cols["lr"][0] == pytest.approx(doc["lr"], rel=1e-12) and cols["momentum"][1] == 0.0
    assert v["advised"]["predicted_excess"] == pytest.approx(doc["excess_loss"], rel=1e-9)
    assert v["advised"]["verdict"] in ("agrees", "disagrees", "cannot-check") and cols["seeds"] == [40, 40]
    tasks = sorted(p.name for p in (tmp_path / "verify" / "tasks").glob("*.npz"))
    assert tasks and (tmp_path / "verify" / "table.csv").exists()
    again = run(*ADVISE, "--verify", "--out", str(tmp_path))             # the same sweep: resumed, nothing rerun
    assert json.loads(again.stdout)["verify"]["table"] == v["table"]
    assert json.loads((tmp_path / "verify" / "run.json").read_text())["config"]["resumed"] == len(tasks)


def test_cli_advise_verify_grid_adds_the_neighbourhood_of_the_advised_point(run):
    r = run(*ADVISE, "--verify-grid")
    assert r.returncode == 0, r.stderr
    names = json.loads(r.stdout)["verify"]["table"]["names"]
    assert names[:2] == ["advised", "momentum 0"] and len(names) == 2 + 8


def _gradient_at(p, a):
    g = sgdlab.predict_gradient(p, a.winner.sgd(), a.steps, record=np.array([0, a.steps]))
    return g.d_log_lr[-1], g.d_momentum[-1]


def test_the_polished_optimum_is_stationary_in_lr_and_momentum():
    p = sgdlab.Problem.power_law(dim=100, noise_variance=0.01)
    a = sgdlab.advise(p, budget=300, batches=[4])
    d_log_lr, d_momentum = _gradient_at(p, a)       # by predict_gradient, not the polish's own numbers
    assert a.polish["bounds"] == [] and not any(f.word.startswith("boundary") for f in a.flags)
    assert abs(d_log_lr) <= 1e-6 * a.excess_loss
    assert (1 - abs(a.momentum)) * abs(d_momentum) <= 1e-6 * a.excess_loss


#: the flag that reports the polish stopping on each constraint of the search
FLAG_OF = {"lr-top": "boundary-lr", "lr-bottom": "boundary-lr", "momentum-high": "boundary-momentum",
           "momentum-low": "boundary-momentum"}


@pytest.mark.parametrize("grid", [dict(momenta=[-0.5, -0.3, -0.1], fractions=[0.1, 0.5, 0.9]),
                                  dict(momenta=[0.0, 0.5], lrs=[0.01, 0.05, 0.2]),      # a corner
                                  dict(momenta=[0.0, 0.9], lrs=[0.01, 0.05, 0.2])])     # far from the optimum
def test_a_polished_optimum_is_stationary_in_its_free_directions_and_its_bounds_are_flagged(grid):
    p = sgdlab.Problem.power_law(dim=100, noise_variance=0.01)
    a = sgdlab.advise(p, budget=300, batches=[4], critical=False, **grid)
    d_log_lr, d_momentum = _gradient_at(p, a)
    bounds, words = a.polish["bounds"], {f.word for f in a.flags}
    assert all(FLAG_OF[b] in words for b in bounds)
    if not {"lr-top", "lr-bottom"} & set(bounds):
        assert abs(d_log_lr) <= 1e-6 * a.excess_loss
    if "momentum-high" in bounds:
        assert a.momentum == max(grid["momenta"]) and d_momentum < 0    # it would go higher
    elif "momentum-low" not in bounds:
        assert (1 - abs(a.momentum)) * abs(d_momentum) <= 1e-6 * a.excess_loss


def test_a_schedule_familys_advice_is_refined_off_its_grid_to_a_local_minimum_of_the_peak():
    p = sgdlab.Problem.power_law(dim=100, noise_variance=0.01)
    T = 400
    a = sgdlab.advise(p, budget=T, schedule="warmup-cosine", momenta=np.linspace(-0.5, 0.9, 9))
    grid_best = float(np.min(a.surfaces[1]["excess"]))
    assert a.excess_loss <= grid_best * (1 + 1e-12)
    assert a.winner.lr not in set(np.ravel(a.surfaces[1]["lrs"]).tolist())      # the peak left the grid
    wu = a.winner.schedule["warmup"]
    assert isinstance(wu, int) and 0 <= wu < T

    def excess(peak):
        sched = sgdlab.schedules.warmup_cosine(peak=peak, warmup=wu, total=T)
        return sgdlab.predict(p, sgdlab.SGD(lr=sched, momentum=a.momentum), T).final_loss - p.noise_variance / 2

    assert excess(a.lr) == pytest.approx(a.excess_loss, rel=1e-12)
    assert excess(0.97 * a.lr) > a.excess_loss and excess(1.03 * a.lr) > a.excess_loss
