"""ArbitrageX: funding-rate and cross-exchange arbitrage, orchestrated by Dagster."""

__version__ = "0.1.0"
