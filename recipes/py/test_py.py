# py's testing/ suite drives subprocesses and pytest internals of its time: py.path.local,
# py.iniconfig, py.error and py.io exercised in wasm instead
import os
import tempfile
import py
tmp = py.path.local(tempfile.mkdtemp())
d = tmp.mkdir("sub")
f = d.join("a.txt")
f.write("one\ntwo\n")
assert f.check(file=1) and d.check(dir=1)
assert f.read().splitlines() == ["one", "two"]
assert f.basename == "a.txt" and f.ext == ".txt" and f.purebasename == "a"
assert [p.basename for p in tmp.visit("*.txt")] == ["a.txt"]
assert f.relto(tmp) == os.path.join("sub", "a.txt")
f.copy(d.join("b.txt"))
assert sorted(x.basename for x in d.listdir()) == ["a.txt", "b.txt"]
ini = tmp.join("setup.cfg")
ini.write("[tool]\nkey = value\n")
cfg = py.iniconfig.IniConfig(str(ini))
assert cfg["tool"]["key"] == "value"
try:
    tmp.join("missing").read()
except py.error.ENOENT:
    pass
else:
    raise AssertionError("ENOENT expected")
tw = py.io.TerminalWriter(stringio=True)
tw.line("hello", bold=True)
assert "hello" in tw.stringio.getvalue()
print("py ok", py.__version__)
