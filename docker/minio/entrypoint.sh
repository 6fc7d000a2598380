#!/bin/sh
# MinIO for docker-compose.minio.yml: the server, and the app's private bucket
# made at start (idempotent), so the stack needs no extra one-shot service.
set -eu
: "${MINIO_BUCKET:?MINIO_BUCKET is not set}"
minio server /data --address :9000 --console-address :9001 &
server=$!
# docker stop signals this shell; the server must get it too.
trap 'kill -TERM "$server"; wait "$server"' TERM INT
until mc alias set local http://127.0.0.1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do
  sleep 1
done
mc mb --ignore-existing "local/$MINIO_BUCKET"
# Private: nothing is readable without the keys or a signed URL.
mc anonymous set none "local/$MINIO_BUCKET"
wait "$server"
