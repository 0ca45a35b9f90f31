"""The doctests in the public docstrings print the numbers they claim."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["sgdlab", "sgdlab.linear.predict"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
