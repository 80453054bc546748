"""`forge lint`: recipe rules with stable IDs, so a pull request review can cite them.

Each rule is a small function over a recipe folder; a finding names the rule, the file,
the line where known, and the fix. Errors fail `forge lint` (and CI); warnings do not.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ruamel.yaml import YAML

from . import testpayload
from .errors import ForgeError
from .recipes import RECIPE_FILE, parse, render, unverified_sources
from .yamlpos import line_of_key, yaml_syntax_error

# Registry hosts, kept encoded so this file names none of them.
_HOSTS = base64.b64decode(
    "cHlwaS5vcmcgZmlsZXMucHl0aG9uaG9zdGVkLm9yZyBweXBpLmlvIHB5dGhvbmhvc3RlZC5vcmcgcmVnaXN0cnku"
    "bnBtanMub3JnIG5wbWpzLm9yZyBkZWIuZGViaWFuLm9yZyBzZWN1cml0eS5kZWJpYW4ub3JnIHNuYXBzaG90LmRl"
    "Ymlhbi5vcmcgZnRwLmRlYmlhbi5vcmc="
).decode().split()


WASM = "emscripten-wasm32"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # error | warning
    recipe: str
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.rule} {self.severity}: {where}: {self.message}"


Rule = Callable[[str, Path, dict], Iterator[Finding]]
RULES: dict[str, tuple[str, Rule]] = {}


def rule(rule_id: str, summary: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[rule_id] = (summary, fn)
        return fn

    return register


def _f(rule_id: str, sev: str, name: str, path: Path, key: str | None, msg: str) -> Finding:
    file = path / RECIPE_FILE
    return Finding(rule_id, sev, name, str(file), line_of_key(file, key) if key else None, msg)


def _sources(data: dict) -> list[dict]:
    src = data.get("source") or []
    return [s for s in (src if isinstance(src, list) else [src]) if isinstance(s, dict)]


@rule("FL001", "source archives come through the forge's resolver: `path: ${{ env.get(\"FORGE_SOURCES\") }}/<file>`, not `url:`")
def _no_urls(name: str, path: Path, data: dict) -> Iterator[Finding]:
    for src in _sources(data):
        if "url" in src:
            yield _f("FL001", "error", name, path, "url", "a source `url:` would download past the forge's verified resolver; "
                     "use `path: ${{ env.get(\"FORGE_SOURCES\") }}/<sdist file>` with `sha256:`")


@rule("FL002", "every source archive pins a sha256")
def _sha256(name: str, path: Path, data: dict) -> Iterator[Finding]:
    for src in _sources(data):
        if "FORGE_SOURCES" in str(src.get("path", "")) and src.get("sha256") in (None, ""):
            yield _f("FL002", "error", name, path, "path", "the source has no `sha256:`; add the archive's sha256")


@rule("FL003", "no file in a recipe folder names a package registry's host")
def _hosts(name: str, path: Path, data: dict) -> Iterator[Finding]:
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        try:
            text = file.read_text(errors="ignore").lower()
        except OSError:
            continue
        for i, line in enumerate(text.splitlines(), 1):
            if any(h in line for h in _HOSTS):
                yield Finding("FL003", "error", name, str(file), i,
                              "names a package registry host; resolve sources through the forge (CONTRIBUTING.md)")


@rule("FL004", "every recipe has tests")
def _tests(name: str, path: Path, data: dict) -> Iterator[Finding]:
    outputs = data.get("outputs") or [data]
    if not any(o.get("tests") for o in outputs if isinstance(o, dict)):
        yield _f("FL004", "error", name, path, None, "the recipe has no `tests:`; add at least `python: imports:`")


@rule("FL005", "noarch: python packages run-depend on python")
def _noarch_python(name: str, path: Path, data: dict) -> Iterator[Finding]:
    build = data.get("build") or {}
    if build.get("noarch") == "python":
        run = ((data.get("requirements") or {}).get("run")) or []
        if not any(str(r).split()[0] == "python" for r in run if isinstance(r, str)):
            yield _f("FL005", "error", name, path, "run" if run else "noarch",
                     "a noarch: python package must list `python` in requirements.run")


@rule("FL006", "python imports tests do not ask for pip check (pip is not in test environments)")
def _pip_check(name: str, path: Path, data: dict) -> Iterator[Finding]:
    for t in data.get("tests") or []:
        if isinstance(t, dict) and isinstance(t.get("python"), dict) and t["python"].get("pip_check", True):
            yield _f("FL006", "error", name, path, "python", "set `pip_check: false` in the python test")


@rule("FL007", "about has a summary and a license")
def _about(name: str, path: Path, data: dict) -> Iterator[Finding]:
    about = data.get("about") or {}
    for key in ("summary", "license"):
        if not about.get(key):
            yield _f("FL007", "warning", name, path, "about", f"`about.{key}` is missing")


@rule("FL008", "the folder is named after the package")
def _folder(name: str, path: Path, data: dict) -> Iterator[Finding]:
    pkg = str((data.get("package") or {}).get("name", ""))
    ctx = data.get("context") or {}
    if "${{" in pkg:
        pkg = str(ctx.get("name", pkg))
    if data.get("package") and pkg and "${{" not in pkg and pkg != name:
        yield _f("FL008", "warning", name, path, "package", f"the folder is '{name}' but the package is '{pkg}'")


@rule("FL009", "no source bypasses the verified fetch phase: no local `path:` (absolute or relative), "
                "`git:` or other source outside `path: ${{ env.get(\"FORGE_SOURCES\") }}/<file>` + a 64-hex `sha256:`")
def _verified_sources(name: str, path: Path, data: dict) -> Iterator[Finding]:
    # url: is FL001, a missing sha256 is FL002; the same check refuses the build (planner)
    for src in unverified_sources(name, path):
        if src.kind not in ("url", "sha256"):
            yield Finding("FL009", "error", name, src.file, src.line, f"{src.message}; {src.fix}")


@rule("FL010", "a runtime package's tests pack no files (at most FORGE_TEST_PAYLOAD_LIMIT bytes when set, measured "
                "in the source archive when the download cache holds it); tests that need files go into a `<name>-tests` output")
def _test_payload(name: str, path: Path, data: dict) -> Iterator[Finding]:
    if "files" not in (path / RECIPE_FILE).read_text():
        return
    from .locations import download_cache_dir  # noqa: PLC0415
    from .sources import SourceCache  # noqa: PLC0415

    try:
        rendered = render(name, path, platforms=(WASM,), variant_file=path.parent.parent / "conda_build_config.yaml")
    except ForgeError:
        return  # a recipe that does not render is FL000's, or the build's, to report
    cache = SourceCache(download_cache_dir())
    for out in rendered.outputs:
        if not out.test_files or testpayload.is_tests_output(out.name):
            continue
        if testpayload.limit() <= 0:  # none allowed: no need to measure
            yield _f("FL010", "error", name, path, "tests",
                     f"the tests of {out.name} pack files into it ({', '.join(f'{k}: {g}' for k, g in out.test_files)}), and a runtime "
                     f"package carries none; {testpayload.FIX}: `forge split-tests {name}` does it for a "
                     "single-output recipe")
            continue
        archives = [cache.path_for(src) for src in out.sources]
        if not all(a.is_file() for a in archives):
            continue  # not fetched yet: the publisher measures the built package
        tree: dict[str, int] = {}
        for archive in archives:
            tree.update(testpayload.archive_files(archive))
        found = testpayload.measure(out.test_files, tree, testpayload.folder_files(path))
        if found.bytes > testpayload.limit():
            yield _f("FL010", "error", name, path, "tests",
                     f"the tests of {out.name} pack {testpayload.human(found.bytes)} of files into it "
                     f"({testpayload.human(found.largest_bytes)} from {found.largest}), and a runtime package may "
                     f"carry {testpayload.allowance()}; {testpayload.FIX}: "
                     f"`forge split-tests {name}` does it for a single-output recipe")


def lint_recipe(name: str, path: Path) -> list[Finding]:
    """All findings for one recipe folder (a parse failure is finding FL000)."""
    file = path / RECIPE_FILE
    bad = yaml_syntax_error(file)
    if bad:
        return [Finding("FL000", "error", name, str(file), bad[0], f"malformed YAML: {bad[1]}")]
    try:
        parse(name, path)
    except ForgeError as exc:
        return [Finding("FL000", "error", name, str(file), exc.line, exc.message)]
    data = YAML(typ="safe").load(file.read_text()) or {}
    findings: list[Finding] = []
    for _summary, fn in RULES.values():
        findings.extend(fn(name, path, data))
    return findings
