"""scipy in WebAssembly against native (issue 19): `scipy.linalg.solve` on an N x N system (LAPACK's
gesv through libopenblas) and `scipy.fft.fft` of 2^K points (pocketfft, C++) in python-wasm, and the same
calls in a native CPython with scipy on this machine, single-threaded; plus the package's bytes (the
`.conda` and its wheel in the Pyodide view) and, when the benchmark builds scipy itself, the build's wall
time and its wasm test time (from the build's log).

    python benchmarks/bench_scipy.py [--channel DIR] [-n 500] [-k 16] [--runs 5] [--native-python PY]

The channel must hold scipy (built into it when missing: `forge build scipy`, which is then timed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from forge import api  # noqa: E402
from forge.config import ForgeConfig  # noqa: E402
from forge.envs import create_env  # noqa: E402

#: the same script runs in python-wasm and natively
CALLS = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np, scipy, scipy.fft, scipy.linalg
imp = time.perf_counter() - t0
n, k, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
a = rng.random((n, n)) - 0.5 + n * np.eye(n)
b = rng.random(n)
x = rng.random(2 ** k)
scipy.linalg.solve(a, b); scipy.fft.fft(x)  # warm-up
times = {"solve": [], "fft": []}
for _ in range(runs):
    t = time.perf_counter(); s = scipy.linalg.solve(a, b); times["solve"].append(time.perf_counter() - t)
    t = time.perf_counter(); f = scipy.fft.fft(x); times["fft"].append(time.perf_counter() - t)
assert np.allclose(a @ s, b), "solve"
assert np.allclose(scipy.fft.ifft(f).real, x), "fft"
print(json.dumps({"import": imp, "times": times, "scipy": scipy.__version__}))
"""


def native_python(given: str | None) -> str | None:
    """A Python that imports scipy: --native-python, this one, then the venv's base interpreter."""
    for cand in [given, sys.executable, getattr(sys, "_base_executable", None), shutil.which("python3")]:
        if cand and subprocess.run([cand, "-c", "import scipy"], capture_output=True).returncode == 0:
            return cand
    return None


def ensure_scipy(channel: Path) -> dict[str, float]:
    """Build scipy into the channel when it is missing; its wall time and wasm test time if built here."""
    if list((channel / "emscripten-wasm32").glob("scipy-[0-9]*.conda")):
        return {}
    print(f"building scipy into {channel} ...", flush=True)
    cfg = ForgeConfig.load(root=REPO, channel_dir=channel)
    t0 = time.monotonic()
    report = api.build(["scipy"], cfg, jobs=1, view=True)
    wall = time.monotonic() - t0
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status not in ("built", "present")}
    out = {"build wall (with its missing dependencies)": wall}
    log = cfg.state_dir / "logs" / "scipy" / "latest.log"
    if log.exists():
        text = log.read_text(errors="replace")
        if m := re.search(r"built (\S+\.whl) in ([\d.]+)s", text):
            out["wheel build"] = float(m.group(2))
        if m := re.findall(r"(\d+) passed.* in ([\d.]+)s", text):
            out[f"wasm tests ({m[-1][0]} passed)"] = float(m[-1][1])
    return out


def package_bytes(channel: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for pattern in ("emscripten-wasm32/scipy-[0-9]*.conda", "emscripten-wasm32/scipy-tests-*.conda",
                    "pyodide/scipy-*.whl", "pyodide/scipy_tests-*.whl"):
        for f in sorted(channel.glob(pattern))[-1:]:
            sizes[f.name] = f.stat().st_size
    return sizes


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channel", type=Path, default=Path(os.environ.get("FORGE_CHANNEL", REPO / "channel")))
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("-k", type=int, default=16)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--native-python", help="a Python with numpy and scipy (default: found)")
    ns = ap.parse_args()
    channel = ns.channel.resolve()
    built = ensure_scipy(channel)
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scipy-") as tmp:
        prefix = Path(tmp) / "env"
        records = create_env(prefix, [channel.as_uri()], ["python", "scipy"])
        print("wasm prefix:", " ".join(r for r in records if r.startswith(("python-", "scipy-", "numpy-",
                                                                          "libopenblas-"))))
        script = Path(tmp) / "calls.py"
        script.write_text(CALLS)
        res = subprocess.run([str(prefix / "bin" / "python-wasm"), str(script), str(ns.n), str(ns.k), str(ns.runs)],
                             cwd=tmp, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            print(res.stdout[-2000:], res.stderr[-4000:])
            return 1
        rows["wasm"] = json.loads(res.stdout.strip().splitlines()[-1])
    py = native_python(ns.native_python)
    if py is None:
        print("native: no Python with scipy found (--native-python); wasm numbers only")
    else:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        res = subprocess.run([py, "-c", CALLS, str(ns.n), str(ns.k), str(ns.runs)], capture_output=True, text=True,
                             env=env, check=True)
        rows["native, 1 thread"] = json.loads(res.stdout)
        print(f"native: {py}, scipy {rows['native, 1 thread']['scipy']}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for what, secs in built.items():
        print(f"scipy {what}: {secs:.1f} s")
    for name, size in package_bytes(channel).items():
        print(f"{name}: {size / 1e6:.2f} MB")
    print(f"\nscipy.linalg.solve {ns.n}x{ns.n}, scipy.fft.fft 2^{ns.k}: best of {ns.runs} (median), seconds")
    print(f"{'':20}{'import':>9}{'solve':>20}{'fft':>20}")
    for label, row in rows.items():
        cells = [f"{min(row['times'][op]):>10.5f} ({statistics.median(row['times'][op]):.5f})" for op in ("solve", "fft")]
        print(f"{label:20}{row['import']:>9.3f}{''.join(cells)}")
    if "native, 1 thread" in rows:
        nat, wasm = rows["native, 1 thread"], rows["wasm"]
        ratios = {op: min(wasm["times"][op]) / min(nat["times"][op]) for op in ("solve", "fft")}
        print(f"wasm / native: solve {ratios['solve']:.1f}x, fft {ratios['fft']:.1f}x, "
              f"import {wasm['import'] / nat['import']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
