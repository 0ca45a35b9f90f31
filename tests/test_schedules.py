"""Claims about schedules: lr and momentum as functions of the step, predicted exactly, simulated alike."""

import json

import numpy as np
import pytest

import sgdlab
from sgdlab import schedules as S
from sgdlab.montecarlo import agreement


def reference_loss(lam, w_star, sigma2, alphas, betas, c_c, c_d, steps):
    """The moment recursion of math-linear notes §2.3 with α_t, β_t per step, written out in plain numpy."""
    A, C, D = np.asarray(w_star, float) ** 2, np.zeros(len(lam)), np.zeros(len(lam))
    loss = [0.5 * (lam @ A + sigma2)]
    for t in range(steps):
        al, be = alphas[t], betas[t]
        a = al * lam
        S_t = lam @ A + sigma2
        n = al**2 * (c_c * lam * S_t + c_d * lam**2 * A)
        A, C, D = ((1 - a) ** 2 * A + 2 * be * (1 - a) * C + be**2 * D + n,
                   -a * (1 - a) * A + be * (1 - 2 * a) * C + be**2 * D + n,
                   a**2 * A - 2 * a * be * C + be**2 * D + n)
        loss.append(0.5 * (lam @ A + sigma2))
    return np.array(loss)


def test_scheduled_prediction_equals_an_independent_recursion_with_per_step_lr_and_momentum():
    p = sgdlab.Problem.power_law(dim=80, nu=1.5, kappa=1.0, noise_variance=0.05)
    T = 400
    lr = S.warmup_cosine(peak=0.6, warmup=40, total=T, final=0.01)
    mom = S.from_array(np.linspace(0.0, 0.8, T))
    c = sgdlab.predict(p, sgdlab.SGD(lr=lr, momentum=mom, batch=4), T, record=np.arange(T + 1))
    ref = reference_loss(p.eigenvalues, p.target, p.noise_variance, lr.values(np.arange(T)),
                         mom.values(np.arange(T)), 0.25, 0.25, T)
    assert c.meta["method"] == "scheduled-recursion"
    np.testing.assert_allclose(c.loss, ref, rtol=1e-10)


def test_constant_schedules_give_the_float_numbers_bit_for_bit():
    p = sgdlab.Problem.power_law(dim=60)
    as_float = sgdlab.SGD(lr=0.3, momentum=0.5, batch=4)
    as_sched = sgdlab.SGD(lr=S.constant(0.3), momentum=S.piecewise([50], [0.5, 0.5]), batch=4)
    assert np.array_equal(sgdlab.predict(p, as_sched, 300).loss, sgdlab.predict(p, as_float, 300).loss)
    for backend in ("numba", "numpy"):
        a = sgdlab.simulate(p, as_sched, 100, seeds=4, seed=3, backend=backend)
        b = sgdlab.simulate(p, as_float, 100, seeds=4, seed=3, backend=backend)
        assert np.array_equal(a.loss, b.loss), backend


def test_the_scheduled_kernel_with_constant_arrays_matches_the_constant_kernel():
    from sgdlab.curve import checkpoints
    from sgdlab.linear._recursion import recursion_paced
    from sgdlab.linear._schedule_recursion import recursion_scheduled
    p = sgdlab.Problem.power_law(dim=200)
    rec = checkpoints(2000)
    const = recursion_paced(p.eigenvalues, p.initial_moments, 0.1, 0.4, 0.5, 0.25, 0.25, rec, 1e6, 1e100)[0]
    full = np.full(2000, 1.0)
    sched = recursion_scheduled(p.eigenvalues, p.initial_moments, 0.1, 0.4 * full, 0.5 * full, 0.25, 0.25, rec,
                                1e6, 1e100)[0]
    ones = recursion_scheduled(p.eigenvalues, p.initial_moments, 0.1, 0.4, 0.5, 0.25, 0.25, rec, 1e6, 1e100,
                               multiplicity=np.ones(200))[0]
    np.testing.assert_allclose(sched, const, rtol=1e-13)
    np.testing.assert_allclose(ones, const, rtol=1e-13)


