"""Claims about matrix-free spectra (sgdlab.spectra, Problem(..., spectrum="lanczos")) and multiplicities."""

import numpy as np
import pytest

import sgdlab
from sgdlab import InputError
from sgdlab.linear.noise import fit_tau
from sgdlab.spectra import fit_tau_deflated

RNG = np.random.default_rng(3)


def _data(N=150, d=30, noise=0.3):
    X = RNG.normal(size=(N, d)) * np.linspace(1.0, 0.1, d)
    return X, X @ RNG.normal(size=d) + noise * RNG.normal(size=N)


X, Y = _data()
EXACT = dict(probes="basis", deflated=0, tol=1e-14, rank=1000)     # full rank: every Krylov space invariant
CASES = [("gaussian", 0.0, 1), ("gaussian", 0.9, 4), ("se", 0.5, 2)]


def _rel(a, b):
    return float(np.max(np.abs(a / b - 1.0)))


@pytest.fixture(scope="module")
def dense_and_full():
    return sgdlab.Problem.from_features(X, Y), sgdlab.Problem.from_features(X, Y, spectrum="lanczos", **EXACT)


@pytest.mark.parametrize("noise,momentum,batch", CASES)
def test_a_full_rank_lanczos_problem_predicts_the_dense_curve_and_critical_lr(dense_and_full, noise, momentum, batch):
    dense, full = dense_and_full
    crit = sgdlab.critical_lr(dense, momentum, batch, noise=noise, tau=0.3)
    sgd = sgdlab.SGD(lr=0.7 * crit, momentum=momentum, batch=batch, sampling="without")
    a = sgdlab.predict(dense, sgd, 2000, noise=noise, tau=0.3)
    b = sgdlab.predict(full, sgd, 2000, noise=noise, tau=0.3)
    assert _rel(b.loss, a.loss) < 1e-10
    assert abs(sgdlab.critical_lr(full, momentum, batch, noise=noise, tau=0.3) / crit - 1) < 1e-10
    assert full.n_samples == dense.n_samples and full.resolution.status == "resolved"


def test_a_full_rank_kernel_problem_from_an_array_and_from_a_matvec_agree_with_the_dense_one():
    K = X @ X.T
    dense = sgdlab.Problem.from_kernel(K, Y)
    arr = sgdlab.Problem.from_kernel(K, Y, spectrum="lanczos", **EXACT)
    fun = sgdlab.Problem.from_kernel(lambda u: K @ u, Y, n=len(Y), **EXACT)
    sgd = sgdlab.SGD(lr=0.5 * sgdlab.critical_lr(dense, 0.5, 2), momentum=0.5, batch=2)
    ref = sgdlab.predict(dense, sgd, 1000, noise="gaussian").loss
    for p in (arr, fun):
        assert _rel(sgdlab.predict(p, sgd, 1000, noise="gaussian").loss, ref) < 1e-10


def test_the_deflated_tau_over_every_eigenpair_is_the_dense_fit():
    p = sgdlab.Problem.from_features(X, Y)
    U = p.features / np.sqrt(p.n_samples * p.eigenvalues)         # unit eigenvectors of X Xᵀ/N
    tau, share = fit_tau_deflated(p.eigenvalues, U, p.n_samples, float(np.sum(p.eigenvalues**2)))
    assert abs(tau - fit_tau(p.features, p.eigenvalues)) < 1e-12 and share == 0.0


def test_the_matrix_free_tau_is_off_by_at_most_the_bulk_share_times_the_spread_of_per_mode_taus():
    p = sgdlab.Problem.from_features(X, Y)
    q = sgdlab.Problem.from_features(X, Y, spectrum="lanczos", deflated=10, probes="basis", tol=1e-12)
    per_mode = 2.0 - np.mean(p.features**4, axis=0) / p.eigenvalues**2
    spread = float(np.max(np.abs(q.resolution.tau - per_mode)))
    assert abs(q.resolution.tau - fit_tau(p.features, p.eigenvalues)) <= q.resolution.tau_bulk_share * spread * (1 + 1e-9)


