"""Where numba keeps sgdlab's compiled kernels: one folder per user, which works for a read-only install.

The kernels are compiled with ``numba.njit(cache=True)``: the first call in a new process loads
the machine code from an on-disk cache instead of compiling (seconds).  Left to itself numba
writes that cache next to the source (``__pycache__``) when the package folder is writable, else
into ``~/.cache/numba``, and refuses to define the kernel (``RuntimeError: cannot cache function``,
at import) when neither is writable.  So sgdlab names the folder itself, before numba is first
imported (:mod:`sgdlab` runs :func:`set_default_cache_dir` on import), unless the user has:

1. ``$NUMBA_CACHE_DIR``, numba's own setting, when set (sgdlab then changes nothing);
2. else ``$XDG_CACHE_HOME/sgdlab/numba`` (``~/.cache/sgdlab/numba`` without ``XDG_CACHE_HOME``),
   when it exists or can be created there;
3. else ``<tmp>/sgdlab-<uid>/numba`` (a home folder that is missing or read-only).

The choice is made by setting ``NUMBA_CACHE_DIR`` in ``os.environ``, so it also holds for
subprocesses and for other numba code in the same process (numba caches every ``cache=True``
function below that folder, in a subfolder per source folder).  Set ``NUMBA_CACHE_DIR`` yourself
to move the cache; delete the folder to empty it (the next first calls compile again).
"""

from __future__ import annotations

import os
import sys

__all__ = ["ENV", "default_cache_dir", "set_default_cache_dir"]

#: numba's environment variable for its cache folder
ENV = "NUMBA_CACHE_DIR"


def _creatable(folder: str) -> bool:
    """``folder`` is a writable folder or could be made one (its nearest existing ancestor is writable)."""
    probe = folder
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return False
        probe = parent
    return os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK)


def default_cache_dir(environ=None) -> str:
    """The folder sgdlab proposes for numba's cache (rules 2 and 3 of the module docstring); not created.

    Args:
        environ: the environment to read (default ``os.environ``).

    Returns:
        ``$XDG_CACHE_HOME/sgdlab/numba`` or ``~/.cache/sgdlab/numba`` when creatable, else
        ``<tmp>/sgdlab-<uid>/numba``.

    Example:
        >>> default_cache_dir({"XDG_CACHE_HOME": "/tmp"})
        '/tmp/sgdlab/numba'
    """
    environ = os.environ if environ is None else environ
    xdg = environ.get("XDG_CACHE_HOME", "")
    home = environ.get("HOME") or os.path.expanduser("~")
    base = xdg if os.path.isabs(xdg) else (os.path.join(home, ".cache") if os.path.isabs(home) else None)
    if base is not None and _creatable(os.path.join(base, "sgdlab", "numba")):
        return os.path.join(base, "sgdlab", "numba")
    import tempfile
    user = os.getuid() if hasattr(os, "getuid") else environ.get("USERNAME", "user")
    return os.path.join(tempfile.gettempdir(), f"sgdlab-{user}", "numba")


def set_default_cache_dir(environ=None) -> str:
    """Point numba's cache at :func:`default_cache_dir` unless ``NUMBA_CACHE_DIR`` is already set.

    Called by ``import sgdlab`` (cheap: no file is written).  When numba was imported before sgdlab,
    its configuration is re-read so that the kernels sgdlab defines afterwards use the folder too.

    Args:
        environ: the environment to read and set (default ``os.environ``).

    Returns:
        The folder numba caches in from now on (the user's ``NUMBA_CACHE_DIR`` when set).

    Example:
        >>> env = {"NUMBA_CACHE_DIR": "/data/numba"}
        >>> set_default_cache_dir(env), env
        ('/data/numba', {'NUMBA_CACHE_DIR': '/data/numba'})
        >>> env = {"XDG_CACHE_HOME": "/tmp"}
        >>> set_default_cache_dir(env), env["NUMBA_CACHE_DIR"]
        ('/tmp/sgdlab/numba', '/tmp/sgdlab/numba')
    """
    environ = os.environ if environ is None else environ
    if environ.get(ENV):
        return environ[ENV]
    folder = default_cache_dir(environ)
    environ[ENV] = folder
    if environ is os.environ and "numba" in sys.modules:     # numba read its settings at import
        from numba.core import config
        config.reload_config()
    return folder
