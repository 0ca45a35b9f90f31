"""Claims of seed 002 (label-noise SGD with momentum near a valley of minima), design doc §B.

Each test states the claim it checks.  Numbers in comments are what the implementation
measured (seed 0) when the test was written; the default tests use --quick-sized runs,
the acceptance experiments are marked slow (``pytest -m slow``).
"""

import math
import re

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from sgdlab import SGD, InputError, manifold as mf
from sgdlab.manifold._model import ManifoldModel

UV = mf.UV(s=1.0, n=16)
EPS_UV = 2.0                     # δ² = ε²s/N = 0.25, the design doc's δ = 0.5
SQRT2_GRID = 2.0 ** (np.arange(-3, 5) / 2)          # C from 0.35 to 4 (§B.6)


@pytest.fixture(scope="module")
def sensing():
    return mf.MatrixSensing(d=5, rank=1, m=6, spread=1.0)


def matched_error(a, b) -> float:
    """Largest distance between two multisets of complex numbers under the best pairing."""
    cost = np.abs(np.subtract.outer(a, b))
    i, j = linear_sum_assignment(cost)
    return float(cost[i, j].max())


# -- §B.3 Jacobian eigenvalues -------------------------------------------------------------

@pytest.mark.parametrize("lr,beta", [(1e-3, 0.9), (0.3, 0.5), (0.05, 0.0), (0.2, -0.3), (0.6, 0.95)])
@pytest.mark.parametrize("where", ["flattest", "start"])
def test_jacobian_eigenvalues_match_a_numerical_jacobian_on_uv(lr, beta, where):
    theta = getattr(UV, where)
    numeric = np.linalg.eigvals(mf.numerical_jacobian(UV, lr, beta, theta))
    assert matched_error(mf.jacobian_eigenvalues(UV, lr, beta, theta), numeric) < 1e-8   # worst 8e-11


@pytest.mark.parametrize("lr,beta", [(1e-2, 0.9), (0.05, 0.3)])
def test_jacobian_eigenvalues_match_a_numerical_jacobian_on_matrix_sensing(sensing, lr, beta):
    theta = sensing.start
    numeric = np.linalg.eigvals(mf.numerical_jacobian(sensing, lr, beta, theta))
    assert matched_error(mf.jacobian_eigenvalues(sensing, lr, beta, theta), numeric) < 1e-8


def test_tangent_block_has_eigenvalues_one_and_beta():
    zp, zm = mf.block_eigenvalues(0.1, 0.7, [0.0])
    assert np.allclose([zp[0], zm[0]], [1.0, 0.7], atol=1e-15)


def test_normal_eigenvalues_are_complex_exactly_inside_the_critical_band_with_modulus_sqrt_beta():
    beta, lr = 0.81, 1.0
    lo, hi = (1 - 0.9) ** 2, (1 + 0.9) ** 2
    lam = np.array([0.5 * lo, 1.01 * lo, 0.5 * (lo + hi), 0.99 * hi, 1.01 * hi])
    zp, zm = mf.block_eigenvalues(lr, beta, lam)
    is_complex = np.abs(zp.imag) > 0
    assert is_complex.tolist() == [False, True, True, True, False]
    assert np.allclose(np.abs(zp[is_complex]), 0.9) and np.allclose(np.abs(zm[is_complex]), 0.9)


def test_stability_boundary_is_lr_lambda_equal_two_one_plus_beta():
    beta = 0.6
    inside = mf.block_eigenvalues(1.0, beta, [2 * (1 + beta) * 0.999])
    outside = mf.block_eigenvalues(1.0, beta, [2 * (1 + beta) * 1.001])
    assert max(np.abs(z).max() for z in inside) < 1 < max(np.abs(z).max() for z in outside)


# -- §B.4 timescales -------------------------------------------------------------------------

def test_three_timescales_match_their_closed_forms_in_the_overdamped_regime():
    lr, beta = 1e-4, 0.5                     # ηλ = 2e-4 ≪ (1-√β)² = 0.086
    ts = mf.timescales(UV, lr, beta, EPS_UV)
    assert ts.regime == "overdamped" and ts.status == "converges"
    assert ts.transverse == pytest.approx((1 - beta) / (lr * 2.0), rel=2e-3)     # λ = 2s at (1, 1)
    assert ts.longitudinal == pytest.approx(-1 / math.log(beta), rel=1e-14)
    assert ts.drift == pytest.approx(4 * UV.n * (1 - beta) ** 2 / (lr ** 2 * EPS_UV ** 2 * 4 * UV.s), rel=1e-14)


