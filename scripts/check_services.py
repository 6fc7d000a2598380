"""Fail early, with a clear message, when PostgreSQL or Redis is unreachable."""

import os
import sys

import psycopg
import redis

database_url = os.environ["DATABASE_URL"]
redis_url = os.environ["REDIS_URL"]
problems = []

try:
    # The maintenance database answers even before the project's exists.
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    psycopg.connect(admin_url, connect_timeout=3).close()
except psycopg.Error as error:
    problems.append(f"PostgreSQL at {database_url} is unreachable: {error}".strip())

try:
    redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
except redis.RedisError as error:
    problems.append(f"Redis at {redis_url} is unreachable: {error}")

if problems:
    print("The tests need PostgreSQL and Redis:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    print(
        "Start them, or point DATABASE_URL / REDIS_URL at running servers "
        "(defaults: postgres://postgres@127.0.0.1:5432/inventory, redis://127.0.0.1:6379/0).",
        file=sys.stderr,
    )
    sys.exit(1)
