# the sdist ships no tests: table layout, alignment, wrapping and number formats in wasm
from texttable import Texttable
t = Texttable(max_width=40)
t.set_cols_align(["l", "r", "c"])
t.set_cols_dtype(["t", "f", "i"])
t.add_rows([["name", "value", "n"], ["alpha", 1.23456, 3], ["a much longer name that wraps", 1e10, 42]])
s = t.draw()
lines = s.splitlines()
assert lines[0].startswith("+") and all(len(line) == len(lines[0]) for line in lines), s
assert "1.235" in s and "42" in s and "alpha" in s
t2 = Texttable()
t2.set_deco(Texttable.HEADER)
t2.header(["x", "y"])
t2.add_row([1, 2])
assert t2.draw().splitlines()[1].startswith("=")
print(s)
