"""Start-up of sgdlab in new processes (issue 17, "Fast from the first call").

Every figure is a fresh ``python`` process started by ``subprocess``, repeated; it prints the
minimum and the median wall time and the child's CPU time (user + sys: steadier than wall time on
a loaded machine), each against the issue's target and as a ratio to two references measured in
the same run: ``python -c pass`` and ``python -c "import numpy"``.  Another line shows the floor
that numba alone sets: importing it and calling one trivial cached kernel.

    python benchmarks/bench_startup.py                       # this checkout (src/ on PYTHONPATH)
    python benchmarks/bench_startup.py --compare /tmp/base   # and an older checkout, in the same run

The cold prediction gets a new, empty ``NUMBA_CACHE_DIR`` per repeat (every kernel it uses is
compiled); the warm one shares a cache filled beforehand.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the console script's own code (``sgdlab`` = ``from sgdlab.__main__ import run; run()``)
SGDLAB = ["-c", "import sys; sys.argv[0] = 'sgdlab'; from sgdlab.__main__ import run; run()"]
PREDICT = ["predict", "--dim", "200", "--steps", "1000"]
NUMBA_KERNEL = '''import numba
@numba.njit(cache=True)
def total(x):
    s = 0.0
    for v in x:
        s += v
    return s
'''


def timed(args: list[str], env: dict, repeat: int, fresh_cache: bool = False) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``repeat`` new processes ``python ARGS`` (output discarded)."""
    walls, cpus = [], []
    for _ in range(repeat):
        run_env = dict(env)
        tmp = tempfile.TemporaryDirectory(prefix="sgdlab-cold-") if fresh_cache else None
        if tmp is not None:
            run_env["NUMBA_CACHE_DIR"] = tmp.name
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        tic = time.perf_counter()
        done = subprocess.run([sys.executable, *args], env=run_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - tic)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if tmp is not None:
            tmp.cleanup()
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return walls, cpus


def line(label: str, walls: list[float], cpus: list[float], refs: dict, target: float | None = None) -> str:
    wmin, wmed, cmin = min(walls), statistics.median(walls), min(cpus)
    text = f"{label:<40} wall {wmin:7.3f} / {wmed:7.3f} s   cpu {cmin:7.3f} s"
    if refs:
        text += "   = " + ", ".join(f"{wmin / w:5.1f}x {name}" for name, w in refs.items())
    if target is not None:
        text += f"   target < {target:g} s: {'met' if wmin < target else 'NOT met'} (wall min)"
    return text


def measure(root: Path, repeat: int, cold_repeat: int, refs: dict, env0: dict, kernel_dir: str) -> None:
    env = {**env0, "PYTHONPATH": str(root / "src")}
    cache = tempfile.mkdtemp(prefix="sgdlab-warm-")
    env["NUMBA_CACHE_DIR"] = cache
    print(f"-- {root}")
    timed([*SGDLAB, "predict", "--help"], env, 1)                         # write the .pyc files
    print(line("sgdlab --help", *timed([*SGDLAB, "--help"], env, repeat), refs, 0.3))
    print(line("sgdlab predict --help", *timed([*SGDLAB, "predict", "--help"], env, repeat), refs))
    print(line('python -c "import sgdlab"', *timed(["-c", "import sgdlab"], env, repeat), refs, 0.25))
    print(line("sgdlab predict --dim 200 (cold cache)", *timed([*SGDLAB, *PREDICT], env, cold_repeat, True), refs))
    timed([*SGDLAB, *PREDICT], env, 1)                                    # fill the warm cache
    print(line("sgdlab predict --dim 200 (warm cache)", *timed([*SGDLAB, *PREDICT], env, repeat), refs, 1.0))
    kenv = {**env0, "PYTHONPATH": kernel_dir, "NUMBA_CACHE_DIR": cache}
    code = ["-c", "import numpy as np, bench_kernel; bench_kernel.total(np.ones(3))"]
    timed(code, kenv, 1)
    print(line("floor: import numba + 1 cached kernel", *timed(code, kenv, repeat), refs))
    shutil.rmtree(cache, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="processes per figure")
    ap.add_argument("--cold-repeat", type=int, default=2, help="processes for the cold-cache prediction")
    ap.add_argument("--compare", type=Path, action="append", default=[], help="another checkout to measure")
    args = ap.parse_args()
    # bytecode as a normal install has it (pip writes .pyc files at install, an editable one on first import):
    # with PYTHONDONTWRITEBYTECODE set, every start compiled sgdlab's modules from source (70 ms of 330 for --help)
    env0 = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR", "PYTHONDONTWRITEBYTECODE")}
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f} "
          "(wall: min / median; cpu: user+sys of the child, min); .pyc files written and read"
          + (" (PYTHONDONTWRITEBYTECODE was set here and is dropped for the children)"
             if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""))
    refs = {}
    for name, code in (("python -c pass", "pass"), ("import numpy", "import numpy")):
        walls, cpus = timed(["-c", code], env0, args.repeat)
        print(line(f"reference: {name}", walls, cpus, {}))
        refs[name] = min(walls)
    with tempfile.TemporaryDirectory(prefix="sgdlab-kernel-") as kernel_dir:
        Path(kernel_dir, "bench_kernel.py").write_text(NUMBA_KERNEL)
        for root in [ROOT, *args.compare]:
            measure(root.resolve(), args.repeat, args.cold_repeat, refs, env0, kernel_dir)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
