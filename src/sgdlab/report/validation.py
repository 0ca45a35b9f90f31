"""The validation pages of the docs, rendered from the record of one ``sgdlab reproduce`` run (docs/reproduce.md).

The record is the run's ``claims.json`` (:func:`sgdlab.report.appendix.claims_document`) and one PNG per
claim.  :func:`render_pages` turns it into Markdown: ``index.md`` (the run's facts and the summary table:
claim, source, measured, tolerance, verdict) and one page per paper, chosen by the claim id's prefix
(``seed000.`` is the generating-functions paper, ..., ``seed004.`` the fluctuations paper; the names of
docs/glossary.md).  Each claim gets its title, verdict and reason, measured value, tolerance and its
rationale, source, the command that regenerates it, its figure and a table of every number it measured.
Every number on the pages is printed from the record; the pages' own text has none.

:func:`publish` writes the pages, ``run/claims.json`` and ``run/<id>.png`` into a docs folder at once
(a staged folder replaces the old one).  From the shell::

    sgdlab reproduce --publish docs/validation                  # run, then publish
    python -m sgdlab.report.validation REPORT/claims.json docs/validation   # publish a finished run
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .._io import _umask, atomic_write, write_text
from .._validate import InputError

__all__ = ["Paper", "PAPERS", "RECORD", "paper_of", "fmt", "number_rows", "render_index", "render_paper",
           "render_pages", "read_record", "check_dest", "publish", "main"]

#: the folder of the record inside the published docs folder: ``claims.json`` and ``<id>.png``
RECORD = "run"


@dataclass(frozen=True)
class Paper:
    """One validation page: the claims whose id starts with ``prefix + "."``.

    Attributes:
        prefix: ``"seed000"`` ... ``"seed004"``.  page: the Markdown file name.  name: the paper's name
        in docs/glossary.md.  theory: the theory page (docs/theory/<theory>.md).  label: the nav label.
    """

    prefix: str
    page: str
    name: str
    theory: str
    label: str


PAPERS: tuple[Paper, ...] = (
    Paper("seed000", "generating-functions.md", "the generating-functions paper", "generating-functions",
          "Generating functions"),
    Paper("seed001", "volterra.md", "the Volterra papers", "volterra", "Volterra equations"),
    Paper("seed002", "momentum-scaling.md", "the momentum-scaling paper", "momentum-scaling", "Momentum scaling"),
    Paper("seed003", "balancing.md", "the balancing paper", "balancing", "Balancing"),
    Paper("seed004", "fluctuations.md", "the fluctuations paper", "fluctuations", "Fluctuations"),
)

_SEC = r"§[A-Z0-9]\w*(?:\.\w+)*"
_CITE = re.compile(rf"docs/theory/([\w-]+)\.md((?:[ ,–-]*{_SEC})*)")
_LABEL = re.compile(rf"§({_SEC[1:]})")
_ESCAPE = re.compile(r"([\\`*_\[\]|])")


def paper_of(claim_id: str) -> Paper:
    """The paper (validation page) of a claim, by the prefix of its id.

    Args:
        claim_id: e.g. ``"seed003.balancing"``.

    Returns:
        The :class:`Paper`.

    Raises:
        InputError: the prefix names none of the five papers.

    Example:
        >>> paper_of("seed003.balancing").name
        'the balancing paper'
    """
    prefix = str(claim_id).split(".", 1)[0]
    for p in PAPERS:
        if p.prefix == prefix:
            return p
    raise InputError(f"claim id must start with one of {', '.join(p.prefix for p in PAPERS)} and a dot, "
                     f"got {claim_id!r}")


def fmt(value) -> str:
    """A value of the record as the pages print it: floats to 4 significant digits, JSON null as ``null``.

    Args:
        value: a JSON value (lists and dicts inline, e.g. ``[1, 0.5]`` or ``a: 1; b: 2``).

    Returns:
        str (not yet escaped for Markdown).

    Raises:
        Nothing.

    Example:
        >>> fmt(0.123456789), fmt(3), fmt(None), fmt([1.0, True]), fmt({"a": 2e-7})
        ('0.1235', '3', 'null', '[1, true]', 'a: 2e-07')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    return str(value)


