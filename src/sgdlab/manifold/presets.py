"""The default experiments of the momentum-scaling claim (the momentum-scaling paper): test beds and their grids.

``PRESETS[name]`` is the full run of a test bed (label noise, learning rates, the C grid in units of
C_lin, chains, plain-SGD baseline); ``QUICK[name]`` the fields a quick run replaces.  The CLI
(``sgdlab momentum-scaling``) and the report read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._validate import InputError
from .fashion import FashionMLP
from .mlp import TeacherStudent
from .sensing import MatrixSensing
from .uv import UV

__all__ = ["Preset", "PRESETS", "QUICK", "TEST_BEDS", "build", "missing_data"]


#: "mlp" is the teacher-student network (its old name, kept); "mlp-fashion" the MLP on Fashion-MNIST
TEST_BEDS = ("uv", "sensing", "mlp", "teacher-student", "mlp-fashion")


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
    # docs/theory/momentum-scaling.md §B.7: 16 images at 7x7, 8 tanh units; ε = 0.3 puts 1 - β* near 0.02 at
    # the largest η (ηλ_max ≈ 0.09).  C from 0.35 to 2 C_lin: the optimum moves from 1.1 to 0.7 C_lin as η
    # falls (the noise floor that blocks small C recedes).  One replicate (24 chains) ≈ 2 min of one core.
    "mlp-fashion": Preset(0.3, (1e-1, 5e-2, 2.5e-2, 1.25e-2, 6.25e-3), tuple(2 ** (k / 2) for k in range(-3, 3)),
                          96, 100_000, 20),
}
PRESETS["teacher-student"] = PRESETS["mlp"]
QUICK = {
    "uv": dict(lrs=(4e-3, 2e-3, 1e-3), grid=tuple(2 ** (k / 2) for k in range(-2, 4)), chains=100,
               baseline_steps=50_000, baseline_chains=20),
    "sensing": dict(lrs=(4e-3, 2e-3, 1e-3), grid=tuple(2 ** (k / 2) for k in range(-3, 2)), chains=30,
                    baseline_steps=20_000, baseline_chains=20),
    "mlp": dict(lrs=(4e-2, 2e-2, 1e-2), grid=tuple(2 ** (k / 2) for k in range(-3, 2)), chains=10,
                baseline_steps=20_000, baseline_chains=10),
    "mlp-fashion": dict(lrs=(1e-1, 5e-2, 2.5e-2), grid=tuple(2 ** (k / 2) for k in range(-2, 3)), chains=10,
                        baseline_steps=20_000, baseline_chains=10),
}
QUICK["teacher-student"] = QUICK["mlp"]


def build(name: str, activation: str = "tanh", seed: int = 0):
    """The model of one test bed of the experiment.

    Args:
        name: ``"uv"`` (docs/theory/momentum-scaling.md §B.6), ``"sensing"`` (matrix sensing), ``"mlp"`` or
            ``"teacher-student"`` (the teacher-student network) or ``"mlp-fashion"`` (the MLP on Fashion-MNIST).
        activation: the networks' activation.  seed: random seed of the sensing / network instance.

    Returns:
        A :class:`~sgdlab.manifold.UV`, :class:`~sgdlab.manifold.MatrixSensing`,
        :class:`~sgdlab.manifold.TeacherStudent` or :class:`~sgdlab.manifold.FashionMLP`.

    Raises:
        InputError: an unknown name, or ``"mlp-fashion"`` without the Fashion-MNIST files
            (:func:`missing_data` says why in one line).

    Example:
        >>> from sgdlab.manifold.presets import PRESETS, build
        >>> type(build("uv")).__name__, PRESETS["uv"].label_noise
        ('UV', 2.0)
    """
    if name == "uv":
        return UV(s=1.0, n=16)
    if name == "sensing":
        return MatrixSensing(d=5, rank=1, m=6, spread=1.0, seed=seed)
    if name in ("mlp", "teacher-student"):
        return TeacherStudent(activation=activation, seed=seed)
    if name == "mlp-fashion":
        return FashionMLP(activation=activation, seed=seed)
    raise InputError(f"name must be one of {', '.join(TEST_BEDS)}, got {name!r}")


def missing_data(name: str) -> str:
    """Why the test bed ``name`` cannot be built for lack of its data set, in one line; "" when nothing is missing.

    Example:
        >>> from sgdlab.manifold.presets import missing_data
        >>> missing_data("uv")
        ''
    """
    if name != "mlp-fashion":
        return ""
    from ..data.loaders import fashion_missing
    return fashion_missing()
