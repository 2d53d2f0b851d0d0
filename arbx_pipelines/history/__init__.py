"""Historical funding and price data: parsing of recorded files and bulk writing into the database (adapters)."""
