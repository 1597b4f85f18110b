"""Reading the office's Excel lists (saved as CSV) of staff and items: pure, no I/O.

`parse(kind, data)` decodes the bytes (UTF-8 with or without BOM, Shift_JIS/cp932, UTF-16 from
Excel's "Unicode text"), finds the header row (Japanese or English column names), converts each
cell (dates in the western or the Japanese calendar, yes/no in the ways an office writes them),
validates each row with the API's own schema and flags duplicates within the file.
`check_against(parsed, ...)` then adds the problems only the database can show (a uid already
registered, an unknown cabinet, a name already on the staff list), given as plain data.

Every problem is a message key with values, tied to a row number as Excel shows it (the header
is row 1) and to the column's heading as written in the file.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from server.cases.routes import CaseIn
from server.domain.cases import number_problem, personal_data_in
from server.domain.roster import QUALIFICATIONS, ROSTER_ROLES
from server.items.routes import ItemIn
from server.people.routes import PersonIn
from server.wareki import ERAS
from server.web.admin.validation import Problem, check
from server.web.messages.training import MESSAGES as TRAINING_WORDS

MAX_BYTES = 600 * 1024  # base64 in the confirm form (×4/3) must stay under the 1 MiB form-field limit
MAX_ROWS = 5000
KINDS = ("people", "items", "cases")
# Columns the ward's request list may carry that the 受付簿 must never hold (seed rule 1): a row with a
# value in one of them is refused, so that nothing about a resident is stored by accident.
PERSONAL_COLUMNS = (
    ("name", ("氏名", "name", "被保険者氏名", "対象者氏名", "名前", "フリガナ", "カナ氏名", "resident")),
    ("address", ("住所", "address", "現住所", "居所", "所在地")),
    ("insured_number", ("被保険者番号", "insured_number", "insured number", "保険者番号")),
    ("birth_date", ("生年月日", "birth_date", "birthday", "date of birth")),
    ("phone", ("電話番号", "phone", "電話", "連絡先", "tel")),
)


@dataclass(frozen=True)
class Column:
    field: str
    names: tuple[str, ...]  # the first is shown as the Japanese heading, an English one follows
    required: bool = False


COLUMNS: dict[str, tuple[Column, ...]] = {
    "people": (
        Column("name", ("氏名", "name", "名前", "職員名", "氏 名"), required=True),
        Column("card_uid", ("カードID", "card_uid", "カード", "カード番号", "カードUID", "card", "uid", "card id")),
        Column("key_holder", ("鍵を持つ職員", "key_holder", "鍵管理者", "鍵", "key holder")),
        Column("training_on", ("教育受講日", "training_on", "研修受講日", "研修日", "受講日", "研修", "教育",
                               "training", "training date")),
        Column("active", ("有効", "active")),
        Column("roster_role", ("区分", "roster_role", "職種", "roster role")),
        Column("qualification", ("資格", "qualification")),
        Column("registered_on", ("登録日", "registered_on", "registered", "登録年月日")),
    ),
    "items": (
        Column("label", ("品名", "label", "名称", "物品名", "name"), required=True),
        Column("kind", ("種別", "kind", "種類", "type"), required=True),
        Column("tag_uid", ("タグID", "tag_uid", "タグ", "タグ番号", "タグUID", "tag", "tag id", "uid"), required=True),
        Column("cabinet", ("キャビネット", "cabinet", "保管庫", "保管場所", "home cabinet"), required=True),
        Column("encrypted", ("暗号化", "encrypted", "暗号化済み")),
        # Phones need it as well as encryption to leave; left out or blank: the same as 暗号化.
        Column("screen_locked", ("画面ロック", "screen_locked", "画面ロック済み", "screen lock", "画面ロック設定")),
        Column("case", ("ケース番号", "case", "case_number", "case number", "ケースNo")),
    ),
    "cases": (
        Column("number", ("ケース番号", "number", "case", "case_number", "case number", "ケースNo", "受付番号"),
               required=True),
        Column("received_on", ("依頼受理日", "received_on", "受理日", "依頼日", "受付日", "received"), required=True),
        Column("kind", ("調査区分", "kind", "区分", "申請区分", "type"), required=True),
        Column("surveyor", ("担当調査員", "surveyor", "調査員", "担当者")),
        Column("deadline", ("調査期限", "deadline", "期限")),
        Column("note", ("備考", "note", "メモ")),
        *(Column(f"personal_{what}", names) for what, names in PERSONAL_COLUMNS),
    ),
}


def heading(column: Column) -> str:
    """How the page names a column: 氏名 (name) — the English heading a person would write, not the field's code."""
    english = next(n for n in column.names if n.isascii() and "_" not in n)
    return f"{column.names[0]} ({english})"


