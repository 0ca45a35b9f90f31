"""Claims about sgdlab.nn: the linearised network's problem and torch SGD on it (docs/theory/networks.md)."""

import numpy as np
import pytest

import sgdlab
from sgdlab import InputError

torch = pytest.importorskip("torch")
from sgdlab.nn import (kernel_matvec, kronecker_error, linearised, ntk, output_kernel, predict_blocks,  # noqa: E402
                       residual_labels, train)

N, D, WIDTH, C = 10, 3, 8, 2


def _mlp(seed=0, frozen_hidden=False):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(D, WIDTH), torch.nn.Tanh(), torch.nn.Linear(WIDTH, C)).double()
    if frozen_hidden:
        net[0].requires_grad_(False)
    return net


def _data(seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(N, D, generator=g, dtype=torch.float64), torch.randn(N, C, generator=g, dtype=torch.float64)


def _explicit_theta(net, X):
    """Θ = J Jᵀ from the explicit Jacobian (torch.autograd.functional.jacobian), (N, C, N, C)."""
    names = [k for k, v in net.named_parameters()]
    params = tuple(v.detach() for v in net.parameters())
    fn = lambda *p: torch.func.functional_call(net, dict(zip(names, p)), (X,))  # noqa: E731
    J = torch.cat([j.reshape(N * C, -1) for j in torch.autograd.functional.jacobian(fn, params)], dim=1)
    return (J @ J.T).reshape(N, C, N, C).numpy()


def test_the_ntk_is_the_explicit_jacobian_product_on_a_tiny_mlp():
    net, (X, Y) = _mlp(), _data()
    theta = ntk(net, X)
    np.testing.assert_allclose(theta, _explicit_theta(net, X), rtol=1e-12, atol=1e-12 * np.abs(theta).max())


def test_the_linearised_problem_is_the_output_averaged_kernel_with_residual_labels():
    net, (X, Y) = _mlp(), _data()
    K = output_kernel(_explicit_theta(net, X))
    p = linearised(net, X, Y)
    np.testing.assert_allclose(np.sort(p.eigenvalues), np.sort(np.linalg.eigvalsh(K)[-p.dim:]) / N, rtol=1e-10)
    R = Y.numpy() - net(X).detach().numpy()
    np.testing.assert_allclose(residual_labels(net, X, Y), R, rtol=1e-13)
    assert p.initial_loss == pytest.approx(0.5 * np.sum(R**2) / N, rel=1e-12)       # sum over outputs, the ½


def test_the_matrix_free_kernel_product_is_the_dense_one():
    net, (X, _) = _mlp(), _data()
    u = np.random.default_rng(0).normal(size=N)
    np.testing.assert_allclose(kernel_matvec(net, X)(u), output_kernel(ntk(net, X)) @ u, rtol=1e-11)


def test_a_network_with_only_its_last_layer_trained_has_a_kronecker_ntk():
    net, (X, _) = _mlp(frozen_hidden=True), _data()
    assert kronecker_error(ntk(net, X)).total < 1e-14
    coupled = kronecker_error(ntk(_mlp(), X))
    assert coupled.total == pytest.approx(np.hypot(coupled.off_diagonal, coupled.diagonal), rel=1e-12)
    assert coupled.off_diagonal > 1e-3                  # hidden weights couple the outputs of a narrow MLP


def _within(run, theory, k=4.0):
    """|seed mean - theory| <= k standard errors at every checkpoint (the Monte-Carlo tolerance)."""
    assert np.array_equal(run.steps, theory.steps)
    z = np.abs(run.loss - theory.loss) / run.stderr
    assert np.all(z[1:] <= k), f"max z = {z[1:].max():.2f} at step {run.steps[1 + np.argmax(z[1:])]}"


SEEDS, STEPS = 400, 60
RECORD = np.array([0, 1, 2, 5, 10, 20, 40, 60])


@pytest.mark.parametrize("sampling", ["without", "replacement"])
def test_torch_sgd_on_the_linearised_mlp_matches_the_exact_block_model(sampling):
    net, (X, Y) = _mlp(), _data()
    sgd = sgdlab.SGD(lr=0.15, momentum=0.5, batch=3, sampling=sampling)
    run = train(net, X, Y, sgd, STEPS, seeds=SEEDS, linearised=True, record=RECORD)
    exact = predict_blocks(ntk(net, X), residual_labels(net, X, Y), sgd, STEPS, record=RECORD)
    assert run.loss[0] == pytest.approx(exact.loss[0], rel=1e-12)
    _within(run, exact)


def test_torch_sgd_on_a_kronecker_network_matches_predict_exact_of_the_linearised_problem():
    net, (X, Y) = _mlp(frozen_hidden=True), _data()
    sgd = sgdlab.SGD(lr=0.3, momentum=-0.2, batch=2, sampling="without")
    run = train(net, X, Y, sgd, STEPS, seeds=SEEDS, linearised=True, record=RECORD)
    _within(run, sgdlab.predict(linearised(net, X, Y), sgd, STEPS, noise="exact", record=RECORD))


def test_the_mse_mean_loss_at_the_converted_lr_takes_the_same_steps():
    net, (X, Y) = _mlp(), _data()
    sgd = sgdlab.SGD(lr=0.2, momentum=0.3, batch=2, sampling="shuffle")
    ours = train(net, X, Y, sgd, 20, seeds=3, seed=5, record=RECORD[RECORD <= 20])
    torch_units = train(net, X, Y, sgd, 20, seeds=3, seed=5, record=RECORD[RECORD <= 20], loss="mse_mean")
    np.testing.assert_allclose(torch_units.loss, ours.loss, rtol=1e-10)
    assert sgdlab.data.mse_mean_to_sgdlab(torch_units.meta["torch_lr"], C) == pytest.approx(sgd.lr, rel=1e-14)


def test_the_model_is_left_at_its_weights_and_the_network_run_starts_at_its_loss():
    net, (X, Y) = _mlp(), _data()
    before = [p.detach().clone() for p in net.parameters()]
    r = train(net, X, Y, sgdlab.SGD(lr=0.2, batch=2, sampling="without"), 30, seeds=4)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert r.loss[0] == pytest.approx(linearised(net, X, Y).initial_loss, rel=1e-12)
    assert r.status == "finite" and r.loss[-1] < r.loss[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"sgd": sgdlab.SGD(lr=0.1, batch=2)}, "sampling"),
    ({"sgd": sgdlab.SGD(lr=0.1, batch=20, sampling="without")}, "batch"),
    ({"loss": "mse"}, "loss"),
    ({"Y": np.zeros((N, 3))}, "output"),
])
def test_bad_input_is_one_line_naming_the_parameter(kwargs, match):
    net, (X, Y) = _mlp(), _data()
    args = {"sgd": sgdlab.SGD(lr=0.1, batch=2, sampling="without"), "Y": Y, **kwargs}
    with pytest.raises(InputError, match=match):
        train(net, X, args.pop("Y"), steps=5, seeds=2, **args)


