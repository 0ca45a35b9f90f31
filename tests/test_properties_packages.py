"""Property tests of the public entry points of fluctuations, factorization and manifold (issue 12).

Two claims, each over random tiny inputs:

* valid inputs give an answer: finite numbers, or a result whose ``status`` is a word of the shared
  vocabulary and whose ``to_dict()`` is JSON without NaN or inf;
* invalid inputs raise :class:`sgdlab.InputError` whose one-line message names the public parameter.
"""

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sgdlab import SGD, InputError, factorization as fz, fluctuations as F, manifold as mf
from sgdlab.result import STATUSES

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

eig = st.floats(0.05, 4.0)
lr_ = st.floats(0.01, 3.0)
mom = st.floats(-0.9, 0.95)
small_int = st.integers(1, 4)


def answered(r):
    """A result with a known status and a clean dict, or finite numbers."""
    if hasattr(r, "status") and hasattr(r, "to_dict"):
        status = r.status
        words = [status] if isinstance(status, str) else list(np.asarray(status, dtype=object).ravel())
        assert all(w in STATUSES for w in words), words
        assert isinstance(r.reason, str) or np.asarray(r.reason).size == np.asarray(status).size
        json.dumps(r.to_dict(), allow_nan=False)
    else:
        assert np.all(np.isfinite(np.asarray(r, dtype=float))), r


def refused(call, param):
    with pytest.raises(InputError) as exc, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        call()
    msg = str(exc.value)
    assert param in msg and "\n" not in msg, msg


#: invalid values of a positive real, a count, a momentum
bad_positive = st.sampled_from([0.0, -1.0, math.nan, math.inf, True, "x"])
bad_count = st.sampled_from([0, -3, 1.5, True, False, "2", math.nan])
bad_momentum = st.sampled_from([1.0, -1.0, 1.5, math.nan, True, "x"])


# ------------------------------------------------------------------ fluctuations
@FAST
@given(st.lists(eig, min_size=1, max_size=3), st.lists(st.floats(0.0, 2.0), min_size=3, max_size=3), lr_, mom)
@example([1.0], [0.0, 0.0, 0.0], 1.0, 0.0)          # found by exploration: ρ(T) = 0, the moments relax in one step
def test_fluctuations_valid_inputs_give_a_law_or_a_status(a, c, lr, beta):
    H, C = np.diag(a), np.diag(c[:len(a)])
    answered(F.stationary_covariance(H, C, lr, beta))
    answered(F.existence(H, C, lr, beta))
    answered(F.second_moment_recursion(H, C, lr, beta, doublings=8))
    answered(F.approximation_error(H, C, [lr / 2, lr], beta))
    answered(F.lr_max(H, C, beta))
    answered(F.simulate(H, C, SGD(lr, beta), 20, seeds=2, backend="numpy", cloud=0))


@FAST
@given(st.lists(eig, min_size=2, max_size=2), small_int, lr_)
def test_fluctuations_minibatch_noise_gives_a_law_or_a_status(a, batch, lr):
    model = F.online_minibatch(np.diag(a), 1.0, batch)
    answered(F.stationary_covariance(None, model, lr))
    answered(F.simulate(None, model, SGD(lr), 10, seeds=2, backend="numpy", cloud=0))


@FAST
@given(bad_positive, bad_momentum, bad_count)
def test_fluctuations_invalid_inputs_name_the_parameter(bad, bad_beta, bad_n):
    H = np.eye(2)
    refused(lambda: F.stationary_covariance(H, H, bad), "lr")
    refused(lambda: F.stationary_covariance(H, H, 0.1, bad_beta), "momentum")
    refused(lambda: F.existence(H, H, bad), "lr")
    refused(lambda: F.second_moment_recursion(H, H, 0.1, doublings=bad_n), "doublings")
    refused(lambda: F.simulate(H, H, SGD(0.1), bad_n, backend="numpy"), "steps")
    refused(lambda: F.simulate(H, H, SGD(0.1), 10, seeds=bad_n, backend="numpy"), "seeds")
    refused(lambda: F.simulate(H, H, SGD(0.1), 10, chains=bad_n, backend="numpy"), "chains")
    refused(lambda: F.simulate(H, H, bad, 10), "sgd")
    refused(lambda: F.lr_max(H, H, rtol=bad), "rtol")
    refused(lambda: F.effective_temperature(bad, 1.0, 0.1), "curvature")
    refused(lambda: F.laplace_lr(bad_n, 2), "n_data")
    refused(lambda: F.online_minibatch(H, 1.0, bad_n), "batch")


# ------------------------------------------------------------------ factorization
@FAST
@given(st.floats(0.1, 3.0), st.floats(-5.0, 5.0), st.floats(-5.0, 5.0), st.floats(0.001, 3.0),
       st.integers(1, 300))
def test_factorization_valid_inputs_give_a_status_per_run(mu, x0, y0, lr, steps):
    r = fz.gd(mu, x0, y0, lr=lr, steps=steps)
    answered(r)
    assert np.all(np.isfinite(r.X)) and np.all(np.isfinite(r.Y)) and math.isfinite(r.imbalance)
    answered(fz.trajectory(mu, x0, y0, lr, min(steps, 30)))
    answered(fz.sharpness(mu, x0, y0))
    answered(fz.imbalance(mu, x0, y0))
    answered(fz.check_bounds(mu, x0, y0, lr))


@FAST
@given(st.lists(st.floats(0.1, 2.0), min_size=2, max_size=2), st.lists(st.floats(0.2, 3.0), min_size=1, max_size=2),
       st.integers(0, 50))
