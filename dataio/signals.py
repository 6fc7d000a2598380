"""Signals other layers listen to; dataio sends them and knows nothing of the listeners.

``rows_imported`` is sent inside an import's transaction, after its rows are
written (COPY and set-based UPDATE send no ``post_save``). The dashboard
connects to it to refresh after imports as after any other change.
"""

from django.dispatch import Signal

# sender: the model imported; job: the TaskNotification; new, updated: row counts.
rows_imported = Signal()
