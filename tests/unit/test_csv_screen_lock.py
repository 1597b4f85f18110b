"""The optional 画面ロック column of the item list: yes/no as the office writes it, blank or left out
meaning "the same as 暗号化", a wrong cell reported under its own heading."""

from __future__ import annotations

from server.web.admin.csv_import import parse

HEAD = "品名,種別,タグID,キャビネット,暗号化,画面ロック\r\n"


def test_the_column_is_read_apart_from_encryption():
    parsed = parse("items", (HEAD + "携帯 1,携帯電話,04A1B2C3D4E5F7,cabinet-1,はい,いいえ\r\n"
                                    "携帯 2,携帯電話,04A1B2C3D4E5F8,cabinet-1,○,○\r\n"
                                    "携帯 3,携帯電話,04A1B2C3D4E5F9,cabinet-1,はい,\r\n").encode())
    assert parsed.ok, [r.problems for r in parsed.rows]
    assert [(r.values["encrypted"], r.values["screen_locked"]) for r in parsed.rows] == [
        (True, False), (True, True), (True, None)]  # blank: as 暗号化 (server/items/service.py)


def test_left_out_it_follows_encryption_and_encryption_no_longer_reads_it():
    only_encrypted = parse("items", "品名,種別,タグID,キャビネット,暗号化\r\n携帯,携帯電話,04A1B2C3D4E5F7,c1,はい\r\n".encode())
    assert only_encrypted.rows[0].values["screen_locked"] is None
    only_lock = parse("items", "品名,種別,タグID,キャビネット,画面ロック\r\n携帯,携帯電話,04A1B2C3D4E5F7,c1,はい\r\n".encode())
    assert (only_lock.rows[0].values["encrypted"], only_lock.rows[0].values["screen_locked"]) == (False, True)
    assert only_lock.headers["screen_locked"] == "画面ロック" and "encrypted" not in only_lock.headers


def test_a_cell_that_is_neither_yes_nor_no_is_shown_under_its_heading():
    parsed = parse("items", (HEAD + "携帯 1,携帯電話,04A1B2C3D4E5F7,cabinet-1,はい,たぶん\r\n").encode())
    [row] = parsed.rows
    assert [(column, key) for column, (key, _v) in row.problems] == [("画面ロック", "admin.err.bool")]
    assert row.values == {} and row.shown("screen_locked") == "たぶん"
