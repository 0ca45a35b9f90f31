"""Torch networks: the linearised network as a :class:`~sgdlab.Problem`, and torch SGD on both (docs/theory/networks.md).

PyTorch is optional (``pip install "sgdlab[torch]"``); it is imported on first use.

    p = sgdlab.nn.linearised(model, X, Y)          # the NTK problem of the network at its weights
    r = sgdlab.nn.train(model, X, Y, sgd, steps=2000, seeds=20)              # torch.optim.SGD on the network
    q = sgdlab.nn.train(model, X, Y, sgd, steps=2000, seeds=20, linearised=True)   # ... on its linearisation
    c = sgdlab.predict(p, sgd, steps=2000)         # the Kronecker problem Θ ≈ K ⊗ I_C
    e = sgdlab.nn.predict_blocks(sgdlab.nn.ntk(model, X), sgdlab.nn.residual_labels(model, X, Y), sgd, 2000)
    b = sgdlab.nn.linearised(model, X, Y, blocks=True, spectrum="lanczos")   # Θ kept whole, matrix-free
    s = sgdlab.predict(b, sgd, steps=2000)         # SE with sample blocks on Θ's spectral measure

* :mod:`~sgdlab.nn.ntk`    NTK products (torch.func vjp/jvp), the dense Θ, the output-averaged kernel K,
  the distance of Θ from K ⊗ I_C, the linearised problem
* :mod:`~sgdlab.nn.train`  the torch twin: ``torch.optim.SGD`` over many seeds, network or linearisation
* :mod:`~sgdlab.nn.blocks` the exact model and SE with sample blocks (outputs coupled, Θ of any form), numpy
* :mod:`~sgdlab.nn.theta`  Θ as a linear operator (products, exact trace) and the matrix-free block problem
"""

from .blocks import block_noise, fit_tau_blocks, predict_blocks
from .ntk import (KroneckerError, kernel_matvec, kronecker_error, linearised, ntk, ntk_products, output_kernel,
                  residual_labels)
from .theta import block_problem, ntk_trace, theta_operators
from .train import train

__all__ = ["linearised", "train", "ntk", "ntk_products", "output_kernel", "kronecker_error", "KroneckerError",
           "kernel_matvec", "residual_labels", "predict_blocks", "block_noise", "fit_tau_blocks", "theta_operators",
           "ntk_trace", "block_problem"]
