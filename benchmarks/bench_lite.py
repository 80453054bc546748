"""Benchmark `forge lite`: site build time, JupyterLite first-cell time in headless Chromium
(fresh profile each run, so nothing is cached), and the bytes the site makes the browser download.

    python benchmarks/bench_lite.py [--channel DIR] [--repeat N] [--modes uncompressed,default,snapshot,preload]

The channel must hold the kernel's start-up packages (forge build micropip comm jedi ipython).
The cell is print-only, so its time is the kernel's start. Each mode is a site build: `uncompressed`
(no gzip twins: the site as before), `default` (gzip twins sent with Content-Encoding), `snapshot`
(`forge lite --snapshot`: the kernel starts from a memory snapshot), `preload` (loadPyodide loads
the kernel's packages with the runtime). Each step's share is the median over the runs (see phases).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forge.config import ForgeConfig  # noqa: E402
from forge.lite import build_site  # noqa: E402
from tests.support.browser import BrowserRun, notebook_json, run_notebook  # noqa: E402
from forge.lite.site import CHANNEL_STARTUP  # noqa: E402
from forge.serve import serving  # noqa: E402


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def bytes_by_url(run: BrowserRun) -> dict[str, int]:
    """Bytes per URL, each counted once (a service-worker fetch and the page's view of the same
    response are two request events)."""
    by_url: dict[str, int] = {}
    for r in run.requests:
        url = r["url"].split("?")[0]
        by_url[url] = max(by_url.get(url, 0), r.get("bytes") or 0)
    return by_url


def lite_workspace(prefix: str, repeat: int) -> tuple[argparse.Namespace, Path, Path, Path]:
    """The command line every lite benchmark takes (--channel, --repeat), the channel, and a
    fresh work folder with an empty `files/` for the site's notebooks."""
    ap = argparse.ArgumentParser(description=(sys.modules["__main__"].__doc__ or "").splitlines()[0])
    ap.add_argument("--channel", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=repeat)
    ap.add_argument("--modes", default=None, help="comma-separated site modes (bench_lite: uncompressed, default (gzip), "
                    "snapshot, preload)")
    args = ap.parse_args()
    channel = ForgeConfig.load(channel_dir=args.channel).channel_dir
    work = Path(tempfile.mkdtemp(prefix=prefix))
    (work / "files").mkdir()
    return args, channel, work, work / "files"


def categorize(run: BrowserRun) -> dict[str, int]:
    """Bytes per kind of file the site serves."""
    by_url = bytes_by_url(run)
    cats = {"pyodide runtime": 0, "kernel snapshot": 0, "channel packages": 0, "kernel extension (wheels + worker)": 0,
            "JupyterLite app": 0}
    for url, n in by_url.items():
        name = url.rsplit("/", 1)[-1]
        if name.startswith("forge-lite-"):
            cats["kernel snapshot"] += n
        elif "/static/pyodide/" in url and name.endswith((".whl", ".zip", "all.json", "pyodide-lock.json")) \
                and name != "python_stdlib.zip":
            cats["channel packages"] += n
        elif "/static/pyodide/" in url:
            cats["pyodide runtime"] += n
        elif "pyodide-kernel-extension" in url:
            cats["kernel extension (wheels + worker)"] += n
        else:
            cats["JupyterLite app"] += n
    return cats


#: The cell the target is about: nothing to import, so its time is the kernel's start.
PRINT_CELL = 'print("forge-lite: hello")'
PRINT_EXPECT = "forge-lite: hello"


def _name(url: str) -> str:
    return url.split("?")[0].rsplit("/", 1)[-1]


def phases(run: BrowserRun) -> dict[str, float]:
    """Where a first print cell's time went (ms from navigation), from the request timeline and,
    on a site with a kernel snapshot, the kernel worker's `forge-lite:` marks (forge.lite.snapshot):
      app            navigation -> the kernel's worker asks for the Pyodide loader (JupyterLite's page,
                     its JS, the notebook, the kernel's worker)
      runtime        -> Pyodide is up: runtime fetch + wasm compile + interpreter boot (or, with a
                     snapshot, the snapshot's fetch and restore, which is split out as `snapshot restore`)
      packages       the kernel's start-up wheels: first request -> last one downloaded and installed
      kernel start   -> the kernel is ready (import pyodide_kernel, IPython's shell)
      cell run       -> the output is on the page (the cell, its imports, the round trip)"""
    reqs = sorted(run.requests, key=lambda r: r["t"])
    out = run.timings["run_ms"] + run.timings["first_cell_ms"]
    marks = {m["step"].split(" ", 1)[0]: m["t"] for m in run.marks}
    loader = next((r["t"] for r in reqs if _name(r["url"]) in ("pyodide.mjs", "forge-lite-loader.mjs")), 0)
    kernel_whl = [r for r in reqs if _name(r["url"]).endswith(".whl")]
    if "ready" in marks:  # the loader marked its steps (a snapshot site)
        ready = marks["ready"]
        restore = ready - marks.get("fetched", ready)
        pk_start = pk_end = ready
        kernel = marks.get("kernel", ready)
    else:
        restore = 0.0
        pk_start = kernel_whl[0]["t"] if kernel_whl else out
        ready = pk_start
        pk_end = max((r.get("tEnd") or r["t"] for r in kernel_whl), default=pk_start)
        kernel = out  # no mark: the kernel's import and the cell run are one span
    return {"app": loader, "runtime": ready - loader - restore, "snapshot restore": restore,
            "packages": pk_end - pk_start, "kernel start": kernel - pk_end, "cell run": out - kernel,
            "total": out}


