"""`mamori gateway --config firmware_config/<reader>.yaml` (also `python -m gateway`)."""

from __future__ import annotations

import argparse
import signal
import sqlite3
import sys
import threading


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the reader's YAML file, e.g. firmware_config/cabinet.yaml")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--check", action="store_true",
                      help="validate the config file and try the hardware it names (serial port, NFC reader, "
                           "pins), then exit")
    what.add_argument("--self-test", action="store_true",
                      help="switch the lock relay, each LED and the buzzer on in turn (1 s each) while you "
                           "watch, then exit")
    # SUPPRESS: under `mamori`, an absent flag here must not undo `mamori -v gateway ...`.
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug messages")
    parser.add_argument("--log-json", action="store_true", default=argparse.SUPPRESS,
                        help="log one JSON object per line (for journald or a log collector)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description="Run one reader on a Raspberry Pi")
    add_arguments(parser)
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
    if getattr(args, "check", False):
        return check(args.config, config)
    if getattr(args, "self_test", False):
        return self_test(config, stop)
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


def check(path: str, config) -> int:
    from gateway.config import locate
    from gateway.hardware import check_hardware

    problems = check_hardware(config, locate(path))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 2
    print(f"{path}: OK ({config.role} reader {config.site}/{config.reader}; the card reader and the pins answer)")
    return 0


def self_test(config, stop: threading.Event | None = None) -> int:
    from gateway.outputs import Outputs

    try:
        outputs = Outputs(config)
    except Exception as exc:  # noqa: BLE001 — the same advice as at start-up
        print(f"error: {start_problem(exc, config)}", file=sys.stderr)
        return 1
    try:
        pulsed = outputs.self_test(say=lambda line: print(line, flush=True), stop=stop)
    finally:
        outputs.lock_now()
        outputs.close()
    print(f"done: {', '.join(pulsed) or 'no outputs configured'}; each should have clicked, lit or beeped once")
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
    from gateway.logs import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging(verbose=getattr(args, "verbose", False), json_lines=getattr(args, "log_json", False))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
