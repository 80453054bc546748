"""Benchmark the forge foundation (prints numbers, asserts nothing).

    python benchmarks/bench_foundation.py

(a) no-op `forge build pytest` on an up-to-date channel: median of 5 CLI runs (subprocess);
(b) forge overhead: one recipe (iniconfig) through `api.build` against calling rattler-build's
    API directly on the same recipe (same FORGE_SOURCES / FORGE_WHEELHOUSE, same channel
    contents for the test environment): ratio of medians;
(c) scheduling: a synthetic graph of 32 tiny noarch: generic recipes with `sleep` durations and
    a known critical path, `--jobs 1` against `--jobs 2`: makespan / max(critical path, work / jobs).

Everything goes to a temp dir; downloads come from the user's download cache (FORGE_CACHE, forge.locations).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from forge import api  # noqa: E402
from forge.planner import prepare_job  # noqa: E402
from forge.workspace import Workspace  # noqa: E402
from tests.support.testlib import forge_cli, forge_repo_config, generic_recipe, make_repo, timed_rebuilds  # noqa: E402


def bench_noop(tmp: Path) -> None:
    channel = tmp / "noop-channel"
    t = time.perf_counter()
    report = api.build(["pytest"], forge_repo_config(channel, tmp / "noop-state"), jobs=os.cpu_count())
    cold = time.perf_counter() - t
    assert report.ok
    times = []
    for _ in range(5):
        t = time.perf_counter()
        proc = forge_cli("build", "pytest", "--channel", str(channel), FORGE_STATE=str(tmp / "noop-state"))
        times.append(time.perf_counter() - t)
        if proc.returncode != 0 or "nothing to build" not in proc.stderr:
            print("  unexpected:", proc.stderr[-500:])
    lib = []
    for _ in range(5):
        t = time.perf_counter()
        r = api.build(["pytest"], forge_repo_config(channel, tmp / "noop-state"))
        lib.append(time.perf_counter() - t)
        assert not r.results
    print(f"(a) no-op `forge build pytest` (6 recipes, up to date), CLI subprocess: median {statistics.median(times):.3f}s "
          f"[{', '.join(f'{x:.3f}' for x in times)}]")
    print(f"    same through api.build in-process: median {statistics.median(lib):.3f}s; "
          f"(first build of the graph into the empty channel, warm caches: {cold:.1f}s)")


DIRECT = r"""
import os, sys, time, json
from pathlib import Path
t0 = time.perf_counter()
from rattler_build import EnvironmentIsolation, PlatformConfig, RenderConfig, Stage0Recipe, ToolConfiguration, VariantConfig
recipe, out, channel, result = sys.argv[1:5]
t1 = time.perf_counter()
(variant,) = Stage0Recipe.from_file(Path(recipe)).render(VariantConfig(), RenderConfig(platform=PlatformConfig(target_platform="linux-64")))
res = variant.run_build(output_dir=Path(out), channels=[channel], env_isolation=EnvironmentIsolation.NONE,
                        tool_config=ToolConfiguration(test_strategy="native"), no_include_recipe=False)
