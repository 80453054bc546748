"""The executor interface the scheduler depends on."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol, runtime_checkable

from ..jobs import BuildJob, BuildOutcome


@runtime_checkable
class Executor(Protocol):
    """Runs build jobs somewhere; results come back as futures (packages local to the caller)."""

    #: how many builds may run at once (the scheduler never needs more ready than this)
    slots: int

    def submit(self, job: BuildJob) -> "Future[BuildOutcome]":
        """Start a build; the future's outcome lists package paths readable by the caller."""
        ...

    def shutdown(self) -> None:
        """Stop accepting work and release resources (running builds may be abandoned)."""
        ...
