"""What a task carries, and how each side turns it into files.

The coordinator describes everything a build reads as a manifest `{relative path: sha256}`
under four roots: `recipe/` (the recipe folder), `sources/` (verified archives),
`wheelhouse/` (build-requirement wheels) and `channel/` (the channel's repodata.json files and
the packages they list, so host and test environments resolve exactly as they would locally).
The files themselves go to Redis as blobs; the task message stays small.

The worker checks every name, materialises the tree in its own task directory from its blob
cache (hard links), and rewrites the job's paths to point there.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from forge.jobs import BuildJob

from . import settings
from .blobs import BlobCache, BlobStore, FileHasher
from .safety import UnsafePath, check_name, check_package, check_relpath, safe_join

VERSION = 1
VARIANT = "conda_build_config.yaml"


def _add(manifest: dict[str, str], files: dict[str, Path], rel: str, path: Path, hasher: FileHasher) -> None:
    sha = hasher(path)
    manifest[rel] = sha
    files[sha] = path


def channel_files(channel_dir: Path) -> list[tuple[str, Path]]:
    """(relative path, file) of each subdir's repodata.json and the packages it lists."""
    out: list[tuple[str, Path]] = []
    if not channel_dir.is_dir():
        return out
    for sd in sorted(p for p in channel_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        repodata = sd / "repodata.json"
        if not repodata.is_file():
            continue
        out.append((f"{sd.name}/repodata.json", repodata))
        data = json.loads(repodata.read_text() or "{}")
        for section in ("packages", "packages.conda"):
            for fn in sorted(data.get(section) or {}):
                if (sd / fn).is_file():
                    out.append((f"{sd.name}/{fn}", sd / fn))
    return out


def collect(job: BuildJob, channel_dir: Path, hasher: FileHasher) -> tuple[dict[str, str], dict[str, Path]]:
    """The job's manifest and the local file behind each sha256 (coordinator side)."""
    manifest: dict[str, str] = {}
    files: dict[str, Path] = {}
    recipe_dir = Path(job.recipe_dir)
    for p in sorted(recipe_dir.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(recipe_dir).parts):
            _add(manifest, files, f"recipe/{p.relative_to(recipe_dir).as_posix()}", p, hasher)
    if job.variant_file and Path(job.variant_file).is_file():
        _add(manifest, files, VARIANT, Path(job.variant_file), hasher)
    for s in job.sources:
        _add(manifest, files, f"sources/{Path(s).name}", Path(s), hasher)
    if job.wheelhouse and Path(job.wheelhouse).is_dir():
        for w in sorted(Path(job.wheelhouse).glob("*.whl")):
            _add(manifest, files, f"wheelhouse/{w.name}", w, hasher)
    for rel, p in channel_files(channel_dir):
        _add(manifest, files, f"channel/{rel}", p, hasher)
    return manifest, files


def make_payload(job: BuildJob, manifest: dict[str, str], run_id: str) -> dict[str, Any]:
    return {"v": VERSION, "run": run_id, "reply_to": settings.key("done", run_id),
            "job": asdict(job), "files": manifest}


def _job_from(raw: Any) -> BuildJob:
    """A BuildJob from the wire, with every field present and of the right type."""
    want = {f.name: f.type for f in fields(BuildJob)}
    if not isinstance(raw, dict) or set(raw) != set(want):
        got = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise UnsafePath(f"the job has fields {got}, expected {sorted(want)}")
    for name, typ in want.items():
        v = raw[name]
        ok = (isinstance(v, list) and all(isinstance(x, str) for x in v) if typ.startswith("list")
              else isinstance(v, int) and not isinstance(v, bool) if typ == "int"
              else isinstance(v, bool) if typ == "bool"
              else isinstance(v, str) or (v is None and "None" in typ))
        if not ok:
            raise UnsafePath(f"the job's field {name!r} is {type(v).__name__}, expected {typ}")
    return BuildJob(**raw)


def check_payload(payload: dict[str, Any]) -> BuildJob:
    """Refuse a payload whose names would leave the task directory (worker side)."""
    if not isinstance(payload, dict):
        raise UnsafePath(f"the payload is a {type(payload).__name__}, not a mapping")
    if payload.get("v") != VERSION:
        raise UnsafePath(f"payload version {payload.get('v')!r} is not {VERSION} (this worker's); "
                         f"run the same forge version on coordinator and workers")
    reply = payload.get("reply_to", "")
    if not isinstance(reply, str) or not reply.startswith(settings.key("done", "")):
        raise UnsafePath(f"reply key {reply!r} is not a farm key")
    job = _job_from(payload.get("job"))
    if not isinstance(payload.get("files"), dict):
        raise UnsafePath("the payload has no file manifest")
    check_name(job.recipe, "recipe name")
    for out in job.outputs:
        check_package(out)
    for rel, sha in payload["files"].items():
        p = check_relpath(rel, "file")
        if p.parts[0] not in ("recipe", "sources", "wheelhouse", "channel", VARIANT):
            raise UnsafePath(f"file {rel!r} is outside the recipe, sources, wheelhouse and channel")
        if not isinstance(sha, str) or len(sha) != 64:
            raise UnsafePath(f"file {rel!r} has no sha256")
    if not any(rel == "recipe/recipe.yaml" for rel in payload["files"]):
        raise UnsafePath("the payload has no recipe/recipe.yaml")
    return job


def materialize(payload: dict[str, Any], task_dir: Path, cache: BlobCache, store: BlobStore) -> BuildJob:
    """Lay the payload's files out under task_dir and return the job rewritten to them."""
    job = check_payload(payload)
    task_dir.mkdir(parents=True, exist_ok=True)
    for rel, sha in payload["files"].items():
        cache.place(sha, store, safe_join(task_dir, rel, "file"))
    (task_dir / "channel").mkdir(exist_ok=True)
    sources = [str(safe_join(task_dir, f"sources/{Path(s).name}", "source")) for s in job.sources]
    return replace(
        job,
        recipe_dir=str(task_dir / "recipe"),
        variant_file=str(task_dir / VARIANT) if VARIANT in payload["files"] else None,
        sources=sources,
        wheelhouse=str(task_dir / "wheelhouse") if job.wheelhouse else None,
        channel_url=(task_dir / "channel").resolve().as_uri(),
        work_dir=str(task_dir / "work"),
        log_path=str(task_dir / "build.log"),
    )
