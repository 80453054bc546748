# pytest-asyncio's own suite drives pytester for minutes and builds loops from policies that need
# sockets: an async suite (strict and auto mode, async fixtures, scopes) run in-process in wasm
import os
import tempfile
import pytest
import pytest_asyncio
import wasm_loop  # noqa: F401  (asyncio.run without JSPI)

SUITE = '''
import asyncio
import pytest
import pytest_asyncio

@pytest_asyncio.fixture
async def value():
    await asyncio.sleep(0.001)
    yield 41

@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared():
    return asyncio.get_running_loop()

@pytest.mark.asyncio
async def test_fixture(value):
    await asyncio.sleep(0)
    assert value + 1 == 42

@pytest.mark.asyncio(loop_scope="module")
async def test_module_loop(shared):
    assert asyncio.get_running_loop() is shared

@pytest.mark.asyncio
async def test_tasks():
    results = await asyncio.gather(*(asyncio.sleep(0.001, result=i) for i in range(5)))
    assert results == [0, 1, 2, 3, 4]

@pytest.mark.asyncio
async def test_timeout():
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)

def test_sync():
    assert True
'''
d = tempfile.mkdtemp()
with open(os.path.join(d, "test_async_suite.py"), "w") as f:
    f.write(SUITE)
for mode, expect in (("strict", 0), ("auto", 0)):
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "pytest_asyncio", "-o", f"asyncio_mode={mode}",
                        "-o", "asyncio_default_fixture_loop_scope=function", "-W", "error::pytest.PytestUnraisableExceptionWarning", d])
    assert code == expect, (mode, code)
assert pytest_asyncio.is_async_test
print("pytest-asyncio ok", pytest_asyncio.__version__)
