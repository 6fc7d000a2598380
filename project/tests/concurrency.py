"""Several people at the same moment: threads released together, each with its own connection."""

import threading
from collections.abc import Callable

from django.db import connection


def at_once(work: Callable[[int], object], count: int, *, timeout: float = 60) -> list:
    """Run ``work(index)`` in ``count`` threads that start it together; return what each returned.

    ``work`` turns the refusals it expects into outcomes; anything else it
    raises is raised here once every thread is done.
    """
    barrier = threading.Barrier(count)
    outcomes, errors, lock = [], [], threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()  # every thread reaches the code under test together
            outcome = work(index)
            with lock:
                outcomes.append(outcome)
        except Exception as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    return outcomes