def test_multiplicity_m_counts_a_mode_m_times():
    """Two equal modes merged into one of multiplicity 2 (A summed) give the same loss."""
    from sgdlab.curve import checkpoints
    from sgdlab.linear._schedule_recursion import recursion_scheduled
    rec = checkpoints(300)
    al = S.cosine(0.4, 300).values(np.arange(300))
    split = recursion_scheduled(np.array([1.0, 0.5, 0.5]), np.array([1.0, 0.3, 0.3]), 0.0, al, 0.3, 0.5, 0.5, rec,
                                1e6, 1e100)[0]
    merged = recursion_scheduled(np.array([1.0, 0.5]), np.array([1.0, 0.6]), 0.0, al, 0.3, 0.5, 0.5, rec, 1e6, 1e100,
                                 multiplicity=np.array([1.0, 2.0]))[0]
    np.testing.assert_allclose(merged, split, rtol=1e-12)


def test_scheduled_exact_finite_data_recursion_equals_its_constant_form_and_follows_the_schedule():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    p = sgdlab.Problem.from_features(X, X @ np.ones(5) + 0.1 * rng.normal(size=40))
    const = sgdlab.SGD(lr=0.1, momentum=0.5, batch=4, sampling="without")
    same = const.replace(lr=S.constant(0.1))
    assert np.array_equal(sgdlab.predict_exact(p, same, 60).loss, sgdlab.predict_exact(p, const, 60).loss)
    # without momentum, a step decay to a tiny lr freezes the loss: the curve flattens after the boundary
    plain = const.replace(momentum=0.0)
    frozen = sgdlab.predict_exact(p, plain.replace(lr=S.piecewise([20], [0.1, 1e-9])), 60, record=np.arange(61))
    moving = sgdlab.predict_exact(p, plain, 60, record=np.arange(61))
    assert abs(frozen.loss[60] / frozen.loss[20] - 1) < 1e-6 < abs(moving.loss[60] / moving.loss[20] - 1)


def _check(theory, sim):
    a = agreement(theory, sim)
    assert a.status == "agrees", a.reason


def test_warmup_cosine_on_the_power_law_agrees_with_sgd_within_monte_carlo_error():
    p = sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0)
    s = sgdlab.SGD(lr=S.warmup_cosine(peak=0.5, warmup=30, total=300, final=0.0), momentum=0.5, batch=8)
    _check(sgdlab.predict(p, s, 300), sgdlab.simulate(p, s, 300, seeds=400, seed=1))


def test_warmup_cosine_on_digits_agrees_with_sgd_by_the_exact_recursion():
    p = sgdlab.data.digits(n=150)
    s = sgdlab.SGD(lr=S.warmup_cosine(peak=0.5, warmup=20, total=150, final=0.0), momentum=0.5, batch=10,
                   sampling="without")
    _check(sgdlab.predict_exact(p, s, 150), sgdlab.simulate(p, s, 150, seeds=400, seed=2))


@pytest.mark.slow
@pytest.mark.parametrize("case", ["power-law", "digits"])
def test_warmup_cosine_agrees_with_1000_seed_sgd_at_every_checkpoint(case):
    if case == "power-law":
        p, sampling, steps = sgdlab.Problem.power_law(dim=200, nu=1.5, kappa=1.0), "online", 2000
    else:
        p, sampling, steps = sgdlab.data.digits(n=600), "without", 1000
    s = sgdlab.SGD(lr=S.warmup_cosine(peak=0.5, warmup=100, total=steps, final=0.0), momentum=0.9 if
                   case == "power-law" else 0.5, batch=32 if case == "power-law" else 10, sampling=sampling)
    theory = sgdlab.predict(p, s, steps) if case == "power-law" else sgdlab.predict_exact(p, s, steps)
    sim = sgdlab.simulate(p, s, steps, seeds=1000, seed=5)
    _check(theory, sim)
    assert np.max(np.abs(agreement(theory, sim).z)) <= 4.0


