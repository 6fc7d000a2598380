"""Running a whole transaction again when PostgreSQL aborted it to break a deadlock.

Writers that lock several products take them in primary-key order
(``movements.services.lock_products``), so two of them never wait for each
other in a cycle. An import cannot: it locks the products of each batch as it
reads the file, and a later batch may name a product with a smaller key than
one it already holds. A receipt locking the same products then waits in a
cycle with it, and PostgreSQL aborts one of the two (``deadlock_detected``).
Its manual's advice is to run the aborted transaction again: the second time
it simply waits for the other one to commit.
"""

import functools
import logging
import random
import time

from django.db import OperationalError, connection
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

# deadlock_detected, serialization_failure: "run it again", by SQLSTATE.
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 3


def conflict_message() -> str:
    """What a person or a client is told when the retries did not get through."""
    return gettext(
        "Another change held the same rows at the same moment; nothing was saved. Retry."
    )


def is_conflict(error: BaseException) -> bool:
    """Whether the database aborted the transaction for another one (not for its data)."""
    return getattr(error.__cause__, "sqlstate", None) in CONFLICT_SQLSTATES


def retry_on_conflict(func):
    """Call ``func`` (which opens its own transaction) up to ``ATTEMPTS`` times on a conflict.

    Only outside a caller's transaction: inside one, the whole of the
    caller's transaction was aborted, and only the caller can run it again.
    """

    @functools.wraps(func)
    def run(*args, **kwargs):
        if not connection.in_atomic_block:
            for attempt in range(2, ATTEMPTS + 1):
                try:
                    return func(*args, **kwargs)
                except OperationalError as error:
                    if not is_conflict(error):
                        raise
                logger.warning(
                    "%s was aborted by the database to break a deadlock: attempt %d of %d",
                    func.__qualname__,
                    attempt,
                    ATTEMPTS,
                )
                # Apart, so that two retried transactions do not meet again.
                time.sleep(random.uniform(0.05, 0.2))
        return func(*args, **kwargs)  # the last attempt, or the caller's transaction

    return run
