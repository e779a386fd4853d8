"""The `storecast` command: serve, app, worker, db upgrade, demo-data, demo, create-token."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import structlog

from server.logs import configure_logging, mask_credentials
from server.settings import Settings, SettingsError, load_settings, production_problems

log = structlog.get_logger()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="storecast", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="embedded Redis + app nodes + worker, until Ctrl-C")
    serve.add_argument("--nodes", type=int, default=None, help="app processes (default: settings)")
    app = commands.add_parser("app", help="one app process (HTTP API, pages and room sockets)")
    app.add_argument("--port", type=int)
    app.add_argument("--ws-port", type=int)
    commands.add_parser("worker", help="the arq worker")
    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])
    commands.add_parser("demo-data", help="load the demo chain (once; a second run does nothing)")
    commands.add_parser("demo", help="db upgrade + demo-data + print the URLs + serve")
    token = commands.add_parser("create-token", help="print a role token")
    token.add_argument("role", choices=["hq", "host", "guide", "viewer"])
    token.add_argument("id", type=int, help="staff, guide or customer id")
    token.add_argument("--store", type=int, default=None, help="required for host and guide")
    args = parser.parse_args(argv)

    if args.command == "app":
        if args.port:
            os.environ["STORECAST_HTTP_PORT"] = str(args.port)
        if args.ws_port:
            os.environ["STORECAST_HTTP_WS_PORT"] = str(args.ws_port)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"storecast: {mask_credentials(str(exc))}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return _run(args, settings)
    except SettingsError as exc:
        print(f"storecast: {mask_credentials(str(exc))}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from server import migrate

    match args.command:
        case "serve":
            from server.supervisor import Supervisor

            migrate.upgrade(settings.database_url)
            Supervisor(settings, nodes=args.nodes or settings.http.workers).run()
        case "app":
            warn_if_demo(settings)
            _run_app(settings)
        case "worker":
            import uvloop

            from server.worker import make_worker

            if settings.worker.nice > 0:
                os.nice(settings.worker.nice)
            # arq runs on the loop current when the worker is made: uvloop, as the app nodes.
            asyncio.set_event_loop(uvloop.new_event_loop())
            make_worker(settings).run()
        case "db":
            migrate.upgrade(settings.database_url)
            print("database is at the newest migration")
        case "demo-data":
            from server.demo import load_demo_data

            migrate.upgrade(settings.database_url)
            print(asyncio.run(load_demo_data(settings)).describe(settings))
        case "demo":
            from server.demo import load_demo_data
            from server.supervisor import Supervisor

            migrate.upgrade(settings.database_url)
            print(asyncio.run(load_demo_data(settings)).describe(settings), flush=True)
            Supervisor(settings, nodes=settings.http.workers).run()
        case "create-token":
            from server.auth import Principal, Role, TokenSigner

            signer = TokenSigner(settings.auth.secret, settings.auth.token_ttl_seconds)
            try:
                principal = Principal(Role(args.role), args.id, args.store)
            except ValueError as exc:
                print(f"storecast: {exc}: add --store N", file=sys.stderr)
                return 2
            print(signer.issue(principal))
    return 0


def warn_if_demo(settings: Settings) -> None:
    """Said by every app node as it starts, so a demo that ends up facing the internet says
    what production would refuse (one-shot commands keep their one-line output)."""
    if settings.env == "demo" and (unsafe := production_problems(settings)):
        log.warning("storecast.demo_mode", not_for_production=unsafe)


def _run_app(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "server.app:app_from_environment",
        factory=True,
        host=settings.http.host,
        port=settings.http.port,
        loop="uvloop",
        lifespan="on",
        log_config=None,
        access_log=False,
        # Compression costs broadcast throughput far more than it saves on small frames
        # (docs/benchmarks.md).
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    sys.exit(main())
