# the sdist ships no tests: retries, stop and wait policies and exception filters in wasm
from retrying import retry, RetryError
calls = []
@retry(stop_max_attempt_number=5, wait_fixed=1)
def flaky() -> str:
    calls.append(1)
    if len(calls) < 3:
        raise IOError("again")
    return "done"
assert flaky() == "done" and len(calls) == 3

@retry(retry_on_result=lambda r: r is None, stop_max_attempt_number=4, wait_exponential_multiplier=1, wait_exponential_max=4)
def none_forever() -> None:
    return None
try:
    none_forever()
except RetryError as e:
    assert e.last_attempt.attempt_number == 4
else:
    raise AssertionError("RetryError expected")

@retry(retry_on_exception=lambda e: isinstance(e, IOError), stop_max_attempt_number=3)
def wrong_kind() -> None:
    raise ValueError("not retried")
try:
    wrong_kind()
except ValueError:
    pass
print("retrying ok")