@dataclass
class Row:
    number: int  # as Excel shows it: the header is row 1
    cells: dict[str, str]  # field -> the cell as written
    values: dict[str, Any] = field(default_factory=dict)  # field -> the value to store, when valid
    problems: list[tuple[str, Problem]] = field(default_factory=list)  # (column heading as in the file, problem)

    def shown(self, name: str) -> str:
        """The value as it will be stored, or the cell as written when it is not valid."""
        value = self.values.get(name, self.cells.get(name, ""))
        if isinstance(value, date):
            return f"{value:%Y/%m/%d}"
        return "" if value is None else str(value)


@dataclass
class Parsed:
    kind: str
    encoding: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # field -> heading as written in the file
    ignored: list[str] = field(default_factory=list)  # headings not used
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # with the whole file

    @property
    def fields(self) -> list[str]:
        return list(self.headers)

    @property
    def bad_rows(self) -> list[Row]:
        return [row for row in self.rows if row.problems]

    def problems_of(self, row: Row) -> list[tuple[str, Problem]]:
        """A row's problems in the file's column order (problems with the whole row first)."""
        order = {heading: at for at, heading in enumerate(self.headers.values())}
        return sorted(row.problems, key=lambda p: order.get(p[0], -1))

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows) and not self.bad_rows


# ---------------------------------------------------------------------- text and cells

class NotDecodable(ValueError):
    pass


def decode(data: bytes) -> tuple[str, str]:
    """The text and which encoding it was: utf-8-sig, utf-8, cp932 (Shift_JIS) or utf-16."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise NotDecodable("utf-16") from exc
    try:
        text = data.decode("utf-8-sig")  # strict: one wrong byte and it is not UTF-8
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise NotDecodable("cp932") from exc


def normal(text: str) -> str:
    """For comparing headings and words: full-width to half-width, lower case, no spaces or separators."""
    return re.sub(r"[\s_\-・/]", "", unicodedata.normalize("NFKC", text)).lower()


ERA_LETTERS = {"r": "令和", "h": "平成", "s": "昭和"}
_WESTERN = re.compile(r"^(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?(?:\s+0{1,2}:00(?::00)?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_JAPANESE = re.compile(r"^(令和|平成|昭和|[rhs])(\d{1,2}|元)[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?$")


def parse_date(text: str) -> date | None:
    """2026/04/01, 2026-4-1, 2026年4月1日, 20260401, 令和8年4月1日, R8.4.1, 令和元年5月1日; None if empty.

    Raises ValueError for anything else, including a Japanese date outside its era (平成32年).
    """
    value = unicodedata.normalize("NFKC", text).strip().lower()
    if not value:
        return None
    if match := _WESTERN.match(value) or _COMPACT.match(value):
        return date(int(match[1]), int(match[2]), int(match[3]))
    if match := _JAPANESE.match(value.replace(" ", "")):
        era = ERA_LETTERS.get(match[1], match[1])
        offset, first, last = ERAS[era]
        year = 1 if match[2] == "元" else int(match[2])
        day = date(offset + year, int(match[3]), int(match[4]))
        if year < 1 or day < first or (last is not None and day > last):
            raise ValueError(f"{text} is not a date of the {era} era")
        return day
    raise ValueError(f"{text!r} is not a date")


YES = frozenset({"はい", "○", "〇", "◯", "有", "あり", "有り", "済", "済み", "要", "1", "true", "yes", "y", "t", "on",
                 "✓", "✔", "レ"})
NO = frozenset({"", "いいえ", "×", "✕", "✖", "x", "無", "なし", "無し", "未", "否", "0", "false", "no", "n", "f", "off",
                "-", "ー", "―", "—"})


def parse_bool(text: str) -> bool:
    """はい/いいえ, ○/×, 有/無, 1/0, TRUE/FALSE (Excel), yes/no; empty is no. ValueError otherwise."""
    value = unicodedata.normalize("NFKC", text).strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(f"{text!r} is neither yes nor no")


ITEM_KINDS = {
    "folder": ("folder", "file", "調査書類", "ファイル", "フォルダ", "フォルダー", "書類", "紙", "調査ファイル", "papers"),
    "phone": ("phone", "携帯", "携帯電話", "スマートフォン", "スマホ", "電話", "mobile", "smartphone"),
    "media": ("media", "medium", "媒体", "記録媒体", "電子媒体", "usb", "usbメモリ", "usbメモリー", "sdカード"),
    "laptop": ("laptop", "ノートpc", "ノートパソコン", "パソコン", "pc", "タブレット"),
    "key": ("key", "鍵", "かぎ", "キー"),
}
_KIND_OF = {normal(word): kind for kind, words in ITEM_KINDS.items() for word in words}


def parse_kind(text: str) -> str:
    """The item kind from the word the office uses (ファイル, 携帯電話, USBメモリ, ...); ValueError otherwise."""
    try:
        return _KIND_OF[normal(text)]
    except KeyError:
        raise ValueError(f"{text!r} is not an item kind") from None


def _words(prefix: str, codes: tuple[str, ...]) -> dict[str, str]:
    """Each code by itself and by its Japanese and English words in the catalogue (介護支援専門員, nurse)."""
    found = {}
    for code in codes:
        ja, en = TRAINING_WORDS[f"{prefix}{code}"]
        found.update({normal(code): code, normal(ja): code, normal(en): code})
    return found


_QUALIFICATION_OF = _words("roster.qualification.", QUALIFICATIONS)
_ROSTER_ROLE_OF = {**_words("roster.role.", ROSTER_ROLES), normal("調査員"): "surveyor"}


def parse_word(words: dict[str, str]):
    """A converter from the office's word to its code; ValueError for a word it does not know."""
    def convert(text: str) -> str | None:
        if not text.strip():
            return None
        try:
            return words[normal(text)]
        except KeyError:
            raise ValueError(f"{text!r} is not one of the choices") from None
    return convert


