"""Benchmarks behind ``arbx bench``: one module per bench exposing ``add_arguments(parser)`` and ``run(args)``.

Performance is measured here and printed, never asserted in unit tests.
"""
