"""Property tests of the core and the linear engine at the edges (issue 12 B).

Random valid inputs (over many orders of magnitude) give finite, nonempty answers or a
status; random invalid inputs raise ``sgdlab.InputError`` naming the parameter.
"""

import json

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sgdlab
from sgdlab import InputError, Problem, SGD
from sgdlab.result import STATUSES

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scales = st.integers(-150, 150).map(lambda e: 10.0**e)
momenta = st.floats(-0.95, 0.95)
batches = st.integers(1, 16)
steps_ = st.integers(1, 200)


def assert_answer(c):
    assert len(c) >= 1, (c.status, c.reason, c.meta)
    """A curve is an answer: nonempty from step 0, finite, a known status, strict JSON."""
    assert len(c) >= 1 and c.steps[0] == 0
    assert np.all(np.isfinite(c.loss)) and np.all(c.loss >= 0)
    assert c.status in STATUSES and c.reason
    json.dumps(c.to_dict(), allow_nan=False)


moderate = st.integers(-3, 3).map(lambda e: 10.0**e)


@st.composite
def problems(draw, scales=scales):
    kind = draw(st.sampled_from(["power_law", "eigenvalues", "features", "kernel"]))
    try:
        if kind == "power_law":
            return Problem.power_law(dim=draw(st.integers(1, 20)), nu=draw(st.floats(0.05, 60.0)),
                                     kappa=draw(st.floats(0.01, 60.0)), noise_variance=draw(st.floats(0.0, 10.0)))
        n = draw(st.integers(1, 12))
        scale = draw(scales)
        if kind == "eigenvalues":
            lam = scale * np.array(draw(st.lists(st.floats(0.0, 10.0), min_size=n, max_size=n)))
            tgt = draw(scales) * np.array(draw(st.lists(st.floats(-3.0, 3.0), min_size=n, max_size=n)))
            return Problem.from_eigenvalues(lam, tgt, draw(st.floats(0.0, 10.0)))
        rng = np.random.default_rng(draw(st.integers(0, 2**31)))
        N = draw(st.integers(2, 20))
        X = scale * rng.normal(size=(N, n))
        y = draw(scales) * rng.normal(size=N)
        return Problem.from_features(X, y) if kind == "features" else Problem.from_kernel(X @ X.T, y)
    except InputError as exc:       # refused: the message names what to change
        assert any(w in str(exc) for w in ("eigenvalues", "target", "nu", "dim", "X", "K", "y", "overflow"))
        return None


@SETTINGS
@given(problems(), st.floats(1e-3, 1e3), momenta, batches, steps_, st.sampled_from(["gaussian", "se"]))
@example(Problem.from_eigenvalues([1e-300], [0.0], 0.0), 1.0, 0.0, 1, 1, "gaussian")  # found by CI: L_0 = 0, lr² = inf
@example(Problem.from_eigenvalues([1.66e-156], [1e3], 0.0), 1.0, 0.0, 1, 1, "gaussian")  # lr = 4e155: lr² = inf
@example(Problem.from_eigenvalues([1.0, 5e-324, 0.0], [0.0] * 3, 0.0), 1.0, 0.0, 1, 1, "se")  # a_k² underflows: 0/0
def test_predict_answers_with_a_finite_curve_and_a_status(p, frac, beta, b, T, model):
    if p is None:
        return
    sampling = "online" if model == "gaussian" else "without"
    b = min(b, p.n_samples or (p.dim if model == "se" else b))
    tau = 1.0 if model == "se" else "fit"
    crit = sgdlab.critical_lr(p, beta, b, model=model, tau=tau)
    assert np.isfinite(crit) and crit > 0
    c = sgdlab.predict(p, SGD(lr=min(frac * crit, 1e300), momentum=beta, batch=b, sampling=sampling), T,
                       model=model, tau=tau)
    assert_answer(c)
    if abs(frac - 1.0) > 1e-3:                   # at the edge itself either answer is right
        assert (c.status == "converges") == (frac < 1.0)


@SETTINGS
@given(problems(), st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=4), st.lists(momenta, min_size=1, max_size=3),
       batches)
def test_stability_map_is_finite_and_agrees_with_the_critical_lr(p, fracs, betas, b):
    if p is None:
        return
    crit0 = sgdlab.critical_lr(p, 0.0, b)
    lrs = np.minimum(np.array(fracs) * crit0, 1e300)
    m = sgdlab.stability_map(p, lrs, betas, batch=b)
    assert np.all(np.isfinite(m.margin)) and np.all(np.isfinite(m.critical_lr)) and np.all(m.critical_lr > 0)
    assert np.array_equal(m.stable, lrs[None, :] < m.critical_lr[:, None])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(moderate), st.floats(1e-2, 1e2), momenta, st.integers(1, 4), st.integers(1, 200), st.integers(2, 20),
       st.integers(0, 2**32))