# ---------------------------------------------------------------------- the file

def parse(kind: str, data: bytes) -> Parsed:
    if kind not in KINDS:
        raise ValueError(f"kind is one of {KINDS}")
    parsed = Parsed(kind)
    if len(data) > MAX_BYTES:
        parsed.problems.append(("import.err.too_big", {"max": MAX_BYTES}))
        return parsed
    if not data.strip():
        parsed.problems.append(("import.err.empty", {}))
        return parsed
    try:
        text, parsed.encoding = decode(data)
    except NotDecodable:
        parsed.problems.append(("import.err.encoding", {}))
        return parsed
    if "\x00" in text:
        parsed.problems.append(("import.err.nul", {}))
        return parsed
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text)))
    except csv.Error as exc:
        parsed.problems.append(("import.err.csv", {"detail": str(exc)}))
        return parsed
    columns = COLUMNS[kind]
    found = _find_header(records, columns)
    if found is None:
        parsed.problems.append(("import.err.no_header", {"column": columns[0].names[0]}))
        return parsed
    header_index, positions = found
    parsed.headers = {column.field: records[header_index][positions[column.field]].strip()
                      for column in columns if column.field in positions}
    used = set(positions.values())
    parsed.ignored = [h.strip() for i, h in enumerate(records[header_index]) if i not in used and h.strip()]
    for column in columns:
        if column.required and column.field not in positions:
            parsed.problems.append(("import.err.missing_column", {"column": heading(column)}))
    for name in _twice(records[header_index], columns):
        parsed.problems.append(("import.err.twice", {"column": name}))
    if parsed.problems:
        return parsed
    width = len(records[header_index])
    for index in range(header_index + 1, len(records)):
        cells = records[index]
        if not any(cell.strip() for cell in cells):
            continue
        if len(parsed.rows) == MAX_ROWS:
            parsed.problems.append(("import.err.too_many_rows", {"max": MAX_ROWS}))
            return parsed
        row = Row(index + 1, {name: (cells[at].strip() if at < len(cells) else "") for name, at in positions.items()})
        if any(cell.strip() for cell in cells[width:]):
            row.problems.append(("", ("import.err.extra_cells", {})))
        ROW_READERS[kind](parsed, row)
        parsed.rows.append(row)
    if not parsed.rows:
        parsed.problems.append(("import.err.no_rows", {}))
    _duplicates(parsed)
    return parsed


def _dialect(text: str) -> type[csv.Dialect]:
    first = text.split("\n", 1)[0]
    return csv.excel_tab if "\t" in first and "," not in first else csv.excel


def _column_of(cell: str, columns: tuple[Column, ...]) -> Column | None:
    key = normal(cell)
    for column in columns:
        if key in {normal(name) for name in column.names}:
            return column
    return None


