"""Benchmark the sid build root: warm ensure() and friends; cold creation with --cold.

    python benchmarks/bench_buildroot.py            # warm numbers on the default root
    python benchmarks/bench_buildroot.py --cold     # + a fresh root in a temp dir (minutes, ~1.6 GB)
    python benchmarks/bench_buildroot.py --cold --cold-cache   # + with empty download caches too

Cold roots go under the user folder's bench-* (same filesystem as the real root) and are deleted after.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forge.toolchain import BuildRoot, prepare_cross_env  # noqa: E402
from forge.locations import user_dir  # noqa: E402
from forge.toolchain.target import CFLAGS, LDFLAGS  # noqa: E402


def timed(fn, repeat: int = 1) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def du(path: Path) -> str:
    return subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True).stdout.split()[0]


def report(name: str, xs: list[float]) -> None:
    if len(xs) == 1:
        print(f"{name:38s} {xs[0]:8.3f} s")
    else:
        print(f"{name:38s} median {statistics.median(xs):7.3f} s  min {min(xs):.3f}  max {max(xs):.3f}  (n={len(xs)})")


def cold(cache_cold: bool) -> None:
    user_dir().mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="bench-", dir=user_dir()))
    try:
        cache = base / "cache" if cache_cold else None
        br = BuildRoot(base / "buildroot", cache_dir=cache)
        steps: list[tuple[float, str]] = []
        t0 = time.perf_counter()
        lock = br.ensure(progress=lambda m: steps.append((time.perf_counter() - t0, m)))
        total = time.perf_counter() - t0
        label = "cold create (empty caches)" if cache_cold else "cold create (warm download caches)"
        report(label, [total])
        for (t, m), nxt in zip(steps, [s[0] for s in steps[1:]] + [total]):
            print(f"    {nxt - t:7.1f} s  {m}")
        print(f"    root size {du(br.root_dir)}; emscripten {lock.emscripten}, clang {lock.clang}")
        report("warm ensure right after", timed(br.ensure, 3))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cold", action="store_true", help="also time creating a fresh root (minutes)")
    ap.add_argument("--cold-cache", action="store_true", help="with --cold: start from empty download caches")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    br = BuildRoot()
    t = time.perf_counter()
    lock = br.ensure()
    report("ensure (first call this run)", [time.perf_counter() - t])
    report("warm ensure()", timed(br.ensure, args.repeat))
    report("verify() only", timed(br.verify, args.repeat))
    report("run(['true'])", timed(lambda: br.run(["true"]), args.repeat))
    report("prepare_cross_env (current)", timed(lambda: prepare_cross_env(br), args.repeat))
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "m.c").write_text("int f(int x) { return x + 1; }\n")
        cmd = f"emcc {' '.join(CFLAGS)} -c m.c -o m.o && emcc {' '.join(LDFLAGS)} m.o -o m.so"
        report("emcc compile+link side module", timed(
            lambda: br.run(["sh", "-c", cmd], cwd=tmp, binds=[Path(tmp)], capture=True), args.repeat))
    print(f"root {br.root_dir}: {du(br.root_dir)}; caches {br.cache_dir}: {du(br.cache_dir)}")
    print(f"lock: emscripten {lock.emscripten}, clang {lock.clang}, node {lock.node}, python {lock.python}, "
          f"pyodide-build {lock.pyodide_build}, debian {lock.debian_suite} {lock.debian_date}")
    if args.cold:
        cold(args.cold_cache)


if __name__ == "__main__":
    main()
