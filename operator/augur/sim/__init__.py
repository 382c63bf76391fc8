"""Trace-driven simulation: the walk-forward backtester built only from the pure packages below it."""
