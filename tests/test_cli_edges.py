"""Promises kept at the edges of the command line (issue 12).

Bad values, bad paths and OS failures end in one ``error:`` line and exit code 2, never a
traceback; outputs keep the user's umask; Ctrl-C ends a long run within 2 s with exit code
130 and no partial output.
"""

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sgdlab._io import write_text

from conftest import invoke_cli

#: cheap arguments per command (every command listed by ``sgdlab --help``)
BASE = {
    "predict": ["--dim", "20", "--steps", "50"],
    "simulate": ["--dim", "20", "--steps", "50", "--seeds", "4"],
    "compare": ["--dim", "20", "--steps", "50", "--seeds", "4"],
    "stability": ["--dim", "20", "--grid", "10"],
    "phase": ["--dim", "200", "--steps", "1000"],
    "tune": ["--dim", "20", "--steps", "50", "--grid", "5"],
    "advise": ["--dim", "20", "--budget", "50", "--grid", "5"],
    "budget": ["--dim", "50", "--samples", "64"],
    "balance": ["--runs", "3", "--steps", "100", "--no-map"],
    "fluctuations": ["--chains", "2", "--steps", "100"],
    "momentum-scaling": ["--quick", "--chains", "2", "--lrs", "4e-3", "--c", "1", "--no-baseline"],
    "volterra": ["--dim", "20", "--passes", "1"],
    "momentum-batch": ["--dim", "20", "--batches", "1,4"],
}

NOT_A_NUMBER = st.sampled_from(["nan", "inf", "-inf", "garbage", "", "1,2", "0x", "--", "1e400"])
NONPOSITIVE = st.one_of(NOT_A_NUMBER, st.floats(max_value=0.0, allow_nan=False, allow_infinity=False).map(repr))
NEGATIVE = st.one_of(NOT_A_NUMBER, st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False).map(repr))
MOMENTUM = st.one_of(NOT_A_NUMBER, st.floats(min_value=1.0, allow_infinity=False).map(repr),
                     st.floats(max_value=-1.0, allow_infinity=False).map(repr))
COUNT = st.one_of(NOT_A_NUMBER, st.integers(max_value=0).map(str), st.integers(min_value=10**12).map(str),
                  st.sampled_from(["1.5", "1e3"]))
COUNT0 = st.one_of(NOT_A_NUMBER, st.integers(max_value=-1).map(str), st.integers(min_value=10**12).map(str))
SEED = st.one_of(NOT_A_NUMBER, st.integers(max_value=-1).map(str), st.integers(min_value=2**32).map(str))
INTLIST = st.one_of(st.sampled_from(["a,b", "", ",", "1,,x", "0", "-4,1", "1.5", "nan"]),
                    st.lists(st.integers(max_value=0), min_size=1, max_size=3).map(lambda v: ",".join(map(str, v))))
FLOATLIST = st.sampled_from(["a,b", "", ",", "nan", "inf,1", "1:2", "1:2:0", "x:y:3"])
GARBAGE = st.text(alphabet="abcxyz!?-_ ", min_size=1, max_size=8)

