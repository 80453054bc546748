"""`forge worker` and `forge farm ...`: start a build worker, look at the farm.

A plugin of the `forge` command (entry point group `forge.cli`, `register`): the core never
imports the farm, and an install without the `[farm]` extra simply has no farm commands.
"""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="The Celery build farm: run a worker, show workers, builds and logs.")
out = Console()
err = Console(stderr=True)

FarmOpt = typer.Option(None, "--farm", "--broker", "-b", envvar="FORGE_FARM",
                       help="Redis URL of the farm (redis://[:PASSWORD@]HOST:PORT/DB or rediss://...); "
                            "default redis://127.0.0.1:6379/0.")


@app.command()
def worker(
    broker: Optional[str] = FarmOpt,
    concurrency: int = typer.Option(1, "--concurrency", "-c", help="Builds this worker runs at once."),
    work_dir: Optional[Path] = typer.Option(None, "--work-dir", envvar="FORGE_WORKER_DIR",
                                            help="This worker's own build root (blob cache, task trees)."),
    hostname: Optional[str] = typer.Option(None, "--hostname", "-n", help="Worker name (default forge@<host>)."),
    loglevel: str = typer.Option("info", "--loglevel", "-l", help="Celery log level."),
) -> None:
    """Run a build worker: takes builds from Redis, needs no shared filesystem."""
    from workers import settings  # noqa: PLC0415

    url = settings.farm_url(broker)
    os.environ["FORGE_FARM"] = url
    os.environ["FORGE_WORKER_CONCURRENCY"] = str(concurrency)
    if work_dir:
        os.environ["FORGE_WORKER_DIR"] = str(work_dir.resolve())
    from workers.app import app as celery_app  # noqa: PLC0415  (reads the environment above)

    celery_app.conf.broker_url = url
    name = hostname or f"forge@{socket.gethostname()}"
    err.print(f"worker {name}: broker {_safe(url)}, work dir {settings.worker_dir()}, concurrency {concurrency}")
    celery_app.worker_main(["worker", "-c", str(concurrency), "-n", name, "-l", loglevel, "-E"])


def _safe(url: str) -> str:
    from kombu.utils.url import maybe_sanitize_url  # noqa: PLC0415

    return maybe_sanitize_url(url)


def _unreachable(url: Optional[str], exc: Exception) -> typer.Exit:
    from workers.settings import farm_url  # noqa: PLC0415

    err.print(f"[red]error:[/] cannot reach the farm's Redis at {_safe(farm_url(url))} ({exc}); "
              "check the URL, password and that redis-server runs", highlight=False)
    return typer.Exit(1)


def _when(ts: str | None) -> str:
    if not ts:
        return "-"
    return datetime.datetime.fromtimestamp(float(ts)).strftime("%H:%M:%S")


@app.command()
def status(
    farm: Optional[str] = FarmOpt,
    limit: int = typer.Option(30, "--limit", help="How many recent builds to list."),
    logs: bool = typer.Option(False, "--logs", help="Print each listed build's log tail too."),
    tail: int = typer.Option(15, "--tail", help="Log lines per build with --logs."),
) -> None:
    """Workers, queue length, and recent builds (queued / running / built / failed) with logs."""
    import redis  # noqa: PLC0415

    from workers.status import farm_status  # noqa: PLC0415

    try:
        st = farm_status(farm, limit=limit)
    except redis.RedisError as exc:
        raise _unreachable(farm, exc) from None
    out.print(f"farm {_safe(st.url)}: {len(st.workers)} worker(s), {st.queued} build(s) waiting in the queue")
    wt = Table(title="workers")
    for col in ("worker", "concurrency", "running", "quarantined"):
        wt.add_column(col, overflow="fold")
    for w in st.workers:
        wt.add_row(w.name, str(w.concurrency or "?"), "\n".join(w.active) or "-", w.quarantined or "-")
    out.print(wt)
    bt = Table(title="builds (newest first)")
    for col in ("task", "recipe", "state", "worker", "queued", "started", "took", "error"):
        bt.add_column(col, overflow="fold")
    for b in st.builds:
        took = f"{float(b['seconds']):.1f}s" if b.get("seconds") else "-"
        bt.add_row(b["id"], b.get("recipe", "?"), b.get("state", "?"), b.get("worker", "-"),
                   _when(b.get("submitted")), _when(b.get("started")), took, (b.get("error") or "")[:120])
    out.print(bt)
    if logs:
        from workers.registry import Registry  # noqa: PLC0415
        from workers.settings import farm_url, redis_client  # noqa: PLC0415

        reg = Registry(redis_client(farm_url(farm)))
        for b in st.builds:
            text = reg.log(b["id"]).splitlines()[-tail:]
            out.print(f"[bold]── {b['id']} ({b.get('recipe')}, {b.get('state')})[/]")
            out.print("\n".join(text) or "(no log yet)", highlight=False, markup=False)


@app.command()
def log(
    what: str = typer.Argument(..., help="A task id or a recipe name (its builds, newest first)."),
    farm: Optional[str] = FarmOpt,
    all_: bool = typer.Option(False, "--all", help="Every build of the recipe, not only the newest."),
) -> None:
    """Print a build's log as the worker streamed it (also kept in the coordinator's log dir)."""
    import redis  # noqa: PLC0415

    from workers.status import build_log  # noqa: PLC0415

    try:
        found = build_log(what, farm)
    except redis.RedisError as exc:
        raise _unreachable(farm, exc) from None
    if not found:
        err.print(f"no build of '{what}' is recorded on the farm (records expire after FORGE_FARM_RECORD_TTL)")
        raise typer.Exit(1)
    for rec, text in found if all_ else found[:1]:
        err.print(f"── {rec['id']} ({rec.get('recipe')}, {rec.get('state')}, worker {rec.get('worker', '-')})")
        out.print(text, highlight=False, markup=False, end="")


@app.command()
def flower(
    farm: Optional[str] = FarmOpt,
    port: int = typer.Option(5555, "--port", help="Port for Flower's web UI."),
    address: str = typer.Option("127.0.0.1", "--address", help="Address Flower listens on."),
) -> None:
    """Run Flower (pip install flower) against the farm: workers, tasks, queues in a browser."""
    from workers import settings  # noqa: PLC0415

    os.environ["FORGE_FARM"] = settings.farm_url(farm)
    from workers.app import app as celery_app  # noqa: PLC0415

    celery_app.start(["flower", f"--port={port}", f"--address={address}"])


def register(forge_app: typer.Typer) -> None:
    """The `forge.cli` entry point: `forge farm ...` and `forge worker`."""
    forge_app.add_typer(app, name="farm", help="The Celery/Redis build farm: status, logs, Flower.")
    forge_app.command("worker")(worker)
