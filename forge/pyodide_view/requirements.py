"""Conda run requirements as PEP 508 requirements, for a wheel's Requires-Dist.

Conda specs and PEP 440 specifiers mostly share syntax; the differences handled here:
a bare version means `==X.*` in conda, `X.*` needs `==`, a build string is dropped, and
an `|` alternative cannot be written in PEP 508 (the constraint is dropped, the name kept).
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

#: Conda names that are not Python distributions: never in Requires-Dist or lock depends.
NOT_PYTHON = frozenset({"python", "python_abi", "pyodide-abi", "emscripten-abi"})


def spec_name(spec: str) -> str:
    """The package name of a conda match spec (`six >=1.5` -> `six`)."""
    return re.split(r"[\s=<>!~\[]", spec.strip(), maxsplit=1)[0]


def _version_part(version: str) -> str | None:
    if not version or version == "*" or "|" in version:
        return None
    parts = []
    for piece in version.split(","):
        piece = piece.strip()
        if re.match(r"^(==|!=|>=|<=|~=|>|<)", piece):
            parts.append(piece)
        elif piece.endswith(".*"):
            parts.append("==" + piece)
        elif piece.startswith("="):
            parts.append("==" + piece.lstrip("=") + ".*")
        else:
            parts.append("==" + piece + ".*")
    return ",".join(parts)


def to_pep508(spec: str) -> str | None:
    """One conda run requirement as PEP 508, or None for non-Python / virtual packages."""
    tokens = spec.split()
    name = spec_name(spec)
    if not name or name.startswith("__") or name in NOT_PYTHON:
        return None
    version = tokens[1] if len(tokens) > 1 else spec[len(name):].strip()
    part = _version_part(version)
    text = name + (part or "")
    try:
        return str(Requirement(text))
    except InvalidRequirement:
        return name
