"""The `forge` command: a thin typer layer over forge.api."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from . import api
from .config import ForgeConfig
from .errors import ForgeError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Build conda recipes for emscripten-wasm32 and noarch into a channel.")
out = Console()
err = Console(stderr=True)

ChannelOpt = typer.Option(None, "--channel", "-c", help="Channel directory (default ./channel or $FORGE_CHANNEL).")
RecipesOpt = typer.Option(None, "--recipes", help="Recipes folder (default <repo>/recipes).")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version  # noqa: PLC0415

        from .toolchain import target  # noqa: PLC0415

        out.print(f"wasm-forge {version('wasm-forge')} (Pyodide {target.PYODIDE_VERSION}: CPython {target.PYTHON_VERSION}, "
                  f"{target.WHEEL_TAG})", highlight=False, soft_wrap=True)
        raise typer.Exit()


@app.callback()
def _root(root: Optional[Path] = typer.Option(
        None, "--root", envvar="FORGE_ROOT",
        help="The recipe repository (default: the nearest folder above the working directory with "
             "recipes/ and conda_build_config.yaml)."),
        _show_version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                           help="Print the forge's version and its target, then exit.")) -> None:
    if root is not None:
        os.environ["FORGE_ROOT"] = str(root.resolve())


def _config(channel: Optional[Path], recipes: Optional[Path]) -> ForgeConfig:
    return ForgeConfig.load(channel_dir=channel, recipes_dir=recipes)


@app.command()
def build(
    names: list[str] = typer.Argument(..., help="Recipes to build (with everything they need)."),
    jobs: int = typer.Option(os.cpu_count() or 1, "--jobs", "-j", help="Builds to run at once."),
    farm: Optional[str] = typer.Option(None, "--farm", envvar="FORGE_FARM", help="Redis URL of a Celery build farm."),
    force: bool = typer.Option(False, "--force", help="Rebuild the named recipes even if published."),
    no_sandbox: bool = typer.Option(False, "--no-sandbox", help=(
        "Run recipe scripts and tests without the sandbox (Linux namespaces: read-only host, no network, "
        "own PIDs), where the kernel refuses namespaces; FORGE_SANDBOX=0 does the same.")),
    channel: Optional[Path] = ChannelOpt,
    recipes: Optional[Path] = RecipesOpt,
) -> None:
    """Build NAMES and what they need that the channel lacks, in dependency order, in parallel."""
    from .progress import RichReporter, summary_table  # noqa: PLC0415

    cfg = _config(channel, recipes)
    if no_sandbox:
        cfg = dataclasses.replace(cfg, sandbox=False)
    executor = None
    if farm:
        found = plugin("forge.executors", "farm")
        if not found:
            raise ForgeError("--farm needs the build farm, which is not installed",
                             fix="pip install 'wasm-forge[farm]'")
        CeleryExecutor = found[0]  # noqa: N806

        executor = CeleryExecutor(farm, cfg)
    present: list[str] = []

    def show_plan(plan: api.Plan) -> None:
        present.extend(r for r in plan.order if r not in plan.to_build)
        if not plan.to_build:
            err.print(f"[green]nothing to build[/]: {', '.join(names)} and {len(plan.order) - len(names)} "
                      f"dependencies are in {cfg.channel_dir}")

    done: dict = {}

    class Reporter(RichReporter):  # keeps what finished, for the summary after Ctrl-C
        def finished(self, result) -> None:  # noqa: ANN001
            done[result.name] = result
            super().finished(result)

    try:
        with Reporter(err) as reporter:
            report = api.build(names, cfg, jobs=jobs, executor=executor, reporter=reporter, force=force,
                               plan_hook=show_plan)
    except KeyboardInterrupt:
        if executor is not None:
            executor.shutdown()
        if done:
            err.print(summary_table(done, present))
        raise
    finally:
        if executor is not None:
            executor.shutdown()
    if report.results:
        err.print(summary_table(report.results, present))
        err.print(f"channel: {cfg.channel_dir}  ({report.seconds:.1f}s)")
    if report.view_error is not None:
        err.print(f"[red]error:[/] the packages are published but the Pyodide view was not refreshed: "
                  f"{report.view_error}", highlight=False, soft_wrap=True)
    if not report.ok:
        failed = report.by_status("failed")
        skipped = report.by_status("skipped")
        if failed or skipped:
            err.print(f"[red]failed: {', '.join(failed)}[/]" + (f"; skipped: {', '.join(skipped)}" if skipped else ""))
        raise typer.Exit(1)


@app.command()
def graph(
    names: list[str] = typer.Argument(..., help="Recipes whose graph to print."),
    dot: bool = typer.Option(False, "--dot", help="Print Graphviz dot instead of the build order."),
    channel: Optional[Path] = ChannelOpt,
    recipes: Optional[Path] = RecipesOpt,
) -> None:
    """Print the build order of NAMES (dependencies first), or the graph as dot."""
    order, dot_text = api.graph_order(names, _config(channel, recipes))
    if dot:
        out.print(dot_text, highlight=False, markup=False)
    else:
        for i, name in enumerate(order, 1):
            out.print(f"{i:3d}. {name}", highlight=False)


@app.command("list")
def list_(channel: Optional[Path] = ChannelOpt, recipes: Optional[Path] = RecipesOpt) -> None:
    """List the recipes and what the channel holds of each."""
    status(channel=channel, recipes=recipes, farm=None, logs=False)


@app.command()
def status(
    channel: Optional[Path] = ChannelOpt,
    recipes: Optional[Path] = RecipesOpt,
    farm: Optional[str] = typer.Option(None, "--farm", help="Show the farm instead: workers, queued/running/done builds, logs."),
    logs: bool = typer.Option(False, "--logs", help="With --farm: each build's log tail."),
) -> None:
    """What the channel holds against what the recipes declare (or, with --farm, the farm)."""
    if farm:
        found = plugin("forge.farm", "status")
        if not found:
            raise ForgeError("--farm needs the build farm, which is not installed",
                             fix="pip install 'wasm-forge[farm]'")
        farm_status = found[0]

        farm_status(farm=farm, limit=30, logs=logs, tail=15)
        return
    rows = api.status(_config(channel, recipes))
    table = Table(title="recipes vs channel")
    for col in ("recipe", "version", "outputs", "published", "in channel"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.name, r.version, "\n".join(r.outputs),
                      "[green]yes[/]" if r.published else "[yellow]no[/]", "\n".join(r.in_channel) or "-")
    out.print(table)


@app.command()
def index(channel: Optional[Path] = ChannelOpt) -> None:
    """Rebuild the channel's repodata from its package files."""
    from .channel import Channel  # noqa: PLC0415

    cfg = _config(channel, None)
    Channel(cfg.channel_dir).reindex()
    out.print(f"indexed {cfg.channel_dir}")