def test_simulate_answers_with_a_finite_curve_and_a_status(p, frac, beta, b, T, seeds, seed):
    # moderate scales only: simulate's seed statistics overflow for L_0 ~ 1e215 (reported to its owner)
    if p is None:
        return
    lr = min(frac * sgdlab.critical_lr(p, beta, b), 1e300)
    c = sgdlab.simulate(p, SGD(lr=lr, momentum=beta, batch=b), T, seeds=seeds, seed=seed)
    assert_answer(c)
    assert c.status in ("finite", "diverges")


bad_reals = st.one_of(st.just(float("nan")), st.just(float("inf")), st.just(-float("inf")), st.floats(-1e3, 0.0),
                      st.just(True), st.just("0.1"), st.just(1 + 1j))
bad_ints = st.one_of(st.integers(-5, 0), st.just(True), st.just(1.5), st.just(float("nan")), st.just("3"))


@SETTINGS
@given(st.one_of(
    st.tuples(st.just("lr"), bad_reals),
    st.tuples(st.just("momentum"), st.one_of(st.floats(1.0, 1e300), st.floats(-1e300, -1.0), st.just(float("nan")))),
    st.tuples(st.just("batch"), bad_ints),
    st.tuples(st.just("steps"), bad_ints),
    st.tuples(st.just("blowup"), st.one_of(bad_reals, st.floats(-1e3, 1.0))),
    st.tuples(st.just("tau"), st.one_of(st.just(float("nan")), st.just(float("inf")), st.floats(1.0, 1e300,
                                                                                                exclude_min=True))),
))
def test_invalid_predict_inputs_raise_input_error_naming_them(bad):
    name, value = bad
    p = Problem.power_law(dim=10)
    kw = {"lr": 0.1, "momentum": 0.0, "batch": 1, "steps": 10, "blowup": 1e6, "tau": 1.0, name: value}
    try:
        sgd = SGD(lr=kw["lr"], momentum=kw["momentum"], batch=kw["batch"])
        sgdlab.predict(p, sgd, kw["steps"], model="se", tau=kw["tau"], blowup=kw["blowup"])
    except InputError as exc:
        assert name in str(exc) and "\n" not in str(exc)
    else:
        raise AssertionError(f"{name}={value!r} was accepted")


@SETTINGS
@given(st.one_of(
    st.tuples(st.just("dim"), bad_ints),
    st.tuples(st.just("nu"), bad_reals),
    st.tuples(st.just("kappa"), bad_reals),
    st.tuples(st.just("noise_variance"), st.one_of(st.just(float("nan")), st.floats(-1e3, -1e-300))),
))
def test_invalid_power_laws_raise_input_error_naming_the_parameter(bad):
    name, value = bad
    kw = {"dim": 10, "nu": 1.5, "kappa": 1.0, "noise_variance": 0.0, name: value}
    try:
        Problem.power_law(**kw)
    except InputError as exc:
        assert name in str(exc)
    else:
        raise AssertionError(f"{name}={value!r} was accepted")


@SETTINGS
@given(st.one_of(st.tuples(st.just("seeds"), st.one_of(st.integers(-3, 1), st.just(True), st.just(2.5))),
                 st.tuples(st.just("seed"), st.one_of(st.integers(-10, -1), st.just(False), st.just(0.5)))))
def test_invalid_simulate_inputs_raise_input_error_naming_them(bad):
    name, value = bad
    kw = {"seeds": 4, "seed": 0, name: value}
    try:
        sgdlab.simulate(Problem.power_law(dim=5), SGD(0.1), 10, **kw)
    except InputError as exc:
        assert name in str(exc)
    else:
        raise AssertionError(f"{name}={value!r} was accepted")


def test_a_problem_started_at_its_minimum_stays_there_for_any_lr():
    p = Problem.from_eigenvalues([1e-300, 1.0], [0.0, 0.0], 0.0)
    for lr in (0.1, 1e299):
        c = sgdlab.predict(p, SGD(lr=lr), 50)
        assert np.all(c.loss == 0.0) and len(c) == len(c.steps) > 1


def test_a_tiny_spectrum_at_a_huge_lr_is_the_same_problem_in_other_units():
    # (λ, lr, σ²) -> (λ/c, lr·c, σ²/c) leaves every a_k = lr·λ_k and the moments unchanged, scaling L by 1/c;
    # here lr² overflows float64, and the prediction must still be the rescaled one
    c = 1e-156
    tiny = Problem.from_eigenvalues([2.0 * c, c], [1.0, 3.0], 0.5 * c)
    unit = Problem.from_eigenvalues([2.0, 1.0], [1.0, 3.0], 0.5)
    for beta, b in ((0.0, 1), (0.6, 4)):
        ct = sgdlab.predict(tiny, SGD(lr=0.3 / c, momentum=beta, batch=b), 300)
        cu = sgdlab.predict(unit, SGD(lr=0.3, momentum=beta, batch=b), 300)
        assert ct.status == cu.status
        np.testing.assert_allclose(ct.loss, c * cu.loss, rtol=1e-12)
