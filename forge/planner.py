"""From targets to build jobs: what is missing from the channel, and the fetch phase."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ForgeError
from .graph import NOARCH_TEST_PLATFORM, Graph
from .jobs import BuildJob
from .recipes import Recipe, refuse_unverified_sources
from .crates import fetch_crates
from .buildreqs import HOST, Interpreter, build_requirements, merged_wheel_set, wheel_set
from .sources import SourceCache, is_debian_orig
from .workspace import Workspace


@dataclass
class Plan:
    """The graph for the targets, in build order, and the recipes the channel still lacks."""

    graph: Graph
    order: list[str]
    to_build: list[str]

    @property
    def deps(self) -> dict[str, set[str]]:
        """Edges among the recipes to build (published dependencies are already satisfied)."""
        todo = set(self.to_build)
        return {r: self.graph.deps[r] & todo for r in self.to_build}


def make_plan(ws: Workspace, targets: list[str], *, force: bool = False) -> Plan:
    graph = ws.graph(targets)
    for name in targets:
        recipe = graph.recipes[name]
        if not recipe.outputs:
            raise ForgeError(
                f"it skips every platform the forge builds for ({', '.join(recipe.platforms)}), so there "
                "is nothing to build", recipe=name, file=ws.display(recipe.file),
                fix="remove the build.skip condition that excludes the target (every package must run in wasm)")
    order = graph.order()
    missing = [r for r in order if force and r in targets or not ws.published(graph.recipes[r])]
    for name in missing:  # only the verified fetch phase brings sources in
        recipe = graph.recipes[name]
        refuse_unverified_sources(name, recipe.path, display=ws.display(recipe.file))
    return Plan(graph=graph, order=order, to_build=missing)


def missing_outputs(ws: Workspace, recipe: Recipe) -> tuple[list[str], list[str]]:
    """(platforms to build for, expected '<subdir>/<file>' outputs) for what the channel lacks."""
    present = ws.channel.filenames()
    platforms: list[str] = []
    outputs: list[str] = []
    noarch_done: set[str] = set()
    order = sorted(recipe.platforms, key=lambda p: p != NOARCH_TEST_PLATFORM)
    for platform in order:
        for o in recipe.platforms[platform]:
            if (o.subdir, o.filename) in present:
                continue
            fn = f"{o.subdir}/{o.filename}"
            if o.subdir == "noarch":
                if fn in noarch_done:
                    continue
                noarch_done.add(fn)
            outputs.append(fn)
            if platform not in platforms:
                platforms.append(platform)
    return platforms, outputs


def fetch_inputs(ws: Workspace, recipe: Recipe, shown: str) -> tuple[list[Path], Path | None, Path | None]:
    """Verified source archives, the one wheel set holding exactly what their build
    backends asked for: noarch outputs are asked in the forge's Python, cross builds in the
    build root's (the `python` pin), each sdist with the recipe's patches applied; a cross
    build's `host:` packages (numpy) have their markers evaluated for the target; and for a
    cross-built Rust sdist that vendors no crates, Debian's crates (forge.crates)."""
    name = recipe.name
    cache = SourceCache(ws.config.cache_dir)
    paths: list[Path] = []
    seen: set[str] = set()
    interps = {HOST if o.subdir == "noarch" else Interpreter(str(dict(o.variant).get("python")), build_root=True)
               for o in recipe.outputs if o.subdir == "noarch" or dict(o.variant).get("python")}
    needs: dict[Interpreter, set[str]] = {i: set() for i in interps}
    cross = {re.split(r"[\s<>=!~\[]", spec.strip())[0] for o in recipe.outputs if o.subdir != "noarch" for spec in o.host}
    crates: Path | None = None
    if any(o.subdir != "noarch" for o in recipe.outputs):
        cache.pyodide_runtime()
    for out in recipe.outputs:
        for src in out.sources:
            if src.sha256 in seen:
                continue
            seen.add(src.sha256)
            path = cache.fetch(src, recipe=name, file=shown)
            paths.append(path)
            if src.filename.endswith((".tar.gz", ".zip")) and not is_debian_orig(src.filename):
                patches = [recipe.path / p for p in src.patches]
                for interp in interps:
                    needs[interp] |= set(build_requirements(
                        path, src.sha256, interp, ws.config.constraints_file, ws.config.cache_dir, recipe=name,
                        file=shown, patches=patches, cross=cross if interp.build_root else ()))
                if crates is None and any(o.subdir != "noarch" for o in recipe.outputs):
                    crates = fetch_crates(path, ws.config.cache_dir, patches, recipe=name, file=shown)
    sets = [wheel_set(sorted(reqs), interp, ws.config.constraints_file, ws.config.cache_dir, recipe=name, file=shown)
            for interp, reqs in sorted(needs.items(), key=lambda kv: kv[0].key) if reqs]
    wheelhouse = merged_wheel_set(sets, ws.config.cache_dir)
    return paths, wheelhouse, crates


def prepare_job(ws: Workspace, name: str, *, attempt: int = 1) -> BuildJob:
    """The fetch phase for one recipe (fetch_inputs), its log, then the job."""
    recipe = ws.recipe(name)
    shown = ws.display(recipe.file)
    platforms, outputs = missing_outputs(ws, recipe)
    if not outputs:
        platforms = [p for p, outs in recipe.platforms.items() if outs][:1]  # not a skipped platform
        outputs = [f"{o.subdir}/{o.filename}" for o in recipe.outputs]
    paths, wheelhouse, crates = fetch_inputs(ws, recipe, shown)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_dir = ws.config.logs_dir / name
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{stamp}-{attempt}.log"
    log_path.write_text(f"== {name}: attempt {attempt}, planned outputs {outputs}\n")
    point_latest(log_path)
    return BuildJob(
        recipe=name,
        recipe_dir=str(recipe.path),
        recipe_file=shown,
        platforms=platforms,
        outputs=outputs,
        channel_url=ws.channel.url,
        variant_file=str(ws.config.variant_file) if ws.config.variant_file.exists() else None,
        sources=[str(p) for p in paths],
        wheelhouse=str(wheelhouse) if wheelhouse else None,
        # private per run and attempt: concurrent `forge build` runs never share a work dir
        work_dir=str(ws.config.work_dir / f"{name}-{os.getpid()}-{attempt}"),
        log_path=str(log_path),
        attempt=attempt,
        sandbox=ws.config.sandbox,
        crates=str(crates) if crates else None,
    )


def check_outputs(job: BuildJob, packages: list[Path]) -> None:
    """A build must produce exactly the packages the plan expects, in the expected subdirs."""
    got = {f"{p.parent.name}/{p.name}" for p in packages}
    if set(job.outputs) != got:
        raise ForgeError(
            f"the build produced {sorted(got)} but the plan expected {job.outputs}",
            recipe=job.recipe, file=job.recipe_file, fix="make the build string deterministic",
        )


def point_latest(log_path: Path) -> None:
    """<logs>/<recipe>/latest.log names the newest attempt from its start, success or not."""
    latest = log_path.parent / "latest.log"
    tmp = log_path.parent / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(log_path.name)
    os.replace(tmp, latest)
