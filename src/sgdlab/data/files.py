"""Your own data from files: features X and labels Y, or a kernel K and labels, as a Problem.

Formats (by the file's suffix):

* ``.npy``: one array (any real dtype; float32 stays float32 until :class:`~sgdlab.Problem`
  has judged it by float32 rounding);
* ``.npz``: arrays by key: ``X`` and ``y`` (or ``Y``) for data, ``K`` and ``y`` (or ``Y``) for a kernel;
* anything else is text: numbers separated by commas, semicolons, tabs or spaces, one sample per
  line, an optional header line of column names, ``#`` comments skipped.

X may be (N,) (one feature), (N, d), or (N, ...) (images: flattened to (N, d)); labels (N,) or
(N, C) for C outputs.  Every defect is one :class:`~sgdlab.InputError` line naming the file:
a missing or unreadable file (the OS error), non-numbers, NaN or inf, an npz without the keys,
labels of another length, a kernel that is not square.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .._validate import InputError, check_int
from ..problem import Problem
from .features import FEATURES, linear_features, ntk_relu, relu_features

__all__ = ["load_arrays", "load_kernel", "problem_from_files", "read_numbers", "read_table", "OWN_FEATURES",
           "one_hot", "mse_mean_to_sgdlab", "sgdlab_loss_to_mse_mean"]

#: feature maps for your own data: ``raw`` (X exactly as given) and the built-in sets' maps
OWN_FEATURES = ("raw",) + FEATURES

_SEP = re.compile(r"[,;\s]+")
_HEADER = re.compile(r"^[\"']?[A-Za-z_]")
_LABEL_KEYS = ("y", "Y")


# ----------------------------------------------------------------- reading numbers
def read_table(text: str) -> tuple[np.ndarray, list[str] | None]:
    """Parse a text table: rows of numbers, an optional first line of column names, ``#`` comments.

    Args:
        text: the file's contents.

    Returns:
        ``(table, header)``: a (rows, columns) float64 array and the column names (None without a header).

    Raises:
        ValueError: a field that is not a number (naming its line), no numbers, or rows of different lengths.

    Example:
        >>> from sgdlab.data import read_table
        >>> table, header = read_table("a, b, label\\n1, 2, 0\\n3, 4, 1  # a comment\\n")
        >>> table.tolist(), header
        ([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]], ['a', 'b', 'label'])
    """
    rows, header, first = [], None, True
    for k, line in enumerate(text.splitlines()):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f for f in _SEP.split(line) if f]
        try:
            vals = [float(f) for f in fields]
        except ValueError:
            if first and all(_HEADER.match(f) for f in fields):      # a header line of names
                first = False
                header = [f.strip("\"'") for f in fields]
                continue
            bad = next(f for f in fields if not _parses(f))
            raise ValueError(f"line {k + 1}: {bad!r} is not a real number") from None
        first = False
        rows.append(vals)
    if not rows:
        raise ValueError("no numbers found")
    if len({len(r) for r in rows}) != 1:
        raise ValueError("rows have different numbers of columns")
    return np.array(rows, dtype=np.float64), header


def _parses(f: str, kind=float) -> bool:
    """Whether ``kind(f)`` succeeds (a number field of a table, an integer column index)."""
    try:
        kind(f)
        return True
    except ValueError:
        return False


def _open(path, what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what}: file not found")
    if path.is_dir():
        raise InputError(f"{what} is a folder: give a file of numbers")
    return path


def _checked(arr, what: str) -> np.ndarray:
    """A real, non-empty, finite array (its dtype kept when floating)."""
    arr = np.asarray(arr)
    if np.iscomplexobj(arr) or arr.dtype.kind not in "biuf":
        raise InputError(f"{what} must hold real numbers, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.size == 0:
        raise InputError(f"{what} holds no numbers")
    bad = ~np.isfinite(arr)
    if bad.any():
        at = np.argwhere(bad)[0].tolist()
        raise InputError(f"{what} contains NaN or inf ({int(bad.sum())} entries, the first at index {at}): "
                         "remove or replace those entries")
    return arr


def _read(path: Path, what: str):
    """The raw contents: an array (.npy), a dict of arrays (.npz) or (table, header) (text); OS errors named."""
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        return read_table(path.read_text(errors="strict"))
    except OSError as exc:
        raise InputError(f"could not read {what}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError, EOFError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"could not read numbers from {what}: {msg}") from None


def read_numbers(path: str | os.PathLike, what: str | None = None) -> np.ndarray:
    """Numbers from a .npy or text file as float64: one column gives (n,), one line a row (n,), else a table.

    Args:
        path: the file.
        what: how error messages name it (default: the path).

    Returns:
        np.ndarray: finite float64 numbers.

    Raises:
        InputError: a missing or unreadable file, not numbers, NaN or inf, or no numbers.

    Example:
        >>> import os, tempfile
        >>> from sgdlab.data import read_numbers
        >>> path = os.path.join(tempfile.mkdtemp(), "eig.txt")
        >>> _ = open(path, "w").write("eigenvalue\\n1.0\\n0.5\\n")
        >>> read_numbers(path).tolist()
        [1.0, 0.5]
    """
    what = what or str(path)
    path = _open(path, what)
    raw = _read(path, what)
    if isinstance(raw, dict):
        raise InputError(f"{what} is an .npz archive: give a .npy or text file of numbers")
    if isinstance(raw, tuple):
        arr = raw[0]
        arr = arr[0] if arr.shape[0] == 1 else (arr[:, 0] if arr.shape[1] == 1 else arr)
    else:
        arr = raw
    return np.asarray(_checked(arr, what), dtype=np.float64)


# ----------------------------------------------------------------- data and labels
def _column(label_column, header, ncol: int, what: str) -> int:
    if isinstance(label_column, str) and not _parses(label_column, int):
        if header is None or label_column not in header:
            names = ", ".join(header) if header else "none: the file has no header line"
            raise InputError(f"label_column {label_column!r} is not a column of {what} (columns: {names})")
        return header.index(label_column)
    j = int(label_column)
    if not -ncol <= j < ncol:
        raise InputError(f"label_column {j} is out of range: {what} has {ncol} columns")
    return j % ncol


def _as_labels(y, what: str) -> np.ndarray:
    y = _checked(y, what)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim not in (1, 2):
        raise InputError(f"{what} has shape {y.shape}: labels are (N,) or (N, C) for C outputs")
    return y


def _pick(arrays: dict, keys, what: str, role: str):
    for k in keys:
        if k in arrays:
            return arrays[k]
    found = ", ".join(sorted(arrays)) or "nothing"
    raise InputError(f"{what} holds {found}: expected {role}")


def load_arrays(path: str | os.PathLike, labels: str | os.PathLike | None = None, *,
                label_column: int | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features X and labels Y from files.

    Labels come from, in this order: the ``labels`` file; the column ``label_column`` of a text
    data file (an index, negative from the end, or a header name), removed from X; the ``y``
    (or ``Y``) array of an ``.npz`` data file.

    Args:
        path: the data file (.npy, .npz with ``X``, or text).
        labels: a labels file (.npy, .npz with ``y``/``Y``, or text): (N,) or (N, C).
        label_column: for a text data file: the column holding the labels.

    Returns:
        ``(X, Y)``: X (N, d) (a .npy's float dtype kept, else float64), Y (N,) or (N, C).

    Raises:
        InputError: a missing or unreadable file, non-numbers, NaN or inf, an npz without ``X`` or
            without labels, no labels at all, labels of another length, or a bad ``label_column``.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from sgdlab.data import load_arrays
        >>> folder = tempfile.mkdtemp()
        >>> np.savez(os.path.join(folder, "mine.npz"), X=np.ones((5, 3), np.float32), Y=np.eye(5)[:, :2])
        >>> X, Y = load_arrays(os.path.join(folder, "mine.npz"))
        >>> X.shape, X.dtype, Y.shape
        ((5, 3), dtype('float32'), (5, 2))
        >>> _ = open(os.path.join(folder, "d.csv"), "w").write("a,b,t\\n1,2,0.5\\n3,4,1.5\\n")
        >>> X, y = load_arrays(os.path.join(folder, "d.csv"), label_column="t")
        >>> X.tolist(), y.tolist()
        ([[1.0, 2.0], [3.0, 4.0]], [0.5, 1.5])
    """
    what = f"data {path}"
    raw = _read(_open(path, what), what)
    y = None
    if isinstance(raw, dict):
        X = _pick(raw, ("X", "x"), what, "X (features) and y (or Y, labels)")
        if labels is None:
            y = _pick(raw, _LABEL_KEYS, what, "y or Y (labels) next to X, or give labels=")
    elif isinstance(raw, tuple):
        X, header = raw
        if label_column is not None:
            j = _column(label_column, header, X.shape[1], what)
            y, X = X[:, j], np.delete(X, j, axis=1)
            if X.shape[1] == 0:
                raise InputError(f"{what} has only the label column: no features left")
    else:
        X = raw
    if label_column is not None and not isinstance(raw, tuple):
        raise InputError(f"label_column is for a text data file; {what} is {Path(path).suffix}: give labels=")
    X = _checked(X, what)
    if X.ndim == 1:
        X = X[:, None]
    elif X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    return X, _labels_for(y, labels, what, X.shape[0], f"has {X.shape[0]} samples",
                          "carries no labels: give a labels file (--labels), a label column (--label-column) "
                          "or an .npz holding X and y")


