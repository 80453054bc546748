"""Benchmark the build farm against the embedded executor (prints numbers, asserts nothing).

    python benchmarks/bench_farm.py [--scale 1.0]

A synthetic graph of 40 noarch: generic recipes with fixed sleep durations and a known
critical path is built four times into fresh channels:
  local -j1, local -j2 (LocalExecutor), farm with 1 worker, farm with 2 workers (CeleryExecutor
  over a private loopback redis-server and real `celery -A workers.app worker` processes).
For each: makespan, lower bound = max(critical path, total work / slots), makespan / bound.
Then: speedup of 2 workers over 1, and per-task overhead = (serial makespan - work) / tasks
for local -j1 and farm-1 (their difference is what the farm adds per build), and, on an idle
farm, a chain of 10 empty builds: submit -> worker start latency and round trip minus build
time. Both keep warm build processes (the embedded pool; one `forge.executors.warm` process
per worker slot), so the farm's per-build overhead is the transfer and the round trip through
Redis. Numbers are noisy when the machine is shared.
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
from forge.executors.local import LocalExecutor  # noqa: E402
from tests.support.farm import RedisServer, Workers  # noqa: E402


def graph(scale: float) -> dict[str, tuple[float, tuple[str, ...]]]:
    """name -> (seconds, deps): a 6-long spine plus 34 satellites hanging off it and each other."""
    g: dict[str, tuple[float, tuple[str, ...]]] = {}
    for i in range(6):
        g[f"c{i}"] = (round(1.2 * scale, 3), (f"c{i - 1}",) if i else ())
    for i in range(34):
        deps = [f"c{i % 5}"] + ([f"w{i - 17}"] if i >= 17 else [])
        g[f"w{i}"] = (round((0.25 + 0.25 * (i % 4)) * scale, 3), tuple(deps))
    return g


def critical_path(g: dict[str, tuple[float, tuple[str, ...]]]) -> float:
    memo: dict[str, float] = {}

    def finish(n: str) -> float:
        if n not in memo:
            memo[n] = g[n][0] + max((finish(d) for d in g[n][1]), default=0.0)
        return memo[n]

    return max(finish(n) for n in g)


def write_recipes(root: Path, g: dict[str, tuple[float, tuple[str, ...]]]) -> None:
    for name, (secs, deps) in g.items():
        d = root / "recipes" / name
        d.mkdir(parents=True, exist_ok=True)
        lines = ["package:", f"  name: {name}", '  version: "1.0"', "build:", "  number: 0", "  noarch: generic",
                 "  script:", f"    - sleep {secs}", "    - mkdir -p $PREFIX/share/bench",
                 f"    - echo {name} > $PREFIX/share/bench/{name}.txt"]
        if deps:
            lines += ["requirements:", "  host:"] + [f"    - {x}" for x in deps]
        (d / "recipe.yaml").write_text("\n".join(lines) + "\n")


class Timed:
    """Wraps an executor to time each build from submit to outcome (coordinator's view)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.times: dict[str, tuple[float, float]] = {}  # recipe -> (round trip, build seconds)
        self.first_submit: float | None = None  # perf_counter of the first submit (planning ends)

    @property
    def slots(self) -> int:
        return self.inner.slots  # type: ignore[attr-defined]  (a farm's changes as workers come and go)

    def submit(self, job):  # noqa: ANN001, ANN201
        t0 = time.perf_counter()
        if self.first_submit is None:
            self.first_submit = t0
        fut = self.inner.submit(job)  # type: ignore[attr-defined]

        def done(f, name=job.recipe) -> None:  # noqa: ANN001
            if not f.cancelled() and f.exception() is None:
                self.times[name] = (time.perf_counter() - t0, f.result().seconds)

        fut.add_done_callback(done)
        return fut

    def shutdown(self) -> None:
        self.inner.shutdown()  # type: ignore[attr-defined]


def chain(root: Path, n: int = 10) -> list[str]:
    """n zero-sleep recipes in a line: builds run one at a time on an idle farm."""
    g = {f"z{i}": (0.0, (f"z{i - 1}",) if i else ()) for i in range(n)}
    write_recipes(root, g)
    return [f"z{n - 1}"]


def phases(state: Path, g: dict[str, tuple[float, tuple[str, ...]]]) -> dict[str, list[float]]:
    """Each build's `== phase NAME SECONDS` lines (forge.builder) from a run's logs; `build`
    less the recipe's sleep is what rattler-build itself costs a build."""
    out: dict[str, list[float]] = {}
    for log in (state / "logs").glob("*/*.log"):
        if log.name == "latest.log" or log.parent.name not in g:
            continue
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("== phase "):
                _, _, name, secs = line.split()
                value = float(secs) - (g[log.parent.name][0] if name == "build" else 0.0)
                out.setdefault(name, []).append(value)
    return out


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")


def config(root: Path, label: str) -> ForgeConfig:
    return ForgeConfig.load(root=root, recipes_dir=root / "recipes", channel_dir=root / f"channel-{label}",
                            state_dir=root / f"state-{label}")


PLAN: dict[str, float] = {}  # label -> seconds from the start of the run to its first build


def run(cfg: ForgeConfig, executor: object, targets: list[str], label: str = "") -> float:
    timed = executor if isinstance(executor, Timed) else Timed(executor)
    t = time.perf_counter()
    report = api.build(targets, cfg, executor=timed)  # type: ignore[arg-type]
    took = time.perf_counter() - t
    if label and timed.first_submit is not None:
        PLAN[label] = timed.first_submit - t
    if not report.ok:
        print("   FAILED:", {n: r.error for n, r in report.results.items() if r.status != "built"})
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every build's sleep")
    args = ap.parse_args()
    g = graph(args.scale)
    work = sum(s for s, _ in g.values())
    cp = critical_path(g)
    targets = sorted(g)
    print(f"graph: {len(g)} recipes, total work {work:.2f}s, critical path {cp:.2f}s, cpus {os.cpu_count()}")
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-farm-") as tmp:
        root = Path(tmp)
        write_recipes(root, g)
        for jobs in (1, 2):
            ex = LocalExecutor(jobs)
            try:
                results[f"local -j{jobs}"] = (run(config(root, f"local{jobs}"), ex, targets, f"local -j{jobs}"),
                                              max(cp, work / jobs))
            finally:
                ex.shutdown()
        ph = phases(root / "state-local1", g)
        from workers.executor import CeleryExecutor  # noqa: PLC0415

        server = RedisServer(root / "redis")
        server.start()
        pool = Workers(root / "workers", server.url, {})
        try:
            for n in (1, 2):
                for i in range(1, n + 1):
                    if f"b{i}" not in pool.procs:
                        pool.start(f"b{i}")
                cfg = config(root, f"farm{n}")
                with CeleryExecutor(server.url, cfg) as ex:
                    label = f"farm {n} worker{'s' if n > 1 else ''}"
                    results[label] = (run(cfg, ex, targets, label), max(cp, work / n))
            # latency on an idle farm: a chain of empty builds, one at a time
            pool.stop_all()
            pool.procs.clear()
            pool.start("b1")
            ztargets = chain(root)
            lat: dict[str, dict[str, tuple[float, float]]] = {}
            for label in ("local", "farm"):
                cfg = config(root, f"chain-{label}")
                inner = LocalExecutor(1) if label == "local" else CeleryExecutor(server.url, cfg)
                timed = Timed(inner)
                try:
                    run(cfg, timed, ztargets)
                finally:
                    inner.shutdown()
                lat[label] = timed.times
            from workers.registry import Registry  # noqa: PLC0415

            recs = [r for r in Registry(server.client()).recent(200) if r.get("recipe", "").startswith("z")]
            pickup = [float(r["started"]) - float(r["submitted"]) for r in recs if r.get("started")]
        finally:
            pool.stop_all()
            server.stop()
    print(f"\n{'executor':16s} {'makespan':>9s} {'bound':>7s} {'ratio':>6s} {'plan':>6s}")
    for label, (span, bound) in results.items():
        print(f"{label:16s} {span:8.2f}s {bound:6.2f}s {span / bound:6.2f} {PLAN.get(label, float('nan')):5.2f}s")
    f1, f2 = results["farm 1 worker"][0], results["farm 2 workers"][0]
    l1, l2 = results["local -j1"][0], results["local -j2"][0]
    print(f"\nspeedup farm 2 vs 1 workers: {f1 / f2:.2f}x   (local -j2 vs -j1: {l1 / l2:.2f}x)")
    per_local = (l1 - work) / len(g) * 1000
    per_farm = (f1 - work) / len(g) * 1000
    print(f"per-task overhead, serial 40-graph: local {per_local:.0f} ms, farm {per_farm:.0f} ms "
          f"-> farm adds {per_farm - per_local:.0f} ms per build")
    per_build = (l1 - work) / len(g)
    inside = sum(median(v) for v in ph.values())
    print("where a build's overhead goes (local -j1, medians per build): "
          + ", ".join(f"{k} {median(v) * 1000:.0f} ms" for k, v in sorted(ph.items()))
          + f" (build = rattler-build beyond the script's sleep); outside the build process (dispatch, "
            f"publish + index, log, scheduling; plus the view refresh once per run): {(per_build - inside) * 1000:.0f} ms")
    floors(g, inside, PLAN.get("local -j2", 0.0))
    rt_local = median([a - b for a, b in lat["local"].values()]) * 1000
    rt_farm = median([a - b for a, b in lat["farm"].values()]) * 1000
    print(f"idle-farm chain of {len(lat['farm'])} empty builds (medians): submit -> worker starts "
          f"{median(pickup) * 1000:.0f} ms; round trip minus build time: local {rt_local:.0f} ms, "
          f"farm {rt_farm:.0f} ms -> dispatch overhead {rt_farm - rt_local:.0f} ms per build")


def floors(g: dict[str, tuple[float, tuple[str, ...]]], inside: float, plan: float) -> None:
    """What no dispatch tuning can remove: the graph's own idle time (the same scheduler on a
    simulated clock with free builds), then with the build process's measured cost per build
    (rattler-build packaging + checks), then with the run's planning added."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from sim_schedule import simulate  # noqa: PLC0415

    order = list(g)
    deps = {n: set(d) for n, (_, d) in g.items()}
    secs = {n: s for n, (s, _) in g.items()}
    work, cp = sum(secs.values()), critical_path(g)
    line = []
    for n in (1, 2):
        bound = max(cp, work / n)
        free = simulate(order, deps, secs, n, "cp") / bound
        built = simulate(order, deps, secs, n, "cp", overhead=inside) / bound
        line.append(f"{n} slot{'s' if n > 1 else ''}: graph alone {free:.3f}, + build process {inside * 1000:.0f} ms/build "
                    f"{built:.3f}, + planning {plan:.2f} s {built + plan / bound:.3f}")
    print("floors on this graph (same scheduler, simulated clock): " + "; ".join(line))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # py-rattler may crash at interpreter exit after its work is done