def number_rows(numbers: dict, prefix: str = "") -> tuple[list[tuple[str, str]], list[tuple[str, list, list]]]:
    """A claim's ``numbers`` as table rows: nested dicts flattened to dotted names, lists of dicts as tables.

    Args:
        numbers: name -> JSON value.  prefix: the dotted name above (internal).

    Returns:
        ``(rows, tables)``: rows are ``(name, value text)``; tables are ``(name, columns, rows of texts)``.

    Raises:
        Nothing.

    Example:
        >>> number_rows({"a": {"b": 0.5}, "rows": [{"x": 1}, {"x": 2, "y": 3}]})
        ([('a.b', '0.5')], [('rows', ['x', 'y'], [['1', ''], ['2', '3']])])
    """
    rows, tables = [], []
    for key, value in numbers.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            r, t = number_rows(value, name)
            rows += r
            tables += t
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(k for v in value for k in v))
            tables.append((name, columns, [[fmt(v[c]) if c in v else "" for c in columns] for v in value]))
        else:
            rows.append((name, fmt(value)))
    return rows, tables


def _md(text) -> str:
    """Plain text as Markdown that shows it as it is (one line; ``<`` as an entity)."""
    return _ESCAPE.sub(r"\\\1", " ".join(str(text).split())).replace("<", "&lt;")


def _linked(text: str, up: str = "../") -> str:
    """Escaped text whose citations of a theory page (and of its sections) link to them."""
    def link(m):
        page = m.group(1)
        labels = _LABEL.sub(lambda s: f"[§{s.group(1)}]({up}theory/{page}.md#sec-{s.group(1)})", m.group(2))
        return f"[docs/theory/{page}.md]({up}theory/{page}.md){labels}"
    return _CITE.sub(link, _md(text))


def _table(columns, rows, code: bool = False) -> str:
    """A Markdown table of texts (escaped; with ``code`` the first column is left as given)."""
    cell = lambda k, c: c if code and k == 0 else _md(c)
    head = "| " + " | ".join(_md(c) for c in columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(cell(k, c) for k, c in enumerate(r)) + " |\n" for r in rows)


def _facts(meta: dict) -> list[tuple[str, str]]:
    """The run's facts as (label, value) pairs, those the record holds."""
    names = (("date", "date"), ("mode", "quick or full"), ("seed", "master seed"), ("version", "sgdlab version"),
             ("git", "git commit"), ("seconds", "total run time (s)"), ("machine", "machine"), ("cores", "cores"),
             ("claims", "claims"))
    return [(label, fmt(meta[k])) for k, label in names if meta.get(k) is not None]


def _run_line(meta: dict) -> str:
    """The run in one phrase: mode, date, seed, version, commit, run time, machine (what the record holds)."""
    m = {k: _md(fmt(v)) for k, v in meta.items() if v is not None}
    parts = [f"{m.get('mode', 'a')} run" + (f" of {m['date']}" if "date" in m else "")]
    parts += [f"{label} {m[k]}" for k, label in (("seed", "seed"), ("version", "sgdlab"), ("git", "commit"))
              if k in m]
    if "seconds" in m:
        parts.append(f"{m['seconds']} s" + (f" on {m['cores']} cores" if "cores" in m else ""))
    if "machine" in m:
        parts.append(m["machine"])
    return ", ".join(parts)


def _banner(meta: dict, record: str) -> str:
    """The generated-page notice: which run, and how to regenerate (never edit by hand)."""
    return ("<!-- generated by sgdlab.report.validation from the record of a run; do not edit by hand -->\n\n"
            '!!! note "Generated from the record of one run: do not edit by hand"\n'
            f"    This page is rendered from [{record}/claims.json]({record}/claims.json), the record of the run "
            f"`sgdlab reproduce`: {_run_line(meta)}. Every number on it comes from that record. To change it, "
            "rerun and publish: `sgdlab reproduce --publish docs/validation` (add `--quick` for the quick run), "
            "or render a finished run with `python -m sgdlab.report.validation REPORT/claims.json docs/validation`."
            "\n\n")


