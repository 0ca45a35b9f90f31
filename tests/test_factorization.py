"""Claims of seed 003 (large learning rates on matrix factorisation), design doc §C.

Each test states the claim it checks; the numbers in comments are what the
reference implementation measured (seed 0) when the test was written.
"""

import json

import numpy as np
import pytest

from sgdlab import InputError, factorization as fz
from sgdlab.factorization.sharpness import top_eigenvalue
from sgdlab.factorization.gd import gd_step

MATRIX_C = [0.2, 0.8, 1.2, 1.5, 1.8, 2.1, 2.4]


def random_minimum(rng, A, runs):
    """Global minima X = U√S Q, Y = V√S Q⁻ᵀ of ½‖A − XYᵀ‖² with random invertible Q."""
    U, s, Vt = np.linalg.svd(A)
    Q = rng.standard_normal((runs, len(s), len(s))) + 2 * np.eye(len(s))
    X = (U * np.sqrt(s)) @ Q
    Y = (Vt.T * np.sqrt(s)) @ np.linalg.inv(np.swapaxes(Q, 1, 2))
    return X, Y


@pytest.fixture(scope="module")
def matrix_sweep():
    """§C.4 experiment: n = d = 3, σ(A) = (1, .6, .3), 100 runs X0 = 2.5G, Y0 = G'/2.5."""
    A = fz.from_singular_values([1.0, 0.6, 0.3])
    X0, Y0 = fz.unbalanced_init(3, 3, 3, runs=100, scale=2.5, seed=0)
    return A, fz.sweep(A, X0, Y0, MATRIX_C, steps=20000)


@pytest.fixture(scope="module")
def scalar_sweep():
    """§C.3 experiment: scalar start (9, 1), μ = 1, a fine grid of c = hL0/2 up to 2.3."""
    return fz.sweep(1.0, 9.0, 1.0, np.linspace(0.0025, 2.3, 920), steps=20000)


# ---------------------------------------------------------------- exact structure (§C.2)
def test_imbalance_identity_holds_to_1e12_at_every_step():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 4))
    X, Y = rng.standard_normal((20, 3, 2)), rng.standard_normal((20, 4, 2))
    h = 2 * np.linspace(0.1, 1.8, 20) / fz.sharpness(A, X, Y)  # up to 1.8·(2/L0)
    worst = 0.0
    for _ in range(200):
        predicted = fz.next_imbalance_matrix(A, X, Y, h)
        X, Y, _ = gd_step(A, X, Y, h[:, None, None])
        D = fz.imbalance_matrix(A, X, Y)
        worst = max(worst, np.max(np.abs(predicted - D) / (1 + np.abs(D).max(axis=(1, 2), keepdims=True))))
    assert np.all(np.sum(X * X, axis=(1, 2)) < 1e3) and worst <= 1e-12  # bounded; measured 8.3e-16


def test_scalar_imbalance_factor_is_one_minus_h2r2_and_multiplies_over_a_run():
    h, steps = 0.04, 300
    assert fz.imbalance_factor(1.0, 9.0, 1.0, h) == pytest.approx(1 - (h * 8) ** 2, rel=1e-15)
    tr = fz.trajectory(1.0, 9.0, 1.0, h, steps)
    product = np.prod(1 - 2 * h ** 2 * tr.loss[:-1])  # r_k² = 2·loss_k
    assert tr.imbalance[-1] / tr.imbalance[0] == pytest.approx(product, rel=1e-12)


def test_sharpness_includes_the_residual_term():
    # (9, 1), μ = 1: Hessian [[1, 17], [17, 81]], λ_max = 41 + √1889 = 84.46, not x² + y² = 82
    assert fz.sharpness(1.0, 9.0, 1.0) == pytest.approx(41 + np.sqrt(41 ** 2 + 208), rel=1e-14)
    assert round(fz.sharpness(1.0, 9.0, 1.0), 2) == 84.46


