"""The API benchmark's CPU accounting: a known amount of work shows where it was spent."""

import subprocess
import sys
import threading
import time

import psycopg
import pytest
from django.db import connection

from benchmarks._cpu import cpu_per_request

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql_only]

# A "server": a master whose child (its worker) burns CPU when told to on stdin.
SERVER = """
import subprocess, sys
worker = subprocess.Popen([sys.executable, "-c", '''
import sys, time
sys.stdin.readline()
end = time.process_time() + 0.4
while time.process_time() < end:
    pass
print("done", flush=True)
sys.stdin.readline()
'''], stdin=sys.stdin, stdout=sys.stdout)
worker.wait()
"""


def test_cpu_is_split_between_server_database_and_client():
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    settings = connection.settings_dict
    database = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    )
    try:
        time.sleep(0.3)  # the worker is started
        figures = {}
        with cpu_per_request(server.pid, figures) as cpu:
            server.stdin.write("go\n")
            server.stdin.flush()
            busy = threading.Thread(
                target=database.execute,
                args=("SELECT count(*) FROM generate_series(1, 4000000)",),
            )
            busy.start()
            subprocess.run(  # the "client": a child of this process, as wrk is
                [
                    sys.executable,
                    "-c",
                    "import time\nend = time.process_time() + 0.2\n"
                    "while time.process_time() < end: pass",
                ],
                check=True,
            )
            assert server.stdout.readline().strip() == "done"
            busy.join()
            figures["requests"] = 100
        result = cpu.as_dict()
    finally:
        server.stdin.write("bye\n")
        server.stdin.flush()
        server.wait(timeout=10)
        database.close()
    # 0.4 s of the worker, 0.2 s of the client, over 100 requests (+ start-up).
    assert 3.5 <= result["server_ms"] <= 6, result
    assert 1.8 <= result["client_ms"] <= 4, result
    assert result["database_ms"] >= 0.5, result  # the backend counted the series
    assert result["total_ms"] == pytest.approx(
        result["server_ms"] + result["database_ms"] + result["client_ms"], abs=0.01
    )
    assert result["cpu_bound_rps"] > 0
