"""The one error type users see: a sentence naming the recipe, the file and the fix."""

from __future__ import annotations

from pathlib import Path


class ForgeError(Exception):
    """An error meant for the user, rendered as one clear sentence.

    Every user-facing failure (bad recipe, missing source, failed build) is raised as this
    type so the CLI can print it without a traceback and exit non-zero.
    """

    def __init__(
        self,
        message: str,
        *,
        recipe: str | None = None,
        file: Path | str | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message.rstrip(". ")
        self.recipe = recipe
        self.file = str(file) if file is not None else None
        self.line = line
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "")
        head = f"recipe '{self.recipe}'" if self.recipe else ""
        if head and where:
            head = f"{head} ({where})"
        elif where:
            head = where
        text = f"{head}: {self.message}" if head else self.message
        if self.fix:
            text += f"; {self.fix.rstrip('.')}"
        return text + "."
