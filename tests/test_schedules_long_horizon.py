"""Claims about the long-horizon path of a schedule: the geometric blocks on its long constant stretches,
handed the state exactly at each jump, keep auto's promise (AUTO_RTOL of the direct recursion, every checkpoint)."""

import numpy as np
import pytest

import sgdlab
from sgdlab import schedules as S
from sgdlab.linear._blocks import AUTO_EXACT_WORK, AUTO_RTOL
from sgdlab.linear.stability import noise_mass


def _record(steps, jumps):
    """The default checkpoints, and the steps just before, at and after every jump."""
    near = [t + d for t in jumps for d in (-1, 0, 1)]
    return np.unique(np.r_[sgdlab.checkpoints(steps), near]).astype(np.int64)


def _auto_and_direct(problem, sgd, steps, record):
    auto = sgdlab.predict(problem, sgd, steps, record=record)
    direct = sgdlab.predict(problem, sgd, steps, record=record, method="recursion")
    assert direct.meta["method"] == "scheduled-recursion"
    assert np.array_equal(auto.steps, direct.steps) and auto.status == direct.status == "converges"
    return auto, direct


def _rel(a, b):
    return np.abs(a.loss / b.loss - 1.0)


def test_auto_promises_1e4_relative_and_leaves_small_runs_to_the_direct_recursion():
    assert AUTO_RTOL == 1e-4 and AUTO_EXACT_WORK == 1e8
    p = sgdlab.Problem.power_law(dim=200)
    c = sgdlab.predict(p, sgdlab.SGD(lr=S.step_decay(0.5, 5000, 0.3), momentum=0.5, batch=8), 20_000)
    assert c.meta["method"] == "scheduled-recursion"          # 200 x 2e4 mode-steps: nothing to gain


def test_a_step_decay_over_1e5_steps_by_blocks_equals_the_direct_recursion_at_every_checkpoint_and_jump():
    p = sgdlab.Problem.power_law(dim=2000, nu=1.5, kappa=1.0, noise_variance=0.01)
    T, every = 100_000, 50_000
    rec = _record(T, [every])
    auto, direct = _auto_and_direct(p, sgdlab.SGD(lr=S.step_decay(0.5, every, 0.3), momentum=0.5, batch=8), T, rec)
    assert auto.meta["method"] == "scheduled-blocks"
    assert np.max(_rel(auto, direct)) <= AUTO_RTOL
    at_jump = np.isin(auto.steps, [every - 1, every, every + 1])
    assert at_jump.sum() == 3 and np.max(_rel(auto, direct)[at_jump]) <= AUTO_RTOL


def test_a_warmup_then_constant_then_step_decays_with_a_momentum_jump_by_blocks_equals_the_direct_recursion():
    p = sgdlab.Problem.power_law(dim=1000, nu=1.5, kappa=1.0, noise_variance=0.01)
    T, warm = 300_000, 500
    lr = S.from_callable(lambda t: np.where(t < warm, 0.4 * (t + 1) / warm, 0.4 * 0.3 ** np.floor(t / 100_000)),
                         "warmup-step")
    sgd = sgdlab.SGD(lr=lr, momentum=S.piecewise([150_000], [0.5, 0.8]), batch=8)
    rec = _record(T, [warm, 100_000, 150_000, 200_000])
    auto, direct = _auto_and_direct(p, sgd, T, rec)
    assert auto.meta["method"] == "scheduled-blocks"
    assert np.max(_rel(auto, direct)) <= AUTO_RTOL


def test_a_node_of_multiplicity_2_is_two_copies_of_its_mode_on_the_long_horizon_path_too():
    """A spectral measure (``Problem.multiplicity``, as a Lanczos measure carries it) by the blocks, against the
    direct recursion of the same problem and of its modes written out one by one."""
    base = sgdlab.Problem.power_law(dim=1000, nu=1.5, kappa=1.0, noise_variance=0.01)
    lam, A = base.eigenvalues, base.initial_moments
    merged = sgdlab.Problem(lam, np.sqrt(2.0 * A), 0.01, multiplicity=np.full(lam.size, 2.0))
    split = sgdlab.Problem.from_eigenvalues(np.repeat(lam, 2), np.sqrt(np.repeat(A, 2)), noise_variance=0.01)
    T = 200_000
    sgd = sgdlab.SGD(lr=S.step_decay(0.2, T // 2, 0.1), momentum=0.5, batch=8)
    rec = _record(T, [T // 2])
    auto, direct = _auto_and_direct(merged, sgd, T, rec)
    assert merged.dim * T > AUTO_EXACT_WORK and auto.meta["method"] == "scheduled-blocks"
    assert np.max(_rel(auto, direct)) <= AUTO_RTOL
    ones = sgdlab.predict(split, sgd, T, record=rec, method="recursion")
    assert np.max(np.abs(auto.loss / ones.loss - 1.0)) <= AUTO_RTOL


def test_a_1e7_step_step_decay_runs_and_ends_every_stretch_at_the_stationary_loss_of_its_lr():
    """Each stretch lasts 2.5e6 steps, thousands of the slowest relaxation times: at its end the loss is the
    stationary σ²/(2(1 - U)) of its lr (the residue of L(z) at z = 1), to the blocks' accuracy."""
    p = sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0, noise_variance=0.01)
    T, every, lr0, beta, b = 10**7, 2_500_000, 0.5, 0.5, 8
    c = sgdlab.predict(p, sgdlab.SGD(lr=S.step_decay(lr0, every, 0.3), momentum=beta, batch=b), T,
                       record=np.arange(0, T + 1, every // 10, dtype=np.int64))
    assert c.meta["method"] == "scheduled-blocks" and c.status == "converges" and c.steps[-1] == T
    for k in range(4):
        U = noise_mass(p.eigenvalues, lr0 * 0.3**k, beta, sgdlab.linear.gaussian(b))
        end = int(np.searchsorted(c.steps, (k + 1) * every))
        assert c.loss[end] == pytest.approx(0.5 * p.noise_variance / (1.0 - U), rel=AUTO_RTOL)
