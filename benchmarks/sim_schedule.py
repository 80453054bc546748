"""Replay a recipe graph on N simulated workers with the real scheduler (prints numbers).

    python benchmarks/sim_schedule.py [--logs <state>/logs ...] [--durations <state>/durations.json] [--overhead 0.0]

The loop under test is forge.scheduler.run_graph itself: a simulated executor starts each
submitted build on a free simulated worker and its `wait` advances a simulated clock to the
next finishing build, so the dispatch policy (longest remaining path first, at most
`slots` in flight) is exactly what `forge build` runs. For each graph and N = 1, 2, 4, 16,
64 workers it prints makespan / max(critical path, work / N), the lower bound no schedule
can beat, for three policies:
  cp      longest remaining path first, durations known (what a run with history does);
  count   longest remaining path with every duration 1 (a first run without history);
  fifo    topological order, no priorities (the scheduler before critical-path dispatch).
Graphs: the 40-recipe synthetic graph of bench_farm.py (work 27.95 s, critical path 7.75 s)
and the real recipe graph (all recipes in recipes/), with durations from real build logs
(`--logs`: a log is named when its build starts and last written when it ends) and/or the
durations.json `forge build` keeps in its state dir (`--durations`); recipes without a
measurement count 1 s and the output says how many were measured.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import sys
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from forge.jobs import BuildJob, BuildOutcome  # noqa: E402
from forge.scheduler import Durations, run_graph  # noqa: E402

WORKERS = (1, 2, 4, 16, 64)


class SimExecutor:
    """N simulated workers: a submitted build runs for its duration (+ overhead) of simulated time."""

    def __init__(self, n: int, seconds: Callable[[str], float], overhead: float = 0.0) -> None:
        self.slots = n
        self.seconds, self.overhead = seconds, overhead
        self.now = 0.0
        self._events: list[tuple[float, int, Future, str]] = []
        self._seq = itertools.count()
        self.starts: list[tuple[float, str]] = []

    def submit(self, job: BuildJob) -> "Future[BuildOutcome]":
        if len(self._events) >= self.slots:
            raise RuntimeError("the scheduler submitted more builds than it has slots")
        fut: Future[BuildOutcome] = Future()
        secs = self.seconds(job.recipe)
        self.starts.append((self.now, job.recipe))
        heapq.heappush(self._events, (self.now + secs + self.overhead, next(self._seq), fut, job.recipe))
        fut.sim_seconds = secs  # type: ignore[attr-defined]
        return fut

    def wait(self, fs: list[Future], timeout: float | None = None, return_when: str = "") -> tuple[set, set]:
        """Advance the clock to the next finishing build(s) and complete them."""
        finish, _, fut, name = heapq.heappop(self._events)
        self.now = finish
        done = {fut}
        fut.set_result(BuildOutcome(recipe=name, ok=True, seconds=fut.sim_seconds))  # type: ignore[attr-defined]
        while self._events and self._events[0][0] <= finish:
            _, _, f, n = heapq.heappop(self._events)
            f.set_result(BuildOutcome(recipe=n, ok=True, seconds=f.sim_seconds))  # type: ignore[attr-defined]
            done.add(f)
        return done, {f for f in fs if f not in done}

    def shutdown(self) -> None:
        pass


class _Flat(Durations):
    """Every recipe the same priority weight (`value`): 1 = count the path, 0 = no priorities."""

    def __init__(self, value: float) -> None:
        super().__init__(None)
        self.value = value

    def get(self, name: str, default: float = 1.0) -> float:
        return self.value


def simulate(order: list[str], deps: dict[str, set[str]], seconds: dict[str, float], n: int, policy: str,
             overhead: float = 0.0) -> float:
    """The makespan of run_graph on n simulated workers under `policy` (cp, count, fifo)."""
    known = Durations(None)
    known.seconds = dict(seconds)
    store = {"cp": known, "count": _Flat(1.0), "fifo": _Flat(0.0)}[policy]
    ex = SimExecutor(n, lambda r: seconds[r], overhead)

    def prepare(name: str, attempt: int) -> BuildJob:
        return BuildJob(recipe=name, recipe_dir="", recipe_file="", platforms=[], outputs=[],
                        channel_url="sim:", variant_file=None, sources=[], wheelhouse=None, work_dir="",
                        log_path="", attempt=attempt)

    results = run_graph(order, deps, prepare, ex, lambda job, outcome: None, durations=store, wait_fn=ex.wait,
                        background_publish=False)
    assert all(r.status == "built" for r in results.values()) and len(results) == len(order)
    return ex.now


def critical_path(order: list[str], deps: dict[str, set[str]], seconds: dict[str, float]) -> float:
    finish: dict[str, float] = {}
    for n in order:
        finish[n] = seconds[n] + max((finish[d] for d in deps[n]), default=0.0)
    return max(finish.values())


def synthetic() -> tuple[list[str], dict[str, set[str]], dict[str, float]]:
    """bench_farm.py's graph: a 6-long spine and 34 satellites."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_farm import graph  # noqa: PLC0415

    g = graph(1.0)
    deps = {n: set(d) for n, (_, d) in g.items()}
    order, seen = [], set()
    while len(order) < len(g):
        for n in sorted(g):
            if n not in seen and deps[n] <= seen:
                order.append(n)
                seen.add(n)
    return order, deps, {n: s for n, (s, _) in g.items()}


