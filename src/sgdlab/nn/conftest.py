"""Doctest collection of sgdlab.nn: the examples of the torch modules run only where torch is installed."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("torch") else ["ntk.py", "train.py", "_torch.py", "theta.py"]
