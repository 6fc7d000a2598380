"""Imports and exports: files, readers, the set-based import and the streaming export.

The admin (``reports.transfers.admin``) creates a notification and queues a
task; the task (``reports.tasks.transfers``) calls ``imports``/``exports``
here; ``reports.notifications`` owns every change to the notification.
"""
