"""Claims about ``sgdlab balance``: table on stderr, JSON on stdout, finite files, one-line errors."""

import csv
import json
import sys

import pytest
from typer.testing import CliRunner

from sgdlab.cli import app, main

QUICK = ["balance", "--quick", "--c", "0.5,1.5,2.4", "--map-scales", "1,2.5", "--seed", "1"]


def invoke(*args):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_json_on_stdout_table_on_stderr_with_every_status_fraction():
    r = invoke(*QUICK, "--no-map", "--json")
    doc = json.loads(r.stdout)
    assert [row["c"] for row in doc["rows"]] == [0.5, 1.5, 2.4]
    assert doc["rows"][2]["frac_diverges"] == 1.0 and doc["rows"][2]["ratio_median"] is None
    assert doc["rows"][0]["frac_converges"] == 1.0 and doc["L0"]["min"] > 0
    assert "run status" in r.stderr and "{" not in r.stderr


def test_out_writes_csv_json_figures_and_run_json_without_nan(tmp_path):
    invoke(*QUICK, "--out", str(tmp_path))
    names = ["sweep.csv", "runs.csv", "sweep.json", "map.csv", "run.json",
             "balance.png", "trajectories.png", "convergence_map.png"]
    for name in names:
        assert (tmp_path / name).stat().st_size > 0, name
    for name in names[:5]:
        assert "nan" not in (tmp_path / name).read_text().lower(), name
    runs = list(csv.DictReader((tmp_path / "runs.csv").open()))
    assert len(runs) == 3 * 30 and {r["status"] for r in runs} >= {"converges", "diverges"}
    assert json.loads((tmp_path / "run.json").read_text())["config"]["quick"] is True


def test_figures_are_written_when_every_run_diverges(tmp_path):
    r = invoke("balance", "--quick", "--c", "2.5,3", "--no-map", "--json", "--out", str(tmp_path))
    assert all(row["frac_diverges"] == 1.0 for row in json.loads(r.stdout)["rows"])
    assert (tmp_path / "balance.png").stat().st_size > 0 and (tmp_path / "trajectories.png").exists()


def test_scalar_start_reports_convergence_beyond_the_classical_edge():
    r = invoke("balance", "--start", "9,1", "--singular-values", "1", "--c", "1.5,1.9", "--no-map",
               "--steps", "5000", "--json")
    rows = json.loads(r.stdout)["rows"]
    assert all(row["frac_converges"] == 1.0 and row["ratio_median"] < 1 for row in rows)


@pytest.mark.parametrize("args, message", [
    (["--runs", "0"], "runs must be >= 1"),
    (["--c", "1,x"], "--c must be numbers"),
    (["--start", "9"], "--start must be two numbers"),
    (["--scale", "-1"], "scale must be > 0"),
])
def test_bad_input_is_one_line_error_with_exit_code_2(monkeypatch, capsys, args, message):
    monkeypatch.setattr(sys, "argv", ["sgdlab", "balance", "--quick", "--no-map", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1
