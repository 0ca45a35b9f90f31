"""Claims of seed 004 (Liu, Ziyin, Ueda) as implemented in sgdlab.fluctuations (design doc §A).

Monte-Carlo checks: each simulated chain gives one estimate of Σ; the spread over chains gives
the standard error (SE).  A simulation agrees with theory when every element is within 4.5 SE
and the relative Frobenius error is below 4 x the relative Monte-Carlo error (defaults), or,
for the acceptance runs (slow), the Monte-Carlo error is below 0.3% and the error below 1%.
"""

import json
import warnings

import numpy as np
import pytest

from sgdlab import SGD, InputError, fluctuations as F
from sgdlab.result import STATUSES, ResultError

A_DOC = np.array([0.25, 0.5, 1.0, 2.0])          # the design doc's spectrum (§A.2, §A.5)


def rotated(a, seed):
    """A Hessian with eigenvalues ``a`` in a random basis, and a random non-commuting noise C."""
    rng = np.random.default_rng(seed)
    d = len(a)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    B = rng.standard_normal((d, d))
    return Q @ np.diag(a) @ Q.T, B @ B.T / d


def random_spd(d, seed):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((d, d))
    return B @ B.T / d + 0.3 * np.eye(d)


def dataset(seed=1, n=40, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(1.0, 0.4, d)
    return X, X @ np.ones(d) + 0.5 * rng.standard_normal(n)


ONLINE = F.online_minibatch(np.diag(A_DOC), 1.0, batch=4)        # §A.5's example: σ² = 1, S = 4


def at_fraction(model, momentum, fraction=0.6):
    """(lr, theory) at ``fraction``·lr_max for a data-based noise model."""
    lr = fraction * F.lr_max(None, model, momentum)
    return lr, F.stationary_covariance(None, model, lr, momentum)


def naive_additive(lr, momentum):
    """The naive model of online minibatch noise: additive C = σ²A/S (ignores the feedback)."""
    return F.stationary_covariance(np.diag(A_DOC), np.diag(A_DOC) / 4, lr, momentum)


def rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def assert_agrees(sim, theory, slow=False):
    cmp = sim.compare(theory)
    assert cmp["max_z"] < 4.5, cmp
    if slow:
        assert cmp["mc_rel_error"] < 0.003, cmp
        assert cmp["rel_error"] < 0.01, cmp
    else:
        assert cmp["rel_error"] < 4 * cmp["mc_rel_error"], cmp
    return cmp


# ------------------------------------------------------------------ part 1: closed forms
@pytest.mark.parametrize("d", [4, 6])
@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9, -0.5])
@pytest.mark.parametrize("preconditioned", [False, True])
def test_closed_forms_equal_the_discrete_lyapunov_solve_to_1e_10(d, momentum, preconditioned):
    a = np.geomspace(0.1, 2.0, d)
    H, C = rotated(a, seed=d)
    P = random_spd(d, seed=10 + d) if preconditioned else None
    amax = np.linalg.eigvals((np.eye(d) if P is None else P) @ H).real.max()
    lr = 0.9 * 2 * (1 + momentum) / amax
    st = F.stationary_covariance(H, C, lr, momentum, preconditioner=P)
    cov, law = F.lyapunov_covariance(H, C, lr, momentum, preconditioner=P)
    assert rel(st.cov, cov) < 1e-10
    assert rel(st.law, law) < 1e-10               # velocity and cross blocks too


def test_sgd_covariance_solves_theorem_A1_for_non_commuting_noise():
    H, C = rotated(A_DOC, seed=0)
    lr = 0.8
    S = F.stationary_covariance(H, C, lr).cov
    assert np.abs(H @ C - C @ H).max() > 0.1        # really non-commuting
    np.testing.assert_allclose(H @ S + S @ H - lr * H @ S @ H, lr * C, atol=1e-13)


def test_heavy_ball_matches_the_commuting_closed_form_and_the_1d_formula():
    H, lr, mu = np.diag(A_DOC), 1.2, 0.7
    C = np.diag([0.3, 1.0, 2.0, 0.5])
    expected = lr / (1 - mu) * C @ np.linalg.inv(H @ (2 * np.eye(4) - lr / (1 + mu) * H))
    np.testing.assert_allclose(F.stationary_covariance(H, C, lr, mu).cov, expected, rtol=1e-12)
    a, c = 1.5, 0.4
    one_d = lr * c * (1 + mu) / (a * (1 - mu) * (2 * (1 + mu) - lr * a))
    assert F.stationary_covariance([[a]], [[c]], lr, mu).cov[0, 0] == pytest.approx(one_d, rel=1e-13)


