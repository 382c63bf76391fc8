"""Behavioural fingerprints and forecasts of demand series (pure: numpy, pandas, statsmodels only)."""
