"""Create the PostgreSQL database named by DATABASE_URL if it does not exist."""

import os
from urllib.parse import urlparse

import psycopg
from psycopg import sql

url = os.environ["DATABASE_URL"]
name = urlparse(url).path.lstrip("/")
admin_url = url.rsplit("/", 1)[0] + "/postgres"
with psycopg.connect(admin_url, autocommit=True) as conn:
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"Created database {name}.")
