"""seed002.momentum-scaling-sensing: the optimal 1 - β ∝ η^(2/3) on rank-1 matrix sensing."""

from ._base import INLINE
from ._momentum_scaling import check_scaling

ID = "seed002.momentum-scaling-sensing"


def check(quick: bool, seed: int = 0, tasks=INLINE):
    """Replicate sweeps of the sensing preset (:func:`._momentum_scaling.check_scaling`); a ClaimResult."""
    return check_scaling(ID, "sensing", quick, seed, replicates=3, tasks=tasks)
