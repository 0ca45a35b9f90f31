"""The public surface of sgdlab.data and sgdlab.report: documented, exported, and read_idx's header check."""

import importlib
import inspect

import pytest

import sgdlab
import sgdlab.report
import sgdlab.report.figures
import sgdlab.report.volterra
from sgdlab.data import read_idx

PUBLIC = [(mod, name) for mod in ("sgdlab.data", "sgdlab.report", "sgdlab.report.figures", "sgdlab.report.volterra")
          for name in importlib.import_module(mod).__all__]


@pytest.mark.parametrize("mod,name", PUBLIC)
def test_public_callables_have_google_docstrings(mod, name):
    obj = getattr(importlib.import_module(mod), name)
    if not callable(obj):
        return  # constants (DATASETS, FEATURES) are described in the module docstring
    doc = inspect.getdoc(obj) or ""
    for section in ("Args:", "Returns:", "Raises:", "Example:", ">>> "):
        assert section in doc, f"{mod}.{name} lacks {section!r}"


@pytest.mark.parametrize("mod", ["sgdlab.data", "sgdlab.data.features", "sgdlab.data.loaders", "sgdlab.report",
                                 "sgdlab.report.figures", "sgdlab.report.volterra"])
def test_modules_say_what_they_are_for(mod):
    assert len((importlib.import_module(mod).__doc__ or "").strip()) > 40


def test_every_plot_that_report_reexports_is_exported_by_its_module():
    from sgdlab.report import figures, sweep
    assert set(sgdlab.report.__all__) <= set(figures.__all__) | set(sweep.__all__)


@pytest.mark.parametrize("raw", [bytes([0, 0, 8, 3]), bytes([0, 0, 8, 1, 0, 0])])
def test_read_idx_truncated_header_is_input_error(tmp_path, raw):
    (tmp_path / "x").write_bytes(raw)
    with pytest.raises(sgdlab.InputError):
        read_idx(tmp_path / "x")


def test_read_idx_missing_file_is_oserror(tmp_path):
    with pytest.raises(OSError):
        read_idx(tmp_path / "missing")