def test_a_node_of_multiplicity_two_is_two_copies_of_its_mode():
    lam, w = np.array([1.0, 0.5, 0.2]), np.array([1.0, 0.7, 0.3])
    copies = sgdlab.Problem.from_eigenvalues(np.r_[lam, lam[1]], np.r_[w, w[1]], noise_variance=0.1)
    merged = sgdlab.Problem(lam, w * np.sqrt([1.0, 2.0, 1.0]), 0.1, multiplicity=[1.0, 2.0, 1.0])
    for momentum, batch in ((0.0, 1), (0.8, 3)):
        crit = sgdlab.critical_lr(copies, momentum, batch)
        assert abs(sgdlab.critical_lr(merged, momentum, batch) / crit - 1) < 1e-12
        for method in ("recursion", "reference", "blocks"):
            sgd = sgdlab.SGD(lr=0.8 * crit, momentum=momentum, batch=batch)
            a = sgdlab.predict(copies, sgd, 3000, method=method).loss
            assert _rel(sgdlab.predict(merged, sgd, 3000, method=method).loss, a) < 1e-11
    lrs, moms = np.linspace(0.1, 2.0, 7), [-0.5, 0.0, 0.9]
    a, b = sgdlab.stability_map(copies, lrs, moms, 2), sgdlab.stability_map(merged, lrs, moms, 2)
    assert np.array_equal(a.stable, b.stable)
    fin = np.isfinite(a.noise_mass)
    assert np.array_equal(fin, np.isfinite(b.noise_mass)) and _rel(b.noise_mass[fin], a.noise_mass[fin]) < 1e-12


def test_multiplicity_one_everywhere_is_the_eigendecomposition():
    p = sgdlab.Problem.power_law(dim=200)
    q = sgdlab.Problem(p.eigenvalues, p.target, multiplicity=np.ones(p.dim))
    sgd = sgdlab.SGD(lr=0.8 * sgdlab.critical_lr(p, 0.5, 4), momentum=0.5, batch=4)
    assert _rel(sgdlab.predict(q, sgd, 5000).loss, sgdlab.predict(p, sgd, 5000).loss) < 1e-13


def test_a_low_rank_lanczos_problem_agrees_within_the_error_its_resolution_report_states():
    from sgdlab.data import relu_features
    F = relu_features(RNG.normal(size=(600, 20)), 400, 1)
    y = F @ RNG.normal(size=400) / 20 + 0.1 * RNG.normal(size=600)
    dense = sgdlab.Problem.from_features(F, y)
    low = sgdlab.Problem.from_features(F, y, spectrum="lanczos", rank=60, tol=1e-6, probes=32, deflated=16)
    r = low.resolution
    assert r.mass_steps <= 60 and r.trace_steps <= 60 and r.deflated == 16
    stated = 4 * r.probe_error + r.mass_error + r.trace_error          # four standard errors + the Lanczos change
    crit = sgdlab.critical_lr(dense, 0.0, 1, noise="gaussian")
    assert abs(sgdlab.critical_lr(low, 0.0, 1, noise="gaussian") / crit - 1) <= stated
    sgd = sgdlab.SGD(lr=0.5 * crit, batch=1)
    assert _rel(sgdlab.predict(low, sgd, 3000, noise="gaussian").loss,
                sgdlab.predict(dense, sgd, 3000, noise="gaussian").loss) <= 2 * stated


def test_x_may_be_a_linear_operator():
    from scipy.sparse.linalg import aslinearoperator
    a = sgdlab.Problem.from_features(aslinearoperator(X), Y, spectrum="lanczos", **EXACT)
    b = sgdlab.Problem.from_features(X, Y, spectrum="lanczos", **EXACT)
    sgd = sgdlab.SGD(lr=0.1, batch=2)
    assert a.resolution.trace_exact is None
    assert _rel(sgdlab.predict(a, sgd, 500, noise="gaussian").loss, sgdlab.predict(b, sgd, 500, noise="gaussian").loss) < 1e-10


