"""Pure functions: requirement mapping, METADATA rewriting, tags, names."""

from __future__ import annotations

import pytest

from forge.pyodide_view.piplite import normalize
from forge.pyodide_view.requirements import spec_name, to_pep508
from forge.pyodide_view.wheel import COMPILED_TAG, escape, rewrite_metadata


@pytest.mark.parametrize("spec, want", [
    ("six >=1.5", "six>=1.5"),
    ("pluggy <2,>=1.6", "pluggy<2,>=1.6"),
    ("iniconfig", "iniconfig"),
    ("numpy 2.1.*", "numpy==2.1.*"),
    ("numpy 2.1", "numpy==2.1.*"),
    ("numpy ==2.1.3", "numpy==2.1.3"),
    ("foo 1.0 py_0", "foo==1.0.*"),
    ("foo >=1|<0.5", "foo"),
    ("python >=3.10", None),
    ("__unix", None),
    ("pyodide-abi 2026_0", None),
])
def test_to_pep508(spec: str, want: str | None) -> None:
    assert to_pep508(spec) == want


def test_spec_name() -> None:
    assert spec_name("typing-extensions>=4") == "typing-extensions"
    assert spec_name("  pluggy <2") == "pluggy"


META = """Metadata-Version: 2.4
Name: demo
Version: 1.0
License: a long
        folded text
Requires-Dist: colorama; sys_platform == "win32"
Requires-Dist: six>=1
Requires-Dist: hypothesis; extra == "dev"
Provides-Extra: dev

The description.
"""


def test_rewrite_metadata_replaces_unconditional_requirements_keeps_extras() -> None:
    text = rewrite_metadata(META, ["six>=1.5", "tzdata"])
    head, body = text.split("\n\n", 1)
    assert [h for h in head.splitlines() if h.startswith("Requires-Dist")] == [
        "Requires-Dist: six>=1.5", "Requires-Dist: tzdata", 'Requires-Dist: hypothesis; extra == "dev"']
    assert "        folded text" in head and body == "The description.\n"


def test_names_and_tags() -> None:
    assert escape("python-dateutil") == "python_dateutil"
    assert escape("Foo.Bar") == "foo_bar"
    assert normalize("typing_extensions") == "typing-extensions"
    assert COMPILED_TAG == "cp314-cp314-pyemscripten_2026_0_wasm32"


def _pkg(root, name: str, subdir: str, files: dict[str, bytes]):  # noqa: ANN001, ANN202
    """A CondaPackage over real files (what conda_pkg.read gives for an extracted package)."""
    from forge.pyodide_view.conda_pkg import CondaPackage  # noqa: PLC0415

    site: dict = {}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        site[rel] = root / rel
    return CondaPackage(root=root, index={"name": name, "version": "1.0", "subdir": subdir}, link={}, about={},
                        test_imports=(), site_files=site)


def test_tests_only_packages_import_nothing(tmp_path) -> None:  # noqa: ANN001
    from forge.pyodide_view.wheel import is_tests_only, top_level_imports  # noqa: PLC0415

    numpy_tests = _pkg(tmp_path / "a", "numpy-tests", "emscripten-wasm32", {
        "numpy/tests/test_numpy_version.py": b"", "numpy/_core/tests/data/umath-validation-set-exp.csv": b"1",
        "numpy/f2py/tests/src/kind/foo.f90": b"", "numpy/conftest.py": b""})
    assert is_tests_only(numpy_tests) and top_level_imports(numpy_tests) == ()
    # a name ending in -tests is not enough: real modules make it an ordinary package
    plugin = _pkg(tmp_path / "b", "pytest-tests", "noarch", {"pytest_tests/__init__.py": b"", "pytest_tests/x.py": b""})
    assert not is_tests_only(plugin) and top_level_imports(plugin) == ("pytest_tests",)


def test_tag_follows_the_subdir_and_the_content_must_match(tmp_path) -> None:  # noqa: ANN001
    from forge.errors import ForgeError  # noqa: PLC0415
    from forge.pyodide_view.wheel import PURE_TAG, check_content, wheel_tag  # noqa: PLC0415

    elf, wasm = b"\x7fELF\x02\x01\x01" + b"\0" * 60, b"\0asm\x01\0\0\0"
    noarch = _pkg(tmp_path / "a", "m", "noarch", {"m/__init__.py": b"", "m/_c.cpython-311-x86_64-linux-gnu.so": elf})
    assert wheel_tag(noarch) == PURE_TAG  # never a Pyodide tag for a noarch package
    with pytest.raises(ForgeError, match=r"refuses package m: its py3-none-any wheel would hold m/_c\S+, native code \(ELF"):
        check_content(noarch, tmp_path / "m.conda")
    ext = _pkg(tmp_path / "b", "e", "emscripten-wasm32", {"e/_c.cpython-314-wasm32-emscripten.so": wasm,
                                                          "e/libe.a": b"!<arch>\n"})
    assert wheel_tag(ext) == COMPILED_TAG
    check_content(ext, tmp_path / "e.conda")  # wasm modules (and a static library) are fine beside them
    host = _pkg(tmp_path / "d", "h", "emscripten-wasm32", {"h/_c.cpython-314-wasm32-emscripten.so": wasm,
                                                           "h/libh.so.1": b"\x7fELF\x02\x01\x01" + b"\0" * 60})
    with pytest.raises(ForgeError, match=r"h/libh.so.1, ELF"):
        check_content(host, tmp_path / "h.conda")
    pure = _pkg(tmp_path / "c", "p", "noarch", {"p/__init__.py": b"", "p/data.bin": wasm})
    with pytest.raises(ForgeError, match=r"p/data.bin, native code \(WebAssembly module\)"):
        check_content(pure, tmp_path / "p.conda")
