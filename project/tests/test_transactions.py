"""Running a transaction again when the database aborted it for another one (project.transactions).

The real deadlock (an import and a receipt) is in
purchasing/tests/test_receipt_during_import.py; these pin the rules.
"""

import pytest
from django.db import OperationalError, transaction

from project import transactions
from project.api.exceptions import exception_handler
from project.tests.faults import aborted_by_database


def _failing(errors: list[Exception]):
    calls = []

    def work():
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "done"

    return work, calls


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch):
    monkeypatch.setattr(transactions.time, "sleep", lambda seconds: None)


def test_a_deadlock_victim_runs_again_and_lands():
    work, calls = _failing([aborted_by_database("40P01"), aborted_by_database("40001")])
    assert transactions.retry_on_conflict(work)() == "done"
    assert len(calls) == 3


def test_it_gives_up_after_the_last_attempt():
    work, calls = _failing([aborted_by_database("40P01")] * 5)
    with pytest.raises(OperationalError):
        transactions.retry_on_conflict(work)()
    assert len(calls) == transactions.ATTEMPTS


def test_other_database_errors_are_not_run_again():
    work, calls = _failing([aborted_by_database("57014"), OperationalError("no cause")])
    with pytest.raises(OperationalError):
        transactions.retry_on_conflict(work)()
    assert len(calls) == 1


@pytest.mark.django_db
def test_inside_a_callers_transaction_only_the_caller_may_run_it_again():
    work, calls = _failing([aborted_by_database("40P01")])
    with pytest.raises(OperationalError), transaction.atomic():
        transactions.retry_on_conflict(work)()
    assert len(calls) == 1


def test_the_api_answers_a_deadlock_left_over_with_409_and_nothing_saved():
    response = exception_handler(aborted_by_database("40P01"), {})
    assert response.status_code == 409
    assert response.data["code"] == "concurrent_change"
    assert "Retry" in str(response.data["detail"])
