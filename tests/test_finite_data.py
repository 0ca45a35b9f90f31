"""Claims about finite data sets: the SE noise model and the exact finite-N recursion (seed 000)."""

import numpy as np
import pytest
from scipy.linalg import hadamard

import sgdlab
from sgdlab.linear.exact import exact_critical_lr, exact_spectral_radius
from sgdlab.linear.noise import batch_factor, fit_tau


def gaussian_data(N=200, d=16, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d)) * np.linspace(1.0, 0.2, d)
    return sgdlab.Problem.from_features(X, X @ rng.standard_normal(d) + noise * rng.standard_normal(N))


def hadamard_data(N=64, seed=0):
    rng = np.random.default_rng(seed)
    X = hadamard(N) * np.sqrt(1.0 / np.arange(1, N + 1))      # flat eigenvectors, lambda_k = 1/k
    return sgdlab.Problem.from_features(X, X @ rng.choice([-1.0, 1.0], N) / N)


def test_batch_factor_interpolates_between_one_sample_and_full_batch():
    assert batch_factor(1, 100, "without") == 1.0
    assert batch_factor(100, 100, "without") == 0.0
    assert batch_factor(10, 100, "without") == pytest.approx(90 / (99 * 10))
    assert batch_factor(10, 100, "replacement") == 0.1


def test_fitted_tau_is_one_for_flat_eigenvectors_and_near_minus_one_for_gaussian_data():
    h = hadamard_data()
    assert fit_tau(h.features, h.eigenvalues) == pytest.approx(1.0, abs=1e-12)
    g = gaussian_data(N=20000, d=8)
    assert fit_tau(g.features, g.eigenvalues) == pytest.approx(-1.0, abs=0.1)


@pytest.mark.parametrize("beta,b", [(0.0, 5), (0.6, 5), (-0.4, 2)])
def test_se_with_tau_one_is_exact_on_flat_eigenvector_data(beta, b):
    p = hadamard_data()
    s = sgdlab.SGD(lr=0.3, momentum=beta, batch=b, sampling="without")
    se = sgdlab.predict(p, s, 80, model="se", tau=1.0)
    ex = sgdlab.predict(p, s, 80, model="exact")
    np.testing.assert_allclose(se.loss, ex.loss, rtol=1e-10)
    assert se.meta["tau"] == 1.0


@pytest.mark.parametrize("beta,b,sampling", [(0.0, 5, "without"), (0.6, 5, "without"), (-0.4, 2, "replacement")])
def test_exact_recursion_agrees_with_real_sgd_on_a_data_set_within_4_standard_errors(beta, b, sampling):
    p = gaussian_data(N=200, noise=0.3)
    s = sgdlab.SGD(lr=0.25, momentum=beta, batch=b, sampling=sampling)
    ex = sgdlab.predict(p, s, 80, model="exact")
    sim = sgdlab.simulate(p, s, 80, seeds=3000, seed=1)
    z = (sim.loss[1:] - ex.loss[1:]) / sim.stderr[1:]
    assert np.abs(z).max() < 4.0


def test_exact_recursion_with_full_batch_is_deterministic_heavy_ball():
    p = gaussian_data(N=50, d=6, noise=0.2)
    s = sgdlab.SGD(lr=0.5, momentum=0.5, batch=50, sampling="without")
    ex = sgdlab.predict(p, s, 200, model="exact")
    gd = sgdlab.predict(p, s.replace(batch=10**15, sampling="online"), 200)
    np.testing.assert_allclose(ex.loss, gd.loss, rtol=1e-10)


def test_exact_recursion_stays_a_covariance_at_large_lr_times_lambda():
    """Off the symmetric subspace the moment map is unstable here (rounding once grew as 1.43^t)."""
    lam = np.r_[np.linspace(1, 2, 36), np.geomspace(20, 400, 4)]
    p = sgdlab.volterra.prescribed_spectrum(lam, 100, seed=0)
    s = sgdlab.SGD(lr=0.006, momentum=0.8, batch=25, sampling="without")    # lr·λ_max = 2.4 < 2(1+β)
    rho = exact_spectral_radius(p, s.lr, s.momentum, s.batch)
    assert rho < 1
    ex = sgdlab.predict(p, s, 800, model="exact", record=[0, 400, 800])
    assert np.all(ex.loss > 0)
    np.testing.assert_allclose(ex.loss[2] / ex.loss[1], rho**400, rtol=0.05)


@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_exact_critical_lr_separates_convergence_from_divergence_at_5_percent(beta):
    p = gaussian_data(N=60, d=8, seed=3)
    a = exact_critical_lr(p, momentum=beta, batch=2)
    assert exact_spectral_radius(p, 0.95 * a, beta, 2) < 1 < exact_spectral_radius(p, 1.05 * a, beta, 2)
    lo = sgdlab.predict(p, sgdlab.SGD(lr=0.95 * a, momentum=beta, batch=2, sampling="without"), 4000, model="exact")
    hi = sgdlab.predict(p, sgdlab.SGD(lr=1.05 * a, momentum=beta, batch=2, sampling="without"), 4000, model="exact")
    assert lo.final_loss < 1e-3 * lo.loss[0]
    assert hi.final_loss > 1e3 * hi.loss[0] or hi.status == "diverges"


