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
