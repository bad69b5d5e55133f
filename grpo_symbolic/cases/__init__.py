"""Closed forms derived from the model's stationarity conditions, one module per case."""