def test_block_gains_contain_the_explicit_heavy_ball_gain():
    for mu in (0.0, 0.6, -0.4):
        a = np.array([0.0, 0.3, 1.0, 2.5])
        lr = 0.95 * 2 * (1 + mu) / a.max()
        np.testing.assert_allclose(F.block_gains(a, lr, mu)[0, 0], F.covariance_gain(a, lr, mu), rtol=1e-11, atol=0)


def test_excess_loss_only_sees_the_diagonal_of_the_rotated_noise():
    H, C = rotated(A_DOC, seed=3)
    w, Q = np.linalg.eigh(H)
    ct = np.diag(Q.T @ C @ Q)
    for lr, mu in [(0.8, 0.0), (1.5, 0.9)]:
        expected = lr * (1 + mu) / (2 * (1 - mu)) * np.sum(ct / (2 * (1 + mu) - lr * w))
        assert F.stationary_covariance(H, C, lr, mu).excess_loss == pytest.approx(expected, rel=1e-12)


def test_continuous_time_is_the_small_learning_rate_limit_and_undershoots_at_finite_lr():
    H, C = rotated(A_DOC, seed=0)
    ratios = [F.stationary_covariance(H, C, lr, 0.5).ratio_to_continuous for lr in (1e-4, 1e-2, 0.5, 1.0, 1.45)]
    assert ratios[0] == pytest.approx(1.0, abs=1e-3)
    assert np.all(np.diff(ratios) > 0)             # discrete time fluctuates more, increasingly
    st = F.stationary_covariance(np.eye(1), np.eye(1), 0.99 * 2)
    assert st.ratio_to_continuous == pytest.approx(1 / (1 - 0.99), rel=1e-10)   # 1/(1 - lr·a/2)


def test_hessian_shaped_noise_is_isotropic_in_continuous_time_but_distorted_in_discrete_time():
    H, _ = rotated(A_DOC, seed=5)
    lr = 0.8
    st = F.stationary_covariance(H, H, lr)
    np.testing.assert_allclose(st.continuous_cov, lr / 2 * np.eye(4), atol=1e-13)
    np.testing.assert_allclose(st.cov, lr * np.linalg.inv(2 * np.eye(4) - lr * H), atol=1e-13)


def test_autocovariance_decays_by_the_mean_dynamics():
    H, C = rotated(A_DOC, seed=2)
    lr = 0.8
    st = F.stationary_covariance(H, C, lr)
    R = st.autocovariance(np.arange(6))
    np.testing.assert_allclose(R[0], st.cov, atol=1e-14)
    for k in range(6):
        np.testing.assert_allclose(R[k], np.linalg.matrix_power(np.eye(4) - lr * H, k) @ st.cov, atol=1e-13)
    # heavy ball: the 2nd-order form e' = (I - lr H)e + β(e - e_prev) - lr ξ gives, for k >= 1,
    # R(k+1) = ((1+β)I - lr H) R(k) - β R(k-1)
    mu = 0.8
    hb = F.stationary_covariance(H, C, 1.5, mu)
    R = hb.autocovariance(np.arange(8))
    for k in range(1, 7):
        np.testing.assert_allclose(R[k + 1], ((1 + mu) * np.eye(4) - 1.5 * H) @ R[k] - mu * R[k - 1], atol=1e-12)


# ------------------------------------------------------------------ part 4: lr_max and refusals
def test_lr_max_of_additive_noise_is_the_mean_stability_bound():
    H, C = rotated(A_DOC, seed=0)
    for mu in (0.0, 0.9, -0.5):
        assert F.lr_max(H, C, mu) == pytest.approx(2 * (1 + mu) / 2.0, rel=1e-11)
    P = F.damped_newton(H)
    assert F.lr_max(H, C, 0.3, preconditioner=P) == pytest.approx(2 * 1.3, rel=1e-11)


