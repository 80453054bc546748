"""`forge split-tests NAME`: move a recipe's file-carrying tests into a `<name>-tests` output.

rattler-build packs every test's `files:` into the package it tests (testpayload), so the one
way it offers to keep them out of what users download is a second output that carries them, as
Pyodide's `numpy-tests` does. This rewrites a single-output recipe into that form in place,
keeping its comments (ruamel.yaml round trip):

- top level: `context`, `recipe` (`<name>-split`), `source`, `build` (`number` + 1, `skip`), `about`, `extra`;
- output 1, the package users install: the rest of `build`, `requirements`, the tests without `files:`;
- output 2, `<name>-tests`: `noarch: generic` when the runtime is noarch (else the runtime's
  platform), run-requires the runtime exactly (`pin_subpackage`), and holds the tests with `files:`.

The build number goes up because the runtime package's content changes under the same version.
"""

from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .errors import ForgeError
from .recipes import RECIPE_FILE
from .testpayload import TESTS_SUFFIX

_TOP_BUILD = ("number", "skip")


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _name_expr(name: str) -> tuple[str, str]:
    """(the tests output's name, the pin_subpackage argument) for a `package.name` value."""
    stripped = name.replace(" ", "")
    if stripped.startswith("${{") and stripped.endswith("}}"):
        inner = stripped[3:-2]
        return f"${{{{ {inner} }}}}{TESTS_SUFFIX}", inner
    return f"{name}{TESTS_SUFFIX}", f'"{name}"'


def split_text(text: str, *, recipe: str, file: str) -> str | None:
    """The recipe rewritten with its `files:` tests in a `-tests` output, or None when it has none."""
    y = _yaml()
    try:
        data = y.load(text)
    except YAMLError as exc:
        raise ForgeError(f"the recipe is not valid YAML ({str(exc).splitlines()[0]})", recipe=recipe, file=file,
                         fix="fix the YAML first (forge lint NAME shows where)") from None
    if not isinstance(data, CommentedMap):
        raise ForgeError("the recipe is not a YAML mapping", recipe=recipe, file=file, fix="fix the YAML first")
    if "outputs" in data:
        raise ForgeError("the recipe already has `outputs:`, so its tests cannot be moved automatically",
                         recipe=recipe, file=file,
                         fix="add a `<name>-tests` output by hand, as recipes/numpy/recipe.yaml does")
    tests = data.get("tests") or []
    heavy = [t for t in tests if isinstance(t, dict) and "files" in t]
    if not heavy:
        return None
    light = [t for t in tests if not (isinstance(t, dict) and "files" in t)]
    pkg = data["package"]
    name = str(pkg["name"])
    build = data.get("build") or CommentedMap()
    noarch = build.get("noarch")

    top_build = CommentedMap((k, build[k]) for k in _TOP_BUILD if k in build)
    top_build["number"] = int(build.get("number", 0)) + 1
    runtime_build = CommentedMap((k, v) for k, v in build.items() if k not in _TOP_BUILD)

    runtime = CommentedMap()
    runtime["package"] = CommentedMap(name=pkg["name"])
    if runtime_build:
        runtime["build"] = runtime_build
    if "requirements" in data:
        runtime["requirements"] = data["requirements"]
    if light:
        runtime["tests"] = CommentedSeq(light)

    tests_name, pin_arg = _name_expr(name)
    tests_out = CommentedMap()
    tests_out["package"] = CommentedMap(name=tests_name)
    if noarch:
        tests_out["build"] = CommentedMap(noarch="generic")
    tests_out["requirements"] = CommentedMap(run=CommentedSeq([f"${{{{ pin_subpackage({pin_arg}, exact=True) }}}}"]))
    tests_out["tests"] = CommentedSeq(heavy)

    out = CommentedMap()
    out.ca.comment = data.ca.comment  # the recipe's header comment
    for key in ("context", "source", "about", "extra"):
        if key in data.ca.items:
            out.ca.items[key] = data.ca.items[key]
    for key, value in data.items():
        if key == "package":
            out["recipe"] = CommentedMap(name=_split_name(name), version=pkg["version"])
        elif key == "build":
            out["build"] = top_build
        elif key in ("requirements", "tests"):
            continue
        else:
            out[key] = value
    keys = list(out.keys())
    at = keys.index("build") + 1 if "build" in out else keys.index("recipe") + 1
    out.insert(at, "outputs", CommentedSeq([runtime, tests_out]))
    buf = io.StringIO()
    y.dump(out, buf)
    return _tidy(buf.getvalue())


def _tidy(text: str) -> str:
    """Comments at the indentation of the line they describe (ruamel keeps their old column once
    their block moved) and one blank line before each top-level key, as recipes are written."""
    lines = text.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            nxt = next((x for x in lines[i + 1:] if x.strip() and not x.lstrip().startswith("#")), "")
            line = " " * (len(nxt) - len(nxt.lstrip())) + line.lstrip()
        top = bool(line) and not line[0].isspace() and not line.startswith("#")
        if top and out and out[-1].strip() and not out[-1].startswith("#"):
            out.append("")
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return "\n".join(out).rstrip() + "\n"


def _split_name(name: str) -> str:
    stripped = name.replace(" ", "")
    if stripped.startswith("${{") and stripped.endswith("}}"):
        return f"${{{{ {stripped[3:-2]} }}}}-split"
    return f"{name}-split"


def split_recipe(path: Path, *, recipe: str | None = None) -> bool:
    """Rewrite `path/recipe.yaml` in place; False when no test carries files."""
    file = path / RECIPE_FILE
    new = split_text(file.read_text(), recipe=recipe or path.name, file=str(file))
    if new is None:
        return False
    file.write_text(new)
    return True
