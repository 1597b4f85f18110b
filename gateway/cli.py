"""`mamori gateway --config firmware_config/<reader>.yaml` (also `python -m gateway`)."""

from __future__ import annotations

import argparse
import logging
import signal
import sqlite3
import sys
import threading


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the reader's YAML file, e.g. firmware_config/cabinet.yaml")
    parser.add_argument("--check", action="store_true", help="only validate the config file and exit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description="Run one reader on a Raspberry Pi")
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Run the gateway until SIGTERM/SIGINT, or until `stop` is set when one is given (signal handlers
    can only be installed from the main thread, so with `stop` none are)."""
    # Imported here, not at the top: `mamori --help` on a server (no [gateway] extra) must not need PyYAML.
    from gateway.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(f"{args.config}: OK ({config.role} reader {config.site}/{config.reader})")
        return 0
    from gateway.app import Gateway

    if stop is None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    try:
        gateway = Gateway(config).start()
    except Exception as exc:  # noqa: BLE001 — every start-up fault gets a line a person can act on
        print(f"error: {start_problem(exc, config)}", file=sys.stderr)
        return 1
    try:
        stop.wait()
    finally:
        gateway.stop()
    return 0


def start_problem(exc: Exception, config) -> str:
    """What to change when the gateway cannot start, naming the config key involved."""
    from gpiozero.exc import GPIOZeroError

    from gateway.outbox import OutboxError

    if isinstance(exc, (OutboxError, sqlite3.Error)):
        return f"outbox.path {config.outbox.path}: {exc}"
    if isinstance(exc, GPIOZeroError):
        return (f"the pins: {exc} (check pin_factory and the pin numbers under lock, indicators and inputs; "
                "is another program using them?)")
    if isinstance(exc, ImportError):
        return f"pin_factory {config.pin_factory}: its library is not installed ({exc})"
    if isinstance(exc, (OSError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
