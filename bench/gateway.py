"""Gateway benchmarks: tap → UID here; outbox drain and memory in `bench/gateway_drain.py`.

    .venv/bin/python -m bench.gateway [--taps 50] [--pauses 0.05] [--sections tap drain]

tap → UID: from the moment an emulated card enters the field to NfcReader calling on_tap, through
nfcpy's real reader code on its udp driver (tests/support/nfc_udp.py: a FeliCa card emulated by nfcpy
itself, an NTAG213 answering the driver's frames). The tuned settings (one polling round, then a pause
of interval_s) against nfcpy's defaults (5 rounds 0.5 s apart). Each tap comes at a random moment of
the polling cycle, as a hand does; one warm-up tap is left out. Also the reader thread's CPU while it
polls an empty field. No radio: a real reader adds its RF and USB time to every round.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.common import fmt, percentiles
from gateway.config import NfcReaderConfig
from gateway.readers.nfc import NfcReader
from tests.support.nfc_udp import FelicaCard, Ntag213

DEFAULT_PAUSE = NfcReaderConfig.model_fields["interval_s"].default
NFCPY_DEFAULTS = {"iterations": 5, "interval": 0.5}


@dataclass(frozen=True)
class Setting:
    label: str
    pause_s: float
    nfcpy_options: dict = field(default_factory=dict)

    @property
    def cycle_s(self) -> float:
        """Roughly how often the reader polls: taps are spread over one cycle."""
        return self.nfcpy_options.get("interval", self.pause_s) or 0.001


class _ReaderThread:
    def __init__(self, device: str, setting: Setting):
        self.reader = NfcReader(NfcReaderConfig(type="nfc", device=device, interval_s=setting.pause_s),
                                nfcpy_options=setting.nfcpy_options)
        self.stop = threading.Event()
        self.tapped = threading.Event()
        self.tapped_at = 0.0
        self.thread = threading.Thread(target=self.reader.run, args=(self._on_tap, self.stop), daemon=True)

    def _on_tap(self, _tap) -> None:
        self.tapped_at = time.perf_counter()
        self.tapped.set()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(5)
        self.reader.close()

    def cpu_s(self) -> float:
        return time.clock_gettime(time.pthread_getcpuclockid(self.thread.ident))


def tap_latencies(make_card: Callable, setting: Setting, taps: int) -> list[float]:
    """`taps` presentations of one card; each one's present() → on_tap in ms."""
    samples = []
    with make_card() as card, _ReaderThread(card.device, setting) as reader:
        for n in range(taps + 1):
            if not card.wait_absence_noticed(5):
                raise RuntimeError("the reader did not notice the card leave")
            time.sleep(random.uniform(0, setting.cycle_s))
            reader.tapped.clear()
            presented = card.present()
            if not reader.tapped.wait(5):
                raise RuntimeError(f"no tap within 5 s ({setting.label})")
            if n:  # the first tap imports nfcpy's tag modules
                samples.append((reader.tapped_at - presented) * 1000)
            card.remove()
    return samples


def idle_cpu(setting: Setting, seconds: float = 2.0) -> float:
    """Share of one core the reader thread uses while it polls an empty field."""
    with FelicaCard() as card, _ReaderThread(card.device, setting) as reader:
        card.wait_absence_noticed(5)
        cpu, wall = reader.cpu_s(), time.perf_counter()
        time.sleep(seconds)
        return (reader.cpu_s() - cpu) / (time.perf_counter() - wall)


def tap_to_uid(args) -> None:
    settings = [Setting(f"nfcpy default {NFCPY_DEFAULTS['iterations']}×{NFCPY_DEFAULTS['interval']} s", 0.0,
                        NFCPY_DEFAULTS)]
    settings += [Setting(f"tuned, pause {p:g} s", p) for p in args.pauses]
    cards = [("FeliCa", FelicaCard), ("NTAG213", Ntag213)]
    print(f"tap → UID over nfcpy's udp driver, {args.taps} taps each (ms; CPU = reader thread, empty field)")
    for setting in settings:
        cpu = idle_cpu(setting)
        for name, make_card in cards:
            stats = percentiles(tap_latencies(make_card, setting, args.taps))
            print(fmt(f"{name:<8} {setting.label:<24}", stats) + f"  CPU {cpu:6.1%}")


def drain(_args) -> None:
    from bench.gateway_drain import main as drain_main

    drain_main()


SECTIONS = {"tap": tap_to_uid, "drain": drain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--taps", type=int, default=50)
    parser.add_argument("--pauses", type=float, nargs="+", default=[DEFAULT_PAUSE],
                        help=f"interval_s values to try (default: the config's {DEFAULT_PAUSE} s)")
    parser.add_argument("--sections", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    args = parser.parse_args()
    for name in args.sections:
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
