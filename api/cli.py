"""Command line for administrators: `python -m api <command>` (or `carbonx <command>`)."""

from __future__ import annotations

import argparse
import getpass
import json
import logging.config
import sys
from datetime import date
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from api.settings import Settings, get_settings
from registry.context import Registry
from registry.database import make_engine, normalise_url
from registry.database_roles import UnsafeDatabase
from registry.migrate import migrate


def _registry() -> Registry:
    from api.app import build_registry

    return build_registry(get_settings())


def cmd_migrate(_: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    granted = migrate(settings.migration_database_url or settings.database_url, settings.database_url)
    registry = _registry()
    from registry.services.rule_sets import ensure_builtin_rule_set

    with registry.uow() as uow:
        ensure_builtin_rule_set(uow)
        uow.commit()
    print(f"migrated {settings.database_url.split('@')[-1]} to head"
          + (f"; the service role {granted} may read and write rows, nothing more" if granted else ""))
    return 0


def cmd_demo_data(_: argparse.Namespace) -> int:
    from registry.demo import load_demo
    from registry.demo_points import load_points_demo

    registry = _registry()
    print(load_demo(registry))
    print(load_points_demo(registry))  # residents' points: scenarios, residents, a month of trips
    return 0


def cmd_points_partitions(args: argparse.Namespace) -> int:
    """Make the monthly partitions of the residents' behaviour records ahead (PostgreSQL, as the tables' owner)."""
    from registry.points_partitions import ensure_month_partitions

    settings = get_settings()
    engine = make_engine(settings.migration_database_url or settings.database_url)
    if engine.dialect.name != "postgresql":
        print("SQLite keeps behaviour_records in one table: nothing to do")
        return 0
    with engine.begin() as conn:
        made = ensure_month_partitions(conn, date.today(), args.months)
    engine.dispose()
    print(f"{len(made)} partitions made: {', '.join(made) or '-'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    if args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    if args.workers > 1 and not several_processes_share_state(settings):
        print("serve --workers N (N > 1) needs PostgreSQL (CARBONX_DATABASE_URL) and Redis (CARBONX_REDIS_URL): "
              "with SQLite and the in-process stand-ins every worker would keep its own order books, "
              "revocations and rate limits, so a token logged out on one worker would still be accepted by "
              "another. Run one worker, or set both.", file=sys.stderr)
        return 2
    from api.tokens import with_signing_key

    try:
        # Before any worker starts: on SQLite the first start makes the token key here, once; with PostgreSQL a
        # missing key is said now rather than by every worker as it dies.
        with_signing_key(settings, _backend(settings))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"API on http://{args.host}:{args.port}  ·  OpenAPI docs: http://{args.host}:{args.port}/docs")
    print(f"database: {settings.database_url.split('@')[-1]}  ·  redis: {settings.redis_url or 'in-process'}")
    from registry.demo import DEMO_USERS

    print("demo logins (POST /auth/login):")
    for username, _name, roles, password in DEMO_USERS:
        print(f"  {username:<12} {password:<18} {', '.join(roles)}")
    from api.logging_setup import logging_config

    # uvicorn applies the logging config in every worker; its access log is off because the API logs each
    # request itself (api.metrics.ObserveRequests) with the request id, status, duration and caller.
    # Forwarded headers are believed only from the configured proxies (none by default): uvicorn's own default
    # believes any request from 127.0.0.1, so a client there could pick a new address, and a fresh login
    # limit, with every request.
    proxies = settings.trusted_proxy_list()
    uvicorn.run("api.main:app", host=args.host, port=args.port, workers=args.workers, access_log=False,
                log_config=logging_config(settings.log_format, settings.log_level),
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies)
    return 0


def _backend(settings: Settings) -> str:
    return make_url(normalise_url(settings.database_url)).get_backend_name()


def several_processes_share_state(settings: Settings) -> bool:
    """Whether processes of these settings share one book of record and one cache (PostgreSQL and Redis), as
    several workers must: SQLite's stand-ins for Redis live inside each process."""
    return _backend(settings) == "postgresql" and bool(settings.redis_url)


def cmd_books(args: argparse.Namespace) -> int:
    """Own order books and run their writers, serving no HTTP, until SIGTERM or Ctrl-C. Run the API workers
    with CARBONX_OWNS_BOOKS=false beside it: they route every command here, and this process's writers no
    longer share a core with request handling. Several may run: each book has one owner at a time and
    another takes it over when its owner dies."""
    import signal
    import threading

    from api.app import make_exchange
    from api.gc_tuning import settle_start_up
    from api.kv import RedisStore, make_store
    from api.logging_setup import logging_config

    settings = get_settings()
    if args.instruments is not None:
        try:
            settings = Settings.model_validate({**settings.model_dump(), "books": args.instruments})
        except ValidationError:
            print(f"--instruments takes instrument codes separated by commas, not {args.instruments!r}",
                  file=sys.stderr)
            return 2
    logging.config.dictConfig(logging_config(settings.log_format, settings.log_level))
    registry = _registry()
    kv = make_store(settings.redis_url)
    if registry.engine.dialect.name != "postgresql" or not isinstance(kv, RedisStore):
        print("books needs PostgreSQL (CARBONX_DATABASE_URL) and Redis (CARBONX_REDIS_URL)", file=sys.stderr)
        return 2
    exchange = make_exchange(settings.model_copy(update={"owns_books": True}), registry, kv)
    settle_start_up()
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    print(f"owning order books {settings.books or '(any)'}  ·  database: {settings.database_url.split('@')[-1]}  ·  "
          f"redis: {settings.redis_url}")
    while not stopping.wait(1.0):
        pass
    exchange.stop()
    registry.engine.dispose()
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from registry.services import participants

    password = args.password or getpass.getpass("password for the new admin: ")
    registry = _registry()
    with registry.uow() as uow:
        org = participants.create_participant(uow, name=args.organisation, kind="agency", credit_code=None)
        participants.create_user(uow, participant_id=org.id, username=args.username, password=password,
                                 display_name=args.username, roles=["admin"])
        uow.commit()
    print(f"admin {args.username} created")
    return 0


def cmd_unlock_user(args: argparse.Namespace) -> int:
    """Lift a user's lockout after failed logins: the way back in when the only administrator is locked out."""
    from registry.errors import DomainError
    from registry.services import participants, sign_in

    with _registry().uow() as uow:
        user = participants.find_user_by_username(uow, args.username)
        if user is None:
            print(f"no user {args.username!r}", file=sys.stderr)
            return 1
        try:
            done = sign_in.unlock(uow, user.id)
        except DomainError as exc:
            print(exc.message_en, file=sys.stderr)
            return 1
        uow.commit()
    print(f"{done.username} unlocked ({done.failures_cleared} failed logins cleared)")
    return 0


def cmd_verify_audit(_: argparse.Namespace) -> int:
    from registry.services.audit_log import verify

    with _registry().uow() as uow:
        report = verify(uow)
    print(json.dumps(report.as_dict(), ensure_ascii=False))
    return 0 if report.ok else 1


def cmd_check_ledger(_: argparse.Namespace) -> int:
    from registry.services.ledger_check import check

    with _registry().uow() as uow:
        report = check(uow)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return 0 if report.ok else 1


def cmd_import_registrations(args: argparse.Namespace) -> int:
    from registry.services.external_registrations import import_csv
    from registry.services.rule_sets import rule_set_in_force

    text = Path(args.csv).read_text(encoding="utf-8-sig")
    with _registry().uow() as uow:
        result = import_csv(uow, text, rule_set_in_force(uow, uow.today()).other_mechanisms)
        uow.commit()
    print(f"inserted {result.inserted}, updated {result.updated}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from api.exports import EXPORTS, Viewer, csv_chunks
    from registry.errors import DomainError

    export = EXPORTS[args.list]
    filters: dict[str, object] = {}
    if args.list == "trades":
        if not args.instrument:
            print("export trades needs --instrument CODE", file=sys.stderr)
            return 2
        filters["instrument"] = args.instrument
    if args.list == "market-summary":
        filters["day"] = args.day
    try:
        pages = export.pages(Viewer(_registry(), get_settings().public_base_url), **filters)
        chunks = csv_chunks(export.columns, pages)
    except DomainError as exc:
        print(exc.message_en, file=sys.stderr)
        return 1
    if args.output:
        with Path(args.output).open("wb") as out:
            out.writelines(chunks)
    else:
        sys.stdout.buffer.writelines(chunks)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="carbonx", description="Jiaxing carbon-inclusive registry")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema to the newest migration").set_defaults(
        func=cmd_migrate)
    sub.add_parser("demo-data", help="load demo participants, methodologies and projects (idempotent)") \
        .set_defaults(func=cmd_demo_data)
    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)
    books = sub.add_parser("books", help="own the order books and run their writers, without HTTP (PostgreSQL + "
                           "Redis)")
    books.add_argument("--instruments", metavar="CODE,…", help="own only these books (default: CARBONX_BOOKS, "
                       "else any)")
    books.set_defaults(func=cmd_books)
    admin = sub.add_parser("create-admin", help="create the first administrator")
    admin.add_argument("username")
    admin.add_argument("--organisation", default="Registry administration")
    admin.add_argument("--password")
    admin.set_defaults(func=cmd_create_admin)
    unlock = sub.add_parser("unlock-user", help="lift a user's lockout after repeated failed logins (audited)")
    unlock.add_argument("username")
    unlock.set_defaults(func=cmd_unlock_user)
    partitions = sub.add_parser("points-partitions", help="make the monthly partitions of behaviour records "
                                "ahead (PostgreSQL, as the owner: CARBONX_MIGRATION_DATABASE_URL)")
    partitions.add_argument("--months", type=int, default=3)
    partitions.set_defaults(func=cmd_points_partitions)
    sub.add_parser("verify-audit", help="verify the audit hash chain").set_defaults(func=cmd_verify_audit)
    sub.add_parser("check-ledger", help="check that every entry balances and every batch is conserved") \
        .set_defaults(func=cmd_check_ledger)
    imp = sub.add_parser("import-registrations", help="import other-mechanism registrations from CSV")
    imp.add_argument("csv")
    imp.set_defaults(func=cmd_import_registrations)
    from api.exports import PUBLIC_EXPORTS

    export = sub.add_parser("export", help="write a public list as CSV (UTF-8 with BOM), as GET /exports/NAME.csv")
    export.add_argument("list", choices=PUBLIC_EXPORTS)
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("--instrument", help="the instrument code (trades)")
    export.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (market-summary; default today)")
    export.set_defaults(func=cmd_export)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UnsafeDatabase as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
