"""Building: only what the channel lacks is built; builds run in parallel; a failure stops
only its dependents, independent branches still build and publish, and the CLI exits non-zero
with the failure as one sentence."""

from __future__ import annotations

from pathlib import Path

from tests.support.testlib import forge_repo_config, assert_consistent, forge_cli, generic_recipe, make_repo, snapshot

from forge import api

from tests.conftest import Built


def test_pytest_graph_builds_and_publishes(built_pytest: Built) -> None:
    report = built_pytest.report
    assert report.by_status("built") == sorted(
        ["iniconfig", "packaging", "pluggy", "pygments", "pyodide-abi", "pytest", "python"])
    records = assert_consistent(built_pytest.channel)
    names = {rec["name"] for rec in records.values()}
    assert names == {"iniconfig", "packaging", "pluggy", "pygments", "pyodide-abi", "pytest", "python"}
    # every package runs (and was tested) on the target: nothing machine-specific is published
    assert {rel.split("/")[0] for rel in records} == {"noarch", "emscripten-wasm32"}
    for r in report.results.values():
        assert r.log and Path(r.log).is_file()


def test_second_build_builds_nothing(built_pytest: Built) -> None:
    before = snapshot(built_pytest.channel)
    report = api.build(["pytest"], built_pytest.config)
    assert report.results == {} and report.plan.to_build == [] and report.ok
    assert set(report.plan.order) >= {"pytest", "iniconfig"}
    assert snapshot(built_pytest.channel) == before, "a no-op build must not touch the channel"


def test_only_missing_recipes_are_built(tmp_path: Path) -> None:
    """With `a` published, building `b` (which needs `a`) builds only `b`; then nothing."""
    cfg = make_repo(tmp_path, {"a": generic_recipe("a"), "b": generic_recipe("b", run=["a"])})
    first = api.build(["a"], cfg, jobs=2)
    assert first.by_status("built") == ["a"]
    a_pkg = next((cfg.channel_dir / "noarch").glob("a-1.0-*.conda"))
    inode = a_pkg.stat().st_ino
    second = api.build(["b"], cfg, jobs=2)
    assert second.plan.order == ["a", "b"] and second.plan.to_build == ["b"]
    assert second.by_status("built") == ["b"]
    assert a_pkg.stat().st_ino == inode, "a published package is never rebuilt or rewritten"
    third = api.build(["b"], cfg, jobs=2)
    assert third.results == {}
    assert {rec["name"] for rec in assert_consistent(cfg.channel_dir).values()} == {"a", "b"}


def _stamped(name: str, seconds: float, run: list[str] | None = None) -> str:
    """A recipe whose script says in its build log when it started and ended (a sandboxed
    script writes nowhere but its own build)."""
    return generic_recipe(name, run=run, script=[
        f"echo STAMP {name}.start $(date +%s.%N)",
        f"sleep {seconds}",
        f"echo {name} > $PREFIX/{name}.txt",
        f"echo STAMP {name}.end $(date +%s.%N)",
    ])


def _stamps(logs: Path) -> dict[str, float]:
    """STAMP lines of every build log under `logs`."""
    out: dict[str, float] = {}
    for log in logs.rglob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "STAMP":
                out[parts[1]] = float(parts[2])
    return out


