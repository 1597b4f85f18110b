"""Reading the office's Excel lists: encodings, headings, dates, yes/no, row problems, duplicates."""

from __future__ import annotations

from datetime import date

import pytest

from server.web.admin import csv_import
from server.web.admin.csv_import import check_against, decode, normal, parse, parse_bool, parse_date, parse_kind

STAFF = ("氏名,カードID,鍵を持つ職員,教育受講日\r\n"
         "佐藤 花子,0123456789abcdef,はい,2026/04/01\r\n"
         "田中 一郎,04A1B2C3D4E5F6,いいえ,令和7年10月1日\r\n")


def problems(row) -> list[tuple[str, str]]:
    return [(column, key) for column, (key, _values) in row.problems]


# ---------------------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(("data", "encoding"), [
    (STAFF.encode("utf-8-sig"), "utf-8-sig"),
    (STAFF.encode("utf-8"), "utf-8"),
    (STAFF.encode("cp932"), "cp932"),
    (STAFF.encode("utf-16"), "utf-16"),
])
def test_each_encoding_excel_writes_reads_the_same(data, encoding):
    parsed = parse("people", data)
    assert parsed.encoding == encoding
    assert parsed.ok, (parsed.problems, [r.problems for r in parsed.rows])
    assert [(r.number, r.values["name"], r.values["card_uid"], r.values["key_holder"], r.values["training_on"])
            for r in parsed.rows] == [
        (2, "佐藤 花子", "0123456789ABCDEF", True, date(2026, 4, 1)),
        (3, "田中 一郎", "04A1B2C3D4E5F6", False, date(2025, 10, 1)),
    ]


def test_the_bom_is_not_part_of_the_first_heading():
    assert parse("people", "氏名\r\n佐藤\r\n".encode("utf-8-sig")).headers == {"name": "氏名"}


def test_shift_jis_bytes_are_not_mistaken_for_utf8():
    data = "品名\r\n調査ファイル\r\n".encode("cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode(data) == ("品名\r\n調査ファイル\r\n", "cp932")


def test_bytes_that_are_no_known_encoding_are_a_file_problem():
    parsed = parse("people", b"\x85\xff\x80\xa0" * 3)  # neither UTF-8 nor cp932
    assert parsed.problems == [("import.err.encoding", {})] and not parsed.rows


def test_excel_unicode_text_is_tab_separated_utf16():
    data = "氏名\tカードID\r\n佐藤 花子\t0A0B0C0D\r\n".encode("utf-16")
    parsed = parse("people", data)
    assert parsed.ok and parsed.rows[0].values["card_uid"] == "0A0B0C0D"


# ---------------------------------------------------------------------------------------- cells


@pytest.mark.parametrize(("text", "expected"), [
    ("2026/04/01", date(2026, 4, 1)),
    ("2026-04-01", date(2026, 4, 1)),
    ("2026/4/1", date(2026, 4, 1)),
    ("2026.4.1", date(2026, 4, 1)),
    ("2026年4月1日", date(2026, 4, 1)),
    ("２０２６／０４／０１", date(2026, 4, 1)),
    ("2026/04/01 0:00", date(2026, 4, 1)),
    ("20260401", date(2026, 4, 1)),
    ("令和8年4月1日", date(2026, 4, 1)),
    ("令和８年４月１日", date(2026, 4, 1)),
    ("R8.4.1", date(2026, 4, 1)),
    ("r8/4/1", date(2026, 4, 1)),
    ("令和元年5月1日", date(2019, 5, 1)),
    ("R1.5.1", date(2019, 5, 1)),
    ("平成31年4月30日", date(2019, 4, 30)),
    ("H30.10.1", date(2018, 10, 1)),
    ("昭和64年1月7日", date(1989, 1, 7)),
    ("㋿8年4月1日", date(2026, 4, 1)),
    ("", None),
    ("  ", None),
])
def test_dates_in_the_ways_an_office_writes_them(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2026/13/01", "2026/02/30", "令和1年4月30日", "平成32年1月1日", "H31.5.1",
                                  "R8", "4/1", "昨日", "2026-04-01T09:00", "M45.1.1"])
def test_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize("text", ["はい", "○", "〇", "◯", "有", "あり", "済", "1", "TRUE", "true", "Yes", "y", "ＹＥＳ"])
def test_yes(text):
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["", "いいえ", "×", "無", "なし", "0", "FALSE", "no", "-", "－"])
def test_no(text):
    assert parse_bool(text) is False


def test_neither_yes_nor_no():
    with pytest.raises(ValueError):
        parse_bool("たぶん")


@pytest.mark.parametrize(("text", "kind"), [("ファイル", "folder"), ("書類", "folder"), ("folder", "folder"),
                                            ("携帯電話", "phone"), ("スマホ", "phone"), ("USBメモリ", "media"),
                                            ("ＵＳＢメモリ", "media"), ("記録媒体", "media"), ("ノートPC", "laptop"),
                                            ("ノートＰＣ", "laptop"), ("鍵", "key"), ("Key", "key")])
