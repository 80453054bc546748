"""`forge publish FILES`: wheels to a PyPI-compatible index with twine, conda packages to a channel.

Wheels are checked first (the tag a wasm wheel must have: the target's PEP 783 tag, its abi3
forms up to the target's CPython, or py3-none-any) so nothing built for another Pyodide ABI reaches an index. The index
and credentials are twine's own settings: `--repository-url`/`-r NAME` (~/.pypirc), or
TWINE_REPOSITORY_URL, TWINE_USERNAME, TWINE_PASSWORD. Conda packages (`.conda`, `.tar.bz2`)
go into a channel folder through forge.channel (atomic copy + reindex).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ForgeError

CONDA_SUFFIXES = (".conda", ".tar.bz2")


@dataclass
class PublishReport:
    uploaded: list[str] = field(default_factory=list)
    index: str = ""
    channel_files: list[Path] = field(default_factory=list)


def check_wheel_name(whl: Path) -> None:
    """A wheel the forge publishes: pure, or tagged for the target Pyodide ABI (by its file name,
    which is what installers select by, and by its WHEEL file, which must agree)."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename  # noqa: PLC0415

    from ..helpers.pyodide_build import wheel_tags  # noqa: PLC0415
    from ..toolchain import target  # noqa: PLC0415

    try:
        _, _, _, tags = parse_wheel_filename(whl.name)
    except InvalidWheelFilename as exc:
        raise ForgeError(f"{whl} is not a valid wheel file name ({exc})", fix="publish what `forge wheel` wrote") from None
    names = {str(t) for t in tags}
    pure = all(t.platform == "any" and t.abi == "none" for t in tags)
    if not pure and not any(target.installs_here(t) for t in names):
        raise ForgeError(f"{whl.name} is tagged {', '.join(sorted(names))}, not {target.WHEEL_TAG} (Pyodide "
                         f"{target.PYODIDE_VERSION}) or py3-none-any, so it would not install in this Pyodide",
                         fix="build it with `forge wheel` for this forge's pins")
    inside = set(wheel_tags(whl))
    if inside != names:
        raise ForgeError(f"{whl.name}'s WHEEL file says {', '.join(sorted(inside))}, not what its name says",
                         fix="rebuild it with `forge wheel` instead of renaming it")


def _twine_error(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        m = re.search(r"HTTPError: (\d{3}.*)", ln)
        if m:
            return m.group(1)
    errors = [ln for ln in lines if ln.startswith(("ERROR", "InvalidDistribution", "HTTPError")) or "Error" in ln[:40]]
    return (errors or lines or ["no output"])[-1][:300]


def upload(files: list[Path], *, repository_url: str | None = None, repository: str | None = None,
           skip_existing: bool = False) -> PublishReport:
    """twine upload FILES to the index (twine's configuration decides where and as whom)."""
    for f in files:
        if f.suffix == ".whl":
            check_wheel_name(f)
    cmd = [sys.executable, "-m", "twine", "--no-color", "upload", "--non-interactive", "--disable-progress-bar"]
    if repository_url:
        cmd += ["--repository-url", repository_url]
    elif repository:
        cmd += ["--repository", repository]
    if skip_existing:
        cmd.append("--skip-existing")
    where = repository_url or repository or os.environ.get("TWINE_REPOSITORY_URL") or os.environ.get("TWINE_REPOSITORY") or "PyPI"
    proc = subprocess.run([*cmd, *map(str, files)], capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "1000"})
    if proc.returncode != 0 and "NonInteractive" in proc.stdout + proc.stderr:
        raise ForgeError(f"twine has no username or password for {where}, so nothing was uploaded",
                         fix="set TWINE_USERNAME and TWINE_PASSWORD (for PyPI: __token__ and an API token) or add "
                             "the repository to ~/.pypirc")
    if proc.returncode != 0:
        raise ForgeError(f"the index {where} refused the upload of {', '.join(f.name for f in files)} "
                         f"({_twine_error(proc.stdout + proc.stderr)})",
                         fix="check the repository URL and credentials (TWINE_USERNAME/TWINE_PASSWORD or ~/.pypirc), "
                             "and bump the version if that file already exists there")
    return PublishReport(uploaded=[f.name for f in files], index=where)


def to_channel(packages: list[Path], channel: Path) -> list[Path]:
    """Put conda packages into a channel folder (its subdir from each package's index.json)."""
    from rattler.package import IndexJson  # noqa: PLC0415

    from ..channel import Channel  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="forge-publish-") as tmp:
        staged = []
        for pkg in packages:
            subdir = IndexJson.from_package_archive(pkg).subdir or "noarch"
            (Path(tmp) / subdir).mkdir(exist_ok=True)
            shutil.copyfile(pkg, Path(tmp) / subdir / pkg.name)
            staged.append(Path(tmp) / subdir / pkg.name)
        ch = Channel(channel.resolve())
        ch.ensure_layout()
        return ch.publish(staged)


def publish(files: list[Path], *, repository_url: str | None = None, repository: str | None = None,
            channel: Path | None = None, skip_existing: bool = False) -> PublishReport:
    """Wheels (and sdists) to the index, conda packages to CHANNEL."""
    if not files:
        raise ForgeError("there is nothing to publish", fix="pass the files, e.g. `forge publish dist/*`")
    for f in files:
        if not f.is_file():
            raise ForgeError(f"{f} does not exist", fix="build it first (`forge wheel`) or fix the path")
    conda = [f for f in files if f.name.endswith(CONDA_SUFFIXES)]
    dists = [f for f in files if f.suffix == ".whl" or f.name.endswith((".tar.gz", ".zip"))]
    unknown = [f for f in files if f not in conda and f not in dists]
    if unknown:
        raise ForgeError(f"{unknown[0]} is neither a wheel, an sdist nor a conda package",
                         fix="publish .whl, .tar.gz or .conda files")
    if conda and channel is None:
        raise ForgeError(f"{conda[0].name} is a conda package but no channel was given", fix="pass --channel DIR")
    report = upload(dists, repository_url=repository_url, repository=repository,
                    skip_existing=skip_existing) if dists else PublishReport()
    if conda:
        report.channel_files = to_channel(conda, channel)  # type: ignore[arg-type]
    return report