PROBLEM = {"--nu": NONPOSITIVE, "--kappa": NONPOSITIVE, "--dim": COUNT, "--noise-variance": NEGATIVE}
OPTIONS = {
    "predict": {**PROBLEM, "--lr": NONPOSITIVE, "--momentum": MOMENTUM, "--batch": COUNT, "--steps": COUNT,
                "--sampling": GARBAGE, "--model": GARBAGE, "--tau": GARBAGE, "--data": GARBAGE},
    "simulate": {**PROBLEM, "--lr": NONPOSITIVE, "--momentum": MOMENTUM, "--batch": COUNT, "--steps": COUNT,
                 "--seeds": COUNT, "--seed": SEED, "--backend": GARBAGE, "--sampling": GARBAGE},
    "compare": {**PROBLEM, "--lr": NONPOSITIVE, "--momentum": MOMENTUM, "--batch": COUNT, "--steps": COUNT,
                "--seeds": COUNT, "--seed": SEED, "--model": GARBAGE},
    "stability": {**PROBLEM, "--batch": COUNT, "--momentum-min": MOMENTUM, "--momentum-max": MOMENTUM,
                  "--grid": COUNT, "--model": GARBAGE},
    "phase": {"--nu": NONPOSITIVE, "--kappa": NONPOSITIVE, "--dim": COUNT, "--lr": NONPOSITIVE,
              "--momentum": MOMENTUM, "--batch": COUNT, "--steps": COUNT, "--model": GARBAGE},
    "tune": {**PROBLEM, "--lr": NONPOSITIVE, "--batch": COUNT, "--steps": COUNT, "--grid": COUNT,
             "--model": GARBAGE},
    "advise": {**PROBLEM, "--budget": COUNT, "--unit": GARBAGE, "--batches": INTLIST, "--momenta": FLOATLIST,
               "--grid": COUNT, "--schedule": GARBAGE, "--model": GARBAGE, "--seeds": COUNT},
    "budget": {"--nu": NONPOSITIVE, "--kappa": NONPOSITIVE, "--dim": COUNT, "--batches": INTLIST,
               "--fraction": NONPOSITIVE, "--momentum": MOMENTUM, "--samples": COUNT, "--model": GARBAGE,
               "--seeds": COUNT0},
    "balance": {"--singular-values": FLOATLIST, "--rank": COUNT, "--scale": NONPOSITIVE, "--start": FLOATLIST,
                "--c": FLOATLIST, "--runs": COUNT, "--steps": COUNT, "--seed": SEED},
    "fluctuations": {"--eigenvalues": FLOATLIST, "--noise": GARBAGE, "--noise-scale": NEGATIVE,
                     "--label-variance": NEGATIVE, "--batch": COUNT, "--lr": NONPOSITIVE,
                     "--lr-fraction": NONPOSITIVE, "--momentum": MOMENTUM, "--preconditioner": GARBAGE,
                     "--chains": COUNT, "--steps": COUNT, "--seed": SEED, "--backend": GARBAGE},
    "momentum-scaling": {"--model": GARBAGE, "--lrs": FLOATLIST, "--c": FLOATLIST, "--label-noise": NONPOSITIVE,
                         "--chains": COUNT, "--seed": SEED, "--activation": GARBAGE},
    "volterra": {**PROBLEM, "--lr": NONPOSITIVE, "--lr-fraction": NONPOSITIVE, "--batch": COUNT,
                 "--sampling": GARBAGE, "--ridge": NEGATIVE, "--passes": NONPOSITIVE, "--sgd-runs": COUNT0,
                 "--hsgd-paths": COUNT0, "--seed": SEED, "--gaussian": GARBAGE, "--sigma": NEGATIVE},
    "momentum-batch": {**PROBLEM, "--batches": INTLIST, "--sampling": GARBAGE, "--fourth-moment": GARBAGE,
                       "--gaussian": GARBAGE, "--seed": SEED},
}


_invoke = invoke_cli


def assert_one_error(r, *needles, after_output=False):
    """Exit 2 and exactly one ``error:`` line on stderr (typer's usage errors included); no traceback.

    ``after_output``: the error came after the run printed its tables (then it is the last line)."""
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error")]
    assert errors == [lines[-1]] and (after_output or len(lines) == 1), r.stderr
    assert lines[-1].startswith("error: ")
    for n in needles:
        assert n in lines[-1], (n, lines[-1])
    assert r.stdout == ""


def test_every_listed_command_has_a_case(run):
    r = run("--help")
    section = r.stdout.split("Commands:", 1)[1].splitlines()
    listed = {line.split()[0] for line in section if line.startswith("  ") and not line.startswith("   ")}
    assert set(BASE) <= listed and len(BASE) == 13


