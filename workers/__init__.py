"""The build farm: Celery workers that build forge jobs with nothing shared but Redis.

Modules, one job each:
  settings   - URLs, key names and tunables (all from the environment)
  safety     - path checks that keep a task inside its work directory
  blobs      - content-addressed files in Redis (sha256-keyed, TTL) and a local cache
  payload    - coordinator: job -> manifest of blobs; worker: manifest -> local job
  registry   - per-build records and live logs in Redis (for `forge farm status`)
  app        - the Celery application (`celery -A workers.app worker`)
  tasks      - the Celery task (a thin wrapper around worker.run_task)
  worker     - what a worker does with one task
  executor   - CeleryExecutor: the coordinator side, an Executor for forge.scheduler
  status     - what `forge farm status` shows
"""
