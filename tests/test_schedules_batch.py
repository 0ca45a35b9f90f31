"""Claims about batch-size schedules: b_t enters the noise pair (c_c,t, c_d,t), the exact model's γ_{b_t}, every
simulation twin, the stability along the schedule and the samples a budget counts."""

import json

import numpy as np
import pytest

import sgdlab
from sgdlab import schedules as S
from sgdlab.linear._blocks import AUTO_RTOL
from sgdlab.linear.budget import samples_processed, steps_for_samples
from sgdlab.linear.noise import batch_factor
from sgdlab.linear.simulate import seed_losses
from sgdlab.montecarlo import agreement

BATCHES = S.piecewise([40, 100], [4, 16, 64])


def reference_loss(lam, w_star, sigma2, alpha, beta, c_c, c_d, steps):
    """The moment recursion of docs/theory/generating-functions.md §2.3 with c_c,t, c_d,t per step, in plain numpy."""
    A, C, D = np.asarray(w_star, float) ** 2, np.zeros(len(lam)), np.zeros(len(lam))
    a = alpha * lam
    loss = [0.5 * (lam @ A + sigma2)]
    for t in range(steps):
        n = alpha**2 * (c_c[t] * lam * (lam @ A + sigma2) + c_d[t] * lam**2 * A)
        A, C, D = ((1 - a) ** 2 * A + 2 * beta * (1 - a) * C + beta**2 * D + n,
                   -a * (1 - a) * A + beta * (1 - 2 * a) * C + beta**2 * D + n,
                   a**2 * A - 2 * a * beta * C + beta**2 * D + n)
        loss.append(0.5 * (lam @ A + sigma2))
    return np.array(loss)


@pytest.mark.parametrize("noise", ["gaussian", "se"])
def test_a_batch_schedule_prediction_equals_an_independent_recursion_with_the_noise_pair_of_b_t(noise):
    p = sgdlab.Problem.power_law(dim=80, nu=1.5, kappa=1.0, noise_variance=0.05)
    T = 200
    b = BATCHES.values(np.arange(T)).astype(int)
    sampling = "online" if noise == "gaussian" else "without"
    c = sgdlab.predict(p, sgdlab.SGD(lr=0.3, momentum=0.5, batch=BATCHES, sampling=sampling), T, noise=noise,
                       record=np.arange(T + 1))
    if noise == "gaussian":
        c_c = c_d = 1.0 / b
    else:                                   # SE(τ = 1) on a bare spectrum: N is the number of modes
        c_c = np.array([batch_factor(int(x), p.dim, "without") for x in b])
        c_d = -c_c
    assert c.meta["method"] == "scheduled-recursion" and c.meta["batches"] == [4, 16, 64]
    np.testing.assert_allclose(c.loss, reference_loss(p.eigenvalues, p.target, 0.05, 0.3, 0.5, c_c, c_d, T),
                               rtol=1e-10)


def test_a_constant_batch_schedule_gives_the_integer_batch_numbers_bit_for_bit():
    p = sgdlab.Problem.power_law(dim=60)
    as_int = sgdlab.SGD(lr=0.3, momentum=0.5, batch=8)
    as_sched = as_int.replace(batch=S.piecewise([50], [8, 8]))
    assert np.array_equal(sgdlab.predict(p, as_sched, 300).loss, sgdlab.predict(p, as_int, 300).loss)
    for backend in ("numba", "numpy"):
        a = sgdlab.simulate(p, as_sched, 100, seeds=4, seed=3, backend=backend)
        b = sgdlab.simulate(p, as_int, 100, seeds=4, seed=3, backend=backend)
        assert np.array_equal(a.loss, b.loss), backend


def _within_4_standard_errors(theory, sim):
    a = agreement(theory, sim)
    assert a.status == "agrees", a.reason
    assert np.all(np.abs(a.z[a.trusted]) <= 4.0), a.reason


@pytest.mark.parametrize("backend, draw, seeds", [("numba", "samples", 1000), ("numba", "gradient", 1000),
                                                  ("numpy", "samples", 400)])
def test_online_sgd_with_a_batch_schedule_agrees_with_the_prediction_at_every_checkpoint(backend, draw, seeds):
    p = sgdlab.Problem.power_law(dim=40, nu=1.5, kappa=1.0, noise_variance=0.05)
    s = sgdlab.SGD(lr=0.2, momentum=0.5, batch=BATCHES)
    _within_4_standard_errors(sgdlab.predict(p, s, 200),
                              sgdlab.simulate(p, s, 200, seeds=seeds, seed=1, backend=backend, draw=draw))


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 6)) * np.linspace(1.0, 0.3, 6)
    return sgdlab.Problem.from_features(X, X @ rng.normal(size=6) + 0.2 * rng.normal(size=60))


