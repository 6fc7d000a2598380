"""The admin site's shell: roles, the re-themed third-party admins, ensure_admin."""