def _claim_section(c: dict, figures: set, record: str) -> str:
    out = [f"## {_md(c.get('title', c['id']))} {{#{c['id']}}}\n",
           f"`{c['id']}` · **{_md(c.get('status', ''))}**: {_linked(c.get('reason', ''))}\n",
           f"- **measured:** {_md(c.get('measured', ''))}",
           f"- **tolerance:** {_md(c.get('tolerance', ''))}",
           f"- **why this tolerance:** {_linked(c.get('rationale', ''))}",
           f"- **source:** {_linked(c.get('source', ''))}",
           f"- **regenerate:** `{c.get('command', '')}`",
           f"- **run time (s):** {_md(fmt(c.get('seconds')))}\n"]
    if c["id"] in figures:
        out.append(f"![figure: {_md(c.get('title', c['id']))}]({record}/{c['id']}.png)\n")
        if c.get("caption"):
            out.append(f"*Figure.* {_md(c['caption'])}\n")
    else:
        out.append("*No figure: the claim did not draw one in this run.*\n")
    rows, tables = number_rows(c.get("numbers") or {})
    if not rows and not tables:
        out.append("No numbers: the claim did not run.\n")
    else:
        out.append("**Numbers measured in this run** (`numbers` in the record):\n")
        if rows:
            out.append(_table(["name", "value"], [(f"`{n}`", v) for n, v in rows], code=True))
        for name, columns, trows in tables:
            out.append(f"`{name}`:\n\n" + _table([f"{c}" for c in columns], trows))
    return "\n".join(out) + "\n"


def _claims(doc: dict) -> list[dict]:
    claims = doc.get("claims")
    if not isinstance(claims, list) or not all(isinstance(c, dict) and "id" in c for c in claims):
        raise InputError("claims.json must hold a list 'claims' of results with an 'id' each (sgdlab reproduce)")
    return claims


def render_paper(doc: dict, paper: Paper, figures=(), record: str = RECORD) -> str:
    """The validation page of one paper: its claims of the record, each with its figure and numbers.

    Args:
        doc: the ``claims.json`` document.  paper: a :class:`Paper`.
        figures: ids of the claims that have a figure (``record/<id>.png``).  record: the record's folder.

    Returns:
        The Markdown text.

    Raises:
        InputError: ``doc`` is not a claims.json document.

    Example:
        >>> doc = {"meta": {"mode": "quick"}, "claims": [{"id": "seed003.b", "title": "T", "numbers": {"x": 0.25}}]}
        >>> page = render_paper(doc, PAPERS[3])
        >>> "the balancing paper" in page and "| `x` | 0.25 |" in page
        True
    """
    meta, mine = doc.get("meta") or {}, [c for c in _claims(doc) if paper_of(c["id"]) == paper]
    head = (f"# Validation: {paper.name}\n\n{_banner(meta, record)}"
            f"The claims of {paper.name} (see the [glossary](../glossary.md)) checked in this run. Theory: "
            f"[{paper.label.lower()}](../theory/{paper.theory}.md). How the verdicts are reached: the "
            "[overview](index.md#how-a-verdict-is-reached).\n\n")
    if not mine:
        return head + "This run checked none of its claims.\n"
    summary = _table(["claim", "measured", "tolerance", "verdict"],
                     [[c.get("title", c["id"]), c.get("measured", ""), c.get("tolerance", ""), c.get("status", "")]
                      for c in mine])
    return head + summary + "\n" + "\n".join(_claim_section(c, set(figures), record) for c in mine)


