"""Compiled kernels run in calls of bounded wall time (Ctrl-C), with the numbers of one call."""

import importlib

import numpy as np
import pytest

import sgdlab
from sgdlab import fluctuations as fl
from sgdlab._chunks import Pacer, chunks
from sgdlab.hyper import SGD

# the modules (their names are shadowed by the functions the packages export)
lin_sim = importlib.import_module("sgdlab.linear.simulate")
fl_sim = importlib.import_module("sgdlab.fluctuations.simulate")


def test_chunks_cover_the_range_and_grow_with_cheap_bodies():
    got = list(chunks(10_000, target_s=10.0))
    assert got[0] == (0, 1) and got[-1][1] == 10_000
    assert all(a == b for (_, a), (b, _) in zip(got, got[1:]))
    assert len(got) < 12                                   # grows ~4x per cheap chunk


def test_pacer_shrinks_after_a_slow_chunk():
    p = Pacer(target_s=1e-9, first=64)
    with p.timing(64):
        sum(range(10_000))
    assert p.size == 1


def _dataset(N=64, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d)) * np.linspace(1.0, 0.3, d)
    return sgdlab.Problem.from_features(X, X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(N))


@pytest.mark.parametrize("problem,sampling", [
    (sgdlab.Problem.power_law(dim=30, nu=1.5, kappa=1.0), "online"),
    (_dataset(), "without"),
    (_dataset(N=16, d=40), "replacement"),                 # function-space kernel
])
def test_linear_simulation_cut_into_tiny_calls_gives_the_same_numbers(monkeypatch, problem, sampling):
    sgd = SGD(lr=0.2, momentum=0.3, batch=2, sampling=sampling)
    whole = lin_sim.simulate(problem, sgd, 3000, seeds=8, seed=7, backend="numba")
    monkeypatch.setattr(lin_sim, "Pacer", lambda: Pacer(target_s=1e-7, first=1))   # ~1 step per call
    tiny = lin_sim.simulate(problem, sgd, 3000, seeds=8, seed=7, backend="numba")
    np.testing.assert_array_equal(tiny.loss, whole.loss)
    np.testing.assert_array_equal(tiny.stderr, whole.stderr)


@pytest.mark.parametrize("kind", ["additive", "distinct"])
def test_fluctuation_chains_in_chunks_give_the_same_numbers(monkeypatch, kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    H = np.diag([0.5, 1.0, 2.0]) if kind == "additive" else X.T @ X / 12
    model = fl.additive(np.eye(3), 1) if kind == "additive" else \
        fl.finite_dataset(X, X @ np.ones(3) + 0.3 * rng.normal(size=12), batch=3, sampling="distinct")
    sgd = SGD(lr=0.3, momentum=0.2)
    whole = fl.simulate(None if kind == "distinct" else H, model, sgd, 500, seeds=6, seed=3)
    calls = []
    monkeypatch.setattr(fl_sim, "chunks", lambda n: ((calls.append(i) or i, i + 1) for i in range(n)))
    one_by_one = fl.simulate(None if kind == "distinct" else H, model, sgd, 500, seeds=6, seed=3)
    assert len(calls) == 6                      # every sampling mode is cut into calls (Ctrl-C between them)
    np.testing.assert_array_equal(one_by_one.cov, whole.cov)
    np.testing.assert_array_equal(one_by_one.cloud, whole.cloud)


def test_a_diverging_run_cut_into_tiny_calls_retires_seeds_at_the_same_checkpoints(monkeypatch):
    problem, sgd = sgdlab.Problem.power_law(dim=30, nu=1.5, kappa=1.0), SGD(lr=4.0, momentum=0.5, batch=1)
    whole = lin_sim.simulate(problem, sgd, 2000, seeds=8, seed=1, backend="numba")
    monkeypatch.setattr(lin_sim, "Pacer", lambda: Pacer(target_s=1e-7, first=1))
    tiny = lin_sim.simulate(problem, sgd, 2000, seeds=8, seed=1, backend="numba")
    assert whole.status == tiny.status and whole.diverged_at == tiny.diverged_at
    np.testing.assert_array_equal(tiny.loss, whole.loss)
    assert tiny.meta["seeds_overflowed"] == whole.meta["seeds_overflowed"]


@pytest.mark.parametrize("kind", ["additive", "online", "distinct"])
def test_long_fluctuation_chains_in_pieces_give_the_same_numbers(monkeypatch, kind):
    """A chain too long for one call runs in pieces of that chain (state carried): same numbers as one call."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    H = np.diag([0.5, 1.0, 2.0])
    model = {"additive": lambda: fl.additive(np.eye(3), 1),
             "online": lambda: fl.online_minibatch(H, label_variance=0.5, batch=2),
             "distinct": lambda: fl.finite_dataset(X, X @ np.ones(3) + 0.3 * rng.normal(size=12), batch=3,
                                                   sampling="distinct")}[kind]()
    hess = H if kind == "additive" else None
    sgd = SGD(lr=0.2, momentum=0.2)
    whole = fl.simulate(hess, model, sgd, 700, seeds=3, seed=5)
    monkeypatch.setattr(fl_sim, "PIECE_STEPS", 10)
    real = fl_sim.chunks
    monkeypatch.setattr(fl_sim, "chunks", lambda n, first=1: real(n, target_s=1e-9, first=7))
    pieces = fl.simulate(hess, model, sgd, 700, seeds=3, seed=5)
    np.testing.assert_array_equal(pieces.cov, whole.cov)
    np.testing.assert_array_equal(pieces.cloud, whole.cloud)
