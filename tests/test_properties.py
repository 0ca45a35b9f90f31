"""Property tests (hypothesis) over random valid and invalid inputs."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sgdlab
from sgdlab import InputError
from sgdlab.linear import gaussian, noise_mass

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

spectra = st.lists(st.floats(1e-4, 10.0), min_size=1, max_size=12)
momenta = st.floats(-0.95, 0.95)
batches = st.integers(1, 64)


@st.composite
def stable_configs(draw):
    lam = np.array(draw(spectra))
    target = np.array(draw(st.lists(st.floats(-3, 3), min_size=lam.size, max_size=lam.size)))
    s2 = draw(st.floats(0.0, 1.0))
    p = sgdlab.Problem.from_eigenvalues(lam, target=target, noise_variance=s2)
    beta, b = draw(momenta), draw(batches)
    frac = draw(st.floats(0.05, 0.95))
    return p, sgdlab.SGD(lr=frac * sgdlab.critical_lr(p, beta, b), momentum=beta, batch=b)


@SETTINGS
@given(stable_configs())
def test_below_the_critical_lr_the_loss_is_finite_nonnegative_and_converges(cfg):
    p, s = cfg
    c = sgdlab.predict(p, s, steps=300)
    assert c.status == "converges" and c.diverged_at is None
    assert np.all(np.isfinite(c.loss)) and np.all(c.loss >= 0.5 * p.noise_variance * (1 - 1e-12))
    assert c.loss[0] == pytest.approx(p.initial_loss, rel=1e-14)
    assert noise_mass(p.eigenvalues, s.lr, s.momentum, gaussian(s.batch)) < 1


@SETTINGS
@given(stable_configs(), st.floats(0.01, 2.0))
def test_more_label_noise_never_lowers_the_loss(cfg, extra):
    p, s = cfg
    q = sgdlab.Problem.from_eigenvalues(p.eigenvalues, p.target, p.noise_variance + extra)
    lo, hi = sgdlab.predict(p, s, 200).loss, sgdlab.predict(q, s, 200).loss
    assert np.all(hi >= lo)


@SETTINGS
@given(stable_configs(), st.floats(0.1, 10.0))
def test_rescaling_eigenvalues_by_c_and_lr_by_1_over_c_rescales_the_loss_by_c(cfg, c):
    p, s = cfg
    q = sgdlab.Problem.from_eigenvalues(c * p.eigenvalues, p.target, c * p.noise_variance)
    a = sgdlab.predict(p, s, 200).loss
    b = sgdlab.predict(q, s.replace(lr=s.lr / c), 200).loss
    np.testing.assert_allclose(b, c * a, rtol=1e-9)
    assert sgdlab.critical_lr(q, s.momentum, s.batch) == pytest.approx(sgdlab.critical_lr(p, s.momentum, s.batch) / c,
                                                                        rel=1e-9)


@SETTINGS
@given(spectra, momenta, batches)
def test_critical_lr_is_the_root_of_U_or_the_deterministic_edge(lam, beta, b):
    p = sgdlab.Problem.from_eigenvalues(lam)
    a = sgdlab.critical_lr(p, beta, b)
    U = noise_mass(p.eigenvalues, a * (1 - 1e-9), beta, gaussian(b))
    edge = 2 * (1 + beta) / p.eigenvalues[0]
    assert U == pytest.approx(1.0, rel=1e-6) or (a <= edge * (1 + 1e-12) and U < 1)


bad_floats = st.one_of(st.just(float("nan")), st.just(float("inf")), st.floats(-10, -1e-9))


@SETTINGS
@given(st.one_of(
    st.tuples(st.just("lr"), st.one_of(bad_floats, st.just(0.0))),
    st.tuples(st.just("momentum"), st.one_of(st.floats(1.0, 5.0), st.floats(-5.0, -1.0), st.just(float("nan")))),
    st.tuples(st.just("batch"), st.integers(-5, 0)),
))
def test_invalid_hyperparameters_raise_one_line_errors_naming_them(bad):
    name, value = bad
    kwargs = {"lr": 0.1, "momentum": 0.0, "batch": 1, name: value}
    with pytest.raises(InputError, match=name):
        sgdlab.SGD(**kwargs)


@SETTINGS
@given(st.lists(st.one_of(st.floats(0.1, 1.0), bad_floats), min_size=1, max_size=6).filter(
    lambda xs: any(not (x >= 0 and np.isfinite(x)) for x in xs)))
def test_invalid_spectra_raise_errors_naming_the_eigenvalues(lam):
    with pytest.raises(InputError, match="eigenvalues"):
        sgdlab.Problem.from_eigenvalues(lam)
