"""Claims about the command line: outputs, JSON, errors without tracebacks."""

import json
import subprocess
import sys

import numpy as np
import pytest


ARGS = ["--dim", "60", "--steps", "300"]


def run_subprocess(*args):
    return subprocess.run([sys.executable, "-m", "sgdlab", *args], capture_output=True, text=True, timeout=300)


def test_predict_json_on_stdout_and_table_on_stderr(run):
    r = run("predict", *ARGS, "--lr", "0.5", "--momentum", "-0.2", "--batch", "8", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["status"] == "converges" and len(doc["curve"]["loss"]) == len(doc["curve"]["steps"])
    assert "predicted loss" in r.stderr


def test_compare_writes_figure_curves_error_table_and_run_json(run, tmp_path):
    out = tmp_path / "o"
    r = run("compare", *ARGS, "--seeds", "50", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    for f in ("compare.png", "theory.json", "theory.csv", "simulation.json", "simulation.csv", "errors.csv", "run.json"):
        assert (out / f).stat().st_size > 0, f
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["config"]["seeds"] == 50 and "numpy" in run_json["versions"]
    err = np.loadtxt(out / "errors.csv", delimiter=",", skiprows=1)
    assert np.all(np.isfinite(err))
    assert json.loads(r.stdout)["max_abs_z"] < 5


def test_stability_writes_map_and_critical_curve(run, tmp_path):
    r = run("stability", "--dim", "100", "--batch", "8", "--grid", "50", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "stability.png").exists()
    crit = np.loadtxt(tmp_path / "stability.csv", delimiter=",", skiprows=1)
    assert crit.shape == (50, 2) and np.all(crit[:, 1] > 0)


def test_divergent_run_is_reported_as_divergence_with_finite_files(run, tmp_path):
    r = run("predict", "--dim", "60", "--steps", "100000", "--lr", "0.8", "--momentum", "0", "--batch", "1",
            "--out", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["status"] == "diverges" and "noise mass" in doc["reason"] and doc["diverged_at"] > 0
    assert "NaN" not in (tmp_path / "theory.json").read_text()


def test_bad_input_is_one_line_without_traceback(run):
    for args in (["predict", "--lr", "-1"], ["predict", "--momentum", "1.5"], ["simulate", "--batch", "0"],
                 ["predict", "--spectrum", "no-such-file.npy"]):
        r = run(*args)
        assert r.returncode == 2
        assert r.stderr.strip().startswith("error:") and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run_subprocess("predict", "--lr", "-1")          # the installed entry point, in its own process
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("error:") and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_spectrum_from_a_file(run, tmp_path):
    np.savetxt(tmp_path / "eig.txt", np.c_[[1.0, 2.0], [1.0, 1.0]])
    r = run("predict", "--spectrum", str(tmp_path / "eig.txt"), "--lr", "0.1", "--momentum", "0", "--batch", "1",
            "--steps", "10", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["critical_lr"] == pytest.approx(4 / (9 + 17**0.5), rel=1e-9)


def test_phase_command_reports_exponent_and_writes_figure(run, tmp_path):
    r = run("phase", "--nu", "2.5", "--kappa", "6", "--steps", "100000", "--out", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["phase"] == "noise" and abs(doc["exponent"] - 1.6) < 1e-12
    assert abs(doc["fitted_slope"] - doc["exponent"]) < 0.02
    assert (tmp_path / "phase.png").exists()


def test_tune_command_finds_a_momentum(run, tmp_path):
    r = run("tune", "--dim", "50", "--steps", "200", "--batch", "4", "--grid", "15", "--out", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert -1 < doc["momentum"] < 1 and doc["loss"] <= doc["loss_zero_momentum"]
    assert (tmp_path / "tuning.png").exists()


def test_compare_on_real_data_uses_the_se_model(run, tmp_path):
    r = run("compare", "--data", "digits", "--n-samples", "300", "--lr", "1.0", "--batch", "10", "--momentum",
            "0.3", "--steps", "200", "--seeds", "50", "--out", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    cfg = json.loads((tmp_path / "run.json").read_text())["config"]
    assert cfg["model"] == "se" and cfg["sgd"]["sampling"] == "without" and cfg["tau"] is not None
