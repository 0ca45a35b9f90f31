"""Fast from the first call (issue 17): what start-up loads, and where compiled kernels are cached.

Timings live in benchmarks/bench_startup.py; these tests check the properties behind them, so that
they cannot regress silently: ``--help`` imports none of the heavy libraries, and numba's cache
goes to one folder per user, which works when the package itself is read-only.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import sgdlab
from sgdlab import _numba_cache

SRC = Path(sgdlab.__file__).resolve().parent
HEAVY = ("numpy", "scipy", "numba", "matplotlib", "rich", "sgdlab.linear", "sgdlab.report")

#: every ``sgdlab [CMD] --help`` in one fresh process, then the heavy modules it loaded
HELP_PROBE = """
import json, sys
import typer
from sgdlab.cli import app, main
names = [[]] + [[name] for name in typer.main.get_command(app).commands]
codes = []
for args in names:
    sys.argv = ["sgdlab", *args, "--help"]
    try:
        main()
    except SystemExit as exc:
        codes.append(exc.code)
heavy = sorted({m.split(".")[0] if not m.startswith("sgdlab") else m for m in sys.modules
                if m.split(".")[0] in HEAVY or m in HEAVY})
print(json.dumps({"commands": len(names) - 1, "codes": codes, "heavy": heavy}), file=sys.stderr)
"""


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    return {**env, **extra}


def test_every_help_page_imports_none_of_numpy_scipy_numba_matplotlib_or_rich():
    code = f"HEAVY = {HEAVY!r}\n{HELP_PROBE}"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env=_env(PYTHONPATH=str(SRC.parent)))
    probe = json.loads(r.stderr.strip().splitlines()[-1])
    assert probe["commands"] >= 12 and probe["codes"] == [0] * (probe["commands"] + 1), (probe, r.stderr[-2000:])
    assert probe["heavy"] == [], probe["heavy"]
    assert "Usage: sgdlab [OPTIONS] COMMAND" in r.stdout and "predict" in r.stdout


def test_the_users_numba_cache_dir_is_kept_and_otherwise_one_under_the_users_cache_folder(tmp_path):
    mine = {"NUMBA_CACHE_DIR": str(tmp_path / "mine"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert _numba_cache.set_default_cache_dir(mine) == str(tmp_path / "mine")
    assert mine["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")
    xdg = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert _numba_cache.set_default_cache_dir(xdg) == str(tmp_path / "xdg" / "sgdlab" / "numba")
    assert xdg["NUMBA_CACHE_DIR"] == str(tmp_path / "xdg" / "sgdlab" / "numba")
    home = {"HOME": str(tmp_path / "home")}
    assert _numba_cache.default_cache_dir(home) == str(tmp_path / "home" / ".cache" / "sgdlab" / "numba")


def test_a_cache_folder_that_cannot_be_created_falls_back_to_the_temporary_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")         # nothing can be created below a file, not even by root
    chosen = _numba_cache.default_cache_dir({"XDG_CACHE_HOME": str(blocker)})
    assert not chosen.startswith(str(blocker)) and chosen.endswith(os.path.join("numba"))
    assert "sgdlab-" in chosen


def _read_only_copy(dest: Path) -> Path:
    shutil.copytree(SRC, dest / "sgdlab", ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    for root, dirs, files in os.walk(dest):
        for f in files:
            os.chmod(os.path.join(root, f), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(root, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return dest


def test_a_read_only_install_predicts_and_caches_its_kernels_under_the_users_home(tmp_path):
    """A read-only copy of the package (as root the mode bits do not stop writes, but the cache still
    has to land in the home folder, not in the package)."""
    site = _read_only_copy(tmp_path / "site")
    home = tmp_path / "home"
    home.mkdir()
    code = ("import sgdlab; c = sgdlab.predict(sgdlab.Problem.power_law(dim=20), sgdlab.SGD(lr=0.3), 50); "
            "print(c.status, sgdlab.__file__)")
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                           env=_env(PYTHONPATH=str(site), HOME=str(home)), cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-3000:]
        status, where = r.stdout.split()
        assert status == "converges" and Path(where).is_relative_to(site)
        cached = list((home / ".cache" / "sgdlab" / "numba").rglob("*.nbi"))
        assert cached, "no numba index file under ~/.cache/sgdlab/numba"
        assert not list(site.rglob("*.nbi")) and not list(site.rglob("*.nbc"))
    finally:
        for root, dirs, files in os.walk(site):
            os.chmod(root, stat.S_IRWXU)


def test_a_prediction_imports_neither_scipy_optimize_nor_matplotlib():
    code = ("import sys, sgdlab; c = sgdlab.predict(sgdlab.Problem.power_law(dim=30), sgdlab.SGD(lr=0.3), 40); "
            "print(c.status, sorted(m for m in ('scipy.optimize', 'scipy.sparse', 'matplotlib') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                       env=_env(PYTHONPATH=str(SRC.parent)))
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split(None, 1) == ["converges", "[]\n"], r.stdout


def test_the_critical_lr_is_the_root_of_unit_noise_mass_as_brentq_finds_it():
    """The Newton root find that replaced scipy's brentq (to keep scipy.optimize off the first prediction)
    lands within the tolerance both are asked for: xtol·α_hi + 4ε·α*."""
    import numpy as np
    from scipy import optimize

    from sgdlab.linear.noise import gaussian
    from sgdlab.linear.stability import critical_lr_from_spectrum, noise_mass, upper_lr
    eps = np.finfo(float).eps
    for dim, nu in ((3, 1.0), (200, 1.5), (5000, 2.0)):
        lam = sgdlab.Problem.power_law(dim=dim, nu=nu).eigenvalues
        for beta in (-0.5, 0.0, 0.9, 0.99):
            for batch in (1, 4, 64):
                nm = gaussian(batch)
                hi = upper_lr(float(lam.max()), beta, nm)
                ours = critical_lr_from_spectrum(lam, beta, nm)
                if ours == hi:                                   # U < 1 up to the edge: no root to find
                    assert noise_mass(lam, hi * (1 - 1e-13), beta, nm) < 1
                    continue
                theirs = optimize.brentq(lambda a: noise_mass(lam, a, beta, nm) - 1.0, 0.0, hi * (1 - 1e-13),
                                         xtol=1e-14 * hi, rtol=4 * eps)
                assert abs(ours - theirs) <= 2 * (1e-14 * hi + 4 * eps * theirs), (dim, beta, batch, ours, theirs)


def test_numba_imported_before_sgdlab_still_caches_in_sgdlabs_folder(tmp_path):
    code = ("import numba; from numba.core import config; before = config.CACHE_DIR; import sgdlab; "
            "print(repr(before), config.CACHE_DIR)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env=_env(PYTHONPATH=str(SRC.parent), XDG_CACHE_HOME=str(tmp_path)))
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["''", str(tmp_path / "sgdlab" / "numba")]