def test_hessian_matches_finite_differences_of_the_loss():
    rng = np.random.default_rng(2)
    A, X, Y = rng.standard_normal((3, 4)), rng.standard_normal((1, 3, 2)), rng.standard_normal((1, 4, 2))
    H = fz.hessian(A, X, Y)[0]
    z0, eps = np.concatenate([X.ravel(), Y.ravel()]), 1e-4

    def grad(z):
        x, y = z[:6].reshape(3, 2), z[6:].reshape(4, 2)
        E = A - x @ y.T
        return np.concatenate([(-E @ y).ravel(), (-E.T @ x).ravel()])

    fd = np.stack([(grad(z0 + eps * e) - grad(z0 - eps * e)) / (2 * eps) for e in np.eye(z0.size)], axis=1)
    assert np.max(np.abs(H - fd)) < 1e-7


def test_sharpness_at_a_global_minimum_is_sum_of_squared_spectral_norms():
    rng = np.random.default_rng(3)
    A = fz.from_singular_values([1.0, 0.6, 0.3], seed=4)
    X, Y = random_minimum(rng, A, runs=50)
    assert np.max(np.abs(A - X @ np.swapaxes(Y, 1, 2))) < 1e-12
    np.testing.assert_allclose(fz.sharpness(A, X, Y), fz.sharpness_at_minimum(A, X, Y), rtol=1e-10)


def test_lanczos_and_dense_sharpness_agree():
    rng = np.random.default_rng(5)
    A, X, Y = rng.standard_normal((6, 5)), rng.standard_normal((4, 6, 3)), rng.standard_normal((4, 5, 3))
    dense, lanczos = (top_eigenvalue(A, X, Y, method=m) for m in ("dense", "lanczos"))
    np.testing.assert_allclose(lanczos, dense, rtol=1e-10)


# ---------------------------------------------------------------- scalar case (§C.3, §C.4, §C.5)
def test_scalar_9_1_converges_for_every_h_up_to_twice_the_classical_edge(scalar_sweep):
    conv = scalar_sweep.result.status[:, 0] == "converges"
    c = scalar_sweep.c
    assert conv[c <= 2.0].all()  # every h <= 2·(2/L0) on a 920-point grid
    first_failure = c[~conv].min()
    assert 2.0 < first_failure < 2.15  # measured 2.070·(2/L0), design doc 2.07


def test_scalar_imbalance_shrinks_beyond_2_over_L0_and_is_about_conserved_below(scalar_sweep):
    c, res = scalar_sweep.c, scalar_sweep.result
    conv = res.status[:, 0] == "converges"
    final = np.abs(res.imbalance[:, 0])
    assert res.imbalance0[0, 0] == 80.0
    below, beyond = conv & (c < 1), conv & (c > 1) & (c <= 2)
    assert final[below].min() > 0.85 * 80  # measured min 71.7 (just below c = 1), ≈80 for small c
    assert final[beyond].max() < 80 and np.median(final[beyond]) < 0.5 * 80  # measured max 71.4, median 21.9


def test_small_lr_imbalance_drift_is_order_h():
    """§C.5: GD changes the imbalance by O(h); halving h halves the drift (to 10%; measured 2.05, 2.11)."""
    c = np.array([0.025, 0.05, 0.1])
    sw = fz.sweep(1.0, 9.0, 1.0, c, steps=40000)
    assert (sw.result.status == "converges").all()
    drift = 1 - sw.result.ratio[:, 0]
    np.testing.assert_allclose(drift[1:] / drift[:-1], 2.0, rtol=0.1)


def test_scalar_limits_obey_the_stability_and_balancing_bounds(scalar_sweep):
    conv = scalar_sweep.result.status == "converges"
    assert scalar_sweep.bounds_ok[conv].all()
    assert np.all(scalar_sweep.lr[conv] * scalar_sweep.sharpness_limit[conv] <= 2 * (1 + 1e-6))


# ---------------------------------------------------------------- matrix case (§C.4)
def test_matrix_convergence_fraction_high_up_to_c_1_8_and_low_from_2_1(matrix_sweep):
    _, sw = matrix_sweep
    frac = {r["c"]: r["frac_converges"] for r in sw.rows()}
    assert all(frac[c] >= 0.95 for c in (0.2, 0.8, 1.2, 1.5, 1.8))  # measured 1, 1, 1, 1, 0.98
    assert all(frac[c] <= 0.2 for c in (2.1, 2.4))  # measured 0.11, 0


