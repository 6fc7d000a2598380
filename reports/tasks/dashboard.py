"""Dashboard metrics and housekeeping tasks (see the dashboard issue)."""
