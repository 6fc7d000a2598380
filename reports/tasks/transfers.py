"""Import, export, notification housekeeping and ledger check tasks."""
