"""Claims: the documentation site builds with ``mkdocs build --strict`` (no warning: every page,
nav entry, link and section anchor resolves, every API page renders from the docstrings), and the
built pages load nothing from the network."""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
MISSING = [m for m in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
           if importlib.util.find_spec(m.split(".")[0]) is None
           or (m == "mkdocstrings_handlers.python" and importlib.util.find_spec(m) is None)]
needs_mkdocs = pytest.mark.skipif(bool(MISSING), reason=f"the docs extra is not installed (no {', '.join(MISSING)}): "
                                                        'pip install -e ".[docs]"')

#: pages written in other branches of issue 15; their nav entries resolve once those are merged
#: (mkdocs.yml reports a missing nav page as info, so the strict build passes before and after)
ARRIVING = {"own-data.md", "spectra.md", "verdicts.md", "sweeps.md", "performance.md", "gpu.md"}


def nav_files():
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text[text.index("\nnav:"):]
    return re.findall(r":\s+([\w./-]+\.md)\s*$", nav, re.M)


def test_every_nav_entry_is_a_page_in_docs():
    missing = [f for f in nav_files() if not (ROOT / "docs" / f).is_file() and f not in ARRIVING]
    assert nav_files() and missing == []


@needs_mkdocs
def test_the_site_builds_strictly_and_loads_nothing_from_the_network(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    pages = list((tmp_path / "site").rglob("*.html"))
    assert (tmp_path / "site" / "theory" / "volterra.html").is_file() and len(pages) > 30
    api = (tmp_path / "site" / "api" / "sgdlab.html").read_text()
    assert 'id="sgdlab.problem.Problem"' in api and 'id="sgdlab._entry.predict"' in api
    remote = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.I)
    loads = {p.name for p in pages if remote.search(p.read_text())}
    assert loads == set(), f"pages that fetch from the network: {sorted(loads)}"
