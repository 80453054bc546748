"""Test support: plain helper modules that tests and benchmarks both import (temp recipe
repos and the CLI in a subprocess, the farm's redis-server and Celery workers, the Chromium
driver of the lite site, sample author projects). No pytest fixtures live here: fixtures
stay in the conftest.py files and are built on these helpers."""