def test_matrix_median_imbalance_ratio_decreases_monotonically_with_c(matrix_sweep):
    _, sw = matrix_sweep
    med = [r["ratio_median"] for r in sw.rows()[:5]]  # c = 0.2, 0.8, 1.2, 1.5, 1.8
    assert np.all(np.diff(med) < 0)  # measured 0.996, 0.961, 0.676, 0.288, 0.154
    assert med[0] > 0.98  # small-lr contrast: imbalance about conserved at c = 0.2


def test_every_converged_matrix_run_obeys_the_bounds(matrix_sweep):
    A, sw = matrix_sweep
    conv = sw.result.status == "converges"
    assert conv.sum() > 500 and sw.result.at_global_min[conv].all()
    check = fz.check_bounds(A, sw.result.X[conv], sw.result.Y[conv], sw.lr[conv])
    assert check.ok.all()
    assert check.stability.max() <= 2 * (1 + 1e-6)  # measured 1.95
    # the numerical sharpness at each limit is ‖X‖²₂ + ‖Y‖²₂ (residual term vanishes there)
    np.testing.assert_allclose(sw.sharpness_limit[conv], check.stability / sw.lr[conv], rtol=1e-8)


# ---------------------------------------------------------------- classification
@pytest.mark.parametrize("h, status, period", [(1.1, "periodic", 2), (1.25, "periodic", 4),
                                               (1.7, "periodic", 6), (1.5, "chaotic", 0)])
def test_balanced_scalar_orbits_are_classified(h, status, period):
    """x = y = z follows z' = z + hz(1 − z²) (§C.6): period 2, 4, 6 or chaos depending on h."""
    r = fz.gd(1.0, 0.5, 0.5, h, steps=5000)
    assert (r.status, r.period) == (status, period)


def test_divergence_is_reported_with_its_step_and_finite_iterates(matrix_sweep):
    _, sw = matrix_sweep
    res, last = sw.result, len(MATRIX_C) - 1
    assert (res.status[last] == "diverges").all()
    assert np.all(res.stopped_at[last] < 20000) and np.all(np.isfinite(res.X[last]))
    assert sw.rows()[last]["ratio_median"] is None  # no converged run: no number, not NaN


def test_a_run_stopped_early_is_unsettled_not_chaotic():
    r = fz.gd(1.0, 9.0, 1.0, 0.001, steps=60)
    assert r.status == "unsettled"


def test_fractions_cover_every_status_and_sum_to_one(matrix_sweep):
    _, sw = matrix_sweep
    for row in sw.rows():
        assert sum(row[f"frac_{k}"] for k in fz.STATUSES) == pytest.approx(1.0)
    json.dumps(sw.rows(), allow_nan=False)  # no NaN in any summary


def test_batched_gd_equals_one_run_at_a_time():
    A = fz.from_singular_values([1.0, 0.5])
    X0, Y0 = fz.unbalanced_init(2, 2, 2, runs=5, scale=2.0, seed=1)
    lr = np.linspace(0.05, 0.3, 5)
    batch = fz.gd(A, X0, Y0, lr, 3000)
    for i in range(5):
        one = fz.gd(A, X0[i], Y0[i], lr[i], 3000)
        assert one.status == batch.status[i]
        np.testing.assert_array_equal(one.X, batch.X[i])


