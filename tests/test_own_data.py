"""Claims about your own problem: data files on the CLI, float32 arrays, multi-output labels Y (N, C)."""

import json

import numpy as np
import pytest

import sgdlab
from sgdlab import linear
from sgdlab.data import load, linear_features, mse_mean_to_sgdlab, ntk_relu, sgdlab_loss_to_mse_mean
from sgdlab.montecarlo import agreement

EPS32 = float(np.finfo(np.float32).eps)
#: the CLI and the API build equal problems from equal arrays; SIMD sums may round differently by alignment
SAME = 1e-12


def _same(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= SAME * np.abs(b)))


def _data(N=40, d=5, C=3, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((N, d)) * np.linspace(1.0, 0.4, d)).astype(np.float32)
    Y = X @ rng.standard_normal((d, C)) + 0.3 * rng.standard_normal((N, C))
    return X, Y


# ----------------------------------------------------------------- float32
@pytest.fixture(scope="module")
def digits32():
    X, labels = load("digits")
    X, labels = X[:400], labels[:400]
    y = np.where(labels < 5, 1.0, -1.0)
    F = linear_features(X)
    return F, F.astype(np.float32), y - y.mean()


def test_a_float32_gram_matrix_of_digits_is_a_kernel_and_gives_the_float64_spectrum(digits32):
    F, F32, y = digits32
    G32 = F32 @ F32.T                                       # what torch or JAX would hand over
    mu = np.linalg.eigvalsh(G32.astype(np.float64))
    assert mu.min() < -1e-8 * mu.max()                       # float32 rounding: below the float64 PSD tolerance
    p32 = sgdlab.Problem.from_kernel(G32, y)
    p64 = sgdlab.Problem.from_features(F, y)
    assert p32.dim == p64.dim                                # the rounding modes are cut, the real ones kept
    N = F.shape[0]
    scale = N * EPS32 * p64.eigenvalues[0]                   # rounding of a float32 Gram matrix, in λ units
    assert np.max(np.abs(p32.eigenvalues - p64.eigenvalues)) < scale
    sgd = sgdlab.SGD(lr=0.5, batch=8, sampling="without")
    a, b = (sgdlab.predict(p, sgd, 300, model="se").loss for p in (p32, p64))
    assert np.max(np.abs(a - b) / b) < N * EPS32


@pytest.fixture(scope="module")
def float32_kernel():
    """A 600 x 600 PSD kernel with eigenvalues 1 .. 1e-9 (log-spaced), stored in float32, and what storage did to it."""
    n = 600
    U = np.linalg.qr(np.random.default_rng(1).standard_normal((n, n)))[0]
    mu = np.logspace(0.0, -9.0, n)
    K = (U * mu) @ U.T
    K = 0.5 * (K + K.T)
    K32 = K.astype(np.float32)
    return mu, K32, float(np.linalg.norm(K32.astype(np.float64) - K, 2))


def test_a_float32_kernel_keeps_every_mode_above_its_rounding_and_only_true_ones(float32_kernel):
    """Weyl: storage moves each eigenvalue by at most ‖δK‖₂, so every mode above 10‖δK‖₂ is real, and kept, within ‖δK‖₂."""
    mu, K32, err = float32_kernel
    n = mu.size
    real = int(np.sum(mu > 10 * err))
    assert real > int(np.sum(mu > n * EPS32)) + 100          # the worst-case cut N eps max|K| dropped them
    p = sgdlab.Problem.from_kernel(K32, np.random.default_rng(2).standard_normal(n))
    kept = np.sort(p.eigenvalues * n)[::-1]
    assert kept.size >= real and np.all(kept > 0)
    assert np.max(np.abs(kept - mu[:kept.size])) <= err            # every kept mode is a true one (Weyl)


def test_a_float32_ntk_keeps_every_block_mode_above_its_rounding(float32_kernel):
    from sgdlab.nn.blocks import block_features
    mu, K32, err = float32_kernel
    N, C = mu.size // 2, 2
    Z, lam, _, _ = block_features(K32.reshape(N, C, N, C), np.random.default_rng(3).standard_normal((N, C)))
    real = int(np.sum(mu > 10 * err))
    kept = lam * N
    assert kept.size >= real and np.all(kept > 0)
    assert np.max(np.abs(kept - mu[:kept.size])) <= err


