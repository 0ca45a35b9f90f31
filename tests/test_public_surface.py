"""Claims about the public surface: each package's ``__init__`` is its door, every public function says
what it takes, returns and raises, with an example that runs (as a doctest in the default suite)."""

import importlib
import inspect

import pytest

DOORS = ["sgdlab", "sgdlab.noise", "sgdlab.schedules", "sgdlab.result", "sgdlab.montecarlo", "sgdlab.linear", "sgdlab.volterra",
         "sgdlab.fluctuations", "sgdlab.manifold", "sgdlab.factorization", "sgdlab.data", "sgdlab.report",
         "sgdlab.sweep", "sgdlab.spectra"]


def _public(door):
    mod = importlib.import_module(door)
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield name, obj


@pytest.mark.parametrize("door", DOORS)
def test_every_name_in_all_exists(door):
    mod = importlib.import_module(door)
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, missing


@pytest.mark.parametrize("door", DOORS)
def test_every_public_function_has_args_returns_raises_and_an_example(door):
    bad = []
    for name, obj in _public(door):
        doc = inspect.getdoc(obj) or ""
        if inspect.isclass(obj):
            need = [] if doc else ["a docstring"]
        else:
            need = [s for s in ("Args:", "Returns:", "Raises:", ">>>") if s not in doc]
            if not inspect.signature(obj).parameters:
                need = [s for s in need if s != "Args:"]
        if need:
            bad.append(f"{door}.{name}: {', '.join(need)}")
    assert not bad, "\n".join(bad)


def test_names_used_in_the_readme_and_the_issues_stay_importable():
    import sgdlab
    for name in ("Problem", "SGD", "Curve", "checkpoints", "predict", "simulate", "critical_lr", "stability_map",
                 "phase", "optimal_momentum", "optimal_lr_momentum", "momentum_batch", "predict_exact",
                 "predict_volterra", "agreement", "noise", "InputError", "ResultError"):
        assert hasattr(sgdlab, name), name
    from sgdlab.linear import exact_critical_lr, negative_momentum_helps, noise_model  # noqa: F401
    from sgdlab.fluctuations import NoStationaryLaw  # noqa: F401
    from sgdlab.volterra import heavy_ball_curve, momentum_report, predict_curve, run_sgd, simulate_hsgd  # noqa: F401
