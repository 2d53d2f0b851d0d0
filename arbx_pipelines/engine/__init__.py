"""The spot arbitrage engine (``arbx engine``): WebSocket books in, IOC orders on two venues out, in one process.

``books.py`` keeps each venue's books current (ccxt.pro, resyncing on gaps and bad checksums), ``detector.py`` runs
the depth walk of ``core/spread.py`` on every book update, ``executor.py`` sends both legs with the funding path's
order protocol and records, ``stats.py`` keeps the figures, ``service.py`` wires them together.
"""
