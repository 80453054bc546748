"""`forge outdated` and `forge bump`: real recipes, the real package index (network marker),
edits in place that keep every other byte of the recipe."""

from __future__ import annotations

import difflib
import hashlib
import shutil
from pathlib import Path

import pytest

from forge import pipindex
from forge.bump import bump, edit_recipe, find_pin, outdated
from forge.errors import ForgeError
from forge.locations import PLATFORM_REPO
from tests.support.testlib import REPO, forge_cli

RECIPE = """\
# a hand-written header comment
context:
  name: demo   # trailing comment
  version: '1.0.0'  # pinned on purpose

package:
  name: ${{ name }}
  version: ${{ version }}

source:
  - path: ${{ env.get("FORGE_SOURCES") }}/extra-data.tar.gz
    sha256: 1111111111111111111111111111111111111111111111111111111111111111
  # the sdist
  - path: ${{ env.get("FORGE_SOURCES") }}/${{ name }}-${{ version }}.tar.gz
    sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa

build:
  number: 3
  noarch: python
"""


def _changed_lines(a: str, b: str) -> list[tuple[str, str]]:
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a.splitlines(), b.splitlines()).get_opcodes():
        if op != "equal":
            assert op == "replace" and i2 - i1 == j2 - j1, (op, a.splitlines()[i1:i2], b.splitlines()[j1:j2])
            out += list(zip(a.splitlines()[i1:i2], b.splitlines()[j1:j2]))
    return out


def test_edit_keeps_everything_else(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "recipe.yaml").write_text(RECIPE)
    pin = find_pin("demo", tmp_path / "demo")
    assert pin is not None and pin.project == "demo" and pin.filename == "demo-1.0.0.tar.gz"
    assert pin.sha256 == "a" * 64 and pin.filename_for("2.0") == "demo-2.0.tar.gz"
    new = edit_recipe(RECIPE, version="2.0.1", sha256="b" * 64, written=pin.written)
    assert _changed_lines(RECIPE, new) == [
        ("  version: '1.0.0'  # pinned on purpose", "  version: '2.0.1'  # pinned on purpose"),
        ("    sha256: " + "a" * 64, "    sha256: " + "b" * 64),
        ("  number: 3", "  number: 0"),
    ]


def test_recipes_without_a_versioned_sdist_are_left_alone(tmp_path: Path) -> None:
    assert find_pin("python", PLATFORM_REPO / "recipes" / "python") is None  # no PyPI sdist
    assert find_pin("liblz4", REPO / "recipes" / "liblz4") is None  # its sdist follows another variable
    assert find_pin("attrs", REPO / "recipes" / "attrs").project == "attrs"
    # every recipe of the repository: an edit to the same values is the identity
    for folder in sorted((REPO / "recipes").iterdir()):
        pin = find_pin(folder.name, folder)
        if pin is not None:
            text = pin.file.read_text()
            assert edit_recipe(text, version=pin.version, sha256=pin.sha256, written=pin.written,
                               reset_build_number=False) == text, folder.name


def test_bad_input_is_one_sentence(tmp_path: Path) -> None:
    recipes = tmp_path / "recipes"
    shutil.copytree(PLATFORM_REPO / "recipes" / "python", recipes / "python")
    with pytest.raises(ForgeError, match="no recipe named nosuch"):
        bump("nosuch", recipes, tmp_path / "cache")
    with pytest.raises(ForgeError, match="not a version"):
        bump("python", recipes, tmp_path / "cache", version="one.two")
    with pytest.raises(ForgeError, match="not a PyPI sdist"):
        bump("python", recipes, tmp_path / "cache")
    proc = forge_cli("bump", "python", "--recipes", str(recipes))
    assert proc.returncode == 1 and proc.stderr.startswith("error: recipe 'python'") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.network
def test_bump_a_real_recipe_to_another_real_version(tmp_path: Path) -> None:
    recipes = tmp_path / "recipes"
    shutil.copytree(REPO / "recipes" / "attrs", recipes / "attrs")
    before = (recipes / "attrs" / "recipe.yaml").read_text()
    old = find_pin("attrs", recipes / "attrs")
    target = "25.4.0" if old.version != "25.4.0" else "25.3.0"
    done = bump("attrs", recipes, tmp_path / "cache", version=target)
    after = (recipes / "attrs" / "recipe.yaml").read_text()
    assert done.changed and done.old_version == old.version and done.new_version == target
    # the sha256 written is the one of the bytes downloaded, which the index lists too
    assert hashlib.sha256(done.archive.read_bytes()).hexdigest() == done.new_sha256
    assert done.archive == tmp_path / "cache" / "sources" / done.new_sha256 / f"attrs-{target}.tar.gz"
    link = pipindex.find_sdist_link("attrs", target)
    assert link.sha256 in (None, done.new_sha256)
    # only the two values changed; comments (the source's) and formatting are kept
    assert _changed_lines(before, after) == [(f'  version: "{old.version}"', f'  version: "{target}"'),
                                             (f"  sha256: {old.sha256}", f"  sha256: {done.new_sha256}")]
    assert "# resolved by the forge through pip's configured index" in after
    # the same again: nothing to do; through the CLI as well
    assert not bump("attrs", recipes, tmp_path / "cache", version=target).changed
    proc = forge_cli("bump", "attrs", "--version", target, "--recipes", str(recipes))
    assert proc.returncode == 0 and "already at" in proc.stdout, proc.stderr
    # a release that does not exist: one sentence
    with pytest.raises(ForgeError, match="no sdist of attrs 0.0.0.1"):
        bump("attrs", recipes, tmp_path / "cache", version="0.0.0.1")


@pytest.mark.network
def test_outdated_lists_an_old_pin(tmp_path: Path) -> None:
    recipes = tmp_path / "recipes"
    for name in ("attrs", "six"):
        shutil.copytree(REPO / "recipes" / name, recipes / name)
    shutil.copytree(PLATFORM_REPO / "recipes" / "python", recipes / "python")
    # attrs pinned to an old release; six moved to the newest the index has
    text = (recipes / "attrs" / "recipe.yaml").read_text()
    old = find_pin("attrs", recipes / "attrs").version
    (recipes / "attrs" / "recipe.yaml").write_text(text.replace(f'version: "{old}"', 'version: "23.1.0"'))
    bump("six", recipes, tmp_path / "cache")
    rows = outdated(recipes)
    assert [r.recipe for r in rows] == ["attrs"], rows
    latest = pipindex.find_sdist_link("attrs")
    assert rows[0].current == "23.1.0" and rows[0].latest == latest.version and rows[0].filename == latest.filename
    proc = forge_cli("outdated", "--recipes", str(recipes))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"attrs  23.1.0 -> {latest.version}"
