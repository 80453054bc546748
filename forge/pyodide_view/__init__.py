"""The Pyodide view of a channel: wheels, pyodide-lock.json and a piplite all.json that
Pyodide, micropip and JupyterLite consume directly (one build, every consumer)."""

from .lock import validate_lock
from .view import ViewReport, publish_view

__all__ = ["ViewReport", "publish_view", "validate_lock"]