def main() -> None:
    args, channel, work, files = lite_workspace("bench-lite-", repeat=3)
    ap_modes = [m for m in (args.modes or "uncompressed,default,snapshot").split(",") if m]

    # site build (the view is refreshed first; the first build also converts what changed)
    build_site(channel, work / "warmup", contents=(files,))
    (files / "print.ipynb").write_text(json.dumps(notebook_json(PRINT_CELL)))
    builds, reports = [], {}
    options = {"uncompressed": {"compress": False}, "default": {}, "preload": {"preload": CHANNEL_STARTUP},
               "snapshot": {"snapshot": True}}
    for mode in ap_modes:
        times = []
        for _ in range(args.repeat if mode == ap_modes[0] else 1):
            t = time.perf_counter()
            reports[mode] = build_site(channel, work / f"site-{mode}", contents=(files,), **options[mode])
            times.append(time.perf_counter() - t)
        builds.append((mode, med(times)))
    for mode, t in builds:
        rep = reports[mode]
        print(f"forge lite {mode} (site build, {len(rep.lock_packages)} channel packages): "
              f"median {t:.2f} s (jupyter lite build {rep.build_seconds:.2f} s); "
              f"site {rep.bytes / 1e6:.1f} MB in {rep.files} files, of which static/pyodide {rep.pyodide_bytes / 1e6:.1f} MB")

    results: dict[str, list[BrowserRun]] = {m: [] for m in ap_modes}
    for _ in range(args.repeat):
        for mode in ap_modes:
            with serving(work / f"site-{mode}") as base:
                run = run_notebook(f"{base}/notebooks/index.html?path=print.ipynb", PRINT_EXPECT, timeout=300)
            if not run.ok or run.offsite:
                raise SystemExit(f"{mode} run failed: {run.error} {run.output!r} offsite={run.offsite} "
                                 f"{run.console[-20:]}")
            results[mode].append(run)

    print(f"\nprint-only first cell in headless Chromium, fresh profile, {args.repeat} runs each (median, ms "
          f"from navigation); load average {os.getloadavg()[0]:.1f}")
    keys = ["app", "runtime", "snapshot restore", "packages", "kernel start", "cell run", "total"]
    print(f"  {'mode':<10}" + "".join(f"{k:>17}" for k in keys) + f"{'MB':>8}")
    for mode, runs in results.items():
        ph = [phases(r) for r in runs]
        tot = med([p["total"] for p in ph])
        cells = "".join(f"{med([p[k] for p in ph]):>10.0f} ({med([p[k] for p in ph]) / tot:>4.0%})" for k in keys[:-1])
        mb = med([sum(bytes_by_url(r).values()) / 1e6 for r in runs])
        print(f"  {mode:<10}{cells}{tot:>17.0f}{mb:>8.2f}")
        print(f"    runs (ms): {[round(p['total']) for p in ph]}")

    for mode, runs in results.items():
        run = runs[0]
        cats = categorize(run)
        total = sum(cats.values())
        print(f"\nbytes downloaded, {mode} (first run): {total / 1e6:.2f} MB in "
              f"{len({r['url'].split('?')[0] for r in run.requests})} distinct URLs, "
              f"{total / reports[mode].bytes:.2f}x of the site on disk")
        for k, v in cats.items():
            print(f"  {k:<38}{v / 1e6:>8.2f} MB  {v / max(total, 1):>5.1%}")
        big = sorted(bytes_by_url(run).items(), key=lambda kv: -kv[1])[:6]
        print("  largest: " + ", ".join(f"{_name(u)} {n / 1e6:.2f} MB" for u, n in big))
    print(f"  off-site requests: {sum(len(r.offsite) for rs in results.values() for r in rs)}")


if __name__ == "__main__":
    main()
