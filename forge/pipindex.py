"""The package index exactly as this machine's pip is configured, through `unearth`.

The forge names no index host: the indexes, find-links, CA bundle, client certificate,
trusted hosts, proxy and timeout come from pip's own configuration (files and PIP_*
variables, read with pip's `Configuration` in the order `pip download` applies them), and
pip's default index from pip itself. `unearth` (a maintained finder following pip's rules)
lists and selects the files; every download is verified against a sha256.
"""

from __future__ import annotations

import hashlib
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name, parse_sdist_filename
from packaging.version import Version

from .errors import ForgeError

SDIST_SUFFIXES = (".tar.gz", ".zip")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class IndexSettings:
    """Where and how pip looks for distributions (index_urls empty: --no-index)."""

    index_urls: tuple[str, ...]
    find_links: tuple[str, ...] = ()
    cert: str | None = None
    client_cert: str | None = None
    trusted_hosts: tuple[str, ...] = ()
    proxy: str | None = None
    timeout: float = 15.0


@dataclass(frozen=True)
class SdistLink:
    """One sdist an index lists: its file name, URL and the sha256 the index states (if any)."""

    filename: str
    url: str
    sha256: str | None
    version: str


def _pip_values(command: str) -> dict[str, str]:
    """pip's configuration for `command`, later sections winning: global, the command, PIP_*."""
    from pip._internal.configuration import Configuration  # noqa: PLC0415

    conf = Configuration(isolated=False)
    conf.load()
    items = list(conf.items())
    values: dict[str, str] = {}
    for section in ("global", command, ":env:"):
        for key, value in items:
            sect, _, name = key.partition(".")
            if sect == section and value not in (None, ""):
                values[name] = str(value)
    return values


def _default_index() -> str:
    from pip._internal.models.index import PyPI  # noqa: PLC0415

    return PyPI.simple_url


def _link(value: str) -> str:
    """A find-links entry as unearth takes it: a URL, or an absolute path."""
    return value if "://" in value else os.path.abspath(os.path.expanduser(value))


def index_settings(command: str = "download") -> IndexSettings:
    """pip's index settings as `pip <command>` would use them on this machine."""
    v = _pip_values(command)
    if v.get("no-index", "").lower() in _TRUE:
        indexes: list[str] = []
    else:
        indexes = [v.get("index-url") or _default_index(), *v.get("extra-index-url", "").split()]
    timeout = v.get("timeout") or v.get("default-timeout") or "15"
    return IndexSettings(
        index_urls=tuple(dict.fromkeys(u.rstrip("/") + "/" for u in indexes if u)),
        find_links=tuple(dict.fromkeys(_link(u) for u in v.get("find-links", "").split())),
        cert=v.get("cert") or None,
        client_cert=v.get("client-cert") or None,
        trusted_hosts=tuple(v.get("trusted-host", "").split()),
        proxy=v.get("proxy") or None,
        timeout=float(timeout),
    )


def client(settings: IndexSettings | None = None) -> Any:
    """An HTTP client (unearth's, file:// included) with pip's certificates, proxy and credentials."""
    from unearth.auth import MultiDomainBasicAuth  # noqa: PLC0415
    from unearth.fetchers import PyPIClient  # noqa: PLC0415

    s = settings or index_settings()
    kwargs: dict[str, Any] = {"trusted_hosts": s.trusted_hosts, "timeout": s.timeout}
    if s.cert:
        cert = Path(s.cert)
        kwargs["verify"] = ssl.create_default_context(capath=str(cert)) if cert.is_dir() else \
            ssl.create_default_context(cafile=str(cert))
    if s.client_cert:
        kwargs["cert"] = s.client_cert
    if s.proxy:
        kwargs["proxy"] = s.proxy
    session = PyPIClient(**kwargs)
    session.auth = MultiDomainBasicAuth(index_urls=list(s.index_urls))
    return session


def _sha256_of(link: Any) -> str | None:
    if link.hashes and link.hashes.get("sha256"):
        return str(link.hashes["sha256"])
    return str(link.hash) if link.hash_name == "sha256" else None


def find_sdist_link(project: str, version: str | None = None, *,
                    settings: IndexSettings | None = None) -> SdistLink:
    """The newest (or the given) release's sdist on pip's indexes and find-links.

    Every source is asked (pip's order, an unreachable one is skipped as pip does) and the
    highest version wins; prereleases only when asked for or when nothing else exists.
    Requires-Python is not applied: the sdist is built for the target, not this interpreter.
    """
    from unearth import PackageFinder  # noqa: PLC0415

    s = settings or index_settings()
    session = client(s)
    sources = [("index", u) for u in s.index_urls] + [("find_links", u) for u in s.find_links]
    requirement = f"{project}=={version}" if version else project
    found: list[SdistLink] = []
    errors: list[str] = []
    for kind, url in sources:
        finder = PackageFinder(session=session, index_urls=[url] if kind == "index" else [],
                               find_links=[url] if kind == "find_links" else [], no_binary=[project],
                               ignore_compatibility=True, trusted_hosts=s.trusted_hosts)
        try:
            packages = list(finder.find_matches(requirement))
        except Exception as exc:  # noqa: BLE001 — unreachable index, bad TLS, ...: pip warns and goes on too
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        for pkg in packages:
            name = pkg.link.filename
            if pkg.link.is_wheel or not name.endswith(SDIST_SUFFIXES):
                continue
            try:
                parsed, ver = parse_sdist_filename(name)
            except Exception:  # noqa: BLE001
                continue
            if canonicalize_name(parsed) == canonicalize_name(project):
                found.append(SdistLink(name, pkg.link.url_without_fragment, _sha256_of(pkg.link), str(ver)))
    if not found:
        why = f" ({errors[0]})" if errors else ""
        raise ForgeError(f"no sdist of {project}{' ' + version if version else ''} is on the package index pip is "
                         f"configured with{why}", fix="check the project name and version (`pip download --no-deps "
                         f"--no-binary :all: {project}` shows what pip finds)")
    if not version and any(not Version(f.version).is_prerelease for f in found):
        found = [f for f in found if not Version(f.version).is_prerelease]  # pip's rule: finals first
    return max(found, key=lambda f: (Version(f.version), f.filename.endswith(".tar.gz")))


def download(url: str, dest: Path, *, sha256: str | None = None, settings: IndexSettings | None = None) -> str:
    """Download `url` to `dest` (atomically) and return its sha256; a mismatch with `sha256`
    deletes the file and raises, so only verified bytes ever sit at `dest`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.part-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        session = client(settings)
        with session.get_stream(url) as resp, tmp.open("wb") as out:
            resp.raise_for_status()
            for chunk in resp.iter_bytes(chunk_size=1 << 16):
                digest.update(chunk)
                out.write(chunk)
    except Exception as exc:  # noqa: BLE001
        tmp.unlink(missing_ok=True)
        raise ForgeError(f"downloading {Path(url).name} failed ({type(exc).__name__}: {exc})",
                         fix="check the network and pip's index settings (`pip config list`)") from None
    actual = digest.hexdigest()
    if sha256 and actual != sha256.lower():
        tmp.unlink(missing_ok=True)
        raise ForgeError(f"the downloaded {dest.name} has sha256 {actual}, not the expected {sha256}",
                         fix="the index serves other bytes than it lists; check the index or the pinned sha256")
    os.replace(tmp, dest)
    return actual