def render_index(doc: dict, record: str = RECORD) -> str:
    """The validation overview: the run's facts, the verdict counts and the summary table of every claim.

    Args:
        doc: the ``claims.json`` document.  record: the record's folder.

    Returns:
        The Markdown text.

    Raises:
        InputError: ``doc`` is not a claims.json document.

    Example:
        >>> doc = {"meta": {"mode": "full", "cores": 16}, "claims": [{"id": "seed004.x", "status": "holds"}]}
        >>> page = render_index(doc)
        >>> "| cores | 16 |" in page and "fluctuations.md#seed004.x" in page
        True
    """
    meta, claims = doc.get("meta") or {}, _claims(doc)
    counts = doc.get("counts") or {}
    rows = "".join(f"| [{_md(c.get('title', c['id']))}]({paper_of(c['id']).page}#{c['id']}) | "
                   f"{_md(c.get('source', ''))} | {_md(c.get('measured', ''))} | {_md(c.get('tolerance', ''))} | "
                   f"**{_md(c.get('status', ''))}** |\n" for c in claims)
    quick = ("This is the quick run: claims that run only in the full run say *cannot-check*, and the "
             "Monte-Carlo budgets are smaller.\n\n" if meta.get("mode") == "quick" else "")
    pages = "".join(f"- [{p.label}]({p.page}): {p.name}\n" for p in PAPERS)
    return ("# Validation\n\n" + _banner(meta, record) +
            "What the five papers claim, checked against real SGD and real data in one run of `sgdlab reproduce` "
            "([how to run it](../reproduce.md)). One page per paper:\n\n" + pages + "\n"
            "## The run\n\n" + _table(["fact", "value"], _facts(meta)) + "\n" + quick +
            ("Verdicts: " + ", ".join(f"{fmt(n)} {_md(w)}" for w, n in counts.items()) + ".\n\n" if counts else "") +
            "## Summary\n\n| claim | source | measured | tolerance | verdict |\n|---|---|---|---|---|\n" + rows +
            "\n## How a verdict is reached\n\n"
            "Each claim states its tolerance and why. Wherever it compares theory with simulation the tolerance "
            "comes from the Monte-Carlo error of the same run: the theory curve is compared with the seed mean at "
            "every checkpoint, with a z threshold that controls the family-wise false-alarm rate "
            "([reading a verdict](../verdicts.md), [one contract](../guide/contract.md)); fractions get binomial "
            "intervals and fitted exponents replicate intervals. *cannot-check* means the run could not decide, "
            "and the reason says why. Speed and the longer accuracy scans are on the "
            "[benchmarks](../benchmarks.md) page, each with the script that prints it.\n")


def render_pages(doc: dict, figures=(), record: str = RECORD) -> dict[str, str]:
    """Every validation page of the record: ``index.md`` and one page per paper (file name -> Markdown).

    Args:
        doc: the ``claims.json`` document.  figures: ids of the claims with a figure.  record: the record's folder.

    Returns:
        dict of file name -> text, ``index.md`` first.

    Raises:
        InputError: not a claims.json document, or a claim id of no paper.

    Example:
        >>> sorted(render_pages({"meta": {}, "claims": []}))[:2]
        ['balancing.md', 'fluctuations.md']
    """
    for c in _claims(doc):
        paper_of(c["id"])
    return {"index.md": render_index(doc, record), **{p.page: render_paper(doc, p, figures, record) for p in PAPERS}}


def read_record(path) -> tuple[dict, dict[str, bytes]]:
    """A run's ``claims.json`` and its figures: ``<id>.png`` beside it, or in ``cache/`` of a report folder.

    A cached figure is taken only when the cached result beside it is the one in claims.json (same
    config and run time), so a figure left over from another run is never shown.

    Args:
        path: the ``claims.json`` file (of ``sgdlab reproduce --out DIR`` or of a published record).

    Returns:
        ``(doc, figures)``: the document and claim id -> PNG bytes.

    Raises:
        InputError: the file is missing or is not a claims.json document.

    Example:
        >>> import json, tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "claims.json"
        >>> _ = p.write_text(json.dumps({"meta": {}, "claims": [{"id": "seed000.x"}]}))
        >>> read_record(p)[1]
        {}
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"claims.json {path} cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if not isinstance(doc, dict):
        raise InputError(f"claims.json {path} must hold a JSON object (sgdlab reproduce writes one)")
    figures = {}
    for c in _claims(doc):
        beside, cached = path.parent / f"{c['id']}.png", path.parent / "cache" / f"{c['id']}.png"
        if beside.is_file():
            figures[c["id"]] = beside.read_bytes()
        elif cached.is_file() and _same_result(path.parent / "cache" / f"{c['id']}.json", c):
            figures[c["id"]] = cached.read_bytes()
    return doc, figures


def _same_result(cached: Path, claim: dict) -> bool:
    try:
        doc = json.loads(cached.read_text())
    except (OSError, ValueError):
        return False
    return all(doc.get(k) == claim.get(k) for k in ("id", "config", "seconds"))


def check_dest(dest) -> Path:
    """``dest`` as a folder that :func:`publish` may replace: new, or holding only the validation pages.

    Args:
        dest: the docs folder (``docs/validation``).

    Returns:
        The path.

    Raises:
        InputError: ``dest`` is a file, or holds files the pages do not (they would be lost).

    Example:
        >>> import tempfile, pathlib
        >>> check_dest(pathlib.Path(tempfile.mkdtemp()) / "validation").name
        'validation'
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise InputError(f"--publish {dest} is a file: give the docs folder of the validation pages")
    ours = {"index.md", RECORD, *(p.page for p in PAPERS)}
    foreign = sorted(f.name for f in dest.iterdir() if f.name not in ours) if dest.is_dir() else []
    if foreign:
        raise InputError(f"--publish {dest} holds files the validation pages do not ({', '.join(foreign)}): "
                         "give the validation folder (docs/validation) or a new one")
    return dest