def test_the_matrix_free_problem_predicts_the_dense_problems_curve():
    net, (X, Y) = _mlp(), _data()
    sgd = sgdlab.SGD(lr=0.2, batch=2, sampling="without")
    dense = sgdlab.predict(linearised(net, X, Y), sgd, 100, tau=1.0)
    free = linearised(net, X, Y, spectrum="lanczos", probes="basis", deflated=0)
    assert free.resolution is not None and free.n_samples == N
    np.testing.assert_allclose(sgdlab.predict(free, sgd, 100, tau=1.0).loss, dense.loss, rtol=1e-8)


def test_se_with_blocks_on_a_kronecker_ntk_is_the_multi_output_se_of_its_kernel():
    net, (X, Y) = _mlp(frozen_hidden=True), _data()
    theta, R = ntk(net, X), residual_labels(net, X, Y)
    sgd = sgdlab.SGD(lr=0.3, momentum=0.4, batch=2, sampling="without")
    for tau in (1.0, 0.3, -1.0):        # per-output couplings 2L_c sum to the block coupling C·(2L/C)
        blocks = predict_blocks(theta, R, sgd, 80, noise="se", tau=tau)
        shared = sgdlab.predict(sgdlab.Problem.from_kernel(output_kernel(theta), R), sgd, 80, tau=tau)
        np.testing.assert_allclose(blocks.loss, shared.loss, rtol=1e-9)


def test_the_fitted_block_tau_is_at_most_one_over_c():
    from sgdlab.nn.blocks import block_features, fit_tau_blocks
    net, (X, Y) = _mlp(), _data()
    Zg, lam, _, _ = block_features(ntk(net, X), residual_labels(net, X, Y))
    assert fit_tau_blocks(Zg, lam) <= 1.0 / C


def test_without_torch_the_torch_functions_name_the_extra(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "torch", None)          # import torch now raises ImportError
    with pytest.raises(InputError, match=r"sgdlab\[torch\]"):
        ntk(object(), np.zeros((2, 2)))


# ---- SE with sample blocks, matrix-free (docs/theory/networks.md §7)

