"""What the view may be trusted with: one writer for the channel tree (the view is written
under the channel's lock; two `forge build`s at once lose nothing), a wheel's tag matches its
content (or the view refuses it, leaving the view as it was), and a `*-tests` package is
never loaded by importing its parent. Packages are real .conda files made by rattler-build
from tiny recipes in the test; Pyodide is the real npm runtime under node."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from forge.channel import Channel
from forge.errors import ForgeError
from forge.pyodide_view import publish_view
from forge.toolchain.pyodide_node import run_in_pyodide
from forge.pyodide_view.runtime import lock_info, runtime_wheel
from tests.support.testlib import assert_consistent, forge_env, make_repo, snapshot

SITE = "$PREFIX/site-packages"
WASM_SITE = "$PREFIX/lib/python3.14/site-packages"
#: File contents: a real ELF executable of the build machine (native code, not wasm), a wasm header.
ELF, WASM = "<elf>", "<wasm>"
WASM_BYTES = r"'\0asm\1\0\0\0'"


def _writes(site: str, files: dict[str, str]) -> str:
    """Build-script lines (JSON-quoted YAML) that write `files` (path: text, or ELF) into `site`."""
    lines: list[str] = []
    for path, text in files.items():
        dest = f"{site}/{path}"
        lines.append(f"mkdir -p {Path(dest).parent}")
        lines.append(f"cp /bin/true {dest}" if text is ELF else
                     f"printf {WASM_BYTES} > {dest}" if text is WASM else f"printf '%s\\n' {shlex.quote(text)} > {dest}")
    return "".join(f"    - {json.dumps(line)}\n" for line in lines)


def pure(name: str, files: dict[str, str], run: tuple[str, ...] = ()) -> str:
    """A tiny noarch: python recipe whose build writes `files` into site-packages."""
    reqs = "requirements:\n  run:\n" + "".join(f"    - {r}\n" for r in run) if run else ""
    return (f'package: {{name: {name}, version: "1.0"}}\nbuild:\n  noarch: python\n  script:\n'
            f"{_writes(SITE, files)}{reqs}about: {{summary: tiny {name}, license: MIT}}\n")


def compiled(name: str, files: dict[str, str], site: str = WASM_SITE) -> str:
    """A tiny emscripten-wasm32 recipe whose build writes `files` into `site`."""
    return f'package: {{name: {name}, version: "1.0"}}\nbuild:\n  script:\n{_writes(site, files)}'


def rattler_build(tmp: Path, recipes: dict[str, str]) -> list[Path]:
    """Build each recipe with rattler-build for emscripten-wasm32 (tests skipped): real .conda
    files that did not go through the forge's own checks, as a wrong artifact would."""
    from rattler_build import (  # noqa: PLC0415
        EnvironmentIsolation,
        PlatformConfig,
        RenderConfig,
        Stage0Recipe,
        ToolConfiguration,
    )

    made: list[Path] = []
    for name, text in recipes.items():
        (tmp / "recipes" / name).mkdir(parents=True)
        (tmp / "recipes" / name / "recipe.yaml").write_text(text)
        stage0 = Stage0Recipe.from_file(tmp / "recipes" / name / "recipe.yaml")
        for variant in stage0.render(None, RenderConfig(platform=PlatformConfig(target_platform="emscripten-wasm32"))):
            result = variant.run_build(output_dir=tmp / "out", channels=[], env_isolation=EnvironmentIsolation.NONE,
                                       tool_config=ToolConfiguration(test_strategy="skip"))
            made += [Path(p) for p in result.packages]
    return made


def channel_of(tmp: Path, recipes: dict[str, str]) -> Path:
    ch = Channel(tmp / "channel")
    ch.ensure_layout()
    ch.publish(rattler_build(tmp, recipes))
    return ch.path


def _lock(view: Path) -> dict:
    return json.loads((view / "pyodide-lock.json").read_text())["packages"]


def _leftovers(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if re.match(r"^\.(partial|work|index)-", p.name)]


