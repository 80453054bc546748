"""CLI for library authors (thin: forge.authors.* hold the logic and the tests call those)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ..config import ForgeConfig

out = Console()
err = Console(stderr=True)

ChannelsOpt = typer.Option([], "--channel", "-c", help="Channels (default: the forge channel, ./channel or $FORGE_CHANNEL).")


def _channels(channel: list[str]) -> list[str]:
    """--channel, else the repository's (or, outside one, the user's) channel; with `python` in one."""
    from .platform import author_channels  # noqa: PLC0415

    return author_channels(channel, ForgeConfig.load(), say=lambda m: err.print(m, highlight=False, soft_wrap=True))


def venv(
    path: Path = typer.Argument(..., help="Folder to create."),
    specs: list[str] = typer.Argument(None, help="Extra conda specs from the channel (e.g. numpy)."),
    channel: list[str] = ChannelsOpt,
    clear: bool = typer.Option(False, "--clear", help="Replace an existing forge venv."),
) -> None:
    """A venv whose bin/python is CPython in WebAssembly (node >= 24, pip inside, JSPI)."""
    from .venv import create_venv  # noqa: PLC0415

    v = create_venv(path, _channels(channel), list(specs or []), clear=clear)
    out.print(f"created {v.path}: {v.python} is CPython in WebAssembly under {v.node}\n"
              f"  {v.python} -m pip install NAME     {v.python} -m pytest", highlight=False, soft_wrap=True)


def wheel(
    path: Path = typer.Argument(Path("."), help="Project folder or sdist."),
    outdir: Path = typer.Option(Path("dist"), "--outdir", "-o", help="Where the wheel goes."),
    channel: list[str] = ChannelsOpt,
) -> None:
    """Build PATH into a PEP 783 wheel (or py3-none-any), checked like the channel's packages."""
    from .wheel import build_wheel  # noqa: PLC0415

    r = build_wheel(path, outdir, _channels(channel), ForgeConfig.load())
    extra = f"; from the channel: {', '.join(r.from_channel)}" if r.from_channel else ""
    out.print(f"built {r.wheel} ({'pure' if r.pure else 'wasm'}, {r.seconds:.1f}s{extra})", highlight=False, soft_wrap=True)


def wasm_test(
    wheels: list[Path] = typer.Argument(..., help="Wheels to install (with their [test] extra)."),
    project: Path = typer.Option(Path("."), "--project", "-p", help="Folder pytest runs in."),
    venv_dir: Optional[Path] = typer.Option(None, "--venv", help="Use this forge venv (made when missing; default: a temp one)."),
    extras: str = typer.Option("test", "--extras", help="Extras to install ('' for none)."),
    pytest_args: str = typer.Option("", "--pytest-args", help="Arguments for pytest, e.g. '-x tests'."),
    channel: list[str] = ChannelsOpt,
) -> None:
    """forge venv + pip install WHEELS[test] + python -m pytest, in wasm; exits with pytest's status."""
    import shlex  # noqa: PLC0415

    from .ci import wasm_pytest  # noqa: PLC0415

    r = wasm_pytest(wheels, project, _channels(channel), venv_dir=venv_dir, extras=extras,
                    pytest_args=shlex.split(pytest_args), echo=True)
    for f in r.failures:
        err.print(f"failing test (in wasm): {f.nodeid}: {f.reason}", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(r.exit_code)


def publish(
    files: list[Path] = typer.Argument(..., help="Wheels/sdists (to the index) and .conda files (to --channel)."),
    repository_url: Optional[str] = typer.Option(None, "--repository-url", envvar="TWINE_REPOSITORY_URL",
                                                 help="Index upload URL (default: twine's, i.e. PyPI)."),
    repository: Optional[str] = typer.Option(None, "--repository", "-r", help="A ~/.pypirc section."),
    channel: Optional[Path] = typer.Option(None, "--channel", "-c", help="Channel folder for conda packages."),
    skip_existing: bool = typer.Option(False, "--skip-existing", help="Do not fail on files the index has."),
) -> None:
    """Upload wheels with twine (credentials: TWINE_USERNAME/TWINE_PASSWORD or ~/.pypirc); conda packages to a channel."""
    from .publish import publish as do_publish  # noqa: PLC0415

    r = do_publish(files, repository_url=repository_url, repository=repository, channel=channel,
                   skip_existing=skip_existing)
    for name in r.uploaded:
        out.print(f"uploaded {name} to {r.index}", highlight=False, soft_wrap=True)
    for p in r.channel_files:
        out.print(f"published {p}", highlight=False, soft_wrap=True)


def ci(
    path: Path = typer.Argument(Path("."), help="Project folder or sdist."),
    outdir: Optional[Path] = typer.Option(None, "--outdir", "-o", help="Where the wheel goes (default PATH/dist)."),
    pytest_args: str = typer.Option("", "--pytest-args", help="Arguments for pytest."),
    extras: str = typer.Option("test", "--extras", help="Extras installed with the wheel."),
    publish_url: Optional[str] = typer.Option(None, "--publish-url", help="Upload to this index when tests pass."),
    repository: Optional[str] = typer.Option(None, "--repository", "-r", help="Or to this ~/.pypirc section."),
    summary: Optional[Path] = typer.Option(None, "--summary", help="Append the markdown summary here too "
                                           "($GITHUB_STEP_SUMMARY is used when set)."),
    channel: list[str] = ChannelsOpt,
) -> None:
    """Build PATH's wheel, test it in wasm (pytest), publish it when asked; markdown summary."""
    import shlex  # noqa: PLC0415

    from .ci import run_ci  # noqa: PLC0415

    r = run_ci(path, _channels(channel), ForgeConfig.load(), outdir=outdir, pytest_args=shlex.split(pytest_args),
               extras=extras, publish_url=publish_url, repository=repository, summary=summary, echo=True)
    print(r.markdown(), flush=True)  # plain text: rich would re-wrap the markdown
    if r.error:
        err.print(f"[red]error:[/] {r.error}", highlight=False, soft_wrap=True)
    raise typer.Exit(r.exit_code)


def register(app: typer.Typer) -> None:
    """Mount the commands on the `forge` app."""
    app.command("venv")(venv)
    app.command("wheel")(wheel)
    app.command("wasm-test")(wasm_test)
    app.command("publish")(publish)
    app.command("ci")(ci)
