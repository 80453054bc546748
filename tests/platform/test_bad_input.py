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
    """A recipes folder with the given recipes (and copies of some of the repo's; python and
    pyodide-abi are the forge's platform recipes, which every recipes folder has)."""
    rdir = tmp / "recipes"
    rdir.mkdir(parents=True, exist_ok=True)
    for name in copy:
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
    # markupsafe's upstream suite runs from its markupsafe-tests output (test 0: files + script)
    pytest_line = "- python-wasm -m pytest -q -p no:cacheprovider tests\n"
    assert MARKUPSAFE.count(pytest_line) == 1
    assert MARKUPSAFE.count("\n  name: markupsafe\n") == 1  # context.name: the outputs are named from it
    bad = MARKUPSAFE.replace("\n  name: markupsafe\n", "\n  name: markupsafe-badtest\n").replace(
        pytest_line, "- python-wasm -c \"import markupsafe; assert markupsafe.escape('<') == '<', 'escaped in wasm'\"\n")
    res = build_refused(wasm_channel, tmp_path, "markupsafe-badtest", bad)
    assert "its wasm tests failed: test 0 (script) failed in python-wasm" in res.error, res.error
    assert "AssertionError: escaped in wasm" in res.error, res.error


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
    # abi3 built against an older CPython's limited API loads on 3.14 (pyerfa tags cp39-abi3); a newer one does not
    check_wheel(wheel("cp39-abi3-pyemscripten_2026_0_wasm32", "demo-1.0-cp39-abi3-pyemscripten_2026_0_wasm32.whl"))
    with pytest.raises(BuildError, match="tagged cp315-abi3-pyemscripten_2026_0_wasm32, not"):
        check_wheel(wheel("cp315-abi3-pyemscripten_2026_0_wasm32", "demo-1.0-cp315-abi3-pyemscripten_2026_0_wasm32.whl"))


def test_forge_test_of_an_unbuilt_recipe(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "forge.cli", "test", "markupsafe", "--channel", str(tmp_path / "empty")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "does not hold emscripten-wasm32/markupsafe-3.0.4-" in r.stderr and "forge build markupsafe" in r.stderr


SLOTS_EXT = r"""
#include <Python.h>
typedef struct { PyObject_HEAD PyObject *ref; } Node;
static @RET@ node_clear(Node *self) { Py_CLEAR(self->ref); @BODY@ }
static int node_traverse(Node *self, visitproc visit, void *arg) { Py_VISIT(self->ref); return 0; }
static void node_dealloc(Node *self) {
    PyObject_GC_UnTrack(self); node_clear(self); Py_TYPE(self)->tp_free((PyObject *)self);
}
static PyObject *node_link(Node *self, PyObject *other) {
    Py_XSETREF(self->ref, Py_NewRef(other)); Py_RETURN_NONE;
}
static PyMethodDef node_methods[] = {{"link", (PyCFunction)node_link, METH_O, NULL}, {NULL, NULL, 0, NULL}};
/* the cast through void * is what cppy's void_cast and many C++ bindings do */
static PyType_Slot node_slots[] = {
    {Py_tp_dealloc, (void *)node_dealloc}, {Py_tp_traverse, (void *)node_traverse},
    {Py_tp_clear, (void *)node_clear}, {Py_tp_methods, node_methods}, {0, NULL},
};
static PyType_Spec node_spec = {"slots.Node", sizeof(Node), 0,
                                Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, node_slots};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "@NAME@", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_@NAME@(void) {
    PyObject *m = PyModule_Create(&mod);
    if (m && PyModule_AddObject(m, "Node", PyType_FromSpec(&node_spec)) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
"""


def test_slot_function_with_wrong_signature_is_rejected(tmp_path: Path) -> None:
    """kiwisolver 1.5's `void` tp_clear, reduced: a real C++ side module whose tp_clear is
    `void f(T*)` cast to `inquiry`. The check names the slot; in Pyodide the garbage collector's
    call through the slot traps, while the same module with `int` tp_clear runs."""
    from forge.toolchain import Bind, BuildRoot
    from forge.toolchain.cross_env import prepare_cross_env
    from forge.toolchain.pyodide_node import run_in_pyodide
    from forge.toolchain.target import CFLAGS, EXT_SUFFIX, LDFLAGS
    from forge.toolchain.wasmcheck import check_so

    br = BuildRoot()
    ce = prepare_cross_env(br)
    sos = {}
    for name, ret, body in (("goodslots", "int", "return 0;"), ("badslots", "void", "")):
        src = SLOTS_EXT.replace("@RET@", ret).replace("@BODY@", body).replace("@NAME@", name)
        (tmp_path / f"{name}.cpp").write_text(src)
        sos[name] = tmp_path / f"{name}{EXT_SUFFIX}"
        br.run(["sh", "-c", f"em++ {' '.join(CFLAGS)} -I$PYTHONINCLUDE -c {name}.cpp -o {name}.o && "
                f"em++ {' '.join(LDFLAGS)} {name}.o -o {sos[name].name}"],
               env=ce.env(), cwd=tmp_path, binds=[Bind(tmp_path)])
    assert check_so(sos["goodslots"]) == []
    problems = check_so(sos["badslots"])
    assert len(problems) == 1, problems
    assert "tp_clear" in problems[0] and "(i32) -> void but CPython calls it as (i32) -> i32" in problems[0]
    assert "null function or function signature mismatch" in problems[0]

    cycle = ("import sys, gc\nsys.path.insert(0, '/ext')\nimport {m}\n"
             "a, b = {m}.Node(), {m}.Node()\na.link(b)\nb.link(a)\ndel a, b\ngc.collect()")
    files = {f"/ext/{p.name}": p for p in sos.values()}
    assert int(run_in_pyodide(cycle.format(m="goodslots"), files=files, cache_dir=br.cache_dir).result) >= 2
    from forge.toolchain import ToolchainError
    with pytest.raises(ToolchainError, match="signature mismatch"):
        run_in_pyodide(cycle.format(m="badslots"), files=files, cache_dir=br.cache_dir)