def test_beyond_lr_max_there_is_no_stationary_law_and_the_message_names_the_condition():
    H, C = rotated(A_DOC, seed=0)
    st = F.stationary_covariance(H, C, 1.53, 0.5)
    assert st.status == "diverges" and st.cov is None and st.excess_loss is None
    assert st.reason.startswith("no stationary law: mean dynamics unstable, lr·a_max = 3.06")
    with pytest.raises(F.NoStationaryLaw, match=r"no stationary law: minibatch-noise feedback") as exc:
        F.stationary_covariance(None, ONLINE, 0.65, raise_on_failure=True)
    assert exc.value.condition == "noise feedback" and "lr_max = 0.63917" in str(exc.value)
    assert isinstance(exc.value, ResultError) and exc.value.result.status == "diverges"
    X, y = dataset()
    st = F.stationary_covariance(None, F.finite_dataset(X, y, batch=2), 0.8)
    assert st.reason.startswith("no stationary law: noise feedback spectral radius")
    json.dumps(st.to_dict(), allow_nan=False)
    ex = F.existence(H, C, 1.53, 0.5)
    assert not ex.exists and ex.condition == "mean stability"


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9, -0.5])
def test_divergence_is_detected_at_lr_a_max_equal_to_2_1_plus_beta(momentum):
    H, C = rotated(A_DOC, seed=0)
    edge = 2 * (1 + momentum) / 2.0
    assert F.existence(H, C, edge * (1 - 1e-6), momentum).exists
    assert not F.existence(H, C, edge * (1 + 1e-6), momentum).exists
    assert F.second_moment_recursion(H, C, edge * 0.99, momentum).status == "converges"
    assert F.second_moment_recursion(H, C, edge * 1.01, momentum).status == "diverges"


def test_just_below_lr_max_every_number_is_finite():
    H, C = rotated(A_DOC, seed=0)
    for hess, noise in [(H, C), (None, ONLINE)]:
        st = F.stationary_covariance(hess, noise, F.lr_max(hess, noise) * (1 - 1e-9))
        for v in (st.cov, st.continuous_cov, st.velocity_cov, st.cross_cov, st.excess_loss, st.ratio_to_continuous):
            assert np.all(np.isfinite(v))
        assert st.excess_loss > 1e3 * F.stationary_covariance(hess, noise, 0.1).excess_loss
        at_max = F.stationary_covariance(hess, noise, F.lr_max(hess, noise))     # lr_max itself is accepted
        assert np.isfinite(at_max.excess_loss) and at_max.excess_loss > st.excess_loss


def test_singular_hessian_with_noise_in_its_kernel_is_refused_not_answered():
    H = np.diag([1.0, 0.5, 0.0])
    st = F.stationary_covariance(H, np.eye(3), 0.5)
    assert st.status == "diverges" and st.condition == "kernel noise" and st.lr_max is None
    assert st.reason.startswith("no stationary law: random walk along 1 null direction")
    with pytest.raises(F.NoStationaryLaw, match="random walk"):
        F.lr_max(H, np.eye(3))
    # noise confined to range(H): the law lives on range(H), the kernel does not move
    st = F.stationary_covariance(H, np.diag([1.0, 2.0, 0.0]), 0.5, 0.3)
    assert np.all(st.cov[2] == 0) and np.all(np.isfinite(st.cov)) and st.cov[0, 0] > 0


@pytest.mark.parametrize("call,param", [
    (lambda: F.stationary_covariance(np.eye(3), np.eye(3), -0.1), "lr"),
    (lambda: F.stationary_covariance(np.eye(3), np.eye(3), 0.1, momentum=1.0), "momentum"),
    (lambda: F.stationary_covariance(np.ones((2, 3)), np.eye(3), 0.1), "hessian"),
    (lambda: F.stationary_covariance([[1, 2], [0, 1]], np.eye(2), 0.1), "hessian"),
    (lambda: F.stationary_covariance(np.diag([1.0, -1.0]), np.eye(2), 0.1), "hessian"),
    (lambda: F.stationary_covariance(np.diag([1.0, np.nan]), np.eye(2), 0.1), "hessian"),
    (lambda: F.stationary_covariance(np.eye(3), np.eye(2), 0.1), "noise"),
    (lambda: F.stationary_covariance(np.eye(2), 1.0, 0.1), "noise"),
    (lambda: F.stationary_covariance(np.eye(2), np.eye(2), 0.1, preconditioner=np.diag([1.0, 0.0])), "preconditioner"),
    (lambda: F.stationary_covariance(np.eye(2), np.eye(2), 0.1, batch=0), "batch"),
    (lambda: F.lr_max(np.eye(2), np.eye(2), momentum=-1.5), "momentum"),
    (lambda: F.online_minibatch(np.eye(2), -1.0, 4), "label_variance"),
    (lambda: F.finite_dataset(np.ones((5, 2)), np.ones(4)), "y"),
    (lambda: F.finite_dataset(np.ones((5, 2)), np.ones(5), batch=6, sampling="distinct"), "batch"),
    (lambda: F.finite_dataset(np.ones((5, 2)), np.ones(5), sampling="shuffle"), "sampling"),
])
def test_bad_input_raises_a_one_line_error_naming_the_parameter(call, param):
    with pytest.raises(InputError) as exc:
        call()
    assert param in str(exc.value) and "\n" not in str(exc.value)
    assert not isinstance(exc.value, F.NoStationaryLaw)


