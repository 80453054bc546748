"""Benchmark `forge lite`: site build time, JupyterLite first-cell time in headless Chromium
(fresh profile each run, so nothing is cached), and the bytes the site makes the browser download.

    python benchmarks/bench_lite.py [--channel DIR] [--repeat N]

The channel must hold the kernel's start-up packages (forge build micropip comm jedi ipython)
and python-dateutil; the probe cell imports a compiled package instead when the channel has one.
Two kernel start-ups are compared: the kernel's own (piplite installs comm, jedi, ipython, which
micropip finds in the lock) and `--preload` (loadPyodide loads them with the runtime).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forge.config import ForgeConfig  # noqa: E402
from forge.lite import build_site  # noqa: E402
from tests.support.browser import BrowserRun, notebook_json, run_notebook  # noqa: E402
from tests.support.probe import pick_probe  # noqa: E402
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
    args = ap.parse_args()
    channel = ForgeConfig.load(channel_dir=args.channel).channel_dir
    work = Path(tempfile.mkdtemp(prefix=prefix))
    (work / "files").mkdir()
    return args, channel, work, work / "files"


def categorize(run: BrowserRun) -> dict[str, int]:
    """Bytes per kind of file the site serves."""
    by_url = bytes_by_url(run)
    cats = {"pyodide runtime": 0, "channel packages": 0, "kernel extension (wheels + worker)": 0,
            "JupyterLite app": 0}
    for url, n in by_url.items():
        name = url.rsplit("/", 1)[-1]
        if "/static/pyodide/" in url and name.endswith((".whl", ".zip", "all.json", "pyodide-lock.json")) \
                and name != "python_stdlib.zip":
            cats["channel packages"] += n
        elif "/static/pyodide/" in url:
            cats["pyodide runtime"] += n
        elif "pyodide-kernel-extension" in url:
            cats["kernel extension (wheels + worker)"] += n
        else:
            cats["JupyterLite app"] += n
    return cats


def main() -> None:
    args, channel, work, files = lite_workspace("bench-lite-", repeat=3)

    # site build (the view is refreshed first; the first build also converts what changed)
    build_site(channel, work / "warmup", contents=(files,))
    lock = json.loads((channel / "pyodide" / "pyodide-lock.json").read_text())
    probe = pick_probe(lock)
    (files / "check.ipynb").write_text(json.dumps(notebook_json(probe.code)))
    builds, reports = [], {}
    for i in range(args.repeat):
        t = time.perf_counter()
        reports["default"] = build_site(channel, work / "site", contents=(files,))
        builds.append(time.perf_counter() - t)
    reports["preload"] = build_site(channel, work / "site-preload", contents=(files,), preload=CHANNEL_STARTUP)
    rep = reports["default"]
    print(f"forge lite (site build, {len(rep.lock_packages)} channel packages, {args.repeat} runs): "
          f"median {med(builds):.2f} s (jupyter lite build {rep.build_seconds:.2f} s); "
          f"site {rep.bytes / 1e6:.1f} MB in {rep.files} files, of which static/pyodide {rep.pyodide_bytes / 1e6:.1f} MB")

    print(f"probe cell imports {probe.package} ({'compiled' if probe.compiled else 'noarch'}): "
          f"expects {probe.expect!r}")
    results: dict[str, list[BrowserRun]] = {"default": [], "preload": []}
    for i in range(args.repeat):
        for mode, site in (("default", work / "site"), ("preload", work / "site-preload")):
            with serving(site) as base:
                run = run_notebook(f"{base}/notebooks/index.html?path=check.ipynb", probe.expect, timeout=300)
            if not run.ok or run.offsite:
                raise SystemExit(f"{mode} run failed: {run.error} {run.output!r} offsite={run.offsite}")
            results[mode].append(run)

    print(f"\nJupyterLite in headless Chromium, fresh profile, {args.repeat} runs each (median, ms):")
    print(f"  {'kernel start-up':<22}{'page load':>10}{'notebook':>10}{'first cell':>12}{'total':>10}")
    for mode, runs in results.items():
        t = {k: med([r.timings[k] for r in runs]) for k in ("load_ms", "notebook_ms", "first_cell_ms", "total_ms")}
        print(f"  {mode:<22}{t['load_ms']:>10.0f}{t['notebook_ms']:>10.0f}{t['first_cell_ms']:>12.0f}{t['total_ms']:>10.0f}")
    d = med([r.timings["first_cell_ms"] for r in results["default"]])
    p = med([r.timings["first_cell_ms"] for r in results["preload"]])
    print(f"  first cell, preload / default: {p / d:.2f}x")

    run = results["default"][0]
    cats = categorize(run)
    total = sum(cats.values())
    print(f"\nbytes downloaded by the site (first run, default start-up): {total / 1e6:.2f} MB in "
          f"{len({r['url'].split('?')[0] for r in run.requests})} distinct URLs, "
          f"{total / rep.bytes:.2f}x of the site on disk")
    for k, v in cats.items():
        print(f"  {k:<38}{v / 1e6:>8.2f} MB  {v / total:>5.1%}")
    print(f"  off-site requests: {sum(len(r.offsite) for rs in results.values() for r in rs)}")


if __name__ == "__main__":
    main()