def test_the_exact_model_with_a_batch_schedule_agrees_with_sgd_on_a_tiny_data_set(tiny_data):
    s = sgdlab.SGD(lr=0.15, momentum=0.5, batch=S.piecewise([30, 80], [2, 8, 30]), sampling="without")
    _within_4_standard_errors(sgdlab.predict_exact(tiny_data, s, 150),
                              sgdlab.simulate(tiny_data, s, 150, seeds=1000, seed=2))


def test_the_exact_recursion_reads_gamma_of_b_t_per_step(tiny_data):
    """Up to the first change of b_t the curve is the constant-batch curve; a full batch after it is noiseless.

    Stepped (``method="recursion"``), the two runs do the same operations up to step 30, so the numbers are
    equal bit for bit; by powers they agree to rounding (the checkpoints share GEMMs of different widths)."""
    s = sgdlab.SGD(lr=0.15, momentum=0.0, batch=S.piecewise([30], [4, 60]), sampling="without")
    for method in ("recursion", "powers"):
        sched = sgdlab.predict_exact(tiny_data, s, 60, record=np.arange(61), method=method)
        const = sgdlab.predict_exact(tiny_data, s.replace(batch=4), 60, record=np.arange(61), method=method)
        if method == "recursion":
            assert np.array_equal(sched.loss[:31], const.loss[:31])
        else:
            np.testing.assert_allclose(sched.loss[:31], const.loss[:31], rtol=64 * np.finfo(float).eps)
    full = sgdlab.predict_exact(tiny_data, s.replace(batch=60), 60, record=np.arange(61))
    # γ_N = 0: from step 30 on the map is deterministic heavy ball, the same map as the full-batch run's
    assert batch_factor(60, 60, "without") == 0.0
    assert sched.loss[60] < const.loss[60]
    assert np.all(np.diff(sched.loss[30:]) <= 0) and np.all(np.diff(full.loss) <= 0)


def test_the_twins_in_function_space_parameter_space_and_original_coordinates_read_the_same_rows():
    from sgdlab.linear.simulate import _run_numba
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 12))
    y = X @ rng.normal(size=12) + 0.1 * rng.normal(size=40)
    dense = sgdlab.Problem.from_features(X, y)
    s = sgdlab.SGD(lr=0.1, momentum=0.6, batch=S.piecewise([20, 50], [3, 9, 27]), sampling="shuffle")
    rec = np.arange(101)
    runs = {space: _run_numba(dense, s, rec, 5, 7, np.inf, None, space=space)[0] for space in ("parameter",
                                                                                             "function")}
    np.testing.assert_allclose(runs["function"], runs["parameter"], rtol=1e-9)
    measure = sgdlab.Problem.from_features(X, y, spectrum="lanczos", rank=12, probes=2, deflated=2)
    _, eig = seed_losses(dense, s, 100, seeds=5, seed=7, record=rec)
    _, orig = seed_losses(measure, s, 100, seeds=5, seed=7, record=rec)
    assert np.max(np.abs(orig / eig - 1.0)) < 1e-10


def test_stability_along_the_schedule_reads_the_batch_of_each_step():
    p = sgdlab.Problem.from_eigenvalues([1.0, 2.0], target=[1.0, 1.0])
    lr = 0.4                                    # above α*(b = 1) = 0.3048, below α*(b = 8)
    assert sgdlab.critical_lr(p, 0.0, 1) < lr < sgdlab.critical_lr(p, 0.0, 8)
    c = sgdlab.predict(p, sgdlab.SGD(lr=lr, batch=S.piecewise([100, 130], [8, 1, 8])), 600)
    assert c.status == "converges" and "unstable for steps 100-129" in c.reason and "batch 1" in c.reason
    assert c.meta["schedule"]["unstable"][0]["batch"] == 1 and c.meta["schedule"]["recovers"] is True
    ends_small = sgdlab.predict(p, sgdlab.SGD(lr=lr, batch=S.piecewise([100], [8, 1])), 600)
    assert ends_small.status == "diverges" and "unstable at the last step" in ends_small.reason


