"""Claims about map_tasks: one pure function over items, results in item order whatever ran where, one file per
key in a store, and a rerun that computes only the tasks that had not finished."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import sgdlab
from sgdlab import InputError
from sgdlab.sweep import map_tasks

sys.path.insert(0, str(Path(__file__).parent))
import _map_fns  # noqa: E402

ITEMS = [(s, 5) for s in range(7)]


def test_results_come_in_item_order_and_bit_identical_inline_and_on_the_pool():
    inline = map_tasks(_map_fns.draw, ITEMS, executor="inline")
    pool = map_tasks(_map_fns.draw, ITEMS, executor="local", workers=2)
    assert len(inline) == len(ITEMS)
    assert all(np.array_equal(a, b) for a, b in zip(inline, pool))
    assert np.array_equal(inline[3], np.random.default_rng(3).standard_normal(5))


def test_a_store_holds_one_file_per_key_and_a_rerun_computes_nothing(tmp_path):
    first = map_tasks(_map_fns.draw, ITEMS, keys=[f"s{s}" for s, _ in ITEMS], executor="inline", store=tmp_path)
    assert sorted(p.name.split(".")[0] for p in tmp_path.glob("*.pkl")) == sorted(f"s{s}" for s, _ in ITEMS)
    seen = []
    again = map_tasks(_map_fns.draw, ITEMS, keys=[f"s{s}" for s, _ in ITEMS], executor="inline", store=tmp_path,
                      progress=lambda done, total: seen.append(done))
    assert seen == [len(ITEMS)]                                  # all done before anything ran
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_a_key_stored_for_another_item_is_recomputed_not_reused(tmp_path):
    map_tasks(_map_fns.draw, [(1, 5)], keys=["a"], executor="inline", store=tmp_path)
    other = map_tasks(_map_fns.draw, [(2, 5)], keys=["a"], executor="inline", store=tmp_path)
    assert np.array_equal(other[0], np.random.default_rng(2).standard_normal(5))
    assert len(list(tmp_path.glob("a.*.pkl"))) == 1


@pytest.mark.parametrize("kw, word", [({"keys": ["a"]}, "keys"), ({"keys": ["a b"] * 7}, "keys"),
                                      ({"keys": ["k"] * 7}, "unique"), ({"executor": "gpu"}, "executor"),
                                      ({"workers": 0}, "workers"), ({"address": "tcp://x:1"}, "address")])
def test_bad_arguments_are_one_error_naming_the_parameter(kw, word):
    with pytest.raises(InputError, match=word):
        map_tasks(_map_fns.draw, ITEMS, **kw)


DRIVER = """
import sys
sys.path.insert(0, {tests!r})
import _map_fns
from sgdlab.sweep import map_tasks
map_tasks(_map_fns.slow_draw, [(s, 5) for s in range(12)], executor="inline", store={store!r})
"""


def test_a_driver_killed_mid_map_resumes_without_recomputing_finished_tasks(tmp_path):
    store = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(Path(sgdlab.__file__).parents[1]), "SGDLAB_TEST_PAUSE": "0.3"}
    code = DRIVER.format(tests=str(Path(__file__).parent), store=str(store))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(store.glob("*.pkl")) if store.exists() else []) < 3:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    before = {p.name: p.stat().st_mtime_ns for p in store.glob("*.pkl")}
    assert 3 <= len(before) < 12
    seen = []
    resumed = map_tasks(_map_fns.slow_draw, [(s, 5) for s in range(12)], executor="inline", store=store,
                        progress=lambda d, t: seen.append(d))
    assert seen[0] == len(before)
    assert {p.name: p.stat().st_mtime_ns for p in store.glob("*.pkl") if p.name in before} == before
    assert all(np.array_equal(r, np.random.default_rng(s).standard_normal(5)) for s, r in enumerate(resumed))
    assert not list(store.glob(".*"))


def test_one_session_pool_serves_several_functions_with_the_same_numbers():
    from sgdlab.sweep import open_session
    with open_session("local", workers=2) as session:
        a = map_tasks(_map_fns.draw, ITEMS, executor=session)
        b = map_tasks(_map_fns.draw, ITEMS[:2], executor=session)
        pids = map_tasks(_map_fns.pid, range(4), executor=session)
    assert all(np.array_equal(x, y) for x, y in zip(a, map_tasks(_map_fns.draw, ITEMS, executor="inline")))
    assert all(np.array_equal(x, y) for x, y in zip(b, a))
    assert os.getpid() not in pids and len(set(pids)) <= 2