def test_underdamped_transverse_time_is_minus_two_over_log_beta():
    ts = mf.timescales(UV, 1e-2, 0.99, EPS_UV)
    assert ts.regime == "underdamped"
    assert ts.transverse == pytest.approx(-2 / math.log(0.99), rel=1e-12)


def test_drift_and_momentum_timescales_meet_at_one_minus_beta_proportional_to_lr_two_thirds():
    """τ_D/τ_L is a function of C = (1-β)/η^{2/3} alone to leading order (§B.5)."""
    ratios = [mf.timescales(UV, lr, 1 - 0.8 * lr ** (2 / 3), EPS_UV) for lr in (1e-3, 1e-4, 1e-5)]
    r = [ts.drift / ts.longitudinal for ts in ratios]
    assert max(r) / min(r) < 1.01


def test_an_unstable_learning_rate_is_reported_with_the_failing_condition_not_as_nan():
    ts = mf.timescales(UV, 1.5, 0.2, EPS_UV)             # ηλ = 3 > 2(1 + β) = 2.4
    assert ts.status == "diverges" and ts.transverse == math.inf
    assert "2(1 + β)" in ts.message and "lower lr" in ts.message
    assert not any(isinstance(v, float) and math.isnan(v) for v in ts.to_dict().values())


# -- §B.4 drift law and §B.6 UV claims ----------------------------------------------------------

def test_drift_velocity_moves_the_uv_imbalance_at_the_exact_beta_zero_rate():
    """-rate·∇_M tr H gives dD/dt = -η²δ²D/(1-β)² on uv = 1 (§B.4, §B.6)."""
    lr, beta = 1e-3, 0.9
    delta2 = mf.uv_delta(UV.s, UV.n, EPS_UV) ** 2
    for D in (3.75, 1.0, -0.4):
        theta = UV.on_manifold(D)
        vel = mf.drift_velocity(UV, theta, lr, beta, EPS_UV)
        dD = 2 * theta[0] * vel[0] - 2 * theta[1] * vel[1]
        assert dD == pytest.approx(-lr ** 2 * delta2 * D / (1 - beta) ** 2, rel=1e-6)


def test_numerical_tangent_curvature_of_uv_equals_four_s():
    model = mf.UV(s=1.7, n=8)
    k = mf.tangent_curvatures(model, model.flattest)
    assert k.shape == (1,) and k[0] == pytest.approx(4 * 1.7, rel=1e-6)
    near = model.on_manifold(0.02)                        # quadratic valley near (1, 1)
    assert mf.effective_curvature(model, near, 2 * model.s) == pytest.approx(4 * 1.7, rel=1e-3)


def _uv_beta0_decay(lr, steps, seeds, seed=0):
    run = mf.simulate(UV, SGD(lr), steps, seeds=seeds, seed=seed, label_noise=EPS_UV, every=steps)
    measured = -math.log(run.mean[0, -1] / run.mean[0, 0]) / steps
    D, predicted = run.mean[0, 0], 0.0                    # integrate d ln E D/dt along the path
    for _ in range(steps):
        rate = mf.uv_imbalance_rate(UV, lr, EPS_UV, UV.on_manifold(D))
        predicted += rate
        D *= 1 - rate
    return measured, predicted / steps


def test_beta_zero_decay_rate_of_the_uv_imbalance_matches_theory_within_one_percent():
    """E D decays at η²·2δ²/(2 - ηλ) per step (§B.6, exact at β = 0); the naive η²δ² is 3.8 % off."""
    lr = 0.02
    measured, predicted = _uv_beta0_decay(lr, steps=5000, seeds=200)
    assert abs(measured / predicted - 1) < 0.01           # measured 1.0015
    naive = lr ** 2 * mf.uv_delta(UV.s, UV.n, EPS_UV) ** 2
    assert abs(measured / naive - 1) > 0.02