def test_item_kinds_in_office_words(text, kind):
    assert parse_kind(text) == kind


# ---------------------------------------------------------------------------------------- headings


def test_english_headings_and_full_width_or_spaced_variants():
    english = parse("people", b"Name,Card UID,key_holder,training_on\r\nSato,0A0B0C0D,yes,2026-04-01\r\n")
    assert english.ok and english.headers == {"name": "Name", "card_uid": "Card UID", "key_holder": "key_holder",
                                              "training_on": "training_on"}
    full_width = parse("people", "氏名,カードＩＤ\r\n佐藤,0A0B0C0D\r\n".encode())
    assert full_width.ok and full_width.headers["card_uid"] == "カードＩＤ"


def test_last_years_headings_still_import_after_the_glossary_renamed_them():
    people = parse("people", "氏名,鍵管理者,研修受講日\r\n佐藤,はい,2026/04/01\r\n".encode())
    assert people.ok and people.rows[0].values["key_holder"] is True
    items = parse("items", "品名,種別,タグID,保管庫\r\n調査書類 1,調査書類,0A0B0C0D,cabinet-1\r\n".encode())
    assert items.ok and items.rows[0].values["cabinet"] == "cabinet-1" and items.rows[0].values["kind"] == "folder"


def test_a_title_row_above_the_heading_is_skipped_and_row_numbers_stay_excels():
    parsed = parse("people", "職員名簿（2026年度）,,\r\n,,\r\n氏名,カードID,教育受講日\r\n佐藤,0A0B0C0D,\r\n,,\r\n"
                             "田中,,R8.4.1\r\n".encode())
    assert parsed.ok
    assert [(r.number, r.values["name"]) for r in parsed.rows] == [(4, "佐藤"), (6, "田中")]


def test_unused_columns_are_named_and_ignored():
    parsed = parse("people", "No.,氏名,備考\r\n1,佐藤,非常勤\r\n".encode())
    assert parsed.ok and parsed.ignored == ["No.", "備考"] and parsed.fields == ["name"]


def test_file_problems():
    assert parse("people", b"").problems == [("import.err.empty", {})]
    assert parse("people", b"a,b\r\n1,2\r\n").problems == [("import.err.no_header", {"column": "氏名"})]
    assert parse("people", "氏名\r\n,\r\n".encode()).problems == [("import.err.no_rows", {})]
    missing = parse("items", "品名,種別\r\nファイル,ファイル\r\n".encode())
    assert [key for key, _ in missing.problems] == ["import.err.missing_column"] * 2
    assert {v["column"] for _, v in missing.problems} == {"タグID (tag)", "キャビネット (cabinet)"}
    twice = parse("people", "氏名,カードID,card_uid\r\n佐藤,0A0B0C0D,0A0B0C0E\r\n".encode())
    assert twice.problems == [("import.err.twice", {"column": "カードID (card)"})]
    too_big = parse("people", b"name\r\n" + b"x" * csv_import.MAX_BYTES)
    assert too_big.problems == [("import.err.too_big", {"max": csv_import.MAX_BYTES})]
    assert parse("people", "氏名\r\n佐藤\x00\r\n".encode()).problems == [("import.err.nul", {})]


def test_too_many_rows():
    data = ("氏名\r\n" + "".join(f"職員{n}\r\n" for n in range(csv_import.MAX_ROWS + 1))).encode()
    assert parse("people", data).problems == [("import.err.too_many_rows", {"max": csv_import.MAX_ROWS})]


# ---------------------------------------------------------------------------------------- rows


def test_each_bad_row_names_its_row_column_and_problem():
    data = ("氏名,カードID,鍵を持つ職員,教育受講日\r\n"
            "佐藤,0A0B0C0D,はい,2026/04/01\r\n"
            ",XYZ,たぶん,2026/02/30\r\n"
            f"{'長' * 201},0A0B0C0E,,\r\n"
            "鈴木,0a0b0c0d,,,余計\r\n").encode("cp932")
    parsed = parse("people", data)
    assert not parsed.ok and not parsed.problems
    good, blank_name, long_name, extra = parsed.rows
    assert good.values and not good.problems
    assert sorted(problems(blank_name)) == sorted([("氏名", "admin.err.required"), ("カードID", "admin.err.uid_format"),
                                                   ("鍵を持つ職員", "admin.err.bool"), ("教育受講日", "admin.err.date")])
    assert [c for c, _ in parsed.problems_of(blank_name)] == ["氏名", "カードID", "鍵を持つ職員", "教育受講日"]
    assert long_name.problems == [("氏名", ("admin.err.too_long", {"max": 200}))]
    assert problems(extra) == [("", "import.err.extra_cells"), ("カードID", "admin.err.dup_in_file")]
    assert extra.problems[1][1][1] == {"row": 2}  # the same card as row 2, whatever its case
    assert [r.number for r in parsed.bad_rows] == [3, 4, 5]
    assert all(not r.values for r in parsed.bad_rows)