def test_an_indefinite_theta_is_a_one_line_error_naming_theta():
    from sgdlab.nn.blocks import block_features
    with pytest.raises(sgdlab.InputError, match=r"theta is not positive semidefinite"):
        block_features(np.diag([1.0, 0.5, -0.6, 0.2]).reshape(2, 2, 2, 2), np.ones((2, 2)))


def test_symmetry_and_psd_tolerances_follow_the_dtype():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((60, 20))
    K = A @ A.T
    K_rounded = K * (1.0 + EPS32 * rng.uniform(-1, 1, K.shape))      # asymmetric by float32 rounding only
    y = rng.standard_normal(60)
    with pytest.raises(sgdlab.InputError, match="not symmetric"):
        sgdlab.Problem.from_kernel(K_rounded, y)                      # float64: this is a defect
    p = sgdlab.Problem.from_kernel(K_rounded.astype(np.float32), y)   # float32: this is rounding
    assert p.dim == 20
    mu, U = np.linalg.eigh(K)
    indefinite = (K - 2 * mu[-1] * np.outer(U[:, -1], U[:, -1])).astype(np.float32)   # eigenvalue -μ_max
    with pytest.raises(sgdlab.InputError, match="not positive semidefinite"):
        sgdlab.Problem.from_kernel(indefinite, y)                     # a real defect stays one in float32


def test_float32_features_and_the_ntk_of_digits_in_float32(digits32):
    F, F32, y = digits32
    p = sgdlab.Problem.from_features(F32, y)
    assert p.features.dtype == np.float64 and p.n_samples == F.shape[0]
    X, _ = load("digits")
    K32 = ntk_relu(X[:300]).astype(np.float32)
    assert sgdlab.Problem.from_kernel(K32, y[:300]).n_samples == 300


# ----------------------------------------------------------------- multi-output
@pytest.fixture(scope="module")
def multi():
    X, Y = _data(N=60, d=8, C=3)
    return sgdlab.Problem.from_features(X, Y), [sgdlab.Problem.from_features(X, Y[:, c]) for c in range(3)]


@pytest.mark.parametrize("model", ["gaussian", "se", "homogenised", "exact"])
def test_multi_output_prediction_is_the_sum_of_the_single_output_predictions(multi, model):
    p, cols = multi
    sgd = sgdlab.SGD(lr=0.3, momentum=0.5, batch=4, sampling="without")
    total = sgdlab.predict(p, sgd, 200, model=model).loss
    parts = sum(sgdlab.predict(q, sgd, 200, model=model).loss for q in cols)
    assert np.max(np.abs(total - parts) / parts) < 1e-12


def test_multi_output_kernel_problem_and_population_problem_sum_over_outputs():
    X, Y = _data(N=30, d=6, C=2)
    K = X.astype(np.float64) @ X.T.astype(np.float64)
    sgd = sgdlab.SGD(lr=0.2, batch=3, sampling="without")
    total = sgdlab.predict(sgdlab.Problem.from_kernel(K, Y), sgd, 100).loss
    parts = sum(sgdlab.predict(sgdlab.Problem.from_kernel(K, Y[:, c]), sgd, 100).loss for c in range(2))
    assert np.max(np.abs(total - parts) / parts) < 1e-12
    q = sgdlab.Problem.power_law(dim=50, noise_variance=0.1)
    W = np.column_stack([q.target, -0.5 * q.target])
    pop = sgdlab.Problem.from_eigenvalues(q.eigenvalues, W, noise_variance=0.1)
    total = sgdlab.predict(pop, sgdlab.SGD(lr=0.3, batch=2), 100).loss
    parts = sum(sgdlab.predict(pop.output(c), sgdlab.SGD(lr=0.3, batch=2), 100).loss for c in range(2))
    assert pop.summary()["n_outputs"] == 2 and np.max(np.abs(total - parts) / parts) < 1e-12


