"""Executors run BuildJobs and hand back futures of BuildOutcomes.

The scheduler only knows this interface, so the embedded local pool and the Celery farm
(workers/) are interchangeable.
"""

from .base import Executor
from .local import LocalExecutor

__all__ = ["Executor", "LocalExecutor"]