# ------------------------------------------------------------------ part 2: noise models
def test_online_minibatch_lr_max_matches_the_design_doc_and_both_existence_tests():
    model = ONLINE
    assert F.lr_max(None, model) == pytest.approx(0.639, abs=5e-4)
    for mu in (0.0, 0.5, -0.3):
        # §A.5's two conditions vs the spectral radius of the generic feedback operator
        assert F.lr_max(None, model, mu) == pytest.approx(F.lr_max(None, model, mu, preconditioner=np.eye(4)),
                                                          rel=1e-10)
    assert F.lr_max(None, model, batch=1) < F.lr_max(None, model) < F.lr_max(None, model, batch=64) < 1.0


def test_online_minibatch_closed_form_equals_the_generic_self_consistent_solve():
    H, _ = rotated(A_DOC, seed=4)
    model = F.online_minibatch(H, 0.7, batch=3)
    for mu in (0.0, 0.5):
        lr = 0.8 * F.lr_max(None, model, mu)
        a = F.stationary_covariance(None, model, lr, mu)
        b = F.stationary_covariance(None, model, lr, mu, preconditioner=np.eye(4))
        assert a.method == "closed form §A.5" and b.method.startswith("self-consistent")
        assert rel(a.cov, b.cov) < 1e-12 and rel(a.continuous_cov, b.continuous_cov) < 1e-12
        assert a.train_loss == pytest.approx(0.35 + a.excess_loss, rel=1e-14)


@pytest.mark.parametrize("momentum,growth", [(0.0, 0.045), (0.5, 0.016)])
def test_exact_second_moment_recursion_converges_at_098_and_diverges_at_102_lr_max(momentum, growth):
    model = ONLINE
    lm = F.lr_max(None, model, momentum)
    below = F.second_moment_recursion(None, model, 0.98 * lm, momentum)
    above = F.second_moment_recursion(None, model, 1.02 * lm, momentum)
    assert below.status == "converges" and above.status == "diverges"
    assert rel(below.cov, F.stationary_covariance(None, model, 0.98 * lm, momentum).cov) < 1e-10
    assert above.growth_rate == pytest.approx(growth, abs=1e-3)       # tr Σ_t grows like e^(growth·t)
    assert above.trace[-1] > 1e50 * above.trace[1]


def test_finite_dataset_linear_system_equals_the_exact_recursion():
    X, y = dataset()
    for sampling in ("replacement", "distinct"):
        model = F.finite_dataset(X, y, batch=2, sampling=sampling)
        for mu in (0.0, 0.9):
            lr = 0.6 * F.lr_max(None, model, mu)
            st = F.stationary_covariance(None, model, lr, mu)
            assert rel(F.second_moment_recursion(None, model, lr, mu).cov, st.cov) < 1e-10
            assert st.train_loss == pytest.approx(0.5 * np.mean(model.residuals ** 2) + st.excess_loss)


def test_distinct_indices_lower_the_minibatch_noise_and_a_full_batch_has_none():
    X, y = dataset()
    lr = 0.3
    rep = F.stationary_covariance(None, F.finite_dataset(X, y, 4, "replacement"), lr)
    dis = F.stationary_covariance(None, F.finite_dataset(X, y, 4, "distinct"), lr)
    assert dis.excess_loss < rep.excess_loss
    assert F.finite_dataset(X, y, 4, "distinct").kappa == pytest.approx((40 - 4) / (4 * 39))
    full = F.stationary_covariance(None, F.finite_dataset(X, y, 40, "distinct"), lr)
    assert np.abs(full.cov).max() < 1e-25


def test_test_loss_adds_the_population_misfit_of_the_least_squares_solution():
    X, y = dataset()
    A, u = np.eye(3), np.ones(3)
    model = F.finite_dataset(X, y, batch=2, population=(A, u, 0.25))
    st = F.stationary_covariance(None, model, 0.3)
    dw = model.minimiser - u
    assert st.test_loss == pytest.approx(0.5 * dw @ dw + 0.5 * np.trace(st.cov) + 0.125, rel=1e-13)


def test_algorithmic_label_noise_is_additive_with_covariance_eps2_A_over_N():
    X, y = dataset()
    eps, lr, n = 0.7, 0.5, 40
    model = F.label_noise(X, y, eps)
    A = model.hessian
    st = F.stationary_covariance(None, model, lr)
    np.testing.assert_allclose(st.cov, lr * eps ** 2 / n * np.linalg.inv(2 * np.eye(3) - lr * A), rtol=1e-12)
    excess = lr * eps ** 2 / (2 * n) * np.trace(A @ np.linalg.inv(2 * np.eye(3) - lr * A))
    assert st.excess_loss == pytest.approx(excess, rel=1e-12)
    # fewer samples than dimensions: Â is singular, the noise lives on range(Â), no motion in its kernel
    Xs = X[:2]
    st = F.stationary_covariance(None, F.label_noise(Xs, y[:2], eps), lr)
    null = np.linalg.svd(Xs)[2][-1]
    assert abs(null @ st.cov @ null) < 1e-14 and st.excess_loss > 0


