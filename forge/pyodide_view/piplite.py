"""all.json: the view's wheels in the Warehouse-JSON-like index JupyterLite's piplite
reads (the same fields jupyterlite-pyodide-kernel's `piplite` addon writes, see its
`get_wheel_fileinfo`), so a JupyterLite site can `%pip install` from the channel."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

ALL_JSON = "all.json"


def normalize(name: str) -> str:
    """PEP 503 name: the key piplite looks projects up by."""
    return str(canonicalize_name(name))


def release(wheel: Path, file_name: str, sha256: str, requires_python: str | None,
            timestamp_ms: int | None = None) -> dict:
    """One distribution entry for `wheel` published as `file_name`; `url` is relative to
    all.json (piplite resolves `./...`)."""
    data = wheel.read_bytes()
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    when = dt.datetime.fromtimestamp((timestamp_ms or 0) / 1000, tz=dt.timezone.utc)
    iso = when.replace(tzinfo=None).isoformat() + "Z"
    python_tag = ".".join(sorted({t.interpreter for t in parse_wheel_filename(file_name)[3]}))
    return {
        "comment_text": "",
        "digests": {"sha256": sha256, "md5": md5},
        "downloads": -1,
        "filename": file_name,
        "has_sig": False,
        "md5_digest": md5,
        "packagetype": "bdist_wheel",
        "python_version": python_tag,
        "requires_python": requires_python,
        "size": len(data),
        "upload_time": iso,
        "upload_time_iso_8601": iso,
        "url": f"./{file_name}",
        "yanked": False,
        "yanked_reason": None,
    }


def render_index(projects: dict[str, tuple[str, dict]]) -> str:
    """{dist name: (version, release)} -> all.json text (sorted, so stable)."""
    index: dict[str, dict] = {}
    for name, (version, rel) in sorted(projects.items()):
        index.setdefault(normalize(name), {"releases": {}})["releases"][version] = [rel]
    return json.dumps(index, indent=1, sort_keys=True) + "\n"
