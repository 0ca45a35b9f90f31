"""seed002.momentum-scaling-uv: the optimal 1 - β ∝ η^(2/3) on the UV model (docs/theory/momentum-scaling.md §B.6)."""

from ._base import INLINE
from ._momentum_scaling import check_scaling

ID = "seed002.momentum-scaling-uv"


def check(quick: bool, seed: int = 0, tasks=INLINE):
    """Replicate sweeps of the UV preset (:func:`._momentum_scaling.check_scaling`); a ClaimResult."""
    return check_scaling(ID, "uv", quick, seed, replicates=4, tasks=tasks)