@pytest.mark.parametrize("lr,C", [(4e-3, 4.0), (2e-3, 2.83), (1e-3, 4.0)])
def test_overdamped_time_law_of_the_uv_imbalance_within_five_percent(lr, C):
    """T(RMS D drops tenfold) = ln 10 (1-β)²/(η²δ²) in the overdamped regime (§B.6)."""
    beta = 1 - C * lr ** (2 / 3)
    predicted = mf.uv_tenfold_time(UV, lr, beta, EPS_UV)
    run = mf.simulate(UV, SGD(lr, beta), int(1.4 * predicted), seeds=100, seed=1, label_noise=EPS_UV, every=10)
    ex = mf.time_to_fraction(run.steps, run.rms[0])
    assert ex.status == "reached" and abs(ex.time / predicted - 1) < 0.05       # measured 0.992, 0.994, 1.000


# -- §B.5 critical damping, recommended momentum and the EMA pitfall ------------------------------

def test_c_lin_of_uv_is_cube_root_of_four_delta_squared():
    delta2 = mf.uv_delta(UV.s, UV.n, EPS_UV) ** 2
    assert mf.c_lin(UV, EPS_UV) == pytest.approx((4 * delta2) ** (1 / 3), rel=1e-14)


def test_recommended_momentum_critically_damps_the_motion_along_the_valley():
    """η κ = (1-β)²/4 at 1-β = C_lin η^{2/3}, with κ = ηε²k/(4N(1-β)) (§B.5)."""
    for lr in (1e-2, 1e-3, 1e-4):
        rec = mf.recommended_momentum(UV, lr, EPS_UV)
        kappa = lr * EPS_UV ** 2 * UV.k / (4 * UV.n * rec.one_minus_beta)
        assert lr * kappa == pytest.approx(rec.one_minus_beta ** 2 / 4, rel=1e-12)
        assert rec.one_minus_beta == pytest.approx(rec.C * lr ** (2 / 3), rel=1e-14)
        assert rec.speedup == pytest.approx(1 / rec.one_minus_beta ** 2, rel=1e-9)


def test_recommendation_accepts_a_measured_prefactor_and_flags_an_out_of_regime_learning_rate():
    assert mf.recommended_momentum(UV, 1e-3, EPS_UV, C=0.74).one_minus_beta == pytest.approx(0.0074)
    big = mf.recommended_momentum(UV, 1.5, EPS_UV)
    assert big.status == "out-of-regime" and big.momentum == 0.0 and "beta = 0" in big.message


def test_ema_converters_round_trip_and_reuse_the_library_convention():
    lr, beta = mf.from_ema(0.5, 0.9)
    assert (lr, beta) == pytest.approx((0.05, 0.9))
    assert mf.to_ema(lr, beta) == pytest.approx((0.5, 0.9))


def test_ema_pitfall_the_optimal_law_reads_one_minus_beta_proportional_to_ema_lr_squared():
    """The v-form law 1-β* = Cη^{2/3}, rewritten in η' = η/(1-β*), has exponent 2 (§0.2)."""
    C, lrs = 0.74, np.geomspace(1e-5, 1e-2, 7)
    omb = np.array([mf.one_minus_beta(lr, C) for lr in lrs])
    ema_lrs = np.array([mf.to_ema(lr, 1 - o)[0] for lr, o in zip(lrs, omb)])
    assert mf.power_law_fit(lrs, omb).exponent == pytest.approx(2 / 3, abs=1e-12)
    assert mf.power_law_fit(ema_lrs, omb).exponent == pytest.approx(2.0, abs=1e-12)
    for lr_ema in ema_lrs:
        rec = mf.recommended_momentum(UV, lr_ema, EPS_UV, C=C, parametrisation="ema")
        assert rec.one_minus_beta == pytest.approx(C ** 3 * lr_ema ** 2, rel=1e-12)
        assert rec.lr == pytest.approx(mf.from_ema(lr_ema, rec.momentum)[0], rel=1e-12)
        assert rec.one_minus_beta == pytest.approx(C * rec.lr ** (2 / 3), rel=1e-9)   # same optimum


# -- test beds ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: mf.UV(s=0.7, n=5), lambda: mf.MatrixSensing(d=5, rank=2, m=9),
                                  lambda: mf.TeacherStudent(activation="tanh"),
                                  lambda: mf.TeacherStudent(activation="relu", seed=3)])
