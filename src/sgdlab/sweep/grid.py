"""A grid of SGD hyperparameters: the Cartesian product of value lists, one point per combination.

The grid is a mapping ``name -> values`` over the fields of :class:`sgdlab.SGD` (``lr``, ``momentum``,
``batch``, ``sampling``) and two more axes; fields not in the grid take the value of the base
configuration.  Points are numbered in C order (the last name varies fastest), and each point carries
its coordinates, the tuple of indices into the value lists, from which its tasks derive their random seeds.

* ``schedule``: lr schedules.  A name of :data:`sgdlab.schedules.NAMES` (``"cosine"``), or
  ``{"name": ..., warmup, final, decay_steps, factor, power}``, is a *shape* whose peak is the point's lr
  (:func:`sgdlab.schedules.from_name` over the sweep's horizon); a JSON dict of
  :meth:`sgdlab.schedules.Schedule.to_dict` (``{"schedule": "cosine", "peak": 0.5, "total": 1000}``) is a
  whole lr schedule, and then the grid has no ``lr``.
* ``noise``: the theory's noise model: ``"gaussian"``, ``"se"``, ``"homogenised"``, ``{"model": "se", "tau": 1}``,
  ``{"coupling": c_c, "self_noise": c_d}`` or a noise-model object (:mod:`sgdlab.noise`).  Real SGD
  does not depend on it: points that differ only in their noise model share one simulation (the same
  seeds), so the table sets each model against the same runs.

A list of mappings instead of a mapping is a list of points (no product): point k has coordinates (k,).
"""

from __future__ import annotations

import itertools
import numbers
from dataclasses import dataclass

from .._validate import InputError
from ..hyper import SAMPLING_MODES, SGD

__all__ = ["GRID_FIELDS", "Point", "check_grid", "grid_points", "list_points", "noise_model", "lr_schedule"]

#: the SGD fields a grid may vary, and the lr schedule and the theory's noise model
GRID_FIELDS = ("lr", "momentum", "batch", "sampling", "schedule", "noise")
SCHEDULE_PARAMS = ("warmup", "final", "decay_steps", "factor", "power")


@dataclass(frozen=True)
class Point:
    """One grid point: its number, its coordinates (indices into the value lists) and its SGD.

    ``schedule`` (the lr schedule's description) and ``noise`` (the theory's noise model and its label)
    are None when the grid has no such axis; ``twin`` is the point whose simulation this one shares
    (itself unless the points differ in their noise model only) and ``sim_coords`` its seeds' coordinates.
    """

    index: int
    coords: tuple[int, ...]
    sgd: SGD
    schedule: str | None = None
    noise: object = None
    noise_label: str | None = None
    twin: int = -1
    sim_coords: tuple[int, ...] = ()


def check_grid(grid) -> dict[str, tuple] | list[dict]:
    """The grid as ``name -> tuple of values``, each list non-empty and each value legal for its field.

    Args:
        grid: a mapping from grid field names to sequences of values, or a list of such mappings with one
            value each (a list of points).

    Returns:
        A new dict with tuples of Python scalars (floats for lr and momentum, ints for batch; schedule specs
        as dicts, noise models as given), or for a list of points a list of dicts.

    Raises:
        InputError: not a mapping, an unknown name, an empty list or a bad value (named ``grid.<name>``).

    Example:
        >>> check_grid({"lr": [0.1, 0.2], "batch": [4]})
        {'lr': (0.1, 0.2), 'batch': (4,)}
        >>> check_grid({"lr": [0.5], "schedule": ["constant", {"name": "warmup-cosine", "warmup": 10}]})["schedule"]
        ({'name': 'constant'}, {'name': 'warmup-cosine', 'warmup': 10})
    """
    if isinstance(grid, (list, tuple)) and grid and all(hasattr(g, "items") for g in grid):
        return [{name: vals[0] for name, vals in check_grid({k: [v] for k, v in g.items()}).items()} for g in grid]
    if not hasattr(grid, "items") or not grid:
        raise InputError("grid must be a non-empty mapping like {'lr': [...], 'momentum': [...]}")
    out = {}
    for name, values in grid.items():
        if name not in GRID_FIELDS:
            raise InputError(f"grid.{name} is not a grid field: use {', '.join(GRID_FIELDS)}")
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            values = [values]
        values = tuple(_value(name, v) for v in values)
        if not values:
            raise InputError(f"grid.{name} must hold at least one value")
        if len({repr(v) for v in values}) != len(values):
            raise InputError(f"grid.{name} holds a value twice: {list(values)}")
        out[name] = values
    if "lr" in out and any("schedule" in spec for spec in out.get("schedule", ())):
        raise InputError("grid.schedule holds a whole lr schedule ({'schedule': ...}), which fixes the lr itself: "
                         "leave lr out of the grid, or give the schedule by name ({'name': 'cosine'})")
    return out


