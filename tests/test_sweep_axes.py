"""Claims about a sweep's schedule and noise axes: every row is the prediction and the simulation of its own
point (the lr schedule at the point's peak lr, the point's noise model), with the seeds of its coordinates."""

import numpy as np
import pytest

import sgdlab
from sgdlab import InputError
from sgdlab.linear.simulate import seed_losses
from sgdlab.montecarlo import summarise
from sgdlab.schedules import from_name
from sgdlab.sweep import Sweep, task_seed
from sgdlab.sweep.config import parse_sweep

STEPS = 60
SCHEDULES = ["constant", {"name": "warmup-cosine", "warmup": 10}]
LRS = [0.2, 0.5]


def sweep(**kw):
    grid = {"lr": LRS, "schedule": SCHEDULES, **kw.pop("grid", {})}
    return Sweep(sgdlab.Problem.power_law(dim=30), grid=grid, steps=STEPS, seeds=6, seed=9, chunk=3,
                 base=sgdlab.SGD(lr=0.1, momentum=0.3, batch=2), **kw)


@pytest.fixture(scope="module")
def table():
    return sweep().run("inline", progress=False)


def test_a_two_schedule_by_two_lr_table_is_predict_and_simulate_at_every_point(table):
    s = sweep()
    assert len(table) == 4 and table["lr"] == [0.2, 0.2, 0.5, 0.5]
    for row, point in zip(table.rows(), s.points):
        i, j = point.coords
        shape = SCHEDULES[j] if isinstance(SCHEDULES[j], dict) else {"name": SCHEDULES[j]}
        lr = from_name(shape["name"], LRS[i], STEPS, **{k: v for k, v in shape.items() if k != "name"})
        sgd = sgdlab.SGD(lr=lr, momentum=0.3, batch=2)
        assert row["schedule"] == lr.describe()
        assert row["predicted"] == sgdlab.predict(s.problem, sgd, STEPS, record=s.record).loss.tolist()
        per_seed = np.concatenate([seed_losses(s.problem, sgd, STEPS, n, task_seed(9, point.coords, c),
                                               record=s.record)[1] for c, n in enumerate([3, 3])])
        assert row["simulated_mean"] == summarise(s.record, per_seed).mean.tolist()


def test_the_schedules_change_the_curves(table):
    assert table["predicted_final"][0] != table["predicted_final"][1]
    assert table["simulated_final_mean"][0] != table["simulated_final_mean"][1]


def test_points_that_differ_only_in_the_noise_model_share_one_simulation_and_get_their_own_theory():
    s = sweep(grid={"noise": ["gaussian", {"model": "se", "tau": 1.0}]})
    t = s.run("inline", progress=False)
    assert t["noise"][:2] == ["gaussian", "se(tau=1)"]
    assert t["simulated_mean"][0] == t["simulated_mean"][1]
    assert t["predicted"][0] != t["predicted"][1]
    p0 = s.points[1]
    assert t["predicted"][1] == sgdlab.predict(s.problem, p0.sgd, STEPS, record=s.record,
                                               noise=sgdlab.noise.SE(tau=1.0)).loss.tolist()
    assert sum(x.kind == "simulate" for x in s.tasks) == 2 * len(sweep().points)


def test_sweep_toml_accepts_schedule_and_noise_axes():
    doc = {"steps": 20, "seeds": 2, "problem": {"dim": 5},
           "grid": {"lr": [0.1], "schedule": ["cosine", {"name": "warmup", "warmup": 3}], "noise": ["se"]}}
    s = parse_sweep(doc)
    assert len(s.points) == 2 and s.points[1].schedule.startswith("linear_warmup")


@pytest.mark.parametrize("grid, word", [({"lr": [0.1], "schedule": ["nope"]}, "grid.schedule"),
                                        ({"lr": [0.1], "schedule": [{"schedule": "cosine", "peak": 0.1, "total": 5}]}, "lr"),
                                        ({"lr": [0.1], "noise": ["poisson"]}, "grid.noise"),
                                        ({"lr": [0.1], "schedule": [{"name": "cosine", "warm": 3}]}, "warm")])
def test_a_bad_schedule_or_noise_entry_is_one_error_naming_it(grid, word):
    with pytest.raises(InputError, match=word):
        Sweep(sgdlab.Problem.power_law(dim=5), grid=grid, steps=10, seeds=2)


def test_a_sweep_over_problems_is_each_problems_own_sweep_with_a_problem_column(tmp_path):
    """The problem axis: the combined table holds, problem by problem, exactly the rows of that problem's
    own Sweep (the same seeds: common random numbers), on the pool as inline, and it resumes."""
    from sgdlab.sweep import Sweep, SweepTable, sweep_problems
    ps = {"nu=1.5": sgdlab.Problem.power_law(dim=12, nu=1.5), "nu=2.5": sgdlab.Problem.power_law(dim=12, nu=2.5)}
    grid = {"lr": [0.2, 0.5], "momentum": [0.0, 0.6]}
    opts = dict(steps=30, seeds=6, seed=3, chunk=3)
    t = sweep_problems(ps, grid, executor="local", workers=2, out=tmp_path / "o", progress=False, **opts)
    assert t["problem"] == ["nu=1.5"] * 4 + ["nu=2.5"] * 4
    for k, (name, p) in enumerate(ps.items()):
        own = Sweep(p, grid, **opts).run("inline", progress=False)
        for col in own.names:
            assert t[col][4 * k:4 * k + 4] == own[col], col
    assert SweepTable.read(tmp_path / "o" / "table.csv")["problem"] == t["problem"]
    again = sweep_problems(ps, grid, executor="inline", out=tmp_path / "o", resume=True, progress=False, **opts)
    assert again.columns == t.columns
    with pytest.raises(sgdlab.InputError, match=r"problems\[1\]"):
        sweep_problems([ps["nu=1.5"], 3], grid, **opts)
