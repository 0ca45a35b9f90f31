"""Claims about sweeps: tasks are pure functions of their coordinates, so the table is bit-identical on the
local pool, on a Dask cluster and after any interruption (driver or worker killed) and resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import sgdlab
from sgdlab.montecarlo import summarise
from sgdlab.sweep import Sweep, SweepTable, load_sweep, task_seed

PROBLEM = dict(dim=20, nu=1.5, kappa=1.0)
GRID = {"lr": [0.2, 0.6, 3.0], "momentum": [0.0, 0.5]}


def small_sweep(**kw):
    opts = dict(steps=40, seeds=8, seed=5, chunk=3, base=sgdlab.SGD(lr=0.1, batch=2))
    opts.update(kw)
    return Sweep(sgdlab.Problem.power_law(**PROBLEM), grid=GRID, **opts)


@pytest.fixture(scope="module")
def reference():
    """The sweep run in this process, one task after another: the table every executor must reproduce."""
    return small_sweep().run("inline", progress=False)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_a_task_seed_is_a_function_of_the_sweep_seed_the_coordinates_and_the_chunk():
    a, b = small_sweep(), small_sweep()
    seeds = [t.seed for t in a.tasks if t.kind == "simulate"]
    assert seeds == [t.seed for t in b.tasks if t.kind == "simulate"]
    assert len(set(seeds)) == len(seeds)
    assert small_sweep(seed=6).tasks[1].seed != a.tasks[1].seed
    t = a.tasks[1]
    assert t.seed == task_seed(5, t.coords, t.chunk)


def test_a_point_summarises_the_union_of_its_chunks_exactly_as_simulate_gives_each(reference):
    s = small_sweep()
    chunks = [t for t in s.tasks if t.kind == "simulate" and t.point == 0]
    assert sum(t.seeds for t in chunks) == s.seeds and len(chunks) == 3
    from sgdlab.linear.simulate import seed_losses
    per_seed = np.concatenate([seed_losses(s.problem, t.sgd, s.steps, t.seeds, t.seed)[1] for t in chunks])
    mc = summarise(s.record, per_seed)
    assert reference["simulated_mean"][0] == mc.mean.tolist()
    assert reference["simulated_median"][0] == mc.median.tolist()
    one = sgdlab.simulate(s.problem, chunks[0].sgd, s.steps, seeds=chunks[0].seeds, seed=chunks[0].seed)
    assert np.array_equal(one.loss, per_seed[: chunks[0].seeds].mean(axis=0))


def test_the_table_has_one_row_per_point_with_theory_simulation_and_verdict(reference):
    assert len(reference) == 6
    assert reference["lr"] == [0.2, 0.2, 0.6, 0.6, 3.0, 3.0]
    assert set(reference["verdict"]) <= {"agrees", "disagrees", "cannot-check"}
    lr3 = [i for i, lr in enumerate(reference["lr"]) if lr == 3.0]
    assert all(reference["predicted_status"][i] == "diverges" and reference["predicted_final"][i] is None for i in lr3)
    ok = [i for i, r in enumerate(reference["lr_ratio"]) if r < 1]
    assert all(reference["predicted_status"][i] == "converges" for i in ok) and ok
    doc = json.loads(json.dumps(reference.to_dict(), allow_nan=False))
    assert doc["status"] == reference.status


def test_local_pool_and_dask_cluster_give_bit_identical_tables(reference, cluster, tmp_path):
    local = small_sweep().run("local", workers=2, out=tmp_path / "local", progress=False)
    dask = small_sweep().run("dask", address=cluster.scheduler_address, out=tmp_path / "dask", progress=False)
    assert local.columns == reference.columns
    assert dask.columns == reference.columns
    assert (tmp_path / "local" / "table.csv").read_bytes() == (tmp_path / "dask" / "table.csv").read_bytes()
    pd = pytest.importorskip("pandas")
    frame = pd.read_parquet(tmp_path / "dask" / "table.parquet")
    assert frame["lr"].tolist() == reference["lr"] and list(frame["simulated_mean"][0]) == reference["simulated_mean"][0]
    assert SweepTable.read(tmp_path / "local" / "table.csv").columns == reference.columns


def test_a_worker_killed_mid_sweep_on_the_cluster_leaves_the_table_unchanged(reference, cluster, tmp_path):
    from distributed import Client
    with Client(cluster.scheduler_address) as client:           # one client at a time in this process
        pids = client.run(os.getpid)                             # worker address -> process id
    victim = sorted(pids)[0]
    killed = []

    def kill_one(done, total):
        if done == 3 and not killed:
            os.kill(pids[victim], signal.SIGKILL)
            killed.append(victim)

    s = small_sweep(seeds=24)          # 8 chunks a point: 54 tasks, the kill lands mid-sweep
    table = s.run("dask", address=cluster.scheduler_address, out=tmp_path / "k", progress=kill_one)
    with Client(cluster.scheduler_address) as client:
        client.wait_for_workers(2, timeout=120)
        after = set(client.scheduler_info()["workers"])
    assert killed and victim not in after
    again = small_sweep(seeds=24).run("inline", progress=False)
    assert table.columns == again.columns
    assert len(list((tmp_path / "k" / "tasks").glob("*.npz"))) == len(s.tasks)


TOML = """
steps = 2000
seeds = 8
seed = 11
chunk = 4
[problem]
dim = 40
[sgd]
batch = 2
[grid]
lr = {{ start = 0.1, stop = 0.5, num = {n} }}
momentum = [0.0, 0.5]
"""


def _cli(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(Path(sgdlab.__file__).parents[1])}
    return subprocess.Popen([sys.executable, "-m", "sgdlab", "sweep", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def _running_in_session(sid: int) -> list[int]:
    """Processes of session ``sid`` that are still running (not zombies), from /proc."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_a_driver_killed_halfway_resumes_to_exactly_the_uninterrupted_table(run, tmp_path):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(TOML.format(n=6))
    out = tmp_path / "out"
    tasks = out / "tasks"
    total = len(load_sweep(cfg).tasks)
    proc = _cli(str(cfg), "--out", str(out), "--workers", "1")
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and len(list(tasks.glob("*.npz")) if tasks.exists() else []) < 4:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)            # the driver only: its worker must notice and exit
        proc.wait(30)
        deadline = time.monotonic() + 20
        while _running_in_session(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        leftover = _running_in_session(proc.pid)
    finally:
        for pid in _running_in_session(proc.pid):    # whatever is left (nothing, if all went well)
            os.kill(pid, signal.SIGKILL)
    done = len(list(tasks.glob("*.npz")))
    assert 4 <= done < total, (done, total)
    assert not leftover, "a worker outlived its killed driver"
    refused = run("sweep", str(cfg), "--out", str(out))
    assert refused.returncode == 2 and "--resume" in refused.stderr
    resumed = _cli(str(cfg), "--out", str(out), "--resume", "--workers", "1")
    assert resumed.wait(300) == 0, resumed.stderr.read()
    assert len(list(tasks.glob("*.npz"))) == total and not list(tasks.glob(".*"))
    assert json.loads((out / "run.json").read_text())["config"]["resumed"] == done
    want = load_sweep(cfg).run("inline", progress=False)
    assert (out / "table.csv").read_text() == want.to_csv()
    assert (out / "phase_diagram.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("text, key", [
    ("steps = 10\n[grid]\nlr = [0.1]\n[problem]\ndimm = 3\n", "problem.dimm"),
    ("steps = 10\n[grid]\nlrr = [0.1]\n", "grid.lrr"),
    ("steps = 10\n[grid]\nlr = { start = 0.1, stop = 1.0, num = 'x' }\n", "grid.lr.num"),
    ("seeds = 4\n[grid]\nlr = [0.1]\n", "steps"),
    ("steps = 10\nseeds = 1\n[grid]\nlr = [0.1]\n", "seeds"),
    ("steps = 10\n[grid]\nlr = [0.1]\nmomentum = [1.5]\n", "momentum"),
    ("steps = 10\n[grid]\nlr = [-0.1]\n", "lr"),
    ("steps = 10\n[grid]\nlr = [0.1]\n[problem]\nspectrum = 'missing.txt'\n", "problem.spectrum"),
    ("steps = [10\n", "not valid TOML"),
])
def test_a_bad_sweep_file_is_one_error_line_naming_the_key(run, tmp_path, text, key):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(text)
    r = run("sweep", str(cfg), "--out", str(tmp_path / "o"))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ") and key in lines[0], r.stderr
    assert not (tmp_path / "o").exists()


