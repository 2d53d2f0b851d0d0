"""``arbx metrics serve``: the Prometheus endpoint on 127.0.0.1 (``metrics.port``, 9108 in deploy/) until stopped."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.logs import add_file_log
from arbx_pipelines.ops_deploy.metrics import DEFAULT_PORT, start_metrics_server
from arbx_pipelines.storage.db import make_engine


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    metrics = sub.add_parser("metrics", help="Prometheus endpoint with the business and process figures")
    metrics_sub = metrics.add_subparsers(dest="metrics_command", metavar="ACTION", required=True)
    serve = metrics_sub.add_parser("serve", help="serve /metrics until stopped (Ctrl-C or SIGTERM)")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help=f"default: metrics.port, else {DEFAULT_PORT}")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    port = args.port if args.port is not None else (loaded.config.metrics.port or DEFAULT_PORT)
    add_file_log(loaded.data_dir / "logs")
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)  # before serving: a SIGTERM from then on stops cleanly
    engine = make_engine(loaded.database_url)
    try:
        try:
            server = start_metrics_server(engine, port, args.host)
        except OSError as exc:
            raise CliError(f"metrics: cannot serve on {args.host}:{port}: {exc.strerror or exc}") from exc
        try:
            print(f"metrics on {server.url}", flush=True)
            stop.wait()
        finally:
            server.close()
    finally:
        signal.signal(signal.SIGTERM, previous)
        engine.dispose()
    return 0
