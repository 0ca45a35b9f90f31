"""Long horizons of the exact finite-N model by powers of its one-step map (docs/theory/generating-functions.md §1.5).

The claims: the powers give the stepped recursion's numbers to rounding (with label noise, momentum of
either sign, several outputs, every sampling, full batch); their rounding grows like log t, not t;
``method="auto"`` takes them only where they cost less; a diverging run still reports its exact step.
"""

from __future__ import annotations

import numpy as np
import pytest

import sgdlab
from sgdlab._validate import InputError
from sgdlab.linear.exact import batch_factors, exact_moments
from sgdlab.linear.exact_powers import exact_operator, exact_powers, powers_pay, state_dim

EPS = np.finfo(float).eps


def _problem(N, d, outputs=1, noise=0.5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, d)) * np.linspace(1.0, 0.3, d)
    Y = X @ rng.normal(size=(d, outputs)) + noise * rng.normal(size=(N, outputs))
    return sgdlab.Problem.from_features(X, Y[:, 0] if outputs == 1 else Y)


def _stepped_and_powers(p, alpha, beta, b, sampling, rec):
    Z, lam, w = p.features, p.eigenvalues, p.target
    rho = p.labels - Z @ w
    g = float(batch_factors(b, Z.shape[0], sampling)[0])
    stepped, n, first = exact_moments(Z, lam, w, rho, g, alpha, beta, p.noise_variance, rec, 1e300, 1e300)
    assert n == rec.size and first == -1
    return stepped, exact_powers(Z, lam, w, rho, g, alpha, beta, p.noise_variance, rec)[0]


@pytest.mark.parametrize("outputs, noise, beta, b, sampling, lr", [
    (1, 0.5, 0.3, 3, "without", 0.5),        # label noise, momentum, mini-batch
    (1, 0.0, -0.2, 30, "without", 0.5),      # realisable, negative momentum, full batch (γ = 0)
    (2, 0.3, 0.5, 2, "without", 0.5),        # two outputs share the batch
    (1, 0.5, 0.0, 1, "replacement", 0.2),    # plain SGD, i.i.d. indices
])
def test_the_powers_give_the_stepped_recursion_at_every_checkpoint(outputs, noise, beta, b, sampling, lr):
    p = _problem(30, 4, outputs, noise)
    rec = sgdlab.checkpoints(3000)
    stepped, powers = _stepped_and_powers(p, lr / p.eigenvalues.max(), beta, b, sampling, rec)
    np.testing.assert_allclose(powers, stepped, rtol=1e-12, atol=1e-300)


def test_the_operator_is_one_step_of_the_recursion_on_every_coordinate_the_loss_reads():
    """rᵀ T x_0 is L_1 - σ²/2, and T has the size D = d(d+1) + d² + 2dC + 1."""
    p = _problem(20, 3, 2, 0.4)
    Z, lam, w = p.features, p.eigenvalues, p.target
    rho = p.labels - Z @ w
    T, x0, r = exact_operator(Z, lam, w, rho, 0.3, 0.2, 0.4)
    assert T.shape == (state_dim(3, 2), state_dim(3, 2)) == (3 * 4 + 9 + 13, 34)
    stepped, _, _ = exact_moments(Z, lam, w, rho, 0.3, 0.2, 0.4, p.noise_variance, np.array([0, 1, 2]), 1e300, 1e300)
    np.testing.assert_allclose([r @ x0, r @ T @ x0, r @ T @ T @ x0], stepped - p.noise_variance / 2, rtol=1e-13)


