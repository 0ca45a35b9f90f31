"""Claims about ``sgdlab momentum-scaling``: JSON on stdout with the fitted exponent and its
interval, the table on stderr, finite files and figures, one-line errors, and (slow) the
default experiment's runtime and result."""

import csv
import json
import sys
import time

import pytest
from typer.testing import CliRunner

from sgdlab.cli import app, main

SMALL_UV = ["--model", "uv", "--quick", "--lrs", "4e-3,2e-3,1e-3", "--chains", "30",
            "--c", "0.5,0.71,1,1.41,2"]


def momentum_scaling(*args):
    """Run ``sgdlab momentum-scaling ARGS`` in-process: (the JSON document or None, stderr)."""
    result = CliRunner().invoke(app, ["momentum-scaling", *args])
    assert result.exit_code == 0, result.output
    return (json.loads(result.stdout) if "--json" in args else None), result.stderr


def test_json_has_the_exponent_and_no_interval_from_three_learning_rates_and_the_table_goes_to_stderr():
    # a fit through 3 points has 1 degree of freedom and no Monte-Carlo error of the optima in it:
    # quick mode must not print an interval it cannot support (it once said 0.786, "95% CI 0.771..0.800")
    doc, err = momentum_scaling(*SMALL_UV, "--no-baseline", "--json")
    assert doc["ci95"] is None and 0 < doc["exponent"] < 2 and doc["theory"] == pytest.approx(2 / 3)
    assert "no interval: a fit through 3 learning rates" in err and "95% CI" not in err
    assert [row["lr"] for row in doc["rows"]] == [4e-3, 2e-3, 1e-3]
    assert all(row["optimum"] == "interior" for row in doc["rows"])
    assert doc["C_lin"] == pytest.approx(1.0) and doc["speedup"]["status"] == "skipped"
    assert "optimal momentum per learning rate" in err and "exponent of 1-β*" in err and "{" not in err


def test_out_writes_json_csv_figures_and_run_json_without_nan(tmp_path):
    momentum_scaling(*SMALL_UV, "--out", str(tmp_path))
    names = ["sweep.json", "grid.csv", "optimum.csv", "run.json", "time_vs_momentum.png", "scaling.png", "curves.png"]
    for name in names:
        assert (tmp_path / name).stat().st_size > 0, name
    for name in names[:4]:
        assert "nan" not in (tmp_path / name).read_text().lower(), name
    grid = list(csv.DictReader((tmp_path / "grid.csv").open()))
    assert len(grid) == 3 * 5 and {r["status"] for r in grid} == {"reached"}
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["config"]["quick"] is True and run["command"] == "momentum-scaling"
    speed = run["results"]["speedup"]
    assert speed["status"] in ("reached", "not-reached") and speed["predicted"] > 100


@pytest.mark.parametrize("model", ["sensing", "mlp"])
def test_the_other_test_beds_run_and_report_too_few_optima_as_null(model):
    lrs = "4e-3,2e-3" if model == "sensing" else "4e-2,2e-2"
    doc, err = momentum_scaling("--model", model, "--quick", "--lrs", lrs, "--chains", "4", "--no-baseline", "--json")
    assert doc["exponent"] is None and doc["ci95"] is None and len(doc["rows"]) == 2 and "not fitted" in err


@pytest.mark.parametrize("args,message", [
    (["--model", "resnet"], "--model must be one of uv, sensing, mlp"),
    (["--label-noise", "-1"], "label-noise must be > 0"),
    (["--lrs", "fast"], "--lrs must be numbers"),
    (["--lrs", "0.9", "--c", "4"], "gives 1 - beta"),
    (["--chains", "0"], "chains must be >= 1"),
])
def test_bad_input_is_one_line_error_with_exit_code_2(monkeypatch, capsys, args, message):
    monkeypatch.setattr(sys, "argv", ["sgdlab", "momentum-scaling", "--quick", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and err.count("\n") == 1


@pytest.mark.slow
def test_default_uv_experiment_runs_under_five_minutes_and_finds_two_thirds():
    started = time.perf_counter()
    doc, _ = momentum_scaling("--model", "uv", "--json")
    elapsed = time.perf_counter() - started
    print(f"\ndefault uv experiment: {elapsed:.0f} s, exponent {doc['exponent']:.3f} {doc['ci95']}, "
          f"time exponent {doc['time_exponent']:.3f}, speed-up {doc['speedup']}")
    assert elapsed < 300
    assert abs(doc["exponent"] - 2 / 3) < 0.1 and abs(doc["time_exponent"] + 2 / 3) < 0.1
    assert doc["speedup"]["status"] == "reached" and doc["speedup"]["measured"] > 100
