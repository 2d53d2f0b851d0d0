"""Funding forecasts and the trading signals derived from them (pure computation with statsmodels/numpy)."""
