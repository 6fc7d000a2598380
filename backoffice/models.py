"""No models of its own.

The module exists because Django sends ``post_migrate`` (after ``migrate``
and ``flush``) only to apps with a models module, and the roles are
re-synchronised on this app's signal (``BackofficeConfig.ready``).
"""
