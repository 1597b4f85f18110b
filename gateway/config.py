"""firmware_config/<reader>.yaml → pydantic models, one per section (extra="forbid").

A bad file is refused with the file, the line and the field named, so the person at the Pi
with a text editor knows what to change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.protocol import NAME_PATTERN, OFFLINE_DECISION_WAIT_S

Technology = Literal["felica", "iso14443a", "iso14443b"]

# The 40-pin header: physical pin → the BCM GPIO on it (the other pins are power and ground).
BOARD_TO_BCM = {3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10, 21: 9,
                22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19, 36: 16, 37: 26,
                38: 20, 40: 21}
BCM_PINS = range(28)
# nfcpy's "devices known not to work": the RC-S300 (FeliCa Port/PaSoRi 4.0) is a different chipset from
# the RC-S380 and nfcpy has no driver for it (nfcpy issues #214, #240).
UNSUPPORTED_NFC = {"054c:0dc8": "Sony RC-S300/S", "054c:0dc9": "Sony RC-S300/P"}
RDM6300_BAUD = 9600  # the module's datasheet: 9600 bps, N, 8, 1; it speaks nothing else


def bcm_number(pin: int | str) -> int | None:
    """The BCM GPIO number a configured pin names (17, 'GPIO17', 'BCM17', 'BOARD11', 'J8:11'), or None."""
    if isinstance(pin, int):
        return pin if pin in BCM_PINS else None
    text = pin.strip().upper()
    if m := re.fullmatch(r"(?:GPIO|BCM)(\d{1,2})", text):
        return int(m[1]) if int(m[1]) in BCM_PINS else None
    if m := re.fullmatch(r"(?:BOARD|J8:)(\d{1,2})", text):
        return BOARD_TO_BCM.get(int(m[1]))
    return None


def _raspberry_pi_pin(pin: int | str) -> int | str:
    if bcm_number(pin) is None:
        raise ValueError(f"{pin!r} is not a GPIO pin of a Raspberry Pi: give a BCM number 0-27 (e.g. 17), "
                         "'GPIO17' or a header pin 'BOARD11' that carries a GPIO")
    return pin


GpioPin = Annotated[int | str, AfterValidator(_raspberry_pi_pin),
                    Field(description="BCM pin number 0-27 (17) or a gpiozero pin name ('GPIO17', 'BOARD11')")]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrokerConfig(_Section):
    url: str = Field("mqtt://127.0.0.1:1883", description="mqtt://host:port, or mqtts://host:port for TLS")
    username: str | None = Field(None, description="Broker user name; the ACL expects the reader id")
    password_file: Path | None = Field(
        None, description="File holding the broker password (one line); keep it readable by the gateway only")
    ca_file: Path | None = Field(None, description="CA certificate that signed the broker's (mqtts:// only)")
    client_cert: Path | None = Field(None, description="Client certificate for mutual TLS (mqtts:// only)")
    client_key: Path | None = Field(None, description="Private key of client_cert")
    keepalive_s: int = Field(15, ge=5, le=300, description="MQTT keepalive; the broker publishes the Last Will "
                             "after 1.5 × this without a word from the reader")

    @field_validator("url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        if not re.fullmatch(r"mqtts?://[^/:\s]+(:\d{1,5})?/?", value):
            raise ValueError("must look like mqtt://host:1883 or mqtts://host:8883")
        return value

    @model_validator(mode="after")
    def _tls_files_need_tls(self) -> BrokerConfig:
        if not self.url.startswith("mqtts://") and (self.ca_file or self.client_cert or self.client_key):
            raise ValueError("ca_file, client_cert and client_key need an mqtts:// url")
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together")
        return self


class NfcReaderConfig(_Section):
    type: Literal["nfc"] = Field(description="An NFC reader driven by nfcpy (RC-S380, PN532, PN533, ACR122U)")
    device: str = Field(
        "usb", description="nfcpy device path: 'usb', 'usb:054c:06c1' (RC-S380), 'tty:AMA0:pn532', 'udp:host:port'")
    technologies: list[Technology] = Field(
        ["felica", "iso14443a"], min_length=1,
        description="What to poll for: felica (FeliCa staff badges), iso14443a (NTAG/MIFARE stickers), iso14443b")
    interval_s: float = Field(
        0.02, ge=0.0, le=2.0,
        description="Pause between polling rounds; nfcpy's default 0.5 s makes a tap wait ~250 ms on average")
    removal_check_s: float = Field(
        0.1, gt=0.0, le=2.0, description="How often a card left on the reader is checked for removal")
    gone_after_s: float = Field(
        0.3, ge=0.0, le=5.0,
        description="A card the presence check missed and that is read again within this is the same tap "
                    "(a folder lying on the reader is not tapped twice)")
    card_auth: bool = Field(
        True, description="Read what an NTAG 424 DNA (its SUN message) or a FeliCa Lite-S (a MAC over a fresh "
                          "challenge) says to prove it is no copy, and send it with the scan (docs/card-auth.md)")

    @field_validator("device")
    @classmethod
    def _known_to_work(cls, value: str) -> str:
        usb_id = value.lower().removeprefix("usb:")
        if value.lower().startswith("usb:") and usb_id in UNSUPPORTED_NFC:
            raise ValueError(f"{usb_id} is the {UNSUPPORTED_NFC[usb_id]}, which nfcpy cannot drive (a different "
                             "chipset from the RC-S380; no driver): use an RC-S380 (usb:054c:06c1 or usb:054c:06c3)")
        return value


class Rdm6300ReaderConfig(_Section):
    type: Literal["rdm6300"] = Field(description="An RDM6300 125 kHz (EM4100) module on a serial port")
    port: str = Field("/dev/serial0", description="Serial device, e.g. /dev/serial0 (the Pi's UART) or /dev/ttyUSB0")
    baudrate: int = Field(RDM6300_BAUD, description="The RDM6300 speaks 9600 8N1 and nothing else")
    gone_after_s: float = Field(
        0.5, gt=0.0, le=5.0,
        description="The module repeats a fob's frame while it stays; this long without a frame means it left")

    @field_validator("baudrate")
    @classmethod
    def _what_the_module_speaks(cls, value: int) -> int:
        if value != RDM6300_BAUD:
            raise ValueError(f"the RDM6300 speaks {RDM6300_BAUD} baud (8N1) only, per its datasheet: "
                             f"at {value} nothing it sends can be read; write {RDM6300_BAUD} or leave it out")
        return value


CardReaderConfig = Annotated[NfcReaderConfig | Rdm6300ReaderConfig, Field(discriminator="type")]


class OutboxConfig(_Section):
    path: Path = Field(Path("/var/lib/mamori-gateway/outbox.sqlite3"),
                       description="SQLite file that keeps every scan and event until the server acknowledges it")
    resend_after_s: float = Field(30.0, gt=0, le=3600,
                                  description="Re-send what the server has not acknowledged after this long")


class LockConfig(_Section):
    pin: GpioPin = Field(description="Relay that drives the lock")
    active_high: bool = Field(True, description="false for the common relay boards that switch on a low pin")
    local_unlock_s: int = Field(5, ge=1, le=60, description="How long the exit button, or an offline unlock on the allowlist, opens the lock")


class IndicatorConfig(_Section):
    green_led: GpioPin | None = Field(None, description="Green LED: accepted / unlocked")
    red_led: GpioPin | None = Field(None, description="Red LED: denied, or an error")
    buzzer: GpioPin | None = Field(None, description="Active buzzer")


class InputPin(_Section):
    pin: GpioPin = Field(description="Input pin")
    pull_up: bool = Field(True, description="Use the internal pull-up (switch to ground)")
    bounce_s: float = Field(0.05, ge=0.0, le=1.0, description="Debounce time")


class DoorInputConfig(InputPin):
    closed_when_pressed: bool = Field(
        True, description="true when the reed switch closes the circuit while the door is shut (the usual wiring)")


class InputsConfig(_Section):
    door: DoorInputConfig | None = Field(None, description="Reed switch on the door: door_open / door_closed events")
    exit_button: InputPin | None = Field(None, description="Exit button: exit_button event and a local unlock")
    tamper: InputPin | None = Field(None, description="Tamper switch: a tamper event when the case is opened")


class GatewayConfig(_Section):
    site: str = Field(description="Site name in the topic, e.g. nerima")
    reader: str = Field(description="This reader's id as registered on the server, e.g. cabinet-1")
    role: Literal["entrance", "cabinet"] = Field(description="entrance (visitor log) or cabinet (locked cabinet)")
    broker: BrokerConfig = Field(default_factory=BrokerConfig, description="MQTT broker")
    card_reader: CardReaderConfig = Field(description="The NFC or 125 kHz reader")
    outbox: OutboxConfig = Field(default_factory=OutboxConfig, description="Durable queue on the Pi's disk")
    lock: LockConfig | None = Field(None, description="Lock relay (cabinet readers, or an entrance door)")
    indicators: IndicatorConfig = Field(default_factory=IndicatorConfig, description="LEDs and buzzer")
    inputs: InputsConfig = Field(default_factory=InputsConfig, description="Door, exit button and tamper inputs")
    pin_factory: Literal["lgpio", "rpigpio", "pigpio", "native", "mock"] | None = Field(
        None, description="gpiozero pin library; empty picks the best one installed (mock: no hardware, for tests)")
    decision_wait_s: float = Field(
        OFFLINE_DECISION_WAIT_S, gt=0, le=OFFLINE_DECISION_WAIT_S,
        description="How long to wait for the server's decision before deciding alone (the contract: up to 1.5 s)")
    status_interval_s: float = Field(60, ge=5, le=3600, description="How often the retained status is refreshed")
    allowlist_key: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{64}$",
        description="Cabinet: the key of its offline allowlist (64 hex digits), as printed once by `mamori readers "
                    "key <reader>` on the server; without it (or allowlist_key_file) nothing opens offline")
    allowlist_key_file: Path | None = Field(
        None, description="Cabinet: a file holding the allowlist key instead (readable by the gateway only)")

    def offline_key(self) -> bytes | None:
        """The allowlist key from the config or its file; None when the reader has none."""
        text = self.allowlist_key
        if self.allowlist_key_file is not None:
            try:
                text = self.allowlist_key_file.read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise ValueError(f"allowlist_key_file {self.allowlist_key_file}: cannot read it ({exc})") from None
            if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
                raise ValueError(f"allowlist_key_file {self.allowlist_key_file}: must hold the 64 hex digits "
                                 "printed by `mamori readers key <reader>`")
        return bytes.fromhex(text) if text else None

    @field_validator("site", "reader")
    @classmethod
    def _topic_name(cls, value: str) -> str:
        if not re.fullmatch(NAME_PATTERN, value):
            raise ValueError("use 1-32 lower-case letters, digits and '-', starting with a letter or digit")
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> GatewayConfig:
        if self.allowlist_key and self.allowlist_key_file:
            raise ValueError("give allowlist_key or allowlist_key_file, not both")
        return self

    @model_validator(mode="after")
    def _cabinet_has_a_lock(self) -> GatewayConfig:
        if self.role == "cabinet" and self.lock is None:
            raise ValueError("a cabinet reader needs a lock: section (the relay pin)")
        return self

    def pins(self) -> list[tuple[tuple[str, ...], int | str]]:
        """Every configured pin with where it is in the file, outputs first: ("lock", "pin") → 17."""
        found: list[tuple[tuple[str, ...], int | str]] = []
        if self.lock is not None:
            found.append((("lock", "pin"), self.lock.pin))
        for name in ("green_led", "red_led", "buzzer"):
            if (pin := getattr(self.indicators, name)) is not None:
                found.append((("indicators", name), pin))
        for name in ("door", "exit_button", "tamper"):
            if (section := getattr(self.inputs, name)) is not None:
                found.append((("inputs", name, "pin"), section.pin))
        return found

    def pin_clashes(self) -> list[tuple[tuple[str, ...], str]]:
        """A GPIO named twice (17 and 'BOARD11' are the same pin): where the second use is, and why."""
        first: dict[int, tuple[str, ...]] = {}
        clashes = []
        for loc, pin in self.pins():
            bcm = bcm_number(pin)
            if bcm in first:
                clashes.append((loc, f"GPIO{bcm} is already used by {'.'.join(first[bcm])}: one pin, one job"))
            else:
                first[bcm] = loc
        return clashes


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the line and the field."""


