"""The reproduction report: one self-contained HTML page (figures as data URIs, inline CSS, no script) and
``claims.json``, rendered from :class:`~sgdlab.claims.ClaimResult` objects (docs/reproduce.md).

The page reads like a paper's appendix: a summary table first (claim, source, measured, tolerance,
verdict), then one section per claim with its figure and caption, the verdict's reason, the tolerance and
why, the numbers measured in this run, the command that regenerates it and its run time.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from .._io import write_text
from ..result import jsonable

__all__ = ["render_html", "claims_document", "write_report", "TITLE"]

TITLE = "sgdlab: the five papers' claims, checked in this run"

_CSS = """
body{font-family:"Charter","Georgia","Times New Roman",serif;color:#1a1a1a;max-width:60rem;margin:2.5rem auto;
padding:0 1.5rem;line-height:1.5;font-size:16px;background:#fff}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.6rem;border-bottom:1px solid #ccc;
padding-bottom:.2rem}.sub{color:#555;margin-top:0}table{border-collapse:collapse;width:100%;font-size:.88rem;
margin:1rem 0}th,td{border-top:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #333;border-top:2px solid #333}tbody tr:last-child td{border-bottom:2px solid #333}
.v{font-weight:bold;white-space:nowrap}.holds{color:#1b6e20}.does-not-hold{color:#b3261e}.cannot-check{color:#8a6d00}
figure{margin:1rem 0;text-align:center}figure img{max-width:100%;height:auto}figcaption{font-size:.88rem;
color:#333;text-align:left;margin-top:.4rem}code{font-family:"DejaVu Sans Mono",monospace;font-size:.85em;
background:#f4f4f4;padding:.05rem .25rem}dl{display:grid;grid-template-columns:9rem 1fr;gap:.25rem 1rem;
font-size:.92rem}dt{font-weight:bold;color:#444}dd{margin:0}details{font-size:.85rem;margin-top:.6rem}
pre{white-space:pre-wrap;background:#f8f8f8;padding:.6rem;font-size:.78rem;overflow-x:auto}
.counts span{margin-right:1.2rem}
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _figure(r, k: int) -> str:
    if r.figure is None:
        return "<p><em>No figure: the claim did not run.</em></p>"
    uri = "data:image/png;base64," + base64.b64encode(r.figure).decode("ascii")
    return (f'<figure><img src="{uri}" alt="figure {k}: {_e(r.title)}">'
            f"<figcaption><b>Figure {k}.</b> {_e(r.caption)}</figcaption></figure>")


def _section(r, k: int) -> str:
    numbers = json.dumps(jsonable(r.numbers), indent=1, allow_nan=False)
    return (f'<section id="{_e(r.id)}"><h2>{k}. {_e(r.title)}</h2>'
            f'<p class="sub"><code>{_e(r.id)}</code> · {_e(r.source)}</p>{_figure(r, k)}'
            f'<dl><dt>verdict</dt><dd class="v {_e(r.status)}">{_e(r.status)}</dd>'
            f"<dt>reason</dt><dd>{_e(r.reason)}</dd><dt>measured</dt><dd>{_e(r.measured)}</dd>"
            f"<dt>tolerance</dt><dd>{_e(r.tolerance)}</dd><dt>why</dt><dd>{_e(r.rationale)}</dd>"
            f"<dt>command</dt><dd><code>{_e(r.command)}</code></dd><dt>run time</dt><dd>{r.seconds:.1f} s</dd></dl>"
            f"<details><summary>every number measured in this run</summary><pre>{_e(numbers)}</pre></details>"
            "</section>")


def render_html(results, meta: dict | None = None) -> str:
    """The report page for ``results`` (a list of ClaimResult), self-contained.

    Args:
        results: :class:`~sgdlab.claims.ClaimResult` objects, in report order.
        meta: optional run facts shown under the title (``mode``, ``seed``, ``version``, ``seconds``, ``date``).

    Returns:
        The HTML text (figures embedded as base64 PNG, inline CSS, no script, no network).

    Raises:
        Nothing deliberately.

    Example:
        >>> from sgdlab.claims import ClaimResult
        >>> r = ClaimResult("x.y", "A claim", "holds", "z = 1", "1.0", "≤ 2", "MC", "a paper", "sgdlab reproduce")
        >>> page = render_html([r])
        >>> "<title>" in page and "x.y" in page and "<script" not in page
        True
    """
    meta = meta or {}
    counts = {w: sum(r.status == w for r in results) for w in ("holds", "does-not-hold", "cannot-check")}
    facts = " · ".join(f"{k} {_e(v)}" for k, v in meta.items())
    rows = "".join(f'<tr id="row-{_e(r.id)}"><td><a href="#{_e(r.id)}">{_e(r.title)}</a><br><code>{_e(r.id)}</code>'
                   f"</td><td>{_e(r.source)}</td><td>{_e(r.measured)}</td><td>{_e(r.tolerance)}</td>"
                   f'<td class="v {_e(r.status)}">{_e(r.status)}</td></tr>' for r in results)
    body = "".join(_section(r, k) for k, r in enumerate(results, 1))
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_e(TITLE)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_e(TITLE)}</h1><p class=\"sub\">{facts}</p>"
            '<p class="counts">' + "".join(f'<span class="v {w}">{n} {w}</span>' for w, n in counts.items()) + "</p>"
            "<p>Every verdict below comes from numbers measured in this run. A tolerance derived from the "
            "Monte-Carlo error is stated with each claim; <em>cannot-check</em> means the run could not decide.</p>"
            '<table id="summary"><thead><tr><th>claim</th><th>source</th><th>measured</th><th>tolerance</th>'
            f"<th>verdict</th></tr></thead><tbody>{rows}</tbody></table>{body}</body></html>\n")


def claims_document(results, meta: dict | None = None) -> dict:
    """``claims.json``: the run facts and every result's ``to_dict`` (figures are in the HTML only).

    Args:
        results: ClaimResult objects.  meta: run facts.

    Returns:
        A JSON-ready dict.

    Raises:
        Nothing.

    Example:
        >>> from sgdlab.claims import ClaimResult
        >>> claims_document([ClaimResult("x.y", "t", "holds", "r", "m", "t", "w", "s", "c")])["counts"]["holds"]
        1
    """
    counts = {w: sum(r.status == w for r in results) for w in ("holds", "does-not-hold", "cannot-check")}
    return jsonable({"meta": meta or {}, "counts": counts, "claims": [r.to_dict() for r in results]})


def write_report(folder, results, meta: dict | None = None) -> list[str]:
    """Write ``index.html`` and ``claims.json`` into ``folder`` (each atomically); returns their names.

    Args:
        folder: the output folder (created if needed).  results: ClaimResult objects.  meta: run facts.

    Returns:
        ``["index.html", "claims.json"]``.

    Raises:
        OSError: the files cannot be written.

    Example:
        >>> import tempfile
        >>> from sgdlab.claims import ClaimResult
        >>> write_report(tempfile.mkdtemp(), [ClaimResult("x.y", "t", "holds", "r", "m", "t", "w", "s", "c")])
        ['index.html', 'claims.json']
    """
    folder = Path(folder)
    write_text(folder / "index.html", render_html(results, meta))
    write_text(folder / "claims.json", json.dumps(claims_document(results, meta), indent=1, allow_nan=False) + "\n")
    return ["index.html", "claims.json"]
