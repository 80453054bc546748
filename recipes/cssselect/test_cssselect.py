# the sdist's tests need lxml (not in the channel): selectors parsed and translated to XPath in wasm
import cssselect
from cssselect import GenericTranslator, HTMLTranslator, SelectorSyntaxError, parse
sel = parse("div#main > p.note:first-child, a[href^='http']")
assert len(sel) == 2
assert repr(sel[0]).startswith("Selector[")
g = GenericTranslator()
assert g.css_to_xpath("div") == "descendant-or-self::div"
assert g.css_to_xpath("a#b") == "descendant-or-self::a[@id = 'b']"
assert g.css_to_xpath("p.x") == (
    "descendant-or-self::p[@class and contains(@class, 'x') and contains(concat(' ', normalize-space(@class), ' '), ' x ')]")
assert g.css_to_xpath("ul > li:nth-child(2)").endswith("count(preceding-sibling::*) = 1]")
h = HTMLTranslator()
assert "@checked" in h.css_to_xpath(":checked")
try:
    parse("div[")
except SelectorSyntaxError:
    pass
else:
    raise AssertionError("syntax error expected")
print("cssselect ok", cssselect.__version__)
