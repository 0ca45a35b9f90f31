"""seed002.momentum-scaling-mlp: the optimal 1 - β ∝ η^(2/3) on an MLP on Fashion-MNIST (full run only).

The momentum-scaling paper's own real-data check is a 6-layer MLP on Fashion-MNIST (its appendix A.4,
Fig. 5: the optimal β per learning rate from the test accuracy after label-noise training, and a linear
fit of log(1 - β*) against log η).  This claim runs sgdlab's version of that setting, the
:class:`sgdlab.manifold.FashionMLP` test bed (a one-hidden-layer tanh MLP interpolating a small subset
of Fashion-MNIST images, started on its manifold of interpolating minima; docs/theory/momentum-scaling.md §B.7),
with the protocol of the other test beds: the time for tr H to converge along the valley, per (η, C).
Without the data set it answers cannot-check, naming where it looked.  The quick run skips it.
"""

from ._base import INLINE, full_only
from ._momentum_scaling import check_scaling

ID = "seed002.momentum-scaling-mlp"


def check(quick: bool, seed: int = 0, tasks=INLINE):
    """Full run: replicate sweeps of the Fashion-MNIST MLP preset; quick run: cannot-check (not run)."""
    if quick:
        return full_only(ID, quick, seed, "the network sweep takes minutes")
    return check_scaling(ID, "mlp-fashion", quick, seed, replicates=4, tasks=tasks)
