"""CLI for the Pyodide view (`forge pyodide ...`) and `forge serve`. Thin: the work is in
publish_view, validate_lock, toolchain.run_in_pyodide and forge.serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ..config import ForgeConfig
from ..errors import ForgeError

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="The channel's Pyodide view: wheels, pyodide-lock.json, piplite all.json.")
out = Console()
err = Console(stderr=True)

ChannelOpt = typer.Option(None, "--channel", "-c", help="Channel directory (default ./channel or $FORGE_CHANNEL).")


def _channel(channel: Optional[Path]) -> Path:
    return ForgeConfig.load(channel_dir=channel).channel_dir


@app.command()
def view(channel: Optional[Path] = ChannelOpt,
         no_runtime: bool = typer.Option(False, "--no-runtime", help="Don't copy Pyodide's runtime files in."),
         as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Regenerate <channel>/pyodide/ (only packages whose conda file changed are converted)."""
    from .view import publish_view  # noqa: PLC0415

    report = publish_view(_channel(channel), include_runtime=not no_runtime)
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
        return
    err.print(f"[green]view[/] {report.view_dir}: {len(report.packages)} packages "
              f"({len(report.built)} converted, {len(report.reused)} unchanged, "
              f"{len(report.removed)} removed) in {report.seconds:.2f}s")
    for w in report.warnings:
        err.print(f"[yellow]warning[/]: {w}")


@app.command()
def validate(channel: Optional[Path] = ChannelOpt) -> None:
    """Check the view's pyodide-lock.json with pyodide-lock 0.2.1 in the build root."""
    from .lock import validate_lock  # noqa: PLC0415
    from .view import VIEW_DIR  # noqa: PLC0415

    result = validate_lock(_channel(channel) / VIEW_DIR)
    for p in result["problems"]:
        err.print(f"[red]problem[/]: {p}")
    err.print(f"pyodide-lock {result['pyodide_lock']}: {result['packages']} packages, info {result['info']}")
    if result["problems"]:
        raise typer.Exit(1)


@app.command()
def check(names: list[str] = typer.Argument(None, help="Packages to load (default: every package in the view)."),
          channel: Optional[Path] = ChannelOpt) -> None:
    """Load packages from the view in npm Pyodide under node and import what they declare."""
    from ..toolchain.pyodide_dist import LOCK_FILE  # noqa: PLC0415
    from ..toolchain.pyodide_node import PyodideRunError, run_in_pyodide  # noqa: PLC0415
    from .view import VIEW_DIR  # noqa: PLC0415

    view_dir = _channel(channel) / VIEW_DIR
    if not (view_dir / LOCK_FILE).is_file():
        raise ForgeError(f"{view_dir} has no {LOCK_FILE}", fix="make the view first: forge pyodide view")
    lock = json.loads((view_dir / LOCK_FILE).read_text())["packages"]
    unknown = [n for n in names or [] if n not in lock]
    if unknown:
        raise ForgeError(f"the Pyodide view {view_dir} has no package {unknown[0]}",
                         fix=f"build it (forge build {unknown[0]}) or pick one of `forge pyodide validate`'s packages")
    chosen = names or sorted(k for k, v in lock.items() if v["package_type"] == "package")
    imports = sorted({i for n in chosen for i in lock[n]["imports"]})
    code = ("import importlib, json\nfailed = {}\nfor m in %r:\n    try:\n        importlib.import_module(m)\n"
            "    except Exception as e:\n        failed[m] = repr(e)\njson.dumps(failed)" % imports)
    try:
        run = run_in_pyodide(code, view_dir=view_dir, packages=chosen, index_from_view=True)
    except PyodideRunError as exc:
        err.print(f"[red]Pyodide failed[/]: {exc.detail}")
        raise typer.Exit(1) from None
    failed = json.loads(run.result)
    table = Table("what", "value")
    table.add_row("packages loaded", str(len(run.loaded)))
    table.add_row("modules imported", f"{len(imports) - len(failed)}/{len(imports)}")
    table.add_row("loadPyodide", f"{run.load_ms:.0f} ms")
    table.add_row("loadPackage", f"{run.packages_ms:.0f} ms")
    table.add_row("imports", f"{run.run_ms:.0f} ms")
    out.print(table)
    for mod, why in failed.items():
        err.print(f"[red]import {mod} failed[/]: {why}")
    if failed:
        raise typer.Exit(1)


def serve(port: int = typer.Option(8000, "--port", "-p", help="Port on 127.0.0.1 (0: any free port)."),
          host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
          channel: Optional[Path] = ChannelOpt) -> None:
    """Serve the channel (repodata, packages, the Pyodide view) with CORS headers."""
    from ..serve import serve as serve_dir  # noqa: PLC0415

    directory = _channel(channel)
    serve_dir(directory, host, port, announce=lambda url: typer.echo(
        f"serving {directory} at {url}/ (Pyodide: {url}/pyodide/pyodide.mjs); Ctrl-C stops", err=True))


if __name__ == "__main__":  # `python -m forge.pyodide_view.cli` until it is mounted
    root = typer.Typer(no_args_is_help=True, add_completion=False)
    root.add_typer(app, name="pyodide")
    root.command("serve")(serve)
    root()


def register(forge_app: typer.Typer) -> None:
    """The `forge.cli` entry point: `forge pyodide ...` and `forge serve`."""
    forge_app.add_typer(app, name="pyodide", help="The channel's Pyodide view (wheels, pyodide-lock.json, all.json).")
    forge_app.command("serve")(serve)
