"""Imports, exports and the notification centre: the job pipeline (see apps.DataioConfig)."""