def test_hand_written_jacobians_match_finite_differences_and_start_on_the_manifold(make):
    model = make()
    rng = np.random.default_rng(0)
    theta = model.start + 0.05 * rng.standard_normal(model.dim)
    fd = np.stack([(model.residuals(theta + 1e-6 * e) - model.residuals(theta - 1e-6 * e)) / 2e-6
                   for e in np.eye(model.dim)], axis=-1)
    assert np.abs(model.jacobian(theta) - fd).max() < 1e-6
    assert np.abs(model.residuals(model.start)).max() < 1e-12
    assert float(model.trace_hessian(model.flattest)) <= float(model.trace_hessian(model.start))


def test_fast_noisy_gradients_equal_the_generic_label_noise_gradient(sensing):
    """Matrix sensing's (2/m)(Σ c_i A_i)U is the generic ∇L - (ε/N)Σ ξ_i ∇f_i with the same ξ."""
    theta = np.stack([sensing.start, sensing.flattest + 0.1])
    fast = sensing.noisy_gradient(theta, 0.3, np.random.default_rng(5))
    generic = ManifoldModel.noisy_gradient(sensing, theta, 0.3, np.random.default_rng(5))
    assert np.abs(fast - generic).max() < 1e-12


def test_uv_reduction_has_the_label_noise_mean_and_covariance():
    """g = [s(uv-1) - δξ](v, u): mean ∇L, covariance (ε²/N) G (§B.1, §B.6)."""
    theta = np.array([1.3, 0.6])
    g = UV.noisy_gradient(np.broadcast_to(theta, (200_000, 2)), EPS_UV, np.random.default_rng(0))
    assert np.allclose(UV.noisy_gradient(theta, 0.0, np.random.default_rng(0)), UV.gradient(theta), atol=1e-15)
    cov = EPS_UV ** 2 / UV.n * UV.gauss_newton(theta)
    assert np.allclose(np.cov(g.T), cov, rtol=0.02)


def test_matrix_sensing_flattest_point_recovers_the_low_rank_truth(sensing):
    assert np.linalg.norm(sensing.X_flat - sensing.U_star @ sensing.U_star.T) < 1e-8
    assert sensing.observable(sensing.start) > 1.0


# -- simulation -----------------------------------------------------------------------------------

def test_simulation_is_torch_sgd_momentum_step_for_step():
    """v-form heavy ball = torch.optim.SGD(momentum=β): m ← βm + g, θ ← θ - ηm (same noise)."""
    lr, beta, steps = 0.01, 0.9, 50
    run = mf.simulate(UV, lr, steps, seeds=1, seed=3, label_noise=EPS_UV, momentum=beta, every=1)
    rng, theta, buf = np.random.default_rng(3), UV.start[None, None, :].copy(), 0.0
    D = [float(UV.observable(theta)[0, 0])]
    for _ in range(steps):
        buf = beta * buf + UV.noisy_gradient(theta, EPS_UV, rng)
        theta = theta - lr * buf
        D.append(float(UV.observable(theta)[0, 0]))
    assert np.allclose(run.mean[0], D, rtol=1e-12, atol=1e-14)


def test_divergent_chains_are_counted_and_reported_never_nan():
    # 2nd configuration: ηλ = 3.8 > 2
    run = mf.simulate(UV, [0.05, 0.9], 400, seeds=20, seed=0, label_noise=EPS_UV, momentum=[0.9, 0.0])
    assert run.diverged_fraction.tolist() == [0.0, 1.0]
    assert run.statuses == ["finite", "diverges"] and run.status == "mixed"
    assert run.reasons[1].startswith("diverged 20/20 chains (first at step")
    assert np.all(np.isfinite(run.rms)) and np.all(np.isfinite(run.mean))
    assert mf.time_to_fraction([0, 1], [1.0, np.inf]).status == "diverges"


def test_extractors_recover_a_known_exponential_timescale():
    t = np.arange(0, 5001, 5.0)
    y = 3.0 * np.exp(-t / 700.0) + 0.2
    assert mf.exp_fit_time(t, y).tau == pytest.approx(700.0, rel=1e-6)
    assert mf.extract_time(t, y - 0.2, "tenfold").time == pytest.approx(700 * math.log(10), abs=5)
    assert mf.extract_time(t, y, "plateau").time == pytest.approx(700 * math.log(10), rel=0.02)
    short = mf.time_to_fraction(t[:100], y[:100] - 0.2)
    assert short.status == "not-reached" and short.time == math.inf and short.bound == t[99]


