"""Claims about the validation pages of the docs: they are rendered from the record of one ``sgdlab reproduce``
run (claims.json and the figures), show every claim of the record on its paper's page, print no number that
is not in the record, and the committed pages are exactly what the committed record renders to."""

import json
import pathlib
import re

import pytest
from typer.testing import CliRunner

from sgdlab._validate import InputError
from sgdlab.cli import app
from sgdlab.report.validation import (PAPERS, RECORD, fmt, main, paper_of, publish, read_record, render_pages)

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "validation"
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def synthetic_record() -> dict:
    """A claims.json document with one or two claims per paper, nested numbers and distinctive values."""
    claims = []
    for k, p in enumerate(PAPERS):
        for j in range(1 + (k % 2)):
            cid = f"{p.prefix}.claim-{k}{j}"
            claims.append({
                "id": cid, "title": f"Claim {k}{j} of {p.name} with α* < 2|x|", "status": ("holds", "cannot-check")[j],
                "reason": f"max |z| = {3.17 + k} <= {4.02 + k} (docs/theory/{p.theory}.md §1)",
                "measured": f"slope {0.8004 + k / 10:.4f}", "tolerance": "|z| ≤ z*", "rationale": f"rationale_{k}{j}",
                "source": f"{p.name}, a theorem (docs/theory/{p.theory}.md §1)",
                "command": f"sgdlab reproduce --only {cid} --quick",
                "numbers": {"lr": 0.123456789 + k, "seeds": 300 + k, "ok": True, "missing": None,
                            "grid": [0.25, 1.5e-7 * (k + 1)], "verdict": {"max_abs_z": 2.6424933536 + k},
                            "rows": [{"batch": 1, "rate": 0.0021012872 * (k + 1)}, {"batch": 200 + k}]},
                "seconds": 11.1497 + k, "config": {"quick": True, "seed": 0, "version": "0.1.0"},
                "caption": f"caption {k}{j}: mean of {300 + k} runs"})
    meta = {"mode": "quick", "seed": 0, "version": "0.1.0", "claims": len(claims), "seconds": 412.7,
            "date": "2026-12-02 04:48", "git": "e0913ca5b1d2", "machine": "Some CPU, x86_64, Linux", "cores": 2}
    counts = {w: sum(c["status"] == w for c in claims) for w in ("holds", "does-not-hold", "cannot-check")}
    return {"meta": meta, "counts": counts, "claims": claims}


def record_tokens(doc) -> set:
    """Every number of the record, as it is written in its strings and as the pages print its values."""
    out = set()

    def walk(x):
        if isinstance(x, str):
            out.update(NUMBER.findall(x))
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(str(k))
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif x is not None:
            out.update(NUMBER.findall(fmt(x)))
    walk(doc)
    return out


def test_every_claim_of_the_record_is_on_its_papers_page_with_all_its_parts():
    doc = synthetic_record()
    figures = {c["id"] for c in doc["claims"][::2]}
    pages = render_pages(doc, figures)
    assert set(pages) == {"index.md", *(p.page for p in PAPERS)}
    for c in doc["claims"]:
        page = pages[paper_of(c["id"]).page]
        assert f"{{#{c['id']}}}" in page and f"`{c['command']}`" in page
        for part in ("measured", "rationale"):
            assert c[part].replace("_", "\\_") in page, (c["id"], part)
        assert (c["caption"] in page) == (c["id"] in figures)                   # a figure with its caption
        assert f"**{c['status']}**" in page and "α\\* &lt; 2\\|x\\|" in page
        assert (f"({RECORD}/{c['id']}.png)" in page) == (c["id"] in figures)
        assert f"| `lr` | {fmt(c['numbers']['lr'])} |" in page and f"| `verdict.max_abs_z` | " in page
        assert f"| {c['numbers']['rows'][1]['batch']} |  |" in page           # a row of the `rows` table
        assert f"]({paper_of(c['id']).page}#{c['id']})" in pages["index.md"]  # the summary table links it
    # the source's citation links to the theory page's section
    assert "[§1](../theory/volterra.md#sec-1)" in pages["volterra.md"]


def test_every_number_on_the_pages_comes_from_the_record():
    doc = synthetic_record()
    pages = render_pages(doc, {c["id"] for c in doc["claims"]})
    allowed = record_tokens(doc)
    for name, text in pages.items():
        shown = set(NUMBER.findall(text))
        assert shown - allowed == set(), name
    # a float is printed to 4 significant digits of its value in the record, never retyped
    assert "| `lr` | 0.1235 |" in pages["generating-functions.md"] and "0.123456789" not in pages["index.md"]
    # and a record with no numbers gives pages with no digit at all
    bare = {"meta": {"mode": "full"}, "claims": [{"id": p.prefix + ".x", "title": "t"} for p in PAPERS]}
    digits = {n: set(NUMBER.findall(t)) - {"000", "001", "002", "003", "004"}
              for n, t in render_pages(bare).items()}
    assert all(d == set() for d in digits.values()), digits


