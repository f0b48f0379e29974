"""Command line: ``alternator serve [options]``.

Every option can also be set by an environment variable, named after the option in upper case
with ``ALTERNATOR_`` in front and dashes as underscores (``--cassandra-host`` ->
``ALTERNATOR_CASSANDRA_HOST``); a flag on the command line wins over the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from alternator.config import (
    WRITE_ISOLATION_ALIASES,
    CassandraConfig,
    Config,
    Limits,
    StreamsConfig,
    parse_write_isolation,
)
from alternator.roles import PERMISSIONS, RoleAdmin, resource_of
from alternator.storage import Role


def _env_name(option: str) -> str:
    name = option.lstrip("-").upper().replace("-", "_")
    return name if name.startswith("ALTERNATOR_") else "ALTERNATOR_" + name


class _Parser(argparse.ArgumentParser):
    def add(self, option: str, help: str, default: Any = None, **kwargs: Any) -> None:
        env = _env_name(option)
        value = os.environ.get(env, default)
        self.__dict__.setdefault("added", []).append(option)
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
    serve.add("--alternator-port", "plain HTTP port (default: no plain HTTP)", type=int)
    serve.add("--alternator-https-port", "HTTPS port ('none' to disable)", "8043")
    serve.add("--prometheus-port", "port of the Prometheus metrics listener, GET /metrics "
              "('none' to disable)", "9180")
    serve.add("--prometheus-address",
              "address of the metrics listener (default: --alternator-address)", None)
    serve.add("--alternator-https-certificate",
              "PEM certificate chain for HTTPS (default: generated with a serving CA)")
    serve.add("--alternator-https-key", "PEM private key of that certificate")
    serve.add("--alternator-client-ca", "require client certificates signed by this CA (mTLS)")
    serve.add("--state-dir", "where the generated serving CA and certificate are kept",
              ".alternator")
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
    serve.add("--cassandra-replication",
              "replication of the metadata keyspace and new tables: a factor for every "
              "datacenter (3), or DC:FACTOR,... per datacenter", "3")
    serve.add("--alternator-enforce-authorization",
              "check request signatures and CQL permissions (true/false)", "true")
    serve.add("--alternator-warn-authorization",
              "when not enforcing: log and count requests that would be refused (true/false)",
              "false")
    serve.add("--alternator-ttl-period-in-seconds",
              "how often expired items are looked for in every TTL-enabled table", "86400",
              type=float)
    serve.add("--alternator-backfill-period-in-seconds",
              "how often to look for new secondary indexes to backfill (one created through "
              "this process starts at once)", "10", type=float)
    serve.add("--alternator-streams-time-window-s",
              "Cassandra: seconds stream readers stay behind now, the margin for clock skew "
              "and slow writes between server processes (docs/streams.md)", "1", type=float)
    serve.add("--alternator-streams-shards", "shards per generation of a new stream", "4",
              type=int)
    serve.add("--alternator-streams-shard-period-s",
              "seconds per shard generation of a new stream", "3600", type=float)
    serve.add("--alternator-streams-retention-s", "seconds stream records stay readable",
              "86400", type=float)
    serve.add("--alternator-transaction-timeout-s",
              "Cassandra: seconds a transaction may stay uncommitted before another server "
              "process rolls it back", "5", type=float)
    serve.add("--alternator-credentials-validity",
              "seconds a role's secret and permissions are cached", "2", type=float)
    serve.add("--alternator-allow-system-table-write",
              "let superusers write system tables through .scylla.alternator.KS.TABLE "
              "(true/false)", "false")
    serve.add("--workers", "server processes sharing the ports (SO_REUSEPORT)", "1", type=int)
    _add_registry_options(serve)
    serve.add("--sqlite-synchronous",
              "SQLite's durability: full (acknowledged writes survive an OS crash), normal "
              "(faster; the last writes may be lost in a crash) or off", "full",
              choices=("full", "normal", "off"))
    _add_limit_options(serve)
    _add_http_options(serve)
    serve.add("--region", "AWS region named in table ARNs", "us-east-1")
    serve.add("--log-level", "logging level", "INFO")
    _add_role_commands(commands)
    return parser


def _add_registry_options(serve: _Parser) -> None:
    """The registry of servers behind GET /localnodes (docs/cluster.md)."""
    serve.add("--alternator-advertise-address",
              "the address other servers' /localnodes list this one at (default: "
              "--alternator-address, unless a wildcard: the address toward the backend)")
    serve.add("--alternator-datacenter",
              "this server's datacenter in /localnodes (default: the Cassandra node's at this "
              "address, else the local datacenter; datacenter1 on SQLite)")
    serve.add("--alternator-rack", "this server's rack in /localnodes (default: as the "
              "datacenter; rack1 on SQLite)")
    serve.add("--alternator-announce-period-in-seconds",
              "how often this server renews its entry in the registry of servers", "1",
              type=float)
    serve.add("--alternator-announce-lease-in-seconds",
              "how long an entry lasts unrenewed: a server that died leaves /localnodes "
              "within this time", "5", type=float)


def _registry_from_args(args: argparse.Namespace) -> dict[str, Any]:
    period = float(args.alternator_announce_period_in_seconds)
    lease = float(args.alternator_announce_lease_in_seconds)
    if period <= 0 or lease <= period:
        raise SystemExit("alternator: --alternator-announce-lease-in-seconds must be longer "
                         "than --alternator-announce-period-in-seconds, which must be positive")
    return {
        "advertise_address": args.alternator_advertise_address or None,
        "datacenter": args.alternator_datacenter or None,
        "rack": args.alternator_rack or None,
        "announce_period": period,
        "announce_lease": lease,
    }


# (option, Limits field, help); the defaults are Limits' own (docs/security.md explains each).
LIMIT_OPTIONS = (
    ("--alternator-max-connections", "max_connections",
     "open connections per server process; more are answered 503 and closed"),
    ("--alternator-header-timeout", "header_timeout",
     "seconds a request's headers may take to arrive"),
    ("--alternator-body-timeout", "body_timeout",
     "seconds a request's body may take to arrive"),
    ("--alternator-idle-timeout", "idle_timeout",
     "seconds an idle (kept-alive) connection stays open"),
    ("--alternator-max-buffered-bytes", "max_buffered_bytes",
     "request bytes in flight per process; past it requests get ThrottlingException"),
    ("--alternator-max-buffered-bytes-per-client", "max_buffered_bytes_per_client",
     "request bytes in flight from one client address"),
    ("--alternator-shutdown-timeout", "shutdown_timeout",
     "seconds SIGTERM waits for requests in flight before exiting"),
)


def _add_limit_options(serve: _Parser) -> None:
    defaults = Limits()
    for option, name, help in LIMIT_OPTIONS:
        default = getattr(defaults, name)
        serve.add(option, help, str(default), type=type(default))


def _limits_from_args(args: argparse.Namespace) -> Limits:
    values: dict[str, Any] = {}
    for option, name, _ in LIMIT_OPTIONS:
        value = getattr(args, option.lstrip("-").replace("-", "_"))
        kind = type(getattr(Limits(), name))
        try:
            values[name] = kind(value)
        except ValueError:
            raise SystemExit(f"alternator: {option} expects a number, got {value!r}") from None
        if values[name] <= 0:
            raise SystemExit(f"alternator: {option} must be positive")
    return Limits(**values)


def _add_http_options(serve: _Parser) -> None:
    """Options whose running values can change while the server runs (docs/http.md)."""
    serve.add("--alternator-response-compression-threshold-in-bytes",
              "responses of at least this many bytes are compressed (gzip or deflate) for "
              "clients whose Accept-Encoding allows it", "4096", type=int)
    serve.add("--alternator-response-gzip-compression-level",
              "zlib level of compressed responses, 1 (fastest) to 9 (smallest); 0 turns "
              "response compression off", "6", type=int)
    serve.add("--alternator-timeout-in-ms",
              "milliseconds an operation may take before it is answered InternalServerError "
              "(retried by the SDKs); 0: no limit", "0", type=int)
    serve.add("--max-concurrent-requests-per-shard",
              "DynamoDB requests one server process serves at once; more are answered "
              "ThrottlingException; 0: no limit", "0", type=int)
    serve.add("--alternator-access-log",
              "log one JSON line per request on the alternator.access logger (true/false)",
              "false")


def _http_from_args(args: argparse.Namespace) -> dict[str, Any]:
    level = int(args.alternator_response_gzip_compression_level)
    if not 0 <= level <= 9:
        raise SystemExit("alternator: --alternator-response-gzip-compression-level must be "
                         "between 0 and 9")
    values = {
        "--alternator-response-compression-threshold-in-bytes":
            int(args.alternator_response_compression_threshold_in_bytes),
        "--alternator-timeout-in-ms": int(args.alternator_timeout_in_ms),
        "--max-concurrent-requests-per-shard": int(args.max_concurrent_requests_per_shard),
    }
    for option, value in values.items():
        if value < 0:
            raise SystemExit(f"alternator: {option} must not be negative")
    return {
        "response_compression_threshold":
            values["--alternator-response-compression-threshold-in-bytes"],
        "response_compression_level": level,
        "request_timeout": values["--alternator-timeout-in-ms"] / 1000.0,
        "max_concurrent_requests": values["--max-concurrent-requests-per-shard"],
        "access_log": _flag(args.alternator_access_log),
    }


def _add_role_commands(commands: Any) -> None:
    role = commands.add_parser(
        "role", help="manage the embedded backend's roles",
        description="Roles and permissions of the embedded (SQLite) backend. On Cassandra or "
                    "ScyllaDB use CQL instead (CREATE ROLE, GRANT).")
    role.add("--sqlite-path", "SQLite database file of the embedded backend", "alternator.db")
    actions = role.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a role (prints its secret access key)")
    create.add_argument("name")
    create.add_argument("--password", help="password (default: random)")
    create.add_argument("--superuser", action="store_true")
    create.add_argument("--nologin", action="store_true", help="the role cannot sign requests")
    actions.add_parser("drop", help="drop a role").add_argument("name")
    actions.add_parser("secret", help="print a role's secret access key").add_argument("name")
    actions.add_parser("list", help="list roles and their permissions")
    for verb in ("grant", "revoke"):
        change = actions.add_parser(verb, help=f"{verb} a permission (like CQL {verb.upper()})")
        change.add_argument("permission", choices=(*PERMISSIONS, "ALL"))
        change.add_argument("name", help="the role")
        target = change.add_mutually_exclusive_group()
        target.add_argument("--table", help="a DynamoDB table (default: all keyspaces)")
        target.add_argument("--keyspace", help="a CQL keyspace, e.g. alternator_mytable")
    member = actions.add_parser("grant-role", help="make a role a member of another")
    member.add_argument("role", help="the role granted")
    member.add_argument("name", help="the role receiving it")


def run_role_command(args: argparse.Namespace) -> None:
    admin = RoleAdmin(args.sqlite_path)
    try:
        if args.action == "create":
            role = admin.create(args.name, args.password, args.superuser, not args.nologin)
            print(role.salted_hash)
        elif args.action == "drop":
            if not admin.drop(args.name):
                raise SystemExit(f"alternator: no role {args.name!r}")
        elif args.action == "secret":
            found = admin.get(args.name)
            if found is None:
                raise SystemExit(f"alternator: no role {args.name!r}")
            print(found.salted_hash)
        elif args.action in ("grant", "revoke"):
            if admin.get(args.name) is None:
                raise SystemExit(f"alternator: no role {args.name!r}")
            admin.change(args.name, args.permission, resource_of(args.table, args.keyspace),
                         args.action == "grant")
        elif args.action == "grant-role":
            admin.grant_role(args.role, args.name)
        else:
            for role in admin.list():
                flags = [f for f, on in (("superuser", role.is_superuser),
                                         ("login", role.can_login)) if on]
                print(f"{role.name} ({', '.join(flags) or 'no login'})"
                      + (f" member of {', '.join(sorted(role.member_of))}" if role.member_of
                         else ""))
                for resource, perms in sorted(admin.permissions(role.name).items()):
                    print(f"  {resource}: {', '.join(sorted(perms))}")
    finally:
        admin.close()


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
        port=int(args.alternator_port) if args.alternator_port is not None else None,
        https_port=_port_or_none(args.alternator_https_port),
        prometheus_port=_port_or_none(args.prometheus_port),
        prometheus_address=args.prometheus_address,
        certificate=args.alternator_https_certificate,
        key=args.alternator_https_key,
        client_ca=args.alternator_client_ca,
        state_dir=args.state_dir,
        backend=args.backend,
        sqlite_path=args.sqlite_path,
        cassandra=CassandraConfig(
            contact_points=tuple(h.strip() for h in args.cassandra_host.split(",") if h.strip()),
            port=int(args.cassandra_port),
            username=args.cassandra_username,
            password=args.cassandra_password,
            local_datacenter=args.cassandra_datacenter,
            **parse_replication(args.cassandra_replication),
        ),
        write_isolation=isolation,
        region=args.region,
        enforce_authorization=_flag(args.alternator_enforce_authorization),
        warn_authorization=_flag(args.alternator_warn_authorization),
        credentials_validity=float(args.alternator_credentials_validity),
        workers=max(1, int(args.workers)),
        ttl_period=float(args.alternator_ttl_period_in_seconds),
        backfill_period=float(args.alternator_backfill_period_in_seconds),
        transaction_timeout=max(0.5, args.alternator_transaction_timeout_s),
        streams=StreamsConfig(time_window=max(0.0, args.alternator_streams_time_window_s),
                              shards=max(1, min(256, args.alternator_streams_shards)),
                              shard_period=max(1.0, args.alternator_streams_shard_period_s),
                              retention=max(1.0, args.alternator_streams_retention_s)),
        # Test-only structures (alternator/derived.py): never set in production.
        test_hooks=os.environ.get("ALTERNATOR_TEST_HOOKS") == "1",
        sqlite_synchronous=args.sqlite_synchronous,
        limits=_limits_from_args(args),
        allow_system_table_write=_flag(args.alternator_allow_system_table_write),
        log_level=str(args.log_level).upper(),
        **_http_from_args(args),
        **_registry_from_args(args),
    )


def _port_or_none(value: str | int) -> int | None:
    return None if str(value).lower() in ("none", "", "off") else int(value)


def parse_replication(text: str) -> dict[str, Any]:
    """``--cassandra-replication``: ``3``, or ``dc1:3,dc2:2``, as CassandraConfig fields."""
    text = text.strip()
    try:
        if text.isdigit():
            return {"replication_factor": int(text)}
        pairs = [part.split(":") for part in text.split(",")]
        return {"replication_per_datacenter": tuple((dc.strip(), int(rf)) for dc, rf in pairs)}
    except ValueError:
        raise SystemExit(f"--cassandra-replication: expected a number or DC:N,..., not "
                         f"{text!r}") from None


def _flag(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"alternator: expected true or false, got {value!r}")


def _banner(config: Config, port: int | None, https_port: int | None,
            ca_bundle: Path | None, role: DefaultRole | None) -> None:
    endpoints = []
    if port is not None:
        endpoints.append(f"http://{config.address}:{port}")
    if https_port is not None:
        endpoints.append(f"https://{config.address}:{https_port}")
    workers = f", {config.workers} workers" if config.workers > 1 else ""
    print(f"alternator: serving DynamoDB API at {' and '.join(endpoints)} "
          f"({config.backend} backend{workers})", flush=True)
    if ca_bundle is not None:
        print(f"  export AWS_CA_BUNDLE={ca_bundle.resolve()}", flush=True)
    if role is not None and role.created:
        # Shown once, when the role is made; later starts say how to read it again.
        print(f"  export AWS_ACCESS_KEY_ID={role.role.name} "
              f"AWS_SECRET_ACCESS_KEY='{role.role.salted_hash}' AWS_DEFAULT_REGION=us-east-1",
              flush=True)
    elif role is not None:
        print(f"  export AWS_ACCESS_KEY_ID={role.role.name} AWS_SECRET_ACCESS_KEY=\"$(alternator "
              f"role --sqlite-path {shlex.quote(config.sqlite_path)} secret "
              f"{shlex.quote(role.role.name)})\" AWS_DEFAULT_REGION=us-east-1", flush=True)
    print(f"  aws dynamodb list-tables --endpoint-url {endpoints[0]}", flush=True)


@dataclass(frozen=True, slots=True)
class DefaultRole:
    role: Role
    created: bool  # by this start: its secret may be shown


def _default_role(config: Config) -> DefaultRole | None:
    if config.backend != "sqlite" or not config.enforce_authorization:
        return None
    admin = RoleAdmin(config.sqlite_path)
    try:
        role, created = admin.ensure_default()
        return DefaultRole(role, created)
    finally:
        admin.close()


def _plain_access_log() -> None:
    """Access-log lines (alternator/http/outcome.py) are JSON documents of their own: written
    to stderr as they are, without the usual prefix, whenever the access log is on."""
    access = logging.getLogger("alternator.access")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False


def serve(config: Config) -> None:
    """Serve in this process until SIGINT or SIGTERM."""
    from alternator.runner import RunningServer, run, serve_until_signal

    role = _default_role(config)

    def started(server: RunningServer) -> None:
        _banner(config, server.port, server.https_port,
                server.tls.ca_bundle if server.tls else None, role)

    run(serve_until_signal(config, started))


def serve_workers(config: Config) -> None:
    """Run ``config.workers`` server processes sharing the ports (SO_REUSEPORT), supervised."""
    from alternator.runner import prepare_tls
    from alternator.supervisor import Supervisor

    if config.port == 0 or config.https_port == 0:
        raise SystemExit("alternator: --workers needs fixed ports")
    role = _default_role(config)
    tls = prepare_tls(config)  # once, before the workers start, so they share one certificate
    Supervisor(config).run(lambda: _banner(config, config.port, config.https_port,
                                           tls.ca_bundle if tls else None, role))


# Options whose values the configuration table shows masked.
SECRET_OPTIONS = frozenset({"--cassandra-password"})


def option_rows(parser: argparse.ArgumentParser, args: argparse.Namespace,
                argv: Sequence[str]) -> tuple[tuple[str, str, str], ...]:
    """``serve``'s options as (name, value, source) for .scylla.alternator.system.config:
    named as ScyllaDB names its options (dashes as underscores), with where the value came
    from: ``cli``, ``env`` (an ALTERNATOR_... variable) or ``default``."""
    serve = next(action for action in parser._actions
                 if isinstance(action, argparse._SubParsersAction)).choices["serve"]
    rows = []
    for option in serve.__dict__.get("added", []):
        name = option.lstrip("-").replace("-", "_")
        value = getattr(args, name, None)
        if any(arg == option or arg.startswith(option + "=") for arg in argv):
            source = "cli"
        elif _env_name(option) in os.environ:
            source = "env"
        else:
            source = "default"
        text = "" if value is None else str(value)
        if option in SECRET_OPTIONS and text:
            text = "********"
        rows.append((name, text, source))
    return tuple(rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "INFO").upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _plain_access_log()
    if args.command == "role":
        run_role_command(args)
        return
    config = replace(config_from_args(args),
                     options=option_rows(parser, args, sys.argv[1:] if argv is None else argv))
    if config.workers > 1:
        serve_workers(config)
    else:
        serve(config)


if __name__ == "__main__":
    main()
