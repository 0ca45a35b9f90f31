"""Necessary conditions at the limit of GD: linear stability and the balancing bounds.

docs/theory/balancing.md §C.3 (necessary conditions) and §C.4 (balancing bound), both **[D]**: derived
here from linear stability, not the paper's Theorem 3.1, whose exact admissible range
could not be read **[?]**.  A minimum reached from a positive-measure set of
initialisations is linearly stable, so with a = ‖X∞‖₂, b = ‖Y∞‖₂, σ₁ = σ₁(A):

.. math::  h\\,(a^2 + b^2) \\le 2,\\qquad (a - b)^2 \\le \\frac{2}{h} - 2σ_1,\\qquad
           |a^2 - b^2| \\le 2\\sqrt{1/h^2 - σ_1^2},

using ab >= σ₁ at a global minimum XYᵀ = A.  In the scalar case a = |x|, b = |y|, σ₁ = μ.
They are bounds, not predictions: near the threshold the limit depends on h chaotically.
A stable minimum exists only for h <= 1/σ₁ (:func:`max_lr`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_positive
from ..result import jsonable, register_status
from ._arrays import as_lr, as_target, parse
from .sharpness import spectral_sq

__all__ = ["BoundCheck", "balancing_bounds", "check_bounds", "max_lr"]


def max_lr(A) -> float:
    """1/σ₁(A): no linearly stable global minimum exists for larger h (docs/theory/balancing.md §C.3 [D]).

    Args:
        A: μ (a number) or an (n, m) matrix.

    Returns:
        1/σ₁(A) as a float (∞ for A = 0).

    Raises:
        InputError: ``A`` not a finite number or 2-D matrix.

    Example:
        >>> import numpy as np
        >>> from sgdlab.factorization import max_lr
        >>> max_lr(np.diag([2.0, 1.0])), max_lr(0.0)
        (0.5, inf)
    """
    A2, _ = as_target(A)
    s1 = float(np.linalg.norm(A2, 2))
    return float("inf") if s1 == 0 else 1.0 / s1


def balancing_bounds(A, lr) -> dict[str, np.ndarray]:
    """The right-hand sides of docs/theory/balancing.md §C.4 [D]: ``gap`` = 2/h - 2σ₁, ``imbalance`` = 2√(1/h² - σ₁²).

    For h > 1/σ₁ no minimum is stable: ``gap`` is negative and ``imbalance`` is set to 0.

    Args:
        A: μ (a number) or an (n, m) matrix.
        lr: learning rate(s) h > 0.

    Returns:
        dict with ``"stability"`` (2/h), ``"gap"`` and ``"imbalance"``, each of lr's shape.

    Raises:
        InputError: bad ``A``, or ``lr`` not finite and > 0.

    Example:
        >>> from sgdlab.factorization import balancing_bounds
        >>> b = balancing_bounds(1.0, 0.5)                  # 2/h = 4, 2/h - 2 = 2, 2√(4 - 1)
        >>> float(b["stability"]), float(b["gap"]), round(float(b["imbalance"]) ** 2, 9)
        (4.0, 2.0, 12.0)
    """
    A2, _ = as_target(A)
    h, s1 = as_lr(lr), float(np.linalg.norm(A2, 2))
    return {"stability": 2.0 / h, "gap": 2.0 / h - 2.0 * s1,
            "imbalance": 2.0 * np.sqrt(np.maximum(1.0 / h ** 2 - s1 ** 2, 0.0))}


HOLDS = register_status("holds", "factorization: every §C.4 bound holds at every run checked")
FAILS = register_status("fails", "factorization: some §C.4 bound fails at some run (meaningful at global minima)")


@dataclass(frozen=True)
class BoundCheck:
    """Left-hand sides of docs/theory/balancing.md §C.4 per run, their bounds, and whether each holds to ``rtol``.

    Holds ``stability`` h(a² + b²), ``gap`` (a - b)² with ``gap_bound``, ``imbalance`` |a² - b²|
    with ``imbalance_bound``, and ``ok`` (all three hold), each per run.

    ``status`` "holds" (every run) or "fails"; ``reason`` counts the runs that fail.
    """

    stability: np.ndarray  # h(‖X‖²₂ + ‖Y‖²₂), must be <= 2
    gap: np.ndarray  # (‖X‖₂ - ‖Y‖₂)²
    gap_bound: np.ndarray
    imbalance: np.ndarray  # |‖X‖²₂ - ‖Y‖²₂|
    imbalance_bound: np.ndarray
    ok: np.ndarray  # all three hold

    @property
    def status(self) -> str:
        return HOLDS if bool(np.all(self.ok)) else FAILS

    @property
    def reason(self) -> str:
        bad = int(np.size(self.ok) - np.count_nonzero(self.ok))
        return f"{bad} of {np.size(self.ok)} runs violate a §C.4 bound" if bad else "every §C.4 bound holds"

    def to_dict(self) -> dict:
        return jsonable({"status": self.status, "reason": self.reason, "stability": self.stability, "gap": self.gap,
                         "gap_bound": self.gap_bound, "imbalance": self.imbalance,
                         "imbalance_bound": self.imbalance_bound, "ok": self.ok})


def check_bounds(A, X, Y, lr, rtol: float = 1e-6) -> BoundCheck:
    """Evaluate the three bounds of docs/theory/balancing.md §C.3–C.4 [D] at (X, Y); meaningful at a global minimum.

    h(a² + b²) <= 2, (a - b)² <= 2/h - 2σ₁, |a² - b²| <= 2√(1/h² - σ₁²), a = ‖X‖₂, b = ‖Y‖₂.

    Args:
        A: μ (a number) or an (n, m) matrix.
        X, Y: factors in the layout of :func:`gd` (e.g. the limits ``GDResult.X``, ``.Y``).
        lr: learning rate(s) h > 0.
        rtol: relative slack >= 0.

    Returns:
        :class:`BoundCheck` with status "holds" or "fails" (a failure is reported, not raised).

    Raises:
        InputError: bad ``A`` / ``X`` / ``Y`` / ``lr``, or ``rtol`` negative.

    Example:
        >>> from sgdlab.factorization import check_bounds
        >>> check_bounds(1.0, 1.0, 1.0, lr=0.5).status      # balanced minimum x = y = 1
        'holds'
        >>> check_bounds(1.0, 4.0, 0.25, lr=0.5).status     # h(16 + 1/16) > 2: not stable
        'fails'
    """
    rtol = check_positive(rtol, "rtol", allow_zero=True)
    A2, b, h = parse(A, X, Y, lr)
    a2, b2 = spectral_sq(b.X), spectral_sq(b.Y)
    rhs = balancing_bounds(A2, h)
    stab = h * (a2 + b2)
    gap = (np.sqrt(a2) - np.sqrt(b2)) ** 2
    imb = np.abs(a2 - b2)
    slack = rtol * (1.0 + a2 + b2)
    ok = (stab <= 2.0 * (1 + rtol)) & (gap <= rhs["gap"] + slack) & (imb <= rhs["imbalance"] + slack)
    return BoundCheck(*(b.per_run(v) for v in (stab, gap, rhs["gap"], imb, rhs["imbalance"], ok)))
