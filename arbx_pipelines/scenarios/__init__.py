"""End-to-end drivers on the simulated venues (``arbx scenario ...``, benchmarks): a simulator on a free port, a
temporary config, database and Dagster instance, and the real Definitions built for them."""
