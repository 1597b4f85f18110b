"""`mamori` command line: serve, db upgrade, users add, tokens create/list/revoke, readers, visits anonymise,
dead-letters prune, ledger verify/grants, demo, gateway; ca and readers provision/revoke (server/provision),
backup and restore (server/backup)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from server.clock import system_clock


def _settings():
    from server.config import Settings

    return Settings()


def describe_database(url: str, *, from_settings: bool = True) -> str:
    """The database as a person checks it: the URL without its password, and a SQLite file's full path
    (a relative `sqlite:///mamori.db` is a different file in each folder the command runs in)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    text = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database).resolve()
        text += f" ({path}{'' if path.exists() else ', a new file'})"
    if from_settings and "MAMORI_DATABASE_URL" not in os.environ:
        text += "; MAMORI_DATABASE_URL is not set, so this is the default"
    return text


def _say_database(settings) -> None:
    """Every command that writes says where, on stderr (stdout stays the answer, e.g. a token)."""
    print(f"database: {describe_database(settings.database_url)}", file=sys.stderr)


def cmd_serve(args: argparse.Namespace) -> int:
    from server.cluster import AlreadyServing, sole_server
    from server.main import create_app, serve_web
    from server.migrate import upgrade

    settings = _settings()
    _say_database(settings)
    try:
        held = sole_server(settings.database_url)  # noqa: F841 - the lock lasts while the process runs
    except AlreadyServing as exc:
        print(f"mamori: {exc}", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    from gateway.logs import wants_json

    serve_web(create_app(settings), settings, host=args.host, port=args.port, log_level="info",
              json_logs=wants_json(args.log_json))
    return 0


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from server.migrate import upgrade

    settings = _settings()
    _say_database(settings)
    upgrade(settings.database_url)
    print("database is at the newest schema")
    return 0


def _session():
    from server.db import make_engine, make_session_factory, unit_of_work
    from server.migrate import upgrade

    settings = _settings()
    _say_database(settings)
    upgrade(settings.database_url)
    return unit_of_work(make_session_factory(make_engine(settings.database_url)))


def cmd_users_add(args: argparse.Namespace) -> int:
    from server.accounts.service import AccountError, add_user
    from server.notify.recipients import email_problem

    if args.email and email_problem(args.email):
        print(f"error: {args.email!r} is not an e-mail address (e.g. yamada@example.jp)", file=sys.stderr)
        return 2
    if not args.password_stdin:
        print("give the password on standard input with --password-stdin (never on the command line)",
              file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with _session() as db:
            user = add_user(db, args.name, args.role, password, system_clock())
            user.email = args.email or None
    except AccountError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"user {args.name} added with role {args.role}")
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    from server.accounts.service import AccountError, create_token
    from server.audit.service import record

    days = args.days if args.days is not None else _settings().token_days
    now = system_clock()
    try:
        with _session() as db:
            token = create_token(db, args.user, now, days=days)
            record(db, now, "token_created", "mamori tokens create",
                   {"account": args.user, "token": f"{token[:12]}…", "valid_days": days})
    except AccountError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(token)
    print(f"this token is shown once and works for {days} days; keep it somewhere safe", file=sys.stderr)
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    from server.accounts.service import tokens_with_users

    zone, now = _settings().zone, system_clock()

    def when(value) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else "-"

    with _session() as db:
        rows = [(t, name) for t, name in tokens_with_users(db) if args.user in (None, name)]
        print("id\tuser\tprefix\tcreated\texpires\tlast used\tstate")
        for token, name in rows:
            state = ("revoked" if token.revoked_at else "expired" if token.expires_at <= now else "live")
            print(f"{token.id}\t{name}\t{token.prefix}…\t{when(token.created_at)}\t{when(token.expires_at)}\t"
                  f"{when(token.last_used_at)}\t{state}")
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    from server.accounts.service import revoke_token
    from server.audit.service import record

    now = system_clock()
    with _session() as db:
        token = revoke_token(db, args.id, now)
        if token is None:
            print(f"error: no live token {args.id}; `mamori tokens list` shows their numbers", file=sys.stderr)
            return 1
        record(db, now, "token_revoked", "mamori tokens revoke", {"token": f"{token.prefix}…"})
    print(f"token {args.id} revoked")
    return 0


def cmd_visits_anonymise(args: argparse.Namespace) -> int:
    from server.visits.retention import anonymise_visits

    if args.days is not None and args.days < 1:
        print("error: --days must be 1 or more", file=sys.stderr)
        return 2
    settings = _settings()
    days = args.days or settings.visit_retention_days
    with _session() as db:
        done = anonymise_visits(db, system_clock(), days=days, actor="mamori visits anonymise", dry_run=args.dry_run)
    cutoff = done.cutoff.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    if args.dry_run:
        print(f"would anonymise {done.visits} visits that ended before {cutoff} (retention {days} days); nothing changed")
    else:
        print(f"anonymised {done.visits} visits that ended before {cutoff} (retention {days} days); "
              f"{done.alerts} alert subjects and {done.notices} notices blanked; recorded in the audit log")
        from server.migrate import analyze  # daily, by the same timer: the planner's statistics

        print(f"statistics gathered (ANALYZE) in {analyze(settings.database_url):.1f} s")
    return 0


def cmd_readers_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from server.readers import service
    from server.readers.models import Reader
    from server.readers.routes import ReaderIn

    try:
        body = ReaderIn(id=args.id, site=args.site, role=args.role, name=args.name or args.id)
        settings = _settings()
        service.check_reader_id(body.id, settings)
        with _session() as db:
            if db.get(Reader, body.id) is not None:
                print(f"error: reader {body.id} is already registered", file=sys.stderr)
                return 1
            service.register_reader(db, system_clock(), settings, **body.model_dump())
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: {problems}", file=sys.stderr)
        return 2
    except service.ReservedReaderId as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"reader {body.id} registered: site {body.site}, role {body.role}")
    return 0