def test_a_batch_schedule_on_the_long_horizon_path_equals_the_direct_recursion():
    p = sgdlab.Problem.power_law(dim=1000, nu=1.5, kappa=1.0, noise_variance=0.01)
    T = 200_000
    s = sgdlab.SGD(lr=0.3, momentum=0.5, batch=S.step_decay(4, T // 4, 4.0))        # 4, 16, 64, 256
    auto = sgdlab.predict(p, s, T)
    direct = sgdlab.predict(p, s, T, method="recursion")
    assert auto.meta["method"] == "scheduled-blocks" and np.array_equal(auto.steps, direct.steps)
    assert np.max(np.abs(auto.loss / direct.loss - 1.0)) <= AUTO_RTOL


def test_samples_are_the_sum_of_b_t_and_a_budget_in_samples_buys_the_steps_whose_batches_fit():
    b = S.piecewise([3, 5], [2, 10, 100]).values(np.arange(8)).astype(np.int64)
    assert samples_processed(b, np.arange(9)).tolist() == [0, 2, 4, 6, 16, 26, 126, 226, 326]
    for budget in (1, 2, 25, 26, 127, 326, 1000):
        T = steps_for_samples(budget, b)
        spent = samples_processed(np.r_[b, np.full(20, b[-1])], [T, T + 1])
        assert spent[0] <= budget < spent[1]
    assert [steps_for_samples(100, k) for k in (1, 8, 32)] == [100 // k for k in (1, 8, 32)]
    c = sgdlab.predict(sgdlab.Problem.power_law(dim=20), sgdlab.SGD(lr=0.2, batch=S.piecewise([3, 5], [2, 10, 100])),
                       8, record=np.arange(9))
    assert c.meta["samples"] == samples_processed(b, np.arange(9)).tolist()


def test_a_batch_schedule_survives_json_and_refuses_bad_values_in_one_line():
    s = sgdlab.SGD(lr=S.cosine(0.5, 100), batch=S.step_decay(8, 100, 2.0), sampling="without")
    assert sgdlab.SGD.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert sgdlab.SGD.from_dict({"lr": 0.1, "batch": 4}).batch == 4
    assert sgdlab.SGD(lr=0.1, momentum=0.5, batch=BATCHES).effective_lr == pytest.approx(0.2)   # lr, β constant
    for make, match in [(lambda: sgdlab.SGD(lr=0.1, batch=S.from_array([4, 2.5])).batch_per_step(3),
                         r"batch schedule .* 2\.5 at step 1; batch must be an integer >= 1"),
                        (lambda: sgdlab.SGD(lr=0.1, batch=S.constant(0)), r"value 0 at step 0"),
                        (lambda: S.batch_from_spec("doubling:10", 8), r"batch_schedule must be piecewise"),
                        (lambda: S.batch_from_spec("piecewise:10=3.5", 8), r"batch must be an integer"),
                        (lambda: S.batch_from_spec("piecewise:20=4,10=8", 8), r"strictly increasing"),
                        (lambda: S.batch_from_spec("step:every=10", 8), r"step takes every=STEPS,factor=F"),
                        (lambda: sgdlab.SGD(lr=0.1, batch=BATCHES).require_constant("sgdlab.phase"),
                         r"batch is a schedule .* sgdlab.phase takes a constant batch")]:
        with pytest.raises(sgdlab.InputError, match=match) as info:
            make()
        assert "\n" not in str(info.value)
    p = sgdlab.data.digits(n=50)
    with pytest.raises(sgdlab.InputError, match="batch=64 exceeds the 50 data points"):
        sgdlab.predict(p, sgdlab.SGD(lr=0.1, batch=BATCHES, sampling="without"), 200)


def test_cli_and_api_give_the_same_numbers_for_a_batch_schedule(run, tmp_path):
    r = run("predict", "--dim", "60", "--steps", "400", "--lr", "0.3", "--momentum", "0.5", "--batch", "4",
            "--batch-schedule", "piecewise:100=16,250=64", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    api = sgdlab.predict(sgdlab.Problem.power_law(dim=60, nu=1.5, kappa=1.0),
                         sgdlab.SGD(lr=0.3, momentum=0.5, batch=S.piecewise([100, 250], [4, 16, 64])), 400)
    assert doc["curve"]["meta"]["sgd"]["batch"] == {"schedule": "piecewise", "boundaries": [100, 250],
                                                    "values": [4.0, 16.0, 64.0]}
    assert np.array_equal(np.asarray(doc["curve"]["loss"]), api.loss)
    bad = run("predict", "--batch-schedule", "piecewise:100=1.5")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: --batch-schedule batch must be an integer")
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_jax_twin_follows_a_batch_schedule():
    pytest.importorskip("jax")
    p = sgdlab.Problem.power_law(dim=40, nu=1.5, kappa=1.0, noise_variance=0.05)
    s = sgdlab.SGD(lr=0.2, momentum=0.5, batch=BATCHES)
    _within_4_standard_errors(sgdlab.predict(p, s, 200), sgdlab.simulate(p, s, 200, seeds=1000, seed=0, backend="jax"))
