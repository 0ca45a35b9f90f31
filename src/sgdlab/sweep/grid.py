"""A grid of SGD hyperparameters: the Cartesian product of value lists, one point per combination.

The grid is a mapping ``name -> values`` over the fields of :class:`sgdlab.SGD` (``lr``, ``momentum``,
``batch``, ``sampling``); fields not in the grid take the value of the base configuration.  Points are
numbered in C order (the last name varies fastest), and each point carries its coordinates, the tuple
of indices into the value lists, from which its tasks derive their random seeds.  A list of
configurations instead of a product (:func:`list_points`: lr tied to each momentum and batch, schedules)
gives point k the coordinates (k,).
"""

from __future__ import annotations

import itertools
import numbers
from dataclasses import dataclass

from .._validate import InputError
from ..hyper import SAMPLING_MODES, SGD

__all__ = ["GRID_FIELDS", "Point", "check_grid", "grid_points", "list_points"]

#: the SGD fields a grid may vary
GRID_FIELDS = ("lr", "momentum", "batch", "sampling")


@dataclass(frozen=True)
class Point:
    """One grid point: its number, its coordinates (indices into the value lists) and its SGD."""

    index: int
    coords: tuple[int, ...]
    sgd: SGD


def check_grid(grid) -> dict[str, tuple]:
    """The grid as ``name -> tuple of values``, each list non-empty and each value legal for its field.

    Args:
        grid: a mapping from SGD field names to sequences of values.

    Returns:
        A new dict with tuples of Python scalars (floats for lr and momentum, ints for batch).

    Raises:
        InputError: not a mapping, an unknown name, an empty list or a bad value (named ``grid.<name>``).

    Example:
        >>> check_grid({"lr": [0.1, 0.2], "batch": [4]})
        {'lr': (0.1, 0.2), 'batch': (4,)}
    """
    if not hasattr(grid, "items") or not grid:
        raise InputError("grid must be a non-empty mapping like {'lr': [...], 'momentum': [...]}")
    out = {}
    for name, values in grid.items():
        if name not in GRID_FIELDS:
            raise InputError(f"grid.{name} is not a grid field: use {', '.join(GRID_FIELDS)}")
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        values = tuple(_value(name, v) for v in values)
        if not values:
            raise InputError(f"grid.{name} must hold at least one value")
        if len(set(values)) != len(values):
            raise InputError(f"grid.{name} holds a value twice: {list(values)}")
        out[name] = values
    return out


def _value(name: str, v):
    where = f"grid.{name}"
    if name == "sampling":
        if v not in SAMPLING_MODES:
            raise InputError(f"{where} entries must be one of {', '.join(SAMPLING_MODES)}, got {v!r}")
        return str(v)
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise InputError(f"{where} entries must be numbers, got {v!r}")
    if name == "batch":
        if not isinstance(v, numbers.Integral) and not float(v).is_integer():
            raise InputError(f"{where} entries must be integers >= 1, got {v!r}")
        return int(v)
    return float(v)


def grid_points(grid: dict[str, tuple], base: SGD) -> list[Point]:
    """Every combination of the grid's values over ``base`` (C order), as :class:`Point` s.

    Args:
        grid: a checked grid (:func:`check_grid`).
        base: the SGD whose fields the grid overrides.

    Returns:
        The list of points; point k has coordinates ``numpy.unravel_index(k, shape)``.

    Raises:
        InputError: a combination that :class:`sgdlab.SGD` refuses (named ``grid``).

    Example:
        >>> import sgdlab
        >>> pts = grid_points({"lr": (0.1, 0.2), "momentum": (0.0, 0.5)}, sgdlab.SGD(lr=1.0))
        >>> [(p.coords, p.sgd.lr, p.sgd.momentum) for p in pts][:2]
        [((0, 0), 0.1, 0.0), ((0, 1), 0.1, 0.5)]
    """
    names = list(grid)
    points = []
    for k, coords in enumerate(itertools.product(*(range(len(grid[n])) for n in names))):
        values = {n: grid[n][i] for n, i in zip(names, coords)}
        try:
            sgd = base.replace(**values)
        except InputError as exc:
            raise InputError(f"grid point {values}: {exc}") from None
        points.append(Point(k, tuple(coords), sgd))
    return points


def list_points(configs) -> list[Point]:
    """Explicit configurations as points, point k at coordinates (k,) (for sets that are not a product).

    Args:
        configs: a non-empty sequence of :class:`sgdlab.SGD` (schedules allowed).

    Returns:
        The list of points, in the order given.

    Raises:
        InputError: empty, or an entry that is not an SGD (named ``points[k]``).

    Example:
        >>> import sgdlab
        >>> pts = list_points([sgdlab.SGD(lr=0.1, momentum=0.5), sgdlab.SGD(lr=0.3, batch=4)])
        >>> [(p.coords, p.sgd.lr, p.sgd.batch) for p in pts]
        [((0,), 0.1, 1), ((1,), 0.3, 4)]
    """
    if isinstance(configs, SGD) or not hasattr(configs, "__iter__"):
        raise InputError("points must be a list of sgdlab.SGD configurations")
    configs = list(configs)
    if not configs:
        raise InputError("points must hold at least one sgdlab.SGD")
    for k, c in enumerate(configs):
        if not isinstance(c, SGD):
            raise InputError(f"points[{k}] must be an sgdlab.SGD, got {type(c).__name__}")
    return [Point(k, (k,), c) for k, c in enumerate(configs)]