def cmd_readers_key(args: argparse.Namespace) -> int:
    from server.readers.allowlist_key import NotACabinet, new_allowlist_key

    try:
        with _session() as db:
            key = new_allowlist_key(db, args.reader)
    except NotACabinet as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(key)
    print(f"the allowlist key of {args.reader} is shown once: put it in that reader's config (allowlist_key: or "
          "allowlist_key_file:); any earlier key stops opening the cabinet offline at the server's next allowlist",
          file=sys.stderr)
    return 0


def cmd_dead_letters_prune(args: argparse.Namespace) -> int:
    from server.ledger.retention import prune_dead_letters

    if args.days is not None and args.days < 1:
        print("error: --days must be 1 or more", file=sys.stderr)
        return 2
    days = args.days or _settings().dead_letter_retention_days
    with _session() as db:
        pruned = prune_dead_letters(db, system_clock(), days=days)
    print(f"deleted {pruned} dead letters last refused more than {days} days ago")
    return 0


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from datetime import date, datetime, time

    from server.db import make_engine, make_session_factory
    from server.evidence.runs import run
    from server.evidence.verify import Anchor
    from server.migrate import upgrade

    settings = _settings()
    try:
        since = (datetime.combine(date.fromisoformat(args.since), time(), settings.zone)
                 if args.since else None)
        anchor = Anchor.parse(args.anchor) if args.anchor else None
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    _say_database(settings)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        report, _kept = run(make_session_factory(engine), settings.zone, system_clock,
                            by=f"mamori ledger verify ({os.environ.get('USER', 'command line')})",
                            since=since, anchor=anchor)
    finally:
        engine.dispose()
    head = f"head {report.head.seq} {report.head.hash}" if report.head else "the chain is empty"
    if report.ok:
        print(f"chain verified: {report.links} links, {head}" + (f"; anchor {anchor} holds" if anchor else ""))
        return 0
    print(f"CHAIN BROKEN: {report.count} problem(s) in {report.links} links; first: {report.problems[0]}",
          file=sys.stderr)
    for problem in report.problems[1:]:
        print(f"  also: {problem}", file=sys.stderr)
    return 1


def cmd_ledger_grants(args: argparse.Namespace) -> int:
    from server.evidence.grants import grant_sql

    try:
        statements = grant_sql(args.role)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("-- Run as the owner of mamori's tables after each `mamori db upgrade` (docs/evidence.md).")
    print("BEGIN;")
    for statement in statements:
        print(f"{statement};")
    print("COMMIT;")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.demo import run_demo

    return run_demo(host=args.host, port=args.port, data_dir=args.data_dir)