def test_every_analysis_reads_the_summed_moments_only(multi):
    p, _ = multi
    same = sgdlab.Problem(p.eigenvalues, np.sqrt(p.initial_moments), p.noise_variance,
                          features=p.features, labels=p.features @ np.sqrt(p.initial_moments))
    assert same.n_outputs == 1 and np.allclose(same.initial_moments, p.initial_moments, rtol=1e-15)
    for model in ("se", "exact"):
        assert linear.critical_lr(p, 0.5, 4, model=model) == linear.critical_lr(same, 0.5, 4, model=model)
    betas = np.linspace(-0.5, 0.9, 4)
    assert np.array_equal(linear.stability_region(p, betas, 4, n_lr=8, model="se").critical_lr,
                          linear.stability_region(same, betas, 4, n_lr=8, model="se").critical_lr)
    a, b = (linear.optimal_momentum(q, 0.2, 4, 200, model="se", grid=9) for q in (p, same))
    assert (a.lr, a.momentum) == (b.lr, b.momentum) and abs(a.loss - b.loss) <= 1e-12 * b.loss
    ca, cb = (linear.budget_curves(q, 0.02, [1, 4], 200, model="se") for q in (p, same))
    assert all(abs(ca[k].final_loss - cb[k].final_loss) <= 1e-12 * cb[k].final_loss for k in (1, 4))
    pl = sgdlab.Problem.power_law(dim=300)
    two = sgdlab.Problem(pl.eigenvalues, np.column_stack([pl.target, 0.5 * pl.target]))
    ph1, ph2 = (linear.phase(q, sgd=sgdlab.SGD(lr=0.1)) for q in (pl, two))
    assert ph1.exponent == pytest.approx(ph2.exponent, rel=1e-12)
    assert ph2.constant == pytest.approx(1.25 * ph1.constant, rel=1e-9)     # Σ_c (w*_c)² = (1 + 1/4) (w*)²
    sgd = sgdlab.SGD(lr=0.2, batch=2, sampling="replacement")
    va = sgdlab.volterra.predict_curve(p, sgd, 100).loss
    vb = sum(sgdlab.volterra.predict_curve(p.output(c), sgd, 100).loss for c in range(3))
    assert np.max(np.abs(va - vb) / vb) < 1e-12


def test_multi_output_sgd_runs_a_weight_matrix_on_shared_batches(multi):
    """The numpy backend's run equals SGD with a d x C matrix W driven by the backend's stream, written out here."""
    p, _ = multi
    sgd = sgdlab.SGD(lr=0.2, momentum=0.3, batch=4, sampling="without")
    rec = np.arange(0, 31, 5)
    sim = linear.simulate(p, sgd, 30, seeds=3, seed=7, backend="numpy", record=rec)
    rng = np.random.default_rng(7)
    Z, Y, lam, W_star = p.features, p.labels, p.eigenvalues, p.target
    N, d = Z.shape
    per_seed = []
    for c in range(p.n_outputs):            # the same stream for every output: the batches are shared
        rng = np.random.default_rng(7)
        [rng.permutation(N) for _ in range(3)]
        w, v, out = np.zeros((3, d)), np.zeros((3, d)), []
        for t in range(31):
            if t in rec:
                out.append(0.5 * (np.sum(lam * (w - W_star[:, c]) ** 2, axis=1) + p.output(c).noise_variance))
            idx = np.argsort(rng.random((3, N)), axis=1)[:, :4]
            Xb = Z[idx]
            g = np.einsum("sbd,sb->sd", Xb, np.einsum("sbd,sd->sb", Xb, w) - Y[idx, c]) / 4
            v = 0.3 * v - 0.2 * g
            w = w + v
        per_seed.append(np.array(out).T)
    # one stream drives all columns alike: this is the matrix update W <- W + V with shared X_B
    assert np.allclose(sim.loss, np.mean(sum(per_seed), axis=0), rtol=1e-12)


def test_multi_output_simulation_agrees_with_the_exact_model(multi):
    p, _ = multi
    sgd = sgdlab.SGD(lr=0.3, momentum=0.5, batch=4, sampling="without")
    theory = sgdlab.predict(p, sgd, 300, model="exact")
    sim = linear.simulate(p, sgd, 300, seeds=200, seed=1)
    assert agreement(theory, sim).status == "agrees"
    runs = sgdlab.volterra.run_sgd(p, sgdlab.SGD(lr=0.3, batch=4, sampling="without"), 300, seeds=200, seed=1)
    theory0 = sgdlab.predict(p, sgdlab.SGD(lr=0.3, batch=4, sampling="without"), 300, model="exact")
    assert agreement(theory0, runs.curve()).status == "agrees"