def from_logs(log_dirs: list[Path]) -> dict[str, float]:
    """Build durations from real build logs: `<logs>/<recipe>/<YYYYmmdd-HHMMSS>-<n>.log` is named
    when the build starts and last written when it ends (successful builds only: '== OK')."""
    import datetime  # noqa: PLC0415

    out: dict[str, tuple[float, float]] = {}  # recipe -> (start, seconds) of its newest good build
    for logs in log_dirs:
        for log in logs.glob("*/*-*.log"):
            try:
                stamp = datetime.datetime.strptime(log.name.rsplit("-", 1)[0], "%Y%m%d-%H%M%S").timestamp()
                text = log.read_text(errors="replace")
            except (ValueError, OSError):
                continue
            if "== OK" not in text:
                continue
            secs = max(0.1, log.stat().st_mtime - stamp)
            if log.parent.name not in out or out[log.parent.name][0] < stamp:
                out[log.parent.name] = (stamp, secs)
    return {k: v[1] for k, v in out.items()}


def real(durations: Path | None, log_dirs: list[Path], targets: list[str] | None = None,
         ) -> tuple[list[str], dict[str, set[str]], dict[str, float], int]:
    """The recipes `targets` need (default: all in recipes/), rendered by the forge; durations
    from build logs and/or a durations.json."""
    from forge.config import ForgeConfig  # noqa: PLC0415
    from forge.recipes import discover  # noqa: PLC0415
    from forge.workspace import Workspace  # noqa: PLC0415

    cfg = ForgeConfig.load()
    g = Workspace(cfg).graph(targets or sorted(discover(cfg.recipes_dir)))
    order = g.order()
    measured = from_logs(log_dirs)
    if durations and durations.is_file():
        measured.update(json.loads(durations.read_text()))
    seconds = {n: float(measured.get(n, 1.0)) for n in order}
    return order, {n: set(g.deps.get(n, ())) for n in order}, seconds, sum(n in measured for n in order)


def report(title: str, order: list[str], deps: dict[str, set[str]], seconds: dict[str, float],
           overhead: float) -> dict[tuple[str, int], float]:
    work, cp = sum(seconds.values()), critical_path(order, deps, seconds)
    print(f"\n{title}: {len(order)} recipes, work {work:.2f} s, critical path {cp:.2f} s, overhead {overhead} s/build")
    print(f"{'N':>4} {'bound':>9} " + " ".join(f"{p + ' makespan':>15} {'ratio':>6}" for p in ("cp", "count", "fifo")))
    ratios = {}
    for n in WORKERS:
        bound = max(cp, work / n)
        row = f"{n:>4} {bound:>8.2f}s "
        for policy in ("cp", "count", "fifo"):
            ms = simulate(order, deps, seconds, n, policy, overhead)
            ratios[(policy, n)] = ms / bound
            row += f"{ms:>14.2f}s {ms / bound:>6.3f} "
        print(row)
    return ratios


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--durations", type=Path, help="a durations.json from a forge state dir")
    ap.add_argument("--logs", type=Path, action="append", default=[],
                    help="a forge state's logs dir (<state>/logs); repeatable, newest build per recipe wins")
    ap.add_argument("--target", action="append", default=[],
                    help="replay only what this recipe needs (repeatable; default: every recipe)")
    ap.add_argument("--overhead", type=float, default=0.0, help="simulated per-build dispatch overhead (s)")
    args = ap.parse_args()
    report("synthetic graph (bench_farm.py)", *synthetic(), args.overhead)
    order, deps, seconds, measured = real(args.durations, args.logs, args.target)
    what = f"{', '.join(args.target)} and what it needs" if args.target else "real recipe graph"
    report(f"{what} ({measured} of {len(order)} durations measured, the rest 1 s)",
           order, deps, seconds, args.overhead)


if __name__ == "__main__":
    main()
