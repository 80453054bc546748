# anyio's suite needs trustme, uvloop and trio (conftest imports trustme): task groups,
# cancellation, memory streams, synchronisation, no threads (anyio.to_thread needs them) on the asyncio backend in wasm
import wasm_loop  # noqa: F401  (asyncio.run without JSPI; see wasm_loop.py)
import anyio
from anyio import create_task_group, create_memory_object_stream, move_on_after, fail_after, Event, Lock, Semaphore, CapacityLimiter, sleep

async def main() -> str:
    results = []
    send, receive = create_memory_object_stream[int](5)
    async def producer() -> None:
        async with send:
            for i in range(10):
                await send.send(i)
    async def consumer() -> None:
        async with receive:
            async for item in receive:
                results.append(item)
    async with create_task_group() as tg:
        tg.start_soon(producer)
        tg.start_soon(consumer)
    assert results == list(range(10))

    with move_on_after(0.01) as scope:
        await sleep(10)
    assert scope.cancelled_caught
    try:
        with fail_after(0.01):
            await sleep(10)
    except TimeoutError:
        pass
    else:
        raise AssertionError("fail_after must raise")

    ev, lock, order = Event(), Lock(), []
    async def waiter(n: int) -> None:
        await ev.wait()
        async with lock:
            order.append(n)
    async with create_task_group() as tg:
        for n in range(3):
            tg.start_soon(waiter, n)
        await sleep(0)
        ev.set()
    assert sorted(order) == [0, 1, 2]

    sem, limiter, peak, active = Semaphore(2), CapacityLimiter(2), [], [0]
    async def worker() -> None:
        async with sem:
            active[0] += 1
            peak.append(active[0])
            await sleep(0.001)
            active[0] -= 1
    async with create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(worker)
    assert max(peak) == 2 and limiter.total_tokens == 2

    try:
        async with create_task_group() as tg:
            async def boom() -> None:
                raise ValueError("x")
            tg.start_soon(boom)
            await sleep(1)
    except* ValueError as eg:
        assert len(eg.exceptions) == 1
    return "ok"

assert anyio.run(main) == "ok"
print("anyio ok")