def test_torch_mse_mean_converter_matches_a_finite_difference_gradient():
    """SGD at lr η on MSELoss(mean) over a (b, C) output = SGD at 2η/C on sgdlab's summed loss."""
    rng = np.random.default_rng(0)
    b, d, C = 5, 3, 4
    X, Y, W = rng.standard_normal((b, d)), rng.standard_normal((b, C)), rng.standard_normal((d, C))
    mse_mean = lambda W: np.mean((X @ W - Y) ** 2)                        # noqa: E731  torch's reduction="mean"
    sgdlab_loss = lambda W: 0.5 * np.sum((X @ W - Y) ** 2) / b            # noqa: E731  (1/2b) Σ_i ||Wᵀx_i - y_i||²
    h = 1e-6
    grad = np.zeros_like(W)
    for idx in np.ndindex(*W.shape):
        E = np.zeros_like(W)
        E[idx] = h
        grad[idx] = (mse_mean(W + E) - mse_mean(W - E)) / (2 * h)
    eta = 0.05
    step_torch = W - eta * grad
    step_sgdlab = W - mse_mean_to_sgdlab(eta, C) * (X.T @ (X @ W - Y) / b)   # sgdlab's gradient, exact
    assert np.max(np.abs(step_torch - step_sgdlab)) < 1e-8
    assert sgdlab_loss_to_mse_mean(sgdlab_loss(W), C) == pytest.approx(mse_mean(W), rel=1e-12)


# ----------------------------------------------------------------- own data on the CLI
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own")
    X, Y = _data(N=40, d=5, C=3, seed=2)
    K = (X @ X.T).astype(np.float32)
    paths = {k: folder / f"{k}.npy" for k in ("X", "Y", "K", "y")}
    np.save(paths["X"], X)
    np.save(paths["Y"], Y)
    np.save(paths["K"], K)
    np.save(paths["y"], Y[:, 0])
    return {"paths": paths, "X": X, "Y": Y, "K": K, "y": Y[:, 0], "folder": folder}


SOURCES = {"data": lambda f: (["--data", str(f["paths"]["X"]), "--labels", str(f["paths"]["Y"])],
                              sgdlab.Problem.from_features(f["X"], f["Y"])),
           "kernel": lambda f: (["--kernel", str(f["paths"]["K"]), "--labels", str(f["paths"]["y"])],
                                sgdlab.Problem.from_kernel(f["K"], f["y"]))}
SGD_ARGS = ["--lr", "0.2", "--momentum", "0.3", "--batch", "4", "--steps", "100"]


def _sgd():
    return sgdlab.SGD(lr=0.2, momentum=0.3, batch=4, sampling="without")


def _ok(r):
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("source", SOURCES)
def test_cli_predict_and_simulate_on_files_give_the_api_numbers(run, files, source):
    args, p = SOURCES[source](files)
    doc = _ok(run("predict", *args, *SGD_ARGS, "--json"))
    assert _same(doc["curve"]["loss"], sgdlab.predict(p, _sgd(), 100, model="se").loss)
    doc = _ok(run("predict", *args, *SGD_ARGS, "--model", "exact", "--json"))
    assert _same(doc["curve"]["loss"], sgdlab.predict(p, _sgd(), 100, model="exact").loss)
    doc = _ok(run("simulate", *args, *SGD_ARGS, "--seeds", "20", "--json"))
    assert _same(doc["curve"]["loss"], linear.simulate(p, _sgd(), 100, seeds=20, seed=0).loss)


@pytest.mark.parametrize("source", SOURCES)
def test_cli_compare_stability_tune_budget_on_files_give_the_api_numbers(run, files, source, tmp_path):
    args, p = SOURCES[source](files)
    doc = _ok(run("compare", *args, *SGD_ARGS, "--seeds", "20", "--out", str(tmp_path / "c"), "--json"))
    assert _same(doc["theory"]["final_loss"], sgdlab.predict(p, _sgd(), 100, model="se").final_loss)
    assert _same(doc["simulation"]["final_loss"], linear.simulate(p, _sgd(), 100, seeds=20).final_loss)
    doc = _ok(run("stability", *args, "--batch", "4", "--grid", "5", "--json"))
    smap = linear.stability_region(p, np.linspace(-0.9, 0.99, 5), 4, n_lr=5, span=1.2, model="se")
    assert _same(doc["critical_lr"], smap.critical_lr)
    doc = _ok(run("tune", *args, "--lr", "0.2", "--batch", "4", "--steps", "100", "--grid", "5", "--json"))
    adv = sgdlab.advise(p, 100, "steps", [4], np.linspace(-0.9, 0.99, 5), [0.2], fractions=np.geomspace(1e-3, 0.99, 5),
                        model="se", sampling="without")
    assert _same([doc["lr"], doc["loss"]], [adv.lr, adv.curve.final_loss])
    assert abs(doc["momentum"] - adv.momentum) <= SAME ** 0.5     # a minimum's place: to sqrt of the loss's rounding
    doc = _ok(run("budget", *args, "--batches", "1,4", "--samples", "400", "--json"))
    lr1 = 0.02 * linear.critical_lr(p, 0.0, 1, model="se")
    curves = linear.budget_curves(p, lr1, [1, 4], 400, model="se")
    assert _same(doc["lr1"], lr1)
    assert _same([doc["final_loss"][str(b)] for b in (1, 4)], [curves[b].final_loss for b in (1, 4)])


