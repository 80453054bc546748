"""Benchmark the Pyodide view: generation per package (cold, warm, one changed) and the
time npm Pyodide 314.0.7 under node takes to start, load the channel's packages and import them.

    python benchmarks/bench_pyodide_view.py [--channel DIR] [--repeat N]

The view is generated into a temp dir (the channel's own pyodide/ is not touched).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forge.config import ForgeConfig  # noqa: E402
from forge.pyodide_view import publish_view  # noqa: E402
from forge.toolchain.pyodide_node import run_in_pyodide  # noqa: E402


def med(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f} ms (min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f})"


def bench_generation(channel: Path, repeat: int) -> Path:
    cold, warm, changed, per_pkg = [], [], [], []
    n = 0
    for i in range(repeat):
        view = Path(tempfile.mkdtemp(prefix="bench-view-"))
        t = time.perf_counter()
        r = publish_view(channel, view_dir=view)
        cold.append(time.perf_counter() - t)
        n = len(r.built)
        per_pkg += list(r.build_seconds.values())
        t = time.perf_counter()
        publish_view(channel, view_dir=view)
        warm.append(time.perf_counter() - t)
        state = json.loads((view / ".forge-view.json").read_text())
        state["packages"].pop(next(iter(state["packages"])))
        (view / ".forge-view.json").write_text(json.dumps(state))
        t = time.perf_counter()
        publish_view(channel, view_dir=view)
        changed.append(time.perf_counter() - t)
        if i < repeat - 1:
            shutil.rmtree(view)
    sizes = sorted(per_pkg)
    print(f"view generation, {n} channel packages (+ micropip), {repeat} runs:")
    print(f"  cold (every package converted): {med(cold)}  = {statistics.median(cold) / max(n, 1) * 1000:.0f} ms/package")
    print(f"  per package conversion (extract + wheel): median {statistics.median(sizes) * 1000:.0f} ms, "
          f"max {sizes[-1] * 1000:.0f} ms")
    print(f"  warm (nothing changed): {med(warm)}")
    print(f"  one package changed: {med(changed)}")
    return view


def bench_node(view: Path, repeat: int) -> None:
    lock = json.loads((view / "pyodide-lock.json").read_text())["packages"]
    names = sorted(k for k, v in lock.items() if v["package_type"] == "package")
    imports = sorted({i for n in names for i in lock[n]["imports"]})
    code = "import importlib\nfor m in %r:\n    importlib.import_module(m)\nlen(%r)" % (imports, imports)
    rows: dict[str, list[float]] = {"loadPyodide": [], "loadPackage (all)": [], "import all": [], "node total": []}
    for _ in range(repeat):
        t = time.perf_counter()
        run = run_in_pyodide(view_dir=view, code=code, packages=names, index_from_view=True)
        rows["node total"].append(time.perf_counter() - t)
        rows["loadPyodide"].append(run.load_ms / 1000)
        rows["loadPackage (all)"].append(run.packages_ms / 1000)
        rows["import all"].append(run.run_ms / 1000)
    print(f"npm Pyodide under node, {len(names)} packages, {len(imports)} top-level modules, {repeat} runs:")
    for k, v in rows.items():
        print(f"  {k}: {med(v)}")
    for name in ("python-dateutil", "pytest"):
        if name in lock:
            code = "import importlib\n" + "\n".join(f"importlib.import_module({m!r})" for m in lock[name]["imports"])
            runs = [run_in_pyodide(view_dir=view, code=code + "\nNone", packages=[name], index_from_view=True) for _ in range(repeat)]
            print(f"  {name} (+deps): loadPackage {statistics.median([r.packages_ms for r in runs]):.0f} ms, "
                  f"import {statistics.median([r.run_ms for r in runs]):.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channel", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    channel = ForgeConfig.load(channel_dir=args.channel).channel_dir
    view = bench_generation(channel, args.repeat)
    try:
        bench_node(view, args.repeat)
    finally:
        shutil.rmtree(view, ignore_errors=True)


if __name__ == "__main__":
    main()
