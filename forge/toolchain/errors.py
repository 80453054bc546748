"""The toolchain's error: a ForgeError (the one type users see), so the CLI renders it as one
sentence wherever it surfaces, even after a build (the view refresh)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ForgeError


class ToolchainError(ForgeError):
    """A toolchain step failed; the message names the step, the log and the fix."""

    def __init__(self, message: str, log_path: Path | None = None) -> None:
        super().__init__(message)
        self.log_path = log_path


def step_failed(what: str, log_path: Path | None, hint: str) -> ToolchainError:
    """Build the one-sentence error: what failed, where the log is, what to do."""
    where = f" (log: {log_path})" if log_path else ""
    return ToolchainError(f"{what} failed{where}; {hint}.", log_path)
