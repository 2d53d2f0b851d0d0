"""A module that fails on import: the warm run server must survive it (tests/foundation/test_warm_launcher.py)."""

raise RuntimeError("broken on purpose")