# -- §B.7 sweep machinery ------------------------------------------------------------------------

def test_parabola_vertex_and_edge_cases():
    x = np.log(np.array([0.5, 0.7, 1.0, 1.4, 2.0]))
    y = 2.0 * (x - math.log(0.8)) ** 2 + 1.0
    xv, yv, st = mf.parabola_minimum(x, y)
    assert st == "interior" and xv == pytest.approx(math.log(0.8), abs=1e-12) and yv == pytest.approx(1.0)
    assert mf.parabola_minimum(x, -x)[2] == "edge"
    assert mf.parabola_minimum(x, np.r_[np.inf, y[1:]])[2] == "edge"
    assert mf.parabola_minimum(x, np.full(5, np.inf))[2] == "not-reached"


def test_power_law_fit_interval_covers_the_true_exponent():
    rng = np.random.default_rng(0)
    x = np.geomspace(1e-4, 1e-2, 6)
    hits = sum(mf.power_law_fit(x, 2 * x ** (2 / 3) * np.exp(0.05 * rng.standard_normal(6))).contains(2 / 3)
               for _ in range(200))
    assert 180 <= hits <= 200                      # nominal 95 %: 190
    exact = mf.power_law_fit(x, 3 * x ** 0.5)
    assert exact.exponent == pytest.approx(0.5, abs=1e-12) and exact.ci95[1] - exact.ci95[0] < 1e-8


def test_quick_uv_sweep_collapses_on_one_minus_beta_equal_c_lr_two_thirds():
    """Quick run (3 η, 100 chains): the optimum sits below C_lin and T_opt η^{2/3} is η-independent."""
    sw = mf.sweep(UV, [4e-3, 2e-3, 1e-3], 2.0 ** (np.arange(-2, 4) / 2), EPS_UV, seeds=100, seed=0)
    assert sw.optimum_status == ["interior"] * 3
    ratio = sw.C_opt / sw.C_lin
    assert np.all((0.55 < ratio) & (ratio < 1.0))                  # measured 0.70-0.82 (slow: 0.74)
    scaled = sw.time_opt * sw.lrs ** (2 / 3)
    assert scaled.max() / scaled.min() < 1.25                      # measured 10.7 / 9.4
    assert np.all(np.isfinite(sw.time)) and not np.isnan(sw.time).any()


def test_sweep_counts_a_configuration_with_a_diverged_chain_as_infinite_time():
    model = mf.UV(s=1.0, n=16, start_u=6.0)           # λ = s(u² + v²) ≈ 36 at the start
    sw = mf.sweep(model, [0.3, 0.01], [0.5, 1.0, 2.0], EPS_UV, seeds=20, steps=300)  # η = 0.3: ηλ ≫ 2(1 + β)
    rows = sw.rows()
    assert np.all(sw.diverged_fraction[0] == 1.0) and np.all(sw.time[0] == math.inf)
    assert rows[0]["status"] == ["diverges"] * 3
    assert all(why.startswith("diverged 20/20 chains") for why in rows[0]["reason"])
    assert rows[0]["diverged_configs"] == 3 and rows[0]["optimum"] == "not-reached"
    assert np.all(sw.diverged_fraction[1] == 0.0) and rows[1]["diverged_configs"] == 0
    assert not np.isnan(sw.time).any()


# -- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,name", [
    (lambda: mf.timescales(UV, -1e-3, 0.9, 1.0), "lr"),
    (lambda: mf.timescales(UV, 1e-3, 1.0, 1.0), "momentum"),
    (lambda: mf.timescales(UV, 1e-3, 0.9, float("nan")), "label_noise"),
    (lambda: mf.recommended_momentum(UV, 1e-3, 1.0, parametrisation="adam"), "parametrisation"),
    (lambda: mf.simulate(UV, SGD(1e-3, 0.9), 10, seeds=0, label_noise=1.0), "seeds"),
    (lambda: mf.simulate(UV, [1e-3, 2e-3], 10, label_noise=1.0, momentum=[0.9, 0.8, 0.7]), "and momentum"),
    (lambda: mf.sweep(UV, [0.5], [4.0], 1.0), "C"),
    (lambda: mf.MatrixSensing(d=5, m=15), "m"),
    (lambda: mf.TeacherStudent(activation="sigmoid"), "activation"),
    (lambda: mf.TeacherStudent(hidden=2, n_data=20), "hidden"),
    (lambda: mf.extract_time([0, 1], [1.0, 0.5], "median"), "method"),
    (lambda: mf.UV(x=[0.0, 0.0]), "x"),
])
def test_bad_input_raises_a_one_line_error_naming_the_parameter(call, name):
    with pytest.raises(InputError, match=re.escape(name)) as err:
        call()
    assert len(str(err.value).splitlines()) == 1


