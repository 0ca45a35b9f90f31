"""Property tests of the Volterra package at the edges (issue 12 B).

Random valid inputs (spectra over many orders of magnitude, learning rates below and far above the
critical step) give finite, nonempty curves or results with a status; random invalid inputs raise
``sgdlab.InputError`` naming the parameter.
"""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sgdlab
from sgdlab import InputError, Problem, SGD
from sgdlab import volterra as V
from sgdlab.result import STATUSES

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: coarse grids are refined with a RuntimeWarning (predict_curve's documented behaviour), not an error
pytestmark = pytest.mark.filterwarnings("ignore:Volterra grid too coarse:RuntimeWarning")


@st.composite
def problems(draw):
    n = draw(st.integers(1, 30))
    scale = 10.0 ** draw(st.integers(-6, 6))
    lam = scale * np.array(draw(st.lists(st.floats(0.0, 10.0), min_size=n, max_size=n)))
    lam[0] = max(lam[0], scale)                        # at least one nonzero eigenvalue
    target = np.array(draw(st.lists(st.floats(-3.0, 3.0), min_size=n, max_size=n)))
    return Problem.from_eigenvalues(lam, target, draw(st.floats(0.0, 2.0)))


@st.composite
def configs(draw, momentum=False):
    p = draw(problems())
    batch = draw(st.integers(1, max(1, p.dim)))
    sampling = draw(st.sampled_from(["replacement", "without"]))
    frac = draw(st.floats(0.01, 3.0))
    beta = draw(st.floats(-0.9, 0.95)) if momentum else 0.0
    alpha = frac * V.critical_step(p, batch=batch, sampling=sampling)
    return p, SGD(lr=alpha, momentum=beta, batch=batch, sampling=sampling)


def assert_answer(c):
    assert len(c) >= 1 and c.steps[0] == 0
    assert np.all(np.isfinite(c.loss)) and np.all(c.loss >= 0)
    assert c.status in STATUSES and c.reason
    json.dumps(c.to_dict(), allow_nan=False)


@SETTINGS
@given(configs(), st.integers(1, 400))
def test_the_continuous_limit_answers_with_a_curve_and_a_status(cfg, steps):
    p, s = cfg
    assert_answer(V.predict_curve(p, s, steps))
    r = V.rate(p, s)
    assert r.status in STATUSES and r.reason
    json.dumps(r.to_dict(), allow_nan=False)


@SETTINGS
@given(configs(momentum=True), st.integers(1, 400), st.sampled_from([None, "gaussian"]))
def test_heavy_ball_curve_and_report_answer_with_a_status(cfg, steps, fourth):
    p, s = cfg
    c = V.heavy_ball_curve(p, s, steps, fourth_moment=fourth)
    assert_answer(c)
    rep = V.momentum_report(p, s, fourth_moment=fourth)
    assert rep.status == c.status and rep.reason
    json.dumps(rep.to_dict(), allow_nan=False)


@SETTINGS
@given(configs(), st.integers(1, 100), st.integers(2, 6), st.integers(0, 2**31))
def test_hsgd_answers_with_a_curve_and_a_status(cfg, steps, seeds, seed):
    p, s = cfg
    assert_answer(V.simulate_hsgd(p, s, steps, seeds=seeds, seed=seed))


@pytest.mark.parametrize("call, name", [
    (lambda p, s: V.predict_curve(p, s, 10, h=0.0), "h"),
    (lambda p, s: V.predict_curve(p, s, 10, h=float("nan")), "h"),
    (lambda p, s: V.predict_curve(p, s, 10, h=True), "h"),
    (lambda p, s: V.predict_curve(p, s, 10, ridge=-1.0), "ridge"),
    (lambda p, s: V.predict_curve(p, s, 0), "steps"),
    (lambda p, s: V.simulate_hsgd(p, s, 10, seeds=1), "seeds"),
    (lambda p, s: V.simulate_hsgd(p, s, 10, seeds=4, seed=-1), "seed"),
    (lambda p, s: V.simulate_hsgd(p, s, 10, seeds=4, dt=0.0), "dt"),
    (lambda p, s: V.simulate_hsgd(p, s, 10, seeds=4, backend="gpu"), "backend"),
    (lambda p, s: V.critical_step(p, batch=0), "batch"),
    (lambda p, s: V.heavy_ball_curve(p, s, 10, fourth_moment="cubic"), "fourth_moment"),
])
@given(problems())
@settings(max_examples=5, deadline=None)
def test_invalid_volterra_inputs_raise_input_error_naming_them(call, name, p):
    with pytest.raises(InputError, match=name):
        call(p, SGD(lr=1e-3, batch=1, sampling="replacement"))


def test_the_shortcuts_of_the_top_level_dispatch_to_the_package():
    p = Problem.from_eigenvalues(np.linspace(0.5, 1.5, 20), noise_variance=0.1)
    s = SGD(lr=0.01, sampling="replacement")
    np.testing.assert_array_equal(sgdlab.predict(p, s, 100, model="volterra").loss, V.predict_curve(p, s, 100).loss)
    np.testing.assert_array_equal(sgdlab.simulate(p, s, 50, seeds=4, seed=1, method="hsgd").loss,
                                  V.simulate_hsgd(p, s, 50, seeds=4, seed=1).loss)
