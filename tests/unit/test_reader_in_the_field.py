"""The reader as a technician meets it: `--check` tries the hardware and refuses what cannot work
(naming file, line and field), `-v` under `mamori gateway`, every output change in the log, the output
self-test's pin order on gpiozero's mock pins, and JSON log lines."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import threading

import pytest

from gateway import cli
from gateway.config import ConfigError, parse_config
from gateway.logs import JsonLines
from gateway.outputs import Outputs

CABINET = """\
site: nerima
reader: cabinet-1
role: cabinet
card_reader:
  type: rdm6300
  port: {port}
  baudrate: {baud}
lock:
  pin: 17
  active_high: false
indicators:
  green_led: 22
  red_led: 27
  buzzer: 18
inputs:
  door:
    pin: 23
pin_factory: mock
"""


@pytest.fixture
def pty_port():
    main, other = os.openpty()
    yield os.ttyname(other)
    os.close(main)
    os.close(other)


def check(tmp_path, text: str, capsys) -> tuple[int, str, str]:
    path = tmp_path / "cabinet.yaml"
    path.write_text(text)
    code = cli.run(argparse.Namespace(config=str(path), check=True, self_test=False))
    out, err = capsys.readouterr()
    return code, out, err.replace(str(path), "cabinet.yaml")


def test_check_passes_a_serial_port_that_opens_and_pins_that_answer(tmp_path, capsys, pins, pty_port):
    code, out, err = check(tmp_path, CABINET.format(port=pty_port, baud=9600), capsys)
    assert (code, err) == (0, "")
    assert "the card reader and the pins answer" in out


def test_check_refuses_a_serial_port_that_does_not_exist(tmp_path, capsys, pins):
    code, _out, err = check(tmp_path, CABINET.format(port="/dev/ttyUSB-mamori-none", baud=9600), capsys)
    assert code == 2
    assert err.startswith("error: cabinet.yaml:6: card_reader.port: /dev/ttyUSB-mamori-none: cannot open the "
                          "RDM6300's serial port: no such device")


def test_check_refuses_a_baud_rate_the_rdm6300_does_not_speak(tmp_path, capsys, pins, pty_port):
    code, _out, err = check(tmp_path, CABINET.format(port=pty_port, baud=115200), capsys)
    assert code == 2
    assert err.startswith("error: cabinet.yaml:7: card_reader.baudrate: the RDM6300 speaks 9600 baud (8N1) only")


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cabinet.yaml")
    return str(caught.value)


def test_a_pin_a_raspberry_pi_does_not_have_is_refused():
    assert refusal(CABINET.format(port="/dev/serial0", baud=9600).replace("pin: 17", "pin: 99")).startswith(
        "cabinet.yaml:9: lock.pin: 99 is not a GPIO pin of a Raspberry Pi")
    assert "red_led: 'BOARD2' is not a GPIO pin" in refusal(
        CABINET.format(port="/dev/serial0", baud=9600).replace("red_led: 27", "red_led: BOARD2"))


def test_a_pin_used_twice_is_refused_even_by_another_name():
    # BOARD11 is the header pin that carries GPIO17, the lock's.
    text = CABINET.format(port="/dev/serial0", baud=9600).replace("buzzer: 18", "buzzer: BOARD11")
    assert refusal(text) == ("cabinet.yaml:14: indicators.buzzer: GPIO17 is already used by lock.pin: "
                             "one pin, one job")


@pytest.mark.parametrize("usb_id", ["054c:0dc8", "054C:0DC9"])
def test_the_rc_s300_is_refused_with_the_reason(usb_id):
    text = CABINET.format(port="/dev/serial0", baud=9600).replace(
        "  type: rdm6300\n  port: /dev/serial0\n  baudrate: 9600\n", f"  type: nfc\n  device: usb:{usb_id}\n")
    message = refusal(text)
    assert message.startswith(f"cabinet.yaml:6: card_reader.device: {usb_id.lower()} is the Sony RC-S300")
    assert "nfcpy cannot drive" in message and "use an RC-S380" in message


def test_check_names_a_plugged_in_rc_s300_that_nfcpy_would_skip(tmp_path):
    from gateway.hardware import plugged_in_unsupported

    for name, ids in (("1-1", ("054c", "0dc8")), ("1-2", ("054c", "06c1"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "idVendor").write_text(ids[0] + "\n")
        (tmp_path / name / "idProduct").write_text(ids[1] + "\n")
    assert plugged_in_unsupported(tmp_path) == ["054c:0dc8"]


def test_verbose_is_accepted_after_mamori_gateway_and_before_it():
    from server.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["gateway", "--config", "x.yaml", "-v"]).verbose is True
    assert parser.parse_args(["-v", "gateway", "--config", "x.yaml"]).verbose is True
    assert parser.parse_args(["gateway", "--config", "x.yaml"]).verbose is False
    assert parser.parse_args(["gateway", "--config", "x.yaml", "--self-test", "--log-json"]).log_json is True
    assert cli.build_parser().parse_args(["--config", "x.yaml", "--verbose"]).verbose is True


def test_every_output_change_is_logged(pins, caplog):
    outputs = Outputs(parse_config(CABINET.format(port="/dev/serial0", baud=9600)))
    with caplog.at_level(logging.INFO, logger="mamori.gateway.pins"):
        outputs.lock.on()
        outputs.lock.on()  # no change, no line
        outputs.lock_now()
        outputs.green.on()
        outputs.green.off()
    assert [r.getMessage() for r in caplog.records] == [
        "lock relay on (unlocked)", "lock relay off (locked)", "green LED on", "green LED off"]
    outputs.close()


def test_the_self_test_pulses_relay_leds_and_buzzer_in_turn(pins, caplog):
    config = parse_config(CABINET.format(port="/dev/serial0", baud=9600))
    outputs = Outputs(config)
    said: list[str] = []
    with caplog.at_level(logging.INFO, logger="mamori.gateway.pins"):
        assert outputs.self_test(on_s=0.01, say=said.append) == ["lock relay", "green LED", "red LED", "buzzer"]
    assert said[0] == "now: lock relay for 0.01 s — watch (or listen to) it" and len(said) == 4
    # Each pin went on once and off again; the relay board switches on a low pin.
    assert [s.state for s in pins.pin(17).states][1:] == [True, False, True]
    for pin in (22, 27, 18):
        assert [s.state for s in pins.pin(pin).states] == [False, True, False]
    # One after the other, each off before the next goes on.
    assert [r.getMessage() for r in caplog.records] == [
        "lock relay on (unlocked)", "lock relay off (locked)", "green LED on", "green LED off",
        "red LED on", "red LED off", "buzzer on", "buzzer off"]
    outputs.close()


def test_the_self_test_command_stops_when_asked_and_leaves_the_lock_closed(tmp_path, capsys, pins):
    path = tmp_path / "cabinet.yaml"
    path.write_text(CABINET.format(port="/dev/serial0", baud=9600))
    stop = threading.Event()
    stop.set()
    assert cli.run(argparse.Namespace(config=str(path), check=False, self_test=True), stop) == 0
    assert "done: no outputs configured" in capsys.readouterr().out


def test_json_log_lines_parse_and_carry_the_extra_fields():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("mamori.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("reader %s: 読取機", "cabinet-1", extra={"reader": "cabinet-1", "queued": 3})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "mamori.test.json"
    assert first["message"] == "reader cabinet-1: 読取機" and first["reader"] == "cabinet-1" and first["queued"] == 3
    assert first["time"].endswith("+00:00")
    assert second["message"] == "failed" and "ValueError: boom" in second["exc"]
