"""Benchmark matplotlib in `forge lite`: time to the first rendered figure and the bytes the browser
downloads for it, in headless Chromium (fresh profile each run, so nothing is cached), against a
cell of the same site that only prints (the kernel's own start-up cost).

    python benchmarks/bench_lite_mpl.py [--channel DIR] [--repeat N]

The channel must hold matplotlib's chain and the kernel's start-up packages:
    forge build matplotlib micropip comm jedi ipython python-dateutil matplotlib-inline
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_lite import bytes_by_url, categorize, lite_workspace  # noqa: E402
from forge.lite import build_site  # noqa: E402
from forge.serve import serving  # noqa: E402
from tests.support.browser import BrowserRun, notebook_json, run_notebook  # noqa: E402
from tests.support.samples import MPL_FIGURE_CELL  # noqa: E402

MPL_CELL = MPL_FIGURE_CELL  # the figure of tests/numpy/test_matplotlib.py
BASE_CELL = 'print("forge-base:", 6 * 7)'

#: wheels whose bytes are listed one by one
PACKAGES = ("matplotlib-", "numpy-", "pillow-", "contourpy-", "kiwisolver-", "fonttools-", "freetype-",
            "libjpeg-turbo-", "qhull-", "pyparsing-", "cycler-", "python_dateutil-", "packaging-")


def per_package(run: BrowserRun) -> dict[str, int]:
    """Bytes of each listed package's file (a wheel or a shared-library zip), URLs counted once."""
    by_url = bytes_by_url(run)
    out = dict.fromkeys(PACKAGES, 0)
    for url, n in by_url.items():
        name = url.rsplit("/", 1)[-1]
        for p in PACKAGES:
            if name.startswith(p) and name.endswith((".whl", ".zip")):
                out[p] += n
    return out


def one_run(site: Path, notebook: str, expect: str, shot: Path | None = None) -> BrowserRun:
    with serving(site) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path={notebook}", expect, screenshot=shot, timeout=300)
    if not run.ok or run.offsite:
        raise SystemExit(f"{notebook} failed: {run.error} {run.output!r} offsite={run.offsite} "
                         f"errors={run.page_errors[-3:]}")
    return run


def main() -> None:
    args, channel, work, files = lite_workspace("bench-lite-mpl-", repeat=1)
    (files / "mpl.ipynb").write_text(json.dumps(notebook_json(MPL_CELL)))
    (files / "base.ipynb").write_text(json.dumps(notebook_json(BASE_CELL)))
    t = time.perf_counter()
    rep = build_site(channel, work / "site", contents=(files,))
    print(f"forge lite (site build, {len(rep.lock_packages)} channel packages): {time.perf_counter() - t:.1f} s; "
          f"site {rep.bytes / 1e6:.1f} MB, of which static/pyodide {rep.pyodide_bytes / 1e6:.1f} MB")

    runs: dict[str, list[BrowserRun]] = {"print only": [], "matplotlib figure": []}
    for i in range(args.repeat):
        runs["print only"].append(one_run(work / "site", "base.ipynb", "forge-base: 42"))
        runs["matplotlib figure"].append(one_run(work / "site", "mpl.ipynb", "forge-mpl:",
                                                 shot=work / f"mpl-{i}.png"))
    fig = runs["matplotlib figure"][0]
    pngs = [im for im in fig.images if im["type"] == "image/png"]
    if not pngs or pngs[0]["bytes"] < 10_000:
        raise SystemExit(f"no figure in the cell's output: {fig.images}")

    print(f"\nJupyterLite in headless Chromium, fresh profile, {args.repeat} run(s) each (median, ms):")
    print(f"  {'first cell':<20}{'page load':>10}{'notebook':>10}{'cell run':>10}{'to output':>11}{'MB':>8}")
    for mode, rs in runs.items():
        t = {k: statistics.median([r.timings[k] for r in rs]) for k in ("load_ms", "notebook_ms", "first_cell_ms",
                                                                        "total_ms")}
        mb = statistics.median([sum(categorize(r).values()) for r in rs]) / 1e6
        print(f"  {mode:<20}{t['load_ms']:>10.0f}{t['notebook_ms']:>10.0f}{t['first_cell_ms']:>10.0f}"
              f"{t['total_ms']:>11.0f}{mb:>8.2f}")
    base_ms = statistics.median([r.timings["total_ms"] for r in runs["print only"]])
    mpl_ms = statistics.median([r.timings["total_ms"] for r in runs["matplotlib figure"]])
    print(f"  time to the first figure: {mpl_ms / 1000:.1f} s from navigation, {mpl_ms / base_ms:.2f}x a "
          f"print-only first cell ({(mpl_ms - base_ms) / 1000:.1f} s more)")
    print(f"  figure: {pngs[0]['width']}x{pngs[0]['height']} PNG, {pngs[0]['bytes']} bytes")

    cats, base_cats = categorize(fig), categorize(runs["print only"][0])
    total, base_total = sum(cats.values()), sum(base_cats.values())
    print(f"\nbytes downloaded (first run): {total / 1e6:.2f} MB for the figure, {base_total / 1e6:.2f} MB for "
          f"the print-only cell ({total / base_total:.2f}x; {(total - base_total) / 1e6:.2f} MB for matplotlib's chain)")
    for k in cats:
        print(f"  {k:<38}{cats[k] / 1e6:>8.2f} MB  (print only {base_cats[k] / 1e6:.2f} MB)")
    print("  packages fetched for the figure:")
    for p, n in sorted(per_package(fig).items(), key=lambda kv: -kv[1]):
        if n:
            print(f"    {p.rstrip('-'):<18}{n / 1e6:>8.2f} MB")
    print(f"  off-site requests: {sum(len(r.offsite) for rs in runs.values() for r in rs)}")


if __name__ == "__main__":
    main()