def _find_header(records: list[list[str]], columns: tuple[Column, ...]) -> tuple[int, dict[str, int]] | None:
    """The header row: the first of the first ten rows naming the first required column (a title may sit above)."""
    for index, record in enumerate(records[:10]):
        positions: dict[str, int] = {}
        for at, cell in enumerate(record):
            column = _column_of(cell, columns)
            if column is not None and column.field not in positions:
                positions[column.field] = at
        if columns[0].field in positions:
            return index, positions
    return None


def _twice(header: list[str], columns: tuple[Column, ...]) -> list[str]:
    seen: dict[str, int] = {}
    for cell in header:
        column = _column_of(cell, columns)
        if column is not None:
            seen[column.field] = seen.get(column.field, 0) + 1
    return [heading(c) for c in columns if seen.get(c.field, 0) > 1]


def _convert(parsed: Parsed, row: Row, failed: set[str], name: str, convert, problem: str, default: Any) -> Any:
    try:
        return convert(row.cells.get(name, ""))
    except ValueError:
        row.problems.append((parsed.headers.get(name, name), (problem, {})))
        failed.add(name)
        return default


def _validated(parsed: Parsed, row: Row, model, data: dict[str, Any], failed: set[str]) -> None:
    """The API's schema has the last word; a cell that could not even be converted is reported once."""
    value, problems = check(model, data)
    for name, problem in problems.items():
        if name not in failed:
            row.problems.append((parsed.headers.get(name, name), problem))
    if value is not None and not row.problems:
        row.values = value.model_dump()


def _person_row(parsed: Parsed, row: Row) -> None:
    failed: set[str] = set()
    data = {
        "name": row.cells.get("name", ""),
        "card_uid": row.cells.get("card_uid") or None,
        "key_holder": _convert(parsed, row, failed, "key_holder", parse_bool, "admin.err.bool", False),
        "training_on": _convert(parsed, row, failed, "training_on", parse_date, "admin.err.date", None),
        "active": _convert(parsed, row, failed, "active", lambda s: parse_bool(s) if s.strip() else True,
                           "admin.err.bool", True),
        "qualification": _convert(parsed, row, failed, "qualification", parse_word(_QUALIFICATION_OF),
                                  "admin.err.choice", None),
        "registered_on": _convert(parsed, row, failed, "registered_on", parse_date, "admin.err.date", None),
    }
    role = _convert(parsed, row, failed, "roster_role", parse_word(_ROSTER_ROLE_OF), "admin.err.choice", None)
    data["roles"] = [role] if role else []
    _validated(parsed, row, PersonIn, data, failed)


def _item_row(parsed: Parsed, row: Row) -> None:
    failed: set[str] = set()
    if not row.cells.get("cabinet"):
        row.problems.append((parsed.headers["cabinet"], ("admin.err.required", {})))
        failed.add("cabinet")
    data = {
        "label": row.cells.get("label", ""),
        "kind": _convert(parsed, row, failed, "kind", parse_kind, "admin.err.kind", "folder"),
        "tag_uid": row.cells.get("tag_uid", ""),
        "cabinet": row.cells.get("cabinet", ""),
        "encrypted": _convert(parsed, row, failed, "encrypted", parse_bool, "admin.err.bool", False),
        "screen_locked": _convert(parsed, row, failed, "screen_locked", _bool_or_none, "admin.err.bool", None),
        "case": row.cells.get("case") or None,
    }
    _validated(parsed, row, ItemIn, data, failed)


def _bool_or_none(text: str) -> bool | None:
    """An optional yes/no: blank is None ("as the other column says")."""
    return parse_bool(text) if text.strip() else None


CASE_KINDS = {"new": ("new", "新規", "新規申請"), "renewal": ("renewal", "更新", "更新申請"),
              "change": ("change", "区分変更", "区分変更申請", "変更")}
_CASE_KIND_OF = {normal(word): kind for kind, words in CASE_KINDS.items() for word in words}


def parse_case_kind(text: str) -> str:
    """新規 / 更新 / 区分変更 (or new / renewal / change); ValueError otherwise."""
    try:
        return _CASE_KIND_OF[normal(text)]
    except KeyError:
        raise ValueError(f"{text!r} is not a survey kind") from None


