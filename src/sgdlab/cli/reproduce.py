"""``sgdlab reproduce``: check every headline claim of the five papers in this run and write the report.

Each claim (:mod:`sgdlab.claims`) runs in turn with its progress on stderr; its result is cached in
``OUT/cache/<id>.json`` (+ ``.png``) as soon as it is done, so an interrupted run resumes where it stopped
(a cached result is reused only when quick, seed and version match).  The claims whose cost is a grid of
independent runs send it as tasks (:func:`sgdlab.sweep.map_tasks`) to one session: a local process pool
(``--workers``, default every core; 1 runs in this process) or a Dask cluster (``--cluster``); each task's
result lands in ``OUT/cache/tasks/<id>/`` as it finishes, so an interrupted claim resumes mid-grid.  The report (``index.html``,
``claims.json``, ``run.json``) is written through a staged folder at the end (docs/reproduce.md).
``--publish DOCS_DIR`` then writes the validation pages and the run's record into the docs
(:mod:`sgdlab.report.validation`).
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Optional

import typer

from . import app
from ._common import console, emit, opt_executor, opt_seed, prepare_out

_COLOURS = {"holds": "green", "does-not-hold": "red", "cannot-check": "yellow"}


def _git_commit() -> str | None:
    """The commit of the sgdlab source tree this run used (``+dirty`` with local changes); None outside git."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=here, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", str(here.parent)],
                               cwd=here, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def _machine() -> str:
    """The processor model (from /proc/cpuinfo where there is one) and the architecture."""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    except OSError:
        model = ""
    return ", ".join(x for x in (model or platform.processor(), platform.machine(), platform.system()) if x)


def _list(claims, quick: bool) -> None:
    for c in claims:
        console.print(f"[bold]{c.id}[/]  (quick ≈{c.quick_s:.0f} s, full ≈{c.full_s:.0f} s)\n    {c.title}\n"
                      f"    source: {c.source}", highlight=False)
    total = sum(c.quick_s if quick else c.full_s for c in claims)
    console.print(f"{len(claims)} claims; estimated {'quick' if quick else 'full'} run {total / 60:.1f} min")


@app.command()
def reproduce(quick: bool = typer.Option(False, "--quick", help="the quick run (under 10 minutes on 2 cores)"),
              only: Optional[str] = typer.Option(None, "--only", help="comma-separated claim ids (see --list)"),
              list_: bool = typer.Option(False, "--list", help="list the claims, their sources and run times"),
              out: Path = typer.Option(Path("sgdlab-report"), "--out", "-o", help="report folder"),
              seed: int = typer.Option(0, "--seed", help="master random seed of every claim"),
              workers: Optional[int] = typer.Option(None, "--workers", help="processes for the claims' grids "
                                                    "(default: every core; 1: in this process)"),
              cluster: Optional[str] = typer.Option(None, "--cluster", help="Dask scheduler address tcp://host:port "
                                                    "for the claims' grids"),
              json: bool = typer.Option(False, "--json", help="print claims.json on stdout"),
              publish: Optional[Path] = typer.Option(None, "--publish", help="after the run, write the validation "
                                                     "pages and the run's record into this docs folder "
                                                     "(docs/validation)")):
    """Check the five papers' claims on real data in this run; write OUT/index.html and OUT/claims.json."""
    from .. import __version__
    from ..claims import Tasks, config_key, run_claims, select
    from ..report.appendix import claims_document, write_report
    from ..sweep import open_session
    started = time.perf_counter()
    opt_seed(seed)
    ex = opt_executor(workers, cluster)
    claims = select(only)
    if list_:
        _list(claims, quick)
        return
    facts = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "git": _git_commit(),
             "machine": _machine(), "cores": os.cpu_count()}
    out = prepare_out(out)
    if publish is not None:
        from ..report.validation import check_dest
        check_dest(prepare_out(publish, "--publish"))
    cache = out / "cache"
    n = len(claims)
    mode = "quick" if quick else "full"
    console.print(f"[bold]sgdlab reproduce[/] ({mode}, seed {seed}): {n} claims, estimated "
                  f"{sum(c.quick_s if quick else c.full_s for c in claims) / 60:.1f} min on 2 idle cores")
    status = console.status("")
    status.start()

    def on_start(c, cached):
        status.update(f"[{claims.index(c) + 1}/{n}] {c.id}" + (" (cached)" if cached else f" (≈{c.quick_s if quick else c.full_s:.0f} s)"))

    def on_done(c, r, cached):
        colour = _COLOURS.get(r.status, "white")
        console.print(f"[{claims.index(c) + 1}/{n}] {c.id}: [bold {colour}]{r.status}[/] "
                      f"({r.seconds:.0f} s{', cached' if cached else ''}) {r.measured}")
    try:
        with open_session(**ex) as session:             # one pool for every claim's grid, started at its first task
            results = run_claims(claims, quick, seed, cache, on_start=on_start, on_done=on_done,
                                 tasks=Tasks(session, folder=cache / "tasks"))
    finally:
        status.stop()
    meta = {"mode": mode, "seed": seed, "version": __version__, "claims": n,
            "seconds": round(time.perf_counter() - started, 1), **facts}
    doc = claims_document(results, meta)
    console.print("  ".join(f"[{_COLOURS[w]}]{k} {w}[/]" for w, k in doc["counts"].items()))
    emit("reproduce", started, out=out, json=json, stdout=doc,
         config={**config_key(quick, seed), "only": [c.id for c in claims], **ex}, results=doc["counts"],
         files=lambda o: write_report(o, results, meta))
    console.print(f"report: {out / 'index.html'}")
    if publish is not None:
        from ..report.validation import publish as publish_pages
        names = publish_pages(doc, {r.id: r.figure for r in results}, publish)
        console.print(f"published {publish}/: {len(names)} files (the pages, {publish.name}/run/claims.json, "
                      "the figures)")
