"""Cards that cannot be copied: the cryptography against the published vectors, and the rules."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from nfc.tag.tt3_sony import FelicaLite
from pyDes import CBC, triple_des

from gateway import protocol
from server.card_keys import felica, keyfile, sun
from server.card_keys.diversify import diversified_key
from server.domain.card_auth import NOTHING, Proof, considered, counter_fits, failure, judge, must_prove
from server.ingest.card_check import prove

# NXP AN12196 rev 1.8, §3.3 "SUN Message with encrypted PICCData, SDMMAC": the example tag's URL
# ?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086 with all-zero SDMMetaReadKey and SDMFileReadKey.
AN12196_E = bytes.fromhex("EF963FF7828658A599F3041510671E88")
AN12196_C = bytes.fromhex("94EED9EE65337086")
AN12196_UID = bytes.fromhex("04DE5F1EACC040")
AN12196_COUNTER = 0x3D  # SDMReadCtr 3D0000, least significant byte first
AN12196_SESSION_MAC_KEY = bytes.fromhex("3FB5F6E3A807A03D5E3570ACE393776F")  # KSesSDMFileReadMAC
ZERO = bytes(16)


def test_sun_reproduces_an12196():
    picc = sun.decrypt_picc(ZERO, AN12196_E)
    assert picc == sun.PiccData(AN12196_UID, AN12196_COUNTER)
    assert sun.session_mac_key(ZERO, picc) == AN12196_SESSION_MAC_KEY
    assert sun.sdm_mac(ZERO, picc) == AN12196_C
    assert sun.verify(ZERO, lambda uid: ZERO, AN12196_E, AN12196_C, AN12196_UID) == picc


def test_sun_generation_gives_back_an12196_e_with_its_padding():
    # The example's PICCData block ends in the tag's random padding DA5CF60941: with it, e comes out the same.
    picc = sun.PiccData(AN12196_UID, AN12196_COUNTER)
    assert sun.encrypt_picc(ZERO, picc, bytes.fromhex("DA5CF60941")) == AN12196_E


@pytest.mark.parametrize("change, why", [
    (lambda e, c, uid: (e, bytes([c[0] ^ 1]) + c[1:], uid), "bad_mac"),
    (lambda e, c, uid: (e, c, bytes.fromhex("04DE5F1EACC041")), "uid_mismatch"),
    (lambda e, c, uid: (bytes([e[0] ^ 1]) + e[1:], c, uid), "picc_tag"),
])
def test_sun_refuses_a_changed_message(change, why):
    e, c, uid = change(AN12196_E, AN12196_C, AN12196_UID)
    with pytest.raises(sun.SunError) as err:
        sun.verify(ZERO, lambda uid: ZERO, e, c, uid)
    assert err.value.why == why


def test_key_diversification_reproduces_an10922():
    # NXP AN10922 rev 1.2 §2.2.1: AES-128 master key, UID 04782E21801D80, AID 3042F5, system id "NXP Abu".
    master = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    key = diversified_key(master, bytes.fromhex("04782E21801D80"), bytes.fromhex("3042F5"), b"NXP Abu")
    assert key == bytes.fromhex("A8DD63A3B89D54B37CA802473FDA9175")


def test_felica_lite_s_mac_matches_nfcpy():
    # Sony publishes no sample values for the Lite-S MAC that we could find: checked against nfcpy's own
    # generate_mac and session key (the code that authenticates real cards), with random keys and challenges.
    for _ in range(20):
        ck, rc, block = os.urandom(16), os.urandom(16), os.urandom(16)
        rc_block = rc[7::-1] + rc[15:7:-1]  # as nfcpy writes the challenge to the card
        sk = triple_des(ck, CBC, bytes(8)).encrypt(rc)
        assert felica.session_key(ck, rc_block) == sk
        assert felica.read_mac(ck, rc_block, block) == bytes(FelicaLite.generate_mac(block, sk, rc[0:8]))
        assert felica.verify(ck, rc_block, block, felica.read_mac(ck, rc_block, block))
        assert not felica.verify(os.urandom(16), rc_block, block, felica.read_mac(ck, rc_block, block))


def test_key_file_round_trip_and_permissions(tmp_path):
    path = tmp_path / "card-keys.json"
    keys = keyfile.write_new(path)
    assert keyfile.load(path) == keys
    with pytest.raises(FileExistsError):
        keyfile.write_new(path)
    path.chmod(0o644)
    with pytest.raises(keyfile.KeyFileError, match="chmod 600"):
        keyfile.load(path)


def test_prove_checks_the_scan_against_the_office_keys():
    keys = keyfile.generate()
    uid = bytes.fromhex("04A0B1C2D3E4F5")
    picc = sun.PiccData(uid, 7)
    e = sun.encrypt_picc(keys.ntag424_meta_key, picc, os.urandom(5)).hex()
    c = sun.sdm_mac(keys.ntag424_file_key(uid), picc).hex()
    scan = protocol.Scan(v=1, id="scan-0001", uid=uid.hex(), tech="iso14443a", at=datetime.now(UTC),
                         auth={"kind": "ntag424_sun", "e": e, "c": c})
    assert prove(keys, scan) == Proof("ntag424_sun", ok=True, counter=7)
    assert prove(keyfile.generate(), scan).why in ("picc_tag", "uid_mismatch", "bad_mac")
    assert prove(None, scan) == NOTHING  # no key file: nothing is checked
    copied = scan.model_copy(update={"uid": "04A0B1C2D3E4F6"})
    assert prove(keys, copied).why == "uid_mismatch"


NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)


def test_who_must_prove():
    assert must_prove(card_kind="ntag424_sun", reader_requires=True, person_requires=False)
    assert not must_prove(card_kind=None, reader_requires=True, person_requires=False)  # a plain card, still let in
    assert must_prove(card_kind=None, reader_requires=False, person_requires=True)
    assert not must_prove(card_kind="ntag424_sun", reader_requires=False, person_requires=False)
    assert not considered(card_kind=None, required=False)


def test_a_counter_only_goes_up_in_event_time():
    assert counter_fits(5, before=4, after=None)
    assert not counter_fits(4, before=4, after=None)  # the same message again
    assert not counter_fits(3, before=4, after=None)  # a message the tag had passed: a copy
    assert counter_fits(3, before=2, after=4)  # a late scan from an outbox, between two others
    assert not counter_fits(5, before=2, after=4)


@pytest.mark.parametrize("proof, kwargs, reason, why", [
    (Proof("ntag424_sun", ok=True, counter=3), {"required": True}, None, None),
    (NOTHING, {"required": True}, "clone_suspected", "missing"),
    (NOTHING, {"required": False}, None, "missing"),
    (Proof("ntag424_sun", ok=False, why="bad_mac"), {"required": False}, "clone_suspected", "bad_mac"),
    (Proof("ntag424_sun", ok=True, counter=3), {"required": False, "fits": False}, "clone_suspected", "old_counter"),
    (Proof("felica_lite_s_mac", ok=True, challenge="AB"), {"required": False, "used": True,
                                                            "card_kind": "felica_lite_s_mac"}, "clone_suspected",
     "replayed"),
    (Proof("felica_lite_s_mac", ok=True, challenge="AB"), {"required": False}, "clone_suspected", "other_kind"),
])
def test_judge(proof, kwargs, reason, why):
    facts = {"used": False, "fits": True, "card_kind": "ntag424_sun", **kwargs}
    assert judge(proof, **facts) == reason
    if proof.kind is not None:
        assert failure(proof, card_kind=facts["card_kind"], used=facts["used"], fits=facts["fits"]) == why


def test_the_scan_carries_auth_as_an_optional_field():
    base = {"v": 1, "id": "scan-0001", "uid": "04A0B1C2D3E4F5", "tech": "iso14443a", "at": NOW.isoformat()}
    plain = protocol.Scan.model_validate(base)
    assert b"auth" not in protocol.encode(plain)  # as version 1 first sent it: old servers see nothing new
    sun_scan = protocol.Scan.model_validate({**base, "auth": {"kind": "ntag424_sun", "e": "00" * 16, "c": "11" * 8}})
    assert protocol.decode(protocol.encode(sun_scan), protocol.Scan) == sun_scan
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(protocol.encode(plain)[:-1] + b',"auth":{"kind":"ntag424_sun","e":"00"}}', protocol.Scan)
    decision = protocol.Decision(v=1, scan="scan-0001", result="deny", reason="clone_suspected",
                                 at=NOW + timedelta(milliseconds=5))
    assert protocol.decode(protocol.encode(decision), protocol.Decision).reason == "clone_suspected"


def test_a_cabinet_requiring_proofs_leaves_cards_that_can_prove_off_its_offline_allowlist():
    from server.allowlists.publisher import offline_cards
    from server.grants.allowlist import ANY_TIME, CabinetCards

    cards = CabinetCards(cards=(("04A0B1C2D3E4F5", ANY_TIME), ("0123456789ABCDEF", ANY_TIME)), closed=())
    provers = frozenset({"04A0B1C2D3E4F5"})
    assert offline_cards(cards, provers=provers, proof_required=True).cards == (("0123456789ABCDEF", ANY_TIME),)
    assert offline_cards(cards, provers=provers, proof_required=False) == cards


class _Record:
    def __init__(self, iri: str):
        self.iri = iri


class Type4ATag:
    """Just what gateway/readers/card_auth.py reads of nfcpy's Type4ATag: its NDEF records."""

    def __init__(self, *iris: str):
        self.ndef = type("Ndef", (), {"records": [_Record(i) for i in iris]})()


