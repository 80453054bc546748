"""Source resolution: sdists are fetched through pip's configured index by (file name, sha256)
into a content-addressed cache, verified, reused without downloading, and handed to builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.forge_testlib import REPO, sha256

from forge.config import ForgeConfig
from forge.errors import ForgeError
from forge.planner import prepare_job
from forge.recipes import SourceFile
from forge.sources import SourceCache, build_requires
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
    assert build_requires(second) == ["setuptools>=77", "setuptools-scm>=8"]


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
    """The fetch phase hands the build the cache's verified file and a wheelhouse holding the
    sdist's PEP 517 build requirements (so the build itself needs no network)."""
    cfg = ForgeConfig.load(root=REPO, recipes_dir=REPO / "recipes", channel_dir=tmp_path / "channel",
                           state_dir=tmp_path / "state")
    ws = Workspace(cfg)
    job = prepare_job(ws, "iniconfig")
    cached = SourceCache(cfg.cache_dir).path_for(INICONFIG)
    assert job.sources == [str(cached)]
    assert job.wheelhouse and Path(job.wheelhouse).is_dir()
    wheels = {p.name.split("-")[0].lower() for p in Path(job.wheelhouse).glob("*.whl")}
    assert {"setuptools", "setuptools_scm"} <= wheels
    assert job.outputs == [f"noarch/{ws.recipe('iniconfig').outputs[0].filename}"]