def _value(name: str, v):
    where = f"grid.{name}"
    if name == "schedule":
        return _schedule_spec(v, where)
    if name == "noise":
        return _noise_spec(v, where)
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


def _schedule_spec(v, where: str) -> dict:
    from ..schedules import NAMES, from_dict
    if isinstance(v, str):
        v = {"name": v}
    if not isinstance(v, dict):
        raise InputError(f"{where} entries must be schedule names ({', '.join(NAMES)}), "
                         f"{{'name': ..., 'warmup': ...}} or schedule JSON dicts, got {v!r}")
    if "schedule" in v:
        from_dict(v)                                     # raises one line naming a bad family or parameter
        return dict(v)
    if v.get("name") not in NAMES:
        raise InputError(f"{where} entries need a name in {', '.join(NAMES)}, got {v.get('name')!r}")
    bad = [k for k in v if k not in ("name",) + SCHEDULE_PARAMS]
    if bad:
        raise InputError(f"{where} entry {v!r}: unknown parameter {bad[0]} (allowed: {', '.join(SCHEDULE_PARAMS)})")
    return dict(v)


def _noise_spec(v, where: str):
    from ..linear.noise import SHORTHANDS
    if isinstance(v, str):
        if v.lower() not in SHORTHANDS:
            raise InputError(f"{where} entries must be one of {', '.join(SHORTHANDS)}, a dict or a noise model, "
                             f"got {v!r}")
        return v.lower()
    if isinstance(v, dict):
        keys = set(v)
        if not (keys <= {"model", "tau", "fourth_moment"} and "model" in keys) and keys != {"coupling", "self_noise"}:
            raise InputError(f"{where} entries as dicts are {{'model': 'se', 'tau': 1.0}} or "
                             f"{{'coupling': c_c, 'self_noise': c_d}}, got {v!r}")
        noise_model(v, where)
        return dict(v)
    if not callable(getattr(v, "coefficients", None)):
        raise InputError(f"{where} entries must be noise-model names, dicts or objects with coefficients(), got {v!r}")
    return v


def noise_model(spec, where: str = "grid.noise"):
    """The noise-model object of a grid's ``noise`` entry (a name, a dict or an object), and its label.

    Example:
        >>> noise_model({"model": "se", "tau": 1.0})
        (SE(tau=1.0), 'se(tau=1)')
    """
    from ..linear.noise import NoiseModel, as_noise
    if isinstance(spec, dict) and "coupling" in spec:
        nm = NoiseModel(float(spec["coupling"]), float(spec["self_noise"]))
        return nm, f"noise(c_c={nm.coupling:g}, c_d={nm.self_noise:g})"
    if isinstance(spec, dict):
        name = str(spec["model"]).lower()
        if name == "se":
            nm = as_noise("se", tau=spec.get("tau", "fit"))
        elif name in ("homogenised", "homogenized"):
            from ..linear.noise import Homogenised
            nm = Homogenised(bool(spec.get("fourth_moment", False)))
        else:
            nm = as_noise(name)
        extra = ", ".join(f"{k}={_short(spec[k])}" for k in ("tau", "fourth_moment") if k in spec)
        return nm, f"{name}({extra})" if extra else name
    if isinstance(spec, str):
        return as_noise(spec), spec
    return spec, repr(spec)