t2 = time.perf_counter()
sys.stdout.flush()
Path(result).write_text(json.dumps({"import": t1 - t0, "build": t2 - t1, "packages": [str(p) for p in res.packages]}))
os._exit(0)
"""


def bench_overhead(tmp: Path) -> None:
    base = tmp / "ovh-base"
    r = api.build(["python-native"], forge_repo_config(base, tmp / "ovh-state"))
    assert r.ok
    # the fetch phase once, to know the exact inputs the forge gives the build
    job = prepare_job(Workspace(forge_repo_config(base, tmp / "ovh-state")), "iniconfig")
    # the Pyodide view refresh is measured by bench_pyodide_view.py; here only the build path
    forge_t = [s for s, _ in timed_rebuilds("iniconfig", base, tmp, tmp / "ovh-state")]
    direct_t, direct_wall = [], []
    for i in range(3):
        ch2 = tmp / f"ovh-direct-{i}"
        shutil.copytree(base, ch2)
        src = tmp / f"ovh-sources-{i}"
        src.mkdir()
        for s in job.sources:
            os.link(s, src / Path(s).name)
        env = dict(os.environ, FORGE_SOURCES=str(src), FORGE_WHEELHOUSE=job.wheelhouse or "",
                   PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
        result = tmp / f"ovh-result-{i}.json"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", DIRECT, str(REPO / "recipes/iniconfig/recipe.yaml"),
                        str(tmp / f"ovh-out-{i}"), ch2.as_uri(), str(result)], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        direct_wall.append(time.perf_counter() - t)
        info = json.loads(result.read_text()) if result.exists() else {"build": float("nan"), "packages": []}
        direct_t.append(info["build"])
        assert info["packages"], "direct build produced nothing"
    f, d, dw = statistics.median(forge_t), statistics.median(direct_t), statistics.median(direct_wall)
    print(f"(b) iniconfig via api.build (render+plan+fetch check+pool build+publish/index, no view): median {f:.2f}s "
          f"[{', '.join(f'{x:.2f}' for x in forge_t)}]")
    print(f"    rattler-build API directly (render+run_build): median {d:.2f}s; the same in a fresh process "
          f"incl. import: {dw:.2f}s")
    print(f"    forge overhead ratio: {f / d:.2f}x vs the bare API call, {f / dw:.2f}x vs a fresh direct process "
          f"(+{f - d:.2f}s / +{f - dw:.2f}s per recipe)")


def synthetic(tmp: Path) -> tuple[dict[str, str], dict[str, float], dict[str, list[str]]]:
    """A chain c0..c5 of 1.0 s, 25 leaves of 0.25 s hanging off c0..c4, and a join of 0.1 s."""
    durations: dict[str, float] = {}
    deps: dict[str, list[str]] = {}
    for i in range(6):
        durations[f"c{i}"] = 1.0
        deps[f"c{i}"] = [f"c{i - 1}"] if i else []
    for j in range(25):
        durations[f"leaf{j:02d}"] = 0.25
        deps[f"leaf{j:02d}"] = [f"c{j % 5}"] if j % 3 else []
    durations["join"] = 0.1
    deps["join"] = ["c5", *[f"leaf{j:02d}" for j in range(25)]]
    recipes = {
        n: generic_recipe(n, run=deps[n] or None, script=[f"sleep {durations[n]}", f"echo {n} > $PREFIX/{n}.txt"])
        for n in durations
    }
    return recipes, durations, deps


def critical_path(durations: dict[str, float], deps: dict[str, list[str]]) -> float:
    memo: dict[str, float] = {}

    def finish(n: str) -> float:
        if n not in memo:
            memo[n] = durations[n] + max((finish(d) for d in deps[n]), default=0.0)
        return memo[n]

    return max(finish(n) for n in durations)


def bench_scheduling(tmp: Path) -> None:
    recipes, durations, deps = synthetic(tmp)
    cp, work = critical_path(durations, deps), sum(durations.values())
    print(f"(c) synthetic graph: {len(recipes)} recipes, sleep work {work:.2f}s, critical path {cp:.2f}s")
    for jobs in (1, 2):
        root = tmp / f"sched-{jobs}"
        cfg = make_repo(root, recipes)
        t = time.perf_counter()
        rep = api.build(["join"], cfg, jobs=jobs, view=False)
        makespan = time.perf_counter() - t
        assert rep.ok and len(rep.results) == len(recipes), rep.by_status("failed")
        measured = {n: r.seconds for n, r in rep.results.items()}
        mcp, mwork = critical_path(measured, deps), sum(measured.values())
        bound = max(cp, work / jobs)
        mbound = max(mcp, mwork / jobs)
        print(f"    --jobs {jobs}: makespan {makespan:.2f}s; / max(cp, sleep work/jobs) = {makespan / bound:.2f} "
              f"(bound {bound:.2f}s); / same bound with measured build times = {makespan / mbound:.2f} "
              f"(measured work {mwork:.2f}s, cp {mcp:.2f}s, bound {mbound:.2f}s)")
        if jobs == 1:
            one = makespan
    print(f"    speed-up jobs 2 vs 1: {one / makespan:.2f}x")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-foundation-") as d:
        tmp = Path(d)
        print(f"cores: {os.cpu_count()}  cache: {os.environ['FORGE_CACHE']}")
        bench_noop(tmp)
        bench_overhead(tmp)
        bench_scheduling(tmp)
    sys.stdout.flush()
    os._exit(0)  # py-rattler may crash at interpreter exit after its work is done


if __name__ == "__main__":
    main()