def _block_problem(**options):
    net, (X, Y) = _mlp(), _data()
    return net, X, Y, linearised(net, X, Y, blocks=True, spectrum="lanczos", **options)


def test_the_theta_operator_is_the_dense_ntk_over_n_with_its_exact_trace():
    from sgdlab.nn import theta_operators
    net, (X, _) = _mlp(), _data()
    T = ntk(net, X).reshape(N * C, N * C)
    ops = theta_operators(net, X)
    V = np.random.default_rng(0).normal(size=(N * C, 3))
    np.testing.assert_allclose(ops.function.matmat(V), T @ V / N, rtol=1e-12, atol=1e-12 * np.abs(T).max())
    assert ops.n_samples == N and ops.trace == pytest.approx(np.trace(T) / N, rel=1e-12)


@pytest.mark.parametrize("tau", [1.0, 0.3, -1.0])
def test_the_matrix_free_block_se_at_full_rank_is_the_dense_block_se(tau):
    """Basis probes and no deflation make the measure exact: the curves agree to the Lanczos rounding."""
    net, X, Y, p = _block_problem(probes="basis", deflated=0, tol=1e-12)
    sgd = sgdlab.SGD(lr=0.15, momentum=0.5, batch=3, sampling="without")
    dense = predict_blocks(ntk(net, X), residual_labels(net, X, Y), sgd, 200, noise="se", tau=tau)
    free = sgdlab.predict(p, sgd, 200, tau=tau)
    np.testing.assert_allclose(free.loss, dense.loss, rtol=1e-10)
    assert p.resolution.status == "resolved" and p.n_samples == N


def test_the_block_tau_from_all_eigenvectors_is_fit_tau_blocks():
    from sgdlab.nn.blocks import block_features, fit_tau_blocks
    from sgdlab.spectra import fit_tau_deflated
    net, (X, Y) = _mlp(), _data()
    Zg, lam, _, _ = block_features(ntk(net, X), residual_labels(net, X, Y))
    U = Zg.reshape(N * C, -1) / np.sqrt(N * lam)                 # unit eigenvectors of Θ, rows (i, c)
    tau, share = fit_tau_deflated(lam, U, N, float(np.sum(lam**2)), n_outputs=C)
    assert tau == pytest.approx(fit_tau_blocks(Zg, lam), abs=1e-12) and share == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("deflated", [2, 6, 12])
def test_the_deflated_block_tau_is_off_by_at_most_its_bulk_share_times_the_gap_to_one_over_c(deflated):
    """τ̂ = (1-s) τ̂_r + s τ_bulk with τ_bulk <= 1/C (Jensen), so τ̂ <= τ̂_r + s (1/C - τ̂_r)."""
    from sgdlab.nn.blocks import block_features, fit_tau_blocks
    net, X, Y, p = _block_problem(probes="basis", deflated=deflated, tol=1e-12)
    full = fit_tau_blocks(*block_features(ntk(net, X), residual_labels(net, X, Y))[:2])
    tau_r, s = p.resolution.tau, p.resolution.tau_bulk_share
    assert p.resolution.deflated == deflated and 0.0 < s < 1.0
    assert full <= tau_r + s * (1.0 / C - tau_r) + 1e-12


def test_the_resolution_reports_steps_probes_and_the_exact_trace():
    net, X, Y, p = _block_problem(probes=6, deflated=4, tol=1e-4)
    r = p.resolution
    assert (r.space, r.n_samples, r.probes, r.deflated) == ("ntk-blocks", N, 6, 4)
    assert r.trace_exact == pytest.approx(np.trace(ntk(net, X).reshape(N * C, N * C)) / N, rel=1e-12)
    assert float(p.multiplicity @ p.eigenvalues) == pytest.approx(r.trace_exact / C, rel=1e-10)
    assert r.status == "resolved" and 0 < r.mass_steps <= N * C and np.isfinite(r.probe_error)
    capped = _block_problem(probes=6, deflated=0, rank=3)[3].resolution
    assert capped.status == "unresolved" and "rank 3" in capped.reason


@pytest.mark.parametrize("kwargs, match", [
    ({"blocks": True}, "spectrum='lanczos'"),
    ({"blocks": True, "spectrum": "lanczos", "probe": 3}, "probe"),
    ({"blocks": "yes", "spectrum": "lanczos"}, "blocks"),
])
def test_bad_block_options_are_one_line_naming_the_parameter(kwargs, match):
    net, (X, Y) = _mlp(), _data()
    with pytest.raises(InputError, match=match):
        linearised(net, X, Y, **kwargs)