# ---------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a config file with both is a mistake."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(
                    problem=f"key {key!r} appears twice (first on line {seen[key] + 1})",
                    problem_mark=key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | Path) -> GatewayConfig:
    """Read and validate one reader's YAML file, or raise `ConfigError` naming file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the config file must be UTF-8 text") from None
    return parse_config(text, str(path))


def parse_config(text: str, name: str = "<config>") -> GatewayConfig:
    try:
        root = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{name}{line}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name}:1: the file must be a mapping of keys (site:, reader:, role:, …)")
    try:
        config = GatewayConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(err, root, name) for err in exc.errors(include_url=False))) from None
    if clashes := config.pin_clashes():
        raise ConfigError("\n".join(where(root, name, loc, why) for loc, why in clashes))
    return config


def where(root: yaml.Node | None, name: str, loc: tuple | list, message: str) -> str:
    """One refusal as the person at the Pi reads it: file:line: field: why."""
    return f"{name}:{_line_of(root, list(loc))}: {'.'.join(str(p) for p in loc) or '(top level)'}: {message}"


def locate(path: str | Path):
    """A function naming file, line and field for a problem found in the file after loading it."""
    root = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    return lambda loc, message: where(root, str(path), loc, message)


def _describe(err: dict, root: yaml.Node | None, name: str) -> str:
    # pydantic puts the discriminator's value in the location ("card_reader.nfc.device"); a person
    # reading the file sees "card_reader.device".
    loc = [part for part in err["loc"] if part not in ("nfc", "rdm6300") or err["loc"][0] != "card_reader"]
    if loc and loc[-1] in ("int", "str") and len(loc) > 1:
        loc = loc[:-1]  # a pin is a number or a name: pydantic names the branch it tried
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown key (misspelt? see docs/firmware_config.md)"
    return where(root, name, loc, message)


def _line_of(node: yaml.Node | None, loc: list) -> int:
    """The line of the deepest node on `loc` that exists in the file (1-based)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
