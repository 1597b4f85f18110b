"""A reader's YAML file: the shipped ones load; a bad one is refused with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config, parse_config

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "firmware_config").glob("*.yaml"))

GOOD = """\
site: nerima
reader: cabinet-1
role: cabinet
card_reader:
  type: nfc
lock:
  pin: 17
"""


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_config_is_valid(path):
    config = load_config(path)
    assert config.reader in path.read_text()


def test_the_shipped_files_are_the_entrance_and_the_cabinet():
    assert {p.name for p in SHIPPED} >= {"entrance.yaml", "cabinet.yaml"}


def test_defaults_are_tuned_for_fast_taps():
    config = parse_config(GOOD)
    assert config.card_reader.interval_s <= 0.1
    assert config.decision_wait_s == 1.5
    assert config.outbox.resend_after_s == 30


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cabinet.yaml")
    return str(caught.value)


def test_a_misspelt_key_is_named_with_its_line():
    message = refusal(GOOD + "broker:\n  url: mqtt://pi:1883\n  usernme: cabinet-1\n")
    assert message == "cabinet.yaml:10: broker.usernme: unknown key (misspelt? see docs/firmware_config.md)"


def test_a_wrong_value_inside_the_reader_section_names_the_field_as_written():
    message = refusal(GOOD.replace("type: nfc", "type: nfc\n  technologies: [felica, mifare]"))
    assert message.startswith("cabinet.yaml:6: card_reader.technologies.1:")
    assert "'iso14443a'" in message


def test_every_problem_is_listed_not_only_the_first():
    message = refusal(GOOD.replace("reader: cabinet-1", "reader: Cabinet 1") + "decision_wait_s: 9\n")
    assert "cabinet.yaml:2: reader:" in message
    assert "cabinet.yaml:8: decision_wait_s:" in message


def test_a_key_given_twice_is_refused():
    assert refusal(GOOD + "site: other\n") == "cabinet.yaml:8: key 'site' appears twice (first on line 1)"


def test_broken_yaml_names_the_line():
    assert refusal("site: nerima\nlock: [17\n").startswith("cabinet.yaml:3:")


def test_a_missing_required_section_is_named():
    assert "card_reader: Field required" in refusal("site: nerima\nreader: entrance\nrole: entrance\n")


def test_a_cabinet_without_a_lock_is_refused():
    assert "a cabinet reader needs a lock" in refusal(GOOD.replace("lock:\n  pin: 17\n", ""))


def test_tls_files_need_an_mqtts_url():
    message = refusal(GOOD + "broker:\n  url: mqtt://pi:1883\n  ca_file: /etc/mamori/ca.crt\n")
    assert "cabinet.yaml:8: broker: ca_file, client_cert and client_key need an mqtts:// url" in message


def test_a_broker_url_must_be_mqtt():
    assert "must look like mqtt://host:1883" in refusal(GOOD + "broker:\n  url: http://pi\n")


def test_a_file_that_is_not_a_mapping_is_refused():
    assert refusal("- a\n- b\n") == "cabinet.yaml:1: the file must be a mapping of keys (site:, reader:, role:, …)"


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "nothing.yaml")


KEY = "5a" * 32


def test_the_allowlist_key_comes_from_the_config_or_its_file(tmp_path):
    assert parse_config(GOOD).offline_key() is None
    assert parse_config(GOOD + f"allowlist_key: {KEY}\n").offline_key() == bytes.fromhex(KEY)
    key_file = tmp_path / "allowlist.key"
    key_file.write_text(KEY + "\n")
    assert parse_config(GOOD + f"allowlist_key_file: {key_file}\n").offline_key() == bytes.fromhex(KEY)


def test_a_bad_allowlist_key_is_refused_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"<config>:8: allowlist_key"):
        parse_config(GOOD + "allowlist_key: 1234\n")
    with pytest.raises(ConfigError, match="not both"):
        parse_config(GOOD + f"allowlist_key: {KEY}\nallowlist_key_file: /x\n")
    key_file = tmp_path / "allowlist.key"
    key_file.write_text("not a key")
    with pytest.raises(ValueError, match="64 hex digits"):
        parse_config(GOOD + f"allowlist_key_file: {key_file}\n").offline_key()
