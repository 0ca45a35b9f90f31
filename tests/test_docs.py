"""The doctests in the public docstrings print the numbers they claim."""

import doctest

import pytest

import sgdlab
import sgdlab.linear.predict


@pytest.mark.parametrize("module", [sgdlab, sgdlab.linear.predict])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
