"""The dashboard: metrics cached in Redis, their debounced refresh, the page and the metrics API."""