def test_the_reader_finds_the_sun_message_in_the_tag_url_or_nothing():
    from gateway.readers.card_auth import read_auth

    e, c = "EF963FF7828658A599F3041510671E88", "94EED9EE65337086"
    found = read_auth(Type4ATag("https://example.invalid/", f"https://mamori.invalid/t?e={e.lower()}&c={c}"))
    assert found == {"kind": "ntag424_sun", "e": e, "c": c}
    assert read_auth(Type4ATag("https://mamori.invalid/t?e=00&c=11")) is None  # not a SUN message
    assert read_auth(Type4ATag()) is None
    assert read_auth(object()) is None  # another tag: nothing read


# NXP AN12196 §6.6: AuthenticateEV2First with key 0 (all zero), the example's RndA; §6.12 WriteData and §7.3
# a response in CommMode.FULL, with the example's session keys, TI and command counter 0.
def test_ev2_authentication_reproduces_an12196():
    from server.card_keys import ev2

    rnd_a = bytes.fromhex("13C5DB8A5930439FC3DEF9A4C675360F")
    part2, rnd_b = ev2.first_part2(ZERO, bytes.fromhex("A04C124213C186F22399D33AC2A30215"), rnd_a)
    assert part2 == bytes.fromhex("35C3E05A752E0144BAC0DE51C1F22C56B34408A23D8AEA266CAB947EA8E0118D")
    session = ev2.Session.finish(ZERO, rnd_a, rnd_b, bytes.fromhex(
        "3FA64DB5446D1F34CD6EA311167F5E4985B89690C04A05F17FA7AB2F08120663"))
    assert session.ti == bytes.fromhex("9D00C4DF")
    assert session.enc == bytes.fromhex("1309C877509E5A215007FF0ED19CA564")
    assert session.mac == bytes.fromhex("4C6626F5E72EA694202139295C7A7FC7")
    with pytest.raises(ev2.SecureMessagingError):  # a tag without the key sends RndA back wrong
        ev2.Session.finish(ZERO, bytes(16), rnd_b, bytes(32))


