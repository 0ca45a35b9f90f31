"""Claims about the matrix-free SGD twin: real SGD on a spectral measure's data in the original coordinates."""

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

import sgdlab
from sgdlab import InputError
from sgdlab.linear.data_sgd import training_loss
from sgdlab.linear.simulate import seed_losses
from sgdlab.montecarlo import z_threshold
from sgdlab.problem import DataSet
from sgdlab.spectra import feature_operators

RNG = np.random.default_rng(11)
N, D, C = 120, 16, 3
X = RNG.normal(size=(N, D)) * np.linspace(1.0, 0.2, D)
Y = X @ RNG.normal(size=(D, C)) + 0.3 * RNG.normal(size=(N, C))
LANCZOS = dict(rank=50, probes=4, deflated=4)


@pytest.fixture(scope="module")
def dense_and_measure():
    return sgdlab.Problem.from_features(X, Y), sgdlab.Problem.from_features(X, Y, spectrum="lanczos", **LANCZOS)


@pytest.mark.parametrize("sampling", ["without", "replacement", "shuffle"])
@pytest.mark.parametrize("outputs", [1, C])
def test_same_rows_give_the_eigenbasis_trajectory_at_every_step(dense_and_measure, sampling, outputs):
    """Seed s reads the rows the eigenbasis twin reads; X = Z Vᵀ makes W = V w, so the losses agree step by step."""
    dense, measure = dense_and_measure
    if outputs == 1:
        dense, measure = (sgdlab.Problem.from_features(X, Y[:, 0]),
                          sgdlab.Problem.from_features(X, Y[:, 0], spectrum="lanczos", **LANCZOS))
    sgd = sgdlab.SGD(lr=0.2, momentum=0.6, batch=5, sampling=sampling)
    record = np.arange(151)
    _, eig = seed_losses(dense, sgd, 150, seeds=3, seed=4, record=record)
    _, orig = seed_losses(measure, sgd, 150, seeds=3, seed=4, record=record)
    assert np.max(np.abs(orig / eig - 1.0)) < 1e-10


def test_the_twin_of_a_measure_is_the_eigenbasis_twin_in_distribution(dense_and_measure):
    """Independent seeds: the seed means agree within the family-wise z threshold of their standard errors."""
    dense, measure = dense_and_measure
    sgd = sgdlab.SGD(lr=0.3, momentum=0.5, batch=4, sampling="without")
    a = sgdlab.simulate(dense, sgd, 100, seeds=100, seed=1)
    b = sgdlab.simulate(measure, sgd, 100, seeds=100, seed=2)
    late = a.steps > 0
    z = np.abs(a.loss - b.loss)[late] / np.hypot(a.stderr, b.stderr)[late]
    assert b.meta["space"] == "original" and a.meta["space"] == "eigenbasis"
    assert np.max(z) < z_threshold(int(late.sum()))


def test_the_recorded_loss_is_the_training_loss_over_all_rows():
    W = RNG.normal(size=(4, D, C))
    direct = [np.sum((X @ W[s] - Y) ** 2) / (2 * N) for s in range(4)]
    assert np.allclose(training_loss(X, Y, W, rows=7), direct, rtol=1e-13)


def test_float32_data_are_kept_uncopied_and_train_as_in_float64_up_to_float32_rounding():
    X32 = X.astype(np.float32)
    p32 = sgdlab.Problem.from_features(X32, Y, spectrum="lanczos", **LANCZOS)
    p64 = sgdlab.Problem.from_features(X32.astype(np.float64), Y, spectrum="lanczos", **LANCZOS)
    assert p32.data.X is X32
    sgd = sgdlab.SGD(lr=0.2, batch=5, sampling="without")
    _, a = seed_losses(p32, sgd, 100, seeds=3, seed=0)
    _, b = seed_losses(p64, sgd, 100, seeds=3, seed=0)
    assert np.max(np.abs(a / b - 1.0)) < 1e-4
    assert abs(p32.resolution.tau / p64.resolution.tau - 1.0) < 1e-4


def test_float32_products_of_the_gram_operators_are_float64_products_to_float32_rounding():
    X32 = X.astype(np.float32)
    ops32, ops64 = feature_operators(X32), feature_operators(X32.astype(np.float64))
    V = RNG.normal(size=(D, 2))
    assert np.allclose(ops32.smaller.matmat(V), ops64.smaller.matmat(V), rtol=1e-5, atol=1e-6)
    assert abs(ops32.trace / ops64.trace - 1.0) < 1e-12


def test_a_measure_without_its_rows_or_with_fresh_samples_is_refused_in_one_line(dense_and_measure):
    op_problem = sgdlab.Problem.from_features(aslinearoperator(X), Y, spectrum="lanczos", **LANCZOS)
    measure = dense_and_measure[1]
    with pytest.raises(InputError, match="LinearOperator cannot be sampled"):
        sgdlab.simulate(op_problem, sgdlab.SGD(lr=0.1, batch=2, sampling="without"), 10, seeds=2)
    with pytest.raises(InputError, match="sampling='online'"):
        sgdlab.simulate(measure, sgdlab.SGD(lr=0.1, batch=2), 10, seeds=2)
    with pytest.raises(InputError, match="backend='numpy'"):
        sgdlab.simulate(measure, sgdlab.SGD(lr=0.1, batch=2, sampling="without"), 10, seeds=2, backend="numpy")
    with pytest.raises(InputError, match="batch=500"):
        sgdlab.simulate(measure, sgdlab.SGD(lr=0.1, batch=500, sampling="without"), 10, seeds=2)


def test_a_diverging_run_is_a_status_not_nan(dense_and_measure):
    c = sgdlab.simulate(dense_and_measure[1], sgdlab.SGD(lr=50.0, batch=4, sampling="without"), 100, seeds=3)
    assert c.status == "diverges" and not np.any(np.isnan(c.loss))


def test_a_dataset_reports_its_rows():
    assert DataSet(X, Y).n_samples == N
