"""Command line: ``alternator serve [options]``.

Every option can also be set by an environment variable, named after the option in upper case
with ``ALTERNATOR_`` in front and dashes as underscores (``--cassandra-host`` ->
``ALTERNATOR_CASSANDRA_HOST``); a flag on the command line wins over the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from alternator.config import (
    WRITE_ISOLATION_ALIASES,
    CassandraConfig,
    Config,
    parse_write_isolation,
)


def _env_name(option: str) -> str:
    name = option.lstrip("-").upper().replace("-", "_")
    return name if name.startswith("ALTERNATOR_") else "ALTERNATOR_" + name


class _Parser(argparse.ArgumentParser):
    def add(self, option: str, help: str, default: Any = None, **kwargs: Any) -> None:
        env = _env_name(option)
        value = os.environ.get(env, default)
        self.add_argument(option, default=value, help=f"{help} [env {env}]"
                          + (f" (default: {default})" if default is not None else ""), **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alternator",
        description="A DynamoDB-compatible server storing data in Cassandra, ScyllaDB or SQLite.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser(
        "serve", help="run the server", description="Run the DynamoDB-compatible HTTP server."
    )
    assert isinstance(serve, _Parser)
    serve.add("--alternator-address", "address to listen on", "127.0.0.1")
    serve.add("--alternator-port", "plain HTTP port", "8000", type=int)
    serve.add("--alternator-write-isolation",
              "default write isolation policy: " + ", ".join(WRITE_ISOLATION_ALIASES)
              + " (required with the cassandra backend)")
    serve.add("--backend", "storage backend: sqlite or cassandra", "sqlite",
              choices=("sqlite", "cassandra"))
    serve.add("--sqlite-path", "SQLite database file of the embedded backend", "alternator.db")
    serve.add("--cassandra-host", "comma-separated Cassandra/Scylla contact points", "127.0.0.1")
    serve.add("--cassandra-port", "CQL native protocol port", "9042", type=int)
    serve.add("--cassandra-username", "CQL user the server connects as")
    serve.add("--cassandra-password", "password of that CQL user")
    serve.add("--cassandra-datacenter", "the local datacenter (default: the contact point's)")
    serve.add("--cassandra-replication-factor",
              "replication factor of new tables (default: min(3, nodes) per datacenter)",
              type=int)
    serve.add("--region", "AWS region named in table ARNs", "us-east-1")
    serve.add("--log-level", "logging level", "INFO")
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    isolation = None
    if args.alternator_write_isolation is not None:
        isolation = parse_write_isolation(args.alternator_write_isolation)
        if isolation is None:
            raise SystemExit(
                f"alternator: invalid --alternator-write-isolation "
                f"{args.alternator_write_isolation!r}; choose one of "
                + ", ".join(WRITE_ISOLATION_ALIASES)
            )
    elif args.backend == "cassandra":
        raise SystemExit(
            "alternator: --alternator-write-isolation is required with --backend cassandra "
            "(for example --alternator-write-isolation only_rmw_uses_lwt); "
            "see docs/write-isolation.md"
        )
    return Config(
        address=args.alternator_address,
        port=int(args.alternator_port),
        backend=args.backend,
        sqlite_path=args.sqlite_path,
        cassandra=CassandraConfig(
            contact_points=tuple(h.strip() for h in args.cassandra_host.split(",") if h.strip()),
            port=int(args.cassandra_port),
            username=args.cassandra_username,
            password=args.cassandra_password,
            local_datacenter=args.cassandra_datacenter,
            replication_factor=(int(args.cassandra_replication_factor)
                                if args.cassandra_replication_factor else None),
        ),
        write_isolation=isolation,
        region=args.region,
    )


async def serve(config: Config) -> None:
    from alternator.runner import start_server

    server = await start_server(config)
    endpoint = f"http://{config.address}:{server.port}"
    print(f"alternator: serving DynamoDB API at {endpoint} ({config.backend} backend)", flush=True)
    print(f"  try: aws dynamodb list-tables --endpoint-url {endpoint}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = config_from_args(args)
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