def test_se_critical_lr_with_fitted_tau_is_closer_to_the_exact_one_than_tau_one():
    p = gaussian_data(N=60, d=8, seed=3)
    exact = exact_critical_lr(p, momentum=0.0, batch=2)
    fitted = sgdlab.critical_lr(p, 0.0, 2, model="se")
    seed_default = sgdlab.critical_lr(p, 0.0, 2, model="se", tau=1.0)
    assert abs(fitted / exact - 1) < abs(seed_default / exact - 1)
    assert seed_default / exact > 1.1            # tau = 1 overestimates the edge on Gaussian-like data


def _wide_data(N=320, d=300, seed=0, noise=0.3, zero_labels=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d)) * np.linspace(1.0, 0.2, d)
    y = X @ rng.standard_normal(d) / np.sqrt(d) + noise * rng.standard_normal(N)
    y[:zero_labels] = 0.0
    return sgdlab.Problem.from_features(X, y)


# (problem, lr, momentum, batch, sampling, steps, converges): the fast recursion (d >= 256 runs the
# parallel fused kernel and the 2-block q_i) against the plain eigenbasis implementation
_CASES = {
    "beta>0,without,noise": (lambda: gaussian_data(N=200, noise=0.3), 0.25, 0.6, 5, "without", 300, True),
    "beta<0,replacement,noise": (lambda: gaussian_data(N=200, noise=0.3), 0.25, -0.4, 2, "replacement", 300, True),
    "beta=0,noiseless": (lambda: gaussian_data(N=100, d=40), 0.25, 0.0, 5, "without", 300, True),
    "diverging,b=1": (lambda: gaussian_data(N=200, noise=0.3), 0.8, 0.5, 1, "without", 100, False),
    "full-batch": (lambda: gaussian_data(N=50, d=6, noise=0.2), 0.5, 0.5, 50, "without", 200, True),
    "wide,beta>0,without": (lambda: _wide_data(), 0.004, 0.5, 4, "without", 150, True),
    "wide,beta<0,replacement": (lambda: _wide_data(), 0.006, -0.3, 2, "replacement", 150, True),
    "wide,diverging": (lambda: _wide_data(), 0.05, 0.5, 2, "without", 60, False),
    "zero labels (c_i ~ 0)": (lambda: _wide_data(N=260, d=256, zero_labels=40), 0.004, 0.3, 3, "replacement", 100,
                              True),
}


@pytest.mark.parametrize("case", list(_CASES))
def test_fast_exact_recursion_gives_the_numbers_of_the_reference_implementation(case):
    from sgdlab.linear.exact import _exact_recursion_reference, exact_recursion
    make, lr, beta, b, sampling, steps, converges = _CASES[case]
    p = make()
    rec = np.unique(np.r_[0, np.geomspace(1, steps, 25).astype(int)])
    L0 = p.initial_loss
    fast = exact_recursion(p, lr, beta, b, sampling, rec, 1e3 * L0, 1e30 * L0)
    ref = _exact_recursion_reference(p, lr, beta, b, sampling, rec, 1e3 * L0, 1e30 * L0)
    assert fast[1:] == ref[1:]                                    # checkpoints reached, first blow-up step
    n = fast[1]
    np.testing.assert_allclose(fast[0][:n], ref[0][:n], rtol=1e-12, atol=0)
    if converges:
        assert fast[2] == -1 and n == rec.size and fast[0][n - 1] < 0.6 * L0
    else:
        assert fast[2] > 0 and fast[0][n - 1] > 1e3 * L0


def test_quadratic_forms_read_only_the_upper_triangle_and_equal_the_dense_ones():
    from sgdlab.linear.exact import _block_forms, _quad_forms
    rng = np.random.default_rng(4)
    for N, d, C in [(50, 7, 5), (300, 200, 3), (90, 700, 10)]:
        Z = rng.standard_normal((N, d))
        G = rng.standard_normal((d, d))
        M = G + G.T
        upper = M.copy()
        upper[np.tril_indices(d, -1)] = np.nan                  # the solver keeps M on its upper triangle
        W = np.empty((d, N), order="F")
        scale = np.abs(Z).max() ** 2 * np.abs(M).sum()
        np.testing.assert_allclose(_quad_forms(Z, upper, W), np.einsum("ij,ij->i", Z @ M, Z), rtol=1e-9,
                                   atol=1e-12 * scale)
        Zb = Z.reshape(-1, C, d)
        np.testing.assert_allclose(_block_forms(Z, upper, W, C), Zb @ M @ Zb.transpose(0, 2, 1), rtol=1e-9,
                                   atol=1e-12 * scale)
        assert np.isnan(upper).sum() == d * (d - 1) // 2         # M itself is left as it was


