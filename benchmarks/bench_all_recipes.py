"""The full build of every recipe from an empty channel (issue 11's breadth benchmark).

    python benchmarks/bench_all_recipes.py [-j 2] [--keep DIR]

Builds every folder under recipes/ with `forge.api.build` into a temp channel with its own
empty state and download cache (only the build root is reused), then prints: recipes built /
failed / skipped, the wall time, the sum of per-recipe build times (what a farm divides), the
ratio wall / (sum / jobs), and the ten longest recipes. CI builds only the core set plus what a
change touches (`forge changed --core`); this is the run that proves the rest.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from forge import api  # noqa: E402
from forge.config import ForgeConfig  # noqa: E402
from forge.recipes import recipe_folders  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", type=Path, help="build into DIR (kept) instead of a temp dir")
    ap.add_argument("names", nargs="*", help="only these recipes (default: every recipe)")
    ns = ap.parse_args()
    names = ns.names or sorted(recipe_folders(REPO / "recipes"))
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        root = ns.keep or Path(tmp)
        os.environ["FORGE_CACHE"] = str(root / "cache")  # empty: every sdist, wheel set, tarball fetched
        cfg = ForgeConfig.load(root=REPO, channel_dir=root / "channel", state_dir=root / "state")
        t0 = time.monotonic()
        report = api.build(names, cfg, jobs=ns.jobs)
        wall = time.monotonic() - t0
    results = report.results.values()
    built = [r for r in results if r.status == "built"]
    work = sum(r.seconds for r in built)
    print(f"recipes: {len(names)}  built {len(built)}  failed {len(report.by_status('failed'))}  "
          f"skipped {len(report.by_status('skipped'))}  (jobs {ns.jobs})")
    for name in report.by_status("failed"):
        print(f"  failed {name}: {(report.results[name].error or '')[:300]}")
    deps = report.plan.deps
    secs = {r.name: r.seconds for r in built}
    finish: dict[str, float] = {}
    for name in report.plan.order:  # topological: dependencies first
        if name in secs:
            finish[name] = secs[name] + max((finish.get(d, 0.0) for d in deps.get(name, ())), default=0.0)
    cp = max(finish.values(), default=0.0)
    bound = max(cp, work / ns.jobs)
    print(f"wall {wall:.1f} s; sum of per-recipe build times {work:.1f} s; critical path {cp:.1f} s; "
          f"wall / max(critical path, sum / jobs) = {wall / bound:.2f}" if work else f"wall {wall:.1f} s")
    print("longest:", ", ".join(f"{r.name} {r.seconds:.0f}s" for r in sorted(built, key=lambda r: -r.seconds)[:10]))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
