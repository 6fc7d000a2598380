"""The one base class of the errors whose text is shown to a person.

It lives in ``project`` because every app may import ``project``: the catalog,
the ledger and the import engine each keep their own subclass (``CatalogError``,
``LedgerError``, ``ImportFileError``, ``ImportAborted``) so callers still catch
exactly what they mean, and whoever shows one reads ``.message``.
"""


class UserFacingError(Exception):
    """A refusal worded for the person who caused it; ``message`` is that text.

    The message is already translated (built with gettext where it is raised);
    tracebacks and internals never go into it.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