def test_the_pages_say_they_are_generated_and_which_run_they_come_from():
    doc = synthetic_record()
    pages = render_pages(doc)
    for name, text in pages.items():
        assert "do not edit by hand" in text and f"({RECORD}/claims.json)" in text, name
        assert "quick run of 2026-12-02 04:48" in text and "commit e0913ca5b1d2" in text and "412.7 s on 2 cores" in text
    index = pages["index.md"]
    for fact in ("| date | 2026-12-02 04:48 |", "| quick or full | quick |", "| sgdlab version | 0.1.0 |",
                 "| git commit | e0913ca5b1d2 |", "| total run time (s) | 412.7 |", "| cores | 2 |",
                 "| machine | Some CPU, x86\\_64, Linux |", "This is the quick run"):
        assert fact in index, fact
    assert "| claim | source | measured | tolerance | verdict |" in index
    assert "Verdicts: 5 holds, 0 does-not-hold, 2 cannot-check." in index


def test_a_claim_id_of_no_paper_and_a_document_without_claims_are_refused():
    with pytest.raises(InputError, match="claim id must start with one of seed000"):
        render_pages({"claims": [{"id": "seed009.x"}]})
    with pytest.raises(InputError, match="claims.json must hold a list 'claims'"):
        render_pages({"meta": {}})


def test_publish_replaces_the_folder_whole_keeps_the_record_and_refuses_foreign_files(tmp_path):
    doc = synthetic_record()
    ids = [c["id"] for c in doc["claims"]]
    dest = tmp_path / "validation"
    names = publish(doc, {i: b"png-" + i.encode() for i in ids}, dest)
    assert "index.md" in names and f"{RECORD}/claims.json" in names
    again, figures = read_record(dest / RECORD / "claims.json")
    assert again == doc and figures == {i: b"png-" + i.encode() for i in ids}
    # a second run with fewer figures leaves none of the first run's behind
    publish(doc, {ids[0]: b"new"}, dest)
    assert sorted(f.name for f in (dest / RECORD).iterdir()) == ["claims.json", f"{ids[0]}.png"]
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".")]      # no staged folder left
    (dest / "notes.md").write_text("mine")
    with pytest.raises(InputError, match=r"holds files the validation pages do not \(notes.md\)"):
        publish(doc, {}, dest)
    assert (dest / "notes.md").read_text() == "mine"


def test_the_module_renders_a_finished_reports_claims_json_with_its_cached_figures(tmp_path):
    doc = synthetic_record()
    (tmp_path / "rep" / "cache").mkdir(parents=True)
    (tmp_path / "rep" / "claims.json").write_text(json.dumps(doc))
    first, second = doc["claims"][0], doc["claims"][1]
    for c, seconds in ((first, first["seconds"]), (second, second["seconds"] + 1)):   # the second is stale
        (tmp_path / "rep" / "cache" / f"{c['id']}.json").write_text(json.dumps({**c, "seconds": seconds}))
        (tmp_path / "rep" / "cache" / f"{c['id']}.png").write_bytes(b"png")
    assert main([str(tmp_path / "rep" / "claims.json"), str(tmp_path / "docs")]) == 0
    assert sorted(f.name for f in (tmp_path / "docs" / RECORD).iterdir()) == ["claims.json", f"{first['id']}.png"]
    assert main([str(tmp_path / "nothing.json"), str(tmp_path / "docs")]) == 2
    assert main([]) == 2


def test_reproduce_publish_writes_the_pages_of_the_run(tmp_path):
    run = CliRunner().invoke(app, ["reproduce", "--quick", "--only", "seed002.momentum-scaling-mlp", "--out",
                                   str(tmp_path / "rep"), "--publish", str(tmp_path / "validation")])
    assert run.exit_code == 0, run.output
    doc = json.loads((tmp_path / "validation" / RECORD / "claims.json").read_text())
    assert doc == json.loads((tmp_path / "rep" / "claims.json").read_text())
    assert doc["meta"]["cores"] >= 1 and "machine" in doc["meta"]
    page = (tmp_path / "validation" / "momentum-scaling.md").read_text()
    assert "{#seed002.momentum-scaling-mlp}" in page and "**cannot-check**" in page


def test_reproduce_refuses_a_publish_folder_with_other_files_before_running(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "mine.md").write_text("x")
    run = CliRunner().invoke(app, ["reproduce", "--quick", "--out", str(tmp_path / "rep"), "--publish",
                                   str(tmp_path / "docs")])
    assert run.exit_code != 0 and not (tmp_path / "rep" / "claims.json").exists()


def test_the_committed_validation_pages_are_what_the_committed_record_renders_to():
    doc, figures = read_record(DOCS / RECORD / "claims.json")
    pages = render_pages(doc, figures)
    stale = [n for n, text in pages.items() if (DOCS / n).read_text() != text]
    assert stale == [], ("regenerate: python -m sgdlab.report.validation docs/validation/run/claims.json "
                         f"docs/validation (stale: {stale})")
    assert sorted(f.name for f in DOCS.glob("*.md")) == sorted(pages)
    assert {c["id"] for c in doc["claims"]} >= set(figures)
