"""The RDM6300 frame parser and the one-tap-per-presence rule, rule by rule (no serial port)."""

from __future__ import annotations

import pytest

from gateway.readers import Presence
from gateway.readers.serial import FrameParser
from tests.support.rdm6300 import frame

# The two examples of Seeed Studio's "125Khz RFID module - UART" wiki page (RDM630 data sheet):
# card 62E3086CED: 62^E3=81, ^08=89, ^6C=E5, ^ED=08 → checksum "08";
# the bytes 02 | 30 31 30 30 30 37 33 34 45 30 | 44 32 | 03: card 01000734E0,
# 01^00=01, ^07=06, ^34=32, ^E0=D2 → checksum "D2".
DATASHEET_FRAME = b"\x02" + b"62E3086CED" + b"08" + b"\x03"
DATASHEET_FRAME_2 = bytes([0x02, 0x30, 0x31, 0x30, 0x30, 0x30, 0x37, 0x33, 0x34, 0x45, 0x30, 0x44, 0x32, 0x03])

A = "0A00B1C2D3"
B = "1F2E3D4C5B"


def test_the_helper_agrees_with_the_datasheet():
    assert frame("62E3086CED") == DATASHEET_FRAME
    assert frame("01000734E0") == DATASHEET_FRAME_2


def test_datasheet_frames_parse():
    parser = FrameParser()
    assert parser.feed(DATASHEET_FRAME + DATASHEET_FRAME_2) == ["62E3086CED", "01000734E0"]
    assert (parser.accepted, parser.rejected) == (2, 0)


def test_a_good_frame_gives_its_uid():
    parser = FrameParser()
    assert parser.feed(frame(A)) == [A]
    assert parser.accepted == 1
    assert parser.rejected == 0


def test_a_frame_split_across_chunks():
    parser = FrameParser()
    whole = frame(A)
    for cut in range(1, len(whole)):
        assert parser.feed(whole[:cut]) == []
        assert parser.feed(whole[cut:]) == [A], cut
    assert parser.rejected == 0


def test_a_frame_fed_one_byte_at_a_time():
    parser = FrameParser()
    out = []
    for byte in frame(A) + frame(B):
        out += parser.feed(bytes([byte]))
    assert out == [A, B]


def test_a_bad_checksum_is_dropped_and_counted():
    parser = FrameParser()
    good = frame(A)
    bad = frame(A, checksum=int(good[11:13], 16) ^ 0x01)
    assert parser.feed(bad) == []
    assert parser.rejected == 1
    assert parser.reasons["bad checksum"] == 1
    assert parser.feed(good) == [A]


def test_one_flipped_data_digit_is_caught():
    good = frame(A)
    flipped = good[:3] + (b"1" if good[3:4] != b"1" else b"2") + good[4:]
    parser = FrameParser()
    assert parser.feed(flipped) == []
    assert parser.rejected == 1


def test_a_torn_frame_then_a_good_one():
    parser = FrameParser()
    torn = frame(A)[:7]  # the rest lost on the line
    assert parser.feed(torn + frame(B)) == [B]
    assert parser.rejected == 1
    assert parser.reasons["torn frame (a new frame started before the end)"] == 1


def test_noise_between_frames_is_skipped():
    parser = FrameParser()
    noise = b"\x00\xff\x03garbage\r\n\x03"
    assert parser.feed(noise + frame(A) + noise + frame(B) + noise) == [A, B]
    assert parser.rejected == 0
    assert parser.skipped_bytes == 3 * len(noise)


def test_lower_case_hex_is_accepted_and_upper_cased():
    parser = FrameParser()
    lower = frame(A).lower()  # STX and ETX are not letters; .lower() leaves them
    assert lower != frame(A)
    assert parser.feed(lower) == [A]


@pytest.mark.parametrize("body, reason", [
    (b"0A00B1C2D3", "frame too short"),  # checksum missing
    (b"0A00B1C2D3XX", "not hex"),
    (b"0A00 1C2D3A3", "not hex"),  # bytes.fromhex would skip the space
    (b"+A00B1C2D3A3", "not hex"),
    (b"", "frame too short"),
])
def test_malformed_bodies_are_dropped(body, reason):
    parser = FrameParser()
    assert parser.feed(b"\x02" + body + b"\x03") == []
    assert parser.reasons[reason] == 1


def test_a_frame_without_its_end_byte_is_dropped_and_the_next_one_read():
    parser = FrameParser()
    runaway = frame(A)[:-1] + b"1234"  # ETX lost, then more bytes
    assert parser.feed(runaway + frame(B)) == [B]
    assert parser.reasons["frame too long"] == 1


def test_the_uid_is_ten_hex_digits_of_five_bytes():
    uid = FrameParser().feed(frame("00000000FF"))[0]
    assert uid == "00000000FF"
    assert len(uid) == 10


# ---------------------------------------------------------------- presence


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_module_repeating_a_frame_is_one_tap():
    clock = FakeClock()
    presence = Presence(gone_after_s=0.5, clock=clock)
    taps = []
    for _ in range(20):  # ~1 s of frames every 60 ms
        taps.append(presence.seen(A))
        clock.now += 0.06
    assert taps == [True] + [False] * 19


def test_a_fob_gone_longer_than_gone_after_s_and_back_is_a_new_tap():
    clock = FakeClock()
    presence = Presence(gone_after_s=0.5, clock=clock)
    assert presence.seen(A) is True
    clock.now += 0.5  # exactly the limit: still the same presence
    assert presence.seen(A) is False
    clock.now += 0.51
    assert presence.seen(A) is True


def test_a_different_card_is_a_new_tap_at_once():
    clock = FakeClock()
    presence = Presence(gone_after_s=0.5, clock=clock)
    assert presence.seen(A) is True
    clock.now += 0.06
    assert presence.seen(B) is True
    clock.now += 0.06
    assert presence.seen(B) is False
    clock.now += 0.06
    assert presence.seen(A) is True


def test_presence_follows_the_frames_not_the_first_sighting():
    # A fob held for 3 s with frames every 0.2 s is one tap even though 3 s > gone_after_s.
    clock = FakeClock()
    presence = Presence(gone_after_s=0.5, clock=clock)
    taps = 0
    for _ in range(15):
        taps += presence.seen(A)
        clock.now += 0.2
    assert taps == 1
