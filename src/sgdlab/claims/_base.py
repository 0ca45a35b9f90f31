"""The claim result and the helpers every claim module shares (docs/reproduce.md).

A claim is a function ``check(quick: bool, seed: int) -> ClaimResult``: it runs the experiment, measures
the numbers, sets them against a tolerance whose rationale it states (from the Monte-Carlo standard
error wherever it compares with simulation) and returns a verdict: ``holds``, ``does-not-hold`` or
``cannot-check``.  The report only renders these results.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..montecarlo import AGREES, CANNOT_CHECK, DISAGREES
from ..result import ResultMixin, register_status

__all__ = ["HOLDS", "DOES_NOT_HOLD", "CANNOT_CHECK", "VERDICTS", "ClaimResult", "png", "from_agreement",
           "Stopwatch", "command_for", "Tasks", "INLINE"]

from ..factorization.bounds import HOLDS  # noqa: E402  "holds": one word for a claim and for the balancing bounds

DOES_NOT_HOLD = register_status("does-not-hold", "claims: the numbers measured in this run contradict the claim")
#: the three verdicts of a claim, in the order the report counts them
VERDICTS = (HOLDS, DOES_NOT_HOLD, CANNOT_CHECK)


@dataclass(frozen=True, eq=False)
class ClaimResult(ResultMixin):
    """The verdict on one claim, with everything the report shows.

    Attributes:
        id: the claim's id (``"seed000.negative-momentum"``).  title: one line saying what is claimed.
        status: ``"holds"``, ``"does-not-hold"`` or ``"cannot-check"``.  reason: the numbers that decided it.
        measured: the headline figure of this run, short (the summary table's "measured" column).
        tolerance: the acceptance rule, short (the "tolerance" column).  rationale: why that tolerance.
        source: paper short name and figure or theorem.  command: the command that regenerates it.
        numbers: every number measured in this run (name -> value), JSON-ready.
        seconds: run time of the check.  config: ``quick``, ``seed`` and the sgdlab version it ran with.
        figure: the figure as PNG bytes (None when the claim could not run); not in ``to_dict``.
        caption: the figure's caption.
    """

    id: str
    title: str
    status: str
    reason: str
    measured: str
    tolerance: str
    rationale: str
    source: str
    command: str
    numbers: dict = field(default_factory=dict)
    seconds: float = 0.0
    config: dict = field(default_factory=dict)
    caption: str = ""
    figure: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, doc: dict, figure: bytes | None = None) -> "ClaimResult":
        """The result that :meth:`to_dict` wrote (the figure comes separately)."""
        names = {f for f in cls.__dataclass_fields__ if f != "figure"}
        return cls(**{k: v for k, v in doc.items() if k in names}, figure=figure)


def png(fig, dpi: int = 110) -> bytes:
    """A matplotlib figure as PNG bytes (the report's conventions: tight box), and close it."""
    from ..report.figures import plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def from_agreement(verdict) -> str:
    """An :class:`~sgdlab.Agreement`'s status as a claim verdict: agrees -> holds, disagrees -> does-not-hold."""
    return {AGREES: HOLDS, DISAGREES: DOES_NOT_HOLD}.get(verdict.status, CANNOT_CHECK)


def command_for(claim_id: str, quick: bool, seed: int) -> str:
    """The command that regenerates one claim."""
    return f"sgdlab reproduce --only {claim_id}" + (" --quick" if quick else "") + (f" --seed {seed}" if seed else "")


class Stopwatch:
    """Wall time since construction (``seconds``), for a claim's run time."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def make_result(claim_id: str, quick: bool, seed: int, watch: Stopwatch, *, status: str, reason: str,
                measured: str, tolerance: str, rationale: str, numbers: dict, fig=None,
                caption: str = "") -> ClaimResult:
    """A :class:`ClaimResult` for a registered claim: title, source and command from the registry."""
    from .. import __version__
    from ..result import jsonable
    from . import get
    c = get(claim_id)
    return ClaimResult(c.id, c.title, status, reason, measured, tolerance, rationale, c.source,
                       command_for(c.id, quick, seed), jsonable(numbers), watch.seconds,
                       {"quick": bool(quick), "seed": int(seed), "version": __version__}, caption,
                       None if fig is None else png(fig))


def full_only(claim_id: str, quick: bool, seed: int, why: str) -> ClaimResult:
    """The cannot-check answer of a claim that runs in the full run only."""
    return make_result(claim_id, quick, seed, Stopwatch(), status=CANNOT_CHECK,
                       reason=f"not run in quick mode: {why}; run `sgdlab reproduce --only {claim_id}`",
                       measured="not run (quick)", tolerance="-", rationale=why, numbers={})


@dataclass(frozen=True)
class Tasks:
    """Where a claim sends its grid of independent runs: :func:`sgdlab.sweep.map_tasks` options and a task folder.

    A claim whose cost is a grid calls ``tasks.map(claim_id, fn, items, keys)``: one task per item, each
    seeded from its grid coordinates (so the numbers do not depend on the worker), the results in item
    order.  With ``folder``, each result is written to ``folder/<claim id>/`` as it finishes, so an
    interrupted claim resumes mid-grid (``sgdlab reproduce`` uses ``OUT/cache/tasks``).

    Attributes:
        executor: ``"inline"`` (this process), ``"local"``, ``"dask"``, or an open session
            (:func:`sgdlab.sweep.open_session`, one pool for every claim).
        workers, address: as :func:`sgdlab.sweep.map_tasks`.  folder: the task folder, or None (no resume).
    """

    executor: object = "inline"
    workers: int | None = None
    address: str | None = None
    folder: Path | None = None

    def map(self, claim_id: str, fn, items, keys) -> list:
        """``[fn(item) for item in items]`` as tasks (see the class docstring)."""
        from ..sweep import map_tasks
        store = None if self.folder is None else Path(self.folder) / claim_id
        session = not isinstance(self.executor, str)
        return map_tasks(fn, items, keys=keys, executor=self.executor, store=store,
                         workers=None if session else self.workers, address=None if session else self.address)


#: the default of every claim: its grid runs in this process, one task after another, nothing stored
INLINE = Tasks()
