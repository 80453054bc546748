"""et_xmlfile's sdist ships no tests: write a document incrementally in wasm and read it back."""
from xml.etree.ElementTree import Element, fromstring

from et_xmlfile import xmlfile

with xmlfile("out.xml") as xf:
    with xf.element("root"):
        for i in range(3):
            el = Element("row", n=str(i))
            el.text = f"value {i}"
            xf.write(el)

with open("out.xml", "rb") as f:
    root = fromstring(f.read())
assert root.tag == "root", root.tag
assert [r.get("n") for r in root] == ["0", "1", "2"], [r.get("n") for r in root]
assert root[2].text == "value 2", root[2].text
print("et_xmlfile round trip ok")