@pytest.mark.slow
def test_warmup_cosine_jax_twin_follows_the_schedule():
    pytest.importorskip("jax")
    p = sgdlab.Problem.power_law(dim=40)
    s = sgdlab.SGD(lr=S.warmup_cosine(0.5, 10, 100), momentum=0.3, batch=4)
    _check(sgdlab.predict(p, s, 100), sgdlab.simulate(p, s, 100, seeds=300, seed=0, backend="jax"))


def test_stability_along_the_schedule_names_the_unstable_steps_and_the_recovery():
    p = sgdlab.Problem.from_eigenvalues([1.0, 2.0], target=[1.0, 1.0])       # critical lr 0.3048 at β = 0, b = 1
    crit = sgdlab.critical_lr(p)
    s = sgdlab.SGD(lr=S.piecewise([100, 130], [0.1, 1.2 * crit, 0.1]), batch=1)
    c = sgdlab.predict(p, s, 600)
    assert c.status == "converges" and "unstable for steps 100-129" in c.reason and "recovers" in c.reason
    assert c.meta["schedule"]["unstable"][0]["critical_lr"] == pytest.approx(crit, rel=1e-12)
    assert c.meta["schedule"]["recovers"] is True
    ends_high = sgdlab.predict(p, sgdlab.SGD(lr=S.piecewise([100], [0.1, 1.2 * crit]), batch=1), 600)
    assert ends_high.status == "diverges" and "unstable at the last step" in ends_high.reason
    fine = sgdlab.predict(p, sgdlab.SGD(lr=S.cosine(0.9 * crit, 600), batch=1), 600)
    assert fine.status == "converges" and fine.reason.startswith("stable at every step")


@pytest.mark.parametrize("sched", [S.constant(0.2), S.linear_warmup(0.5, 10), S.cosine(0.5, 100, 0.01),
                                   S.warmup_cosine(0.5, 200, 5000), S.step_decay(0.5, 30, 0.5),
                                   S.polynomial(0.5, 100, 0.0, 2.0), S.inverse_time(0.5, 10, 2.0, 0.5),
                                   S.piecewise([10, 20], [0.5, 0.1, 0.01]), S.from_array([0.3, 0.2, 0.1])])
def test_every_family_survives_a_json_round_trip(sched):
    back = S.from_dict(json.loads(json.dumps(sched.to_dict())))
    assert back == sched and np.array_equal(back.values(np.arange(300)), sched.values(np.arange(300)))
    sgd = sgdlab.SGD(lr=sched, momentum=S.cosine(0.9, 50), batch=2)
    assert sgdlab.SGD.from_dict(json.loads(json.dumps(sgd.to_dict()))) == sgd


def test_a_scheduled_curve_describes_its_schedule_in_json():
    s = sgdlab.SGD(lr=S.warmup_cosine(0.5, 20, 200), momentum=0.5, batch=4)
    doc = json.loads(json.dumps(sgdlab.predict(sgdlab.Problem.power_law(dim=30), s, 200).to_dict()))
    assert doc["meta"]["sgd"]["lr"]["schedule"] == "warmup_cosine" and doc["meta"]["schedule"]["unstable"] == []