def _case_row(parsed: Parsed, row: Row) -> None:
    """A request of the ward's list; refused whole if it carries a resident's personal data."""
    failed: set[str] = set()
    for what, _names in PERSONAL_COLUMNS:
        if row.cells.get(f"personal_{what}"):
            row.problems.append((parsed.headers[f"personal_{what}"], (f"import.err.personal.{what}", {})))
    number, note = row.cells.get("number", ""), row.cells.get("note") or None
    if number and number_problem(number):
        row.problems.append((parsed.headers["number"], ("import.err.case_number", {})))
        failed.add("number")
    if note and (found := personal_data_in(note)):
        row.problems.append((parsed.headers["note"], (f"import.err.personal_note.{found}", {})))
        failed.add("note")
    data = {
        "number": number,
        "received_on": _convert(parsed, row, failed, "received_on", parse_date, "admin.err.date", None),
        "kind": _convert(parsed, row, failed, "kind", parse_case_kind, "import.err.case_kind", "new"),
        "deadline": _convert(parsed, row, failed, "deadline", parse_date, "admin.err.date", None),
        "note": note,
    }
    _validated(parsed, row, CaseIn, data, failed)
    if row.values:
        row.values["surveyor"] = row.cells.get("surveyor") or None


ROW_READERS = {"people": _person_row, "items": _item_row, "cases": _case_row}
UNIQUE_IN_FILE = {"people": ("card_uid", "name"), "items": ("tag_uid",), "cases": ("number",)}


def _duplicates(parsed: Parsed) -> None:
    """A uid twice in one file is a mistake, and so is one person or one case number listed twice."""
    for name in UNIQUE_IN_FILE[parsed.kind]:
        first: dict[str, int] = {}
        for row in parsed.rows:
            value = row.values.get(name) if row.values else _uid_or_text(row.cells.get(name, ""), name)
            if not value:
                continue
            key = normal(value) if name == "name" else value
            if key in first:
                _fail(row, parsed.headers.get(name, name), ("admin.err.dup_in_file", {"row": first[key]}))
            else:
                first[key] = row.number


def _uid_or_text(text: str, name: str) -> str:
    return text.strip().upper() if name.endswith("uid") else text.strip()


def _fail(row: Row, column: str, problem: Problem) -> None:
    row.problems.append((column, problem))
    row.values = {}


# ---------------------------------------------------------------------- against what is registered

def check_cases_against(parsed: Parsed, *, numbers: set[str], staff: Mapping[str, int]) -> None:
    """A case number already in the 受付簿 is refused; the surveyor is found by name among the active
    staff (`staff`: `normal(name)` -> person id)."""
    for row in parsed.rows:
        if not row.values:
            continue
        problems: list[tuple[str, Problem]] = []
        if row.values["number"] in numbers:
            problems.append((parsed.headers["number"], ("import.err.case_taken", {})))
        surveyor = row.values.get("surveyor")
        row.values["surveyor_id"] = staff.get(normal(surveyor)) if surveyor else None
        if surveyor and row.values["surveyor_id"] is None:
            problems.append((parsed.headers["surveyor"], ("import.err.no_surveyor", {})))
        if problems:
            row.problems.extend(problems)
            row.values = {}


def check_against(parsed: Parsed, *, registered: Mapping[str, str], cabinets: Mapping[str, str] | None = None,
                  names: set[str] | None = None, today: date | None = None) -> None:
    """Add the problems the database shows, given as plain data.

    `registered`: uid -> "card" | "badge" | "tag", for the uids already registered;
    `cabinets`: `normal(reader id or name)` -> reader id, for the cabinet readers;
    `names`: `normal(name)` of the staff already registered; `today`: a training date after it is refused.
    """
    uid_field = "card_uid" if parsed.kind == "people" else "tag_uid"
    for row in parsed.rows:
        if not row.values:
            continue
        values = dict(row.values)
        uid = values.get(uid_field)
        problems: list[tuple[str, Problem]] = []
        if uid and uid in registered:
            problems.append((parsed.headers[uid_field], (f"admin.err.uid_taken.{registered[uid]}", {})))
        if parsed.kind == "people" and names is not None and normal(values["name"]) in names:
            problems.append((parsed.headers["name"], ("admin.err.name_exists", {})))
        trained = values.get("training_on")
        if parsed.kind == "people" and today is not None and trained is not None and trained > today:
            problems.append((parsed.headers["training_on"], ("training.err.future", {})))
        if parsed.kind == "items":
            reader_id = (cabinets or {}).get(normal(values["cabinet"]))
            if reader_id is None:
                problems.append((parsed.headers["cabinet"], ("admin.err.not_cabinet", {})))
            values["cabinet"] = reader_id
        if problems:
            row.problems.extend(problems)
            row.values = {}
        else:
            row.values = values
