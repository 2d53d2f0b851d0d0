"""Benchmarks behind ``arbx bench``: one module per bench exposing ``run(args)``; options in ``bench.arguments``.

Performance is measured here and printed, never asserted in unit tests.
"""