@pytest.mark.parametrize("kwargs,word", [
    (dict(rank=0), "rank"), (dict(tol=0.0), "tol"), (dict(probes=0), "probes"), (dict(deflated=-1), "deflated"),
    (dict(depth=3), "depth"),
])
def test_bad_lanczos_options_are_refused_naming_the_option(kwargs, word):
    with pytest.raises(InputError, match=word):
        sgdlab.Problem.from_features(X, Y, spectrum="lanczos", **kwargs)


def test_bad_input_is_refused_with_one_line():
    with pytest.raises(InputError, match="multiplicity has negative"):
        sgdlab.Problem([1.0, 2.0], [1.0, 1.0], multiplicity=[1.0, -1.0])
    with pytest.raises(InputError, match="multiplicity has shape"):
        sgdlab.Problem([1.0, 2.0], [1.0, 1.0], multiplicity=[1.0])
    with pytest.raises(InputError, match="multiplicity contains NaN"):
        sgdlab.Problem([1.0, 2.0], [1.0, 1.0], multiplicity=[1.0, np.nan])
    with pytest.raises(InputError, match="spectrum must be"):
        sgdlab.Problem.from_features(X, Y, spectrum="slq")
    with pytest.raises(InputError, match="applies to spectrum='lanczos'"):
        sgdlab.Problem.from_features(X, Y, rank=10)
    with pytest.raises(InputError, match="give n="):
        sgdlab.Problem.from_kernel(lambda u: u, Y)
    with pytest.raises(InputError, match="rows but y has"):
        sgdlab.Problem.from_features(X, Y[:-1], spectrum="lanczos")


def test_the_exact_model_and_the_eigenbasis_packages_refuse_a_spectral_measure_and_say_what_to_build():
    """(sgdlab.simulate runs SGD on a measure's own data: tests/test_data_sgd.py.)"""
    p = sgdlab.Problem.from_features(X, Y, spectrum="lanczos", rank=10)
    sgd = sgdlab.SGD(lr=0.1, batch=2, sampling="without")
    for call in (lambda: sgdlab.predict_exact(p, sgd, 10),
                 lambda: sgdlab.critical_lr(p, 0.0, 2, noise="exact"),
                 lambda: sgdlab.predict_volterra(p, sgd, 10), lambda: sgdlab.volterra.run_sgd(p, sgd, 10),
                 lambda: sgdlab.volterra.conditioning(p)):
        with pytest.raises(InputError, match="Problem.from_features"):
            call()


def test_the_cli_builds_a_lanczos_problem_from_your_files_with_the_api_numbers(tmp_path, run):
    import json
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    r = run("predict", "--data", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "Y.npy"), "--spectrum-method",
            "lanczos", "--rank", "40", "--lr", "0.05", "--momentum", "0.5", "--batch", "4", "--steps", "200", "--json")
    assert r.returncode == 0, r.stderr
    p = sgdlab.Problem.from_features(X, Y, spectrum="lanczos", rank=40)
    c = sgdlab.predict(p, sgdlab.SGD(lr=0.05, momentum=0.5, batch=4, sampling="without"), 200)
    got = json.loads(r.stdout)
    np.testing.assert_allclose(got["final_loss"], c.loss[-1], rtol=1e-12)
    for args, word in ((["--rank", "40"], "--rank"), (["--spectrum-method", "qr"], "--spectrum-method")):
        bad = run("predict", "--data", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "Y.npy"), *args)
        assert bad.returncode == 2 and word in bad.stderr and bad.stderr.count("\n") == 1, bad.stderr
    builtin = run("predict", "--data", "digits", "--spectrum-method", "lanczos")
    assert builtin.returncode == 2 and "your own --data FILE" in builtin.stderr
