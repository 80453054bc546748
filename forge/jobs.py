"""What travels between the coordinator and whoever builds: a job and its outcome.

Both are plain JSON-serialisable dataclasses so that the embedded pool and Celery workers
exchange exactly the same thing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


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

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "BuildJob":
        return cls(**json.loads(text))


@dataclass
class BuildOutcome:
    """What a build produced: package paths on success, one-sentence error otherwise."""

    recipe: str
    ok: bool
    packages: list[str] = field(default_factory=list)
    error: str | None = None
    log_path: str | None = None
    seconds: float = 0.0
    transient: bool = False  # worth retrying (infrastructure, not the recipe)
    worker: str | None = None
    #: what the wasm tests proved, per "<subdir>/<filename>": {"checks": [...], "upstream_passed":
    #: N or None, "seconds": s}; carried to the coordinator (farm builds too), which records it
    #: in the channel beside the package (forge report reads it)
    tests: dict[str, dict] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "BuildOutcome":
        return cls(**json.loads(text))

    @property
    def package_paths(self) -> list[Path]:
        return [Path(p) for p in self.packages]
