from forge.toolchain.pyconfig import generate_pyconfig, pyconfig_macros


SAMPLE = {
    "SIZEOF_LONG": 4,
    "SIZEOF_VOID_P": 4,
    "PYLONG_BITS_IN_DIGIT": 30,
    "WITH_PYMALLOC": 0,
    "HAVE_UNISTD_H": 1,
    "PY_BUILTIN_HASHLIB_HASHES": '"md5,sha1"',
    "RETSIGTYPE": "void",
    "CC": "emcc",  # Makefile string: not a macro
    "DIRMODE": 755,  # Makefile int: not a macro
    "STATIC_LIBPYTHON": 1,
    "lowercase": 1,
    "HAVE_FLAG": True,
}


def test_macros_invert_sysconfig_parsing() -> None:
    m = pyconfig_macros(SAMPLE)
    assert m["SIZEOF_LONG"] == "4"
    assert m["PYLONG_BITS_IN_DIGIT"] == "30"
    assert m["WITH_PYMALLOC"] is None
    assert m["PY_BUILTIN_HASHLIB_HASHES"] == '"md5,sha1"'
    assert m["RETSIGTYPE"] == "void"
    assert m["HAVE_FLAG"] == "1"
    for name in ("CC", "DIRMODE", "STATIC_LIBPYTHON", "lowercase"):
        assert name not in m


def test_header_text() -> None:
    text = generate_pyconfig(SAMPLE, source="test")
    lines = text.splitlines()
    assert lines[1] == "#ifndef Py_PYCONFIG_H" and "#endif /* Py_PYCONFIG_H */" in lines
    assert "#define SIZEOF_VOID_P 4" in lines
    assert "/* #undef WITH_PYMALLOC */" in lines
    assert "#define _FILE_OFFSET_BITS 64" in lines
    assert "# define _GNU_SOURCE 1" in lines
    assert "test" in lines[0]


def test_deterministic() -> None:
    assert generate_pyconfig(SAMPLE) == generate_pyconfig(dict(reversed(list(SAMPLE.items()))))