def test_docstring_examples_print_what_they_claim():
    import doctest
    import importlib
    for name in ("sgdlab.manifold", "sgdlab.manifold.uv", "sgdlab.manifold.timescales", "sgdlab.manifold.damping"):
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, name


# -- acceptance experiments (slow) ----------------------------------------------------------------

@pytest.fixture(scope="module")
def uv_acceptance_sweep():
    """§B.6 protocol: 5 η over 1.2 decades, C on a √2 grid 0.35..4, 300 chains."""
    return mf.sweep(UV, [4e-3, 2e-3, 1e-3, 5e-4, 2.5e-4], SQRT2_GRID, EPS_UV, seeds=300, seed=0)


@pytest.mark.slow
def test_uv_optimal_one_minus_beta_scales_as_lr_two_thirds(uv_acceptance_sweep):
    sw = uv_acceptance_sweep
    assert sw.optimum_status == ["interior"] * 5
    assert abs(sw.exponent.exponent - 2 / 3) < 0.1                # measured 0.711 (CI 0.676..0.746)
    assert abs(sw.time_exponent.exponent + 2 / 3) < 0.1           # measured -0.677


@pytest.mark.slow
def test_uv_measured_optimum_in_ema_coordinates_shows_the_pitfall(uv_acceptance_sweep):
    """Fitted against the EMA learning rate η' = η/(1-β*), the same optima give exponent a/(1-a) ≈ 2,
    not 2/3; the EMA recommendation C³η'² reproduces every measured optimum (§0.2)."""
    sw = uv_acceptance_sweep
    ema_lr = sw.lrs / sw.one_minus_beta_opt
    fit = mf.power_law_fit(ema_lr, sw.one_minus_beta_opt)
    a = sw.exponent.exponent
    print(f"\nEMA coordinates: exponent {fit.exponent:.3f} CI {fit.ci95} "
          f"(v-form {a:.3f} -> a/(1-a) = {a / (1 - a):.3f})")
    assert fit.ci95[0] > 1.5 and abs(fit.exponent - a / (1 - a)) < 0.1       # measured 2.45 (CI 2.02..2.87)
    for eta_ema, C, omb in zip(ema_lr, sw.C_opt, sw.one_minus_beta_opt):
        rec = mf.recommended_momentum(UV, eta_ema, EPS_UV, C=C, parametrisation="ema")
        assert rec.one_minus_beta == pytest.approx(omb, rel=1e-9)


@pytest.mark.slow
def test_matrix_sensing_optimal_exponent_and_speedup_over_plain_sgd(sensing):
    eps = 0.1
    C = mf.c_lin(sensing, eps) * 2.0 ** (np.arange(-4, 3) / 2)
    sw = mf.sweep(sensing, [4e-3, 2e-3, 1e-3, 5e-4], C, eps, seeds=100, seed=0)
    assert sw.optimum_status.count("interior") >= 4
    assert abs(sw.exponent.exponent - 2 / 3) < 0.15               # measured 0.728 (CI 0.679..0.778)
    base = mf.plain_sgd_time(sensing, 4e-3, eps, seeds=50, max_steps=200_000)
    speedup_lower = (base.time if base.status == "reached" else base.bound) / sw.time_opt[0]
    print(f"\nsensing: exponent {sw.exponent.exponent:.3f} CI {sw.exponent.ci95}, T_opt(4e-3) = "
          f"{sw.time_opt[0]:.0f}, beta=0: {base.status}, speed-up >= {speedup_lower:.0f}, extrapolated "
          f"{math.log(10) * base.tau / sw.time_opt[0]:.0f}")
    assert speedup_lower > 10