def _short(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def lr_schedule(spec: dict, lr: float, steps: int):
    """The lr schedule of a grid's ``schedule`` entry at the point's lr (the peak) over ``steps``."""
    from ..schedules import from_dict, from_name
    if "schedule" in spec:
        return from_dict(spec)
    return from_name(spec["name"], lr, steps, **{k: v for k, v in spec.items() if k != "name"})


def grid_points(grid, base: SGD, steps: int | None = None) -> list[Point]:
    """Every combination of the grid's values over ``base`` (C order), as :class:`Point` s.

    Args:
        grid: a checked grid (:func:`check_grid`), or a checked list of points.
        base: the SGD whose fields the grid overrides.
        steps: the horizon (needed by a ``schedule`` axis given by name).

    Returns:
        The list of points; point k has coordinates ``numpy.unravel_index(k, shape)`` ((k,) for a list).

    Raises:
        InputError: a combination that :class:`sgdlab.SGD` refuses (named ``grid``).

    Example:
        >>> import sgdlab
        >>> pts = grid_points({"lr": (0.1, 0.2), "momentum": (0.0, 0.5)}, sgdlab.SGD(lr=1.0))
        >>> [(p.coords, p.sgd.lr, p.sgd.momentum) for p in pts][:2]
        [((0, 0), 0.1, 0.0), ((0, 1), 0.1, 0.5)]
    """
    if isinstance(grid, list):
        combos = [((k,), dict(g)) for k, g in enumerate(grid)]
        noise_axis = None
    else:
        names = list(grid)
        combos = [(tuple(c), {n: grid[n][i] for n, i in zip(names, c)})
                  for c in itertools.product(*(range(len(grid[n])) for n in names))]
        noise_axis = names.index("noise") if "noise" in names else None
    points, twins = [], {}
    for k, (coords, values) in enumerate(combos):
        sched, noise = values.pop("schedule", None), values.pop("noise", None)
        try:
            sgd = base.replace(**values)
            label = None
            if sched is not None:
                lr = lr_schedule(sched, float(sgd.lr), check_steps(steps))
                sgd = sgd.replace(lr=lr)
                label = lr.describe()
        except InputError as exc:
            shown = {**values, **({} if sched is None else {"schedule": sched})}
            raise InputError(f"grid point {shown}: {exc}") from None
        nm, nlabel = noise_model(noise) if noise is not None else (None, None)
        sim = coords if noise_axis is None else coords[:noise_axis] + coords[noise_axis + 1:]
        points.append(Point(k, tuple(coords), sgd, label, nm, nlabel, twins.setdefault(sim, k), tuple(sim)))
    return points


def check_steps(steps) -> int:
    """The horizon a named schedule needs (one line when it is missing)."""
    if steps is None:
        raise InputError("a schedule axis given by name needs the horizon: grid_points(grid, base, steps)")
    return int(steps)


def list_points(configs) -> list[dict]:
    """Explicit configurations as a list of points (no product): point k at coordinates (k,).

    Each :class:`sgdlab.SGD` becomes the mapping of its fields; an lr schedule becomes a whole
    ``schedule`` entry (:meth:`sgdlab.schedules.Schedule.to_dict`), so its row reports the peak as ``lr``.

    Args:
        configs: a non-empty sequence of :class:`sgdlab.SGD` (lr schedules allowed, momentum a number).

    Returns:
        The list of mappings, in the order given (pass it to :func:`check_grid`).

    Raises:
        InputError: empty, or an entry that is not an SGD or has a momentum schedule (named ``points[k]``).

    Example:
        >>> import sgdlab
        >>> list_points([sgdlab.SGD(lr=0.1, momentum=0.5), sgdlab.SGD(lr=0.3, batch=4)])[1]["batch"]
        4
    """
    if isinstance(configs, (SGD, dict, str)) or not hasattr(configs, "__iter__"):
        raise InputError("points must be a list of sgdlab.SGD configurations")
    configs = list(configs)
    if not configs:
        raise InputError("points must hold at least one sgdlab.SGD")
    out = []
    for k, c in enumerate(configs):
        if not isinstance(c, SGD):
            raise InputError(f"points[{k}] must be an sgdlab.SGD, got {type(c).__name__}")
        if not isinstance(c.momentum, (int, float)):
            raise InputError(f"points[{k}]: a momentum schedule cannot be swept; give a number")
        entry = {"momentum": c.momentum, "batch": c.batch, "sampling": c.sampling}
        entry.update({"lr": c.lr} if isinstance(c.lr, (int, float)) else {"schedule": c.lr.to_dict()})
        out.append(entry)
    return out