def publish(doc: dict, figures: dict[str, bytes], dest) -> list[str]:
    """Write the validation pages and the record (``run/claims.json``, ``run/<id>.png``) into ``dest``.

    Everything is written into a staged sibling folder that then replaces ``dest`` whole, so a failure
    part-way leaves ``dest`` as it was and no page or figure of an earlier run survives.  ``dest`` may
    hold only what this function writes (it refuses a folder with other files).

    Args:
        doc: the ``claims.json`` document.  figures: claim id -> PNG bytes.  dest: the docs folder
        (``docs/validation``).

    Returns:
        The names written, relative to ``dest``.

    Raises:
        InputError: ``doc`` is not a claims.json document, ``dest`` is a file or holds other files, or
        writing failed.

    Example:
        >>> import tempfile, pathlib
        >>> dest = pathlib.Path(tempfile.mkdtemp()) / "validation"
        >>> publish({"meta": {}, "claims": [{"id": "seed001.x"}]}, {"seed001.x": b"png"}, dest)[-2:]
        ['run/claims.json', 'run/seed001.x.png']
    """
    ids = {c["id"] for c in _claims(doc)}
    figures = {k: v for k, v in figures.items() if k in ids and v is not None}
    pages = render_pages(doc, figures)
    dest = check_dest(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    except OSError as exc:
        raise InputError(f"--publish {dest} cannot be created ({exc.strerror or exc})") from None
    old = None
    try:
        for name, text in pages.items():
            write_text(tmp / name, text)
        write_text(tmp / RECORD / "claims.json", json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
        for cid, data in sorted(figures.items()):
            with atomic_write(tmp / RECORD / f"{cid}.png", "wb") as fh:
                fh.write(data)
        for d in (tmp, tmp / RECORD):
            os.chmod(d, 0o777 & ~_umask())
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
            os.rename(dest, old / dest.name)
        os.rename(tmp, dest)
    except OSError as exc:
        if old is not None and not dest.exists():
            os.rename(old / dest.name, dest)
        raise InputError(f"--publish {dest}: writing failed ({exc.strerror or exc}); check the folder") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return [*pages, f"{RECORD}/claims.json", *(f"{RECORD}/{cid}.png" for cid in sorted(figures))]


def main(argv: list[str] | None = None) -> int:
    """``python -m sgdlab.report.validation CLAIMS_JSON DEST``: publish a finished run's record without rerunning.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 2 for bad arguments or input (one line on stderr).

    Raises:
        Nothing (errors become the exit status).

    Example:
        >>> main(["--help"])  # doctest: +ELLIPSIS
        usage: python -m sgdlab.report.validation CLAIMS_JSON DEST...
        0
    """
    args = sys.argv[1:] if argv is None else list(argv)
    usage = ("usage: python -m sgdlab.report.validation CLAIMS_JSON DEST\n"
             "  render the validation pages of the run recorded in CLAIMS_JSON (sgdlab reproduce --out DIR "
             "writes DIR/claims.json) into the docs folder DEST (docs/validation), with the record and figures")
    if args in (["-h"], ["--help"]):
        print(usage)
        return 0
    if len(args) != 2:
        print(usage, file=sys.stderr)
        return 2
    try:
        doc, figures = read_record(args[0])
        names = publish(doc, figures, args[1])
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args[1]}/: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
