"""An alert's notes keep what happened, not display text; each reader reads them in their own language."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from server.alerts.notes import line, worded
from server.web.i18n import translator

TOKYO = ZoneInfo("Asia/Tokyo")
AT = datetime(2026, 11, 27, 0, 5, tzinfo=UTC)  # 09:05 in Tokyo


def read(stored: str, lang: str = "ja") -> list[str]:
    return worded(stored, translator(lang), TOKYO, lang)


def test_a_persons_note_reads_with_the_step_in_words_in_either_language():
    stored = line(AT, "佐藤", "acknowledged", "本人に電話しました")
    assert "acknowledged" not in read(stored)[0]
    assert read(stored) == ["2026/11/27 09:05 佐藤（確認）：本人に電話しました"]
    assert read(stored, "en") == ["2026/11/27 09:05 佐藤 (acknowledged): 本人に電話しました"]


def test_the_systems_reasons_are_words_from_the_catalog_not_stored_text():
    notes = "\n".join([line(AT, "mamori", "resolved", why="reconnected"),
                       line(AT, "mamori", "door_closed", why="door_closed", open_s=185),
                       line(AT, "kanri", "resolved", why="marked_lost", lost=4)])
    assert "再接続" not in notes and "扉" not in notes  # kept as codes, worded when shown
    assert read(notes) == ["2026/11/27 09:05 mamori（解決）：読取機が再接続しました",
                           "2026/11/27 09:05 mamori（扉の閉鎖）：扉が閉まりました（開いていた時間 3分05秒）",
                           "2026/11/27 09:05 kanri（解決）：紛失として登録しました（紛失記録 No.4）"]
    assert read(notes, "en")[1] == "2026/11/27 09:05 mamori (door closed): the door closed (open for 3 min 05 s)"


def test_notes_written_before_read_with_the_step_in_words():
    old = "2026-11-27 09:05 sato (acknowledged): 本人に電話\n2026-11-27 10:00 mamori (door closed): 扉が閉まりました"
    assert read(old) == ["2026/11/27 09:05 sato（確認）：本人に電話", "2026/11/27 10:00 mamori（扉の閉鎖）：扉が閉まりました"]
    assert read("a line in no known shape") == ["a line in no known shape"]
