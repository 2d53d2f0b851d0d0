"""Imported by the warm run server (``launcher``): imports the modules named in ``ARBX_WARM_PRELOAD`` once, so
every run forked from the server starts with them loaded. An import that fails is reported and skipped: the run
process imports the module again and its error lands in that run's log."""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback

PRELOAD_ENV = "ARBX_WARM_PRELOAD"


def preload(names: str) -> None:
    for name in filter(None, (n.strip() for n in names.split(","))):
        start = time.monotonic()
        try:
            importlib.import_module(name)
        except BaseException:  # a bad module must not kill the server; the run reports it
            print(f"arbx warm run server: importing {name} failed; runs will import it themselves", file=sys.stderr)
            traceback.print_exc()
        else:
            print(f"arbx warm run server: {name} imported in {time.monotonic() - start:.1f} s", file=sys.stderr)


if os.environ.get(PRELOAD_ENV) and __name__ != "__main__":
    preload(os.environ[PRELOAD_ENV])
