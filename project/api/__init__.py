"""The API layer shared by every resource of /api/v1/.

Authentication, permissions, pagination, rendering, error bodies, schema and
idempotency live here; the resources themselves live in their apps
(``catalog.api``, ``movements.api``, ``dashboard.api``) and stay thin: they
validate shape and call the apps' services.
"""