def test_a_data_model_rejects_a_hessian_that_is_not_its_own():
    X, y = dataset()
    model = F.finite_dataset(X, y, batch=2)
    F.stationary_covariance(model.hessian, model, 0.3)            # its own Hessian is fine
    with pytest.raises(InputError, match="hessian does not match"):
        F.stationary_covariance(np.eye(3), model, 0.3)


# ------------------------------------------------------------------ part 3: preconditioners
def test_damped_newton_and_natural_gradient_give_lr_over_2_minus_lr_times_HinvCHinv():
    H, C = rotated(A_DOC, seed=6)
    lr = 1.3
    Hinv = np.linalg.inv(H)
    expected = lr / (2 - lr) * Hinv @ C @ Hinv
    assert rel(F.stationary_covariance(H, C, lr, preconditioner=F.damped_newton(H)).cov, expected) < 1e-12
    assert rel(F.stationary_covariance(H, C, lr, preconditioner=F.natural_gradient(H)).cov, expected) < 1e-12
    assert "lr·a_max = 2.1" in F.stationary_covariance(H, C, 2.1, preconditioner=F.damped_newton(H)).reason


def test_adam_like_matches_its_commuting_closed_form_and_scales_as_A_to_the_minus_half():
    A = np.diag(A_DOC)
    S, lr_adam, beta1 = 8, 0.05, 0.9
    C = A / S
    lr, mu = F.adam_to_vform(lr_adam, beta1)
    assert (lr, mu) == (pytest.approx(0.005), 0.9)
    P = F.adam_like(C)
    st = F.stationary_covariance(A, C, lr, mu, preconditioner=P)
    k = lr_adam * (1 - beta1) / (1 + beta1)
    expected = lr_adam * P @ C @ np.linalg.inv(A @ (2 * np.eye(4) - k * P @ A))
    assert rel(st.cov, expected) < 1e-12
    alt = lr_adam / np.sqrt(S) * np.diag(A_DOC ** -0.5 / (2 - k * np.sqrt(S) * A_DOC ** 0.5))
    assert rel(st.cov, alt) < 1e-12
    np.testing.assert_allclose(F.adam_like(np.diag([4.0, 9.0]), rotation_invariant=True), np.diag([0.5, 1 / 3]))


