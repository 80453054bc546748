# nltk's doctests need its downloadable corpora (network): tokenizers, stemmers, n-grams,
# frequency distributions, metrics, a chart parser and a chunker on built-in data in wasm
import nltk
from nltk.tokenize import TreebankWordTokenizer, RegexpTokenizer, wordpunct_tokenize
from nltk.stem import PorterStemmer, SnowballStemmer
from nltk.util import ngrams
from nltk.probability import FreqDist
from nltk.metrics import edit_distance, jaccard_distance
from nltk import CFG, ChartParser, RegexpParser

text = "The quick brown foxes weren't jumping over the lazy dogs; they ran."
toks = TreebankWordTokenizer().tokenize(text)
assert toks[:4] == ["The", "quick", "brown", "foxes"] and "n't" in toks, toks
assert RegexpTokenizer(r"\w+").tokenize("a-b c") == ["a", "b", "c"]
assert wordpunct_tokenize("hi, you") == ["hi", ",", "you"]
ps = PorterStemmer()
assert [ps.stem(w) for w in ("running", "jumps", "easily")] == ["run", "jump", "easili"]
assert SnowballStemmer("german").stem("Katzen") == "katz"
assert list(ngrams([1, 2, 3, 4], 3)) == [(1, 2, 3), (2, 3, 4)]
fd = FreqDist("abracadabra")
assert fd.most_common(1) == [("a", 5)] and fd.N() == 11
assert edit_distance("kitten", "sitting") == 3
assert abs(jaccard_distance(set("abc"), set("bcd")) - 0.5) < 1e-9
grammar = CFG.fromstring("""
S -> NP VP
NP -> Det N
VP -> V NP
Det -> 'the' | 'a'
N -> 'dog' | 'cat'
V -> 'saw'
""")
trees = list(ChartParser(grammar).parse("the dog saw a cat".split()))
assert len(trees) == 1 and trees[0].label() == "S"
chunk = RegexpParser("NP: {<DT>?<JJ>*<NN>}").parse([("the", "DT"), ("lazy", "JJ"), ("dog", "NN"), ("ran", "VBD")])
assert [st.label() for st in chunk.subtrees()] == ["S", "NP"]
print("nltk ok", nltk.__version__)