def test_factorization_sweeps_give_a_status_and_clean_rows(s, c, seed):
    A = fz.from_singular_values(s)
    X0, Y0 = fz.unbalanced_init(2, 2, 2, 3, 1.5, seed)
    sw = fz.sweep(A, X0, Y0, c, steps=100)
    answered(sw)
    json.dumps(sw.rows(), allow_nan=False)
    answered(fz.convergence_map(A, [1.0], c, seeds=2, steps=50, seed=seed))


@FAST
@given(bad_positive, bad_count)
def test_factorization_invalid_inputs_name_the_parameter(bad, bad_n):
    refused(lambda: fz.gd(1.0, 9.0, 1.0, lr=bad, steps=10), "lr")
    refused(lambda: fz.gd(1.0, 9.0, 1.0, lr=0.1, steps=bad_n), "steps")
    refused(lambda: fz.gd(1.0, 9.0, 1.0, lr=0.1, steps=10, tol=bad), "tol")
    refused(lambda: fz.gd(1.0, 9.0, 1.0, lr=0.1, steps=10, blowup=bad), "blowup")
    refused(lambda: fz.trajectory(1.0, 9.0, 1.0, 0.1, bad_n), "steps")
    refused(lambda: fz.unbalanced_init(2, 2, 2, bad_n, 1.0), "runs")
    refused(lambda: fz.convergence_map(np.eye(2), [1.0], [0.5], seeds=bad_n, steps=10), "seeds")
    refused(lambda: fz.convergence_map(np.eye(2), [bad], [0.5], seeds=2, steps=10), "scales")
    refused(lambda: fz.sweep(np.eye(2), np.eye(2)[None], np.eye(2)[None], [bad]), "c")


# ------------------------------------------------------------------ manifold
UV = mf.UV(s=1.0, n=16)


@FAST
@given(st.floats(1e-4, 0.5), st.floats(-0.5, 0.99), st.floats(0.1, 3.0))
def test_manifold_valid_inputs_give_timescales_or_a_status(lr, beta, eps):
    answered(mf.timescales(UV, lr, beta, eps))
    answered(mf.recommended_momentum(UV, lr, eps))
    answered(mf.c_lin(UV, eps))
    answered(mf.simulate(UV, SGD(lr, beta), 20, seeds=3, label_noise=eps, every=5))


@FAST
@given(st.lists(st.floats(-10.0, 10.0), min_size=2, max_size=20))
def test_manifold_time_extraction_gives_a_status(y):
    steps = np.arange(len(y), dtype=float)
    for method in mf.METHODS:
        if method == "exp" and len(y) < 4:
            continue
        answered(mf.extract_time(steps, y, method))
    x, fy = np.log(np.arange(1.0, len(y) + 1)), np.abs(y)
    xv, yv, word = mf.parabola_minimum(x, fy)
    assert word in STATUSES and not math.isnan(yv)


@FAST
@given(bad_positive, bad_momentum, bad_count)
def test_manifold_invalid_inputs_name_the_parameter(bad, bad_beta, bad_n):
    refused(lambda: mf.timescales(UV, bad, 0.9, 1.0), "lr")
    refused(lambda: mf.timescales(UV, 1e-3, bad_beta, 1.0), "momentum")
    refused(lambda: mf.timescales(UV, 1e-3, 0.9, bad), "label_noise")
    refused(lambda: mf.simulate(UV, SGD(1e-3), bad_n, label_noise=1.0), "steps")
    refused(lambda: mf.simulate(UV, SGD(1e-3), 10, seeds=bad_n, label_noise=1.0), "seeds")
    refused(lambda: mf.simulate(UV, SGD(1e-3), 10, chains=bad_n, label_noise=1.0), "chains")
    refused(lambda: mf.simulate(UV, SGD(1e-3), 10, label_noise=1.0, every=bad_n), "every")
    refused(lambda: mf.simulate(UV, [1e-3], 10, label_noise=1.0, momentum=[bad_beta]), "momentum")
    refused(lambda: mf.sweep(UV, [1e-3], [1.0], 1.0, seeds=bad_n), "seeds")
    refused(lambda: mf.sweep(UV, [1e-3], [1.0], 1.0, horizon=bad), "horizon")
    refused(lambda: mf.recommended_momentum(UV, bad, 1.0), "lr")
    refused(lambda: mf.c_lin(UV, bad), "label_noise")


@FAST
@given(st.sampled_from([[True], [False, True], [0.5, -1.0], [math.nan], [], "x"]))
def test_array_parameters_refuse_booleans_and_bad_entries_naming_them(bad):
    refused(lambda: fz.convergence_map(np.eye(2), bad, [0.5], seeds=2, steps=10), "scales")
    refused(lambda: fz.sweep(np.eye(2), np.eye(2)[None], np.eye(2)[None], bad), "c")
    refused(lambda: mf.sweep(UV, bad, [1.0], 1.0), "lrs")
    refused(lambda: mf.simulate(UV, bad, 10, label_noise=1.0, momentum=0.5), "sgd")
    refused(lambda: F.approximation_error(np.eye(2), np.eye(2), bad), "lrs")


@FAST
@given(st.sampled_from([0.0, -1e-3, math.nan, True]))
def test_tolerances_must_be_positive_so_that_nothing_hangs(bad):
    refused(lambda: mf.project(UV, UV.start, tol=bad), "tol")
    refused(lambda: mf.slowest_curvature([1.0, 0.5], rtol=bad), "rtol")
    refused(lambda: F.lr_max(np.eye(2), np.eye(2), rtol=bad), "rtol")
    refused(lambda: fz.gd(1.0, 9.0, 1.0, lr=0.1, steps=10, ptol=bad), "ptol")
    refused(lambda: mf.time_to_fraction([0, 1, 2], [1.0, 0.5, 0.1], fraction=bad), "fraction")
