"""Benchmark `%conda install` in a `forge lite --conda` site: time from the cell's start to a
successful import of the installed compiled package, and the bytes the browser fetched for it, in
headless Chromium (fresh profile each run, so nothing is cached), against a print-only first cell.

    python benchmarks/bench_lite_conda.py [--channel DIR] [--repeat N] [--package markupsafe]

The channel must hold the kernel's start-up packages, python-dateutil and the package:
    forge build micropip comm jedi ipython python-dateutil markupsafe
The site is built from an environment file (python, python-dateutil), so the package is neither
preloaded nor in the site's lock: the cell's import can only succeed through `%conda install`.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_lite import bytes_by_url, lite_workspace  # noqa: E402
from forge.lite import build_site  # noqa: E402
from forge.serve import serving  # noqa: E402
from tests.support.browser import BrowserRun, notebook_json, run_notebook  # noqa: E402

CELL = """\
import time as _t; _t0 = _t.perf_counter()
%conda install markupsafe
import markupsafe, markupsafe._speedups
print(f"forge-conda-ms: {(_t.perf_counter() - _t0) * 1000:.0f}", markupsafe._escape_inner is markupsafe._speedups._escape_inner)
"""
BASE_CELL = 'print("forge-base:", 6 * 7)'


def one_run(site: Path, notebook: str, expect: str) -> BrowserRun:
    with serving(site) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path={notebook}", expect, timeout=300)
    if not run.ok or run.offsite:
        raise SystemExit(f"{notebook} failed: {run.error} {run.output!r} offsite={run.offsite} "
                         f"errors={run.page_errors[-3:]}")
    return run


def conda_bytes(run: BrowserRun) -> dict[str, int]:
    """Bytes under static/conda/ by kind (each URL once), and the solver's 404 probes."""
    out = {"solver (rattler.mjs)": 0, "repodata.json": 0, ".conda packages": 0, "404 probes": 0}
    for url, n in bytes_by_url(run).items():
        if "/static/conda/" not in url:
            continue
        if url.endswith("rattler.mjs"):
            out["solver (rattler.mjs)"] += n
        elif url.endswith("/repodata.json"):
            out["repodata.json"] += n
        elif url.endswith(".conda"):
            out[".conda packages"] += n
        else:
            out["404 probes"] += n
    return out


def main() -> None:
    args, channel, work, files = lite_workspace("bench-lite-conda-", repeat=3)
    (files / "conda.ipynb").write_text(json.dumps(notebook_json(CELL)))
    (files / "base.ipynb").write_text(json.dumps(notebook_json(BASE_CELL)))
    env = work / "environment.yml"
    env.write_text("name: bench\ndependencies:\n  - python\n  - python-dateutil\n")
    t = time.perf_counter()
    rep = build_site(channel, work / "site", contents=(files,), environment=env, conda=True)
    c = rep.conda or {}
    print(f"forge lite --conda (site build): {time.perf_counter() - t:.1f} s; site {rep.bytes / 1e6:.1f} MB; "
          f"static/conda: {len(c['packages'])} packages {c['bytes'] / 1e6:.1f} MB + solver {c['solver_bytes'] / 1e6:.2f} MB")

    runs: dict[str, list[BrowserRun]] = {"print only": [], "%conda install": []}
    in_cell: list[float] = []
    for _ in range(args.repeat):
        runs["print only"].append(one_run(work / "site", "base.ipynb", "forge-base: 42"))
        run = one_run(work / "site", "conda.ipynb", "forge-conda-ms:")
        m = re.search(r"forge-conda-ms: (\d+) True", run.output)
        if not m:
            raise SystemExit(f"the C extension did not load: {run.output!r}")
        in_cell.append(float(m.group(1)))
        runs["%conda install"].append(run)
        print("  " + run.output.strip().replace("\n", " | "))

    print(f"\nheadless Chromium, fresh profile, {args.repeat} run(s) each (median, ms):")
    print(f"  {'first cell':<18}{'page load':>10}{'cell run':>10}{'to output':>11}{'MB':>8}")
    for mode, rs in runs.items():
        tm = {k: statistics.median([r.timings[k] for r in rs]) for k in ("load_ms", "first_cell_ms", "total_ms")}
        mb = statistics.median([r.bytes for r in rs]) / 1e6
        print(f"  {mode:<18}{tm['load_ms']:>10.0f}{tm['first_cell_ms']:>10.0f}{tm['total_ms']:>11.0f}{mb:>8.2f}")
    print(f"  in the cell, `%conda install` start -> import of the C extension done: "
          f"{statistics.median(in_cell):.0f} ms median ({', '.join(f'{x:.0f}' for x in in_cell)})")
    cb = conda_bytes(runs["%conda install"][0])
    print(f"\nbytes fetched for the install (first run, each URL once): {sum(cb.values()) / 1e6:.2f} MB")
    for k, n in cb.items():
        print(f"  {k:<24}{n / 1e3:>10.1f} kB")
    print(f"  off-site requests: {sum(len(r.offsite) for rs in runs.values() for r in rs)}")


if __name__ == "__main__":
    main()
