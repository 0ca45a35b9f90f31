"""Claim: the Python examples of the README and of the user guide (docs/) run as written (each block
in a fresh namespace, in a temp folder).  The long examples moved from the README into the docs
pages (issue 15), so both are run; a block that appears in both runs once."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "docs" / "getting-started.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]
BLOCKS, _seen = [], set()
for _page in PAGES:
    for _i, _block in enumerate(re.findall(r"```python\n(.*?)```", _page.read_text(), re.S)):
        if _block not in _seen:
            _seen.add(_block)
            BLOCKS.append((f"{_page.relative_to(ROOT)} python block {_i + 1}", _block))


def test_the_readme_and_the_guide_have_python_examples():
    assert any(name.startswith("README.md") for name, _ in BLOCKS) and len(BLOCKS) >= 6


@pytest.mark.parametrize("name,block", BLOCKS, ids=[name for name, _ in BLOCKS])
def test_example_runs(name, block, tmp_path, monkeypatch):
    pytest.importorskip("sklearn") if "sgdlab.data" in block else None
    monkeypatch.chdir(tmp_path)
    exec(compile(block, name, "exec"), {"__name__": "readme"})
