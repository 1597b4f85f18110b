"""The wire contract (CONTRACT.md) as gateway/protocol.py implements it: topics, payloads, times."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway import protocol
from gateway.protocol import ProtocolError

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - the fuzz tests below are skipped without hypothesis
    st = None

JST = timezone(timedelta(hours=9))
SCAN = {"v": 1, "id": "01JDQ3X8Z5K1W4N7E2R9T6Y0AB", "uid": "0123456789ABCDEF", "tech": "felica",
        "at": "2026-11-27T09:00:00.123+09:00"}

def payload(obj) -> bytes:
    return json.dumps(obj).encode("utf-8")

def scan_with(**changes) -> bytes:
    return payload({**SCAN, **changes})

def reason_of(data: bytes, model=protocol.Scan) -> str:
    with pytest.raises(ProtocolError) as info:
        protocol.decode(data, model)
    return info.value.reason

# ---------------------------------------------------------------- topics

def test_topic_is_built_from_site_reader_and_channel():
    assert protocol.topic("tokyo-1", "cab-2", "scan") == "mamori/v1/tokyo-1/cab-2/scan"

@pytest.mark.parametrize("channel", protocol.CHANNELS)
def test_every_channel_round_trips_through_parse_topic(channel):
    parsed = protocol.parse_topic(protocol.topic("site", "reader-0", channel))
    assert parsed == protocol.Topic("site", "reader-0", channel)
    assert str(parsed) == f"mamori/v1/site/reader-0/{channel}"

def test_names_of_32_characters_are_the_longest_allowed():
    name = "a" * 32
    assert protocol.parse_topic(f"mamori/v1/{name}/{name}/scan").site == name

@pytest.mark.parametrize("site, reader, channel", [
    ("Tokyo", "cab", "scan"),          # upper case
    ("a" * 33, "cab", "scan"),         # too long
    ("site", "r" * 33, "scan"),
    ("-site", "cab", "scan"),          # must start with a letter or digit
    ("", "cab", "scan"),
    ("site", "ca_b", "scan"),
    ("site", "cab", "scans"),          # unknown channel
    ("site", "cab", "Scan"),
])
def test_building_a_topic_with_a_bad_name_or_channel_is_refused(site, reader, channel):
    with pytest.raises(ProtocolError) as info:
        protocol.topic(site, reader, channel)
    assert info.value.reason == "bad_topic"

@pytest.mark.parametrize("name", [
    "mamori/v1/Tokyo/cab/scan",
    f"mamori/v1/{'a' * 33}/cab/scan",
    f"mamori/v1/site/{'a' * 33}/scan",
    "mamori/v2/site/cab/scan",
    "other/v1/site/cab/scan",
    "/mamori/v1/site/cab/scan",
    "mamori/v1/site/cab/telemetry",
    "mamori/v1/site/cab/scan/extra",
    "mamori/v1/site/extra/cab/scan",
    "mamori/v1/site/scan",
    "mamori/v1/site/cab/scan/",
    "mamori/v1/+/cab/scan",
    "",
])
def test_parsing_a_foreign_topic_raises_bad_topic(name):
    with pytest.raises(ProtocolError) as info:
        protocol.parse_topic(name)
    assert info.value.reason == "bad_topic"

def test_topic_with_trailing_newline_is_not_ours():
    # MQTT topic names may contain "\n"; the pattern must match the whole topic.
    with pytest.raises(ProtocolError) as info:
        protocol.parse_topic("mamori/v1/site/cab/scan\n")
    assert info.value.reason == "bad_topic"

def test_subscription_covers_every_reader_of_one_or_all_sites():
    assert protocol.subscription("scan") == "mamori/v1/+/+/scan"
    assert protocol.subscription("status", "tokyo") == "mamori/v1/tokyo/+/status"

# ---------------------------------------------------------------- scan payloads

def test_contract_example_scan_is_accepted():
    scan = protocol.decode(payload(SCAN), protocol.Scan)
    assert (scan.v, scan.id, scan.uid, scan.tech) == (1, SCAN["id"], SCAN["uid"], "felica")
    assert scan.at == datetime(2026, 11, 27, 9, 0, 0, 123000, tzinfo=JST)

def test_lower_case_uid_is_normalised_to_upper_case():
    assert protocol.decode(scan_with(uid="04a1b2c3d4e5f6"), protocol.Scan).uid == "04A1B2C3D4E5F6"

@pytest.mark.parametrize("uid", ["01234567", "0123456789", "01234567890123", "0123456789ABCDEF", "F" * 20])
def test_uids_of_8_to_20_hex_digits_are_accepted(uid):
    assert protocol.decode(scan_with(uid=uid), protocol.Scan).uid == uid

@pytest.mark.parametrize("uid", ["0123456", "0" * 21, "0123456G", "01234567 ", " 01234567", "0123-4567",
                                 "0x01234567", "", 12345678, None, ["01234567"]])
def test_uid_that_is_not_8_to_20_hex_digits_is_rejected(uid):
    assert reason_of(scan_with(uid=uid)) == "invalid_payload"

def test_uid_with_a_unicode_ligature_that_upper_cases_to_hex_is_rejected():
    # "\ufb00" (LATIN SMALL LIGATURE FF) is not a hex digit, but str.upper() turns it into "FF".
    assert reason_of(scan_with(uid="0123456\ufb00")) == "invalid_payload"

@pytest.mark.parametrize("scan_id", ["abcdefgh", "A" * 64, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"])
def test_ids_of_8_to_64_allowed_characters_are_accepted(scan_id):
    assert protocol.decode(scan_with(id=scan_id), protocol.Scan).id == scan_id

@pytest.mark.parametrize("scan_id", ["abcdefg", "A" * 65, "abc_defgh", "abc defgh", "abcdefgh\n", "abcdéfgh",
                                     "", 12345678])
def test_id_outside_the_pattern_is_rejected(scan_id):
    assert reason_of(scan_with(id=scan_id)) == "invalid_payload"

@pytest.mark.parametrize("tech", ["felica", "iso14443a", "iso14443b", "iso15693", "em4100"])
def test_every_contract_tech_is_accepted(tech):
    assert protocol.decode(scan_with(tech=tech), protocol.Scan).tech == tech

@pytest.mark.parametrize("tech", ["FeliCa", "mifare", "nfc", "", None])
def test_unknown_tech_is_rejected(tech):
    assert reason_of(scan_with(tech=tech)) == "invalid_payload"

@pytest.mark.parametrize("at, expected", [
    ("2026-11-27T00:00:00Z", datetime(2026, 11, 27, 0, 0, tzinfo=UTC)),
    ("2026-11-27T09:00:00+09:00", datetime(2026, 11, 27, 0, 0, tzinfo=UTC)),
    ("2026-11-26T19:00:00-05:00", datetime(2026, 11, 27, 0, 0, tzinfo=UTC)),
    ("2026-11-27T09:00:00.123456789+09:00", datetime(2026, 11, 27, 0, 0, 0, 123456, tzinfo=UTC)),
])
def test_rfc3339_times_with_an_offset_are_accepted(at, expected):
    parsed = protocol.decode(scan_with(at=at), protocol.Scan).at
    assert parsed == expected and parsed.utcoffset() is not None

@pytest.mark.parametrize("at", ["2026-11-27T09:00:00", "2026-11-27T09:00:00.123", "2026-11-27", "09:00:00+09:00",
                                1795737600, 1795737600.5, "2026-11-27T09:00:00+0900", "2026-11-27T09:00:00,5+09:00",
                                "2026-13-27T09:00:00+09:00", "2026-11-27T09:00:60+09:00", "yesterday", "", None])
def test_time_without_offset_or_not_rfc3339_is_rejected(at):
    assert reason_of(scan_with(at=at)) == "invalid_payload"

def test_version_1_is_required():
    assert reason_of(scan_with(v=2)) == "invalid_payload"
    assert reason_of(payload({k: val for k, val in SCAN.items() if k != "v"})) == "invalid_payload"

@pytest.mark.parametrize("v", ["1", None, 0])
def test_version_of_the_wrong_type_is_rejected(v):
    assert reason_of(scan_with(v=v)) == "invalid_payload"

def test_version_true_is_rejected_as_a_wrong_type():
    # JSON true is a boolean, not the integer 1 the contract requires.
    assert reason_of(scan_with(v=True)) == "invalid_payload"

def test_unknown_fields_are_ignored():
    scan = protocol.decode(scan_with(rssi=-40, extra={"nested": [1, 2]}), protocol.Scan)
    assert scan == protocol.decode(payload(SCAN), protocol.Scan)
    assert "rssi" not in json.loads(protocol.encode(scan))

@pytest.mark.parametrize("field", ["v", "id", "uid", "tech", "at"])
def test_scan_missing_a_required_field_is_invalid_payload(field):
    assert reason_of(payload({k: val for k, val in SCAN.items() if k != field})) == "invalid_payload"

def test_payload_of_exactly_2048_bytes_is_accepted_and_one_more_is_too_large():
    base = scan_with(pad="")
    exact = scan_with(pad="x" * (protocol.MAX_PAYLOAD_BYTES - len(base)))
    assert len(exact) == 2048 and protocol.decode(exact, protocol.Scan).id == SCAN["id"]
    assert reason_of(exact[:-1] + b' }') == "too_large"
    assert reason_of(b" " * 100_000) == "too_large"

@pytest.mark.parametrize("data", [b"\xff\xfe{}", b'{"v": 1, "id": "\xc3\x28"}', b"\x80"])
def test_payload_that_is_not_utf8_is_rejected(data):
    assert reason_of(data) == "not_utf8"

@pytest.mark.parametrize("data", [b"", b"not json", b"{", b'{"v": 1,}', b"[]", b"[1, 2]", b'"scan"', b"1", b"null",
                                  b"NaN", b"[" * 2000, b'{"a":' * 400])
def test_payload_that_is_not_a_json_object_is_invalid_json(data):
    assert reason_of(data) == "invalid_json"

def test_very_deeply_nested_json_is_refused_without_crashing():
    with pytest.raises(ProtocolError) as info:
        protocol.decode(b"[" * 100_000, protocol.Scan)
    assert info.value.reason in {"too_large", "invalid_json"}

def test_deep_nesting_inside_a_field_is_refused_without_crashing():
    deep = b'{"v":1,"id":' + b"[" * 1015 + b"]" * 1015 + b"}"  # deeper than the recursion limit
    assert len(deep) <= 2048 and reason_of(deep) == "invalid_json"

# ---------------------------------------------------------------- times

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=JST)

@pytest.mark.parametrize("ahead", [timedelta(0), timedelta(minutes=5), -timedelta(days=30)])
def test_time_up_to_five_minutes_ahead_is_allowed(ahead):
    protocol.check_not_future(NOW + ahead, NOW)

@pytest.mark.parametrize("ahead", [timedelta(minutes=5, microseconds=1), timedelta(hours=1)])
def test_time_more_than_five_minutes_ahead_is_future_time(ahead):
    with pytest.raises(ProtocolError) as info:
        protocol.check_not_future(NOW + ahead, NOW)
    assert info.value.reason == "future_time"

def test_check_not_future_compares_instants_across_offsets():
    protocol.check_not_future(datetime(2026, 11, 27, 0, 4, tzinfo=UTC), NOW)
    with pytest.raises(ProtocolError):
        protocol.check_not_future(datetime(2026, 11, 27, 0, 6, tzinfo=UTC), NOW)

@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=10), -timedelta(seconds=10), timedelta(seconds=3)])
def test_scan_within_ten_seconds_either_way_is_fresh(offset):
    assert protocol.is_fresh(NOW + offset, NOW)

@pytest.mark.parametrize("offset", [timedelta(seconds=10, microseconds=1), -timedelta(seconds=10, microseconds=1),
                                    -timedelta(hours=2), timedelta(minutes=1)])
def test_scan_more_than_ten_seconds_away_is_stale(offset):
    assert not protocol.is_fresh(NOW + offset, NOW)

# ---------------------------------------------------------------- other messages

EVENT = {"v": 1, "id": "01JDQ3Y000000000000000000A", "type": "door_open", "at": "2026-11-27T09:00:04.500+09:00"}
DECISION = {"v": 1, "scan": SCAN["id"], "result": "unlock", "unlock_s": 5, "action": "session_open", "reason": None,
            "at": "2026-11-27T09:00:00.140+09:00"}

@pytest.mark.parametrize("kind", ["door_open", "door_closed", "tamper", "exit_button"])
def test_events_other_than_offline_unlock_need_no_scan(kind):
    assert protocol.decode(payload({**EVENT, "type": kind}), protocol.Event).scan is None

def test_offline_unlock_event_must_name_its_scan():
    assert reason_of(payload({**EVENT, "type": "offline_unlock"}), protocol.Event) == "invalid_payload"
    event = protocol.decode(payload({**EVENT, "type": "offline_unlock", "scan": SCAN["id"]}), protocol.Event)
    assert event.scan == SCAN["id"]

def test_unknown_event_type_is_rejected():
    assert reason_of(payload({**EVENT, "type": "door_ajar"}), protocol.Event) == "invalid_payload"

def test_last_will_encodes_exactly_to_offline_status():
    assert json.loads(protocol.encode(protocol.LAST_WILL)) == {"v": 1, "online": False}
    assert protocol.encode(protocol.LAST_WILL) == b'{"v":1,"online":false}'

@pytest.mark.parametrize("changes", [{"online": 1}, {"online": "false"}, {"queued": -1}, {"queued": True}])
def test_status_with_wrong_types_is_rejected(changes):
    assert reason_of(payload({"v": 1, "online": True, **changes}), protocol.Status) == "invalid_payload"

@pytest.mark.parametrize("changes", [
    {"result": "deny", "action": None, "reason": None, "unlock_s": None},            # deny without reason
    {"result": "deny", "reason": "unknown_card"},                                   # deny with an action
    {"result": "unlock", "unlock_s": None},                                         # unlock without unlock_s
    {"result": "unlock", "reason": "inactive"},                                     # unlock with a reason
    {"result": "accept", "action": None, "unlock_s": None},                         # accept without action
    {"result": "accept", "action": "checkout", "reason": "no_session"},
    {"unlock_s": 0}, {"unlock_s": 61}, {"unlock_s": True},
    {"reason": None, "result": "deny", "action": None, "unlock_s": None, "extra": 1},
    {"result": "deny", "action": None, "reason": "because"},                        # reason outside the list
])
def test_inconsistent_decision_is_rejected(changes):
    assert reason_of(payload({**DECISION, **changes}), protocol.Decision) == "invalid_payload"

@pytest.mark.parametrize("changes", [
    {},
    {"result": "accept", "action": "checkout", "unlock_s": None},
    {"result": "deny", "action": None, "reason": "not_encrypted", "unlock_s": None},
])
def test_consistent_decision_is_accepted(changes):
    decision = protocol.decode(payload({**DECISION, **changes}), protocol.Decision)
    assert decision.result == (changes.get("result") or "unlock")

def test_ack_needs_at_least_one_valid_id():
    assert reason_of(payload({"v": 1, "ids": []}), protocol.Ack) == "invalid_payload"
    assert reason_of(payload({"v": 1, "ids": ["short"]}), protocol.Ack) == "invalid_payload"
    assert protocol.decode(payload({"v": 1, "ids": [SCAN["id"]]}), protocol.Ack).ids == [SCAN["id"]]

def test_allowlist_hash_is_hmac_sha256_of_upper_case_uid_keyed_by_the_salt():
    salt = "9f2c4a7d00112233445566778899aabb"
    expected = hmac.new(bytes.fromhex(salt), b"0123456789ABCDEF", hashlib.sha256).hexdigest()
    assert protocol.allowlist_hash(salt, "0123456789ABCDEF") == expected
    assert protocol.allowlist_hash(salt, "0123456789abcdef") == expected
    assert protocol.allowlist_hash("00" * 16, "0123456789ABCDEF") != expected

def test_allowlist_rejects_upper_case_digests_and_short_salts():
    good = {"v": 1, "salt": "00" * 16, "hashes": ["ab" * 32], "until": "2026-11-28T09:00:00+09:00"}
    assert protocol.decode(payload(good), protocol.Allowlist).hashes == ["ab" * 32]
    assert reason_of(payload({**good, "hashes": ["AB" * 32]}), protocol.Allowlist) == "invalid_payload"
    assert reason_of(payload({**good, "salt": "00"}), protocol.Allowlist) == "invalid_payload"

T = datetime(2026, 11, 27, 9, 0, 0, 140000, tzinfo=JST)
EVERY_MESSAGE = [
    protocol.Scan(v=1, id=SCAN["id"], uid="0123456789ABCDEF", tech="iso14443a", at=T),
    protocol.Event(v=1, id="01JDQ3Y000000000000000000A", type="offline_unlock", at=T, scan=SCAN["id"]),
    protocol.Event(v=1, id="01JDQ3Y000000000000000000A", type="tamper", at=T),
    protocol.Status(v=1, online=True, at=T, version="0.3.0", queued=3),
    protocol.LAST_WILL,
    protocol.Decision(v=1, scan=SCAN["id"], result="unlock", unlock_s=5, action="session_open", at=T),
    protocol.Decision(v=1, scan=SCAN["id"], result="deny", reason="wrong_cabinet", at=T),
    protocol.Ack(v=1, ids=[SCAN["id"], "01JDQ3Y000000000000000000A"]),
    protocol.Command(v=1, id="01JDQ4000000000000000000AA", type="unlock", unlock_s=5, by="manager name", at=T),
    protocol.Allowlist(v=1, salt="9f" * 16, hashes=[protocol.allowlist_hash("9f" * 16, "01234567")], until=T),
]

@pytest.mark.parametrize("message", EVERY_MESSAGE, ids=lambda m: type(m).__name__)
def test_every_message_survives_encode_then_decode(message):
    data = protocol.encode(message)
    assert len(data) <= protocol.MAX_PAYLOAD_BYTES
    assert protocol.decode(data, type(message)) == message

def test_channel_models_cover_every_channel():
    assert set(protocol.CHANNEL_MODELS) == set(protocol.CHANNELS)

# ---------------------------------------------------------------- fuzz

if st is not None:
    FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=20,
    )
    plausible = st.fixed_dictionaries({}, optional={
        "v": st.sampled_from([1, 2, "1", True, 1.0, None]) | json_values,
        "id": st.text(max_size=70) | json_values,
        "uid": st.text(alphabet="0123456789abcdefABCDEFG \ufb00", max_size=22) | json_values,
        "tech": st.sampled_from(["felica", "em4100", "FELICA"]) | json_values,
        "at": st.sampled_from([SCAN["at"], "2026-11-27T09:00:00Z", "2026-11-27T09:00:00"]) | st.text(max_size=40),
    })

    def _decode_or_protocol_error(data: bytes, model=protocol.Scan):
        try:
            result = protocol.decode(data, model)
        except ProtocolError as exc:
            assert exc.reason in {"too_large", "not_utf8", "invalid_json", "invalid_payload"}
        else:
            assert isinstance(result, model)

    @FUZZ
    @given(st.binary(max_size=3000))
    def test_random_bytes_decode_to_a_scan_or_a_protocol_error(data):
        _decode_or_protocol_error(data)

    @FUZZ
    @given(st.dictionaries(st.text(max_size=8), json_values, max_size=8))
    def test_random_json_objects_decode_to_a_scan_or_a_protocol_error(obj):
        _decode_or_protocol_error(json.dumps(obj).encode())

    @FUZZ
    @given(plausible, st.sampled_from(list(protocol.CHANNEL_MODELS.values())))
    def test_near_valid_payloads_decode_or_raise_protocol_error_for_every_model(obj, model):
        _decode_or_protocol_error(json.dumps({**SCAN, **obj}).encode(), model)
else:  # pragma: no cover
    def test_fuzz_needs_hypothesis():
        pytest.skip("hypothesis is not installed")


def test_acks_for_a_large_batch_are_split_so_each_fits_the_2_kib_cap():
    ids = [f"{n:026d}" for n in range(500)] + [f"{n:064d}" for n in range(100)] + ["00000000000000000000000001"]
    acks = protocol.pack_acks(ids)
    assert all(len(protocol.encode(a)) <= protocol.MAX_PAYLOAD_BYTES for a in acks)
    carried = [i for a in acks for i in a.ids]
    assert carried == list(dict.fromkeys(ids))  # every id once, in order
    for ack in acks:
        assert protocol.decode(protocol.encode(ack), protocol.Ack) == ack


@pytest.mark.parametrize("at", ["0001-01-01T00:00:04+00:00", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59+09:00"])
def test_a_reader_clock_far_outside_plausible_years_is_refused(at):
    payload = json.dumps({"v": 1, "id": "01JDQ3X8Z5K1W4N7E2R9T6Y0AB", "uid": "0123456789ABCDEF",
                          "tech": "felica", "at": at}).encode()
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.decode(payload, protocol.Scan)
    assert err.value.reason == "invalid_payload"


@pytest.mark.parametrize("field, value", [("version", "v" * 65), ("queued", 2**31)])
def test_a_status_beyond_what_the_database_holds_is_refused(field, value):
    payload = json.dumps({"v": 1, "online": True, field: value}).encode()
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(payload, protocol.Status)