def test_vector_case_layout_and_balancing():
    """f = ½(μ − xᵀy)² with x, y ∈ R^d: A is the number μ, X0 of shape (d,) is one run."""
    x0, y0 = np.array([6.0, 2.0, 1.0]), np.array([0.5, 0.2, 0.1])
    L0 = fz.sharpness(2.0, x0, y0)
    r = fz.gd(2.0, x0, y0, lr=2 * np.array([0.5, 1.6]) / L0, steps=20000)
    assert r.X.shape == (2, 3) and list(r.status) == ["converges", "converges"]
    assert abs(r.imbalance[1]) < abs(r.imbalance[0]) < abs(fz.imbalance(2.0, x0, y0))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, name", [
    (lambda: fz.gd(1.0, 9.0, 1.0, 0.0, 10), "lr"),
    (lambda: fz.gd(1.0, np.nan, 1.0, 0.1, 10), "X0"),
    (lambda: fz.gd(np.eye(3), np.ones((2, 2)), np.ones((3, 2)), 0.1, 10), "X0"),
    (lambda: fz.gd(np.ones(3), 1.0, 1.0, 0.1, 10), "A"),
    (lambda: fz.gd(1.0, 9.0, 1.0, 0.1, 0), "steps"),
    (lambda: fz.gd(np.eye(2), np.ones((4, 2, 2)), np.ones((3, 2, 2)), 0.1, 10), "batch"),
    (lambda: fz.sweep(1.0, 9.0, 1.0, [1.0, -1.0]), "c"),
    (lambda: fz.unbalanced_init(3, 3, 3, runs=0, scale=1.0), "runs"),
])
def test_bad_input_raises_one_line_input_error_naming_the_parameter(call, name):
    with pytest.raises(InputError) as err:
        call()
    assert name in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_matrix_acceptance_holds_for_other_seeds(seed):
    """The §C.4 claims are statistics over initialisations, so they must not hinge on seed 0."""
    A = fz.from_singular_values([1.0, 0.6, 0.3])
    X0, Y0 = fz.unbalanced_init(3, 3, 3, runs=100, scale=2.5, seed=seed)
    sw = fz.sweep(A, X0, Y0, MATRIX_C, steps=20000)
    rows = sw.rows()
    assert all(r["frac_converges"] >= 0.95 for r in rows[:5])
    assert all(r["frac_converges"] <= 0.2 for r in rows[5:])
    assert np.all(np.diff([r["ratio_median"] for r in rows[:5]]) < 0)
    assert sw.bounds_ok.all() and all(r["bound_violations"] == 0 for r in rows)


# ------------------------------------------------------------------ issue 12: the result protocol at the edges
def test_an_overflowing_run_diverges_with_a_finite_last_iterate_and_no_nan():
    # blowup = 1e308 made the blow-up radius inf, so an inf iterate passed as "inside the ball"
    r = fz.gd(1.0, 9.0, 1.0, lr=1.0, steps=50, blowup=1e308)
    assert r.status == "diverges" and "blow-up ball" in r.reason
    assert np.isfinite(r.X) and np.isfinite(r.Y) and np.isfinite(r.imbalance) and np.isfinite(r.loss)
    json.dumps(r.to_dict(), allow_nan=False)


def test_factors_whose_squared_norm_overflows_are_refused_naming_them():
    with pytest.raises(InputError, match="X0 and Y0"):
        fz.gd(1.0, 1e160, 1e160, lr=1.0, steps=5)


def test_gd_memory_does_not_grow_with_steps():
    import tracemalloc
    tracemalloc.start()
    r = fz.gd(1.0, 9.0, 1.0, lr=0.04, steps=10 ** 12)      # converges early; the plan of 10¹² steps costs nothing
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert r.status == "converges" and peak < 2 ** 24


def test_a_batch_too_large_for_memory_is_refused_up_front_with_an_estimate():
    with pytest.raises(InputError, match="GiB"):
        fz.convergence_map(np.eye(3), [1.0], [0.5], seeds=10 ** 9, steps=10)
    with pytest.raises(InputError, match="GiB"):
        fz.trajectory(1.0, np.full((1000, 1), 9.0), 1.0, 0.04, 10 ** 7)


def test_results_carry_status_reason_and_a_json_ready_dict(matrix_sweep):
    _, sw = matrix_sweep
    assert sw.status in fz.STATUSES + ("mixed",) and sw.reason and sw.message == sw.reason
    json.dumps(sw.to_dict(), allow_nan=False)
    r = fz.gd(1.0, 9.0, 1.0, lr=0.04, steps=5000)
    assert r.status == "converges" and "gradient norm" in r.reason and r.ok


def test_convergence_map_takes_seeds_and_still_accepts_runs():
    a = fz.convergence_map(np.eye(2), [1.0], [0.5], seeds=4, steps=200)
    with pytest.warns(DeprecationWarning):
        b = fz.convergence_map(np.eye(2), [1.0], [0.5], runs=4, steps=200)
    assert a.fractions["converges"].tolist() == b.fractions["converges"].tolist() and a.status == "converges"
