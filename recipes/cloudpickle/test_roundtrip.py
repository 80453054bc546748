"""cloudpickle's sdist ships no tests: pickle what plain pickle cannot (lambdas, closures,
dynamic classes) in wasm and call the copies."""
import pickle
from collections.abc import Callable

import cloudpickle


def make_adder(n: int) -> Callable[[int], int]:
    return lambda x: x + n


Dyn = type("Dyn", (), {"double": lambda self, v: 2 * v})

add3 = pickle.loads(cloudpickle.dumps(make_adder(3)))
assert add3(4) == 7, add3(4)
square = pickle.loads(cloudpickle.dumps(lambda v: v * v))
assert square(5) == 25
obj = pickle.loads(cloudpickle.dumps(Dyn()))
assert obj.double(21) == 42
print("cloudpickle round trip ok")
