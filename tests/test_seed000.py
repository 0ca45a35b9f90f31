"""Claims of seed 000: generating functions, phases, asymptotes, negative momentum, budget independence, data."""

import pickle
import warnings

import numpy as np
import pytest
from scipy.linalg import hadamard

import sgdlab
from sgdlab.linear import gaussian, loss_gf, noise_mass, spectrally_expressible
from sgdlab.linear.generating import SpectrumTruncationWarning, critical_curve_asymptotes, phase
from sgdlab.linear.tuning import negative_momentum_helps, optimal_momentum


def test_loss_generating_function_equals_the_series_of_the_recursion():
    p = sgdlab.Problem.power_law(dim=30, nu=1.5, kappa=1.0)
    for nm, s in [(gaussian(2), sgdlab.SGD(lr=0.3, momentum=0.4, batch=2)),
                  (spectrally_expressible(3, 30, 1.0), sgdlab.SGD(lr=0.5, momentum=-0.3, batch=3, sampling="without"))]:
        model = "gaussian" if nm.name == "gaussian" else "se"
        c = sgdlab.predict(p, s, 20_000, model=model, tau=1.0, record=np.arange(20_001))
        assert loss_gf(0.8, p, s.lr, s.momentum, nm) == pytest.approx(np.sum(c.loss * 0.8**c.steps), rel=1e-12)
        assert loss_gf(1.0, p, s.lr, s.momentum, nm) == pytest.approx(c.loss.sum(), rel=1e-9)


@pytest.mark.parametrize("kappa,expected", [(2.0, "signal"), (6.0, "noise")])
@pytest.mark.parametrize("beta,b", [(0.3, 1), (-0.3, 8)])
def test_power_law_exponent_and_constant_match_a_long_predicted_curve(kappa, expected, beta, b):
    p = sgdlab.Problem.power_law(dim=10_000, nu=2.5, kappa=kappa)
    s = sgdlab.SGD(lr=0.5 * sgdlab.critical_lr(p, beta, b), momentum=beta, batch=b)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpectrumTruncationWarning)
        ph = phase(p, sgd=s, horizon=10**6)
    assert ph.phase == expected
    assert ph.exponent == pytest.approx(kappa / 2.5 if expected == "signal" else 2 - 1 / 2.5)
    c = sgdlab.predict(p, s, 10**6)                       # geometric time stepping
    late = c.steps >= 10**5
    slope = -np.polyfit(np.log(c.steps[late]), np.log(c.loss[late]), 1)[0]
    assert abs(slope - ph.exponent) < 0.02
    assert c.loss[-1] / ph.asymptote(c.steps[-1]) == pytest.approx(1.0, abs=0.05)


def test_a_truncated_spectrum_warns_that_it_cannot_show_the_asymptote():
    p = sgdlab.Problem.power_law(dim=1000, nu=1.5, kappa=1.0)
    s = sgdlab.SGD(lr=0.2)
    with pytest.warns(SpectrumTruncationWarning, match="spectrum truncation"):
        phase(p, sgd=s, horizon=10**6)


def test_phase_boundary_is_kappa_equals_two_nu_minus_one():
    assert phase(1.5, 1.9).phase == "signal" and phase(1.5, 2.1).phase == "noise"
    assert phase(2.0, 3.0).phase == "boundary"


@pytest.mark.parametrize("nm", [gaussian(1), gaussian(4), spectrally_expressible(1, 64, 1.0),
                                spectrally_expressible(4, 64, 0.0)])
def test_critical_curve_is_tangent_to_its_two_asymptotes(nm):
    p = sgdlab.Problem.power_law(dim=64, nu=1.5, kappa=1.0)
    from sgdlab.linear.stability import critical_lr_from_spectrum
    asym = critical_curve_asymptotes(p, nm)
    b = 1 - 1e-5
    assert (1 - b) / (critical_lr_from_spectrum(p.eigenvalues, b, nm) * asym["beta_to_1"]["slope"]) == \
        pytest.approx(1.0, abs=1e-4)
    b = -1 + 1e-5
    assert critical_lr_from_spectrum(p.eigenvalues, b, nm) * p.eigenvalues[0] / (2 * (1 + b)) == \
        pytest.approx(1.0, abs=1e-4)


