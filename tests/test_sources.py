"""Source resolution: sdists are found on the indexes pip is configured with (unearth) by
(file name, sha256) into a content-addressed cache, verified, reused without downloading, and
handed to builds with a wheel set of exactly what their build backend asked for."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from tests.support.testlib import forge_repo_config, sha256

from forge.errors import ForgeError
from forge.planner import prepare_job
from forge.recipes import SourceFile
from forge.buildreqs import HOST, build_requirements, wheel_set
from forge.sources import SourceCache
from forge.workspace import Workspace

INICONFIG = SourceFile("iniconfig-2.3.1.tar.gz", "67f4b9c50da0dedf52af349e7749a80a9057a5031199791b906c3bb3ae878960")


def test_cache_is_content_addressed_and_reused(tmp_path: Path) -> None:
    cache = SourceCache(tmp_path / "cache")
    target = cache.path_for(INICONFIG)
    assert target == tmp_path / "cache" / "sources" / INICONFIG.sha256 / INICONFIG.filename
    assert not target.exists()

    first = cache.fetch(INICONFIG, recipe="iniconfig", file="recipes/iniconfig/recipe.yaml")
    assert first == target and sha256(first) == INICONFIG.sha256
    st = first.stat()
    assert not list(target.parent.glob("*.part-*")), "no partial download left behind"

    second = cache.fetch(INICONFIG, recipe="iniconfig", file="recipes/iniconfig/recipe.yaml")
    st2 = second.stat()
    assert second == first
    assert (st2.st_ino, st2.st_mtime_ns, st2.st_ctime_ns) == (st.st_ino, st.st_mtime_ns, st.st_ctime_ns), \
        "the second fetch must reuse the cached file, not download it again"


def test_corrupt_cache_entry_is_refetched_and_verified(tmp_path: Path) -> None:
    cache = SourceCache(tmp_path / "cache")
    path = cache.fetch(INICONFIG, recipe="iniconfig", file="x")
    path.write_bytes(b"not the sdist")
    again = cache.fetch(INICONFIG, recipe="iniconfig", file="x")
    assert sha256(again) == INICONFIG.sha256


def test_sha_mismatch_is_refused_and_nothing_cached(tmp_path: Path) -> None:
    cache = SourceCache(tmp_path / "cache")
    bad = SourceFile(INICONFIG.filename, "1" * 64)
    with pytest.raises(ForgeError) as info:
        cache.fetch(bad, recipe="iniconfig", file="recipes/iniconfig/recipe.yaml")
    assert "recipe 'iniconfig'" in str(info.value) and INICONFIG.sha256 in str(info.value)
    assert not cache.path_for(bad).exists()


def test_builds_get_the_cached_archive(tmp_path: Path) -> None:
    """The fetch phase hands the build the cache's verified file and a wheel set holding exactly
    the closed set of the sdist's build requirements (so the build itself needs no network and
    can use nothing else)."""
    cfg = forge_repo_config(tmp_path / "channel", tmp_path / "state")
    ws = Workspace(cfg)
    job = prepare_job(ws, "iniconfig")
    cached = SourceCache(cfg.cache_dir).path_for(INICONFIG)
    assert job.sources == [str(cached)]
    assert job.wheelhouse and Path(job.wheelhouse).is_dir()
    wheels = {p.name.split("-")[0].lower() for p in Path(job.wheelhouse).glob("*.whl")}
    # [build-system] requires setuptools>=77 and setuptools-scm>=8; these are that closure
    assert wheels == {"setuptools", "setuptools_scm", "packaging", "vcs_versioning"}
    assert job.outputs == [f"noarch/{ws.recipe('iniconfig').outputs[0].filename}"]


BACKEND = """\
def get_requires_for_build_wheel(config_settings=None):
    return ["iniconfig==2.3.1"]

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("not needed here")
"""


def _sdist(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    src = tmp_path / f"{name}-1.0"
    src.mkdir()
    for rel, text in files.items():
        (src / rel).write_text(text)
    out = tmp_path / f"{name}-1.0.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        tf.add(src, arcname=src.name)
    return out


def test_the_backend_is_asked_not_guessed(tmp_path: Path) -> None:
    """A backend's dynamic requirement (get_requires_for_build_wheel) lands in the build
    requirements and its wheel set, with no table of backends in the forge."""
    sdist = _sdist(tmp_path, "dyn", {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "mybackend"\nbackend-path = ["."]\n',
        "mybackend.py": BACKEND,
    })
    cache = tmp_path / "cache"
    reqs = build_requirements(sdist, sha256(sdist), HOST, None, cache, recipe="dyn", file="recipes/dyn/recipe.yaml")
    assert reqs == ["iniconfig==2.3.1"]
    wheels = wheel_set(reqs, HOST, None, cache, recipe="dyn", file="x")
    assert sorted(p.name for p in wheels.glob("*.whl")) == ["iniconfig-2.3.1-py3-none-any.whl"]
    # asked once per sdist: the answer is kept by its sha256
    assert (cache / "build-requires").is_dir() and len(list((cache / "build-requires").iterdir())) == 1


def test_a_setup_py_only_sdist_gets_the_pep517_default(tmp_path: Path) -> None:
    """No pyproject.toml: PEP 517's setuptools default, plus whatever setuptools itself then asks."""
    sdist = _sdist(tmp_path, "legacy", {"setup.py": "from setuptools import setup\nsetup(name='legacy', version='1.0')\n"})
    reqs = build_requirements(sdist, sha256(sdist), HOST, None, tmp_path / "cache", recipe="legacy", file="x")
    assert "setuptools >= 40.8.0" in reqs


def test_a_broken_backend_is_one_sentence(tmp_path: Path) -> None:
    sdist = _sdist(tmp_path, "broken", {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "nosuchbackend"\n',
    })
    with pytest.raises(ForgeError) as info:
        build_requirements(sdist, sha256(sdist), HOST, None, tmp_path / "cache", recipe="broken",
                           file="recipes/broken/recipe.yaml")
    msg = str(info.value)
    assert msg.startswith("recipe 'broken' (recipes/broken/recipe.yaml): the build backend of broken-1.0.tar.gz "
                          "could not say what it needs to build a wheel (exit 1: ")
    assert "nosuchbackend" in msg and "\n" not in msg
