"""Settings for ``bench api``: the project's, plus a ceiling view (benchmark only)."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.api_urls"

# The benchmark's Celery worker and web processes use a queue of their own on
# the broker: a Redis shared with a running back office keeps its queued
# jobs, and the benchmark's refreshes run against the benchmark's database.
CELERY_TASK_DEFAULT_QUEUE = "bench-api"
METRICS_REFRESH_QUEUE = ""
