"""Claims about ``sgdlab volterra`` and ``sgdlab momentum-batch``: JSON on stdout equal to the API, tables on
stderr, files in --out, one-line errors."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import sgdlab
from sgdlab import InputError
from sgdlab import volterra as V
from sgdlab.cli import app

pytestmark = pytest.mark.filterwarnings("ignore:Volterra grid too coarse")


def invoke(*args, code=0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def test_volterra_json_equals_the_api_and_the_table_goes_to_stderr():
    r = invoke("volterra", "--dim", "100", "--lr-fraction", "0.6", "--passes", "3", "--json")
    doc = json.loads(r.stdout)
    p = sgdlab.Problem.power_law(dim=100)
    s = sgdlab.SGD(lr=0.6 * V.critical_step(p), sampling="replacement")
    c = V.predict_curve(p, s, 300)
    assert doc["lr"] == pytest.approx(s.lr, rel=1e-14) and doc["regime"] == V.rate(p, s).regime
    np.testing.assert_allclose(doc["curve"]["loss"], c.loss, rtol=1e-12)
    assert "Volterra prediction" in r.stderr and "{" not in r.stderr


def test_volterra_out_writes_curves_figure_and_run_json_with_sgd_and_hsgd(tmp_path):
    invoke("volterra", "--gaussian", "200,100", "--passes", "2", "--sgd-runs", "3", "--hsgd-paths", "4",
           "--ridge", "0.1", "--out", str(tmp_path))
    for name in ("volterra", "sgd", "hsgd"):
        doc = json.loads((tmp_path / f"{name}.json").read_text())
        assert doc["steps"][-1] == 400 and "nan" not in (tmp_path / f"{name}.csv").read_text().lower()
    theory = json.loads((tmp_path / "volterra.json").read_text())
    assert len(theory["meta"]["risk"]) == len(theory["loss"]) and theory["meta"]["passes"][-1] == 2.0
    assert (tmp_path / "volterra.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["config"]["ridge"] == 0.1 and run["results"]["critical_step"] > 0
    sd = np.asarray(json.loads((tmp_path / "sgd.json").read_text())["meta"]["run_sd"])
    loss = np.asarray(json.loads((tmp_path / "sgd.json").read_text())["loss"])
    steps = np.asarray(json.loads((tmp_path / "sgd.json").read_text())["steps"])
    keep = steps >= 200 / 4                     # from a quarter pass on (n = 200, B = 1)
    assert run["results"]["sgd_single_run_spread"] == pytest.approx(np.median(sd[keep] / loss[keep]), rel=1e-12)
    assert 0 < run["results"]["hsgd_single_run_spread"] < 1


def test_volterra_on_centred_image_features_matches_the_api_with_test_risk():
    r = invoke("volterra", "--data", "digits", "--n-samples", "300", "--width", "100", "--centre", "--passes", "2",
               "--hsgd-paths", "5", "--json")
    doc = json.loads(r.stdout)
    p, risk = V.image_features("digits", 300, 100, test=1000, centre=True)
    s = sgdlab.SGD(lr=0.5 * V.critical_step(p), sampling="replacement")
    c = V.predict_curve(p, s, 600, risk=risk)
    np.testing.assert_allclose(doc["curve"]["loss"], c.loss, rtol=1e-12)
    np.testing.assert_allclose(doc["curve"]["meta"]["risk"], c.meta["risk"], rtol=1e-12)
    assert 0 < doc["hsgd_single_run_spread"] < 1


def test_volterra_reports_divergence_above_the_critical_step_without_nan():
    r = invoke("volterra", "--dim", "100", "--lr-fraction", "1.2", "--passes", "20", "--json")
    doc = json.loads(r.stdout)
    assert doc["status"] == "diverges" and doc["regime"] == "diverges" and doc["growth_rate"] > 0
    assert all(np.isfinite(doc["curve"]["loss"]))


def test_momentum_batch_table_json_csv_and_figure(tmp_path):
    r = invoke("momentum-batch", "--dim", "60", "--batches", "1,30", "--out", str(tmp_path), "--json")
    doc = json.loads(r.stdout)
    api = V.momentum_batch(sgdlab.Problem.power_law(dim=60), [1, 30])
    assert doc["conditioning"]["icr"] == pytest.approx(api.conditioning["icr"])
    assert [row["batch"] for row in doc["rows"]] == [1, 30]
    assert doc["rows"][1]["rate"] == pytest.approx(api.rows[1]["rate"], rel=1e-9)
    assert "ICR" in r.stderr and "best rates" in r.stderr
    rows = list(csv.DictReader((tmp_path / "momentum_batch.csv").open()))
    assert len(rows) == 2 and float(rows[0]["per_sample_rate"]) > 0
    assert (tmp_path / "momentum_batch.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "run.json").read_text())["results"]["knee"] > 0


@pytest.mark.parametrize("args, match", [
    (["volterra", "--gaussian", "20"], "--gaussian"),
    (["volterra", "--dim", "20", "--sgd-runs", "2"], "data set"),
    (["volterra", "--dim", "20", "--sampling", "shuffle"], "shuffle"),
    (["volterra", "--dim", "20", "--centre"], "--width"),
    (["volterra", "--dim", "20", "--width", "50"], "--data"),
    (["momentum-batch", "--dim", "20", "--batches", "a,b"], "--batches"),
    (["momentum-batch", "--dim", "20", "--batches", "50"], "exceeds"),
])
def test_bad_options_raise_a_one_line_input_error(args, match):
    r = CliRunner().invoke(app, args)
    assert isinstance(r.exception, InputError) and match in str(r.exception) and "\n" not in str(r.exception)


def test_the_console_entry_point_prints_one_error_line_and_exits_2():
    r = subprocess.run([sys.executable, "-m", "sgdlab", "momentum-batch", "--dim", "20", "--batches", "50"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("error:") == 1 and "exceeds" in r.stderr
