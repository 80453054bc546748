"""Debian upstream tarballs as sources: C libraries without an sdist (FreeType, Qhull, zlib) are
pinned by Debian's orig file name + sha256 and fetched with apt-get from the archive the build
root uses (its sources.list is read at run time; no mirror is written in the project)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.support.testlib import sha256

from forge.errors import ForgeError
from forge.recipes import SourceFile
from forge.sources import SourceCache, is_debian_orig


def test_orig_tarball_names_are_recognised() -> None:
    assert is_debian_orig("freetype_2.14.3+dfsg.orig.tar.xz")
    assert is_debian_orig("qhull_2020.2.orig.tar.gz")
    assert is_debian_orig("zlib_1.3.dfsg+really1.3.2.orig.tar.gz")
    assert is_debian_orig("freetype_2.14.3+dfsg.orig-ft2demos.tar.xz")
    # sdists and npm tarballs stay with their own fetchers (and sdists with their backend)
    assert not is_debian_orig("iniconfig-2.3.1.tar.gz")
    assert not is_debian_orig("pyodide-314.0.7.tgz")
    assert not is_debian_orig("zlib_1.3.2-4.debian.tar.xz")


def _current_orig(cache: SourceCache, package: str) -> SourceFile:
    """The orig tarball the archive lists for PACKAGE now (sid moves on; a fixed pin would not last)."""
    opts = cache._apt_options("test", "test")
    subprocess.run(["apt-get", *opts, "update"], check=True, capture_output=True)
    out = subprocess.run(["apt-cache", *opts, "showsrc", package], check=True, capture_output=True, text=True).stdout
    sha_block = out.split("Checksums-Sha256:", 1)[1]
    for line in sha_block.splitlines()[1:]:
        if not line.startswith(" "):
            break
        digest, _size, name = line.split()
        if is_debian_orig(name) and ".orig." in name:
            return SourceFile(name, digest)
    raise AssertionError(f"no orig tarball listed for {package}: {out[:500]}")


@pytest.mark.network
def test_debian_orig_is_fetched_verified_and_cached(tmp_path: Path) -> None:
    cache = SourceCache(tmp_path / "cache")
    src = _current_orig(cache, "qhull")
    path = cache.fetch(src, recipe="qhull", file="recipes/qhull/recipe.yaml")
    assert path == cache.path_for(src) and sha256(path) == src.sha256
    assert not [p for p in path.parent.iterdir() if p != path], "only the orig tarball is kept, no .dsc or temp dir"
    # apt's lists and the deb-src line live under the cache, derived from the build root's apt sources
    line = (tmp_path / "cache" / "apt" / "sources.list").read_text()
    assert line.startswith("deb-src ") and line.rstrip().endswith(" sid main")
    st = path.stat()
    again = cache.fetch(src, recipe="qhull", file="recipes/qhull/recipe.yaml")
    assert again.stat().st_ino == st.st_ino and again.stat().st_mtime_ns == st.st_mtime_ns, "reused, not fetched again"


@pytest.mark.network
def test_wrong_sha_or_unknown_file_is_one_sentence(tmp_path: Path) -> None:
    cache = SourceCache(tmp_path / "cache")
    real = _current_orig(cache, "qhull")
    with pytest.raises(ForgeError) as info:
        cache.fetch(SourceFile(real.filename, "1" * 64), recipe="qhull", file="recipes/qhull/recipe.yaml")
    msg = str(info.value)
    assert "recipe 'qhull'" in msg and real.sha256 in msg and "Debian archive lists" in msg
    assert not cache.path_for(SourceFile(real.filename, "1" * 64)).exists()
    with pytest.raises(ForgeError) as info:
        cache.fetch(SourceFile("qhull_1999.1.orig.tar.gz", "2" * 64), recipe="qhull", file="recipes/qhull/recipe.yaml")
    assert "does not list qhull_1999.1.orig.tar.gz" in str(info.value) and "apt-cache showsrc qhull" in str(info.value)
