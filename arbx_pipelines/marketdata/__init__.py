"""Market-data collection across venues (markets, funding snapshots, quotes, funding history): the I/O around
the venue clients and the database that the ingestion assets call."""
