"""Bad input, each through the real CLI: one sentence (recipe, file, line where there is one,
the fix), non-zero exit, no traceback, and the channel left exactly as it was."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support.testlib import REPO, forge_cli, generic_recipe, make_repo, snapshot

INICONFIG_SHA = "67f4b9c50da0dedf52af349e7749a80a9057a5031199791b906c3bb3ae878960"


def sourced(name: str, filename: str, sha_line: str) -> str:
    return (
        f'package:\n  name: {name}\n  version: "1.0"\n'
        f'source:\n  path: ${{{{ env.get("FORGE_SOURCES") }}}}/{filename}\n{sha_line}'
        "build:\n  noarch: generic\n  script: echo unreachable\n"
    )


@dataclass
class Case:
    recipe: str
    text: str
    expect: tuple[str, ...]  # fragments the one error sentence must contain


CASES = [
    Case("malformed",
         'package:\n  name: malformed\n  version: "1.0"\nbuild:\n  noarch: generic\n  script: echo hi\n    bad: [1\n',
         ("recipes/malformed/recipe.yaml:7", "the YAML is malformed", "fix the YAML syntax")),
    Case("unknown-key",
         'package:\n  name: unknown-key\n  version: "1.0"\nbuild:\n  noarch: generic\n  scrip: echo hi\n',
         ("recipes/unknown-key/recipe.yaml:6", "unknown field 'scrip'")),
    Case("no-sha",
         sourced("no-sha", "iniconfig-2.3.1.tar.gz", ""),
         ("recipes/no-sha/recipe.yaml", "iniconfig-2.3.1.tar.gz has no sha256", "add `sha256:`")),
    Case("wrong-sha",
         sourced("wrong-sha", "iniconfig-2.3.1.tar.gz", f"  sha256: {'0' * 64}\n"),
         ("recipes/wrong-sha/recipe.yaml", "the sha256 pinned for iniconfig-2.3.1.tar.gz is " + "0" * 64,
          INICONFIG_SHA, "correct `sha256:`")),
    Case("no-such-version",
         sourced("no-such-version", "iniconfig-99.99.99.tar.gz", f"  sha256: {INICONFIG_SHA}\n"),
         ("recipes/no-such-version/recipe.yaml", "iniconfig-99.99.99.tar.gz (iniconfig 99.99.99) cannot be fetched",
          "iniconfig==99.99.99")),
    Case("script-fails",
         generic_recipe("script-fails", script=["echo step one", "echo 'error: cannot frobnicate widget' >&2", "exit 3"]),
         ("recipes/script-fails/recipe.yaml",
          "the build failed: its build script exited 3: error: cannot frobnicate widget", "see the log ")),
    Case("script-exits",
         generic_recipe("script-exits", script=["echo step one", "echo step two", "exit 4"]),
         ("recipes/script-exits/recipe.yaml", "the build failed: its build script exited 4 (its last line: step two)")),
    Case("test-fails",
         generic_recipe("test-fails") + "tests:\n  - script:\n      - echo checking\n"
         "      - 'test -f $PREFIX/nothing.txt || (echo \"AssertionError: nothing.txt is missing\" && exit 1)'\n",
         ("recipes/test-fails/recipe.yaml", "its wasm tests failed: test 0 (script) failed",
          "it exited 1: AssertionError: nothing.txt is missing")),
    Case("local-path",
         'package:\n  name: local-path\n  version: "1.0"\nsource:\n  path: /etc/hostname\n'
         "build:\n  noarch: generic\n  script: echo unreachable\n",
         ("recipes/local-path/recipe.yaml:5", "/etc/hostname", "FORGE_SOURCES")),
    Case("native-noarch",
         generic_recipe("native-noarch", script=["mkdir -p $PREFIX/bin", "cp /bin/true $PREFIX/bin/tool"]),
         ("recipes/native-noarch/recipe.yaml", "holds bin/tool, native code (ELF x86-64) in a noarch package",
          "make the recipe a compiled one")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.recipe for c in CASES])
def test_bad_recipe(case: Case, tmp_path: Path, populated_channel: Path) -> None:
    make_repo(tmp_path, {case.recipe: case.text})
    before = snapshot(populated_channel)
    proc = forge_cli("build", case.recipe, "--channel", str(populated_channel),
                     "--recipes", str(tmp_path / "recipes"), root=tmp_path)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text
    assert "Traceback" not in text
    sentences = {ln.strip() for ln in text.splitlines() if f"recipe '{case.recipe}' (" in ln}
    # planning errors print `error: <sentence>`; build errors print `✘ <recipe> <sentence>`
    sentences = {s.split("error: ", 1)[1] if s.startswith("error: ") else s for s in sentences}
    sentences = {s.split(f"✘ {case.recipe} ", 1)[1] if s.startswith("✘") else s for s in sentences}
    sentences = {s.strip("│ ") for s in sentences if not s.startswith("│")}
    assert len(sentences) == 1, text
    (sentence,) = sentences
    assert sentence.startswith(f"recipe '{case.recipe}' (recipes/{case.recipe}/recipe.yaml")
    for fragment in case.expect:
        assert fragment in sentence, sentence
    if case.recipe == "script-fails":
        log = Path(sentence.split("see the log ", 1)[1].split(" ", 1)[0])
        assert log.is_file() and "cannot frobnicate widget" in log.read_text()
        # latest.log names the newest attempt, failed or not
        assert (log.parent / "latest.log").resolve() == log.resolve()
    assert snapshot(populated_channel) == before, "a failed build must leave the channel untouched"


def test_unknown_recipe_name_suggests_close_names(tmp_path: Path, populated_channel: Path) -> None:
    before = snapshot(populated_channel)
    proc = forge_cli("build", "pytset", "--channel", str(populated_channel),
                     "--recipes", str(REPO / "recipes"), root=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert line.startswith("error: there is no recipe named 'pytset'")
    assert "did you mean pytest" in line
    assert snapshot(populated_channel) == before


def test_bad_dependency_fails_the_whole_plan_before_building(tmp_path: Path, populated_channel: Path) -> None:
    """A target whose dependency is malformed: nothing builds, the channel is untouched."""
    make_repo(tmp_path, {
        "fine": generic_recipe("fine", run=["broken-dep"]),
        "broken-dep": 'package:\n  name: broken-dep\n  version: "1.0"\nbuild: [\n',
    })
    before = snapshot(populated_channel)
    proc = forge_cli("build", "fine", "--channel", str(populated_channel),
                     "--recipes", str(tmp_path / "recipes"), root=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "recipe 'broken-dep' (recipes/broken-dep/recipe.yaml:" in proc.stderr
    assert snapshot(populated_channel) == before
