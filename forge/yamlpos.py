"""Line numbers for recipe errors: rattler-build names a field, ruamel.yaml knows where it is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError


def yaml_syntax_error(path: Path) -> tuple[int | None, str] | None:
    """Return (line, problem) when the file is not well-formed YAML, else None."""
    try:
        YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return (mark.line + 1 if mark else None, exc.problem or str(exc))
    return None


def _walk(node: Any, key: str) -> int | None:
    if hasattr(node, "lc") and isinstance(node, dict):
        for k, value in node.items():
            if k == key:
                return node.lc.key(k)[0] + 1
            found = _walk(value, key)
            if found:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _walk(item, key)
            if found:
                return found
    return None


def line_of_key(path: Path, key: str) -> int | None:
    """First line (1-based) where mapping key `key` appears, for pointing at unknown fields."""
    try:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError:
        return None
    return _walk(data, key)


def line_from_message(path: Path, message: str) -> int | None:
    """Best-effort line for a rattler-build parse message ("unknown field 'x'" or "3:12: ...")."""
    m = re.search(r"(\d+):(\d+):", message)
    if m:
        return int(m.group(1))
    # "invalid value for 'build': unknown field 'scrip'": the unknown field is the line to show
    m = re.search(r"unknown field '([^']+)'", message) or re.search(r"(?:field|value for) '([^']+)'", message)
    if m:
        return line_of_key(path, m.group(1))
    return None
