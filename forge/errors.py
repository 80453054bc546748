"""The one error type users see: a sentence naming the recipe, the file and the fix.

It is also what a failed build hands back (`jobs.BuildOutcome.error`): the fields travel as JSON
(`to_dict` / `from_dict`, the farm's wire format included) and are rendered here, only here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The fields a ForgeError carries (and its JSON form holds).
FIELDS = ("message", "recipe", "file", "line", "cause", "log", "fix")


class ForgeError(Exception):
    """An error meant for the user, rendered as one clear sentence.

    Every user-facing failure (bad recipe, missing source, failed build) is raised as this
    type so the CLI can print it without a traceback and exit non-zero. The sentence is
    `recipe 'R' (file:line): what: cause; see the log L and fix.` (each part when known).
    """

    def __init__(
        self,
        message: str,
        *,
        recipe: str | None = None,
        file: Path | str | None = None,
        line: int | None = None,
        fix: str | None = None,
        cause: str | None = None,
        log: Path | str | None = None,
    ) -> None:
        self.message = message.rstrip(". ")
        self.recipe = recipe
        self.file = str(file) if file is not None else None
        self.line = line
        self.fix = fix
        self.cause = cause
        self.log = str(log) if log is not None else None
        super().__init__(str(self))

    def __reduce__(self) -> tuple[Any, ...]:  # pickles with its fields (process pools, subclasses too)
        return (_rebuild, (type(self), self.to_dict(), self.__dict__))

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
        if self.cause:
            text += f": {self.cause.rstrip('. ')}"
        tail = [f"see the log {self.log}"] if self.log else []
        if self.fix:
            tail.append(self.fix.rstrip("."))
        if tail:
            text += "; " + " and ".join(tail)
        return text + "."

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values (a build outcome's `error`, across the farm too)."""
        return {k: getattr(self, k) for k in FIELDS if getattr(self, k) is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | str) -> ForgeError:
        """Back from `to_dict` (a plain sentence from an older peer becomes the message)."""
        if isinstance(data, str):
            return cls(data)
        return cls(**{k: data[k] for k in FIELDS if k in data})


def _rebuild(kind: type, fields: dict[str, Any], state: dict[str, Any]) -> ForgeError:
    err = Exception.__new__(kind)
    Exception.__init__(err, ForgeError.from_dict(fields).args[0])
    err.__dict__.update(state)
    return err
