"""`forge lite --environment environment.yml`: the kernel's packages from a conda environment
file, as jupyterlite-xeus deployers choose them (`--XeusAddon.environment_file`).

The file's `dependencies` are solved against the channel with py-rattler for
emscripten-wasm32 + noarch (what `micromamba create -f environment.yml --platform
emscripten-wasm32 -c CHANNEL` would install; forge.envs.solve_specs). The solved records
are mapped to the channel's Pyodide view (each lock entry names the conda file it came
from), the site's lock and piplite index are cut down to that set plus what the kernel
itself needs to start (with their lock depends), and the set is preloaded by loadPyodide.
`channels:` in the file are not consulted: the site is built from this channel only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..envs import solve_specs
from ..errors import ForgeError

PLATFORM = "emscripten-wasm32"
#: Conda packages that are the runtime itself (not in the view's lock; Pyodide is them)
RUNTIME_NAMES = frozenset({"python", "pyodide-abi"})


@dataclass
class EnvironmentSet:
    """An environment file solved against a channel and mapped onto its Pyodide view."""

    file: Path
    specs: list[str]
    records: list[str]  # name-version-build of every solved record
    lock_keys: list[str]  # the view's lock entries for them (preloaded)
    not_in_view: list[str] = field(default_factory=list)  # solved, but nothing Pyodide loads (data, generic)
    ignored_channels: list[str] = field(default_factory=list)


def read_environment(path: Path) -> tuple[list[str], list[str]]:
    """(dependencies, channels) of a conda environment file; anything else is one sentence."""
    from ruamel.yaml import YAML, YAMLError  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        raise ForgeError(f"the environment file {path} does not exist", fix="pass an existing environment.yml")
    try:
        data = YAML(typ="safe").load(path.read_text())
    except YAMLError as exc:
        raise ForgeError(f"the environment file {path} is not valid YAML ({str(exc).splitlines()[0]})",
                         fix="fix its YAML") from None
    deps = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(deps, list) or not deps:
        raise ForgeError(f"the environment file {path} has no `dependencies:` list",
                         fix="list the conda packages the kernel should have under `dependencies:`")
    specs: list[str] = []
    for d in deps:
        if isinstance(d, dict):
            raise ForgeError(f"the environment file {path} has a `{next(iter(d), '')}:` section in dependencies, "
                             "but a JupyterLite kernel from this channel takes conda packages only",
                             fix="replace the pip entries with the channel's conda packages (forge new PROJECT)")
        specs.append(str(d).strip())
    channels = data.get("channels") or []
    return specs, [str(c) for c in channels]


def solve_environment(path: Path, channel_dir: Path, lock: dict) -> EnvironmentSet:
    """Solve the file's dependencies against the channel and find them in the view's `lock`."""
    path = Path(path)
    specs, channels = read_environment(path)
    try:
        records = solve_specs([str(Path(channel_dir).resolve())], specs, PLATFORM)
    except ForgeError as exc:
        raise ForgeError(f"the environment file {path} cannot be satisfied from the channel {channel_dir}: "
                         f"{exc.message}", fix="build the missing recipes (forge build NAME) or relax the "
                         "file's dependencies") from None
    by_conda = {((e.get("tool") or {}).get("wasm-forge") or {}).get("conda"): k
                for k, e in lock.get("packages", {}).items()}
    names_in_view = {_conda_name(c) for c in by_conda if c}
    keys: list[str] = []
    missing: list[str] = []
    outside: list[str] = []
    for r in records:
        name = r.name.normalized
        if name in RUNTIME_NAMES:
            continue
        key = by_conda.get(f"{r.subdir}/{r.file_name}")
        if key is not None:
            keys.append(key)
        elif name in names_in_view:
            missing.append(f"{name} {r.version} (the view holds only the newest build of each name)")
        else:  # the view leaves out what Pyodide cannot load (no site-packages, no shared library)
            outside.append(name)
    if missing:
        raise ForgeError(f"the environment file {path} solves to packages the channel's Pyodide view does not "
                         f"hold: {', '.join(missing)}", fix="relax the pins to the channel's newest builds, "
                         "or refresh the view (forge pyodide view)")
    return EnvironmentSet(file=path, specs=specs, records=sorted(f"{r.name.normalized}-{r.version}-{r.build}"
                                                                 for r in records),
                          lock_keys=sorted(set(keys)), not_in_view=sorted(outside), ignored_channels=channels)


def _conda_name(conda: str) -> str:
    """`noarch/python-dateutil-2.9-pyh_0.conda` -> `python-dateutil`."""
    return conda.split("/", 1)[-1].rsplit("-", 2)[0]


def closure(lock: dict, roots: list[str]) -> list[str]:
    """`roots` and everything their lock entries depend on."""
    pkgs = lock.get("packages", {})
    seen: set[str] = set()
    todo = [r for r in roots if r in pkgs]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        todo += [d for d in pkgs[key].get("depends", []) if d in pkgs and d not in seen]
    return sorted(seen)


def restrict(lock: dict, all_json: dict, keep: list[str]) -> tuple[dict, dict]:
    """The lock and piplite index with only the `keep` entries (the files stay where they are)."""
    pkgs = lock.get("packages", {})
    new_lock = {**lock, "packages": {k: pkgs[k] for k in sorted(keep) if k in pkgs}}
    files = {e["file_name"] for e in new_lock["packages"].values()}
    new_all: dict = {}
    for project, data in all_json.items():
        releases = {v: [r for r in rels if r.get("filename") in files] for v, rels in data.get("releases", {}).items()}
        releases = {v: rels for v, rels in releases.items() if rels}
        if releases:
            new_all[project] = {**data, "releases": releases}
    return new_lock, new_all


def dumps(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"