def test_callables_step_by_step_or_vectorised():
    assert S.from_callable(lambda t: 0.1 * 0.5 ** (t // 10)).values([0, 10, 25]).tolist() == [0.1, 0.05, 0.025]
    assert S.from_callable(lambda t: 0.2 if t < 3 else 0.1).values([2, 3]).tolist() == [0.2, 0.1]
    with pytest.raises(sgdlab.InputError, match="cannot be rebuilt"):
        S.from_dict(S.from_callable(abs, "abs").to_dict())


@pytest.mark.parametrize("make, match", [
    (lambda: sgdlab.SGD(lr=S.from_array([0.1, -0.1])).per_step(5), r"lr schedule .* -0\.1 at step 1"),
    (lambda: sgdlab.SGD(lr=0.1, momentum=S.from_array([0.5, 1.0])).per_step(5), r"momentum .* at step 1"),
    (lambda: sgdlab.SGD(lr=S.from_callable(lambda t: np.inf)), r"lr schedule .* inf at step 0"),
    (lambda: sgdlab.SGD(lr=S.constant(-1.0)), r"lr must be >= 0"),
    (lambda: S.warmup_cosine(0.5, 200, 100), r"total \(100\) must exceed warmup \(200\)"),
    (lambda: S.step_decay(0.5, 0), r"every must be >= 1"),
    (lambda: S.cosine(float("nan"), 10), r"peak must be finite"),
    (lambda: S.piecewise([5, 3], [1, 2, 3]), r"boundaries must be strictly increasing"),
    (lambda: S.from_dict({"schedule": "sawtooth"}), r"unknown schedule 'sawtooth'"),
    (lambda: S.from_callable(3), r"fn must be callable"),
])
def test_bad_schedules_are_one_line_input_errors_naming_the_parameter(make, match):
    with pytest.raises(sgdlab.InputError, match=match) as info:
        make()
    assert "\n" not in str(info.value)


def test_solvers_and_packages_without_schedules_refuse_them_in_one_line():
    p = sgdlab.Problem.from_eigenvalues(np.linspace(0.5, 1.5, 20), noise_variance=0.1)
    s = sgdlab.SGD(lr=S.cosine(0.01, 100), sampling="replacement")
    with pytest.raises(sgdlab.InputError, match="lr is a schedule .* takes a constant lr"):
        sgdlab.predict(p, s, 100, model="volterra")
    with pytest.raises(sgdlab.InputError, match="method='blocks' is for constant"):
        sgdlab.predict(p, s, 100, method="blocks")
    with pytest.raises(sgdlab.InputError, match="effective_lr takes a constant lr"):
        s.effective_lr  # noqa: B018


def test_cli_predict_with_a_warmup_cosine_schedule(run, tmp_path):
    r = run("predict", "--dim", "60", "--steps", "500", "--lr", "0.5", "--momentum", "0.9", "--batch", "32",
            "--schedule", "warmup-cosine", "--warmup", "50", "--out", str(tmp_path / "o"), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["status"] == "converges" and doc["curve"]["meta"]["sgd"]["lr"]["warmup"] == 50
    assert (tmp_path / "o" / "loss.png").stat().st_size > 0
    bad = run("predict", "--steps", "100", "--schedule", "warmup-cosine", "--warmup", "100")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: --warmup")
    bad = run("predict", "--schedule", "sawtooth")
    assert bad.returncode == 2 and "--schedule must be one of" in bad.stderr


def test_a_schedule_on_a_spectral_measure_weighs_each_node_by_its_multiplicity():
    # predict and its stability stretches see a node of multiplicity 2 as two copies of the mode
    split = sgdlab.Problem.from_eigenvalues([1.0, 0.5, 0.5], np.sqrt([1.0, 0.3, 0.3]))
    merged = sgdlab.Problem(np.array([1.0, 0.5]), np.sqrt([1.0, 0.6]), 0.0, multiplicity=np.array([1.0, 2.0]))
    lr = S.piecewise([100, 130], [0.3, 0.9, 0.3])        # above the critical lr for steps 100-129
    sgd = sgdlab.SGD(lr=lr, momentum=0.3, batch=2)
    a, b = sgdlab.predict(split, sgd, 300), sgdlab.predict(merged, sgd, 300)
    np.testing.assert_allclose(b.loss, a.loss, rtol=1e-12)
    assert a.meta["schedule"]["unstable"] and b.meta["schedule"]["unstable"] == a.meta["schedule"]["unstable"]
