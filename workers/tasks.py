"""The one Celery task: build a forge job. The logic lives in workers.worker."""

from __future__ import annotations

from typing import Any

from .app import app
from .settings import TASK


@app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def build(self, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
    from celery.exceptions import Reject  # noqa: PLC0415

    from .worker import GiveBack, run_task  # noqa: PLC0415

    try:
        return run_task(payload, task_id=self.request.id, hostname=self.request.hostname or "worker",
                        url=self.app.conf.broker_url)
    except GiveBack as exc:  # back on the queue at once, for a healthy worker
        raise Reject(str(exc), requeue=True) from None