@app.command()
def new(
    project: str = typer.Argument(..., help="PyPI project name."),
    version: Optional[str] = typer.Option(None, "--version", help="Release (default: newest)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing recipe."),
    recipes: Optional[Path] = RecipesOpt,
) -> None:
    """Write a recipe for a PyPI project from its sdist: noarch: python, or the compiled form when it builds native code."""
    from .newrecipe import new_recipe  # noqa: PLC0415

    cfg = _config(None, recipes)
    path = new_recipe(project, cfg.recipes_dir, cfg.cache_dir, version=version, overwrite=force)
    out.print(f"wrote {path}")


@app.command("test")
def test_(
    name: str = typer.Argument(..., help="Recipe whose published emscripten-wasm32 package to test."),
    channel: Optional[Path] = ChannelOpt,
    recipes: Optional[Path] = RecipesOpt,
) -> None:
    """Run NAME's tests in WebAssembly (python-wasm under node) against the channel."""
    from .wasmtest import test_recipe  # noqa: PLC0415

    reports = test_recipe(name, _config(channel, recipes))
    for r in reports:
        if r.ok:
            out.print(f"[green]ok[/] {r.package}: {', '.join(r.passed) or 'no tests'} ({r.seconds:.1f}s)", highlight=False)
        else:
            err.print(f"[red]failed[/] {r.package}: {r.error}", highlight=False, soft_wrap=True)
    out.print(f"log: {getattr(reports[0], 'log_path', '')}", highlight=False)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_(
    ctx: typer.Context,
    prefix: Optional[Path] = typer.Option(None, "--prefix", "-p", envvar="FORGE_WASM_PREFIX",
                                          help="emscripten-wasm32 prefix (default .forge/envs/default: python + pytest from the channel)."),
    channel: Optional[Path] = ChannelOpt,
) -> None:
    """python-wasm ARGS: run CPython in WebAssembly against PREFIX (`forge run -- -c 'print(1)'`)."""
    from .wasmtest import default_prefix, run_python_wasm  # noqa: PLC0415

    cfg = _config(channel, None)
    target = prefix or default_prefix(cfg)
    raise typer.Exit(run_python_wasm(target, list(ctx.args)))