def test_ema_momentum_is_v_form_heavy_ball_with_lr_times_1_minus_beta():
    rng = np.random.default_rng(0)
    H, _ = rotated(A_DOC, seed=0)
    xi = rng.standard_normal((200, 4))
    lr_ema, beta = 0.3, 0.8
    lr, mu = F.ema_to_vform(lr_ema, beta)
    w1, m = np.ones(4), np.zeros(4)
    w2, v = np.ones(4), np.zeros(4)
    w3, b = np.ones(4), np.zeros(4)
    for t in range(200):
        m = beta * m + (1 - beta) * (H @ w1 + xi[t]); w1 = w1 - lr_ema * m       # EMA form
        v = mu * v - lr * (H @ w2 + xi[t]); w2 = w2 + v                        # v-form (ours)
        b = mu * b + (H @ w3 + xi[t]); w3 = w3 - lr * b                         # torch.optim.SGD
    np.testing.assert_allclose(w1, w2, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(w3, w2, rtol=1e-11, atol=1e-12)


# ------------------------------------------------------------------ part 5: applications
def test_laplace_lr_makes_preconditioned_sgd_sample_the_posterior():
    X, _ = dataset()
    n, S, rho = 40, 4, 0.5
    A = X.T @ X / n
    P = rho * np.linalg.inv(A)
    st = F.stationary_covariance(A, A / S, F.laplace_lr(n, S, rho), preconditioner=P)
    posterior = np.linalg.inv(n * A)
    assert rel(st.cov, posterior) < 1e-12
    ct = F.stationary_covariance(A, A / S, F.laplace_lr(n, S, rho, continuous=True), preconditioner=P)
    assert rel(ct.cov, posterior) > 0.05                  # the continuous-time rule misses by ~S/N
    assert rel(ct.continuous_cov, posterior) < 1e-12     # ... exactly where continuous time says it is right


def test_approximation_error_grows_with_lr_and_stops_at_lr_max():
    H, C = rotated(A_DOC, seed=0)
    lrs = np.linspace(0.05, 1.2, 23)          # no grid point at the edge lr_max = 1 itself (it is computed to ~1e-12)
    ae = F.approximation_error(H, C, lrs, momentum=0.0)
    assert ae.lr_max == pytest.approx(1.0, rel=1e-10)
    ok = lrs < 1.0
    assert np.array_equal(ae.exists, ok) and np.all(np.isinf(ae.excess_loss[~ok]))
    assert np.all(np.diff(ae.excess_loss[ok]) > 0)
    ratio = ae.excess_loss[ok] / ae.continuous_excess_loss[ok]
    assert np.all(np.diff(ratio) > 0) and ratio[-1] > 3
    np.testing.assert_allclose(ae.continuous_excess_loss[ok], lrs[ok] / 4 * np.trace(C), rtol=1e-12)


def test_escape_exponent_is_lowered_by_the_factor_1_minus_lr_a_over_2():
    dl, a, S, lr = 0.3, 4.0, 16, 0.25
    c = a / S
    e = F.escape_exponent(dl, a, c, lr)
    assert e == pytest.approx(2 * S * dl / (lr * a) * (1 - lr * a / 2), rel=1e-13)
    assert e / F.escape_exponent(dl, a, c, lr, continuous=True) == pytest.approx(1 - lr * a / 2, rel=1e-13)
    T = F.effective_temperature(a, c, lr, momentum=0.5)
    assert T == pytest.approx(a * F.stationary_covariance([[a]], [[c]], lr, 0.5).cov[0, 0], rel=1e-13)


# ------------------------------------------------------------------ part 6: the simulation twin
SGD_CASE = dict(seed=0, lr=0.8, momentum=0.0)                 # lr·a_max = 1.6
HB_CASE = dict(seed=0, lr=1.5, momentum=0.9)                  # lr·a_max = 3.0 (edge: 3.8)


def _additive(case, chains, steps, seed, preconditioner=None):
    H, C = rotated(A_DOC, case["seed"])
    P = preconditioner(H, C) if preconditioner else None
    theory = F.stationary_covariance(H, C, case["lr"], case["momentum"], preconditioner=P)
    sim = F.simulate(H, C, SGD(case["lr"], case["momentum"]), steps, seeds=chains, seed=seed, preconditioner=P)
    return theory, sim


def test_sgd_simulation_agrees_and_continuous_time_is_off_by_40_percent():
    theory, sim = _additive(SGD_CASE, chains=64, steps=8000, seed=1)
    cmp = assert_agrees(sim, theory)
    assert np.trace(sim.cov) / np.trace(theory.continuous_cov) > 1.40
    assert sim.compare(theory.continuous_cov)["rel_error"] > 50 * cmp["mc_rel_error"]
    assert abs(sim.excess_loss - theory.excess_loss) < 4.5 * sim.excess_loss_se


@pytest.mark.parametrize("name", ["heavy ball", "damped Newton", "Adam-like"])
def test_momentum_and_preconditioned_simulations_agree(name):
    case, pre = {"heavy ball": (HB_CASE, None),
                 "damped Newton": (dict(seed=0, lr=1.2, momentum=0.0), lambda H, C: F.damped_newton(H)),
                 "Adam-like": (dict(seed=0, lr=0.05, momentum=0.9), lambda H, C: F.adam_like(C))}[name]
    theory, sim = _additive(case, chains=64, steps=8000, seed=2, preconditioner=pre)
    assert_agrees(sim, theory)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_online_minibatch_simulation_agrees_and_the_naive_additive_model_does_not(momentum):
    lr, theory = at_fraction(ONLINE, momentum)
    sim = F.simulate(None, ONLINE, SGD(lr, momentum), 6000, seeds=64, seed=3)
    cmp = assert_agrees(sim, theory)
    assert sim.compare(naive_additive(lr, momentum))["rel_error"] > 30 * cmp["mc_rel_error"]


@pytest.mark.parametrize("sampling,momentum", [("replacement", 0.0), ("replacement", 0.9), ("distinct", 0.5)])
def test_finite_dataset_simulation_agrees(sampling, momentum):
    X, y = dataset()
    model = F.finite_dataset(X, y, batch=2, sampling=sampling)
    lr, theory = at_fraction(model, momentum)
    assert_agrees(F.simulate(None, model, SGD(lr, momentum), 8000, seeds=64, seed=4), theory)


def test_label_noise_simulation_agrees():
    X, y = dataset()
    model = F.label_noise(X, y, 0.7, batch=8)
    theory = F.stationary_covariance(None, model, 0.4, 0.3)
    assert_agrees(F.simulate(None, model, SGD(0.4, 0.3), 6000, seeds=64, seed=5), theory)


@pytest.mark.parametrize("case", ["heavy ball", "online", "distinct + label noise"])
def test_numpy_reference_backend_vectorised_over_chains_agrees_with_theory_and_with_numba(case):
    X, y = dataset()
    H, C = rotated(A_DOC, 0)
    hess, noise, lr, mu = {"heavy ball": (H, C, 1.5, 0.9),
                           "online": (None, ONLINE, 0.35, 0.3),
                           "distinct + label noise": (None, F.label_noise(X, y, 0.5, batch=4), 0.5, 0.0)}[case]
    theory = F.stationary_covariance(hess, noise, lr, mu)
    ref = F.simulate(hess, noise, SGD(lr, mu), 4000, seeds=64, seed=6, backend="numpy")
    fast = F.simulate(hess, noise, SGD(lr, mu), 4000, seeds=64, seed=6)
    assert ref.backend == "numpy" and fast.backend == "numba"
    assert_agrees(ref, theory)
    z = (ref.cov - fast.cov) / np.sqrt(ref.cov_se ** 2 + fast.cov_se ** 2)
    assert np.abs(z).max() < 4.5


def test_simulation_is_reproducible_and_does_not_run_a_divergent_one():
    H, C = rotated(A_DOC, 0)
    a = F.simulate(H, C, SGD(0.5), 500, seeds=4, seed=9)
    b = F.simulate(H, C, SGD(0.5), 500, seeds=4, seed=9)
    np.testing.assert_array_equal(a.cov, b.cov)
    np.testing.assert_array_equal(F.simulate(H, C, SGD(0.5), 50, seeds=4, seed=9, backend="numpy").cov,
                                  F.simulate(H, C, SGD(0.5), 50, seeds=4, seed=9, backend="numpy").cov)
    assert a.cloud.shape == (2000, 4) and np.all(np.any(a.cloud != 0, axis=1))
    short = F.simulate(H, C, SGD(0.5), 100, seeds=3, seed=9)
    assert short.cloud.shape == (300, 4) and np.all(np.any(short.cloud != 0, axis=1))
    missing = F.simulate(H, C, SGD(1.1), 100, seeds=4)
    assert missing.status == "diverges" and "no stationary law" in missing.reason and missing.cov is None
    with pytest.raises(F.NoStationaryLaw, match="no stationary law"):
        F.simulate(H, C, SGD(1.1), 100, seeds=4, raise_on_failure=True)


def test_the_old_call_with_lr_and_chains_still_works_and_gives_the_same_numbers():
    H, C = rotated(A_DOC, 0)
    with pytest.warns(DeprecationWarning, match="seeds"):
        old = F.simulate(H, C, 0.5, chains=4, steps=500, seed=9)
    new = F.simulate(H, C, SGD(0.5), 500, seeds=4, seed=9)
    np.testing.assert_array_equal(old.cov, new.cov)
    assert old.chains == new.seeds == 4
    mc = new.summary()
    assert mc.mean[0] == new.excess_loss and mc.stderr[0] == pytest.approx(new.excess_loss_se, rel=1e-12)
    assert mc.median[0] == new.excess_loss_median and new.status == "finite"


# ------------------------------------------------------------------ acceptance runs (slow)
@pytest.mark.slow
@pytest.mark.parametrize("name,case,pre,chains,steps", [
    ("SGD, lr·a_max = 1.6", SGD_CASE, None, 200, 40_000),
    ("heavy ball β = 0.9, lr·a_max = 3.0", HB_CASE, None, 200, 100_000),
    ("damped Newton", dict(seed=0, lr=1.2, momentum=0.0), lambda H, C: F.damped_newton(H), 200, 40_000),
    ("Adam-like β1 = 0.9", dict(seed=0, lr=0.05, momentum=0.9), lambda H, C: F.adam_like(C), 200, 200_000),
])
def test_acceptance_additive_within_1_percent_with_mc_error_below_03_percent(name, case, pre, chains, steps):
    theory, sim = _additive(case, chains=chains, steps=steps, seed=11, preconditioner=pre)
    cmp = assert_agrees(sim, theory, slow=True)
    ct_ratio = np.trace(sim.cov) / np.trace(theory.continuous_cov)
    print(f"\n{name}: rel. err {cmp['rel_error']:.4f}, MC {cmp['mc_rel_error']:.4f}, max|z| {cmp['max_z']:.2f}, "
          f"samples {sim.samples:.2e}, sim trace / continuous trace {ct_ratio:.3f}")
    if case is SGD_CASE:
        assert ct_ratio > 1.40


@pytest.mark.slow
@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_acceptance_online_minibatch_within_1_percent_at_06_lr_max(momentum):
    lr, theory = at_fraction(ONLINE, momentum)
    sim = F.simulate(None, ONLINE, SGD(lr, momentum), 50_000, seeds=200, seed=12)
    cmp = assert_agrees(sim, theory, slow=True)
    naive = naive_additive(lr, momentum)
    print(f"\nonline β={momentum}: rel. err {cmp['rel_error']:.4f}, MC {cmp['mc_rel_error']:.4f}, "
          f"max|z| {cmp['max_z']:.2f}, E[L] sim {sim.excess_loss + 0.5:.4f} ± {sim.excess_loss_se:.4f} "
          f"theory {theory.train_loss:.4f}, naive additive model off by {sim.compare(naive)['rel_error']:.3f}")


@pytest.mark.slow
@pytest.mark.parametrize("momentum,steps", [(0.0, 100_000), (0.9, 400_000)])
def test_acceptance_finite_dataset_with_replacement_within_1_percent(momentum, steps):
    X, y = dataset()
    model = F.finite_dataset(X, y, batch=2)
    lr, theory = at_fraction(model, momentum)
    sim = F.simulate(None, model, SGD(lr, momentum), steps, seeds=200, seed=13)
    cmp = assert_agrees(sim, theory, slow=True)
    print(f"\nfinite set β={momentum}: rel. err {cmp['rel_error']:.4f}, MC {cmp['mc_rel_error']:.4f}, "
          f"max|z| {cmp['max_z']:.2f}, excess train loss sim {sim.excess_loss:.5f} theory {theory.excess_loss:.5f}")


# ------------------------------------------------------------------ issue 12: the result protocol at the edges
def test_zero_noise_gives_a_zero_law_and_a_continuous_error_that_is_a_number():
    st = F.stationary_covariance(np.diag(A_DOC), np.zeros((4, 4)), 0.8)
    assert st.status == "stationary" and np.all(st.cov == 0) and st.excess_loss == 0
    assert st.continuous_error == 0.0                       # both laws are exactly zero (was NaN)
    assert st.ratio_to_continuous is None and "zero noise" in st.reason
    json.dumps(st.to_dict(), allow_nan=False)


def test_every_fluctuations_result_has_status_reason_and_a_json_ready_dict():
    H, C = rotated(A_DOC, 0)
    results = [F.stationary_covariance(H, C, 0.8), F.stationary_covariance(H, C, 1.2), F.existence(H, C, 0.8),
               F.existence(H, C, 1.2), F.second_moment_recursion(H, C, 0.8),
               F.simulate(H, C, SGD(0.5), 100, seeds=3), F.simulate(H, C, SGD(1.2), 100, seeds=3),
               F.approximation_error(H, C, [0.4, 0.8, 1.2])]
    for r in results:
        assert r.status in STATUSES and r.reason and r.message == r.reason
        json.dumps(r.to_dict(), allow_nan=False)
    assert [r.status for r in results] == ["stationary", "diverges", "stationary", "diverges", "converges",
                                           "finite", "diverges", "mixed"]


def test_a_billion_chains_are_refused_up_front_with_a_memory_estimate():
    H, C = rotated(A_DOC, 0)
    with pytest.raises(InputError, match=r"seeds = 1000000000 needs about .* GiB"):
        F.simulate(H, C, SGD(0.5), 10, seeds=10 ** 9)


@pytest.mark.parametrize("kwargs,param", [({"seeds": True}, "seeds"), ({"seeds": 1}, "seeds"), ({"seed": -1}, "seed"),
                                          ({"steps": 0}, "steps"), ({"chains": 1.5}, "chains"),
                                          ({"momentum": 0.5}, "momentum")])
def test_bad_simulation_parameters_are_named_as_the_caller_passed_them(kwargs, param):
    H, C = rotated(A_DOC, 0)
    kw = {"steps": 10, **kwargs}
    with pytest.raises(InputError, match=param), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        F.simulate(H, C, SGD(0.5), **kw)


@pytest.mark.parametrize("rtol", [0.0, -1e-3, 1e-300])
def test_a_tolerance_that_would_never_stop_the_bisection_is_refused(rtol):
    with pytest.raises(InputError, match="rtol"):
        F.lr_max(np.eye(2), np.eye(2), rtol=rtol)


def test_label_noise_names_its_own_parameter_scale():
    X, y = dataset()
    with pytest.raises(InputError, match="scale"):
        F.label_noise(X, y, scale=-0.5)
