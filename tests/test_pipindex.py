"""forge.pipindex against real local indexes (file:// simple pages and a find-links folder),
with pip's configuration isolated to this test through PIP_* variables."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from forge import pipindex
from forge.errors import ForgeError


def sdist(folder: Path, name: str, version: str) -> Path:
    """A small real sdist (tar.gz with PKG-INFO)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        data = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        info = tarfile.TarInfo(f"{name}-{version}/PKG-INFO")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return path


def simple_index(root: Path, project: str, files: list[Path], *, hashes: bool = True) -> str:
    """root/simple/<project>/index.html linking `files` (with #sha256= when `hashes`)."""
    page = root / "simple" / project
    page.mkdir(parents=True)
    links = []
    for f in files:
        frag = "#sha256=" + hashlib.sha256(f.read_bytes()).hexdigest() if hashes else ""
        links.append(f'<a href="{f.as_uri()}{frag}">{f.name}</a>')
    (page / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")
    return (root / "simple").as_uri()


@pytest.fixture
def pip_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """pip configured by PIP_* variables only: no config files, no inherited index settings."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_TRUSTED_HOST"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_settings_follow_pip_configuration(pip_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pip._internal.models.index import PyPI

    assert pipindex.index_settings().index_urls == (PyPI.simple_url.rstrip("/") + "/",)
    pip_env.setenv("PIP_INDEX_URL", "file:///srv/a/simple")
    pip_env.setenv("PIP_EXTRA_INDEX_URL", "file:///srv/b/simple/ file:///srv/c/simple")
    pip_env.setenv("PIP_FIND_LINKS", "wheels")
    pip_env.setenv("PIP_TRUSTED_HOST", "mirror.internal:8080")
    pip_env.setenv("PIP_DEFAULT_TIMEOUT", "42")
    pip_env.chdir(tmp_path)
    s = pipindex.index_settings()
    assert s.index_urls == ("file:///srv/a/simple/", "file:///srv/b/simple/", "file:///srv/c/simple/")
    assert s.find_links == (str(tmp_path / "wheels"),)
    assert s.trusted_hosts == ("mirror.internal:8080",) and s.timeout == 42.0
    pip_env.setenv("PIP_NO_INDEX", "1")
    assert pipindex.index_settings().index_urls == ()


def test_config_file_sections_in_pip_order(pip_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = file:///g/simple\nextra-index-url = file:///e/simple\n"
                    "[download]\nindex-url = file:///d/simple\n[install]\nindex-url = file:///i/simple\n")
    pip_env.setenv("PIP_CONFIG_FILE", str(conf))
    assert pipindex.index_settings().index_urls == ("file:///d/simple/", "file:///e/simple/")
    assert pipindex.index_settings("install").index_urls[0] == "file:///i/simple/"
    pip_env.setenv("PIP_INDEX_URL", "file:///env/simple")
    assert pipindex.index_settings().index_urls[0] == "file:///env/simple/"


def test_newest_sdist_across_indexes_and_find_links(pip_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    files = tmp_path / "files"
    a = simple_index(tmp_path / "a", "demo", [sdist(files, "demo", "1.0"), sdist(files, "demo", "2.1rc1")])
    b = simple_index(tmp_path / "b", "demo", [sdist(files / "b", "demo", "2.0")])
    links = tmp_path / "links"
    sdist(links, "demo", "1.5")
    # an unreachable index first: skipped, as pip skips it
    pip_env.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    pip_env.setenv("PIP_EXTRA_INDEX_URL", f"{a} {b}")
    pip_env.setenv("PIP_FIND_LINKS", str(links))
    best = pipindex.find_sdist_link("demo")
    assert (best.filename, best.version) == ("demo-2.0.tar.gz", "2.0")
    assert best.sha256 == hashlib.sha256((files / "b" / "demo-2.0.tar.gz").read_bytes()).hexdigest()
    assert pipindex.find_sdist_link("demo", "2.1rc1").filename == "demo-2.1rc1.tar.gz"
    pinned = pipindex.find_sdist_link("Demo", "1.5")
    assert pinned.filename == "demo-1.5.tar.gz" and pinned.sha256 is None  # find-links state no hash
    with pytest.raises(ForgeError, match=r"no sdist of demo 3\.0 is on the package index pip is configured with"):
        pipindex.find_sdist_link("demo", "3.0")


def test_download_verifies_sha256(pip_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    src = sdist(tmp_path / "files", "demo", "1.0")
    pip_env.setenv("PIP_INDEX_URL", simple_index(tmp_path, "demo", [src]))
    link = pipindex.find_sdist_link("demo")
    dest = tmp_path / "cache" / "demo-1.0.tar.gz"
    assert pipindex.download(link.url, dest, sha256=link.sha256) == link.sha256
    assert dest.read_bytes() == src.read_bytes()
    other = tmp_path / "cache2" / "demo-1.0.tar.gz"
    with pytest.raises(ForgeError, match="has sha256 .* not the expected 0000"):
        pipindex.download(link.url, other, sha256="0" * 64)
    assert not other.exists() and list(other.parent.iterdir()) == []
    with pytest.raises(ForgeError, match="downloading missing.tar.gz failed"):
        pipindex.download((tmp_path / "missing.tar.gz").as_uri(), other)
