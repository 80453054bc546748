"""The Celery application. Start a worker with

    forge worker --broker redis://127.0.0.1:6379/0          (or)
    celery -A workers.app worker --broker redis://127.0.0.1:6379/0 -E

Reliability settings, deliberately:
- task_acks_late + task_reject_on_worker_lost: a build is acknowledged only when it has
  finished, so a worker that dies mid-build leaves it in Redis for another worker;
- worker_prefetch_multiplier=1: a worker holds no more builds than it runs, so a dead
  worker strands one build, not a queue of them;
- visibility_timeout (FORGE_FARM_VISIBILITY_TIMEOUT): after it, a live worker's periodic
  sweep hands an unacknowledged build to someone else; it must exceed the longest build.
There is no Celery result backend: results, packages and logs travel through the farm's own
Redis keys (workers.blobs, workers.registry), which the coordinator verifies.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from celery import Celery
from celery.signals import task_received, worker_init, worker_ready, worker_shutdown

from . import settings


def make_app(url: str | None = None) -> Celery:
    """A Celery app for the farm at `url` (password and rediss:// passed straight to kombu)."""
    broker = settings.farm_url(url)
    app = Celery("forge", broker=broker, include=["workers.tasks"])
    app.conf.update(
        broker_url=broker,
        task_default_queue=settings.QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_track_started=True,
        task_send_sent_event=True,
        worker_send_task_events=True,  # Flower sees builds without -E
        worker_prefetch_multiplier=1,
        worker_concurrency=settings.worker_concurrency(),
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout(),
            "unacked_restore_interval": settings.restore_interval(),
            "unacked_restore_throttle": 1,
            "socket_timeout": 30,
            "socket_connect_timeout": 5,
            "health_check_interval": 10,
        },
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5,
                                   "interval_max": 1.0},
    )
    return app


app = make_app()


@worker_init.connect
def _preflight(sender: Any = None, **_: Any) -> None:
    """Before a worker takes builds: Redis accepts us and this machine can build, else say why
    and exit 1 (a misconfigured or broken worker would otherwise retry forever or fail every build)."""
    from . import health  # noqa: PLC0415

    url = (sender.app.conf.broker_url if sender is not None else None) or settings.farm_url()
    name = getattr(sender, "hostname", None) or "worker"
    try:
        settings.check_redis(url)
    except settings.FarmConfigError as exc:
        print(f"error: worker {name}: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
    except Exception:  # noqa: BLE001  (an outage: Celery reconnects by itself)
        pass
    try:  # a restarted worker starts with a clean record
        client = settings.redis_client(url)
        client.delete(health.quarantine_key(name), settings.key("worker", name, "infra"))
    except Exception:  # noqa: BLE001
        pass
    problems = health.check()
    if problems:
        print(f"error: worker {name} is not taking builds: {'; '.join(problems)}.", file=sys.stderr, flush=True)
        os._exit(1)


def slots_key(hostname: str) -> str:
    """`forge:slots:<worker>`: how many builds a live, healthy worker runs at once (TTL'd)."""
    return settings.key("slots", hostname)


def _advertise(url: str, name: str, concurrency: int, stop: Any) -> None:
    """Keep this worker's slot count in Redis while it lives and takes builds: the coordinator
    dispatches no more builds than there are slots, so its priorities decide what runs next."""
    from . import health  # noqa: PLC0415

    from celery.worker import state  # noqa: PLC0415

    client = settings.redis_client(url)
    while True:
        try:
            if client.exists(health.quarantine_key(name)):
                client.delete(slots_key(name))
            else:
                client.set(slots_key(name), concurrency, ex=10)
            held = [req.id for req in list(state.reserved_requests)]
            if held:  # the builds this worker holds, running or waiting for a slot
                pipe = client.pipeline(transaction=False)
                for tid in held:
                    pipe.set(settings.held_key(tid), name, ex=_held_ttl())
                pipe.execute()
        except Exception:  # noqa: BLE001  (Redis away: the key expires, the coordinator adapts)
            pass
        if stop.wait(min(3.0, settings.heartbeat_interval())):
            break
    try:
        client.delete(slots_key(name))
    except Exception:  # noqa: BLE001
        pass


_stop_advertising: Any = None
_held_client: Any = None


def _held_ttl() -> int:
    return max(1, int(round(settings.lost_after())))


@task_received.connect
def _held(request: Any = None, sender: Any = None, **_: Any) -> None:
    """Mark a build as held by this live worker the moment it takes it off the queue (refreshed
    by the slots loop, deleted when the task ends): a worker that dies before its build turns
    `running` is then found by the coordinator within lost_after, not the visibility timeout."""
    global _held_client
    try:
        if _held_client is None:
            _held_client = settings.redis_client(sender.app.conf.broker_url)
        name = getattr(sender, "hostname", None) or "worker"
        _held_client.set(settings.held_key(request.id), name, ex=_held_ttl())
    except Exception:  # noqa: BLE001  (Redis away: the coordinator rides that out)
        pass


@worker_ready.connect
def _start_advertising(sender: Any = None, **_: Any) -> None:
    import threading  # noqa: PLC0415

    global _stop_advertising
    consumer = sender
    worker = getattr(consumer, "controller", None)
    name = getattr(consumer, "hostname", None) or getattr(worker, "hostname", None) or "worker"
    concurrency = int(getattr(worker, "concurrency", None) or settings.worker_concurrency())
    url = consumer.app.conf.broker_url if consumer is not None else settings.farm_url()
    _stop_advertising = threading.Event()
    threading.Thread(target=_advertise, args=(url, name, concurrency, _stop_advertising), daemon=True,
                     name="forge-slots").start()


@worker_shutdown.connect
def _stop(**_: Any) -> None:
    if _stop_advertising is not None:
        _stop_advertising.set()