@pytest.mark.skipif(np.finfo(np.longdouble).eps >= EPS, reason="needs an extended-precision long double")
def test_once_the_modes_have_relaxed_the_rounding_of_the_powers_grows_like_log_t_not_like_t():
    """Against T's own powers stepped in long double (64-bit mantissa) up to t = 2·10⁴, on a problem whose modes
    relax within tens of steps: the powers stay within 4 log₂(t) ε of them; the float64 stepped recursion
    drifts further (its rounding adds up step by step).  Before the slowest mode relaxes the powers' error
    can grow like t too (generating-functions.md §1.5)."""
    p = _problem(40, 3, 1, 0.5, seed=3)
    Z, lam, w = p.features, p.eigenvalues, p.target
    rho = p.labels - Z @ w
    g, alpha, beta = float(batch_factors(4, 40, "without")[0]), 0.8 / lam.max(), 0.6
    T, x0, r = exact_operator(Z, lam, w, rho, g, alpha, beta)
    rec = np.array([0, 10, 100, 1000, 20_000])
    x, t, exact = x0.astype(np.longdouble), 0, []
    TL = T.astype(np.longdouble)
    for tk in rec:
        for _ in range(tk - t):
            x = TL @ x
        t = tk
        exact.append(r.astype(np.longdouble) @ x + np.longdouble(p.noise_variance) / 2)
    exact = np.array(exact)
    powers = exact_powers(Z, lam, w, rho, g, alpha, beta, p.noise_variance, rec)[0]
    stepped = exact_moments(Z, lam, w, rho, g, alpha, beta, p.noise_variance, rec, 1e300, 1e300)[0]
    err = np.abs(powers / exact - 1).astype(float)
    assert np.all(err[1:] <= 4 * np.log2(rec[1:]) * EPS)
    assert np.abs(stepped / exact - 1).astype(float)[-1] > err[-1]


def test_auto_takes_the_powers_for_few_features_and_long_runs_only():
    assert powers_pay(1797, 10, 10**6)
    assert not powers_pay(1797, 61, 10**4)          # digits: D = 7626 (too large), and the steps are cheaper
    assert not powers_pay(1797, 10, 100)             # a short run is stepped
    p = _problem(50, 4)
    s = sgdlab.SGD(lr=0.3 / p.eigenvalues.max(), momentum=0.5, batch=5, sampling="without")
    long = sgdlab.predict_exact(p, s, 20_000)
    wide = _problem(60, 30)                          # D = 2731: 15 products of 2D³ flops against 200 cheap steps
    short = sgdlab.predict_exact(wide, sgdlab.SGD(lr=0.1, batch=5, sampling="without"), 200)
    assert long.meta["method"] == "exact-powers" and short.meta["method"] == "exact-recursion"
    assert long.meta["powers"]["checked_steps"] == 64 and long.meta["powers"]["max_rel_diff"] < 1e-12
    stepped = sgdlab.predict_exact(p, s, 20_000, method="recursion")
    np.testing.assert_allclose(long.loss, stepped.loss, rtol=1e-11)
    assert long.status == stepped.status == "finite"


def test_a_diverging_run_by_powers_reports_the_exact_step_of_the_recursion():
    p = _problem(30, 3)
    s = sgdlab.SGD(lr=2.2 / p.eigenvalues.max(), batch=3, sampling="without")
    by_powers = sgdlab.predict_exact(p, s, 5000, method="powers")
    stepped = sgdlab.predict_exact(p, s, 5000, method="recursion")
    assert by_powers.status == stepped.status == "diverges"
    assert by_powers.diverged_at == stepped.diverged_at is not None
    np.testing.assert_array_equal(by_powers.loss, stepped.loss)


def test_a_blow_up_between_checkpoints_that_recovers_is_still_found():
    """A diverging first piece (lr above the edge for 300 steps), then a stable one, recorded at 0 and 3000
    only: the blow-up shows at the end of the first piece, and the run is stepped for its exact step."""
    p = _problem(30, 2, 1, 0.0, seed=2)
    top = float(p.eigenvalues.max())
    s = sgdlab.SGD(lr=sgdlab.schedules.piecewise([300], [2.3 / top, 0.5 / top]), batch=30, sampling="without")
    rec = np.array([0, 3000])
    stepped = sgdlab.predict_exact(p, s, 3000, record=rec, method="recursion")
    for method in ("auto", "powers"):
        c = sgdlab.predict_exact(p, s, 3000, record=rec, method=method)
        assert c.status == stepped.status == "diverges" and c.diverged_at == stepped.diverged_at is not None
        assert c.meta["method"] == "exact-recursion"


