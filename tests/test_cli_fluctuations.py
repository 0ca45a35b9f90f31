"""Claims about ``sgdlab fluctuations``: JSON on stdout, table on stderr, files, refusals, one-line errors."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from sgdlab import fluctuations as F
from sgdlab.cli import app

QUICK = ["fluctuations", "--chains", "20", "--steps", "2000"]


def invoke(*args, code=0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def test_json_on_stdout_table_on_stderr_and_theory_equal_to_the_api():
    r = invoke(*QUICK, "--eigenvalues", "0.25,0.5,1,2", "--no-rotate", "--noise", "isotropic", "--lr", "0.8", "--json")
    doc = json.loads(r.stdout)
    st = F.stationary_covariance(np.diag([0.25, 0.5, 1, 2]), np.eye(4), 0.8)
    np.testing.assert_allclose(doc["theory"]["cov"], st.cov, rtol=1e-14)
    assert doc["status"] == "stationary" and doc["lr_max"] == pytest.approx(1.0, rel=1e-10)
    assert doc["theory"]["ratio_to_continuous"] == pytest.approx(st.ratio_to_continuous)
    sim = doc["simulation"]
    assert sim["vs_theory"]["max_z"] < 4.5 and sim["vs_theory"]["rel_error"] < 4 * sim["vs_theory"]["mc_rel_error"]
    assert "stationary law of e = w - w*" in r.stderr and "{" not in r.stderr


def test_out_writes_json_csv_cloud_figure_and_run_json(tmp_path):
    invoke(*QUICK, "--momentum", "0.5", "--out", str(tmp_path))
    for name in ("stationary.json", "covariance.csv", "cloud.csv", "approximation_error.csv", "run.json"):
        text = (tmp_path / name).read_text()
        assert text and "nan" not in text.lower(), name
    assert (tmp_path / "fluctuations.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader((tmp_path / "covariance.csv").open()))
    assert len(rows) == 16 and all(float(r["simulated_se"]) > 0 for r in rows)
    assert len(list(csv.DictReader((tmp_path / "cloud.csv").open()))) == 2000
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["config"]["momentum"] == 0.5 and run["results"]["max_z"] < 4.5 and run["elapsed_s"] > 0


@pytest.mark.parametrize("noise,extra", [
    ("online", ["--batch", "4", "--lr-fraction", "0.6"]),
    ("replacement", ["--batch", "2", "--eigenvalues", "1,0.5,0.2"]),
    ("distinct", ["--batch", "4", "--momentum", "0.9", "--preconditioner", "adam"]),
    ("label", ["--noise-scale", "0.5", "--n-data", "30"]),
    ("hessian", ["--preconditioner", "newton", "--lr", "1.5"]),
    ("random", ["--preconditioner", "natural", "--momentum", "-0.3"]),
    ("random", ["--backend", "numpy", "--momentum", "0.6"]),
])
def test_every_noise_model_and_preconditioner_runs_and_agrees_with_its_simulation(noise, extra):
    doc = json.loads(invoke(*QUICK, "--noise", noise, *extra, "--json").stdout)
    vs = doc["simulation"]["vs_theory"]
    assert vs["max_z"] < 4.5, vs
    assert doc["theory"]["excess_loss"] > 0


def test_beyond_lr_max_reports_no_stationary_law_with_the_failing_condition(tmp_path):
    r = invoke(*QUICK, "--noise", "online", "--batch", "4", "--no-rotate", "--lr", "0.7", "--json",
               "--out", str(tmp_path), code=0)        # an answer (status "diverges"), not an error
    doc = json.loads(r.stdout)
    assert doc["status"] == "diverges" and doc["condition"] == "noise feedback"
    assert doc["message"].startswith("no stationary law: minibatch-noise feedback")
    assert doc["lr_max"] == pytest.approx(0.6392, abs=1e-4)
    assert json.loads((tmp_path / "run.json").read_text())["results"]["status"] == "diverges"


def test_bad_input_is_one_error_line_without_traceback():
    r = subprocess.run([sys.executable, "-m", "sgdlab", "fluctuations", "--momentum", "1.5", "--no-simulate"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error: --momentum") and len(r.stderr.strip().splitlines()) == 1, r.stderr
