"""seed002.momentum-scaling-mlp: the optimal 1 - β ∝ η^(2/3) on a two-layer network (full run only).

The paper's own real-data setting is an MLP on Fashion-MNIST; sgdlab's network test bed is a
teacher-student tanh network on Gaussian inputs (:class:`sgdlab.manifold.TeacherStudent`), which this
claim runs.  The quick run skips it (minutes of chains).
"""

from ._base import INLINE, full_only
from ._momentum_scaling import check_scaling

ID = "seed002.momentum-scaling-mlp"


def check(quick: bool, seed: int = 0, tasks=INLINE):
    """Full run: replicate sweeps of the MLP preset; quick run: cannot-check (not run)."""
    if quick:
        return full_only(ID, quick, seed, "the network sweep takes about 15 minutes")
    return check_scaling(ID, "mlp", quick, seed, replicates=3, tasks=tasks)
