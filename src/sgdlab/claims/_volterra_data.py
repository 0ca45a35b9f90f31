"""The real-image problem the Volterra claims share: centred random ReLU features of MNIST."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=4)
def mnist_features(quick: bool, seed: int):
    """(problem, risk) of n MNIST images through d centred random ReLU features (quick: n = 2000, d = 1000)."""
    from .. import volterra as V
    n, d = (2000, 1000) if quick else (4000, 2000)
    return V.image_features("mnist", n, d, test=1000, seed=seed, centre=True)


def loss_figure(theory, curves, passes_per_step: float, ylabel: str = "training loss"):
    """Volterra prediction over one or more seed means with 95% bands, against passes."""
    from ..report.figures import plt
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    for (label, c), col in zip(curves.items(), ("C1", "C2")):
        m = c.steps >= 1
        x = c.steps[m] * passes_per_step
        ax.fill_between(x, c.loss[m] - 1.96 * c.stderr[m], c.loss[m] + 1.96 * c.stderr[m], color=col, alpha=0.25, lw=0)
        ax.plot(x, c.loss[m], color=col, lw=1.1, label=label)
    m = theory.steps >= 1
    ax.plot(theory.steps[m] * passes_per_step, theory.loss[m], color="C0", ls="--", lw=1.5, label="Volterra")
    ax.set(xscale="log", yscale="log", xlabel="passes", ylabel=ylabel)
    ax.legend(frameon=False, fontsize=8)
    return fig
