"""Find the Debian mirror this machine already uses, so no host name is written
into the project: the build root is bootstrapped from the same mirror."""

from __future__ import annotations

from pathlib import Path

from .errors import ToolchainError

APT_DIR = Path("/etc/apt")


def parse_deb822(text: str) -> list[dict[str, str]]:
    """Parse deb822 stanzas (blank-line separated `Key: value`), dropping comments."""
    stanzas: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                stanzas.append(cur)
            cur, last = {}, None
            continue
        if line[0] in " \t" and last:
            cur[last] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip().lower()
            cur[last] = value.strip()
    if cur:
        stanzas.append(cur)
    return stanzas


def parse_one_line(text: str) -> list[dict[str, str]]:
    """Parse classic `deb [opts] URI suite comp...` lines into deb822-like dicts."""
    out = []
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if not parts or parts[0] != "deb":
            continue
        parts = parts[1:]
        if parts and parts[0].startswith("["):
            while parts and not parts[0].endswith("]"):
                parts.pop(0)
            parts.pop(0)
        if len(parts) >= 2:
            out.append({"types": "deb", "uris": parts[0], "suites": parts[1],
                        "components": " ".join(parts[2:])})
    return out


def pick_mirror(entries: list[dict[str, str]]) -> str:
    """The first `deb` URI that is the main archive (not security, not a PPA-like path)."""
    for e in entries:
        if "deb" not in e.get("types", "deb").split():
            continue
        suites = e.get("suites", "").split()
        for uri in e.get("uris", "").split():
            if "security" in uri or any("security" in s for s in suites):
                continue
            return uri.rstrip("/")
    raise ToolchainError(
        "No Debian archive mirror found in the apt sources; add a `deb` entry "
        "for the main archive to /etc/apt/sources.list.d/ and retry."
    )


def debian_mirror(apt_dir: Path = APT_DIR) -> str:
    """The host's Debian archive mirror URI, read from its apt sources at run time."""
    entries: list[dict[str, str]] = []
    d = apt_dir / "sources.list.d"
    for f in sorted(d.glob("*.sources")) if d.is_dir() else []:
        entries += parse_deb822(f.read_text())
    for f in [apt_dir / "sources.list", *(sorted(d.glob("*.list")) if d.is_dir() else [])]:
        if f.is_file():
            entries += parse_one_line(f.read_text())
    return pick_mirror(entries)
