"""Griffe extension for the docs site: render sgdlab's ``Example:`` sections as examples.

sgdlab's docstrings head their doctests ``Example:`` (the tests look for that word).  Griffe's
Google parser knows only ``Examples:`` as the section whose ``>>>`` lines become code blocks;
``Example:`` would be rendered as an admonition of plain text.  This extension renames the heading
in the docstring text griffe reads, nothing in the source.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADING = re.compile(r"^(\s*)Example:\s*$", re.M)


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` to ``Examples:`` in every docstring griffe loads."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _HEADING.sub(r"\1Examples:", obj.docstring.value)
