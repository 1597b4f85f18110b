"""`mamori cards …`: the office's card keys, which cards prove themselves, who and where must, provisioning."""

from __future__ import annotations

import argparse
import sys

from server.clock import system_clock

ACTOR = "mamori cards"


def cmd_keygen(args: argparse.Namespace) -> int:
    from server.card_keys.keyfile import write_new

    try:
        write_new(args.file)
    except FileExistsError:
        print(f"error: {args.file} exists: the tags hold keys made from it; keep it (and its backup)",
              file=sys.stderr)
        return 1
    print(f"new card master keys written to {args.file} (mode 600). Set MAMORI_CARD_KEYS_FILE={args.file} for the "
          "server, and keep a copy offline now (docs/card-auth.md, 'Keys'): without it no provisioned card can be "
          "checked", file=sys.stderr)
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    from server.card_keys import service

    kind = None if args.kind == "none" else args.kind
    try:
        with _session() as db:
            service.mark_card(db, system_clock(), ACTOR, args.uid, kind)
    except service.NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"card {args.uid.upper()[:4]}… is now {args.kind}")
    return 0


def cmd_require(args: argparse.Namespace) -> int:
    from server.card_keys import service

    required = not args.off
    try:
        with _session() as db:
            if args.reader:
                service.require_at_reader(db, system_clock(), ACTOR, args.reader, required)
            else:
                service.require_for_person(db, system_clock(), ACTOR, args.person, required)
    except service.NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    who = f"reader {args.reader}" if args.reader else f"person {args.person}"
    print(f"{who}: a card that can prove it is no copy {'must' if required else 'need not'} prove it"
          if args.reader else f"{who}: every tap {'must' if required else 'need not'} carry a valid proof")
    return 0


def cmd_provision(args: argparse.Namespace) -> int:
    from server.card_keys import keyfile, service
    from server.card_keys.provision import ProvisionError, provision_on
    from server.cli import _settings

    settings = _settings()
    if not settings.card_keys_file:
        print("error: MAMORI_CARD_KEYS_FILE is not set (make the keys with `mamori cards keygen FILE`)",
              file=sys.stderr)
        return 2
    try:
        keys = keyfile.load(settings.card_keys_file)
        print(f"hold a blank FeliCa Lite-S or NTAG 424 DNA to the reader at {args.reader} …", file=sys.stderr)
        done = provision_on(args.reader, keys, timeout_s=args.timeout)
    except (keyfile.KeyFileError, ProvisionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"provisioned card {done.uid} ({done.kind})")
    try:
        with _session() as db:
            service.mark_card(db, system_clock(), ACTOR, done.uid, done.kind)
    except service.NotFound:
        print("it is not registered yet: register it with its holder, then `mamori cards mark "
              f"{done.uid} --kind {done.kind}`", file=sys.stderr)
    return 0


def _session():
    from server.cli import _session

    return _session()


def add_commands(sub) -> None:
    cards = sub.add_parser("cards", help="cards that cannot be copied (docs/card-auth.md)").add_subparsers(
        dest="cards_command", required=True)
    keygen = cards.add_parser("keygen", help="make the office's card master keys into a new file (mode 600)")
    keygen.add_argument("file")
    keygen.set_defaults(func=cmd_keygen)
    mark = cards.add_parser("mark", help="say what kind of card a staff card is")
    mark.add_argument("uid")
    mark.add_argument("--kind", required=True, choices=["ntag424_sun", "felica_lite_s_mac", "none"])
    mark.set_defaults(func=cmd_mark)
    require = cards.add_parser("require", help="require proofs on a reader, or of a person's every tap")
    where = require.add_mutually_exclusive_group(required=True)
    where.add_argument("--reader", help="a reader id: cards that can prove themselves must, there")
    where.add_argument("--person", type=int, help="a person's id: all their taps must carry a valid proof")
    require.add_argument("--off", action="store_true", help="no longer require it")
    require.set_defaults(func=cmd_require)
    provision = cards.add_parser("provision", help="give a blank FeliCa Lite-S or NTAG 424 DNA its keys, on a "
                                 "reader attached to this server")
    provision.add_argument("--reader", default="usb", help="nfcpy device path: usb, tty:AMA0:pn532, udp:host:port")
    provision.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the card")
    provision.set_defaults(func=cmd_provision)