def test_a_missing_sweep_file_and_another_sweeps_folder_are_refused(run, tmp_path):
    r = run("sweep", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "none.toml" in r.stderr
    small_sweep(seeds=2, chunk=2).run("inline", out=tmp_path / "o", progress=False)
    cfg = tmp_path / "sweep.toml"
    cfg.write_text("steps = 10\nseeds = 2\n[grid]\nlr = [0.1]\n")
    r = run("sweep", str(cfg), "--out", str(tmp_path / "o"), "--resume")
    assert r.returncode == 2 and "another sweep" in r.stderr


@pytest.mark.slow
def test_a_local_worker_killed_mid_sweep_is_replaced_and_the_table_is_unchanged(reference, tmp_path):
    psutil = pytest.importorskip("psutil")
    killed = []

    def kill_one(done, total):
        if done == 3 and not killed:
            child = psutil.Process().children()[0]
            child.kill()
            killed.append(child.pid)

    s = small_sweep(seeds=24)
    table = s.run("local", workers=2, out=tmp_path / "k", progress=kill_one)
    assert killed and table.columns == small_sweep(seeds=24).run("inline", progress=False).columns


def test_a_list_of_configurations_runs_each_as_given_schedules_included(tmp_path):
    """points=[SGD, ...]: sets that are no product (lr tied to each momentum, a schedule's peak) run as given;
    a scheduled row holds the peak lr and the schedule, and its prediction is sgdlab.predict's."""
    from sgdlab import schedules as S
    p = sgdlab.Problem.power_law(**PROBLEM)
    configs = [sgdlab.SGD(lr=0.2, momentum=0.0, batch=2),
               sgdlab.SGD(lr=S.warmup_cosine(0.4, 5, 40), momentum=0.5, batch=4)]
    s = Sweep(p, points=configs, steps=40, seeds=6, chunk=3)
    t = s.run("inline", out=tmp_path / "o", progress=False)
    assert t["lr"] == [0.2, 0.4] and t["momentum"] == [0.0, 0.5] and t["batch"] == [2, 4]
    assert t["schedule"] == [None, configs[1].lr.describe()]
    assert t["predicted_final"][1] == float(sgdlab.predict(p, configs[1], 40, record=s.record).loss[-1])
    assert SweepTable.read(tmp_path / "o")["schedule"][1] == configs[1].lr.describe()
    with pytest.raises(sgdlab.InputError, match="one of grid"):
        Sweep(p, grid=GRID, points=configs, steps=40)
    with pytest.raises(sgdlab.InputError, match=r"points\[1\]"):
        Sweep(p, points=[configs[0], 0.3], steps=40)
