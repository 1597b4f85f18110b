"""`mamori ca init`, `mamori ca server`, `mamori readers provision` and `mamori readers revoke`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.clock import system_clock

RESTART = "sudo systemctl restart mosquitto"
RELOAD = "sudo systemctl reload mosquitto"


def cmd_ca_init(args: argparse.Namespace) -> int:
    from server.cli import _settings
    from server.provision.pki import PkiError
    from server.provision.service import TLS_PORT, init_office

    settings = _settings()
    try:
        files = init_office(settings, system_clock(), name=args.name or settings.office_name, hosts=args.host,
                            server_dir=Path(args.server_dir))
    except PkiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"office CA made in {settings.pki_dir} (ca.key: back it up offline, see docs/install-server.md)")
    print(f"broker files in {settings.broker_dir}: broker.crt for {', '.join(args.host)}, crl.pem, passwd, acl")
    print(f"the server's own broker credentials in {files.client_cert.parent}; put these lines in "
          "/etc/mamori/server.env:")
    print(f"MAMORI_MQTT_URL=mqtts://localhost:{TLS_PORT}")
    _print_credentials(files)
    print(f"then: {RESTART}", file=sys.stderr)
    return 0


def cmd_ca_server(args: argparse.Namespace) -> int:
    from server.cli import _settings
    from server.provision.pki import PkiError
    from server.provision.service import provision_server_node

    settings = _settings()
    try:
        files = provision_server_node(settings, system_clock(), args.node, server_dir=Path(args.server_dir))
    except PkiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"server node {args.node}'s broker credentials in {files.client_cert.parent}; on that process, beside "
          "the settings every process shares (docs/scale-out.md):")
    print(f"MAMORI_NODE_ID={args.node}")
    _print_credentials(files)
    print(f"then: {RELOAD}", file=sys.stderr)
    return 0


def _print_credentials(files) -> None:
    print(f"MAMORI_MQTT_CA_FILE={files.ca_file}")
    print(f"MAMORI_MQTT_CLIENT_CERT={files.client_cert}")
    print(f"MAMORI_MQTT_CLIENT_KEY={files.client_key}")


def cmd_readers_provision(args: argparse.Namespace) -> int:
    from server.cli import _session, _settings
    from server.provision.pki import PkiError
    from server.provision.service import provision_reader

    settings = _settings()
    out = Path(args.out or f"reader-{args.reader}")
    try:
        with _session() as db:
            files, written = provision_reader(db, settings, system_clock(), args.reader, out=out,
                                              on_pi=Path(args.on_pi), broker_url=args.broker_url,
                                              actor="mamori readers provision")
    except (PkiError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"reader {args.reader} provisioned: broker account and ACL in {settings.broker_dir}, its files in {out}/:")
    for path in written:
        print(f"  {path.name}")
    print(f"copy them to the reader's {args.on_pi}/ (the .key, .password{' and .allowlist-key' if files.allowlist_key else ''} "
          f"readable by the gateway only), then on this host: {RELOAD}", file=sys.stderr)
    return 0


def cmd_readers_revoke(args: argparse.Namespace) -> int:
    from server.cli import _session, _settings
    from server.provision.pki import PkiError
    from server.provision.service import revoke_reader

    settings = _settings()
    try:
        with _session() as db:
            serials = revoke_reader(db, settings, system_clock(), args.reader, actor="mamori readers revoke")
    except PkiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"reader {args.reader} revoked: certificate {', '.join(serials) or '(none)'} on the CRL, its password "
          "and ACL lines removed")
    print(f"now: {RELOAD}  (Mosquitto re-reads the CRL, password file and ACL: the reader cannot connect again "
          f"and, still connected, may publish nothing; `{RESTART}` also drops its connection at once)",
          file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction, readers: argparse._SubParsersAction) -> None:
    ca = sub.add_parser("ca", help="the office CA for the broker's TLS").add_subparsers(dest="ca_command",
                                                                                       required=True)
    init = ca.add_parser("init", help="make the office CA, the broker's certificate and the server's credentials")
    init.add_argument("--host", action="append", required=True,
                      help="a name or address readers reach the broker at (repeat; the first goes in their config)")
    init.add_argument("--name", help="the CA's name (default: MAMORI_OFFICE_NAME)")
    init.add_argument("--server-dir", default="/etc/mamori/mqtt", help="where the server's own broker credentials go")
    init.set_defaults(func=cmd_ca_init)
    server = ca.add_parser("server", help="credentials of one more `mamori serve` process (several servers)")
    server.add_argument("node", help="that process's MAMORI_NODE_ID, e.g. b")
    server.add_argument("--server-dir", default="/etc/mamori/mqtt", help="where its broker credentials go")
    server.set_defaults(func=cmd_ca_server)

    provision = readers.add_parser("provision", help="a registered reader's certificate, password, YAML config and "
                                   "broker entries, in one go")
    provision.add_argument("reader", help="the reader's id, e.g. cabinet-2")
    provision.add_argument("--out", help="folder for the reader's files (default: ./reader-<id>)")
    provision.add_argument("--on-pi", default="/etc/mamori", help="where the files will be on the reader")
    provision.add_argument("--broker-url", help="default: mqtts://<first --host of ca init>:8883")
    provision.set_defaults(func=cmd_readers_provision)

    revoke = readers.add_parser("revoke", help="revoke a reader's broker credentials (CRL, password, ACL)")
    revoke.add_argument("reader")
    revoke.set_defaults(func=cmd_readers_revoke)
