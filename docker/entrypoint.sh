#!/bin/sh
# One image, several roles: web, worker, beat, flower, migrate.
set -eu

role="${1:-web}"
shift || true

case "$role" in
  migrate)
    exec python manage.py migrate_locked "$@"
    ;;
  web)
    # Web migrates before serving, under an advisory lock: with several web
    # replicas, one migrates and the others wait, never two at once. Worker
    # and beat start only once web is healthy, so after the migrations.
    python manage.py migrate_locked
    # Publish this image's static files and docs into the volumes nginx serves.
    python manage.py collectstatic --noinput -v0
    rm -rf /app/site/* && cp -R /app/docs-build/. /app/site/
    exec gunicorn project.wsgi -c docker/gunicorn.conf.py "$@"
    ;;
  worker)
    exec celery -A project worker --loglevel="${LOG_LEVEL:-INFO}" "$@"
    ;;
  beat)
    exec celery -A project beat --loglevel="${LOG_LEVEL:-INFO}" \
      --schedule=/tmp/celerybeat-schedule "$@"
    ;;
  flower)
    # Not published: nginx serves it under /flower/ and lets only an active
    # superuser's session through (auth_request to Django), every path included.
    exec celery -A project flower --port=5555 --url_prefix=flower "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
