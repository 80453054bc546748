"""Rich display of a build: a progress bar, one line per event, and a summary table."""

from __future__ import annotations

import os
import threading

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .jobs import BuildJob
from .scheduler import RecipeResult

STYLE = {"built": "green", "failed": "red", "skipped": "yellow", "present": "dim"}


class RichReporter:
    """Implements scheduler.Reporter on a rich console."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=self.console, transient=False,
        )
        self._task = None
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> "RichReporter":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _describe(self) -> str:
        run = ", ".join(sorted(self._running)) or "-"
        return f"building: {run}"

    def queued(self, names: list[str]) -> None:
        self._task = self.progress.add_task(self._describe(), total=len(names))
        if names:
            self.console.print(f"[dim]queued {len(names)}: {' '.join(names)}[/]")

    def started(self, name: str, job: BuildJob) -> None:
        with self._lock:
            self._running.add(name)
            self.console.print(f"[cyan]▶ {name}[/] [dim]log {short_path(job.log_path)}[/]")
            self.progress.update(self._task, description=self._describe())

    def finished(self, result: RecipeResult) -> None:
        with self._lock:
            self._running.discard(result.name)
            mark = {"built": "✔", "failed": "✘", "skipped": "⏭"}.get(result.status, "•")
            extra = f" {result.seconds:.1f}s" if result.status == "built" else f" {result.error}"
            self.console.print(f"[{STYLE.get(result.status, '')}]{mark} {result.name}[/]{extra}", highlight=False)
            self.progress.update(self._task, advance=1, description=self._describe())


def short_path(path: str | None) -> str:
    """A log path relative to the working directory when it is below it (readable tables)."""
    if not path:
        return ""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    except ValueError:
        return path


def summary_table(results: dict[str, RecipeResult], present: list[str]) -> Table:
    table = Table(title="forge build summary")
    table.add_column("recipe")
    table.add_column("status")
    table.add_column("time", justify="right")
    table.add_column("log / reason")
    for name in present:
        table.add_row(name, "[dim]already in channel[/]", "", "")
    for name, r in results.items():
        table.add_row(
            name, f"[{STYLE.get(r.status, '')}]{r.status}[/]",
            f"{r.seconds:.1f}s" if r.seconds else "",
            short_path(r.log) if r.status == "built" else (r.error or ""),
        )
    return table