def _labels_for(y, labels, what: str, N: int, size: str, missing: str) -> np.ndarray:
    """The labels: the ``labels`` file if given, else ``y`` found in the data file; N rows, checked."""
    if labels is not None:
        y = _read_labels(labels)
    if y is None:
        raise InputError(f"{what} {missing}")
    y = _as_labels(y, f"labels {labels}" if labels is not None else f"labels of {what}")
    if y.shape[0] != N:
        src = f"labels {labels}" if labels is not None else f"the labels in {what}"
        raise InputError(f"{src} has {y.shape[0]} rows but {what} {size}: one label (row) per sample")
    return y


def _read_labels(labels) -> np.ndarray:
    what = f"labels {labels}"
    raw = _read(_open(labels, what), what)
    if isinstance(raw, dict):
        return _pick(raw, _LABEL_KEYS, what, "y or Y")
    return raw[0] if isinstance(raw, tuple) else raw


def load_kernel(path: str | os.PathLike, labels: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A kernel (Gram) matrix K and labels from files (an ``.npz`` may hold ``K`` and ``y``/``Y``).

    Args:
        path: the kernel file (.npy, .npz with ``K``, or text): N x N.
        labels: a labels file, (N,) or (N, C) (optional for an .npz holding y).

    Returns:
        ``(K, Y)``: K (N, N) (a .npy's float dtype kept), Y (N,) or (N, C).

    Raises:
        InputError: a missing or unreadable file, non-numbers, NaN or inf, K not square, no labels or
            labels of another length.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from sgdlab.data import load_kernel
        >>> folder = tempfile.mkdtemp()
        >>> np.save(os.path.join(folder, "K.npy"), np.eye(3)); np.save(os.path.join(folder, "y.npy"), np.ones(3))
        >>> K, y = load_kernel(os.path.join(folder, "K.npy"), os.path.join(folder, "y.npy"))
        >>> K.shape, y.shape
        ((3, 3), (3,))
    """
    what = f"kernel {path}"
    raw = _read(_open(path, what), what)
    y = None
    if isinstance(raw, dict):
        K = _pick(raw, ("K",), what, "K (the kernel) and y (or Y, labels)")
        if labels is None:
            y = _pick(raw, _LABEL_KEYS, what, "y or Y (labels) next to K, or give labels=")
    else:
        K = raw[0] if isinstance(raw, tuple) else raw
    K = _checked(K, what)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise InputError(f"{what} has shape {K.shape}: a kernel (Gram) matrix is N x N")
    return K, _labels_for(y, labels, what, K.shape[0], f"is {K.shape[0]} x {K.shape[0]}",
                          "needs labels: give a labels file (--labels) or an .npz holding K and y")


def problem_from_files(data: str | os.PathLike | None = None, labels: str | os.PathLike | None = None, *,
                       kernel: str | os.PathLike | None = None, features: str = "raw", width: int = 1000,
                       seed: int = 0, n: int | None = None, label_column: int | str | None = None,
                       name: str | None = None, spectrum: str = "dense", rank: int | None = None) -> Problem:
    """A :class:`~sgdlab.Problem` from your own files: data and labels, or a kernel and labels.

    The data keep their N (the SE model's τ, the exact model, simulation and batch limits read it).

    Args:
        data: features file (see :func:`load_arrays`); give it or ``kernel``.
        labels: labels file, (N,) or (N, C) for C outputs.
        kernel: kernel (Gram) matrix file instead of ``data`` (:meth:`Problem.from_kernel`).
        features: for ``data``: ``raw`` (X as given: the problem of SGD on your X), ``linear``
            (standardised: centred, mean squared row norm 1), ``rf`` (random ReLU features of
            ``width``) or ``ntk`` (the two-layer ReLU NTK): the maps of the built-in sets.
        width: random features for ``rf``.  seed: seed of the random features and of the subset.
        n: a random subset of n samples (rows, and columns of K); default all.
        label_column: for a text data file, the column of labels (index or header name).
        name: the problem's name (default: the file name and the feature map).
        spectrum: ``"dense"`` (eigendecomposition) or ``"lanczos"`` (a matrix-free spectral measure,
            :mod:`sgdlab.spectra`; never forms XᵀX or XXᵀ).  rank: Lanczos steps at most (default 300).

    Returns:
        Problem: with features and labels (N samples), multi-output when the labels are (N, C).

    Raises:
        InputError: neither or both of ``data`` and ``kernel``, ``features`` with a kernel, an unknown
            ``features``, bad files (:func:`load_arrays`, :func:`load_kernel`), ``n`` < 2, or what the
            Problem constructors refuse.

    Example:
        >>> import os, tempfile
        >>> import numpy as np, sgdlab
        >>> folder = tempfile.mkdtemp()
        >>> X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
        >>> np.save(os.path.join(folder, "X.npy"), X); np.save(os.path.join(folder, "Y.npy"), np.eye(50)[:, :3])
        >>> p = sgdlab.data.problem_from_files(os.path.join(folder, "X.npy"), os.path.join(folder, "Y.npy"))
        >>> p.name, p.n_samples, p.dim, p.n_outputs
        ('X.npy/raw(n=50)', 50, 4, 3)
    """
    if (data is None) == (kernel is None):
        raise InputError("give data= (features) or kernel= (a Gram matrix), one of the two")
    if n is not None:
        n = check_int(n, "n", 2)
    if kernel is not None:
        if features not in ("raw", "kernel"):
            raise InputError(f"features={features!r} maps data; a kernel is used as given (drop features)")
        K, y = load_kernel(kernel, labels)
        idx = _subset(K.shape[0], n, seed)
        if idx is not None:
            K, y = K[np.ix_(idx, idx)], y[idx]
        return Problem.from_kernel(K, y, name=name or f"{Path(kernel).name}/kernel(n={K.shape[0]})",
                                   **_spectrum_options(spectrum, rank))
    if features not in OWN_FEATURES:
        raise InputError(f"features must be one of {', '.join(OWN_FEATURES)}; got {features!r}")
    X, y = load_arrays(data, labels, label_column=label_column)
    idx = _subset(X.shape[0], n, seed)
    if idx is not None:
        X, y = X[idx], y[idx]
    tag = name or f"{Path(data).name}/{features}(n={X.shape[0]})"
    if features == "ntk":
        return Problem.from_kernel(ntk_relu(X), y, name=tag, **_spectrum_options(spectrum, rank))
    F = {"raw": lambda X: X, "linear": linear_features,
         "rf": lambda X: relu_features(X, width, seed)}[features](X)
    return Problem.from_features(F, y, name=tag, **_spectrum_options(spectrum, rank))


def _spectrum_options(spectrum: str, rank: int | None) -> dict:
    """The keyword arguments of the Problem constructors for ``spectrum`` / ``rank``."""
    if spectrum not in ("dense", "lanczos"):
        raise InputError(f"spectrum must be 'dense' or 'lanczos', got {spectrum!r}")
    if spectrum == "dense":
        if rank is not None:
            raise InputError("rank applies to spectrum='lanczos' only")
        return {}
    return {"spectrum": "lanczos", **({} if rank is None else {"rank": check_int(rank, "rank", 1)})}


def _subset(N: int, n: int | None, seed: int):
    if n is None or n >= N:
        return None
    return np.sort(np.random.default_rng(seed).permutation(N)[:n])


# ----------------------------------------------------------------- labels and torch's loss
def one_hot(labels, n_classes: int | None = None) -> np.ndarray:
    """One-hot rows for integer class labels: Y[i, c] = 1 if labels[i] == c (float64, shape (N, C)).

    Args:
        labels: (N,) integers >= 0.  n_classes: C (default max + 1).

    Returns:
        np.ndarray: (N, C).

    Raises:
        InputError: labels not integers >= 0 (or one >= n_classes).

    Example:
        >>> from sgdlab.data import one_hot
        >>> one_hot([0, 2, 1]).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size == 0 or not np.all(np.isfinite(lab)) or np.any(lab != np.round(lab)) \
            or np.any(lab < 0):
        raise InputError("labels must be a non-empty 1-d array of class indices (integers >= 0)")
    lab = lab.astype(np.int64)
    C = int(lab.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", 1)
    if lab.max() >= C:
        raise InputError(f"labels reach {int(lab.max())} but n_classes is {C}")
    return np.eye(C)[lab]


def mse_mean_to_sgdlab(lr: float, n_outputs: int = 1) -> float:
    """The sgdlab learning rate of torch SGD at ``lr`` on ``MSELoss(reduction="mean")``: 2·lr/C.

    On a batch of b samples with C outputs, torch's mean squared error averages b·C squares,
    ℓ = 1/(bC) Σ_i ||f(x_i) - y_i||², while sgdlab's loss is L = 1/(2b) Σ_i ||f(x_i) - y_i||²,
    so ℓ = (2/C)·L and ∇ℓ = (2/C)·∇L: a step -lr·∇ℓ is the step -(2·lr/C)·∇L.  Momentum (torch's
    v-form heavy ball is sgdlab's), batch and sampling are unchanged.  Losses convert with
    :func:`sgdlab_loss_to_mse_mean`.

    Args:
        lr: torch's learning rate (> 0).  n_outputs: C, the output width (>= 1).

    Returns:
        float: sgdlab's lr.

    Raises:
        InputError: lr not > 0 or n_outputs not an integer >= 1.

    Example:
        >>> from sgdlab.data import mse_mean_to_sgdlab
        >>> mse_mean_to_sgdlab(0.05, n_outputs=10), mse_mean_to_sgdlab(0.05)
        (0.01, 0.1)
    """
    from .._validate import check_positive
    return 2.0 * check_positive(lr, "lr") / check_int(n_outputs, "n_outputs", 1)


def sgdlab_loss_to_mse_mean(loss, n_outputs: int = 1):
    """torch ``MSELoss(reduction="mean")`` of a predicted sgdlab loss L: (2/C)·L (an array or a float).

    Args:
        loss: sgdlab's loss (the ``Curve.loss`` array or one value).  n_outputs: C (>= 1).

    Returns:
        The same shape, in torch's units.

    Raises:
        InputError: n_outputs not an integer >= 1.

    Example:
        >>> from sgdlab.data import sgdlab_loss_to_mse_mean
        >>> sgdlab_loss_to_mse_mean(0.5, n_outputs=10)
        0.1
    """
    C = check_int(n_outputs, "n_outputs", 1)
    return 2.0 * np.asarray(loss, dtype=np.float64) / C if np.ndim(loss) else 2.0 * float(loss) / C
