"""A benchmark script of this tree against the same script at an earlier commit, in alternating rounds.

    python benchmarks/bench_against.py c0dd27d                     # bench_engine.py, 3 rounds
    python benchmarks/bench_against.py c0dd27d --rounds 5 --script benchmarks/bench_engine.py
    python benchmarks/bench_against.py c0dd27d --script /tmp/my_timing.py      # one script, both codes

"Nothing got slower" is a claim about two codes on one machine at one time.  Figures taken hours apart,
or on another machine, differ by more than the changes measured (a shared 2-core machine varies 2x
between runs of the same code), so this script checks the reference commit out into a temporary git
worktree and runs both scripts, each in a new process, one after the other, ``--rounds`` times.  Every
time printed (``12.3 s``, ``4.5 ms``) is a figure, matched between the two codes by its label (the line's
text before its first colon and the words before the time); the table shows the minimum over the rounds
for both codes and their ratio (this tree / reference: below 1 is faster).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s)\b")


def figures(text: str) -> dict[str, float]:
    """{label: seconds} from a benchmark's output: every time (``12.3 s``, ``4.5 ms``) after a line's first colon,
    labelled by the text before that colon and the words before the time in its ``;``/``,`` clause."""
    out = {}
    for line in text.splitlines():
        label, sep, rest = line.partition(":")
        if not sep:
            continue
        for clause in re.split(r"[;,]", rest):
            m = _FIGURE.search(clause)
            if m:
                what = clause[:m.start()].strip(" ~(") or "time"
                out[f"{label.strip()} | {what}"] = float(m.group(1)) * (1e-3 if m.group(2) == "ms" else 1.0)
    return out


def run(tree: Path, script: str, cache: Path) -> dict[str, float]:
    """One run of ``script`` on ``tree``'s package: the tree's copy of the script, or one script for both codes
    when its path is absolute."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"), NUMBA_CACHE_DIR=str(cache))
    path = Path(script) if Path(script).is_absolute() else tree / script
    proc = subprocess.run([sys.executable, str(path)], cwd=tree, env=env, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{path} failed:\n{proc.stderr[-2000:]}")
    return figures(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", help="the commit to compare against (any git revision)")
    ap.add_argument("--script", default="benchmarks/bench_engine.py",
                    help="benchmark script: relative to the root (each tree's own copy) or absolute (one for both)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (minimum taken per figure)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sgdlab-against-") as tmp:
        ref_tree = Path(tmp) / "reference"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(ref_tree), args.reference],
                       check=True)
        try:
            best: dict[str, dict[str, float]] = {"reference": {}, "this tree": {}}
            for r in range(args.rounds):
                for name, tree in (("reference", ref_tree), ("this tree", ROOT)):
                    for label, t in run(tree, args.script, Path(tmp) / f"cache-{name[:4]}").items():
                        best[name][label] = min(t, best[name].get(label, float("inf")))
                print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(ref_tree)], check=False)
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
    print(f"{args.script}: reference {args.reference} against this tree (HEAD {rev.strip()}, with its changes), "
          f"min of {args.rounds} alternating rounds")
    print(f"{'figure':80s} {'reference':>10s} {'this tree':>10s} {'ratio':>6s}")
    for label, t_new in best["this tree"].items():
        t_ref = best["reference"].get(label)
        ref_s = f"{t_ref:10.4f}" if t_ref is not None else f"{'-':>10s}"
        ratio = f"{t_new / t_ref:6.2f}" if t_ref else f"{'-':>6s}"
        print(f"{label[:80]:80s} {ref_s} {t_new:10.4f} {ratio}")


if __name__ == "__main__":
    main()
