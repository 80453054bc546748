"""The package indexes and CA bundle exactly as this machine's pip is configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache


def _pip_config() -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    )
    values: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        if "=" not in line:
            continue
        key, _, raw = line.partition("=")
        key = key.split(".", 1)[-1].strip()  # 'global.index-url' / ':env:.index-url'
        values[key] = raw.strip().strip("'\"")
    return values


def _default_index() -> str:
    # pip's own default, asked from pip so no index host is written in this project.
    from pip._internal.models.index import PyPI  # noqa: PLC0415

    return PyPI.simple_url


@lru_cache(maxsize=1)
def index_urls() -> tuple[str, ...]:
    """Simple-API base URLs in pip's order: index-url (or pip's default), then extra-index-url."""
    env_index = os.environ.get("PIP_INDEX_URL")
    conf = _pip_config()
    primary = env_index or conf.get("index-url") or _default_index()
    extras = (os.environ.get("PIP_EXTRA_INDEX_URL") or conf.get("extra-index-url") or "").split()
    return tuple(u.rstrip("/") for u in [primary, *extras] if u)


@lru_cache(maxsize=1)
def ca_bundle() -> str | None:
    """The CA bundle pip uses (its `cert` setting), if any."""
    return os.environ.get("PIP_CERT") or _pip_config().get("cert") or None


def describe() -> str:
    return json.dumps({"indexes": index_urls(), "cert": ca_bundle()})
