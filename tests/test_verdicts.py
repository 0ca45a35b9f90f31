"""Claims about verdicts: heavy tails cannot be checked, double divergence compares growth rates, one-sided
divergence disagrees, a right theory agrees and a wrong one does not, and no |z| above 1e6 is ever printed."""

import json
import re

import numpy as np
import pytest

import sgdlab
from sgdlab.montecarlo import agreement, sample_kurtosis, se_relative_error, summarise
from sgdlab.verdict import Z_CAP, agreement_of_values, exact_seconds, format_z, suggest_exact

PL = sgdlab.Problem.power_law(dim=30)
CLEAN = sgdlab.SGD(lr=0.3, momentum=0.5, batch=4)
# lambda_max = 1, lr = 0.5, b = 1: one mode's error is multiplied by 1 - 0.5 z², z ~ N(0, 1), and
# E(1 - 0.5 z²)^4 = 2.56 > 1 while E(1 - 0.5 z²)² = 0.75 < 1: the mean converges but the per-seed
# fourth moment grows without bound, so the seed mean is carried by a few seeds
HEAVY = sgdlab.SGD(lr=0.5, batch=1)
# three modes, lr·λ_max = 2.2 > 2: deterministic growth x1.44 a step; b = 1000 makes the multiplier of
# each seed nearly the same, so the per-seed law stays light-tailed while it diverges
P3 = sgdlab.Problem.from_eigenvalues([1.0, 0.5, 0.25])
GROW = sgdlab.SGD(lr=2.2, batch=1000)


def _verdict(problem, sgd, steps, seeds, theory_sgd=None, seed=0):
    sim = sgdlab.simulate(problem, sgd, steps, seeds=seeds, seed=seed)
    return agreement(sgdlab.predict(problem, theory_sgd or sgd, steps), sim), sim


# ------------------------------------------------------------ the Monte-Carlo error of the error bar
def test_the_standard_error_is_uncertain_by_sqrt_kurtosis_minus_one_over_4n():
    # exponential losses: kurtosis 9, so sd(stderr)/stderr = sqrt(8 / (4n)); R replicates of n values
    rng = np.random.default_rng(3)
    n, R = 400, 4000
    x = rng.exponential(size=(R, n))
    se = x.std(axis=1, ddof=1) / np.sqrt(n)
    measured = se.std(ddof=1) / se.mean()
    predicted = float(se_relative_error(9.0, n))
    assert measured == pytest.approx(predicted, rel=4 / np.sqrt(2 * (R - 1)))


def test_summarise_keeps_the_per_seed_kurtosis_and_the_twins_record_it():
    x = np.random.default_rng(0).standard_normal((20000, 2))
    mc = summarise([0, 1], x)
    np.testing.assert_allclose(mc.kurtosis, 3.0, atol=4 * np.sqrt(24 / 20000))
    assert np.array_equal(sample_kurtosis(x), mc.kurtosis)
    sim = sgdlab.simulate(PL, CLEAN, 20, seeds=10)
    assert len(sim.meta["kurtosis"]) == len(sim)


# ------------------------------------------------------------ point by point
def test_a_clean_case_agrees_with_every_checkpoint_trusted():
    a, _ = _verdict(PL, CLEAN, 300, 400, seed=1)
    assert a.status == "agrees" and a.kind == "pointwise" and a.untrusted == 0, a.reason
    assert a.max_abs_z <= a.threshold and a.max_se_error <= 0.25


def test_a_theory_with_lr_scaled_by_1_2_disagrees():
    a, _ = _verdict(PL, CLEAN, 300, 400, theory_sgd=CLEAN.replace(lr=1.2 * CLEAN.lr), seed=1)
    assert a.status == "disagrees" and a.max_abs_z > a.threshold, a.reason


def test_heavy_tailed_seed_losses_are_reported_as_heavy_tails_not_as_a_z():
    a, sim = _verdict(PL, HEAVY, 1000, 200)
    kurt = np.asarray(sim.meta["kurtosis"])
    # one seed carries half of the sample variance: kurtosis above 1 + n/4, the standard error off by > 25%
    assert kurt.max() > 1 + 200 / 4
    assert a.status == "cannot-check" and a.kind == "heavy-tails", a.reason
    assert a.reason.startswith("cannot be checked by Monte Carlo: heavy tails") and "kurtosis" in a.reason


# ------------------------------------------------------------ divergence
def test_both_diverging_light_tailed_agrees_on_the_growth_rate():
    a, _ = _verdict(P3, GROW, 60, 100)
    g = a.growth
    assert a.status == "agrees" and a.kind == "growth" and a.max_abs_z is None, a.reason
    assert abs(np.log(g["simulated"]) - np.log(g["theory"])) <= a.threshold * g["simulated_se"]
    assert g["predicted"] == pytest.approx(g["theory"], rel=0.01)   # the stretch is past the transient


def test_both_diverging_at_different_rates_disagrees():
    a, _ = _verdict(P3, GROW, 60, 100, theory_sgd=GROW.replace(lr=1.2 * GROW.lr))
    assert a.status == "disagrees" and a.kind == "growth" and "growth per step" in a.reason, a.reason


