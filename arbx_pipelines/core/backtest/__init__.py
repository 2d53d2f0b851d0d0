"""The backtester: pure replay of funding settlements through the live decision rules (no I/O)."""
