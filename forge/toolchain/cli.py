"""`forge toolchain …` commands: create/verify the build root, show its lock, run in it."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from .buildroot import BuildRoot
from .chroot import Bind
from .errors import ToolchainError
from .lock import ToolchainLock

app = typer.Typer(help="The emscripten-wasm32 toolchain (a Debian sid build root).", no_args_is_help=False)
console = Console(stderr=True, soft_wrap=True)

RootOpt = typer.Option(None, "--root", help="Build root directory (default: $FORGE_BUILDROOT or ~/.cache/wasm-forge/buildroot).")


def lock_table(lock: ToolchainLock) -> Table:
    """The lock as a two-column rich table."""
    t = Table(title="toolchain lock", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("version")
    for k in ("emscripten", "clang", "node", "python", "pyodide_build", "pyodide_lock"):
        t.add_row(k, getattr(lock, k))
    t.add_row("debian", f"{lock.debian_suite} ({lock.debian_date})")
    t.add_row("target", ", ".join(f"{k} {v}" for k, v in lock.target.items()))
    t.add_row("root", lock.root_dir)
    t.add_row("created", lock.created)
    return t


def _ensure(root: Optional[Path], rebuild: bool, as_json: bool) -> None:
    br = BuildRoot(root)
    try:
        with console.status("build root") as status:
            lock = br.ensure(progress=lambda msg: status.update(msg), rebuild=rebuild)
    except ToolchainError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(lock.to_dict(), indent=2, sort_keys=True))
    else:
        Console().print(lock_table(lock))


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    root: Optional[Path] = RootOpt,
    rebuild: bool = typer.Option(False, "--rebuild", help="With no subcommand: recreate the root."),
    as_json: bool = typer.Option(False, "--json", help="With no subcommand: print the lock as JSON."),
) -> None:
    """With no subcommand: same as `ensure`."""
    if ctx.invoked_subcommand is None:
        _ensure(root, rebuild=rebuild, as_json=as_json)


@app.command()
def ensure(
    root: Optional[Path] = RootOpt,
    rebuild: bool = typer.Option(False, "--rebuild", help="Recreate the root even if it verifies."),
    as_json: bool = typer.Option(False, "--json", help="Print the lock as JSON."),
) -> None:
    """Create the build root if absent, verify it if present, rebuild it if broken."""
    _ensure(root, rebuild, as_json)


@app.command()
def info(root: Optional[Path] = RootOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show the last recorded lock without touching the root."""
    br = BuildRoot(root)
    if not br.lock_path.is_file():
        console.print(f"[red]error:[/red] no lock at {br.lock_path}; run `forge toolchain ensure` first.")
        raise typer.Exit(1)
    lock = ToolchainLock.read(br.lock_path)
    if as_json:
        print(json.dumps(lock.to_dict(), indent=2, sort_keys=True))
    else:
        Console().print(lock_table(lock))
        Console().print(f"marker: {'ok' if br.is_marked() else 'MISSING'}   log: {br.log_path}")


@app.command("xbuildenv")
def xbuildenv(root: Optional[Path] = RootOpt) -> None:
    """Write the pyodide-build cross environment into the root; print its variables as `export` lines."""
    from .cross_env import prepare_cross_env  # noqa: PLC0415

    br = BuildRoot(root)
    if not br.is_marked():
        console.print(f"[red]error:[/red] no complete build root at {br.root_dir}; run `forge toolchain ensure` first.")
        raise typer.Exit(1)
    try:
        ce = prepare_cross_env(br)
    except ToolchainError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    for k, v in ce.env().items():
        print(f"export {k}={shlex.quote(v)}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    cmd: list[str] = typer.Argument(..., help="Command to run inside the root (put it after --)."),
    root: Optional[Path] = RootOpt,
    bind: list[Path] = typer.Option([], "--bind", "-b", help="Host directory to make visible at the same path."),
    cwd: Optional[str] = typer.Option(None, "--cwd", help="Working directory inside (default: the host cwd)."),
    env: list[str] = typer.Option([], "--env", "-e", help="KEY=VALUE for the command."),
) -> None:
    """Run CMD inside the build root; the current directory is bind-mounted and used as cwd."""
    br = BuildRoot(root)
    if not br.is_marked():
        console.print(f"[red]error:[/red] no complete build root at {br.root_dir}; run `forge toolchain ensure` first.")
        raise typer.Exit(1)
    here = Path.cwd().resolve()
    binds = [Bind(here), *(Bind(b) for b in bind)]
    res = br.run(cmd, env=dict(e.split("=", 1) for e in env), cwd=cwd or str(here), binds=binds, check=False)
    raise typer.Exit(res.returncode)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())


def register(forge_app: typer.Typer) -> None:
    """The `forge.cli` entry point: `forge toolchain ...`."""
    forge_app.add_typer(app, name="toolchain", help="Create, verify and report the emscripten build root.")