# ------------------------------------------------------------------ one writer (point 8)
def test_the_view_is_written_under_the_channel_lock(tmp_path: Path) -> None:
    """publish_view waits while another writer holds the channel's lock, then runs."""
    ch_dir = channel_of(tmp_path, {"tiny-a": pure("tiny-a", {"tiny_a/__init__.py": "A = 1"})})
    lock_info()  # the Pyodide dist is fetched outside the lock; warm it so only the lock is timed
    done: list[float] = []
    holder = Channel(ch_dir)
    with holder.lock():
        thread = threading.Thread(target=lambda: done.append(
            len(publish_view(ch_dir, runtime_packages=(), include_runtime=False).packages)))
        thread.start()
        time.sleep(1.0)
        assert not done, "the view was written while another writer held the channel lock"
        # re-entrant in the holding thread: a writer may call another writer
        with holder.lock():
            holder.ensure_layout()
    thread.join(timeout=60)
    assert done == [1]
    assert "tiny-a" in _lock(ch_dir / "pyodide")


def test_a_sweep_never_touches_a_live_writers_files(tmp_path: Path) -> None:
    """Temporary names carry the writer's pid; a publish sweeps only those of dead writers."""
    ch_dir = channel_of(tmp_path, {"tiny-b": pure("tiny-b", {"tiny_b/__init__.py": "B = 1"})})
    live = subprocess.Popen(["sleep", "120"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        (ch_dir / "pyodide").mkdir()
        in_flight = [ch_dir / "pyodide" / f".partial-{live.pid}-x-1.0-py3-none-any.whl",
                     ch_dir / "noarch" / f".partial-{live.pid}-x-1.0-0.conda"]
        crashed = [ch_dir / "pyodide" / f".partial-{dead.pid}-y-1.0-py3-none-any.whl",
                   ch_dir / "noarch" / ".partial-z-1.0-0.conda"]  # an older forge's name (no pid)
        for f in in_flight + crashed:
            f.write_text("half")
        (ch_dir / f".index-{dead.pid}-abc").mkdir()
        Channel(ch_dir).publish(rattler_build(tmp_path / "more", {"tiny-c": pure("tiny-c", {"tiny_c.py": "C = 1"})}))
        assert all(f.read_text() == "half" for f in in_flight), "a live writer's file was swept"
        assert not any(f.exists() for f in crashed) and not (ch_dir / f".index-{dead.pid}-abc").exists()
    finally:
        live.kill()
        live.wait()
    Channel(ch_dir).reindex()  # its writer is gone now: the next writer sweeps its files
    assert _leftovers(ch_dir) == []


def test_two_forge_builds_at_once_lose_nothing(tmp_path: Path) -> None:
    """Two `forge build` processes, different tiny recipes, one channel: the repodata, the
    Pyodide lock and piplite's all.json each list every package of both."""
    a = [f"tv-a{i}" for i in range(3)]  # a ends first: its view refresh overlaps b's publishes
    b = [f"tv-b{i}" for i in range(6)]
    cfg = make_repo(tmp_path / "repo", {n: pure(n, {f"{n.replace('-', '_')}/__init__.py": f"N = {n!r}"})
                                        for n in a + b})
    lock_info()  # the Pyodide dist and micropip in the session cache, so the two builds only race
    runtime_wheel("micropip")  # on the channel
    channel = tmp_path / "channel"
    cmd = [sys.executable, "-c", "from forge.cli import main; main()", "build", "--jobs", "2", "--channel", str(channel)]
    procs = [subprocess.Popen([*cmd, *names], env=forge_env(cfg.root), cwd=cfg.root, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for names in (a, b)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    listed = {rec["name"] for rec in assert_consistent(channel).values()}
    assert set(a + b) <= listed
    view = channel / "pyodide"
    lock = _lock(view)
    assert set(a + b) <= set(lock), sorted(lock)
    assert set(a + b) <= set(json.loads((view / "all.json").read_text()))
    for key, entry in lock.items():
        assert hashlib.sha256((view / entry["file_name"]).read_bytes()).hexdigest() == entry["sha256"], key
    assert _leftovers(channel) == []


# ------------------------------------------------------------------ tag matches content (point 4)
REFUSED = {
    "noarch-elf": ({"bad-noarch": pure("bad-noarch", {"bad_noarch/__init__.py": "",
                                                      "bad_noarch/_native.cpython-311-x86_64-linux-gnu.so": ELF})},
                   "bad-noarch", "bad_noarch/_native.cpython-311-x86_64-linux-gnu.so", "must hold none"),
    "wasm-elf": ({"bad-ext": compiled("bad-ext", {"bad_ext/__init__.py": "",
                                                  "bad_ext/_speed.cpython-314-wasm32-emscripten.so": ELF})},
                 "bad-ext", "bad_ext/_speed.cpython-314-wasm32-emscripten.so", "not a WebAssembly side module"),
    "lib-elf": ({"libbad": compiled("libbad", {"libbad.so": ELF}, site="$PREFIX/lib")},
                "libbad", "lib/libbad.so", "not a WebAssembly side module"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_wheel_whose_tag_does_not_match_its_content_is_refused(case: str, tmp_path: Path) -> None:
    recipes, name, inner, why = REFUSED[case]
    good = {"good-pkg": pure("good-pkg", {"good_pkg/__init__.py": "G = 1"}),
            "good-ext": compiled("good-ext", {"good_ext/__init__.py": "",
                                              "good_ext/_speed.cpython-314-wasm32-emscripten.so": WASM})}
    ch_dir = channel_of(tmp_path, good)
    first = publish_view(ch_dir, runtime_packages=(), include_runtime=False)
    assert set(first.packages) == {"good-pkg", "good-ext"}
    assert next((ch_dir / "pyodide").glob("good_ext-1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"))
    before = snapshot(ch_dir / "pyodide")
    Channel(ch_dir).publish(rattler_build(tmp_path / "bad", recipes))
    with pytest.raises(ForgeError) as err:
        publish_view(ch_dir, runtime_packages=(), include_runtime=False)
    text = str(err.value)
    assert name in text and inner in text and why in text and "; " in text, text
    assert text.count(". ") == 0 and text.endswith("."), f"one sentence: {text}"
    assert snapshot(ch_dir / "pyodide") == before, "the refusal changed the view"
    assert _leftovers(ch_dir) == []


# ------------------------------------------------------------------ unvendored tests (point 9)
def test_a_tests_package_is_never_loaded_by_importing_its_parent(tmp_path: Path) -> None:
    """Like pandas-tests in Pyodide's own lock: `foo-tests` imports nothing, depends on foo."""
    ch_dir = channel_of(tmp_path, {
        "foo": pure("foo", {"foo/__init__.py": "VALUE = 42", "foo/testing.py": "X = 1"}),
        "foo-tests": pure("foo-tests", {
            "foo/tests/__init__.py": "",
            "foo/tests/test_value.py": "import foo\ndef test_value(): assert foo.VALUE == 42",
            "foo/_core/tests/test_more.py": "def test_more(): pass"}, run=("foo",)),
    })
    view = publish_view(ch_dir, runtime_packages=(), include_runtime=False).view_dir
    lock = _lock(view)
    assert lock["foo"]["imports"] == ["foo"]
    assert lock["foo-tests"]["imports"] == [] and lock["foo-tests"]["depends"] == ["foo"]
    assert lock["foo-tests"]["file_name"] == "foo_tests-1.0-py3-none-any.whl"
    if not shutil.which("node"):
        pytest.skip("Pyodide runs under node")
    code = ("import pyodide_js, json\n"
            "await pyodide_js.loadPackagesFromImports('import foo\\nfrom foo import testing')\n"
            "import foo\n"
            "loaded = sorted(list(pyodide_js.loadedPackages.object_keys()))\n"
            "await pyodide_js.loadPackage('foo-tests')\n"
            "from foo.tests import test_value\n"
            "test_value.test_value()\n"
            "json.dumps([loaded, sorted(list(pyodide_js.loadedPackages.object_keys()))])")
    before, after = json.loads(run_in_pyodide(view_dir=view, code=code).result)
    assert before == ["foo"], "importing foo loaded its tests"
    assert after == ["foo", "foo-tests"]
