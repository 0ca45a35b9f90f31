"""The optimal momentum 1 - β* = C η^{2/3} and its critical-damping prefactor (docs/theory/momentum-scaling.md §B.5).

τ_D ∝ (1-β)²/η² falls as β → 1 while τ_L ∝ 1/(1-β) grows; they meet at
(1-β)³ ∝ η², so 1 - β* = C η^{2/3} and T_opt ∝ η^{-2/3} (against η^{-2} at β = 0) [H, V].
Critical damping of the linearised motion along the valley (tangent curvature per step
κ = ηε²k/(4N(1-β)), heavy-ball critical damping ηκ = (1-√β)² ≈ (1-β)²/4) gives

.. math::  C_{\\rm lin} = (ε^2 k / N)^{1/3}.

On the UV model the measured optimum sits at C_opt ≈ 0.74 C_lin [V]; the paper's own
constant is [?] and is not used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


from .._validate import InputError, check_positive
from ..result import jsonable, register_status
from .convention import ema_one_minus_beta, one_minus_beta
from .timescales import Timescales, timescales

__all__ = ["c_lin", "Recommendation", "recommended_momentum", "predicted_speedup"]

PARAMETRISATIONS = ("torch", "ema")
IN_REGIME = register_status("in-regime", "manifold: 1 - β* = C η^{2/3} < 1, the scaling law gives a momentum")
OUT_OF_REGIME = register_status("out-of-regime", "manifold: C η^{2/3} >= 1, the learning rate is too large for "
                                "the scaling law (β* = 0)")


def c_lin(model, label_noise: float, k: float | None = None) -> float:
    """C_lin = (ε²k/N)^{1/3}, k the slowest relevant tangent curvature (default ``model.k``), docs/theory/momentum-scaling.md §B.5 [H].

    Args:
        model: a test bed; supplies N (``model.n``) and, unless ``k`` is given, ``model.k``.
        label_noise: ε > 0.
        k: tangent curvature > 0 overriding ``model.k``.

    Returns:
        C_lin as a float.

    Raises:
        InputError: ``label_noise`` or ``k`` not > 0.

    Example:
        >>> from sgdlab.manifold import UV, c_lin
        >>> round(c_lin(UV(s=1.0, n=16), label_noise=2.0), 12)     # (4·4/16)^{1/3}
        1.0
        >>> round(c_lin(UV(s=1.0, n=16), label_noise=2.0, k=32.0), 12)
        2.0
    """
    eps = check_positive(label_noise, "label_noise")
    k = model.k if k is None else check_positive(k, "k")
    return float((eps * eps * k / model.n) ** (1.0 / 3.0))


def predicted_speedup(model, lr: float, momentum: float, label_noise: float) -> float:
    """τ_D(β=0) / max(τ_D, τ_L, τ_⊥)(β): the predicted gain over plain label-noise SGD [H].

    With both drift times from docs/theory/momentum-scaling.md §B.4; when τ_D dominates this is 1/(1-β)².

    Args:
        model: a test bed.
        lr: v-form learning rate η > 0.
        momentum: β in (-1, 1).
        label_noise: ε > 0.

    Returns:
        The predicted speed-up as a float (0 when β makes the map unstable: τ_⊥ = ∞).

    Raises:
        InputError: ``lr`` or ``label_noise`` not > 0, ``momentum`` outside (-1, 1).

    Example:
        >>> from sgdlab.manifold import UV, predicted_speedup
        >>> round(predicted_speedup(UV(s=1.0, n=16), lr=1e-3, momentum=0.9, label_noise=2.0), 6)
        100.0
    """
    base = timescales(model, lr, 0.0, label_noise).drift
    ts = timescales(model, lr, momentum, label_noise)
    return float(base / max(ts.drift, ts.longitudinal, ts.transverse))


@dataclass(frozen=True)
class Recommendation:
    """The recommended heavy-ball momentum at a learning rate (docs/theory/momentum-scaling.md §B.5).

    Attributes:
        momentum: β* (v-form; identical in the EMA form, only the learning rate differs).
        one_minus_beta: 1 - β*.
        C: the prefactor used (default C_lin); C_lin: (ε²k/N)^{1/3}.
        lr: the v-form learning rate η; lr_ema: the EMA learning rate η' = η/(1-β*).
        speedup: predicted τ_D(β=0)/max(τ_D, τ_L, τ_⊥)(β*).
        timescales: :class:`Timescales` at β*.
        status: ``"in-regime"`` or ``"out-of-regime"`` (C η^{2/3} >= 1: no momentum helps; β* = 0);
            ``reason`` says why (``message`` is its old, read-only name).
    """

    momentum: float
    one_minus_beta: float
    C: float
    C_lin: float
    lr: float
    lr_ema: float
    speedup: float
    timescales: Timescales
    status: str
    reason: str

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason

    def to_dict(self) -> dict:
        d = asdict(self)
        d["timescales"] = self.timescales.to_dict()
        return jsonable(d)


def recommended_momentum(model, lr: float, label_noise: float, C: float | None = None,
                         parametrisation: str = "torch") -> Recommendation:
    """1 - β* = C η^{2/3} with C = C_lin unless given (docs/theory/momentum-scaling.md §B.5) [H, V].

    Args:
        model: a test bed; supplies N and the tangent curvature k.
        lr: the learning rate *in the user's parametrisation*: v-form / torch.optim.SGD η
            for ``parametrisation="torch"``, or the EMA learning rate η' (``m ← βm + (1-β)g,
            θ ← θ - η'm``) for ``"ema"``; then 1 - β* = C³η'² (the EMA pitfall, docs/theory/index.md §0.2).
        label_noise: ε > 0.
        C: prefactor, e.g. a measured C_opt from :func:`sweep`.
        parametrisation: ``"torch"`` (v-form) or ``"ema"``: which learning rate ``lr`` is.

    Returns:
        :class:`Recommendation` with ``status`` "in-regime", or "out-of-regime" (C η^{2/3} >= 1:
        β* = 0 and speed-up 1) instead of an error.

    Raises:
        InputError: unknown ``parametrisation``; ``lr``, ``label_noise`` or ``C`` not > 0.

    Example:
        >>> from sgdlab.manifold import UV, recommended_momentum
    >>> r = recommended_momentum(UV(s=1.0, n=16), lr=1e-3, label_noise=2.0)
    >>> round(r.C_lin, 3), round(r.one_minus_beta, 4), round(r.momentum, 4)
    (1.0, 0.01, 0.99)
    >>> recommended_momentum(UV(s=1.0, n=16), lr=2.0, label_noise=2.0).status
    'out-of-regime'
    """
    if parametrisation not in PARAMETRISATIONS:
        raise InputError(f"parametrisation must be one of {', '.join(PARAMETRISATIONS)}, got {parametrisation!r}")
    lr = check_positive(lr, "lr")
    clin = c_lin(model, label_noise)
    C = clin if C is None else check_positive(C, "C")
    omb = one_minus_beta(lr, C) if parametrisation == "torch" else ema_one_minus_beta(lr, C)
    if omb >= 1.0:
        eta = lr
        ts = timescales(model, eta, 0.0, label_noise)
        msg = f"C·lr^(2/3) = {omb:.3g} >= 1: the learning rate is too large for the scaling law; use beta = 0"
        return Recommendation(0.0, 1.0, C, clin, eta, eta, 1.0, ts, OUT_OF_REGIME, msg)
    beta = 1.0 - omb
    eta = lr if parametrisation == "torch" else lr * omb
    ts = timescales(model, eta, beta, label_noise)
    return Recommendation(float(beta), float(omb), float(C), clin, eta, eta / omb,
                          predicted_speedup(model, eta, beta, label_noise), ts, IN_REGIME,
                          f"1 - β* = C·lr^(2/3) = {omb:.3g} < 1 (C = {C:.4g})")
