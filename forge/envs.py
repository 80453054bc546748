"""`forge env create`: solve and install an environment from a channel with py-rattler.

This is what `micromamba create --platform emscripten-wasm32 -c CHANNEL SPEC...` does; the
prefix it writes (conda-meta records and history) is what jupyterlite-xeus and python-wasm
read. micromamba itself cannot be installed here.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from .errors import ForgeError


def _channel_source(channel: str):  # noqa: ANN202
    from rattler import Channel  # noqa: PLC0415

    path = Path(channel)
    if "://" not in channel and path.exists():
        return Channel(path.resolve().as_uri())
    return Channel(channel)


async def _solve(channels: list[str], specs: list[str], platform: str) -> list:  # noqa: ANN401
    from rattler import solve  # noqa: PLC0415
    from rattler.virtual_package import VirtualPackage  # noqa: PLC0415

    sources = [_channel_source(c) for c in channels]
    virtual = VirtualPackage.detect() if platform.startswith("linux") else []
    try:
        return await solve(sources, specs, platforms=[platform, "noarch"], virtual_packages=virtual)
    except Exception as exc:  # noqa: BLE001
        first = str(exc).strip().splitlines()
        raise ForgeError(
            f"the specs {' '.join(specs)} cannot be solved for {platform} from {', '.join(channels)}: "
            f"{' '.join(first[:3])[:400]}",
            fix="build the missing recipes (forge build NAME) or relax the specs",
        ) from None


def solve_specs(channels: list[str], specs: list[str], platform: str = "emscripten-wasm32") -> list:
    """The records `micromamba create` would install for `specs` (py-rattler RepoDataRecords),
    without installing them; an unsatisfiable set is a ForgeError."""
    return asyncio.run(_solve(channels, specs, platform))


async def _create(prefix: Path, channels: list[str], specs: list[str], platform: str) -> list[str]:
    from rattler import Subdir, install  # noqa: PLC0415

    records = await _solve(channels, specs, platform)
    await install(records, prefix, platform=Subdir(platform), show_progress=False)
    return sorted(f"{r.name.normalized}-{r.version}-{r.build}" for r in records)


def create_env(prefix: Path, channels: list[str], specs: list[str], platform: str = "emscripten-wasm32") -> list[str]:
    """Solve `specs` for `platform` (+ noarch) and install them into `prefix`; returns the records."""
    prefix = prefix.resolve()
    installed = asyncio.run(_create(prefix, channels, specs, platform))
    history = prefix / "conda-meta" / "history"
    history.parent.mkdir(parents=True, exist_ok=True)
    with history.open("a") as fh:
        fh.write(f"==> {time.strftime('%Y-%m-%d %H:%M:%S')} <==\n")
        fh.write(f"# cmd: forge env create {prefix} --platform {platform} "
                 + " ".join(f"-c {c}" for c in channels) + " " + " ".join(specs) + "\n")
        fh.write(f"# update specs: {specs}\n")
        for rec in installed:
            fh.write(f"+{rec}\n")
    return installed
