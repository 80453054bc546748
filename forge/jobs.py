"""What travels between the coordinator and whoever builds: a job and its outcome.

Both are plain JSON-serialisable dataclasses so that the embedded pool and Celery workers
exchange exactly the same thing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ForgeError


@dataclass
class BuildJob:
    """Everything needed to build one recipe into a staging directory."""

    recipe: str
    recipe_dir: str
    recipe_file: str  # as shown to users (relative to the repo)
    platforms: list[str]  # platforms to render and build for (noarch: one of them)
    outputs: list[str]  # expected "<subdir>/<filename>" of the packages
    channel_url: str  # where dependencies and test environments come from
    variant_file: str | None
    sources: list[str]  # verified archives (paths on the building machine)
    wheelhouse: str | None
    work_dir: str
    log_path: str
    attempt: int = 1
    #: run its scripts and tests in Linux namespaces (forge.sandbox); False only by --no-sandbox
    sandbox: bool = True
    #: Debian's crates for a Rust sdist that vendors none (forge.crates; in the download cache)
    crates: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "BuildJob":
        return cls(**json.loads(text))


@dataclass
class BuildOutcome:
    """What a build produced: package paths on success, the ForgeError otherwise (its fields
    travel as JSON; errors.ForgeError renders the sentence)."""

    recipe: str
    ok: bool
    packages: list[str] = field(default_factory=list)
    error: ForgeError | None = None
    log_path: str | None = None
    seconds: float = 0.0
    transient: bool = False  # worth retrying (infrastructure, not the recipe)
    worker: str | None = None
    #: what the wasm tests proved, per "<subdir>/<filename>": {"checks": [...], "upstream_passed":
    #: N or None, "seconds": s}; carried to the coordinator (farm builds too), which records it
    #: in the channel beside the package (forge report reads it)
    tests: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["packages"] = list(self.packages)
        data["error"] = self.error.to_dict() if self.error is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BuildOutcome":
        data = dict(data)
        if data.get("error") is not None:
            data["error"] = ForgeError.from_dict(data["error"])
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "BuildOutcome":
        return cls.from_dict(json.loads(text))

    @property
    def error_text(self) -> str | None:
        """The error's one sentence (None on success)."""
        return str(self.error) if self.error is not None else None

    @property
    def package_paths(self) -> list[Path]:
        return [Path(p) for p in self.packages]
