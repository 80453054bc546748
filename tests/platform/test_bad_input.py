"""Bad input on the emscripten-wasm32 platform: a linux-only recipe, a missing build root, a
failing wasm test, a package with the wrong ABI. Each gives one clear sentence and publishes
nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from .conftest import REPO, config_for

from forge import api
from forge.errors import ForgeError


def repo_with(tmp: Path, wasm_channel, recipes: dict[str, str], copy: tuple[str, ...] = ()) -> Path:
    """A recipes folder with the given recipes (and copies of some of the repo's)."""
    rdir = tmp / "recipes"
    for name in ("python", "pyodide-abi", *copy):
        shutil.copytree(REPO / "recipes" / name, rdir / name)
    for name, text in recipes.items():
        (rdir / name).mkdir(parents=True, exist_ok=True)
        (rdir / name / "recipe.yaml").write_text(text)
    return rdir


def private_channel(wasm_channel, tmp: Path) -> Path:
    dest = tmp / "channel"
    shutil.copytree(wasm_channel.channel, dest)
    return dest


def snapshot(channel: Path) -> dict[str, int]:
    return {str(p.relative_to(channel)): p.stat().st_size for p in channel.rglob("*.conda")}


def build_refused(wasm_channel, tmp: Path, name: str, recipe: str):  # noqa: ANN001, ANN201
    """Build one bad recipe against a private copy of the wasm channel: it must fail and leave the
    channel's packages as they were. Returns its RecipeResult (the sentence is in `.error`)."""
    cfg = config_for(tmp, repo_with(tmp, wasm_channel, {name: recipe}), private_channel(wasm_channel, tmp))
    before = snapshot(cfg.channel_dir)
    res = api.build([name], cfg, jobs=1, view=False).results[name]
    assert res.status == "failed"
    assert snapshot(cfg.channel_dir) == before
    return res


MARKUPSAFE = (REPO / "recipes" / "markupsafe" / "recipe.yaml").read_text()

LINUX_ONLY = """\
package:
  name: linuxonly
  version: "1.0"
build:
  number: 0
  skip:
    - not linux
  script: echo linux > $PREFIX/linux.txt
"""

NEEDS_LINUX_ONLY = """\
package:
  name: wantslinux
  version: "1.0"
build:
  number: 0
  skip:
    - not emscripten
  script: echo hi > $PREFIX/hi.txt
requirements:
  run:
    - linuxonly
"""


def test_linux_only_recipe_is_skipped_on_emscripten(wasm_channel, tmp_path: Path) -> None:
    rdir = repo_with(tmp_path, wasm_channel, {"linuxonly": LINUX_ONLY, "wantslinux": NEEDS_LINUX_ONLY})
    cfg = config_for(tmp_path, rdir, private_channel(wasm_channel, tmp_path))
    before = snapshot(cfg.channel_dir)
    # its wasm tests: refused with the reason
    from forge.wasmtest import test_recipe

    with pytest.raises(ForgeError, match=r"skipped on emscripten-wasm32 \(its build.skip excludes the target\)"):
        test_recipe("linuxonly", cfg)
    # an emscripten package that needs it cannot be planned: the requirement names the platform
    with pytest.raises(ForgeError) as exc:
        api.build(["wantslinux"], cfg, jobs=1, view=False)
    assert "'linuxonly' (emscripten-wasm32) cannot be satisfied" in str(exc.value)
    assert snapshot(cfg.channel_dir) == before
    # building it is refused: the forge publishes only what runs (and was tested) in wasm
    with pytest.raises(ForgeError) as exc:
        api.build(["linuxonly"], cfg, jobs=1, view=False)
    assert "it skips every platform the forge builds for (emscripten-wasm32)" in str(exc.value)
    assert snapshot(cfg.channel_dir) == before


def test_missing_build_root_fails_clearly(wasm_channel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rdir = repo_with(tmp_path, wasm_channel, {}, copy=("markupsafe",))
    cfg = config_for(tmp_path, rdir, private_channel(wasm_channel, tmp_path))
    before = snapshot(cfg.channel_dir)
    monkeypatch.setenv("FORGE_BUILDROOT", str(tmp_path / "no-such-root"))
    report = api.build(["markupsafe"], cfg, jobs=1, force=True, view=False)
    res = report.results["markupsafe"]
    assert res.status == "failed"
    assert "the emscripten build root" in res.error and "is missing or incomplete" in res.error
    assert "run `forge toolchain` to create it" in res.error and "see the log" in res.error
    assert snapshot(cfg.channel_dir) == before


def test_failing_wasm_test_is_not_published(wasm_channel, tmp_path: Path) -> None:
    bad = MARKUPSAFE.replace("name: ${{ name }}", "name: markupsafe-badtest").replace(
        "      - python-wasm -m pytest -q -p no:cacheprovider tests\n",
        "      - python-wasm -c \"import markupsafe; assert markupsafe.escape('<') == '<', 'escaped in wasm'\"\n")
    assert bad != MARKUPSAFE
    res = build_refused(wasm_channel, tmp_path, "markupsafe-badtest", bad)
    assert "its wasm tests failed: test 1 (script) failed in python-wasm" in res.error
    assert "AssertionError: escaped in wasm" in res.error


WRONG_ABI = """\
package:
  name: wrongabi
  version: "1.0"
build:
  number: 0
  skip:
    - not emscripten
  script:
    - mkdir -p $PREFIX/lib/python3.14/site-packages
    - printf 'int PyInit_wrongabi(void) { return 0; }\\n' > w.c
    - gcc -shared -fPIC w.c -o $PREFIX/lib/python3.14/site-packages/wrongabi.cpython-314-wasm32-emscripten.so
  variant:
    use_keys:
      - host_platform
requirements:
  host:
    - python
tests:
  - python:
      imports:
        - wrongabi
      pip_check: false
"""


def test_wrong_abi_package_is_not_published(wasm_channel, tmp_path: Path) -> None:
    res = build_refused(wasm_channel, tmp_path, "wrongabi", WRONG_ABI)
    assert ("lib/python3.14/site-packages/wrongabi.cpython-314-wasm32-emscripten.so is an ELF x86-64 shared "
            "object (built with the host compiler, not emscripten)") in res.error


def test_js_exception_abi_side_module_is_rejected(tmp_path: Path) -> None:
    """A real side module built with emscripten's JavaScript longjmp ABI instead of Pyodide's."""
    from forge.toolchain import Bind, BuildRoot
    from forge.toolchain.wasmcheck import check_so, side_module_info

    src = tmp_path / "j.c"
    src.write_text("#include <setjmp.h>\nstatic jmp_buf b;\nint f(int x) { if (setjmp(b)) return 1; "
                   "if (x) longjmp(b, 1); return 0; }\n")
    br = BuildRoot()
    for name, flags in (("good", "-sSUPPORT_LONGJMP=wasm -fwasm-exceptions"), ("bad", "-sSUPPORT_LONGJMP=emscripten")):
        br.run(["sh", "-c", f"emcc -O2 -fPIC {flags} -c j.c -o {name}.o && "
                f"emcc -sSIDE_MODULE=1 {flags} {name}.o -o {name}.cpython-314-wasm32-emscripten.so"],
               cwd=tmp_path, binds=[Bind(tmp_path)])
    good = tmp_path / "good.cpython-314-wasm32-emscripten.so"
    bad = tmp_path / "bad.cpython-314-wasm32-emscripten.so"
    assert side_module_info(good).dylink and check_so(good) == []
    problems = check_so(bad)
    assert len(problems) == 1 and "uses emscripten's JavaScript exception/longjmp ABI" in problems[0]
    assert "-fwasm-exceptions -sSUPPORT_LONGJMP=wasm" in problems[0]


def test_wheel_for_another_abi_is_refused(tmp_path: Path) -> None:
    from forge.helpers.pyodide_build import BuildError, check_wheel

    def wheel(tag: str, name: str) -> Path:
        whl = tmp_path / name
        with zipfile.ZipFile(whl, "w") as zf:
            zf.writestr("demo-1.0.dist-info/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n")
            zf.writestr("demo/__init__.py", "")
        return whl

    with pytest.raises(BuildError, match="tagged cp314-cp314-pyemscripten_2025_0_wasm32, not cp314-cp314-pyemscripten_2026_0_wasm32"):
        check_wheel(wheel("cp314-cp314-pyemscripten_2025_0_wasm32", "demo-1.0-cp314-cp314-pyemscripten_2025_0_wasm32.whl"))
    with pytest.raises(BuildError, match="pure-Python wheel: the extension was not compiled"):
        check_wheel(wheel("py3-none-any", "demo-1.0-py3-none-any.whl"))
    check_wheel(wheel("cp314-cp314-pyemscripten_2026_0_wasm32", "demo-1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"))


def test_forge_test_of_an_unbuilt_recipe(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "forge.cli", "test", "markupsafe", "--channel", str(tmp_path / "empty")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "does not hold emscripten-wasm32/markupsafe-3.0.4-" in r.stderr and "forge build markupsafe" in r.stderr
