"""Performance and backtest reports: charts (matplotlib, PNG) and documents (markdown + PNG files, HTML)."""
