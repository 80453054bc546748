"""`forge lite`: thin CLI over forge.lite.build_site (mount with `app.command("lite")(lite_command)`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ..config import ForgeConfig

out = Console()
err = Console(stderr=True)


def lite_command(
    channel: Optional[Path] = typer.Option(None, "--channel", "-c",
                                           help="Channel directory (default ./channel or $FORGE_CHANNEL)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Site directory (default .forge/lite)."),
    contents: list[Path] = typer.Option([], "--contents", help="Files or folders to put in the site (repeatable)."),
    preload: bool = typer.Option(False, "--preload", help="Load the kernel's packages with loadPyodide "
                                 "(in parallel with the runtime) instead of through piplite."),
    environment: Optional[Path] = typer.Option(None, "--environment", "-e", help="A conda environment file: "
                                               "the kernel gets exactly its solved dependencies, preloaded."),
    conda: bool = typer.Option(False, "--conda", help="Serve the channel and a solver from the site, so "
                               "`%conda install` works in the kernel."),
    snapshot: bool = typer.Option(False, "--snapshot", help="Start the kernel from a memory snapshot made "
                                  "now (under node): the first cell answers seconds sooner."),
    compress: bool = typer.Option(True, "--compress/--no-compress", help="zstd and gzip twins of text "
                                  "and wasm files, sent with Content-Encoding by --serve / forge serve."),
    serve: bool = typer.Option(False, "--serve", help="Serve the site on 127.0.0.1 afterwards."),
    port: int = typer.Option(8000, "--port", "-p", help="Port for --serve (0: any free port)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Build a JupyterLite site whose Pyodide kernel runs offline from the channel's Pyodide view."""
    from .site import CHANNEL_STARTUP, build_site  # noqa: PLC0415

    cfg = ForgeConfig.load(channel_dir=channel)
    site = output or cfg.state_dir / "lite"
    report = build_site(cfg.channel_dir, site, contents=tuple(contents),
                        preload=CHANNEL_STARTUP if preload else (), environment=environment,
                        conda=conda, snapshot=snapshot, compress=compress)
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
    else:
        err.print(f"[green]site[/] {report.output_dir}: {report.files} files, {report.bytes / 1e6:.1f} MB "
                  f"(Pyodide + {len(report.lock_packages)} channel packages: {report.pyodide_bytes / 1e6:.1f} MB) "
                  f"in {report.seconds:.1f}s")
        if report.environment:
            env = report.environment
            err.print(f"environment {env['file']}: {len(env['records'])} packages solved, "
                      f"preloaded: {', '.join(env['lock_keys'])}", highlight=False)
        if report.conda:
            c = report.conda
            err.print(f"%conda install: {len(c['packages'])} channel packages ({c['bytes'] / 1e6:.1f} MB) and "
                      f"{c['solver']} ({c['solver_bytes'] / 1e6:.1f} MB) in static/conda/", highlight=False)
        if report.snapshot:
            sn = report.snapshot
            err.print(f"kernel snapshot: {sn['snapshot_bytes'] / 1e6:.1f} MB memory + {sn['files']} files "
                      f"({sn['files_bytes'] / 1e6:.1f} MB), {len(sn['packages'])} packages, made in {sn['seconds']:.1f}s",
                      highlight=False)
        if report.compressed:
            c = report.compressed
            err.print(f"precompressed {c['files']} files, {c['bytes'] / 1e6:.1f} MB: gzip "
                      f"{c['gz_bytes'] / 1e6:.1f} MB, zstd {c['zst_bytes'] / 1e6:.1f} MB", highlight=False)
        for w in report.warnings:
            err.print(f"[yellow]warning[/]: {w}")
    if serve:
        from ..serve import serve as serve_dir  # noqa: PLC0415

        serve_dir(report.output_dir, "127.0.0.1", port,
                  announce=lambda url: err.print(f"serving {url}/lab/index.html (Ctrl-C stops)"))


app = typer.Typer(add_completion=False, help="JupyterLite sites from the channel.")
app.command("lite")(lite_command)



def main() -> None:
    """`python -m forge.lite.cli`: a ForgeError is one line and exit 1, as under `forge`."""
    from ..errors import ForgeError  # noqa: PLC0415

    try:
        app()
    except ForgeError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()


def register(forge_app: typer.Typer) -> None:
    """The `forge.cli` entry point: `forge lite`."""
    forge_app.command("lite")(lite_command)