@app.command()
def lint(
    names: list[str] = typer.Argument(None, help="Recipes to check (default: all)."),
    rules: bool = typer.Option(False, "--rules", help="List the rules and exit."),
    recipes: Optional[Path] = RecipesOpt,
) -> None:
    """Check recipes against the forge's rules (IDs FL000-FL009); errors exit 1."""
    from .lint import RULES, lint_recipe  # noqa: PLC0415
    from .recipes import recipe_folders  # noqa: PLC0415

    if rules:
        for rid, (summary, _fn) in RULES.items():
            out.print(f"{rid}  {summary}", highlight=False)
        return
    folders = recipe_folders(_config(None, recipes).recipes_dir)
    unknown = [n for n in names or [] if n not in folders]
    if unknown:
        raise ForgeError(f"there is no recipe named {', '.join(unknown)}", fix="run `forge list`")
    errors = 0
    for name in names or sorted(folders):
        for finding in lint_recipe(name, folders[name]):
            errors += finding.severity == "error"
            out.print(str(finding), highlight=False, soft_wrap=True)
    out.print(f"{errors} error(s)")
    if errors:
        raise typer.Exit(1)


@app.command()
def changed(
    base: Optional[str] = typer.Option(None, "--base", help="Git revision to compare against (default HEAD~1; none with --core)."),
    core: bool = typer.Option(False, "--core", help="Also the recipes tagged core (extra.tags), as every CI run builds."),
    recipes: Optional[Path] = RecipesOpt,
) -> None:
    """Recipes changed since BASE and everything depending on them, in build order (for CI:
    `forge build $(forge changed --core --base origin/main)`)."""
    from .changes import affected, ci_selection  # noqa: PLC0415
    from .workspace import Workspace  # noqa: PLC0415

    ws = Workspace(_config(None, recipes))
    for name in ci_selection(ws, base) if core else affected(ws, base or "HEAD~1"):
        out.print(name, highlight=False)


env_app = typer.Typer(no_args_is_help=True, help="Environments from the channel (py-rattler solve + install).")
app.add_typer(env_app, name="env")


@env_app.command("create")
def env_create(
    prefix: Path = typer.Argument(..., help="Prefix directory to create."),
    specs: list[str] = typer.Argument(..., help="Package specs, e.g. pytest 'numpy>=2'."),
    channel: list[str] = typer.Option([], "--channel", "-c", help="Channels (default: the forge channel)."),
    platform: str = typer.Option("emscripten-wasm32", "--platform", help="Target subdir."),
) -> None:
    """Create PREFIX with SPECS, like `micromamba create -p PREFIX --platform P -c CHANNEL SPECS`."""
    from .envs import create_env  # noqa: PLC0415

    channels = channel or [str(_config(None, None).channel_dir)]
    for rec in create_env(prefix, channels, specs, platform):
        out.print(f"  + {rec}", highlight=False)
    out.print(f"created {prefix} ({platform})")