def hadamard_problem():
    N = 64
    X = hadamard(N) * np.sqrt(1.0 / np.arange(1, N + 1))
    w = np.random.default_rng(0).choice([-1.0, 1.0], N) / 8          # A_k(0) = 1/64
    return sgdlab.Problem.from_features(X, X @ w)


def test_negative_momentum_is_optimal_near_the_edge_and_simulation_confirms_it():
    p = hadamard_problem()                       # flat eigenvectors: SE(tau=1) is exact here
    lr = 0.7 * sgdlab.critical_lr(p, 0.0, 1, model="se", tau=1.0)
    adv = optimal_momentum(p, lr, batch=1, steps=200, model="se", tau=1.0)
    assert adv.momentum < 0 and adv.ratio < 0.9
    assert negative_momentum_helps(p, lr, 1, model="se", tau=1.0, zeta=0.0)["helps"]
    grid = np.round(np.arange(-0.5, 0.201, 0.05), 2)
    sims = [sgdlab.simulate(p, sgdlab.SGD(lr=lr, momentum=b, batch=1, sampling="without"), 200,
                            seeds=4000, seed=11, record=np.array([0, 200])) for b in grid]
    final = np.array([s.final_loss for s in sims])
    best = grid[np.argmin(final)]
    assert best < 0
    assert abs(best - adv.momentum) <= 0.05 + 1e-9           # within one grid step
    zero = sims[int(np.argmin(np.abs(grid)))]
    z = (zero.final_loss - final.min()) / np.hypot(zero.stderr[-1], sims[np.argmin(final)].stderr[-1])
    assert z > 4                                             # the gain over beta = 0 is resolved


def test_far_from_the_edge_negative_momentum_does_not_help():
    p = hadamard_problem()
    lr = 0.05 * sgdlab.critical_lr(p, 0.0, 1, model="se", tau=1.0)
    assert not negative_momentum_helps(p, lr, 1, model="se", tau=1.0, zeta=0.5)["helps"]
    assert optimal_momentum(p, lr, batch=1, steps=200, model="se", tau=1.0).momentum > 0


def test_budget_independence_holds_at_small_lr_and_breaks_near_the_edge():
    from sgdlab.linear import budget_curves, budget_deviation
    p = sgdlab.Problem.power_law(dim=1000, nu=1.5, kappa=1.0)          # N = 1000 (function-space view)
    a1 = sgdlab.critical_lr(p, 0.5, 1, model="se", tau=1.0)
    small = budget_curves(p, 0.02 * a1, (1, 4, 16), 8000, momentum=0.5, tau=1.0)
    assert budget_deviation(small, start=800) < 0.01
    big = budget_curves(p, 0.4 * a1, (1, 4, 16), 8000, momentum=0.5, tau=1.0)
    assert big[16].status == "diverges" or budget_deviation(big, start=800) > 0.05


