"""Find and download sdists on the indexes pip is configured with (unearth, pip's settings).

pip's own `Configuration` reads the same files and PIP_* variables pip does, so index-url,
extra-index-url, find-links, cert and proxies behave as they do for pip; unearth (pip's
finder as a library) does the finding, without building metadata the way `pip download`
would. No index host is written in the project: pip's default comes from pip.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class IndexSettings:
    index_urls: tuple[str, ...]
    find_links: tuple[str, ...]
    cert: str | None


@lru_cache(maxsize=1)
def index_settings() -> IndexSettings:
    """pip's index settings: configuration files and PIP_* environment variables."""
    from pip._internal.configuration import Configuration  # noqa: PLC0415
    from pip._internal.models.index import PyPI  # noqa: PLC0415

    conf = Configuration(isolated=False)
    conf.load()
    values: dict[str, str] = {}
    for key, value in conf.items():  # 'global.index-url', ':env:.extra-index-url', 'install.find-links'
        values[key.split(".", 1)[-1]] = value
    if values.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        primary: list[str] = []
    else:
        primary = [values.get("index-url") or PyPI.simple_url]
    extras = (values.get("extra-index-url") or "").split()
    links = tuple(x for x in (values.get("find-links") or "").split() if x)
    return IndexSettings(tuple(u.rstrip("/") + "/" for u in [*primary, *extras] if u), links,
                         values.get("cert") or None)


def _finder(*, any_python: bool = True):  # noqa: ANN202
    """unearth's finder on pip's indexes; `any_python`: sources are for the target's Python
    (3.14 in wasm), not the forge's, so Requires-Python does not filter them out."""
    from unearth import PackageFinder  # noqa: PLC0415
    from unearth.fetchers import PyPIClient  # noqa: PLC0415

    import ssl  # noqa: PLC0415

    s = index_settings()
    session = PyPIClient(verify=ssl.create_default_context(cafile=s.cert) if s.cert else True, trust_env=True)
    return PackageFinder(session=session, index_urls=s.index_urls, find_links=s.find_links,
                         ignore_compatibility=any_python)


def find_sdist_link(project: str, version: str | None) -> tuple[str, str, str | None] | None:
    """(file name, url, sha256 the index lists or None) of the best sdist of project[==version]."""
    finder = _finder()
    req = f"{project}=={version}" if version else project
    for pkg in finder.find_matches(req, allow_prereleases=bool(version)):
        link = pkg.link
        if link.is_wheel:
            continue
        hashes = link.hash_option or {}
        sha = (hashes.get("sha256") or [None])[0]
        return link.filename, link.normalized, sha
    return None


def download(url: str, dest: Path) -> None:
    """Download `url` to `dest` atomically (a temp name, then rename)."""
    tmp = dest.with_name(dest.name + f".part-{os.getpid()}")
    if url.startswith("file://"):
        from urllib.parse import unquote, urlparse  # noqa: PLC0415

        shutil.copyfile(unquote(urlparse(url).path), tmp)
    else:
        session = _finder().session
        with session.stream("GET", url) as resp, tmp.open("wb") as out:
            resp.raise_for_status()
            for chunk in resp.iter_bytes():
                out.write(chunk)
    os.replace(tmp, dest)
