"""`--check`'s look at the hardware a config names: what can be tried without a card is tried.

The serial port opens at the configured speed, the NFC reader opens and is let go, and every pin is
claimed through the configured pin library and released. Each problem names the file, the line and
the field, as the config's own refusals do. Nothing is switched on.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

from gateway.config import UNSUPPORTED_NFC, GatewayConfig

Locate = Callable[[tuple, str], str]

SYS_USB = Path("/sys/bus/usb/devices")


def check_hardware(config: GatewayConfig, locate: Locate, *, sys_usb: Path = SYS_USB) -> list[str]:
    """What would stop this reader working on this machine, one line each (empty: all found)."""
    reader = config.card_reader
    if reader.type == "rdm6300":
        problems = [locate(("card_reader", "port"), p) for p in _serial_port(reader.port, reader.baudrate)]
    else:
        problems = [locate(("card_reader", "device"), p) for p in _nfc_device(reader.device, sys_usb)]
    return problems + _pins(config, locate)


def _serial_port(path: str, baudrate: int) -> list[str]:
    import serial

    from gateway.readers.serial import _open_problem

    try:
        serial.Serial(path, baudrate, timeout=0).close()
    except serial.SerialException as exc:
        return [_open_problem(path, exc)]
    except ValueError as exc:
        return [f"{path}: cannot set up the serial port: {exc}"]
    return []


def plugged_in_unsupported(sys_usb: Path = SYS_USB) -> list[str]:
    """The USB ids of plugged-in NFC readers nfcpy cannot drive (e.g. an RC-S300), from sysfs."""
    found = []
    for device in sorted(sys_usb.glob("*")) if sys_usb.is_dir() else []:
        try:
            usb_id = f"{(device / 'idVendor').read_text().strip()}:{(device / 'idProduct').read_text().strip()}"
        except OSError:
            continue
        if usb_id.lower() in UNSUPPORTED_NFC:
            found.append(usb_id.lower())
    return found


def _nfc_device(device: str, sys_usb: Path) -> list[str]:
    if device.startswith("udp"):
        return []  # nfcpy's network stand-in: nothing to open until a peer talks
    problems = [f"a {UNSUPPORTED_NFC[usb_id]} ({usb_id}) is plugged in: nfcpy cannot drive it and skips it; "
                "use an RC-S380" for usb_id in plugged_in_unsupported(sys_usb)] if device.startswith("usb") else []
    from gateway.readers.nfc import _open_advice

    try:
        import nfc
    except ImportError as exc:
        return [*problems, f"nfcpy is not installed ({exc}): pip install 'mamori[gateway]'"]
    try:
        nfc.ContactlessFrontend(device).close()
    except (OSError, ValueError, nfc.clf.Error) as exc:
        problems.append(_open_advice(device, exc))
    return problems


def _pins(config: GatewayConfig, locate: Locate) -> list[str]:
    """Claim each pin as the gateway would (outputs off, inputs with their pull) and let it go."""
    from gpiozero import DigitalOutputDevice, InputDevice
    from gpiozero.exc import BadPinFactory, GPIOZeroError

    from gateway.outputs import choose_pin_factory

    choose_pin_factory(config.pin_factory)
    problems = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gpiozero's "falling back from lgpio…" for each library it tries
        for loc, pin in config.pins():
            try:
                if loc[0] == "inputs":
                    device = InputDevice(pin, pull_up=getattr(config.inputs, loc[1]).pull_up)
                else:  # held at "off": a relay board that switches on a low pin must not click
                    active_high = config.lock.active_high if loc[0] == "lock" else True
                    device = DigitalOutputDevice(pin, active_high=active_high, initial_value=False)
                device.close()
            except BadPinFactory as exc:
                return [*problems, locate(("pin_factory",), f"no pin library works here ({exc}): on a Raspberry "
                                          "Pi install python3-lgpio, or name the one installed (lgpio, rpigpio, "
                                          "pigpio, native)")]
            except (GPIOZeroError, ImportError, OSError, RuntimeError) as exc:
                problems.append(locate(loc, f"cannot use this pin here ({type(exc).__name__}: {exc}); is "
                                            "another program using it?"))
    return problems
