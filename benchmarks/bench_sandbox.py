"""What the sandbox costs (issue 26): entering it from a warm build process, and one small build
sandboxed against the same build with --no-sandbox, as ratios measured in one run.

    python benchmarks/bench_sandbox.py [--runs 20] [--channel DIR --recipe NAME]

1. `forge.sandbox.run_sandboxed` with a function that returns at once (fork, unshare, the read-only
   remounts, the overlays of the build root and the package cache, PID 1 with its own /proc), against
   calling the function in this process; target <= 50 ms a build.
2. With --channel (one holding python) and --recipe (a noarch recipe of this repository): the
   recipe built into fresh copies of the channel, alternately sandboxed and not, best of --builds.
3. With --core: CI's core set (the recipes tagged core and everything under them) built from an
   empty channel and state twice in one run, sandboxed first, then --no-sandbox. Run it after any
   build of those recipes with the same FORGE_CACHE, so that both builds find the sources and
   ccache warm and the ratio is the sandbox's, not the network's or the compiler cache's.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forge.sandbox import Plan, SYSTEM_PATH, rattler_cache_dir, run_sandboxed  # noqa: E402


def enter_cost(runs: int) -> list[float]:
    from forge.locations import buildroot_dir  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        overlays = tuple(p for p in (buildroot_dir(), rattler_cache_dir()) if p.is_dir())
        plan = Plan(work=Path(tmp) / "work", log=Path(tmp) / "log", overlays=overlays, env={"PATH": SYSTEM_PATH})
        out = []
        for _ in range(runs):
            t = time.perf_counter()
            assert run_sandboxed(plan, lambda: b"ok") == b"ok"
            out.append(time.perf_counter() - t)
        return out


def builds(channel: Path, recipe: str, count: int) -> dict[bool, list[float]]:
    import dataclasses  # noqa: PLC0415

    from forge import api  # noqa: PLC0415
    from tests.support.testlib import REPO  # noqa: PLC0415

    from forge.config import ForgeConfig  # noqa: PLC0415

    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            for sandbox in (True, False):
                ch = Path(tmp) / f"ch-{i}-{sandbox}"
                shutil.copytree(channel, ch)
                cfg = dataclasses.replace(ForgeConfig.load(root=REPO, channel_dir=ch, state_dir=Path(tmp) / "state"),
                                          sandbox=sandbox)
                t = time.perf_counter()
                report = api.build([recipe], cfg, jobs=1, force=True, view=False)
                times[sandbox].append(time.perf_counter() - t)
                assert report.ok, report.results
    return times


def core_builds(jobs: int) -> dict[bool, float]:
    """The core set from an empty channel, sandboxed and not; the sources fetched beforehand."""
    import dataclasses  # noqa: PLC0415

    from forge import api  # noqa: PLC0415
    from forge.changes import core  # noqa: PLC0415
    from forge.config import ForgeConfig  # noqa: PLC0415
    from forge.workspace import Workspace  # noqa: PLC0415
    from tests.support.testlib import REPO  # noqa: PLC0415

    names = sorted(core(Workspace(ForgeConfig.load(root=REPO))))
    times: dict[bool, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-core-") as tmp:
        for sandbox in (True, False):
            root = Path(tmp) / f"sandbox-{sandbox}"
            cfg = dataclasses.replace(ForgeConfig.load(root=REPO, channel_dir=root / "channel",
                                                       state_dir=root / "state"), sandbox=sandbox)
            t = time.perf_counter()
            report = api.build(names, cfg, jobs=jobs, view=False)
            times[sandbox] = time.perf_counter() - t
            assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}
            print(f"core set ({len(report.by_status('built'))} recipes) {'sandboxed' if sandbox else 'unsandboxed'}: "
                  f"{times[sandbox]:.1f} s", flush=True)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--channel", type=Path)
    ap.add_argument("--recipe", default="iniconfig")
    ap.add_argument("--builds", type=int, default=3)
    ap.add_argument("--core", action="store_true", help="also build the core set sandboxed and not")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ns = ap.parse_args()
    t0 = time.perf_counter()
    direct = []
    for _ in range(ns.runs):
        t = time.perf_counter()
        (lambda: b"ok")()
        direct.append(time.perf_counter() - t)
    cost = enter_cost(ns.runs)
    print(f"enter the sandbox: median {statistics.median(cost) * 1000:.1f} ms, best {min(cost) * 1000:.1f} ms, "
          f"worst {max(cost) * 1000:.1f} ms over {ns.runs} runs (target <= 50 ms); in-process call "
          f"{statistics.median(direct) * 1e6:.1f} us")
    if ns.channel:
        times = builds(ns.channel, ns.recipe, ns.builds)
        on, off = min(times[True]), min(times[False])
        print(f"build {ns.recipe}: sandboxed best {on:.2f} s, unsandboxed best {off:.2f} s, "
              f"ratio {on / off:.2f} (best of {ns.builds} each)")
    if ns.core:
        t = core_builds(ns.jobs)
        print(f"core set: sandboxed {t[True]:.1f} s, unsandboxed {t[False]:.1f} s, ratio {t[True] / t[False]:.3f}")
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