def test_failure_isolation_and_parallelism_via_cli(tmp_path: Path) -> None:
    """left and right are independent (and overlap with --jobs 2); broken fails; after-broken
    needs broken and is skipped; top needs left and right and is built. Exit status 1."""
    make_repo(tmp_path, {
        "left": _stamped("left", 2),
        "right": _stamped("right", 2),
        "broken": generic_recipe("broken", script=[
            "echo about to fail", "echo 'error: isolation-marker went wrong' >&2", "exit 7"]),
        "after-broken": generic_recipe("after-broken", run=["broken"]),
        "top": generic_recipe("top", run=["left", "right"]),
    })
    channel = tmp_path / "channel"
    proc = forge_cli("build", "top", "after-broken", "--jobs", "2", "--channel", str(channel),
                     "--recipes", str(tmp_path / "recipes"), root=tmp_path)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert "Traceback" not in text
    # the failure, as one sentence: recipe, file, the script's error line, the log
    (sentence,) = {ln.split("✘ broken ", 1)[1] for ln in text.splitlines() if "✘ broken " in ln}
    assert sentence.startswith("recipe 'broken' (recipes/broken/recipe.yaml): the build failed:")
    assert "error: isolation-marker went wrong" in sentence
    log = sentence.split("see the log ", 1)[1].split(" ", 1)[0]
    assert Path(log).is_file() and "isolation-marker" in Path(log).read_text()
    assert "after-broken" in text and "needs 'broken', which failed" in text
    assert "failed: broken; skipped: after-broken" in text
    # the independent branch was built and published; nothing of the failed one was
    names = {rec["name"] for rec in assert_consistent(channel).values()}
    assert names == {"left", "right", "top"}
    # left and right ran at the same time
    stamps = _stamps(tmp_path / "state" / "logs")
    (ls, le), (rs, re_) = [(stamps[f"{n}.start"], stamps[f"{n}.end"]) for n in ("left", "right")]
    overlap = min(le, re_) - max(ls, rs)
    assert overlap > 1.0, f"left [{ls:.2f}, {le:.2f}] and right [{rs:.2f}, {re_:.2f}] did not overlap"


def test_failure_isolation_api(tmp_path: Path) -> None:
    """The same through the library: statuses per recipe, and a retry after fixing builds
    only what is still missing."""
    cfg = make_repo(tmp_path, {
        "ok": generic_recipe("ok"),
        "bad": generic_recipe("bad", script=["exit 1"]),
        "mid": generic_recipe("mid", run=["bad"]),
        "leaf": generic_recipe("leaf", run=["mid"]),
    })
    report = api.build(["ok", "leaf"], cfg, jobs=2)
    assert not report.ok
    assert report.by_status("built") == ["ok"]
    assert report.by_status("failed") == ["bad"]
    assert report.by_status("skipped") == ["leaf", "mid"]
    (cfg.recipes_dir / "bad" / "recipe.yaml").write_text(generic_recipe("bad"))
    again = api.build(["ok", "leaf"], cfg, jobs=2)
    assert again.ok and again.by_status("built") == ["bad", "leaf", "mid"]


#: rattler-build stamps these per build (the build time, the channels it solved from, the
#: rendered recipe with its work paths); everything else must be the same bytes.
PER_BUILD = {"info/index.json", "info/about.json"}


def _payload(pkg: Path, dest: Path) -> dict[str, bytes]:
    from rattler.package_streaming import extract  # noqa: PLC0415

    extract(pkg, dest)
    return {str(p.relative_to(dest)): p.read_bytes() for p in sorted(dest.rglob("*")) if p.is_file()
            and str(p.relative_to(dest)) not in PER_BUILD and not str(p.relative_to(dest)).startswith("info/recipe/")}


def test_a_recipe_builds_to_the_same_bytes_in_two_work_dirs(built_pytest: Built, tmp_path: Path) -> None:
    """Two workers' trees (different state and work dirs) give byte-identical package files:
    no work path in RECORD, no direct_url.json naming the build machine (pypa installer)."""
    import shutil  # noqa: PLC0415

    from forge.channel import Channel  # noqa: PLC0415

    payloads = []
    for worker in ("worker-a", "worker-b"):
        ch = tmp_path / worker / "channel"
        shutil.copytree(built_pytest.channel, ch)
        for old in (ch / "noarch").glob("iniconfig-*.conda"):
            old.unlink()
        Channel(ch).reindex()
        cfg = forge_repo_config(ch, tmp_path / worker / "st")
        report = api.build(["iniconfig"], cfg, jobs=1, view=False)
        assert report.by_status("built") == ["iniconfig"], report.results
        (pkg,) = (ch / "noarch").glob("iniconfig-*.conda")
        payloads.append(_payload(pkg, tmp_path / worker / "x"))
    a, b = payloads
    assert a.keys() == b.keys() and any(k.endswith("dist-info/RECORD") for k in a)
    assert not any(k.endswith("direct_url.json") for k in a)
    assert [k for k in a if a[k] != b[k]] == []
    assert not any(str(tmp_path).encode() in v for v in a.values()), "a work path leaked into the package"
