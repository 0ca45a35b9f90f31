"""Every headline claim of the five papers as code: run, measure, verdict (docs/reproduce.md).

``CLAIMS`` is the registry: one :class:`Claim` per claim (id, title, source, estimated run times in
quick and full mode, the module that checks it).  Each module's ``check(quick, seed)`` returns a
:class:`ClaimResult` whose status is ``holds``, ``does-not-hold`` or ``cannot-check``, with the numbers
measured in that run; :func:`run_claims` runs a selection with a resumable cache, and
:func:`sgdlab.report.appendix.write_report` renders the results.

Example:
    >>> from sgdlab.claims import CLAIMS, get
    >>> get("seed000.negative-momentum").source.startswith("the generating-functions paper")
    True
    >>> len(CLAIMS) >= 12
    True
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

from .._validate import InputError
from ._base import CANNOT_CHECK, DOES_NOT_HOLD, HOLDS, INLINE, VERDICTS, ClaimResult, Tasks
from ._runner import config_key, run_claims

__all__ = ["Claim", "CLAIMS", "get", "select", "run_claims", "config_key", "ClaimResult", "HOLDS",
           "DOES_NOT_HOLD", "CANNOT_CHECK", "VERDICTS", "Tasks", "INLINE"]


@dataclass(frozen=True)
class Claim:
    """One registered claim: ``check(quick, seed)`` lives in ``sgdlab.claims.<module>``.

    Attributes:
        id: ``"seed00k.<name>"``.  title: what is claimed, one line.  source: paper and figure, theorem
        or section.  quick_s, full_s: estimated run time in seconds on 2 idle cores.  module: the module.
    """

    id: str
    title: str
    source: str
    quick_s: float
    full_s: float
    module: str

    def check(self, quick: bool, seed: int = 0, tasks: Tasks | None = None) -> ClaimResult:
        """Run the claim's check (imports its module on first use); ``tasks`` reaches the checks that run a grid
        (those whose ``check`` takes ``tasks``), the others ignore it."""
        fn = importlib.import_module(f"{__name__}.{self.module}").check
        if tasks is not None and "tasks" in inspect.signature(fn).parameters:
            return fn(quick, seed, tasks=tasks)
        return fn(quick, seed)


_GF, _VO, _MS, _BA, _FL = ("the generating-functions paper", "the Volterra papers", "the momentum-scaling paper",
                           "the balancing paper", "the fluctuations paper")

CLAIMS: tuple[Claim, ...] = (
    Claim("seed000.mnist-tracking", "Theory tracks real mini-batch SGD with momentum on MNIST images "
          "(exact model; SE with τ = 1 and fitted τ̂)", f"{_GF}, exact recursion and SE closure "
          "(docs/theory/generating-functions.md §1, §2)", 25, 30, "mnist_tracking"),
    Claim("seed000.critical-lr", "The critical learning rate separates convergence from divergence of real SGD",
          f"{_GF}, stability theorem (docs/theory/generating-functions.md §4)", 15, 60, "critical_lr"),
    Claim("seed000.phase-exponents", "Signal and noise phases of a power-law problem, with the predicted "
          "power-law exponents", f"{_GF}, asymptotics (docs/theory/generating-functions.md §5)", 15, 30,
          "phase_exponents"),
    Claim("seed000.negative-momentum", "Negative momentum beats β = 0 near the edge, where the theory says so",
          f"{_GF}, negative momentum (docs/theory/generating-functions.md §6)", 20, 30, "negative_momentum"),
    Claim("seed000.budget-independence", "At small lr the loss depends on the sample budget only, not on the "
          "batch size", f"{_GF}, budget independence (docs/theory/generating-functions.md §7)", 10, 90,
          "budget_independence"),
    Claim("seed001.volterra-tracking", "The Volterra equation tracks multi-pass SGD on random features of MNIST",
          f"{_VO}, the Volterra equation (docs/theory/volterra.md §1)", 40, 200, "volterra_tracking"),
    Claim("seed001.critical-step", "Below the critical step SGD settles, above it grows at the Malthusian rate",
          f"{_VO}, critical step size (docs/theory/volterra.md §2)", 30, 80, "critical_step"),
    Claim("seed001.hsgd", "Homogenized SGD has the Volterra solution as its mean", f"{_VO}, homogenized SGD "
          "(docs/theory/volterra.md §1)", 30, 90, "hsgd"),
    Claim("seed001.momentum-icr", "Mini-batch momentum accelerates only above the implicit conditioning ratio",
          f"{_VO}, mini-batch heavy ball and the ICR (docs/theory/volterra.md §5)", 15, 10, "momentum_icr"),
    Claim("seed002.momentum-scaling-uv", "The optimal 1 - β scales as η^(2/3): UV model",
          f"{_MS}, optimal momentum (docs/theory/momentum-scaling.md §B.5)", 90, 60, "momentum_scaling_uv"),
    Claim("seed002.momentum-scaling-sensing", "The optimal 1 - β scales as η^(2/3): matrix sensing",
          f"{_MS}, optimal momentum (docs/theory/momentum-scaling.md §B.5)", 90, 90,
          "momentum_scaling_sensing"),
    Claim("seed002.momentum-scaling-mlp", "The optimal 1 - β scales as η^(2/3): an MLP on Fashion-MNIST (full run)",
          f"{_MS}, the MLP on Fashion-MNIST (its appendix A.4, Fig. 5; docs/theory/momentum-scaling.md §B.7)", 1, 600,
          "momentum_scaling_mlp"),
    Claim("seed003.balancing", "Gradient descent converges beyond 2/L on matrix factorisation and balances; "
          "failures start near the edge", f"{_BA}, convergence beyond 2/L and the balancing bound "
          "(docs/theory/balancing.md §C.3, §C.4)", 20, 10, "balancing"),
    Claim("seed004.stationary-covariance", "The discrete-time stationary covariance matches simulation; "
          "continuous time misses it", f"{_FL}, stationary covariance (docs/theory/fluctuations.md §A.2-§A.5)",
          30, 20, "stationary_covariance"),
)


def get(claim_id: str) -> Claim:
    """The registered claim with this id.

    Args:
        claim_id: e.g. ``"seed000.negative-momentum"``.

    Returns:
        The :class:`Claim`.

    Raises:
        InputError: no claim has this id (the message lists them).

    Example:
        >>> get("seed003.balancing").module
        'balancing'
    """
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise InputError(f"claim must be one of {', '.join(c.id for c in CLAIMS)}, got {claim_id!r}")


def select(ids: str | None) -> list[Claim]:
    """The claims named in a comma-separated list (all when None or empty), in registry order.

    Args:
        ids: ``"a,b"`` or None.

    Returns:
        list of :class:`Claim`.

    Raises:
        InputError: an unknown id.

    Example:
        >>> [c.id for c in select("seed003.balancing,seed000.critical-lr")]
        ['seed000.critical-lr', 'seed003.balancing']
    """
    if not ids or not ids.strip():
        return list(CLAIMS)
    wanted = {get(i.strip()).id for i in ids.split(",") if i.strip()}
    return [c for c in CLAIMS if c.id in wanted]
