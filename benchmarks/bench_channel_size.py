"""What users download: the channel's bytes, the test files packed into them, and each package's
`.conda` against its wheel (or shared-library zip) in the Pyodide view (issue 21).

    python benchmarks/bench_channel_size.py --channel DIR [--top N]

Reads a built channel (e.g. `bench_all_recipes.py --keep DIR` leaves DIR/channel) through
`forge.report.collect`, refreshing its Pyodide view first so every ratio has a wheel. Prints the
totals, the test payload in runtime packages and in `-tests` outputs, and the packages whose
`.conda` / wheel ratio is highest, with the ratio without conda's metadata and the verdict
(forge.report: ok, metadata, explained by the recipe's size-note, over). Targets: every recipe in
at most 60 MB of `.conda`, no runtime package above 1.15x its wheel without a reason, no runtime
package carrying test files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from forge import testpayload  # noqa: E402
from forge.report import collect  # noqa: E402

TARGET_BYTES = 60_000_000
TARGET_RATIO = 1.15


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channel", type=Path, required=True)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--no-view", action="store_true", help="do not refresh the Pyodide view first")
    ns = ap.parse_args()
    if not ns.no_view:
        from forge.pyodide_view import publish_view  # noqa: PLC0415

        publish_view(ns.channel)
    rows = collect(ns.channel).packages
    runtime = [r for r in rows if not testpayload.is_tests_output(r.name)]
    tests = [r for r in rows if testpayload.is_tests_output(r.name)]
    total = sum(r.size for r in rows)
    mb = lambda n: f"{n / 1e6:.1f} MB"  # noqa: E731
    print(f"packages: {len(rows)} ({len(runtime)} runtime, {len(tests)} -tests outputs); .conda total {mb(total)} "
          f"(runtime {mb(sum(r.size for r in runtime))}, -tests {mb(sum(r.size for r in tests))})")
    print(f"test files unpacked: in runtime packages {mb(sum(r.test_payload for r in runtime))}, "
          f"in -tests outputs {mb(sum(r.test_payload for r in tests))}")
    over_limit = [r for r in runtime if r.test_payload > testpayload.limit()]
    print(f"runtime packages over the {testpayload.human(testpayload.limit())} test-file limit: {len(over_limit)}"
          + (f" ({', '.join(r.name for r in over_limit)})" if over_limit else ""))
    with_wheel = [r for r in runtime if r.ratio is not None]
    over = sorted((r for r in with_wheel if r.ratio > TARGET_RATIO), key=lambda r: -(r.ratio or 0))
    verdicts = {v: [r.name for r in with_wheel if r.size_verdict == v] for v in ("ok", "metadata", "explained", "over")}
    print(f".conda / view wheel: {len(with_wheel)} packages with a wheel; {len(over)} above {TARGET_RATIO}; "
          f"sum .conda {mb(sum(r.size for r in with_wheel))} against sum wheels {mb(sum(r.view_size or 0 for r in with_wheel))}")
    print(f"  above it only by conda's metadata (info/: recipe, file list): {len(verdicts['metadata'])}; "
          f"with the recipe's reason (extra: size-note): {len(verdicts['explained'])} ({', '.join(verdicts['explained'])}); "
          f"over with no reason: {len(verdicts['over'])} ({', '.join(verdicts['over'])})")
    print(f"{'package':28s} {'.conda':>10s} {'wheel':>10s} {'ratio':>6s} {'no-meta':>8s} {'test files':>11s}  verdict")
    for r in sorted(with_wheel, key=lambda r: -(r.ratio or 0))[:ns.top]:
        print(f"{r.name:28s} {testpayload.human(r.size):>10s} {testpayload.human(r.view_size or 0):>10s} "
              f"{r.ratio:>6.2f} {r.payload_ratio or 0:>8.2f} {testpayload.human(r.test_payload):>11s}  {r.size_verdict}")
    own = sorted((r for r in runtime if r.own_tests), key=lambda r: -r.own_tests)
    print(f"own tests/ folders under site-packages in runtime packages: {len(own)} packages, "
          f"{mb(sum(r.own_tests for r in own))} unpacked" + (": " + ", ".join(
              f"{r.name} {testpayload.human(r.own_tests)}" for r in own[:10]) if own else ""))
    print(f".pyc files shipped: {sum(r.pyc_files for r in rows)}")
    print("largest .conda: " + ", ".join(f"{r.name} {mb(r.size)}" for r in sorted(rows, key=lambda r: -r.size)[:8]))
    print(f"targets: total <= {mb(TARGET_BYTES)}: {'yes' if total <= TARGET_BYTES else 'no'}; "
          f"no runtime ratio above {TARGET_RATIO}: {'yes' if not over else 'no'}; "
          f"none above it without a reason: {'yes' if not verdicts['over'] else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