def test_both_diverging_heavy_tailed_says_the_rate_cannot_be_checked():
    bad = sgdlab.SGD(lr=3.0, batch=4)
    a, _ = _verdict(PL, bad, 100, 50)
    assert a.status == "agrees" and a.kind == "growth" and "cannot be checked by Monte Carlo" in a.reason
    assert a.max_abs_z is None and not a.trusted.any()


def test_one_side_diverging_disagrees_with_the_reason():
    sim = sgdlab.simulate(PL, CLEAN, 100, seeds=20)
    a = agreement(sgdlab.predict(PL, CLEAN.replace(lr=3.0), 100), sim)
    assert a.status == "disagrees" and a.kind == "one-sided" and "theory diverges" in a.reason


# ------------------------------------------------------------ values, exact model, words
def test_entries_with_standard_errors_agree_or_disagree_by_the_bonferroni_threshold():
    rng = np.random.default_rng(0)
    pred = np.linspace(1.0, 2.0, 10)
    est = pred + 0.01 * rng.standard_normal(10)
    assert agreement_of_values(est, np.full(10, 0.01), pred).status == "agrees"
    assert agreement_of_values(est + 0.1, np.full(10, 0.01), pred).status == "disagrees"
    assert agreement_of_values(est, np.full(10, 0.01), pred, kurtosis=500.0, seeds=100).status == "cannot-check"


def test_a_disagreeing_se_verdict_on_a_small_data_set_suggests_the_exact_model_with_its_run_time():
    X = np.random.default_rng(0).normal(size=(60, 8))
    p = sgdlab.Problem.from_features(X, X @ np.ones(8))
    s = sgdlab.SGD(lr=0.2, batch=4, sampling="without")
    theory = sgdlab.Curve([0, 1, 2], [1.0, 0.5, 0.25], meta={"model": "se"})
    wrong = agreement(theory, sgdlab.Curve([0, 1, 2], [1.0, 0.7, 0.5], [0.0, 0.01, 0.01]))
    v = suggest_exact(wrong, theory, p, s, 2000)
    assert v.status == "disagrees" and "predict_exact" in v.suggestion and " s here" in v.suggestion
    assert suggest_exact(wrong, sgdlab.Curve([0, 1], [1.0, 0.5], meta={"model": "gaussian"}), p, s, 10) is wrong
    assert exact_seconds(p, s, 2000) > 0


def test_no_z_beyond_the_cap_is_written_as_a_number():
    assert format_z(2.5e11) == "> 1e6" and format_z(-Z_CAP * 10) == "< -1e6" and format_z(3.2) == "3.2"


# ------------------------------------------------------------ the command line
NUMBER = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def _z_numbers(text: str) -> list[float]:
    """Every number printed right after a 'z' (|z| = ..., z = ..., log-rate z = ...)."""
    flat = " ".join(text.split())
    return [abs(float(v)) for v in re.findall(r"\bz\|?\*?\s*(?:=|<=|>)\s*(" + NUMBER + ")", flat)]


@pytest.mark.parametrize("args, words", [
    (["--lr", "0.5", "--batch", "1", "--momentum", "0", "--steps", "300", "--seeds", "200"], "heavy tails"),
    (["--lr", "3", "--batch", "4", "--momentum", "0", "--steps", "100", "--seeds", "50"], "both diverge"),
])
def test_compare_ends_with_a_verdict_that_names_the_case_and_prints_no_huge_z(run, tmp_path, args, words):
    r = run("compare", "--dim", "30", *args, "--out", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    last = " ".join(r.stderr.strip().split("verdict:")[-1].split())
    assert words in last and "wrote" not in last
    assert all(v <= Z_CAP for v in _z_numbers(r.stderr)), _z_numbers(r.stderr)
    doc = json.loads(r.stdout)
    assert doc["verdict"]["status"] == doc["status"] and (doc["max_abs_z"] or 0) <= Z_CAP
    errors = np.loadtxt(tmp_path / "errors.csv", delimiter=",", skiprows=1)
    assert np.all(np.abs(errors[:, 4]) <= Z_CAP)


def test_the_residual_panel_keeps_every_marker_inside_its_axes():
    from sgdlab.report.figures import plot_residuals, plt
    t = sgdlab.Curve([0, 1, 2, 3], [1.0, 0.5, 0.25, 0.1])
    s = sgdlab.Curve([0, 1, 2, 3], [1.0, 0.5, 0.9, 0.1], [0.0, 0.01, 0.001, 0.01], status="finite")
    fig, ax = plt.subplots()
    plot_residuals(ax, agreement(t, s))
    lo, hi = ax.get_ylim()
    ys = np.concatenate([ln.get_ydata() for ln in ax.get_lines() if ln.get_marker() not in ("None", "", None)])
    assert ys.size == 3 and np.all((ys >= lo) & (ys <= hi))
    plt.close(fig)
