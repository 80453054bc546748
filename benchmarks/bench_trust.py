"""Benchmark the trusted build path (prints numbers as ratios, asserts nothing).

    python benchmarks/bench_trust.py [--numpy]

(a) per-recipe fixed cost: iniconfig built, tested in wasm and published into a channel that
    already holds the platform (python, pyodide-abi), 3 times with warm download caches;
    where the time goes (render, pypa build's isolated env, the wheel, rattler-build's
    packaging, the wasm test env + run, planning + publishing), each part printed, against
    a bare `pip wheel --no-deps` of the same sdist from the same wheel set in the same run;
(b) with --numpy: cold `forge build numpy` (empty state, cache and channel) wall time against
    the sum of its recipes' build times: what fetching, asking backends and set-up cost.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from forge import api  # noqa: E402
from forge.planner import prepare_job  # noqa: E402
from forge.workspace import Workspace  # noqa: E402
from tests.support.testlib import forge_repo_config, timed_rebuilds  # noqa: E402

PHASE = re.compile(r"^== phase (\S+) ([0-9.]+)$")


def phases(log: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        m = PHASE.match(line.strip())
        if m:
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))
    return out


def bench_fixed_cost(tmp: Path) -> None:
    base = tmp / "base"
    assert api.build(["python"], forge_repo_config(base, tmp / "state"), jobs=2, view=False).ok
    job = prepare_job(Workspace(forge_repo_config(base, tmp / "state")), "iniconfig")  # warms sources + wheel set
    runs = timed_rebuilds("iniconfig", base, tmp, tmp / "state")
    walls = [s for s, _ in runs]
    parts = [phases(Path(rep.results["iniconfig"].log)) for _, rep in runs]
    bare = []
    for i in range(3):
        out = tmp / f"bare-{i}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=job.wheelhouse or "")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), job.sources[0]],
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bare.append(time.perf_counter() - t)
    wall, b = statistics.median(walls), statistics.median(bare)
    print(f"(a) iniconfig built + tested in wasm + published: median {wall:.2f}s "
          f"[{', '.join(f'{x:.2f}' for x in walls)}]; bare `pip wheel --no-deps`: median {b:.2f}s; "
          f"ratio {wall / b:.2f}x")
    keys = ["render", "isolated-env", "wheel", "build", "wasm-tests"]
    med = {k: statistics.median(p.get(k, 0.0) for p in parts) for k in keys}
    packaging = med["build"] - med["isolated-env"] - med["wheel"]
    rest = wall - med["render"] - med["build"] - med["wasm-tests"]
    print(f"    render {med['render']:.2f}s | pypa build isolated env {med['isolated-env']:.2f}s | wheel "
          f"{med['wheel']:.2f}s | rattler-build env + packaging {packaging:.2f}s | wasm test env + run "
          f"{med['wasm-tests']:.2f}s | plan + pool + publish {rest:.2f}s")


def bench_cold_numpy(tmp: Path) -> None:
    os.environ["FORGE_CACHE"] = str(tmp / "numpy-cache")
    t = time.perf_counter()
    rep = api.build(["numpy"], forge_repo_config(tmp / "numpy-channel", tmp / "numpy-state"), jobs=2)
    wall = time.perf_counter() - t
    assert rep.ok, {n: r.error for n, r in rep.results.items() if r.status != "built"}
    total = sum(r.seconds for r in rep.results.values())
    print(f"(b) cold `forge build numpy` ({len(rep.results)} recipes): wall {wall:.1f}s; sum of build times "
          f"{total:.1f}s; wall / sum {wall / total:.2f} (fetching, asking backends, planning, view; 2 jobs)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-trust-") as d:
        tmp = Path(d)
        os.environ["FORGE_CACHE"] = str(tmp / "cache")
        bench_fixed_cost(tmp)
        if "--numpy" in sys.argv:
            bench_cold_numpy(tmp)


if __name__ == "__main__":
    main()