def test_the_same_person_twice_in_one_file():
    parsed = parse("people", "氏名\r\n佐藤 花子\r\n佐藤　花子\r\n".encode())  # a full-width space is the same name
    assert problems(parsed.rows[1]) == [("氏名", "admin.err.dup_in_file")]


def test_items_rows():
    data = ("品名,種別,タグID,キャビネット,暗号化,ケース番号\r\n"
            "調査ファイル R8-00123,ファイル,04A1B2C3D4E5F6,cabinet-1,,R8-00123\r\n"
            "携帯 1,携帯電話,04A1B2C3D4E5F7,書庫 1,済,\r\n"
            "何か,住民票,04a1b2c3d4e5f6,,はい,\r\n"
            f"USB,USBメモリ,04A1B2C3D4E5F8,cabinet-1,,{'9' * 65}\r\n").encode("utf-8-sig")
    parsed = parse("items", data)
    folder, phone, bad, long_case = parsed.rows
    assert folder.values == {"label": "調査ファイル R8-00123", "kind": "folder", "tag_uid": "04A1B2C3D4E5F6",
                             "cabinet": "cabinet-1", "encrypted": False, "screen_locked": None, "case": "R8-00123",
                             "due_time": None, "loan_minutes": None}  # the kind's loan rule
    assert (phone.values["kind"], phone.values["encrypted"], phone.values["case"]) == ("phone", True, None)
    assert sorted(problems(bad)) == sorted([("種別", "admin.err.kind"), ("キャビネット", "admin.err.required"),
                                            ("タグID", "admin.err.dup_in_file")])
    assert problems(long_case) == [("ケース番号", "admin.err.too_long")]
    assert folder.shown("kind") == "folder" and bad.shown("kind") == "住民票"


# ---------------------------------------------------------------------------------------- against the database


def test_against_what_is_registered():
    parsed = parse("people", "氏名,カードID\r\n佐藤,0A0B0C0D\r\n田中,0A0B0C0E\r\n鈴木,\r\n高橋,0A0B0C0F\r\n".encode())
    check_against(parsed, registered={"0A0B0C0E": "badge", "0A0B0C0F": "tag"}, names={normal("鈴木")})
    assert parsed.rows[0].values and not parsed.rows[0].problems
    assert problems(parsed.rows[1]) == [("カードID", "admin.err.uid_taken.badge")]
    assert problems(parsed.rows[2]) == [("氏名", "admin.err.name_exists")]
    assert problems(parsed.rows[3]) == [("カードID", "admin.err.uid_taken.tag")]
    assert not parsed.ok


def test_a_cabinet_is_found_by_id_or_by_name():
    parsed = parse("items", "品名,種別,タグID,キャビネット\r\nA,鍵,0A0B0C0D,書庫　１\r\nB,鍵,0A0B0C0E,CABINET-1\r\n"
                            "C,鍵,0A0B0C0F,entrance\r\n".encode())
    check_against(parsed, registered={}, cabinets={normal("書庫 1"): "cabinet-1", normal("cabinet-1"): "cabinet-1"})
    assert [r.values.get("cabinet") for r in parsed.rows] == ["cabinet-1", "cabinet-1", None]
    assert problems(parsed.rows[2]) == [("キャビネット", "admin.err.not_cabinet")]


def test_the_preview_shows_values_as_they_will_be_stored():
    row = parse("people", "氏名,教育受講日,鍵を持つ職員\r\n佐藤,R8.4.1,○\r\n".encode()).rows[0]
    assert (row.shown("training_on"), row.shown("key_holder")) == ("2026/04/01", "True")


def test_the_roster_columns_read_the_offices_words_and_a_training_date_after_today_is_refused():
    data = ("氏名,区分,資格,登録日,教育受講日\r\n"
            "佐藤,認定調査員,看護師,2024/10/01,2026/04/01\r\n"
            "山田,管理責任者,Care manager,令和2年4月1日,\r\n"
            "受付,,,,\r\n"
            "鈴木,調査係,医師,2024/13/01,2026/12/31\r\n").encode()
    parsed = parse("people", data)
    sato, yamada, desk, suzuki = parsed.rows
    assert (sato.values["roles"], sato.values["qualification"], sato.values["registered_on"]) == \
        (["surveyor"], "nurse", date(2024, 10, 1))
    assert (yamada.values["roles"], yamada.values["qualification"]) == (["manager"], "care_manager")
    assert (desk.values["roles"], desk.values["qualification"], desk.values["registered_on"]) == ([], None, None)
    assert sorted(problems(suzuki)) == [("区分", "admin.err.choice"), ("登録日", "admin.err.date"),
                                        ("資格", "admin.err.choice")]
    late = parse("people", "氏名,教育受講日\r\n佐藤,2026/12/31\r\n".encode())
    check_against(late, registered={}, names=set(), today=date(2026, 12, 30))
    assert problems(late.rows[0]) == [("教育受講日", "training.err.future")]
