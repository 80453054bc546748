"""The one Celery task: build a forge job. The logic lives in workers.worker."""

from __future__ import annotations

from typing import Any

from .app import app
from .settings import TASK


@app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def build(self, payload: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
    from .worker import run_task  # noqa: PLC0415

    return run_task(payload, task_id=self.request.id, hostname=self.request.hostname or "worker",
                    url=self.app.conf.broker_url)