def test_cli_reads_npz_and_csv_with_header_and_keeps_n(run, files):
    f = files["folder"]
    np.savez(f / "mine.npz", X=files["X"], Y=files["Y"])
    np.savetxt(f / "mine.csv", np.column_stack([files["X"], files["y"]]), delimiter=",",
               header="a,b,c,d,e,label", comments="")
    p_multi = sgdlab.Problem.from_features(files["X"], files["Y"])
    p_csv = sgdlab.Problem.from_features(np.loadtxt(f / "mine.csv", delimiter=",", skiprows=1)[:, :5], files["y"])
    doc = _ok(run("predict", "--data", str(f / "mine.npz"), *SGD_ARGS, "--json"))
    assert _same(doc["curve"]["loss"], sgdlab.predict(p_multi, _sgd(), 100, model="se").loss)
    for column in ("label", "-1"):
        doc = _ok(run("predict", "--data", str(f / "mine.csv"), "--label-column", column, *SGD_ARGS, "--json"))
        assert _same(doc["curve"]["loss"], sgdlab.predict(p_csv, _sgd(), 100, model="se").loss)
    prob = sgdlab.data.problem_from_files(f / "mine.npz", features="rf", width=64)
    assert prob.n_samples == 40 and prob.n_outputs == 3 and prob.dim <= 40


def test_bad_files_give_one_line_and_exit_2(run, files):
    f, P = files["folder"], files["paths"]
    np.save(f / "nan.npy", np.where(np.eye(40, 5) > 0, np.nan, 1.0))
    np.save(f / "short.npy", files["y"][:-1])
    np.savez(f / "nokeys.npz", A=files["X"], B=files["y"])
    (f / "bad.csv").write_text("a,b\n1,2\n3,x\n")
    (f / "garbage.npy").write_bytes(b"not an npy file")
    cases = {
        "file not found": ["--data", str(f / "missing.npy"), "--labels", str(P["y"])],
        "contains NaN": ["--data", str(f / "nan.npy"), "--labels", str(P["y"])],
        "has 39 rows but data": ["--data", str(P["X"]), "--labels", str(f / "short.npy")],
        "holds A, B: expected X": ["--data", str(f / "nokeys.npz")],
        "'x' is not a real number": ["--data", str(f / "bad.csv"), "--label-column", "0"],
        "could not read numbers": ["--data", str(f / "garbage.npy"), "--labels", str(P["y"])],
        "is a folder": ["--data", str(f), "--labels", str(P["y"])],
        "N x N": ["--kernel", str(P["X"]), "--labels", str(P["y"])],
        "carries no labels": ["--data", str(P["X"])],
        "not both": ["--data", str(P["X"]), "--kernel", str(P["K"]), "--labels", str(P["y"])],
        "--labels is for your own": ["--data", "digits", "--labels", str(P["y"])],
    }
    for expected, args in cases.items():
        r = run("predict", *args)
        assert r.returncode == 2, (expected, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0], (expected, r.stderr)


def test_volterra_cli_on_files_gives_the_api_curve(run, files):
    args, p = SOURCES["data"](files)
    doc = _ok(run("volterra", *args, "--passes", "1", "--json"))
    sgd = sgdlab.SGD(lr=doc["lr"], batch=1, sampling="replacement")
    assert doc["problem"]["n_outputs"] == 3 and doc["n"] == 40
    assert _same(doc["curve"]["loss"], sgdlab.volterra.predict_curve(p, sgd, doc["steps"]).loss)


def test_online_multi_output_simulation_agrees_with_the_gaussian_model():
    q = sgdlab.Problem.power_law(dim=30, noise_variance=0.1)
    pop = sgdlab.Problem.from_eigenvalues(q.eigenvalues, np.column_stack([q.target, -0.5 * q.target]),
                                          noise_variance=0.1)
    sgd = sgdlab.SGD(lr=0.4, momentum=0.2, batch=2)
    theory = sgdlab.predict(pop, sgd, 200, model="gaussian")
    assert agreement(theory, linear.simulate(pop, sgd, 200, seeds=200, seed=3)).status == "agrees"