@app.command()
def report(
    channel: Optional[Path] = ChannelOpt,
    check: bool = typer.Option(False, "--check-imports", help="First load every package of the Pyodide view in "
                               "npm Pyodide (node) and record whether its imports work."),
    as_json: bool = typer.Option(False, "--json", help="Print index.json instead of a summary."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the table as markdown (for $GITHUB_STEP_SUMMARY)."),
) -> None:
    """Write the channel's breadth page: index.html + index.json (+ repl.html), served by `forge serve`."""
    import json  # noqa: PLC0415

    from .report import INDEX_HTML, render_markdown, write_report  # noqa: PLC0415

    cfg = _config(channel, None)
    rep = write_report(cfg.channel_dir, check=check, cache_dir=cfg.cache_dir)
    if as_json:
        out.print_json(json.dumps(rep.to_dict()))
        return
    if markdown:
        sys.stdout.write(render_markdown(rep))
        return
    counts = rep.to_dict()["counts"]
    err.print(f"[green]report[/] {cfg.channel_dir / INDEX_HTML}: {counts['packages']} packages "
              f"({counts['noarch']} noarch, {counts['compiled']} compiled, {counts['shared library']} shared libraries), "
              f"{counts['upstream_tests_passed']} upstream tests passed in wasm ({rep.seconds:.1f}s)", highlight=False)


@app.command()
def outdated(
    names: list[str] = typer.Argument(None, help="Recipes to check (default: all)."),
    recipes: Optional[Path] = RecipesOpt,
) -> None:
    """Recipes whose PyPI sdist has a newer release on the index pip is configured with."""
    from .bump import outdated as find_outdated  # noqa: PLC0415

    rows = find_outdated(_config(None, recipes).recipes_dir, names or None)
    for r in rows:
        out.print(f"{r.recipe}  {r.current} -> {r.latest}", highlight=False)
    err.print(f"{len(rows)} recipe(s) outdated")


@app.command()
def bump(
    name: str = typer.Argument(..., help="Recipe to update."),
    version: Optional[str] = typer.Option(None, "--version", help="Release to move to (default: the newest)."),
    recipes: Optional[Path] = RecipesOpt,
) -> None:
    """Set NAME's context.version and sdist sha256 in place (comments and formatting kept)."""
    from .bump import bump as do_bump  # noqa: PLC0415

    cfg = _config(None, recipes)
    b = do_bump(name, cfg.recipes_dir, cfg.cache_dir, version=version)
    if b.changed:
        out.print(f"{b.recipe}: {b.old_version} -> {b.new_version} (sha256 {b.new_sha256}) in {b.file}", highlight=False)
    else:
        out.print(f"{b.recipe} is already at {b.new_version}", highlight=False)


@app.command("split-tests")
def split_tests(
    names: list[str] = typer.Argument(..., help="Recipes whose file-carrying tests move into a `<name>-tests` output."),
    recipes: Optional[Path] = RecipesOpt,
) -> None:
    """Move NAME's tests that pack files into a `<name>-tests` output (build number + 1, comments kept)."""
    from .recipes import recipe_folders  # noqa: PLC0415
    from .testsplit import split_recipe  # noqa: PLC0415

    folders = recipe_folders(_config(None, recipes).recipes_dir)
    unknown = [n for n in names if n not in folders]
    if unknown:
        raise ForgeError(f"there is no recipe named {', '.join(unknown)}", fix="run `forge list`")
    for name in names:
        moved = split_recipe(folders[name], recipe=name)
        out.print(f"{name}: " + ("its tests with files are now in the output " + f"{name}-tests" if moved
                                 else "no test packs files; nothing to move"), highlight=False)


def plugin(group: str, name: str | None = None) -> list:
    """Objects other packages register under an entry point group (pyodide-build's
    `pyodide.cli` way): sub-commands, the farm's executor. One that cannot be imported
    (its extra not installed) is left out."""
    from importlib.metadata import entry_points  # noqa: PLC0415

    found = []
    for ep in entry_points(group=group):
        if name is None or ep.name == name:
            try:
                found.append(ep.load())
            except ImportError:
                continue
    return found


def _mount_plugins() -> None:
    """Sub-CLIs (toolchain, pyodide, lite, farm, the library authors' commands) register
    themselves through `forge.cli`."""
    for register in plugin("forge.cli"):
        register(app)


_mount_plugins()


INTERRUPTED = "[yellow]interrupted[/]: nothing half-published; run the same command to resume"
_sigint = False


def _on_sigint(signum: int, frame: object) -> None:
    """Remember the Ctrl-C (typer turns KeyboardInterrupt into a plain exit 130 before main sees
    it); a second Ctrl-C must not cut short the clean-up that ends the build processes."""
    global _sigint
    _sigint = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: ForgeError becomes one line and exit 1, never a traceback."""
    code = 0
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        # with standalone_mode=False, click returns (not raises) the code of a typer.Exit
        rv = app(standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except ForgeError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        code = 1
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        code = 130
        if not _sigint:
            err.print(INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 — click usage errors (typer vendors click), else a bug
        if any(c.__name__ == "ClickException" for c in type(exc).__mro__):
            exc.show()  # type: ignore[attr-defined]
            code = exc.exit_code  # type: ignore[attr-defined]
        elif os.environ.get("FORGE_DEBUG"):
            raise
        else:
            err.print(f"[red]internal error:[/] {type(exc).__name__}: {exc} "
                      "(a forge bug; rerun with FORGE_DEBUG=1 for the traceback)", highlight=False, soft_wrap=True)
            code = 2
    if _sigint and code == 130:
        err.print(INTERRUPTED)
    sys.stdout.flush()
    sys.stderr.flush()
    # py-rattler may crash at interpreter exit after its work is done: leave without teardown.
    os._exit(code)


if __name__ == "__main__":
    main()
