"""The embedded default's broker never hands a worker a half-written message."""

import json
from queue import Empty

import pytest
from kombu import Connection
from kombu.transport import filesystem

from project import filebroker


def _connection(folder, transport):
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
    }
    (folder / "processed").mkdir()
    return Connection(transport=transport, transport_options=options)


def _read_while_writing(tmp_path, monkeypatch, transport, module):
    """Publish one message; in the middle of writing it, the consumer polls the queue."""
    with _connection(tmp_path, transport) as connection:
        channel = connection.default_channel
        real = module.str_to_bytes
        seen = []

        def slow_bytes(text):
            try:  # the file exists, its content is not written yet
                seen.append(channel._get("jobs"))
            except Empty:
                seen.append("empty")
            return real(text)

        monkeypatch.setattr(module, "str_to_bytes", slow_bytes)
        channel._put("jobs", {"body": "x"})
        monkeypatch.setattr(module, "str_to_bytes", real)
        return seen, channel._get("jobs")


def test_a_worker_polling_mid_write_sees_nothing_then_the_whole_message(tmp_path, monkeypatch):
    seen, message = _read_while_writing(tmp_path, monkeypatch, filebroker.Transport, filebroker)
    assert seen == ["empty"]
    assert message == {"body": "x"}


def test_kombus_own_transport_hands_over_the_empty_file(tmp_path, monkeypatch):
    # The bug this transport exists for (celery/kombu#1551): it killed the worker.
    with pytest.raises(json.JSONDecodeError):
        _read_while_writing(tmp_path, monkeypatch, filesystem.Transport, filesystem)


def test_celery_connects_through_it_on_the_embedded_default():
    # settings.py sets CELERY_BROKER_TRANSPORT when no broker URL is given.
    from celery import Celery

    app = Celery(set_as_current=False)
    app.conf.broker_url = None
    app.conf.broker_transport = "project.filebroker:Transport"
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, filebroker.Transport)
