"""Critical-path-first dispatch: run_graph itself, driven on a simulated clock by the
benchmark's simulator (benchmarks/sim_schedule.py), so no build runs and no time passes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from forge.scheduler import Durations, longest_paths

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from sim_schedule import SimExecutor, critical_path, simulate, synthetic  # noqa: E402


def test_longest_remaining_path_is_the_priority() -> None:
    deps = {"a": set(), "b": {"a"}, "c": {"b"}, "x": set(), "y": {"x"}}
    secs = {"a": 1.0, "b": 1.0, "c": 5.0, "x": 3.0, "y": 1.0}
    prio = longest_paths(["a", "x", "b", "y", "c"], deps, secs.__getitem__)
    assert prio == {"a": 7.0, "b": 6.0, "c": 5.0, "x": 4.0, "y": 1.0}


def test_one_worker_starts_the_critical_path_first_and_two_stay_near_the_bound() -> None:
    # x is listed first (the old FIFO order would start it), but a -> b -> c is longer
    deps = {"x": set(), "a": set(), "b": {"a"}, "c": {"b"}}
    secs = {"x": 3.0, "a": 1.0, "b": 1.0, "c": 5.0}
    ex = SimExecutor(1, secs.__getitem__)
    from forge.jobs import BuildJob  # noqa: PLC0415
    from forge.scheduler import run_graph  # noqa: PLC0415

    def prepare(name: str, attempt: int) -> BuildJob:
        return BuildJob(name, "", "", [], [], "sim:", None, [], None, "", "", attempt)

    store = Durations(None)
    store.seconds = secs
    run_graph(["x", "a", "b", "c"], deps, prepare, ex, lambda j, o: None, durations=store, wait_fn=ex.wait,
              background_publish=False)
    assert [name for _, name in ex.starts][:1] == ["a"]

    order, deps, secs = synthetic()
    work, cp = sum(secs.values()), critical_path(order, deps, secs)
    for n in (2, 4):
        assert simulate(order, deps, secs, n, "cp") / max(cp, work / n) <= 1.11


def test_durations_are_kept_in_the_state_dir(tmp_path: Path) -> None:
    store = Durations(tmp_path / "durations.json")
    store.record("a", 2.5)
    store.save()
    other = Durations(tmp_path / "durations.json")
    other.record("b", 1.0)
    other.save()
    assert json.loads((tmp_path / "durations.json").read_text()) == {"a": 2.5, "b": 1.0}
    assert Durations(tmp_path / "durations.json").get("zzz") == 1.0
