"""Claims about ``sgdlab reproduce`` and its report: one self-contained page whose table and figures a browser
shows, a cache that resumes an interrupted run, and verdicts that follow the numbers measured in the run."""

import html
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from typer.testing import CliRunner

from sgdlab.claims import CLAIMS, ClaimResult, config_key, get, run_claims, select
from sgdlab.cli import app
from sgdlab.report.appendix import TITLE, render_html, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _png(seed: int) -> bytes:
    from sgdlab.claims._base import png
    from sgdlab.report.figures import plt
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot(np.random.default_rng(seed).random(5))
    return png(fig, dpi=60)


def fake_results() -> list[ClaimResult]:
    """One fake result per registered claim, the three verdicts in turn, each with a figure."""
    words = ("holds", "does-not-hold", "cannot-check")
    return [ClaimResult(c.id, c.title, words[k % 3], f"reason {k} <&>", f"{k}.0", "≤ 1", "Monte Carlo", c.source,
                        f"sgdlab reproduce --only {c.id}", {"k": k}, 0.1, config_key(True, 0), f"caption {k}",
                        _png(k)) for k, c in enumerate(CLAIMS)]


def test_the_report_is_one_self_contained_page_with_a_row_and_a_figure_per_claim(tmp_path):
    results = fake_results()
    assert write_report(tmp_path, results, {"mode": "quick"}) == ["index.html", "claims.json"]
    page = (tmp_path / "index.html").read_text()
    assert f"<title>{html.escape(TITLE)}</title>" in page and "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert page.count('<tr id="row-') == len(CLAIMS) and page.count("data:image/png;base64,") == len(CLAIMS)
    assert "reason 0 &lt;&amp;&gt;" in page                              # text is escaped
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert doc["counts"] == {w: sum(r.status == w for r in results) for w in ("holds", "does-not-hold", "cannot-check")}
    assert [c["id"] for c in doc["claims"]] == [c.id for c in CLAIMS]


def _chromium(args, tmp_path):
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=90)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium; .ci/run does it)")
def test_headless_chromium_shows_the_title_every_row_and_every_image(tmp_path):
    results = fake_results()
    write_report(tmp_path, results, {"mode": "quick"})
    page = (tmp_path / "index.html").read_text()
    probe = ("<script>window.addEventListener('load',function(){var o=document.createElement('pre');o.id='probe';"
             "o.textContent=Array.from(document.images).map(function(i){return i.complete?i.naturalWidth:0}).join(',');"
             "document.body.appendChild(o)});</script>")
    (tmp_path / "probe.html").write_text(page.replace("</body>", probe + "</body>"))
    run = _chromium(["--virtual-time-budget=5000", "--dump-dom", (tmp_path / "probe.html").as_uri()], tmp_path)
    dom = run.stdout
    assert f"<title>{TITLE}</title>" in dom, run.stderr[-2000:]
    for r in results:
        assert f'id="row-{r.id}"' in dom
    widths = [int(w) for w in re.search(r'<pre id="probe">([0-9,]*)</pre>', dom).group(1).split(",")]
    assert len(widths) == len(results) and all(w > 0 for w in widths)


def test_list_names_every_claim_with_its_source_and_run_times():
    res = CliRunner().invoke(app, ["reproduce", "--list"])
    assert res.exit_code == 0
    for c in CLAIMS:
        assert c.id in res.output
    assert "min" in res.output


def test_an_unknown_claim_is_one_error_line_naming_the_ids():
    from sgdlab import InputError
    with pytest.raises(InputError, match="seed000.negative-momentum"):
        select("seed000.nope")


def test_only_runs_the_named_claim_writes_the_report_and_a_rerun_reuses_the_cache(tmp_path):
    out = tmp_path / "rep"
    args = ["reproduce", "--quick", "--only", "seed003.balancing", "--out", str(out)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    doc = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in doc["claims"]] == ["seed003.balancing"]
    assert (out / "cache" / "seed003.balancing.json").exists() and (out / "cache" / "seed003.balancing.png").exists()
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0 and "cached" in second.output
    assert json.loads((out / "claims.json").read_text())["claims"] == doc["claims"]


def test_a_cached_result_is_reused_only_when_quick_seed_and_version_match(tmp_path, monkeypatch):
    claim = get("seed000.budget-independence")
    calls = []
    fake = fake_results()[4]
    monkeypatch.setattr(type(claim), "check", lambda self, quick, seed=0: calls.append((quick, seed)) or
                        ClaimResult(**{**fake.__dict__, "config": config_key(quick, seed)}))
    run_claims([claim], True, 0, tmp_path)
    run_claims([claim], True, 0, tmp_path)                     # resumed: no new run
    run_claims([claim], True, 1, tmp_path)                     # another seed: runs
    run_claims([claim], False, 1, tmp_path)                    # full mode: runs
    assert calls == [(True, 0), (True, 1), (False, 1)]
    (tmp_path / f"{claim.id}.json").write_text("{broken")     # an interrupted write is not trusted
    run_claims([claim], False, 1, tmp_path)
    assert calls[-1] == (False, 1) and len(calls) == 4


def test_a_claim_run_end_to_end_holds_and_breaking_its_theory_flips_the_verdict():
    """Budget independence on digits is cheap; a wrong lr in the theory (x1.3) must turn it into does-not-hold."""
    from sgdlab.claims import budget_independence as claim
    good = claim.check(True, 0)
    assert good.status == "holds", good.reason
    assert good.figure[:4] == b"\x89PNG" and good.command.startswith("sgdlab reproduce --only")
    import sgdlab.linear as L
    original = L.budget_curves

    def wrong_lr(problem, lr, *a, **k):
        return original(problem, 1.3 * lr, *a, **k)
    mp = pytest.MonkeyPatch()
    mp.setattr(L, "budget_curves", wrong_lr)
    try:
        bad = claim.check(True, 0)
    finally:
        mp.undo()
    assert bad.status == "does-not-hold", bad.reason


@pytest.mark.slow
def test_slow_the_quick_run_checks_every_claim_within_ten_minutes(tmp_path):
    import time
    t = time.perf_counter()
    res = CliRunner().invoke(app, ["reproduce", "--quick", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "r" / "claims.json").read_text())
    assert len(doc["claims"]) == len(CLAIMS) and time.perf_counter() - t < 600