@pytest.mark.parametrize("command", list(BASE))
def test_random_invalid_option_values_give_one_error_line(command, capsys, monkeypatch, tmp_path):
    @settings(max_examples=15, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def check(data):
        option = data.draw(st.sampled_from(sorted(OPTIONS[command])), label="option")
        value = data.draw(OPTIONS[command][option], label="value")
        out = tmp_path / "never"
        r = _invoke(monkeypatch, capsys, [command, *BASE[command], option, value, "--out", str(out)])
        assert_one_error(r)
        assert not out.exists() or not any(out.iterdir())
    check()


# ----------------------------------------------------------------- paths and OS errors
@pytest.mark.parametrize("command", list(BASE))
def test_out_that_is_a_file_or_below_a_file_fails_before_computing(command, run, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    for out in (f, f / "sub"):
        tic = time.perf_counter()
        r = run(command, *BASE[command], "--out", str(out))
        assert_one_error(r, "--out", str(out))
        assert time.perf_counter() - tic < 2.0            # checked before computing
    assert f.read_text() == "x"


def test_input_paths_missing_or_a_folder(run, tmp_path):
    assert_one_error(run("predict", "--spectrum", str(tmp_path)), "--spectrum", "folder")
    assert_one_error(run("predict", "--spectrum", str(tmp_path / "missing.txt")), "--spectrum")
    (tmp_path / "s.txt").write_text("1\n0.5\n")
    assert_one_error(run("predict", "--spectrum", str(tmp_path / "s.txt"), "--target", str(tmp_path / "no")),
                     "--target")
    assert_one_error(run("fluctuations", "--hessian", str(tmp_path)), "--hessian")
    assert_one_error(run("fluctuations", "--hessian", str(tmp_path / "no.npy")), "--hessian")


def test_disk_full_while_writing_is_one_error_line_and_leaves_no_partial_output(run, tmp_path, monkeypatch):
    import sgdlab._io as io

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(io.os, "fsync", full)
    out = tmp_path / "o"
    r = run("predict", "--dim", "20", "--steps", "50", "--out", str(out))
    assert_one_error(r, "--out", str(out), "space", after_output=True)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []                  # no staged folder or temp file left


def test_existing_out_folder_keeps_other_files_and_gets_results(run, tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    r = run("predict", "--dim", "20", "--steps", "50", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "mine.txt").read_text() == "keep" and (tmp_path / "run.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_outputs_have_the_users_umask(run, tmp_path):
    old = os.umask(0o022)
    try:
        p = write_text(tmp_path / "a.txt", "x")
        assert p.stat().st_mode & 0o777 == 0o644
        out = tmp_path / "o"
        r = run("predict", "--dim", "20", "--steps", "50", "--out", str(out))
        assert r.returncode == 0, r.stderr
        assert out.stat().st_mode & 0o777 == 0o755
        assert {f.stat().st_mode & 0o777 for f in out.iterdir()} == {0o644}
        os.umask(0o077)
        assert write_text(tmp_path / "b.txt", "x").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


# ----------------------------------------------------------------- input files
@pytest.mark.parametrize("text", [
    "eigenvalue\n1.0\n0.5\n0.25\n",
    "eigenvalue,target\n1.0,1\n0.5,1\n0.25,1\n",
    "1.0;1\n0.5;1\n0.25;1\n",
    "1.0\t1\n0.5\t1\n0.25\t1\n",
    "# comment\n1.0  1\n0.5 1\n\n0.25 1\n",
    "1.0, 0.5, 0.25\n",
])
def test_spectrum_files_with_header_and_other_separators(run, tmp_path, text):
    for suffix in (".csv", ".txt"):
        f = tmp_path / f"spec{suffix}"
        f.write_text(text)
        r = run("predict", "--spectrum", str(f), "--steps", "20", "--json")
        assert r.returncode == 0, r.stderr
        assert '"final_loss"' in r.stdout


@pytest.mark.parametrize("text,needle", [
    ("1+2j\n0.5\n", "real number"), ("1\nabc\n", "real number"), ("1\nnan\n", "NaN"), ("", "no numbers"),
    ("1,2\n3\n", "columns"), ("1,2,3\n4,5,6\n", "one column"),
])
def test_bad_spectrum_files_are_one_error_naming_the_file(run, tmp_path, text, needle):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    assert_one_error(run("predict", "--spectrum", str(f)), str(f), needle)


def test_complex_npy_spectrum_is_rejected(run, tmp_path):
    f = tmp_path / "c.npy"
    np.save(f, np.array([1 + 1j, 0.5]))
    assert_one_error(run("predict", "--spectrum", str(f)), str(f), "real")


# ----------------------------------------------------------------- options named as typed
@pytest.mark.parametrize("args,option", [
    (["stability", "--grid", "0"], "--grid"),
    (["tune", "--grid", "0"], "--grid"),
    (["stability", "--momentum-max", "1.0"], "--momentum-max"),
    (["stability", "--momentum-min", "0.5", "--momentum-max", "0.2"], "--momentum-min"),
    (["volterra", "--passes", "0"], "--passes"),
    (["volterra", "--passes", "-1"], "--passes"),
    (["simulate", "--seed", "-1"], "--seed"),
    (["balance", "--seed", "-1"], "--seed"),
    (["budget", "--batches", "a,b"], "--batches"),
    (["budget", "--batches", "0,4"], "--batches"),
    (["momentum-batch", "--batches", "a,b"], "--batches"),
    (["predict", "--lr", "nan"], "--lr"),
    (["predict", "--dim", "0"], "--dim"),
    (["fluctuations", "--eigenvalues", "1,nan"], "--eigenvalues"),
])
def test_bad_option_names_the_option_as_typed(run, args, option):
    assert_one_error(run(*args), option)


# ----------------------------------------------------------------- Ctrl-C
@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["compare", "--dim", "200", "--seeds", "2000", "--steps", "200000"],
    ["fluctuations", "--chains", "3000", "--steps", "200000"],
    ["predict", "--dim", "2000", "--steps", "100000000", "--method", "recursion"],
])
def test_ctrl_c_returns_within_2s_with_130_and_no_partial_output(tmp_path, args):
    """SIGINT once the simulation runs (its progress bar is on stderr; FORCE_COLOR makes rich draw it)."""
    out = tmp_path / "o"
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""), "FORCE_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sgdlab", *args, "--out", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(lambda: proc.stderr.read(1), "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while "SGD x" not in "".join(err) and proc.poll() is None and time.monotonic() < deadline:
        if args[0] == "predict":               # no progress bar: the recursion runs for minutes
            time.sleep(6.0)
            break
        time.sleep(0.05)
    time.sleep(1.5)
    assert proc.poll() is None, "".join(err)
    tic = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    latency = time.perf_counter() - tic
    reader.join(timeout=5)
    text = "".join(err)
    print(f"Ctrl-C latency {latency:.2f} s ({args[0]})")
    assert latency < 2.0, latency
    assert proc.returncode == 130, text
    assert text.strip().splitlines()[-1].endswith("interrupted") and "Traceback" not in text
    assert not out.exists() or not any(out.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name != "o"]


def test_ctrl_c_in_process_is_130_with_one_line_and_no_output(run, tmp_path, monkeypatch):
    import sgdlab.linear

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(sgdlab.linear, "simulate", interrupted)
    out = tmp_path / "o"
    r = run("compare", "--dim", "20", "--steps", "50", "--out", str(out))
    assert r.returncode == 130 and r.stderr.strip().splitlines()[-1] == "interrupted" and "Traceback" not in r.stderr
    assert not out.exists()


def test_ctrl_c_while_writing_leaves_no_half_written_folder(run, tmp_path, monkeypatch):
    import sgdlab.report

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(sgdlab.report, "plot_curves", interrupted)     # after theory.json/csv were written
    out = tmp_path / "o"
    r = run("predict", "--dim", "20", "--steps", "50", "--out", str(out))
    assert r.returncode == 130 and r.stderr.strip().splitlines()[-1] == "interrupted"
    assert list(tmp_path.iterdir()) == []


def test_json_on_stdout_and_run_json_never_hold_nan_or_inf(run, tmp_path):
    import json

    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    r = run("phase", "--lr", "100", "--dim", "100", "--steps", "100", "--json", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert strict(r.stdout)["noise_mass"] is None                   # infinite past the edge: null
    strict((tmp_path / "run.json").read_text())


def test_warnings_never_precede_an_error_line_and_follow_a_success(run, monkeypatch):
    import warnings

    import sgdlab.linear
    from sgdlab import InputError
    predict = sgdlab.linear.predict

    def noisy(*a, **k):
        warnings.warn("overflow encountered in multiply", RuntimeWarning)
        raise InputError("lr too large: lower --lr")
    monkeypatch.setattr(sgdlab.linear, "predict", noisy)
    assert_one_error(run("predict", "--dim", "20", "--steps", "50"), "--lr")

    def noisy_ok(*a, **k):
        warnings.warn("overflow encountered in multiply", RuntimeWarning)
        return predict(*a, **k)
    monkeypatch.setattr(sgdlab.linear, "predict", noisy_ok)
    r = run("predict", "--dim", "20", "--steps", "50")
    assert r.returncode == 0 and r.stderr.strip().splitlines()[-1] == "warning: overflow encountered in multiply"
