"""Dates on paper (server/web/print_dates.py) and the office's stamp boxes (MAMORI_PRINT_STAMPS)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from server.config import Settings
from server.web.print_dates import print_date, print_time
from server.web.printout import stamp_labels

TOKYO = ZoneInfo("Asia/Tokyo")


def test_a_date_on_paper_is_wareki_in_japanese_and_western_in_english():
    assert print_date(date(2026, 11, 27), "ja") == "令和8年11月27日"
    assert print_date(date(2019, 5, 1), "ja") == "令和元年5月1日"
    assert print_date(date(2026, 11, 27), "en") == "2026/11/27"


def test_a_time_on_paper_says_only_what_its_row_does_not():
    out = datetime(2026, 11, 27, 0, 5, tzinfo=UTC)  # 09:05 in Tokyo
    assert print_time(out, TOKYO, "ja") == "令和8年11月27日 09:05"
    assert print_time(datetime(2026, 11, 27, 8, 0, tzinfo=UTC), TOKYO, "ja", day_of=out) == "17:00"
    assert print_time(datetime(2026, 11, 28, 8, 0, tzinfo=UTC), TOKYO, "ja", day_of=out) == "11月28日 17:00"
    assert print_time(datetime(2026, 11, 28, 8, 0, tzinfo=UTC), TOKYO, "en", day_of=out) == "11/28 17:00"
    assert print_time(datetime(2027, 1, 4, 0, 0, tzinfo=UTC), TOKYO, "ja", day_of=out) == "令和9年1月4日 09:00"


def test_the_stamp_boxes_default_to_four_and_take_the_offices_list():
    assert Settings().print_stamps == ("担当", "確認", "管理責任者", "監査")
    assert Settings(print_stamps="担当者、 所長").print_stamps == ("担当者", "所長")
    assert stamp_labels(("担当者", "所長", "係長"), "en") == ["Prepared", "Head of office", "係長"]
    with pytest.raises(ValidationError, match="1 to 8 stamp labels"):
        Settings(print_stamps="")
