"""The channels an author's command uses, with the platform's `python` guaranteed in one of them.

A wasm venv and a cross build both start from the emscripten-wasm32 `python` package (Pyodide's
CPython). In a recipe repository it comes from the repository's channel; anywhere else from the
user's own channel (forge.locations). When none of the channels holds it, it is built once from
the forge's platform recipe into the repository's (or the user's) channel, as `forge build python`
would, and every later run reuses it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from ..config import TARGET_PLATFORM, ForgeConfig
from ..errors import ForgeError


def has_python(channel: str) -> bool:
    """True if a local channel's emscripten-wasm32 repodata lists `python`."""
    rd = Path(channel) / TARGET_PLATFORM / "repodata.json"
    if "://" in channel or not rd.is_file():
        return False
    data = json.loads(rd.read_text())
    return any(rec.get("name") == "python" for key in ("packages", "packages.conda")
               for rec in (data.get(key) or {}).values())


def author_channels(given: list[str], config: ForgeConfig, say: Callable[[str], None] = lambda _m: None) -> list[str]:
    """GIVEN (or the configuration's channel), plus the configuration's channel with `python` built
    into it when no local channel of GIVEN has it (a remote channel is trusted to have it)."""
    channels = list(given) or [str(config.channel_dir)]
    if any(has_python(c) or "://" in c for c in channels):
        return channels
    from .. import api  # noqa: PLC0415

    say(f"first use: building the platform's python (Pyodide's CPython for {TARGET_PLATFORM}) into {config.channel_dir}")
    t0 = time.monotonic()
    report = api.build(["python"], config, jobs=1, view=False)
    failed = {n: r for n, r in report.results.items() if r.status != "built"}
    if failed:
        name, res = next(iter(failed.items()))
        why = res.error or res.status
        raise ForgeError(f"the platform package {name} could not be built into {config.channel_dir}: {why}",
                         fix="run `forge build python` to see the build's log")
    say(f"built python into {config.channel_dir} in {time.monotonic() - t0:.0f}s (reused from now on)")
    if str(config.channel_dir) not in channels:
        channels.append(str(config.channel_dir))
    return channels
