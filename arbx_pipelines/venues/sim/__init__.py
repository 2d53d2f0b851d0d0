"""Simulated Binance, OKX and Bitget venues on loopback, in their real REST formats, for stock ccxt clients.

Layout (each file one concept):

* ``clock.py`` simulated time (speed factor, jumps, pause; stepped for tests); ``noise.py`` deterministic hashing noise;
* ``history.py`` real recorded data to replay; ``universe.py`` listed coins and instruments (unified symbols);
* ``market.py`` prices and funding as pure functions of (seed, venue, coin, time), with admin overrides;
* ``book.py`` synthetic order books; ``matching.py`` book walking; ``margin.py`` PnL and liquidation maths;
* ``orders.py`` order/fill/ledger records; ``accounts.py`` wallets and positions; ``trading.py`` order handling;
* ``engine.py`` ``SimVenue``: one venue's market view + account, what venue modules call;
* ``world.py`` the world (accounts, orders, ledgers, overrides, clock) as data; ``persistence.py`` its file;
* ``faults.py`` fault rules; ``simulator.py`` all venues + one clock/market; ``server.py`` aiohttp app and
  ``SimServer`` (background thread); ``admin.py`` ``/_admin/...`` control endpoints (documented there);
* ``venue_api.py`` the plug-in interface; ``binance/`` (``okx/``, ``bitget/``) the venue modules;
* ``ccxt_wiring.py`` points a stock ccxt client at the simulator.

Adding a venue module (how ``okx/`` and ``bitget/`` plug in):

1. Create ``arbx_pipelines/venues/sim/<venue>/__init__.py`` with a subclass of ``venue_api.VenueModule``:
   ``name = "<venue>"`` (the URL prefix and ``SimVenue.name``), ``routes()`` returning ``Route(method, path,
   handler, weight, signed, limit_group)`` for every endpoint ccxt calls, ``authenticate(request)`` (raise
   ``SimError(ErrorKind.BAD_SIGNATURE | BAD_API_KEY | BAD_PASSPHRASE | BAD_TIMESTAMP)``), ``render_error(error,
   request)`` (the venue's status + body for each ``ErrorKind``), optionally ``instruments()`` (adjust precision,
   ``contract_size``), ``initial_wallets()``, ``not_found()``, ``weight_headers()``. Export it as ``MODULE``.
2. It is already listed in ``simulator.VENUE_MODULES``; the server mounts its routes under ``/<venue>``.
3. Handlers receive a ``SimRequest`` (method, path below the prefix, raw query string, query dict, body, headers,
   ``fill_ratio`` of the partial-fill fault) and return a JSON-able payload or a ``Reply``; they call the engine:
   ``venue.instrument(symbol)``, ``book()``, ``ticker()``, ``funding()``, ``funding_history()``, ``mark_price()``,
   ``index_price()``, ``trading.create(OrderRequest, fill_ratio)``, ``trading.order()``, ``trading.cancel()``,
   ``trading.open_orders()``, ``trading.trades``, ``account`` (wallets, positions, ``available_margin()``,
   ``liquidation_price()``, ``ledger``), ``set_leverage()``, ``set_margin_mode()``, ``transfer()``. Engine amounts
   are in base currency; convert contracts with ``Instrument.contract_size``. Errors are raised as ``SimError``.
4. The server applies faults, weights, authentication (for ``signed`` routes) and ``venue.sync()`` around handlers.
"""
