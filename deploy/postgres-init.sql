-- Second database for Dagster's run, event and schedule storage (the app data lives in `arbx`).
CREATE DATABASE dagster;