@pytest.mark.parametrize("sampling,beta", [("without", 0.0), ("replacement", 0.6)])
def test_the_block_solver_equals_the_plain_block_recursion_with_coupled_outputs(sampling, beta):
    """predict_blocks(noise="exact") runs the shared solver; the plain loop (numpy temporaries) is the reference."""
    from sgdlab.curve import checkpoints
    from sgdlab.linear.exact import moment_map
    from sgdlab.linear.noise import batch_factor
    from sgdlab.nn.blocks import _second_moment_blocks, block_features, predict_blocks
    rng = np.random.default_rng(7)
    N, C, p = 12, 3, 30                                  # rank p < NC: the labels keep a residual (label noise)
    G = rng.standard_normal((N * C, p))
    theta = (G @ G.T / p).reshape(N, C, N, C)           # outputs coupled: not K ⊗ I
    R = rng.standard_normal((N, C))
    sgd = sgdlab.SGD(lr=0.5, momentum=beta, batch=3, sampling=sampling)
    steps, rec = 60, checkpoints(60)
    fast = predict_blocks(theta, R, sgd, steps, record=rec)
    Zg, lam, w, rho = block_features(theta, R)
    assert np.abs(rho).max() > 1e-3
    Z, gamma = Zg.reshape(N * C, -1), batch_factor(3, N, sampling)
    M, m, u = np.outer(w, w), -w.copy(), np.zeros_like(w)
    J, P = np.zeros_like(M), np.zeros_like(M)
    s2 = float(np.sum(rho * rho)) / N
    ref = []
    for t in range(steps + 1):
        if t in rec:
            ref.append(0.5 * (float(lam @ np.diag(M)) + s2))
        M, J, P = moment_map(lam, sgd.lr, beta, M, J, P, _second_moment_blocks(Zg, Z, lam, M, m, rho, gamma))
        u = beta * u - sgd.lr * lam * m
        m = m + u
    np.testing.assert_allclose(fast.loss, ref, rtol=1e-11)


def test_the_exact_model_is_unchanged_by_flushing_its_decayed_mean_to_zero(monkeypatch):
    """With label noise the mean m_t of each mode decays through the subnormal range (which is slow, so the solver
    sets it to zero there); the loss curve is the unflushed reference's at every checkpoint."""
    from sgdlab.curve import checkpoints
    from sgdlab.linear.exact import _exact_recursion_reference, exact_recursion
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 6))
    p = sgdlab.Problem.from_features(X, X @ rng.standard_normal(6) + 0.3 * rng.standard_normal(60))
    lr = 0.8 / float(p.eigenvalues.max())
    rec = checkpoints(3000)
    from sgdlab.linear import exact as ex
    flushed, flush = [], ex._flush_subnormal

    def counting(x):
        flushed.append(int(np.sum((x != 0) & (np.abs(x) < ex.TINY))))
        flush(x)
    monkeypatch.setattr(ex, "_flush_subnormal", counting)
    fast, n, _ = exact_recursion(p, lr, 0.3, 6, "without", rec, 1e300, 1e300)
    assert sum(flushed) > 0                                       # the mean did pass through the subnormal range
    ref, n_ref, _ = _exact_recursion_reference(p, lr, 0.3, 6, "without", rec, 1e300, 1e300)
    assert n == n_ref == rec.size
    np.testing.assert_allclose(fast, ref, rtol=1e-11)


def test_full_batch_exact_moments_flushed_at_the_subnormal_range_keep_the_reference_curve(monkeypatch):
    """Gradient descent (batch = N): M, J, P decay through the subnormal range, where the solver zeroes them every
    FLUSH_MOMENTS_EVERY steps; the loss is the unflushed reference's at every checkpoint (it stays a normal number)."""
    from sgdlab.curve import checkpoints
    from sgdlab.linear.exact import _exact_recursion_reference, exact_recursion
    rng = np.random.default_rng(5)
    X = rng.standard_normal((80, 12)) * np.linspace(1.0, 0.5, 12)
    p = sgdlab.Problem.from_features(X, X @ rng.standard_normal(12))
    lr = 1.0 / float(p.eigenvalues.max())
    rec = checkpoints(1500)
    from sgdlab.linear import exact as ex
    zeroed, flush = [], ex._flush_moments

    def counting(*xs):
        zeroed.append(sum(int(np.sum((x != 0) & (np.abs(x) < ex.TINY))) for x in xs))
        flush(*xs)
    monkeypatch.setattr(ex, "_flush_moments", counting)
    fast, n, _ = exact_recursion(p, lr, 0.5, 80, "without", rec, 1e300, 1e300)
    ref, n_ref, _ = _exact_recursion_reference(p, lr, 0.5, 80, "without", rec, 1e300, 1e300)
    assert sum(zeroed) > 0                                        # the moments did reach the subnormal range
    assert n == n_ref == rec.size and ref[-1] > 0
    np.testing.assert_allclose(fast, ref, rtol=1e-10)