def test_ev2_full_mode_reproduces_an12196():
    from server.card_keys import ev2

    session = ev2.Session(ti=bytes.fromhex("7614281A"), enc=bytes.fromhex("7A93D6571E4B180FCA6AC90C9A7488D4"),
                          mac=bytes.fromhex("FC4AF159B62E549B5812394CAB1918CC"))
    sent = session.command(0x8D, bytes.fromhex("030000000A0000"), bytes.fromhex("0102030405060708090A"))
    assert sent == bytes.fromhex("030000000A00006B5E6804909962FC4E3FF5522CF0F8436C0C53315B9C73AA")
    assert session.response(0x00, bytes.fromhex("C26D236E4A7C046D")) == b""
    with pytest.raises(ev2.SecureMessagingError):
        session.response(0x00, bytes.fromhex("C26D236E4A7C046D"))  # the counter moved on: a replayed answer
    reading = ev2.Session(ti=bytes.fromhex("DF055522"), enc=bytes.fromhex("2B4D963C014DC36F24F69A50A394F875"),
                          mac=bytes.fromhex("379D32130CE61705DD5FD8C36B95D764"))
    assert reading.command(0x51, b"") == bytes.fromhex("8E2C155ADDA99BE3")
    assert reading.response(0x00, bytes.fromhex("70756055688505B52A5E26E59E329CD6595F672298EA41B7")) == \
        bytes.fromhex("04958CAA5C5E80")
