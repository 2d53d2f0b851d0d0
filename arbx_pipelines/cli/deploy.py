"""``arbx deploy check``: validate a deployment's settings before starting its services, one line per finding.

Exit 0 when every finding is ok, 1 when one fails; a bad config or argument exits 2 (one line) like every command.
"""

from __future__ import annotations

import argparse

from arbx_pipelines.config.loader import load_config
from arbx_pipelines.ops_deploy.checks import run_checks

#: the ports of deploy/systemd and deploy/workspace.yaml
WEBSERVER_PORT = 3000
GRPC_PORT = 4266


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1..65535)")
    return port


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    deploy = sub.add_parser("deploy", help="production deployment helpers")
    deploy_sub = deploy.add_subparsers(dest="deploy_command", metavar="ACTION", required=True)
    check = deploy_sub.add_parser(
        "check", help="database reachable and migrated, Redis, secrets for the mode, ports free (before starting)"
    )
    check.add_argument("--webserver-port", type=_port, default=WEBSERVER_PORT)
    check.add_argument("--grpc-port", type=_port, default=GRPC_PORT)
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    ports = [("dagster webserver", args.webserver_port), ("dagster gRPC code server", args.grpc_port)]
    if loaded.config.metrics.port is not None:
        ports.append(("metrics endpoint", loaded.config.metrics.port))
    findings = run_checks(loaded, ports)
    for finding in findings:
        print(finding.line())
    failed = sum(not finding.ok for finding in findings)
    print(f"deploy check: {len(findings) - failed} ok, {failed} failed")
    return 1 if failed else 0
