"""BLAS/LAPACK in WebAssembly against native (issue 19): N x N dgemm (C = A B) and dgesv (A x = b, one
right-hand side) in python-wasm through ctypes on the channel's libopenblas.so (OpenBLAS WASM128_GENERIC +
LAPACK 3.12.1 via f2c), and the same with numpy on the host (its own OpenBLAS), single-threaded (the wasm
build has no threads) and with the machine's threads. Prints seconds (best of the runs, and the median),
GFLOP/s and the ratios wasm / native (docs/languages.md, "BLAS and LAPACK").

    python benchmarks/bench_blas.py [--channel DIR] [-n 500] [--runs 5] [--native-python PY]

The channel must hold python and libopenblas (built into it when missing: `forge build libopenblas`).
The native side needs a Python with numpy (--native-python; by default this interpreter, then the one
the venv was made from).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from forge import api  # noqa: E402
from forge.config import ForgeConfig  # noqa: E402
from forge.envs import create_env  # noqa: E402

#: in python-wasm: the same deterministic matrices as NATIVE, through ctypes
WASM = r"""
import ctypes as C, json, os, random, statistics, sys, time
n, runs, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
lib = C.CDLL(os.path.join(prefix, "lib", "libopenblas.so"))
load = time.perf_counter() - t0
rng = random.Random(0)
N2 = n * n
Arr = C.c_double * N2
a = Arr(*[rng.random() - 0.5 for _ in range(N2)])
b = Arr(*[rng.random() - 0.5 for _ in range(N2)])
c = Arr()
for i in range(n):
    a[i + i * n] += n  # diagonally dominant: a well-conditioned solve
rhs0 = (C.c_double * n)(*[rng.random() for _ in range(n)])
ni, one, zero = C.c_int(n), C.c_double(1.0), C.c_double(0.0)
def gemm():
    lib.dgemm_(b"N", b"N", C.byref(ni), C.byref(ni), C.byref(ni), C.byref(one), a, C.byref(ni), b, C.byref(ni),
               C.byref(zero), c, C.byref(ni))
lu, rhs, ipiv, info, nrhs = Arr(), (C.c_double * n)(), (C.c_int * n)(), C.c_int(), C.c_int(1)
def gesv():
    C.memmove(lu, a, C.sizeof(a)); C.memmove(rhs, rhs0, C.sizeof(rhs0))
    t = time.perf_counter()
    lib.dgesv_(C.byref(ni), C.byref(nrhs), lu, C.byref(ni), ipiv, rhs, C.byref(ni), C.byref(info))
    return time.perf_counter() - t
gemm()  # warm-up (first touch of the kernels and buffers)
times = {"dgemm": [], "dgesv": []}
for _ in range(runs):
    t = time.perf_counter(); gemm(); times["dgemm"].append(time.perf_counter() - t)
    times["dgesv"].append(gesv())
assert info.value == 0, info.value
resid = max(abs(sum(a[i + j * n] * rhs[j] for j in range(n)) - rhs0[i]) for i in range(0, n, max(1, n // 16)))
try:
    from js import process
    node = process.version
except ImportError:
    node = "?"
print(json.dumps({"load": load, "times": times, "resid": resid, "node": node}))
"""

#: natively: numpy's matmul (dgemm) and linalg.solve (dgesv) on its own OpenBLAS
NATIVE = r"""
import json, sys, time
import numpy as np
n, runs = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
a = np.asfortranarray(rng.random((n, n)) - 0.5 + n * np.eye(n))
b = np.asfortranarray(rng.random((n, n)) - 0.5)
rhs = rng.random(n)
a @ b
times = {"dgemm": [], "dgesv": []}
for _ in range(runs):
    t = time.perf_counter(); a @ b; times["dgemm"].append(time.perf_counter() - t)
    t = time.perf_counter(); np.linalg.solve(a, rhs); times["dgesv"].append(time.perf_counter() - t)
blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
print(json.dumps({"times": times, "numpy": np.__version__, "blas": blas.get("openblas configuration") or blas["name"]}))
"""


def native_python(given: str | None) -> str | None:
    """A Python that imports numpy: --native-python, this one, then the venv's base interpreter."""
    for cand in [given, sys.executable, getattr(sys, "_base_executable", None), shutil.which("python3")]:
        if cand and subprocess.run([cand, "-c", "import numpy"], capture_output=True).returncode == 0:
            return cand
    return None


def ensure_channel(channel: Path) -> None:
    if not list((channel / "emscripten-wasm32").glob("libopenblas-*.conda")):
        print(f"building libopenblas into {channel} ...", flush=True)
        cfg = ForgeConfig.load(root=REPO, channel_dir=channel)
        report = api.build(["libopenblas"], cfg, jobs=1, view=False)
        assert report.ok, {n: r.error for n, r in report.results.items() if r.status not in ("built", "present")}


def flops(op: str, n: int) -> float:
    return 2.0 * n ** 3 if op == "dgemm" else 2.0 / 3.0 * n ** 3 + 2.0 * n ** 2


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channel", type=Path, default=Path(os.environ.get("FORGE_CHANNEL", REPO / "channel")))
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--native-python", help="a Python with numpy (default: found)")
    ns = ap.parse_args()
    channel = ns.channel.resolve()
    ensure_channel(channel)
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-blas-") as tmp:
        prefix = Path(tmp) / "env"
        records = create_env(prefix, [channel.as_uri()], ["python", "libopenblas"])
        print("wasm prefix:", " ".join(r for r in records if r.startswith(("python-", "libopenblas-"))))
        script = Path(tmp) / "bench_wasm.py"
        script.write_text(WASM)
        res = subprocess.run([str(prefix / "bin" / "python-wasm"), str(script), str(ns.n), str(ns.runs), str(prefix)],
                             cwd=tmp, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            print(res.stdout[-2000:], res.stderr[-4000:])
            return 1
        rows["wasm"] = json.loads(res.stdout.strip().splitlines()[-1])
    py = native_python(ns.native_python)
    if py is None:
        print("native: no Python with numpy found (--native-python); wasm numbers only")
    else:
        for label, env in (("native, 1 thread", {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}),
                           (f"native, {os.cpu_count()} threads", {})):
            res = subprocess.run([py, "-c", NATIVE, str(ns.n), str(ns.runs)], capture_output=True, text=True,
                                 env={**os.environ, **env}, check=True)
            rows[label] = json.loads(res.stdout)
        info = rows["native, 1 thread"]
        print(f"native: {py}, numpy {info['numpy']}, {info['blas']}")
    wasm = rows["wasm"]
    print(f"wasm: node {wasm['node']}; libopenblas.so loaded by ctypes in {wasm['load']:.3f} s; dgesv residual "
          f"{wasm['resid']:.1e}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"\n{ns.n} x {ns.n}, best of {ns.runs} (median)")
    print(f"{'':22}{'dgemm s':>18}{'GFLOP/s':>9}{'dgesv s':>18}{'GFLOP/s':>9}")
    for label, row in rows.items():
        cells = []
        for op in ("dgemm", "dgesv"):
            best, med = min(row["times"][op]), statistics.median(row["times"][op])
            cells.append(f"{best:>9.4f} ({med:.4f}){flops(op, ns.n) / best / 1e9:>9.2f}")
        print(f"{label:22}{''.join(cells)}")
    for label in [k for k in rows if k != "wasm"]:
        ratios = [min(wasm["times"][op]) / min(rows[label]["times"][op]) for op in ("dgemm", "dgesv")]
        print(f"wasm / {label}: dgemm {ratios[0]:.1f}x, dgesv {ratios[1]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
