"""Claims about the claims' grids as tasks: the numbers of a claim do not depend on where its tasks ran, and a
claim interrupted mid-grid resumes with the tasks that had not finished."""

import json

import pytest
from typer.testing import CliRunner

from sgdlab import factorization
from sgdlab.claims import INLINE, Tasks, get
from sgdlab.claims import balancing
from sgdlab.cli import app


def test_a_claim_run_inline_and_on_a_two_worker_pool_gives_the_same_numbers_bit_for_bit():
    inline = get(balancing.ID).check(True, 0, INLINE)
    pool = get(balancing.ID).check(True, 0, Tasks("local", workers=2))
    assert pool.status == inline.status
    assert json.dumps(pool.numbers, sort_keys=True) == json.dumps(inline.numbers, sort_keys=True)
    assert pool.reason == inline.reason


def test_a_claim_interrupted_mid_grid_resumes_without_recomputing_finished_tasks(tmp_path, monkeypatch):
    tasks = Tasks("inline", folder=tmp_path)
    real, calls = factorization.sweep, []

    def interrupted(*args, **kw):
        if len(calls) == 3:
            raise KeyboardInterrupt           # Ctrl-C while the fourth c of the grid runs
        calls.append(args[3])
        return real(*args, **kw)

    monkeypatch.setattr(factorization, "sweep", interrupted)
    with pytest.raises(KeyboardInterrupt):
        balancing.check(True, 0, tasks=tasks)
    folder = tmp_path / balancing.ID
    assert len(list(folder.glob("*.pkl"))) == 3
    monkeypatch.setattr(factorization, "sweep", lambda *a, **kw: calls.append(a[3]) or real(*a, **kw))
    resumed = balancing.check(True, 0, tasks=tasks)
    assert len(calls) == len(balancing.C_GRID)              # 3 before the interruption, the other 4 after it
    assert [c[0] for c in calls] == balancing.C_GRID
    assert len(list(folder.glob("*.pkl"))) == len(balancing.C_GRID)
    assert resumed.numbers == balancing.check(True, 0).numbers


def test_reproduce_workers_1_runs_the_grid_in_process_and_keeps_one_task_file_per_point(tmp_path):
    out = tmp_path / "rep"
    res = CliRunner().invoke(app, ["reproduce", "--quick", "--only", balancing.ID, "--out", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert len(list((out / "cache" / "tasks" / balancing.ID).glob("*.pkl"))) == len(balancing.C_GRID)
    assert json.loads((out / "run.json").read_text())["config"]["executor"] == "inline"


def test_reproduce_refuses_bad_workers_and_an_empty_cluster_in_one_line(run, tmp_path):
    for args, word in ((["--workers", "0"], "--workers"), (["--cluster", " "], "--cluster")):
        r = run("reproduce", "--quick", "--only", balancing.ID, "--out", str(tmp_path / "o"), *args)
        assert r.returncode == 2 and word in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
