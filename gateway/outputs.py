"""The reader's pins (gpiozero): lock relay, LEDs, buzzer, and the door, exit-button and tamper inputs."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from gpiozero import LED, Button, Buzzer, Device, DigitalOutputDevice

from gateway.config import GatewayConfig, InputPin

log = logging.getLogger("mamori.gateway.pins")

# (green on, red on, buzzer on, off, repeats) — short and distinct, so a person hears the answer.
PATTERNS: dict[str, tuple[float, float, float, float, int]] = {
    "accept": (1.0, 0.0, 0.08, 0.0, 1),
    "unlock": (1.0, 0.0, 0.08, 0.0, 1),
    "deny": (0.0, 0.15, 0.15, 0.1, 3),
    "offline": (0.3, 0.3, 0.3, 0.2, 2),  # recorded, but the server did not answer in time
    "error": (0.0, 3.0, 1.0, 0.0, 1),  # not recorded: disk full or a fault; tap again or call the manager
}


class _Logged:
    """Logs every change of the pin, whoever makes it (a command, or gpiozero's blink thread)."""

    label = "output"
    words = ("on", "off")

    def _write(self, value) -> None:
        if bool(value) != bool(self.is_active):
            log.info("%s %s", self.label, self.words[0] if value else self.words[1])
        super()._write(value)


class Relay(_Logged, DigitalOutputDevice):
    label, words = "lock relay", ("on (unlocked)", "off (locked)")


class Lamp(_Logged, LED):
    pass


class Beeper(_Logged, Buzzer):
    label = "buzzer"


def _lamp(pin, label: str) -> Lamp:
    lamp = Lamp(pin)
    lamp.label = label
    return lamp


def choose_pin_factory(name: str | None) -> None:
    """Use the configured gpiozero pin library, unless a factory is already set (tests set MockFactory)."""
    if name and Device.pin_factory is None:
        os.environ["GPIOZERO_PIN_FACTORY"] = name


class Outputs:
    """Lock, LEDs and buzzer. Every method returns at once; gpiozero's threads time the pins."""

    def __init__(self, config: GatewayConfig):
        choose_pin_factory(config.pin_factory)
        self.lock = (Relay(config.lock.pin, active_high=config.lock.active_high, initial_value=False)
                     if config.lock else None)
        ind = config.indicators
        self.green = _lamp(ind.green_led, "green LED") if ind.green_led is not None else None
        self.red = _lamp(ind.red_led, "red LED") if ind.red_led is not None else None
        self.buzzer = Beeper(ind.buzzer) if ind.buzzer is not None else None

    def unlock(self, seconds: float) -> None:
        """Open the lock for `seconds`; it closes by itself (a second unlock restarts the time)."""
        if self.lock is None:
            log.warning("asked to unlock, but this reader has no lock configured")
            return
        log.info("lock open for %s s", seconds)
        self.lock.blink(on_time=seconds, off_time=0, n=1, background=True)

    def lock_now(self) -> None:
        """Close the lock at once (stopping): gpiozero's close() would leave the pin where it is."""
        if self.lock is not None:
            self.lock.off()

    def signal(self, kind: str) -> None:
        green_s, red_s, beep_s, off_s, repeats = PATTERNS[kind]
        log.info("signal: %s", kind)
        for device, on_s in ((self.green, green_s), (self.red, red_s), (self.buzzer, beep_s)):
            if device is not None and on_s > 0:
                device.blink(on_time=on_s, off_time=off_s or 0.01, n=repeats, background=True)

    def self_test(self, on_s: float = 1.0, say: Callable[[str], None] = print,
                  stop: threading.Event | None = None) -> list[str]:
        """Switch each output on for `on_s`, one after the other, saying which first: a person at the
        cabinet watches the relay click, each LED light and hears the buzzer. Returns what was pulsed."""
        stop = stop or threading.Event()
        pulsed = []
        for device in (self.lock, self.green, self.red, self.buzzer):
            if device is None or stop.is_set():
                continue
            say(f"now: {device.label} for {on_s:g} s — watch (or listen to) it")
            device.on()
            stop.wait(on_s)
            device.off()
            stop.wait(on_s / 2)
            pulsed.append(device.label)
        return pulsed

    def close(self) -> None:
        for device in (self.lock, self.green, self.red, self.buzzer):
            if device is not None:
                device.close()


class Inputs:
    """Door reed switch, exit button and tamper switch, each turned into a named event."""

    def __init__(self, config: GatewayConfig, on_event: Callable[[str], None]):
        choose_pin_factory(config.pin_factory)
        self._buttons: list[Button] = []
        ins = config.inputs
        if ins.door is not None:
            door = self._button(ins.door)
            opened, closed = ("when_released", "when_pressed") if ins.door.closed_when_pressed else \
                ("when_pressed", "when_released")
            setattr(door, opened, lambda: on_event("door_open"))
            setattr(door, closed, lambda: on_event("door_closed"))
        if ins.exit_button is not None:
            self._button(ins.exit_button).when_pressed = lambda: on_event("exit_button")
        if ins.tamper is not None:
            # The closed case holds the tamper switch pressed; opening the case releases it.
            self._button(ins.tamper).when_released = lambda: on_event("tamper")

    def _button(self, pin: InputPin) -> Button:
        button = Button(pin.pin, pull_up=pin.pull_up, bounce_time=pin.bounce_s or None)
        self._buttons.append(button)
        return button

    def close(self) -> None:
        for button in self._buttons:
            button.close()
