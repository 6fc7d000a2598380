#!/usr/bin/env bash
# `make run`: migrate, seed a small demo once, make sure an admin exists, then
# run web (gunicorn), a Celery worker and Celery beat until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBUG="${DEBUG:-1}"
export PYTHONUNBUFFERED=1
PY=.venv/bin/python
BIN=.venv/bin
PORT="${PORT:-8000}"

if [[ -z "${DATABASE_URL:-}" && -z "${REDIS_URL:-}" ]]; then
  echo "No DATABASE_URL / REDIS_URL: using the embedded default (SQLite in var/, file cache, filesystem broker)."
fi

$PY manage.py migrate --noinput
$PY manage.py seed_demo --if-empty --products "${DEMO_PRODUCTS:-300}" --movements "${DEMO_MOVEMENTS:-6000}"
if [[ "$DEBUG" != "1" && "$DEBUG" != "true" ]]; then
  $PY manage.py collectstatic --noinput -v0
fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping web, worker and beat..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

mkdir -p var
$BIN/celery -A project worker --loglevel=INFO --concurrency=2 >var/worker.log 2>&1 &
pids+=($!)
$BIN/celery -A project beat --loglevel=INFO --schedule=var/celerybeat-schedule >var/beat.log 2>&1 &
pids+=($!)
$BIN/gunicorn project.wsgi --bind "127.0.0.1:${PORT}" --workers 2 --access-logfile - &
pids+=($!)

sleep 1
$PY manage.py ensure_admin --url "http://127.0.0.1:${PORT}/admin/"
echo "Worker and beat log to var/worker.log and var/beat.log. Ctrl-C stops everything."
wait -n "${pids[@]}"