def cmd_gateway(args: argparse.Namespace) -> int:
    try:
        from gateway.cli import run

        return run(args)
    except ModuleNotFoundError as exc:
        print(f"error: the reader software is not installed here ({exc}); on the reader: "
              "pip install 'mamori[gateway]'", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mamori", description="mamori: visitor log and cabinet ledger from taps")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--log-json", action="store_true",
                        help="log one JSON object per line (also MAMORI_LOG_FORMAT=json)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server, the API and the MQTT ingest")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="migrate the database to the newest schema").set_defaults(func=cmd_db_upgrade)

    users = sub.add_parser("users", help="web and API accounts").add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="add a person's account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["admin", "manager", "receptionist", "surveyor", "auditor"])
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--email", help="where the person's notices go (they choose which on /account/notices)")
    add.set_defaults(func=cmd_users_add)

    tokens = sub.add_parser("tokens", help="API tokens").add_subparsers(dest="tokens_command", required=True)
    create = tokens.add_parser("create", help="create a bearer token (printed once)")
    create.add_argument("--user", required=True)
    create.add_argument("--days", type=int, help="how long it works (default MAMORI_TOKEN_DAYS, 90)")
    create.set_defaults(func=cmd_tokens_create)
    listing = tokens.add_parser("list", help="every token: created, expires, last used, revoked")
    listing.add_argument("--user", help="only this account's tokens")
    listing.set_defaults(func=cmd_tokens_list)
    revoke = tokens.add_parser("revoke", help="end a token for good")
    revoke.add_argument("id", type=int, help="the token's number from `mamori tokens list`")
    revoke.set_defaults(func=cmd_tokens_revoke)

    visits = sub.add_parser("visits", help="the visitor log").add_subparsers(dest="visits_command", required=True)
    anonymise = visits.add_parser("anonymise", help="blank visitor names, organisations and purposes of visits "
                                  "older than the retention period (MAMORI_VISIT_RETENTION_DAYS)")
    anonymise.add_argument("--days", type=int, help="override the retention period for this run (days, ≥ 1)")
    anonymise.add_argument("--dry-run", action="store_true", help="only say how many visits it would anonymise")
    anonymise.set_defaults(func=cmd_visits_anonymise)

    readers = sub.add_parser("readers", help="entrance and cabinet readers").add_subparsers(
        dest="readers_command", required=True)
    reader_add = readers.add_parser("add", help="register a reader (its id is also its broker user name)")
    reader_add.add_argument("id", help="as in the MQTT topic, e.g. cabinet-1")
    reader_add.add_argument("--site", required=True)
    reader_add.add_argument("--role", required=True, choices=["entrance", "cabinet"])
    reader_add.add_argument("--name", help="what the office calls it (default: the id)")
    reader_add.set_defaults(func=cmd_readers_add)
    reader_key = readers.add_parser("key", help="make a new key for a cabinet's offline allowlist (printed once)")
    reader_key.add_argument("reader", help="the cabinet reader's id, e.g. cabinet-1")
    reader_key.set_defaults(func=cmd_readers_key)
    from server.provision.commands import add_commands

    add_commands(sub, readers)
    from server.backup.commands import add_commands as add_backup_commands

    add_backup_commands(sub)

    from server.card_keys.cli import add_commands as add_card_commands

    add_card_commands(sub)

    letters = sub.add_parser("dead-letters", help="payloads the ingest refused").add_subparsers(
        dest="dead_letters_command", required=True)
    prune = letters.add_parser("prune", help="delete dead letters older than the retention period "
                               "(MAMORI_DEAD_LETTER_RETENTION_DAYS)")
    prune.add_argument("--days", type=int, help="override the retention period for this run (days, ≥ 1)")
    prune.set_defaults(func=cmd_dead_letters_prune)

    ledger = sub.add_parser("ledger", help="the evidence chain").add_subparsers(dest="ledger_command", required=True)
    check = ledger.add_parser("verify", help="walk the evidence chain; name the first broken, missing or foreign "
                              "record and exit non-zero (docs/evidence.md)")
    check.add_argument("--from", dest="since", metavar="DATE", help="only links from this office date (YYYY-MM-DD)")
    check.add_argument("--anchor", metavar="HASH@DATE", help="a day's head hash as e-mailed and printed: the "
                       "database must still hold the chain that was anchored")
    check.set_defaults(func=cmd_ledger_verify)
    grants = ledger.add_parser("grants", help="print the PostgreSQL grants that let the server's role append "
                               "evidence but never change or delete it")
    grants.add_argument("role", help="the login role the server connects as, e.g. mamori_app")
    grants.set_defaults(func=cmd_ledger_grants)

    demo = sub.add_parser("demo", help="SQLite, an in-process broker, the server and two simulated readers")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--data-dir", default="demo-data")
    demo.set_defaults(func=cmd_demo)

    from gateway.cli import add_arguments

    gateway = sub.add_parser("gateway", help="run one reader on a Raspberry Pi (needs the [gateway] extra)")
    add_arguments(gateway)
    gateway.set_defaults(func=cmd_gateway)

    return parser


def main(argv: list[str] | None = None) -> int:
    from gateway.logs import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging(verbose=args.verbose, json_lines=args.log_json)
    for noisy in ("alembic", "transitions", "amqtt"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
