"""The default experiments of the momentum-scaling claim (the momentum-scaling paper): test beds and their grids.

``PRESETS[name]`` is the full run of a test bed (label noise, learning rates, the C grid in units of
C_lin, chains, plain-SGD baseline); ``QUICK[name]`` the fields a quick run replaces.  The CLI
(``sgdlab momentum-scaling``) and the report read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._validate import InputError
from .mlp import TeacherStudent
from .sensing import MatrixSensing
from .uv import UV

__all__ = ["Preset", "PRESETS", "QUICK", "TEST_BEDS", "build"]


TEST_BEDS = ("uv", "sensing", "mlp")


@dataclass(frozen=True)
class Preset:
    """Default experiment of one test bed (full and ``--quick``)."""

    label_noise: float
    lrs: tuple
    grid: tuple            # C in units of C_lin
    chains: int
    baseline_steps: int
    baseline_chains: int


PRESETS = {
    # docs/theory/momentum-scaling.md §B.6: δ = 0.5 (ε = 2, s = 1, N = 16), C on a √2 grid from 0.35 to 4
    "uv": Preset(2.0, (4e-3, 2e-3, 1e-3, 5e-4, 2.5e-4), tuple(2 ** (k / 2) for k in range(-3, 5)), 300,
                 1_500_000, 100),
    "sensing": Preset(0.1, (4e-3, 2e-3, 1e-3, 5e-4), tuple(2 ** (k / 2) for k in range(-4, 3)), 100,
                      200_000, 50),
    "mlp": Preset(0.1, (4e-2, 2e-2, 1e-2), tuple(2 ** (k / 2) for k in range(-4, 3)), 40, 100_000, 20),
}
QUICK = {
    "uv": dict(lrs=(4e-3, 2e-3, 1e-3), grid=tuple(2 ** (k / 2) for k in range(-2, 4)), chains=100,
               baseline_steps=50_000, baseline_chains=20),
    "sensing": dict(lrs=(4e-3, 2e-3, 1e-3), grid=tuple(2 ** (k / 2) for k in range(-3, 2)), chains=30,
                    baseline_steps=20_000, baseline_chains=20),
    "mlp": dict(lrs=(4e-2, 2e-2, 1e-2), grid=tuple(2 ** (k / 2) for k in range(-3, 2)), chains=10,
                baseline_steps=20_000, baseline_chains=10),
}


def build(name: str, activation: str = "tanh", seed: int = 0):
    """The model of one test bed of the experiment.

    Args:
        name: ``"uv"`` (docs/theory/momentum-scaling.md §B.6), ``"sensing"`` (matrix sensing) or ``"mlp"`` (teacher-student network).
        activation: the MLP's activation.  seed: random seed of the sensing / MLP instance.

    Returns:
        A :class:`~sgdlab.manifold.UV`, :class:`~sgdlab.manifold.MatrixSensing` or
        :class:`~sgdlab.manifold.TeacherStudent`.

    Raises:
        InputError: an unknown name.

    Example:
        >>> from sgdlab.manifold.presets import PRESETS, build
        >>> type(build("uv")).__name__, PRESETS["uv"].label_noise
        ('UV', 2.0)
    """
    if name == "uv":
        return UV(s=1.0, n=16)
    if name == "sensing":
        return MatrixSensing(d=5, rank=1, m=6, spread=1.0, seed=seed)
    if name == "mlp":
        return TeacherStudent(activation=activation, seed=seed)
    raise InputError(f"name must be one of {', '.join(TEST_BEDS)}, got {name!r}")
