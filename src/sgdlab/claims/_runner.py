"""Run a selection of claims with a resumable cache: ``<cache>/<id>.json`` and ``<cache>/<id>.png``."""

from __future__ import annotations

import json
from pathlib import Path

from .._io import atomic_write, write_text
from ..result import jsonable
from ._base import ClaimResult

__all__ = ["run_claims", "config_key", "load_cached", "store"]


def config_key(quick: bool, seed: int) -> dict:
    """What a cached result must match to be reused: quick, seed and the sgdlab version.

    Args:
        quick: quick mode.  seed: the master seed.

    Returns:
        dict.

    Raises:
        Nothing.

    Example:
        >>> sorted(config_key(True, 0))
        ['quick', 'seed', 'version']
    """
    from .. import __version__
    return {"quick": bool(quick), "seed": int(seed), "version": __version__}


def load_cached(cache: Path, claim_id: str, key: dict) -> ClaimResult | None:
    """The cached result of one claim when its config matches ``key`` (else None: a stale or broken file)."""
    path = Path(cache) / f"{claim_id}.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if doc.get("config") != key or doc.get("id") != claim_id:
        return None
    fig = Path(cache) / f"{claim_id}.png"
    try:
        return ClaimResult.from_dict(doc, fig.read_bytes() if fig.exists() else None)
    except TypeError:
        return None


def store(cache: Path, result: ClaimResult) -> None:
    """Write one result into the cache atomically (the figure first, so a JSON file always has its figure)."""
    cache = Path(cache)
    if result.figure is not None:
        with atomic_write(cache / f"{result.id}.png", "wb") as fh:
            fh.write(result.figure)
    write_text(cache / f"{result.id}.json", json.dumps(jsonable(result.to_dict()), indent=1, allow_nan=False) + "\n")


def run_claims(claims, quick: bool, seed: int = 0, cache: Path | None = None, on_start=None,
               on_done=None, tasks=None) -> list[ClaimResult]:
    """Run ``claims`` in order, reusing a cached result whose config matches (quick, seed, version).

    Args:
        claims: :class:`~sgdlab.claims.Claim` objects.  quick: quick mode.  seed: master seed.
        cache: folder of the per-claim cache (None: no cache).
        on_start: optional ``on_start(claim, cached: bool)`` before each claim.
        on_done: optional ``on_done(claim, result, cached: bool)`` after each claim.
        tasks: where the claims that run a grid send it (:class:`~sgdlab.claims.Tasks`; default: inline).

    Returns:
        list of :class:`ClaimResult`, in the order of ``claims``.

    Raises:
        Whatever a claim raises (KeyboardInterrupt stops at once; results cached so far stay).

    Example:
        >>> from sgdlab.claims import get
        >>> [r.status for r in run_claims([get("seed002.momentum-scaling-mlp")], quick=True)]
        ['cannot-check']
    """
    key, out = config_key(quick, seed), []
    for c in claims:
        hit = load_cached(cache, c.id, key) if cache is not None else None
        if on_start:
            on_start(c, hit is not None)
        r = hit if hit is not None else (c.check(quick, seed) if tasks is None else c.check(quick, seed, tasks))
        if hit is None and cache is not None:
            store(cache, r)
        if on_done:
            on_done(c, r, hit is not None)
        out.append(r)
    return out
