"""`mamori backup` and `mamori restore`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.clock import system_clock


def cmd_backup(args: argparse.Namespace) -> int:
    from server.backup.dump import BackupError, take_backup
    from server.backup.retention import to_keep
    from server.cli import _say_database, _settings

    settings = _settings()
    _say_database(settings)
    folder = Path(args.to) if args.to else settings.backup_dir
    try:
        made = take_backup(settings.database_url, folder, system_clock())
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"backup written: {made} (and {made.name}.sha256)")
    backups = [p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith(".sha256")]
    keep = to_keep(backups, daily=settings.backup_keep_daily, monthly=settings.backup_keep_monthly,
                   zone=settings.zone)
    for name in sorted(set(backups) - keep):
        (folder / name).unlink()
        (folder / f"{name}.sha256").unlink(missing_ok=True)
        print(f"deleted {name} (kept: the newest of {settings.backup_keep_daily} days and "
              f"{settings.backup_keep_monthly} months)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from server.backup.dump import BackupError, restore
    from server.cli import describe_database

    print(f"database: {describe_database(args.database, from_settings=False)}", file=sys.stderr)
    try:
        state = restore(Path(args.file), args.database)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"restored {Path(args.file).name}: the database is {state}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    backup = sub.add_parser("backup", help="back up the database (MAMORI_DATABASE_URL) while the server runs, "
                            "then delete backups past the retention (MAMORI_BACKUP_KEEP_DAILY/_MONTHLY)")
    backup.add_argument("--to", help="folder for the backup (default: MAMORI_BACKUP_DIR, /var/backups/mamori)")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("file", help="a mamori-….sqlite3 or mamori-….pgdump file (its .sha256 beside it)")
    restore.add_argument("--database", required=True, help="the empty database's URL, e.g. sqlite:////srv/new.db "
                         "or postgresql+psycopg://mamori@localhost/mamori_restored")
    restore.set_defaults(func=cmd_restore)
