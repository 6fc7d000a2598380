"""Celery discovers ``reports.tasks``; the tasks live in one module per subject."""

from reports.tasks import dashboard, transfers  # noqa: F401
