"""Benchmarks of the library-author commands (printed):

1. start-up to `import pytest` done: a `forge venv`'s python (CPython in wasm, node 24, memory
   snapshot warm) vs the machine's native CPython doing the same (median of N runs, ratio);
2. `forge ci` on the C-extension sample (numpy's C API): wall time split into build, venv,
   install (pip in wasm) and tests (pytest in wasm).

3. `forge ci .` as an author runs it (the project as the working directory, no channel, no
   set-up) on the pure and the Cython sample, first from a fresh user folder ($FORGE_HOME: the
   platform's python is built on first use) and then again: wall time and each phase's share
   (bootstrap, wheel, venv, install, tests). The build root and node 24 are the machine's.

    python benchmarks/bench_authors.py [--channel DIR] [--runs N] [--skip-ci] [--authors-only]

The channel (parts 1-2) must hold python, pytest and numpy (`forge build python pytest numpy`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from forge.authors.ci import run_ci  # noqa: E402
from forge.authors.venv import create_venv  # noqa: E402
from forge.config import ForgeConfig  # noqa: E402
from forge.authors.node import node_dir  # noqa: E402
from forge.locations import buildroot_dir  # noqa: E402
from tests.support.samples import cython_project, numpy_c_project, pure_project  # noqa: E402


def timed(cmd: list[str], cwd: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
        out.append(time.monotonic() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd} failed: {proc.stderr[-500:]}")
    return out


PHASES = ("bootstrap", "build", "venv", "install", "tests")


def author_run(project: Path, home: Path) -> tuple[float, dict[str, float]]:
    """`forge ci .` in PROJECT with HOME as the user folder: (wall seconds, seconds per phase)."""
    import re  # noqa: PLC0415

    env = {k: v for k, v in os.environ.items() if not k.startswith("FORGE_")}
    env.update(FORGE_HOME=str(home), FORGE_BUILDROOT=str(buildroot_dir()), FORGE_NODE_DIR=str(node_dir()), COLUMNS="1000")
    summary = home.parent / f"summary-{project.name}.md"
    summary.unlink(missing_ok=True)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "forge", "ci", ".", "--summary", str(summary)], cwd=project, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"forge ci failed in {project}: {proc.stdout[-1500:]} {proc.stderr[-1500:]}")
    phases = {m[0]: float(m[1]) for m in re.findall(r"^\| (build|venv|install|tests) \| .* \| ([\d.]+) \|$",
                                                     summary.read_text(), re.M)}
    boot = re.search(r"built python into .* in (\d+)s", proc.stderr)
    phases["bootstrap"] = float(boot[1]) if boot else 0.0
    return wall, phases


def authors_first_and_repeat(tmpd: Path) -> None:
    print(f"\n`forge ci .` in an author's project, fresh user folder then again (load {os.getloadavg()[0]:.1f}):")
    print("| project | run | wall s | " + " | ".join(f"{p} s (share)" for p in PHASES) + " |")
    print("| --- | --- | ---: | " + " | ".join("---:" for _ in PHASES) + " |")
    for make, name in ((pure_project, "purepkg"), (cython_project, "cyfib")):
        project = make(tmpd / f"project-{name}", name=name)
        home = tmpd / f"forge-home-{name}"  # fresh for each project: its first run builds the platform's python
        for run in ("first", "repeat"):
            wall, phases = author_run(project, home)
            cells = " | ".join(f"{phases.get(p, 0):.1f} ({phases.get(p, 0) / wall:.0%})" for p in PHASES)
            print(f"| {name} | {run} | {wall:.1f} | {cells} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channel", default=os.environ.get("FORGE_CHANNEL", str(REPO / "channel")))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--skip-ci", action="store_true")
    ap.add_argument("--authors-only", action="store_true", help="only part 3 (needs no channel)")
    ns = ap.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-authors-") as tmp:
        tmpd = Path(tmp)
        authors_first_and_repeat(tmpd)
        if ns.authors_only:
            return
        t0 = time.monotonic()
        venv = create_venv(tmpd / "venv", [ns.channel], ["pytest"])
        print(f"forge venv (node 24 present, python + pytest from the channel, pip): {time.monotonic() - t0:.1f}s")
        wasm = timed([str(venv.python), "-c", "import pytest"], tmpd, ns.runs + 1)[1:]  # the first warms caches
        native = timed([sys.executable, "-c", "import pytest"], tmpd, ns.runs)
        bare = timed([str(venv.python), "-c", "pass"], tmpd, ns.runs)
        mw, mn = statistics.median(wasm), statistics.median(native)
        print(f"\nstart-up to `import pytest` done, median of {ns.runs} (load {load:.1f}):")
        print("| interpreter | median s | range s |\n| --- | ---: | --- |")
        print(f"| forge venv python (wasm, node 24) | {mw:.2f} | {min(wasm):.2f}-{max(wasm):.2f} |")
        print(f"| same, `-c pass` | {statistics.median(bare):.2f} | {min(bare):.2f}-{max(bare):.2f} |")
        print(f"| native CPython {sys.version.split()[0]} | {mn:.3f} | {min(native):.3f}-{max(native):.3f} |")
        print(f"ratio wasm/native: {mw / mn:.1f}x")
        if ns.skip_ci:
            return
        proj = numpy_c_project(tmpd / "cnumsum")
        cfg = ForgeConfig.load(channel_dir=Path(ns.channel), state_dir=tmpd / "state")
        t0 = time.monotonic()
        report = run_ci(proj, [ns.channel], cfg, pytest_args=["tests"])
        total = time.monotonic() - t0
        if report.exit_code != 0:
            raise SystemExit(report.markdown())
        print(f"\n`forge ci` on the numpy C-extension sample ({report.wheel.name}), load {os.getloadavg()[0]:.1f}:")
        print("| phase | s |\n| --- | ---: |")
        for phase in ("build", "venv", "install", "tests"):
            print(f"| {phase} | {report.phases[phase]:.1f} |")
        print(f"| total | {total:.1f} |")


if __name__ == "__main__":
    main()
