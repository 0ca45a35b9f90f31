"""How well a Lanczos measure is resolved: the stopping rule's test functions and the report.

The quantities a prediction reads from a spectral measure μ are integrals of smooth functions of
λ: the deterministic part of the loss at step t is ∫ (1 - αλ)^{2t}-like factors dμ, the noise mass
U = c_c ∫ αλ(1+β)/D(αλ) dν.  Lanczos stops when the Gauss quadratures of the test functions

.. math::  F_h(μ) = \\int λ^p e^{-hλ/λ_{max}}\\, dμ(λ),\\qquad h ∈ \\{0\\} ∪ \\text{geomspace}(1, 4\\,T, 16)

(gradient-flow losses up to the horizon T for any lr up to 2/λ_max) change by less than ``tol``
between k - Δ and k steps; the last change is the reported error estimate (a heuristic: the
Gauss error decreases geometrically in k once k exceeds √(h) for these functions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..result import ResultMixin, register_status

__all__ = ["Resolution", "test_integrals", "relative_change", "RESOLVED", "UNRESOLVED"]

RESOLVED = register_status("resolved", "a Lanczos measure whose test integrals changed by less than tol at the end")
UNRESOLVED = register_status("unresolved", "a Lanczos measure that reached its rank cap before meeting tol")


def test_integrals(nodes: np.ndarray, weights: np.ndarray, lam_max: float, horizon: float, power: int) -> np.ndarray:
    """F_h = Σ_j w_j θ_j^p exp(-h θ_j/λ_max) for h = 0 and 16 values geomspace(1, 4·horizon).

    Args:
        nodes: θ_j.  weights: w_j.  lam_max: the scale λ_max (> 0).  horizon: T (steps).
        power: p (0 for the initial-loss measure, 1 for the trace measure's λ-weighted moments).

    Returns:
        (17,) array of the integrals.
    """
    h = np.concatenate([[0.0], np.geomspace(1.0, 4.0 * max(horizon, 1.0), 16)])
    x = np.clip(nodes, 0.0, None) / lam_max
    return (weights * nodes**power) @ np.exp(-np.outer(x, h))


def relative_change(new: np.ndarray, old: np.ndarray, scale: np.ndarray) -> float:
    """max_h |F_h(new) - F_h(old)| / scale_h (the stopping rule's error estimate)."""
    return float(np.max(np.abs(new - old) / np.maximum(scale, 1e-300)))


@dataclass(frozen=True)
class Resolution(ResultMixin):
    """What a matrix-free spectrum is made of and how well it is resolved.

    Attributes:
        n_samples: N, the number of data points (for the SE batch factor and batch limits).
        space: ``"features"`` (X given), ``"kernel"`` (K given) or ``"ntk-blocks"`` (a network's Θ on
            sample blocks, :func:`sgdlab.nn.linearised` with ``blocks=True``).
        mass_steps: Lanczos steps of the label-started run (initial-loss measure).
        mass_error: its last relative change of the test integrals (the stopping rule's estimate).
        trace_steps: the most Lanczos steps of a probe run (trace measure).
        trace_error: their last change, relative to the trace.
        probes: number of random probes (0 when the deflation covered the whole space).
        deflated: number of exact top eigenpairs (scipy eigsh) taken out before the probes.
        trace_estimate: the probes' Hutchinson estimate of tr H (deflated part exact).
        trace_exact: tr H when cheap (‖X‖_F²/N, tr K/N), else None; the probe multiplicities are
            rescaled to match it (a control variate: the λ-moment is then exact).
        probe_error: estimated standard error, relative to tr H, of the probe part of the test
            integrals after that rescaling (the Monte-Carlo error of the trace measure).
        tau: τ̂ for the SE model (:func:`sgdlab.spectra.tau.fit_tau_deflated`).
        tau_bulk_share: the share of Σλ² outside the deflated eigenvectors; τ̂ is exact when it is
            0 and moves by this share times the bulk's own τ difference otherwise.
        tol: the requested tolerance.  rank: the cap on steps.
        seconds: wall time of the construction.
    """

    n_samples: int
    space: str
    mass_steps: int
    mass_error: float
    trace_steps: int
    trace_error: float
    probes: int
    deflated: int
    trace_estimate: float
    trace_exact: float | None
    probe_error: float
    tau: float
    tau_bulk_share: float
    tol: float
    rank: int
    seconds: float = field(default=0.0, compare=False)

    @property
    def status(self) -> str:
        """``"resolved"`` when both runs met ``tol`` (or became exact), else ``"unresolved"``."""
        return RESOLVED if max(self.mass_error, self.trace_error) <= self.tol else UNRESOLVED

    @property
    def reason(self) -> str:
        return (f"label run {self.mass_steps} steps (change {self.mass_error:.2g}), probe runs {self.trace_steps} "
                f"steps (change {self.trace_error:.2g}) against tol {self.tol:g} with rank {self.rank}; "
                f"{self.deflated} deflated eigenpairs, {self.probes} probes (trace error {self.probe_error:.2g})")