@pytest.mark.slow
def test_teacher_student_tanh_network_has_its_optimum_at_the_critical_damping_scale():
    """"Any architecture": on a 2-layer tanh student the optimum is interior at every η and C_opt is
    within a factor 2 of C_lin = (ε²k_eff/N)^{1/3} (3 η, 40 chains; the CLI's default mlp run)."""
    model, eps = mf.TeacherStudent(activation="tanh"), 0.1
    clin = mf.c_lin(model, eps)
    sw = mf.sweep(model, [4e-2, 2e-2, 1e-2], clin * 2.0 ** (np.arange(-4, 3) / 2), eps, seeds=40, seed=0)
    print(f"\nmlp: C_opt/C_lin {np.round(sw.C_opt / clin, 3)}, T_opt eta^(2/3) "
          f"{np.round(sw.time_opt * sw.lrs ** (2 / 3), 1)}, exponent {sw.exponent}")
    assert sw.optimum_status == ["interior"] * 3
    assert np.all((0.5 < sw.C_opt / clin) & (sw.C_opt / clin < 2.0))     # measured 0.89, 1.04, 0.95


# ------------------------------------------------------------------ issue 12: the result protocol at the edges
def test_a_sweep_with_diverged_and_unreached_configurations_has_a_status_and_no_inf_in_its_outputs():
    import json
    model = mf.UV(s=1.0, n=16, start_u=6.0)           # η = 0.3 diverges, η = 0.01 does not settle in 5 steps
    sw = mf.sweep(model, [0.3, 0.01], [0.5, 1.0, 2.0], EPS_UV, seeds=10, steps=5)
    assert np.isinf(sw.time).all() and sw.status == "not-reached" and sw.reason
    doc = sw.to_dict()
    json.dumps(doc, allow_nan=False)
    json.dumps(sw.rows(), allow_nan=False)
    assert doc["rows"][0]["T"] == [None] * 3 and doc["rows"][0]["status"] == ["diverges"] * 3
    for run in sw.runs:
        json.dumps(run.to_dict(), allow_nan=False)


def test_the_twin_reports_mean_standard_error_and_median_in_the_shared_shape():
    run = mf.simulate(UV, SGD(1e-2, 0.5), 200, seeds=30, seed=1, label_noise=EPS_UV, every=20)
    mc = run.summary()
    assert mc.seeds == 30 and np.array_equal(mc.steps, run.steps) and np.array_equal(mc.mean, run.mean[0])
    assert mc.stderr[0] == 0 and np.all(mc.stderr[1:] > 0)        # every chain starts at the same point
    assert np.all(np.isfinite(mc.median)) and run.status == "finite"
    with pytest.warns(DeprecationWarning, match="seeds"):
        old = mf.simulate(UV, SGD(1e-2, 0.5), 200, chains=30, seed=1, label_noise=EPS_UV, every=20)
    np.testing.assert_array_equal(old.mean, run.mean)


@pytest.mark.parametrize("call,param", [
    (lambda: mf.simulate(UV, 1e-3, 0.9, 1.0, 10), "momentum"),           # the old positional order
    (lambda: mf.simulate(UV, SGD(1e-3), 10, seeds=True, label_noise=1.0), "seeds"),
    (lambda: mf.simulate(UV, SGD(1e-3), 10, seed=-1, label_noise=1.0), "seed"),
    (lambda: mf.simulate(UV, SGD(1e-3), 10, label_noise=-1.0), "label_noise"),
    (lambda: mf.simulate(UV, SGD(1e-3), 10, label_noise=1.0, backend="jax"), "backend"),
    (lambda: mf.simulate(UV, SGD(1e-3), 10, seeds=10 ** 9, label_noise=1.0), "GiB"),
    (lambda: mf.sweep(UV, [1e-3], [1.0], 1.0, seeds=0), "seeds"),
    (lambda: mf.sweep(UV, [1e-3], [1.0], 1.0, horizon=0.0), "horizon"),
    (lambda: mf.time_to_fraction([0, 1, 2], [1.0, 0.5, 0.1], fraction=0.0), "fraction"),
])
def test_secondary_parameters_are_refused_naming_the_public_parameter(call, param):
    with pytest.raises(InputError, match=param):
        call()