def test_powers_refuse_what_they_cannot_do_in_one_line_naming_the_method():
    p = _problem(30, 3)
    with pytest.raises(InputError, match="method='powers'"):
        sgdlab.predict(p, sgdlab.SGD(lr=0.1, batch=3), 100, model="se", method="powers")
    with pytest.raises(InputError, match="method"):
        sgdlab.predict_exact(p, sgdlab.SGD(lr=0.1, batch=3), 100, method="blocks")
    big = sgdlab.Problem.from_features(np.random.default_rng(0).normal(size=(80, 60)), np.ones(80))
    with pytest.raises(InputError, match="D = "):
        sgdlab.predict_exact(big, sgdlab.SGD(lr=0.01, batch=3), 100, method="powers")
    rng = np.random.default_rng(1)                   # d = 54 with ten outputs: D = 6967 (one output: 5995)
    X = rng.normal(size=(80, 54))
    ten = sgdlab.Problem.from_features(X, X @ rng.normal(size=(54, 10)) + rng.normal(size=(80, 10)))
    assert state_dim(54) <= 6000 < state_dim(54, 10)
    with pytest.raises(InputError, match="D = 6967"):
        sgdlab.predict_exact(ten, sgdlab.SGD(lr=0.01, batch=3), 100, method="powers")
    with pytest.raises(InputError, match="backend='numpy'"):
        sgdlab.predict_exact(p, sgdlab.SGD(lr=0.1, batch=3), 100, method="powers", backend="jax")


def test_predict_with_model_exact_passes_the_method_and_the_cli_is_the_api(run, tmp_path):
    import json
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.ones(3) + 0.3 * rng.normal(size=40)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    p = sgdlab.data.problem_from_files(tmp_path / "X.npy", tmp_path / "y.npy")
    s = sgdlab.SGD(lr=0.2, momentum=0.3, batch=4, sampling="without")
    api = sgdlab.predict(p, s, 3000, model="exact", method="powers")
    assert api.meta["method"] == "exact-powers"
    r = run("predict", "--data", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "y.npy"), "--model", "exact",
            "--method", "powers", "--lr", "0.2", "--momentum", "0.3", "--batch", "4", "--steps", "3000", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    np.testing.assert_allclose(doc["curve"]["loss"], api.loss, rtol=1e-12)


def test_a_schedule_constant_in_pieces_is_one_map_per_piece():
    """Step decay of the lr, a batch that grows at two milestones: the pieces' powers give the stepped numbers,
    and a schedule with a new value at every step (cosine) is stepped."""
    p = _problem(40, 3, 1, 0.5, seed=4)
    top = float(p.eigenvalues.max())
    s = sgdlab.SGD(lr=sgdlab.schedules.step_decay(0.6 / top, every=700, factor=0.5), momentum=0.4,
                   batch=sgdlab.schedules.piecewise([500, 1500], [2, 4, 8]), sampling="without")
    by_powers = sgdlab.predict_exact(p, s, 3000, method="powers")
    stepped = sgdlab.predict_exact(p, s, 3000, method="recursion")
    assert by_powers.meta["powers"]["pieces"] == 7                 # lr cuts at 700, 1400, 2100, 2800; batch at 500, 1500
    np.testing.assert_allclose(by_powers.loss, stepped.loss, rtol=1e-11)
    cosine = sgdlab.SGD(lr=sgdlab.schedules.cosine(0.5 / top, 3000), batch=4, sampling="without")
    assert sgdlab.predict_exact(p, cosine, 3000).meta["method"] == "exact-recursion"
    with pytest.raises(InputError, match="at most 64 pieces"):
        sgdlab.predict_exact(p, cosine, 3000, method="powers")