def test_budget_independence_holds_for_real_sgd_on_data():
    from sgdlab.linear import budget_curves
    p = sgdlab.data.problem("digits", "linear", 1000)
    a1 = 0.05 * sgdlab.critical_lr(p, 0.0, 1, model="se")
    theory = budget_curves(p, a1, (1, 4), 2000)
    sims = {b: sgdlab.simulate(p, sgdlab.SGD(lr=b * a1, batch=b, sampling="without"), 2000 // b, seeds=200,
                               record=np.array([0, 400 // b, 2000 // b])) for b in (1, 4)}
    for b, s in sims.items():                    # each batch size: SGD at 400 and 2000 samples = theory
        th = theory[b].loss[s.steps]
        assert np.all(np.abs(s.loss[1:] - th[1:]) < 4 * s.stderr[1:])
    assert sims[4].loss[-1] == pytest.approx(sims[1].loss[-1], rel=0.02)


def test_ntk_formula_equals_the_empirical_ntk_of_a_wide_network():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 5))
    K = sgdlab.data.ntk_relu(X)
    Xs = sgdlab.data.standardise(X)
    m = 200_000
    W = rng.standard_normal((5, m))
    a = rng.standard_normal(m)
    pre = Xs @ W
    # f = m^-1/2 sum a_j relu(w_j x): grads wrt a (relu) and wrt w_j (a_j 1[pre>0] x)
    Ka = np.maximum(pre, 0) @ np.maximum(pre, 0).T / m
    Kw = ((pre > 0) * a) @ ((pre > 0) * a).T / m * (Xs @ Xs.T)
    np.testing.assert_allclose(Ka + Kw, K, rtol=0.03, atol=0.03 * np.abs(K).max())


def test_on_digits_the_exact_recursion_matches_sgd_and_se_is_within_10_percent():
    p = sgdlab.data.problem("digits", "linear", 600)
    assert p.n_samples == 600 and p.dim <= 64
    s = sgdlab.SGD(lr=0.5 * sgdlab.critical_lr(p, 0.5, 10, model="se"), momentum=0.5, batch=10, sampling="without")
    sim = sgdlab.simulate(p, s, 1000, seeds=300)
    fit = sgdlab.predict(p, s, 1000, model="se")
    one = sgdlab.predict(p, s, 1000, model="se", tau=1.0)
    exact = sgdlab.predict(p, s, 300, model="exact")
    assert fit.meta["tau"] < 0.5 and one.meta["tau"] == 1.0
    err = lambda c: np.max(np.abs(c.loss[1:] / sim.loss[1:len(c)] - 1))  # noqa: E731
    # measured: 5.7% (fitted tau = -0.52) and 2.9% (tau = 1): on digits neither tau is exact and the
    # fitted one is not the better of the two; both stay within 10% of real SGD
    assert err(fit) < 0.10 and err(one) < 0.10
    assert np.max(np.abs(exact.loss[1:] - sim.loss[1:len(exact)]) / sim.stderr[1:len(exact)]) < 4


def test_cifar10_loader_reads_the_standard_batches(tmp_path):
    rng = np.random.default_rng(0)
    for i in (1, 2):
        with open(tmp_path / f"data_batch_{i}", "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 256, (5, 3072), dtype=np.uint8), b"labels": list(range(5))}, fh)
    X, y = sgdlab.data.load("cifar10", tmp_path)
    assert X.shape == (10, 3072) and 0 <= X.min() and X.max() <= 1 and y.tolist() == list(range(5)) * 2
    with pytest.raises(sgdlab.InputError, match="CIFAR-10"):
        sgdlab.data.load("cifar10", tmp_path / "missing")


def test_idx_reader_round_trips(tmp_path):
    import gzip
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = bytes([0, 0, 8, 3]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape) + arr.tobytes()
    (tmp_path / "a.gz").write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(sgdlab.data.read_idx(tmp_path / "a.gz"), arr)


def test_fashion_mnist_loads_when_installed():
    from sgdlab.data.loaders import FASHION_DIR
    if not (FASHION_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("dataset-fashion-mnist is not installed")
    X, y = sgdlab.data.load("fashion")
    assert X.shape == (60000, 784) and set(np.unique(y)) == set(range(10))


def test_noise_phase_sign_of_dlogJ_says_negative_momentum_helps_and_the_recursion_agrees():
    from sgdlab.linear import asymptotic_momentum_sign
    p = sgdlab.Problem.power_law(dim=4000, nu=1.5, kappa=4.0)
    r = asymptotic_momentum_sign(p, 1, model="se", tau=1.0)
    assert r["helps"] and r["leading_order_condition"]["helps"]
    assert r["dlogJ_dbeta"] == pytest.approx(0.0847, abs=2e-3)          # math-linear notes §9 (g)
    ap = r["effective_lr_opt"]
    T = 20_000
    rec = np.array([0, T])
    final = {b: sgdlab.predict(p, sgdlab.SGD(lr=ap * (1 - b), momentum=b, batch=1, sampling="without"), T,
                               model="se", tau=1.0, record=rec).final_loss for b in (-0.3, 0.0)}
    assert final[-0.3] < final[0.0]
